"""``python -m benchmarks gpu``: generated gradients on cupy against PyTorch CUDA eager and
JAX on the GPU.  Needs cupy and a GPU; without them it says so and writes nothing.

Workloads (float32 unless said):

- **MLP** gradient of a softmax cross-entropy, sizes of the GPU issue: batch 128 with
  784-400-100-10, batch 4096 with 784-1024-1024-10, batch 16384 with 784-4096-4096-10
  (ReLU hidden layers).
- **RNN**: 200-step tanh RNN (input 4, hidden 16, batch 1, float64, loss sum(h_T^2)).
- **LeNet** step (``benchmarks.conv``'s LeNet-5, batch 128): gradient and SGD update.

Every implementation is timed with a device synchronisation after each call (the time a
training loop sees), interleaved round-robin, medians reported.  srcgrad's side is
``srcgrad.value_and_grad`` of plain numpy code called with cupy arrays (the same emitted
module that runs on numpy); PyTorch's is eager autograd; JAX's is ``jax.jit(value_and_grad)``.
The section goes to ``results/gpu.md`` (its own file, so CPU runs keep it).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import srcgrad
from benchmarks import report

RESULT = report.RESULTS_DIR / "gpu.md"

MLP_SIZES = [
    (128, (784, 400, 100, 10)),
    (4096, (784, 1024, 1024, 10)),
    (16384, (784, 4096, 4096, 10)),
]


def mlp_loss(params, x, labels):
    """Mean softmax cross-entropy of a ReLU MLP; ``params`` is a list of (W, b)."""
    h = x
    for W, b in params[:-1]:
        h = np.maximum(h @ W + b, 0.0)
    W, b = params[-1]
    logits = h @ W + b
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.take_along_axis(logp, labels[:, None], axis=1))


def rnn_loss(Wx, Wh, b, xs):
    """sum(h_T^2) of a tanh RNN over ``xs`` (T, n, d)."""
    h = np.zeros((xs.shape[1], Wh.shape[0]), dtype=xs.dtype)
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h * h)


def _timed(fn: Callable[[], Any], sync: Callable[[], None], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - t0)
    return out


def _interleaved(
    impls: dict[str, tuple[Callable[[], Any], Callable[[], None]]], reps: int
):
    for fn, sync in impls.values():  # warm up: compile, cache, allocate
        for _ in range(3):
            fn()
        sync()
    times: dict[str, list[float]] = {k: [] for k in impls}
    for _ in range(reps):
        for k, (fn, sync) in impls.items():
            times[k] += _timed(fn, sync, 1)
    return {k: statistics.median(v) for k, v in times.items()}


def _mlp_impls(cp: Any, batch: int, sizes: tuple[int, ...]) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    params = [
        (
            (rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32),
            np.zeros(o, np.float32),
        )
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    d_params = [(cp.asarray(W), cp.asarray(b)) for W, b in params]
    dx, dy = cp.asarray(x), cp.asarray(y)
    df = srcgrad.value_and_grad(mlp_loss, wrt="params")
    impls = {
        "srcgrad (cupy)": (lambda: df(d_params, dx, dy), cp.cuda.Device().synchronize)
    }
    impls.update(_torch_mlp(params, x, y))
    impls.update(_jax_mlp(params, x, y))
    return impls


def _torch_mlp(params, x, y) -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {}
    if not torch.cuda.is_available():
        return {}
    dev = torch.device("cuda")
    tp = [
        (
            torch.tensor(W, device=dev, requires_grad=True),
            torch.tensor(b, device=dev, requires_grad=True),
        )
        for W, b in params
    ]
    tx = torch.tensor(x, device=dev)
    ty = torch.tensor(y, device=dev)
    flat = [t for pair in tp for t in pair]

    def step():
        h = tx
        for W, b in tp[:-1]:
            h = torch.relu(h @ W + b)
        W, b = tp[-1]
        loss = torch.nn.functional.cross_entropy(h @ W + b, ty)
        return loss, torch.autograd.grad(loss, flat)

    return {"PyTorch CUDA eager": (step, torch.cuda.synchronize)}


def _jax_mlp(params, x, y) -> dict[str, Any]:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    if not any(d.platform == "gpu" for d in jax.devices()):
        return {}

    def loss(ps, x, y):
        h = x
        for W, b in ps[:-1]:
            h = jnp.maximum(h @ W + b, 0.0)
        W, b = ps[-1]
        logp = jax.nn.log_softmax(h @ W + b, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    f = jax.jit(jax.value_and_grad(loss))
    jp = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    box: list[Any] = []

    def step():
        box[:] = [f(jp, jx, jy)]

    def sync():
        jax.block_until_ready(box[0]) if box else None

    return {"JAX GPU (jit)": (step, sync)}


def _rnn_impls(cp: Any) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    Wx, Wh = rng.normal(size=(4, 16)) * 0.3, rng.normal(size=(16, 16)) * 0.3
    b, xs = np.zeros(16), rng.normal(size=(200, 1, 4))
    df = srcgrad.value_and_grad(rnn_loss, wrt=(0, 1, 2))
    dev = [cp.asarray(a) for a in (Wx, Wh, b, xs)]
    impls = {
        "srcgrad (cupy)": (lambda: df(*dev), cp.cuda.Device().synchronize),
        "srcgrad (numpy, CPU)": (lambda: df(Wx, Wh, b, xs), lambda: None),
    }
    try:
        import torch

        if torch.cuda.is_available():
            t = [
                torch.tensor(a, device="cuda", requires_grad=i < 3)
                for i, a in enumerate((Wx, Wh, b, xs))
            ]

            def step():
                h = torch.zeros((1, 16), dtype=torch.float64, device="cuda")
                for k in range(200):
                    h = torch.tanh(t[3][k] @ t[0] + h @ t[1] + t[2])
                loss = (h * h).sum()
                return torch.autograd.grad(loss, t[:3])

            impls["PyTorch CUDA eager"] = (step, torch.cuda.synchronize)
    except ImportError:
        pass
    return impls


def _lenet_impls(cp: Any) -> dict[str, Any]:
    from benchmarks.conv import _lenet_step_srcgrad, torch_lenet

    _, x, y, step = _lenet_step_srcgrad(np.random.default_rng(2), 128, cp.asarray)
    impls = {"srcgrad (cupy)": (step, cp.cuda.Device().synchronize)}
    try:
        import torch

        if torch.cuda.is_available():
            tnet = torch_lenet(torch).cuda()
            opt = torch.optim.SGD(tnet.parameters(), lr=0.01)
            tx = torch.as_tensor(cp.asnumpy(x), device="cuda")
            ty = torch.as_tensor(cp.asnumpy(y), device="cuda")

            def tstep():
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(tnet(tx), ty)
                loss.backward()
                opt.step()
                return loss

            impls["PyTorch CUDA eager"] = (tstep, torch.cuda.synchronize)
    except ImportError:
        pass
    return impls


def _rows(name: str, medians: dict[str, float]) -> list[str]:
    base = medians.get("PyTorch CUDA eager")
    out = []
    for k, v in medians.items():
        ratio = f"{v / base:.2f}x" if base else "-"
        out.append(f"| {name} | {k} | {v * 1e3:.3f} | {ratio} |")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks gpu")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="the smallest MLP and the RNN")
    ns = ap.parse_args(argv)
    try:
        import cupy as cp

        cp.zeros(1).sum().get()
    except Exception as err:  # noqa: BLE001  (no cupy, no driver, no device)
        print(
            f"benchmarks gpu: no GPU here ({type(err).__name__}: {err})",
            file=sys.stderr,
        )
        return 0
    rows = []
    sizes = MLP_SIZES[:1] if ns.quick else MLP_SIZES
    for batch, dims in sizes:
        name = f"MLP {'-'.join(map(str, dims))}, batch {batch}"
        rows += _rows(name, _interleaved(_mlp_impls(cp, batch, dims), ns.reps))
        print(rows[-1], flush=True)
    rows += _rows(
        "RNN 200 steps, hidden 16 (float64)", _interleaved(_rnn_impls(cp), ns.reps)
    )
    if not ns.quick:
        rows += _rows(
            "LeNet-5 step, batch 128", _interleaved(_lenet_impls(cp), ns.reps)
        )
    props = cp.cuda.runtime.getDeviceProperties(0)
    gpu = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    text = "\n".join(
        [
            "## GPU: generated gradients on cupy against PyTorch CUDA eager and JAX",
            "",
            f"{gpu}, cupy {cp.__version__}, Python {platform.python_version()}; "
            f"medians of {ns.reps} interleaved calls, each followed by a device "
            "synchronisation; `python -m benchmarks gpu`.",
            "",
            "| workload | implementation | ms | / PyTorch |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )
    RESULT.write_text(text)
    print(text)
    return 0
