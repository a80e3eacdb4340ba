#!/usr/bin/env bash
# Run here (from the repository root) before the GPU run: fetches into .whl/ the wheels the
# GPU machine lacks (libcst, black and their dependencies through ../shared/gpu/prepare-wheels.sh,
# plus what `srcgrad train` needs: tqdm and matplotlib's pure wheels), for Python 3.12.
# Then call the device with carry [".whl"] and the command `bash tools/gpu_run.sh`.
set -eu
bash ../shared/gpu/prepare-wheels.sh
for p in tqdm matplotlib contourpy cycler fonttools kiwisolver pillow pyparsing \
         python-dateutil six; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d .whl "$p"
done
du -sh .whl
