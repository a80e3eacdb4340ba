"""``python -m benchmarks optim``: the optimizer step and the data loader (issue 20).

Writes ``benchmarks/results/optim_data.md`` and reassembles ``RESULTS.md``. It measures

- the share of a W2 training step (residual MLP 784-1024-1024-10, batch 128, float32,
  gradient by srcgrad) that the optimizer takes, idiomatic (``opt.update`` +
  ``optim.apply_updates``) against fused (``opt.step``, in place), for adam, adamw and
  sgd with momentum; the goal is that the fused path at least halves the optimizer's cost;
- the DataLoader's samples per second at batch 128 over Fashion-MNIST's training set (the
  Debian files where installed, else random images of the same shape), sequential and
  shuffled, without and with a prefetch thread.

Timings are medians of interleaved samples (each implementation in turn, every round), so
load from other processes falls on all alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

import srcgrad
from benchmarks import report
from benchmarks.train_models import WORKLOADS, init_params
from srcgrad import data, optim

__all__ = ["main"]

OUT = report.RESULTS_DIR / "optim_data.md"


def _interleaved_ms(fns: dict, rounds: int) -> dict[str, float]:
    """Median milliseconds of each callable, the callables run in turn every round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(rounds):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {k: float(np.median(v) * 1e3) for k, v in times.items()}


def _optimizers() -> dict:
    return {
        "adam": lambda: optim.adam(1e-3),
        "adamw": lambda: optim.adamw(1e-3),
        "sgd momentum": lambda: optim.sgd(0.01, momentum=0.9),
    }


def optimizer_rows(rounds: int) -> list[str]:
    """Table rows: gradient, idiomatic and fused optimizer times and the shares."""
    work = WORKLOADS["W2"]
    rng = np.random.default_rng(0)
    x, y = work.batch(rng, 128)
    grad_fn = srcgrad.grad(work.loss)
    rows = []
    for name, make in _optimizers().items():
        params = init_params(work, np.random.default_rng(1))
        grads = grad_fn(params, x, y)
        idiom, fused = make(), make()
        held = {"p": params, "s": idiom.init(params)}
        model = {k: v.copy() for k, v in params.items()}
        fused_state = {"s": fused.init(model)}

        def idiomatic() -> None:
            updates, held["s"] = idiom.update(grads, held["s"], held["p"])
            held["p"] = optim.apply_updates(held["p"], updates)

        def in_place() -> None:
            fused_state["s"] = fused.step(model, grads, fused_state["s"])

        def gradient() -> None:
            grad_fn(model, x, y)

        ms = _interleaved_ms(
            {"grad": gradient, "idiom": idiomatic, "fused": in_place}, rounds
        )
        share_i = ms["idiom"] / (ms["grad"] + ms["idiom"])
        share_f = ms["fused"] / (ms["grad"] + ms["fused"])
        rows.append(
            f"| {name} | {ms['grad']:.2f} | {ms['idiom']:.2f} ({share_i:.0%}) | "
            f"{ms['fused']:.2f} ({share_f:.0%}) | {ms['fused'] / ms['idiom']:.2f}x |"
        )
    return rows


def _train_images() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        ds = data.fashion_mnist("train")
        return ds.arrays[0], ds.arrays[1], "Fashion-MNIST training set (Debian files)"
    except Exception:  # noqa: BLE001 - the package may be absent; say what was used
        rng = np.random.default_rng(0)
        x = rng.random((60000, 1, 28, 28), dtype=np.float32)
        return x, rng.integers(0, 10, 60000), "random images of Fashion-MNIST's shape"


def loader_rows(epochs: int) -> tuple[list[str], str]:
    x, y, source = _train_images()
    rows = []
    for shuffle in (False, True):
        for prefetch in (0, 2):
            loader = data.DataLoader(
                data.ArrayDataset(x, y),
                batch_size=128,
                shuffle=shuffle,
                rng=0,
                prefetch=prefetch,
            )
            rates = []
            for _ in range(epochs):
                start = time.perf_counter()
                n = sum(len(batch[1]) for batch in loader)
                rates.append(n / (time.perf_counter() - start))
            rows.append(
                f"| {shuffle} | {prefetch} | {np.median(rates):,.0f} | "
                f"{1e6 * 128 / np.median(rates):.0f} |"
            )
    return rows, source


def _machine() -> str:
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, Python {platform.python_version()}; "
        f"1/5/15-minute load average at the start: {load}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks optim")
    parser.add_argument("--quick", action="store_true", help="few rounds (a smoke run)")
    args = parser.parse_args(argv)
    rounds, epochs = (3, 1) if args.quick else (41, 3)
    machine = _machine()
    started = time.perf_counter()
    opt_rows = optimizer_rows(rounds)
    load_rows, source = loader_rows(epochs)
    lines = [
        "## Optimizer step and data loader (issue 20)",
        "",
        "Written to `results/optim_data.md` by `python -m benchmarks optim`; do not edit "
        "by hand.",
        "",
        f"Machine: {machine}. Total run time {time.perf_counter() - started:.0f} s.",
        "",
        "### Optimizer share of a W2 training step",
        "",
        "W2 is the residual MLP 784-1024-1024-10 at batch 128, float32, its gradient "
        "generated by srcgrad. Each cell is a median over "
        f"{rounds} interleaved rounds; the share is the optimizer's part of gradient + "
        "optimizer. Goal: the fused in-place path at most 0.5x the idiomatic one.",
        "",
        "| optimizer | gradient ms | update + apply_updates ms (share) | fused "
        "`opt.step` ms (share) | fused ÷ idiomatic |",
        "| --- | --- | --- | --- | --- |",
        *opt_rows,
        "",
        "### DataLoader throughput at batch 128",
        "",
        f"Data: {source}; median of {epochs} epochs each "
        "(every batch collated to contiguous float32).",
        "",
        "| shuffle | prefetch | samples/s | µs per batch |",
        "| --- | --- | --- | --- |",
        *load_rows,
        "",
    ]
    OUT.write_text("\n".join(lines))
    report.assemble()
    print("\n".join(lines))
    return 0
