#!/usr/bin/env bash
# The GPU run (one call of the device machine, from the repository root, .whl/ carried; see
# tools/gpu_prepare.sh): the GPU lane (`pytest -m gpu`: every rule, the corpus and every zoo
# gradient on cupy against numpy, one epoch of each zoo model with --device cuda against the
# CPU run) and the GPU benchmarks.  Everything it finds goes to $OUT; budget about 8 minutes.
set -u
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 || exit 3
export SRCGRAD_CACHE_DIR=/tmp/srcgrad-cache MPLBACKEND=Agg
{ nvidia-smi; python3 -c "import sys, numpy, cupy; print(sys.version); print('numpy', numpy.__version__, 'cupy', cupy.__version__)"; } > "$OUT/versions.txt" 2>&1
# 1. the lane: rules and corpus first (fast), then the zoo gradients and training runs
timeout 330 python3 -m pytest -p no:cacheprovider -o addopts= -m gpu -q -n 8 -rfEs \
  tests/test_device_lane.py > "$OUT/gpu-lane.log" 2>&1
echo "lane exit $?" >> "$OUT/gpu-lane.log"
tail -5 "$OUT/gpu-lane.log"
# 2. the benchmarks (their own result file, benchmarks/results/gpu.md)
timeout 180 python3 -m benchmarks gpu --reps 20 > "$OUT/bench.log" 2>&1
echo "bench exit $?" >> "$OUT/bench.log"
cp benchmarks/results/gpu.md "$OUT/" 2>/dev/null
tail -20 "$OUT/bench.log"
