"""``python -m benchmarks mpi``: data-parallel training steps on 1 and 2 ranks.

Writes ``benchmarks/results/mpi.md`` and reassembles ``RESULTS.md``.  A step is what
``srcgrad train mlp`` runs: the zoo's 784-400-100-10 MLP, its generated gradient on this
rank's shard of the global batch (:class:`srcgrad.distributed.DistributedSampler`), the
gradients averaged with :func:`srcgrad.distributed.allreduce_grads` (one Allreduce of a
flat 1.3 MB float32 buffer), and a fused Adam step; random images of Fashion-MNIST's
shape, so no data is read.  Three configurations, each started as its own processes:

- 1 process, 1 BLAS thread (plain ``python``, no MPI);
- 1 process, 2 BLAS threads (the other way to use both cores);
- ``mpirun -n 2``, 1 BLAS thread per rank.

Rank 0 times ``--steps`` steps between two barriers (step time = wall time / steps,
samples/s = global batch x steps / wall time) and the median Allreduce of a step (which
includes waiting for the slower rank).  Each configuration runs ``--rounds`` times, the
configurations in turn; the tables give the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import report
from benchmarks.pinning import THREAD_ENV

__all__ = ["main"]

OUT = report.RESULTS_DIR / "mpi.md"
ROOT = Path(__file__).resolve().parent.parent
CONFIGS = (  # (label, ranks, BLAS threads per rank)
    ("1 process, 1 thread", 1, 1),
    ("1 process, 2 threads", 1, 2),
    ("2 ranks x 1 thread", 2, 1),
)


def worker(batch: int, steps: int, warmup: int) -> None:
    """Time ``steps`` training steps on this world; rank 0 prints one JSON line."""
    import numpy as np

    from srcgrad import data, distributed, optim
    from srcgrad.zoo.mlp import MLP, mlp_loss

    w = distributed.world()
    n = batch * 8
    rng = np.random.default_rng(0)
    ds = data.ArrayDataset(
        rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)
    )
    model = MLP(rng=np.random.default_rng(1))
    opt = optim.adam(1e-3)
    state = opt.init(model)
    sampler = distributed.DistributedSampler(n, batch, rng=2)
    loader = data.DataLoader(ds, batch_sampler=sampler)

    def batches():
        while True:
            yield from loader

    source = batches()
    grad_s: list[float] = []
    reduce_s: list[float] = []
    for i in range(warmup + steps):
        if i == warmup:
            w.barrier()
            start = time.perf_counter()
            grad_s.clear()
            reduce_s.clear()
        x, y = next(source)
        t0 = time.perf_counter()
        (_, _), g = mlp_loss(model, x, y)
        t1 = time.perf_counter()
        g = distributed.allreduce_grads(g, weight=len(y))
        t2 = time.perf_counter()
        grad_s.append(t1 - t0)
        reduce_s.append(t2 - t1)
        state = opt.step(model, g, state)
    w.barrier()
    wall = time.perf_counter() - start
    alone: list[float] = []  # the Allreduce by itself: the ranks start it together
    for _ in range(steps):
        w.barrier()
        t = time.perf_counter()
        distributed.allreduce_grads(g, weight=1.0)
        alone.append(time.perf_counter() - t)
    if w.is_main:
        print(
            json.dumps(
                {
                    "step_ms": wall / steps * 1e3,
                    "samples_per_s": batch * steps / wall,
                    "gradient_ms": float(np.median(grad_s)) * 1e3,
                    "allreduce_ms": float(np.median(reduce_s)) * 1e3,
                    "allreduce_alone_ms": float(np.median(alone)) * 1e3,
                }
            ),
            flush=True,
        )


def _run(ranks: int, threads: int, batch: int, steps: int, warmup: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for var in THREAD_ENV:
        env[var] = str(threads)
    env["OMPI_ALLOW_RUN_AS_ROOT"] = env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    cmd = [sys.executable, "-m", "benchmarks.mpi_scaling", "--worker"]
    cmd += ["--batch", str(batch), "--steps", str(steps), "--warmup", str(warmup)]
    if ranks > 1:
        cmd = ["mpirun", "-n", str(ranks), "--oversubscribe", "--bind-to", "none"] + cmd
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks mpi")
    p.add_argument("--batches", default="128,512", help="global batch sizes")
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="1 round of 10 steps")
    ns = p.parse_args(argv)
    if ns.quick:
        ns.rounds, ns.steps, ns.warmup = 1, 10, 3
    if shutil.which("mpirun") is None:
        print("no mpirun: apt-get install openmpi-bin libopenmpi-dev", file=sys.stderr)
        return 2
    began, load = time.perf_counter(), os.getloadavg()
    batches = [int(b) for b in ns.batches.split(",")]
    results: dict[tuple[int, str], list[dict]] = {}
    for _ in range(ns.rounds):
        for batch in batches:
            for label, ranks, threads in CONFIGS:
                r = _run(ranks, threads, batch, ns.steps, ns.warmup)
                results.setdefault((batch, label), []).append(r)
                print(f"batch {batch}, {label}: {r}", file=sys.stderr)
    OUT.write_text(_render(ns, batches, results, load, time.perf_counter() - began))
    report.assemble()
    print(f"wrote {OUT}")
    return 0


def _render(ns, batches, results, load, seconds) -> str:
    import mpi4py
    import numpy as np

    lines = [
        "## Data-parallel training over MPI (issue 27)",
        "",
        "Written to `results/mpi.md` by `python -m benchmarks mpi`; do not edit by "
        "hand.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, numpy "
        f"{np.__version__}, mpi4py {mpi4py.__version__}, "
        f"{_mpi_version()}, Python {platform.python_version()}; 1/5/15-minute load "
        f"average at the start: {' / '.join(f'{v:.2f}' for v in load)}. "
        f"Total run time {seconds:.0f} s.",
        "",
        "A step of the zoo's `mlp` (784-400-100-10, float32, Adam): generated gradient "
        "on this rank's shard, one Allreduce of the 1.3 MB gradient, fused Adam step. "
        f"{ns.steps} timed steps after {ns.warmup} warm-up, median of {ns.rounds} "
        "runs per cell, the configurations run in turn. Speed-up: against 1 process "
        "with 1 thread at the same batch. Gradient: the generated loss and gradient "
        "on rank 0's shard. Allreduce in the step: rank 0's wait in `allreduce_grads`, "
        "which includes waiting for the slower rank; alone: the same call started "
        "together after a barrier (the communication itself).",
        "",
        "| global batch | configuration | step ms | samples/s | speed-up "
        "| gradient ms | Allreduce in the step ms | Allreduce alone ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for batch in batches:
        base = _median([r["step_ms"] for r in results[(batch, CONFIGS[0][0])]])
        for label, ranks, _ in CONFIGS:
            rs = results[(batch, label)]
            step = _median([r["step_ms"] for r in rs])
            rate = _median([r["samples_per_s"] for r in rs])
            grad = _median([r["gradient_ms"] for r in rs])
            red = _median([r["allreduce_ms"] for r in rs])
            alone = _median([r["allreduce_alone_ms"] for r in rs])
            reds = f"{red:.2f} | {alone:.2f}" if ranks > 1 else "- | -"
            lines.append(
                f"| {batch} | {label} | {step:.2f} | {rate:,.0f} | {base / step:.2f}x "
                f"| {grad:.2f} | {reds} |"
            )
    lines.append("")
    return "\n".join(lines)


def _mpi_version() -> str:
    try:
        from mpi4py import MPI

        return MPI.Get_library_version().splitlines()[0].split(",")[0].strip()
    except Exception:  # noqa: BLE001
        return "MPI unknown"


if __name__ == "__main__":
    if "--worker" in sys.argv:
        q = argparse.ArgumentParser()
        q.add_argument("--worker", action="store_true")
        q.add_argument("--batch", type=int)
        q.add_argument("--steps", type=int)
        q.add_argument("--warmup", type=int)
        a = q.parse_args()
        worker(a.batch, a.steps, a.warmup)
    else:
        sys.exit(main(sys.argv[1:]))
