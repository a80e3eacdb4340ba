"""Check that ``srcgrad train`` on N ranks trains as one process does.

Runs ``srcgrad train MODEL`` (a constant learning rate) once in one process and once
with ``--nproc N`` (first for part of the epochs, then ``--resume`` to the end, so
resuming on N ranks is checked too), then asserts that

* each logged loss of ``metrics.csv`` (train and test, every epoch) agrees with the
  one-process run to a relative 1e-5, and the accuracies to one sample;
* the ranks ended with bit-identical parameters: the checkpoint holds each rank's digest
  of its parameters (gathered by the trainer after every epoch), they are all equal and
  equal to the digest of the parameters rank 0 wrote;
* the parameters of the two runs agree closely (relative 1e-3 in the 2-norm: they
  differ by reduction order only).

With ``--sync-bn`` both runs train with synchronised batch norms (``--model convnet``:
batch norms and no dropout, so the ranks must still train as one process does; with
``--optimizer sgd``, as Adam turns the rounding noise of the gradient of a bias that a
batch norm cancels, zero in exact arithmetic, into steps of +-lr, whose sign the
reduction order decides).

The default configuration has an uneven last batch (461 samples, batch 64: shards of 6
and 7 samples), which only a gradient weighted by shard size gets right.  Exit 0 when
everything holds, 1 otherwise.  Usage::

    python tools/check_mpi_train.py [--nproc 2] [--subset 461] [--batch-size 64]
    python tools/check_mpi_train.py --model convnet --sync-bn --optimizer sgd --subset 193
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOSS_RTOL = 1e-5
# Adam turns a gradient that is zero up to rounding into a step of +-lr, whose sign the
# reduction order decides: single entries may differ by 2 lr, the whole arrays barely
PARAMETER_RTOL = 1e-3


def train(out: Path, args: list[str], *extra: str) -> None:
    cmd = [sys.executable, "-m", "srcgrad", "train", *args, "--out", str(out), *extra]
    print("$", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
        raise SystemExit(f"failed with exit code {done.returncode}")


def metrics(out: Path) -> list[dict[str, float]]:
    with open(out / "metrics.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def compare_metrics(one: Path, many: Path, samples: int) -> list[str]:
    problems = []
    a, b = metrics(one), metrics(many)
    if len(a) != len(b):
        return [f"{len(a)} epochs logged by one process, {len(b)} by the ranks"]
    for ra, rb in zip(a, b):
        for key in ("train_loss", "test_loss"):
            rel = abs(ra[key] - rb[key]) / max(abs(ra[key]), 1e-30)
            print(
                f"epoch {int(ra['epoch'])} {key}: one process {ra[key]!r}, "
                f"ranks {rb[key]!r}, relative difference {rel:.2e}"
            )
            if rel > LOSS_RTOL:
                problems.append(f"epoch {int(ra['epoch'])} {key}: {rel:.2e} > 1e-5")
        for key in ("train_acc", "test_acc"):
            if abs(ra[key] - rb[key]) > 1.5 / samples:
                problems.append(
                    f"epoch {int(ra['epoch'])} {key}: {ra[key]} vs {rb[key]}"
                )
    return problems


def compare_parameters(one: Path, many: Path, nproc: int) -> list[str]:
    from srcgrad import distributed, serialization, tree, zoo
    from srcgrad.zoo import trainer

    config = trainer.read_config(many / trainer.CHECKPOINT)
    model = zoo.get(config.model).build(np.random.default_rng(0))
    opt = trainer.make_optimizer(
        config.optimizer, trainer.make_schedule("constant", 1, 1)
    )
    like = {
        "model": model,
        "opt_state": opt.init(model),
        "data_rng": np.random.default_rng(0),
        "meta": "",
    }
    state_a = serialization.load(one / trainer.CHECKPOINT, like)
    state_b = serialization.load(many / trainer.CHECKPOINT, like)
    model_a, model_b = state_a["model"], state_b["model"]
    meta = json.loads(state_b["meta"])
    problems = []
    digests = meta.get("replica_digests", [])
    print(f"ranks: {meta.get('world_size')}; their parameter digests: {digests}")
    if meta.get("world_size") != nproc or len(digests) != nproc:
        problems.append(f"the checkpoint is not of a {nproc}-rank run: {meta}")
    elif len(set(digests)) != 1:
        problems.append(f"the ranks' parameters differ: {digests}")
    elif digests[0] != distributed.parameters_digest(model_b):
        problems.append("rank 0 wrote other parameters than the ranks agreed on")
    worst = 0.0  # the largest |a - b| / |a| (2-norms) over the parameter arrays
    for pa, pb in zip(tree.leaves(model_a), tree.leaves(model_b)):
        if hasattr(pa, "dtype"):
            a64, b64 = pa.astype(np.float64), pb.astype(np.float64)
            rel = np.linalg.norm(a64 - b64) / max(np.linalg.norm(a64), 1e-30)
            worst = max(worst, float(rel))
    print(f"parameters, one process vs ranks: relative difference {worst:.2e} (2-norm)")
    if worst > PARAMETER_RTOL:
        problems.append(f"parameters differ by {worst:.2e} (2-norm, relative)")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="mlp")
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--subset", type=int, default=461)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--optimizer", help="default: the model's")
    p.add_argument("--keep", metavar="DIR", help="run in DIR and keep the runs")
    p.add_argument(
        "--sync-bn",
        action="store_true",
        help="train with synchronised batch norms (a model with BatchNorm and no "
        "dropout, such as convnet, then trains as one process does)",
    )
    ns = p.parse_args(argv)
    args = [ns.model, "-q", "--subset", str(ns.subset)]
    args += [
        "--batch-size",
        str(ns.batch_size),
        "--lr",
        "3e-3",
        "--schedule",
        "constant",
    ]
    args += ["--sync-bn"] * ns.sync_bn
    args += ["--optimizer", ns.optimizer] if ns.optimizer else []
    with tempfile.TemporaryDirectory(prefix="check-mpi-") as tmp:
        base = Path(ns.keep or tmp)
        os.environ.setdefault("SRCGRAD_CACHE_DIR", str(base / "cache"))
        one, many = base / "one", base / "ranks"
        train(one, args, "--epochs", str(ns.epochs))
        first = max(ns.epochs - 1, 1)
        train(many, args, "--epochs", str(first), "--nproc", str(ns.nproc))
        if first < ns.epochs:
            more = ["--epochs", str(ns.epochs), "--resume", "--nproc", str(ns.nproc)]
            train(many, [ns.model, "-q"], *more)
        problems = compare_metrics(one, many, ns.subset)
        problems += compare_parameters(one, many, ns.nproc)
    for line in problems:
        print(f"FAIL: {line}", file=sys.stderr)
    if not problems:
        print(f"ok: {ns.nproc} ranks train as one process does")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
