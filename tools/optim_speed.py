"""Time the optimizer step and the loader (until benchmarks/ runs them).

Usage: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python tools/optim_speed.py``

Prints, for a 784-1024-1024-10 float32 MLP's parameters, the median time (40 runs, interleaved) of
``opt.update`` + ``optim.apply_updates`` against the fused ``opt.step`` for adam, adamw
and sgd with momentum, and the DataLoader's samples per second at batch 128 over a
shuffled Fashion-MNIST-sized array dataset.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from srcgrad import data, optim  # noqa: E402


def _medians_ms(fns, runs: int = 40) -> list[float]:
    """The median time of each function, the functions interleaved run by run (so
    that load from other processes falls on all of them alike)."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [float(np.median(t) * 1e3) for t in times]


def _mlp(rng: np.random.Generator) -> dict[str, np.ndarray]:
    sizes = [784, 1024, 1024, 10]
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"W{i}"] = (rng.standard_normal((a, b)) * 0.01).astype(np.float32)
        params[f"b{i}"] = np.zeros(b, np.float32)
    return params


def optimizer_costs() -> None:
    rng = np.random.default_rng(0)
    params = _mlp(rng)
    grads = {
        k: rng.standard_normal(v.shape).astype(np.float32) for k, v in params.items()
    }
    makers = {
        "adam": optim.adam,
        "adamw": optim.adamw,
        "sgd momentum": lambda: optim.sgd(0.1, momentum=0.9),
    }
    for name, make in makers.items():
        opt = make()
        held = {"p": params, "s": opt.init(params)}

        def idiomatic() -> None:
            updates, held["s"] = opt.update(grads, held["s"], held["p"])
            held["p"] = optim.apply_updates(held["p"], updates)

        fused_opt = make()
        model = {k: v.copy() for k, v in params.items()}
        fused_state = {"s": fused_opt.init(model)}

        def fused() -> None:
            fused_state["s"] = fused_opt.step(model, grads, fused_state["s"])

        a, b = _medians_ms([idiomatic, fused])
        print(
            f"{name}: update+apply_updates {a:.2f} ms, step {b:.2f} ms ({a / b:.2f}x)"
        )


def loader_throughput() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((60000, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    loader = data.DataLoader(
        data.ArrayDataset(x, y), batch_size=128, shuffle=True, rng=0
    )
    start = time.perf_counter()
    n = sum(len(batch[1]) for batch in loader)
    rate = n / (time.perf_counter() - start)
    print(f"DataLoader: {rate:,.0f} samples/s at batch 128")


if __name__ == "__main__":
    optimizer_costs()
    loader_throughput()
