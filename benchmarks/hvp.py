"""``python -m benchmarks hvp [--quick]``: a Hessian-vector product against two gradients
(issue 25).

The workload of the issue: the 1000-dimensional quadratic-plus-tanh function
``f(x) = 0.5 * x @ (A @ x) + sum(tanh(x))``, float64.  Timed, interleaved:

- **gradient**: ``srcgrad.grad(f)(x, A)``, the emitted reverse mode;
- **hvp**: ``srcgrad.hvp(f)(x, A, v)``, the emitted forward mode of the emitted gradient
  (forward over reverse; the Hessian is never built);
- **hand HVP**: ``0.5 * (A @ v + A.T @ v) - 2 * tanh(x) * (1 - tanh(x)**2) * v``, for
  context.

The HVP is checked against central differences of the gradient first.  Goal: the HVP at
most 1.5x the time of two gradients.  Writes ``benchmarks/results/hvp.md`` and reassembles
``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import srcgrad
from benchmarks import report
from benchmarks.harness import Impl, summarize, time_interleaved

__all__ = ["main", "quad_tanh"]

OUT = report.RESULTS_DIR / "hvp.md"
N = 1000


def quad_tanh(x, A):
    return 0.5 * x @ (A @ x) + np.sum(np.tanh(x))


def hand_hvp(x, A, v):
    t = np.tanh(x)
    return 0.5 * (A @ v + A.T @ v) - 2.0 * t * (1.0 - t * t) * v


def _check(df, hvp, x, A, v) -> float:
    eps = 1e-6
    fd = (df(x + eps * v, A) - df(x - eps * v, A)) / (2 * eps)
    got = hvp(x, A, v)
    err = float(np.max(np.abs(got - fd)) / np.max(np.abs(fd)))
    if err > 1e-6:
        raise AssertionError(
            f"hvp disagrees with differences of the gradient: {err:.2e}"
        )
    if not np.allclose(got, hand_hvp(x, A, v), rtol=1e-10, atol=1e-10):
        raise AssertionError("hvp disagrees with the hand-written HVP")
    return err


def run(reps: int) -> tuple[list[str], float, float]:
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(N), rng.standard_normal(N)
    A = rng.standard_normal((N, N)) / np.sqrt(N)
    df = srcgrad.grad(quad_tanh)
    hvp = srcgrad.hvp(quad_tanh)
    err = _check(df, hvp, x, A, v)
    impls = [
        Impl("gradient", lambda: df(x, A), kind="reference"),
        Impl("hvp (forward over reverse)", lambda: hvp(x, A, v)),
        Impl("hand HVP", lambda: hand_hvp(x, A, v)),
    ]
    time_interleaved(impls, reps=reps, warmup=3, min_sample=0.05)
    grad_ms = summarize(impls[0].times).median * 1e3
    rows = []
    for impl in impls:
        s = summarize(impl.times)
        ms = s.median * 1e3
        rows.append(
            f"| {impl.name} | {ms:.3f} | {(s.q3 - s.q1) * 1e3:.3f} | "
            f"{ms / (2 * grad_ms):.2f}x |"
        )
    ratio = summarize(impls[1].times).median * 1e3 / (2 * grad_ms)
    return rows, ratio, err


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks hvp")
    parser.add_argument("--quick", action="store_true", help="few rounds (a smoke run)")
    args = parser.parse_args(argv)
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()
    rows, ratio, err = run(3 if args.quick else 31)
    verdict = "meets" if ratio <= 1.5 else "misses"
    lines = [
        "## Hessian-vector product (issue 25)",
        "",
        "Written to `results/hvp.md` by `python -m benchmarks hvp`; do not edit by hand.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, numpy "
        f"{np.__version__}; 1/5/15-minute load average at the start: {load}. Total "
        f"run time {time.perf_counter() - started:.0f} s.",
        "",
        f"`f(x) = 0.5 * x @ (A @ x) + sum(tanh(x))`, x of {N} float64, A {N}x{N}. "
        "`srcgrad.hvp` is the emitted forward mode of the emitted gradient (forward over "
        "reverse); it never builds the Hessian. Its result agrees with central "
        f"differences of the gradient (relative error {err:.1e}) and with the "
        "hand-written HVP. Medians of interleaved samples; the last column divides by "
        f"the time of two gradients. Goal: at most 1.5x. The HVP takes {ratio:.2f}x "
        f"two gradients: it {verdict} the goal.",
        "",
        "| implementation | median ms | IQR ms | ÷ 2 gradients |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
    ]
    OUT.write_text("\n".join(lines))
    report.assemble()
    print("\n".join(lines))
    return 0
