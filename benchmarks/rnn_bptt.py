"""``python -m benchmarks rnn``: backpropagation through time of a 200-step tanh RNN
(issue 21).

The workload of the issue: input 4, hidden 16, batch 1, float64, 200 steps, loss
``sum(h_T ** 2)``, value and gradient w.r.t. ``Wx``, ``Wh`` and ``b``.  Implementations:

- **srcgrad**: the generated gradient of the plain forward loop (:func:`rnn_loss`), with
  the backward loop's weight sums hoisted by the generator;
- **hand, plain**: a hand-written numpy BPTT with per-step products (no hoisting);
- **hand, hoisted**: a hand-written numpy BPTT with the input projection computed once
  before the loop and the weight gradients as one product after it;
- **PyTorch eager** and **JAX** (``jax.jit`` of ``value_and_grad`` over a ``lax.scan``)
  where installed.

Every implementation's loss and gradient are checked against the plain hand-written
one first.  Timings are medians of interleaved samples; writes
``benchmarks/results/rnn_bptt.md`` and reassembles ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any

import numpy as np

import srcgrad
from benchmarks import report
from benchmarks.harness import Impl, check_against, summarize, time_interleaved

__all__ = ["main", "rnn_loss"]

OUT = report.RESULTS_DIR / "rnn_bptt.md"
STEPS, INPUT, HIDDEN = 200, 4, 16


def rnn_loss(params, xs):
    """``sum(h_T ** 2)`` of a tanh RNN over ``xs`` (steps, batch, input)."""
    h = np.zeros((xs.shape[1], params["Wh"].shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"])
    return np.sum(h * h)


def hand_plain(params, xs):
    wx, wh, b = params["Wx"], params["Wh"], params["b"]
    hs = [np.zeros((xs.shape[1], wh.shape[0]))]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(xs[t] @ wx + hs[-1] @ wh + b))
    h = hs[-1]
    gx, gh, gb = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    dh = 2.0 * h
    for t in range(xs.shape[0] - 1, -1, -1):
        da = dh * (1.0 - hs[t + 1] * hs[t + 1])
        gx += xs[t].T @ da
        gh += hs[t].T @ da
        gb += da.sum(axis=0)
        dh = da @ wh.T
    return float(np.sum(h * h)), {"Wx": gx, "Wh": gh, "b": gb}


def hand_hoisted(params, xs):
    wx, wh, b = params["Wx"], params["Wh"], params["b"]
    steps, n = xs.shape[0], xs.shape[1]
    pre = xs @ wx + b  # every step's input projection at once
    hs = np.zeros((steps + 1, n, wh.shape[0]))
    for t in range(steps):
        hs[t + 1] = np.tanh(pre[t] + hs[t] @ wh)
    h = hs[-1]
    das = np.empty_like(hs[1:])
    dh = 2.0 * h
    for t in range(steps - 1, -1, -1):
        da = dh * (1.0 - hs[t + 1] * hs[t + 1])
        das[t] = da
        dh = da @ wh.T
    flat_da = das.reshape(-1, das.shape[-1])
    grads = {
        "Wx": xs.reshape(-1, xs.shape[-1]).T @ flat_da,
        "Wh": hs[:-1].reshape(-1, hs.shape[-1]).T @ flat_da,
        "b": flat_da.sum(axis=0),
    }
    return float(np.sum(h * h)), grads


def _torch_impl(params, xs) -> Impl:
    try:
        import torch
    except ImportError:
        return Impl("PyTorch eager", None, reason="torch is not installed")
    torch.set_num_threads(1)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    txs = torch.tensor(xs)

    def call():
        for v in tp.values():
            v.grad = None
        h = torch.zeros((txs.shape[1], HIDDEN), dtype=torch.float64)
        for t in range(txs.shape[0]):
            h = torch.tanh(txs[t] @ tp["Wx"] + h @ tp["Wh"] + tp["b"])
        loss = (h * h).sum()
        loss.backward()
        return loss, {k: v.grad for k, v in tp.items()}

    def to_numpy(r):
        return float(r[0]), {k: v.numpy() for k, v in r[1].items()}

    return Impl("PyTorch eager", call, to_numpy)


def _jax_impl(params, xs) -> Impl:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return Impl("JAX (jit, lax.scan)", None, reason="jax is not installed")
    jax.config.update("jax_enable_x64", True)

    def loss(p, xs):
        def step(h, x):
            return jnp.tanh(x @ p["Wx"] + h @ p["Wh"] + p["b"]), None

        h, _ = jax.lax.scan(step, jnp.zeros((xs.shape[1], HIDDEN)), xs)
        return jnp.sum(h * h)

    fn = jax.jit(jax.value_and_grad(loss))
    jp, jxs = {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(xs)

    def call():
        v, g = fn(jp, jxs)
        return jax.block_until_ready((v, g))

    def to_numpy(r):
        return float(r[0]), {k: np.asarray(v) for k, v in r[1].items()}

    return Impl("JAX (jit, lax.scan)", call, to_numpy)


def _problem() -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    params = {
        "Wx": rng.normal(size=(INPUT, HIDDEN)) / np.sqrt(INPUT),
        "Wh": rng.normal(size=(HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
        "b": np.zeros(HIDDEN),
    }
    return params, rng.normal(size=(STEPS, 1, INPUT))


def implementations(params, xs) -> list[Impl]:
    df = srcgrad.value_and_grad(rnn_loss)
    return [
        Impl("hand, plain", lambda: hand_plain(params, xs), kind="reference"),
        Impl("srcgrad", lambda: df(params, xs), lambda r: (float(r[0]), r[1])),
        Impl("hand, hoisted", lambda: hand_hoisted(params, xs)),
        _torch_impl(params, xs),
        _jax_impl(params, xs),
    ]


def run(reps: int) -> list[str]:
    params, xs = _problem()
    impls = implementations(params, xs)
    ref = impls[0]
    ref_out = ref.to_numpy(ref.call())
    for impl in impls[1:]:
        if impl.available:
            problem = check_against(ref_out, impl.to_numpy(impl.call()), strict=False)
            if problem:
                impl.reason = f"disagrees with the reference: {problem}"
    time_interleaved(impls, reps=reps, warmup=3, min_sample=0.03)
    base = summarize(ref.times).median
    rows = []
    for impl in impls:
        if not impl.available:
            rows.append(f"| {impl.name} | — | — | — | not run: {impl.reason} |")
            continue
        s = summarize(impl.times)
        rows.append(
            f"| {impl.name} | {s.median * 1e3:.3f} | {(s.q3 - s.q1) * 1e3:.3f} | "
            f"{s.median / base:.2f}x | |"
        )
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks rnn")
    parser.add_argument("--quick", action="store_true", help="few rounds (a smoke run)")
    args = parser.parse_args(argv)
    load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    started = time.perf_counter()
    rows = run(3 if args.quick else 21)
    lines = [
        "## Backpropagation through time (issue 21)",
        "",
        "Written to `results/rnn_bptt.md` by `python -m benchmarks rnn`; do not edit by "
        "hand.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, numpy "
        f"{np.__version__}; 1/5/15-minute load average at the start: {load}. Total "
        f"run time {time.perf_counter() - started:.0f} s.",
        "",
        f"A tanh RNN, input {INPUT}, hidden {HIDDEN}, batch 1, float64, {STEPS} steps, "
        "loss `sum(h_T ** 2)`: value and gradient. Goal (issue 21): srcgrad at most "
        "0.8x the plain hand-written BPTT. Medians of interleaved samples; every "
        "implementation's loss and gradient agree with the plain one first.",
        "",
        "| implementation | median ms | IQR ms | ÷ hand, plain | |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    OUT.write_text("\n".join(lines))
    report.assemble()
    print("\n".join(lines))
    return 0
