"""``python -m benchmarks conv``: a generated conv2d forward+backward against hand-written
numpy im2col, and (when PyTorch is installed) a LeNet training step built from
:mod:`srcgrad.nn` against PyTorch eager.

Convolution cases (float32, the small loss ``sum(conv2d(x, w, b) * r)``):

- **a**: 128x1x28x28 input, 6 filters 5x5 (gradient of the weight and bias: a first layer);
- **b**: 128x20x14x14 input, 50 filters 3x3, padding 1 (weight, bias and input).

The hand-written baseline (:func:`hand_conv_a` / :func:`hand_conv_b`) builds the column
matrix once, keeps it for the weight's gradient and adds the input's gradient back one kernel
offset at a time, which is the textbook numpy im2col.  srcgrad's side is
``srcgrad.grad`` of a function calling ``srcgrad.nn.functional.conv2d``.  Both run
interleaved; the figures are medians.  The section goes to ``results/conv.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.pinning import pin_thread_env

pin_thread_env()

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402
from benchmarks import report  # noqa: E402
from srcgrad import nn, tree  # noqa: E402
from srcgrad.nn import functional as F  # noqa: E402
from benchmarks.harness import Impl, summarize, time_interleaved  # noqa: E402

__all__ = ["main", "conv_a", "conv_b", "hand_conv_a", "hand_conv_b"]

RESULT = report.RESULTS_DIR / "conv.md"


# -- the functions srcgrad differentiates ----------------------------------------------
def conv_a(weight, bias, x, r):
    """sum(conv2d(x, weight, bias) * r), no padding."""
    return np.sum(F.conv2d(x, weight, bias) * r)


def conv_b(weight, bias, x, r):
    """sum(conv2d(x, weight, bias, padding=1) * r)."""
    return np.sum(F.conv2d(x, weight, bias, (1, 1), (1, 1)) * r)


# -- hand-written numpy im2col ---------------------------------------------------------
def _im2col(x: np.ndarray, k: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns (C*k*k, N*Ho*Wo), padded input) of a stride-1 convolution."""
    n, c, h, w = x.shape
    if pad:
        xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), x.dtype)
        xp[:, :, pad : pad + h, pad : pad + w] = x
    else:
        xp = x
    ho, wo = xp.shape[2] - k + 1, xp.shape[3] - k + 1
    cols = np.empty((c, k, k, n, ho, wo), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, i, j] = xp[:, :, i : i + ho, j : j + wo].transpose(1, 0, 2, 3)
    return cols.reshape(c * k * k, n * ho * wo), xp


def _hand_conv(weight, bias, x, r, pad, need_x):
    c_out, c_in, k, _ = weight.shape
    n = x.shape[0]
    cols, xpad = _im2col(x, k, pad)
    ho, wo = xpad.shape[2] - k + 1, xpad.shape[3] - k + 1
    w2 = weight.reshape(c_out, -1)
    out = (w2 @ cols).reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3)
    out = out + bias.reshape(c_out, 1, 1)
    loss = np.sum(out * r)
    d_out = r  # the cotangent of out
    d_bias = d_out.sum(axis=(0, 2, 3))
    d2 = d_out.transpose(1, 0, 2, 3).reshape(c_out, -1)
    d_weight = (d2 @ cols.T).reshape(weight.shape)
    if not need_x:
        return loss, (d_weight, d_bias)
    dcols = (w2.T @ d2).reshape(c_in, k, k, n, ho, wo)
    dx = np.zeros(xpad.shape, x.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i : i + ho, j : j + wo] += dcols[:, i, j].transpose(1, 0, 2, 3)
    h, w = x.shape[2], x.shape[3]
    return loss, (d_weight, d_bias, dx[:, :, pad : pad + h, pad : pad + w])


def hand_conv_a(weight, bias, x, r):
    """Loss and (d weight, d bias) of :func:`conv_a`, by hand."""
    return _hand_conv(weight, bias, x, r, 0, False)


def hand_conv_b(weight, bias, x, r):
    """Loss and (d weight, d bias, d x) of :func:`conv_b`, by hand."""
    return _hand_conv(weight, bias, x, r, 1, True)


CASES = {
    "a": ("128x1x28x28, 6 filters 5x5", (128, 1, 28, 28), (6, 1, 5, 5), 0),
    "b": (
        "128x20x14x14 -> 50 filters 3x3, padding 1",
        (128, 20, 14, 14),
        (50, 20, 3, 3),
        1,
    ),
}


def _case(key: str) -> tuple[list[Impl], str]:
    label, xs, ws, pad = CASES[key]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = (0.1 * rng.standard_normal(ws)).astype(np.float32)
    b = (0.1 * rng.standard_normal(ws[0])).astype(np.float32)
    ho = xs[2] + 2 * pad - ws[2] + 1
    r = rng.standard_normal((xs[0], ws[0], ho, ho)).astype(np.float32)
    fn, hand = (conv_a, hand_conv_a) if key == "a" else (conv_b, hand_conv_b)
    wrt = ("weight", "bias") if key == "a" else ("weight", "bias", "x")
    gen = srcgrad.value_and_grad(fn, wrt=wrt)
    ref_loss, ref_g = hand(w, b, x, r)
    loss, g = gen(w, b, x, r)
    for ours, theirs in zip(g, ref_g):
        scale = float(np.max(np.abs(theirs)))
        np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=1e-4 * scale)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-3)
    impls = [
        Impl("hand-written numpy im2col", lambda: hand(w, b, x, r), kind="reference"),
        Impl("srcgrad (nn.functional.conv2d)", lambda: gen(w, b, x, r)),
        Impl(
            "context: hand-written, seed cotangent multiplied in",
            lambda: hand(w, b, x, np.float32(1.0) * r),
            kind="context",
            note="the pass d_out * r that a generic backward makes and the "
            "hand-written one skips (its seed is 1)",
        ),
    ]
    return impls, label


# -- LeNet training step ---------------------------------------------------------------
def _lenet_step_srcgrad(
    rng: np.random.Generator, batch: int, to_device: Any = None
) -> tuple[Any, Any, Any, Any]:
    """(model, x, y, step) of a LeNet SGD step; ``to_device`` (e.g. ``cupy.asarray``)
    moves the model's arrays and the batch first."""
    model = _lenet(rng)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    if to_device is not None:
        move = lambda a: to_device(a) if isinstance(a, np.ndarray) else a  # noqa: E731
        model, x, y = tree.map(move, model), to_device(x), to_device(y)
    grad = srcgrad.value_and_grad(lenet_loss, wrt="model")

    params = [p for _, p in nn.parameters(model)]

    def step():
        loss, g = grad(model, x, y)
        for p, (_, d) in zip(params, nn.parameters(g)):
            p -= 0.01 * d
        return loss

    return model, x, y, step


def _lenet(rng: np.random.Generator):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2, rng=rng),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5, rng=rng),
        nn.Sigmoid(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120, rng=rng),
        nn.Sigmoid(),
        nn.Linear(120, 84, rng=rng),
        nn.Sigmoid(),
        nn.Linear(84, 10, rng=rng),
    )


def lenet_loss(model, x, y):
    """Cross-entropy of a LeNet-5 (sigmoid, average pooling) on a batch."""
    return nn.cross_entropy(model(x), y)


def torch_lenet(torch: Any) -> Any:
    """The PyTorch twin of :func:`_lenet` (same layers, PyTorch's own initialisation)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2),
        torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(6, 16, 5),
        torch.nn.Sigmoid(),
        torch.nn.AvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 120),
        torch.nn.Sigmoid(),
        torch.nn.Linear(120, 84),
        torch.nn.Sigmoid(),
        torch.nn.Linear(84, 10),
    )


def _lenet_torch(model, x, y):
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed"

    torch.set_num_threads(1)
    tnet = torch_lenet(torch)
    state = {k: torch.from_numpy(np.array(v)) for k, v in nn.state_dict(model).items()}
    tnet.load_state_dict(state)
    opt = torch.optim.SGD(tnet.parameters(), lr=0.01)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tnet(tx), ty)
        loss.backward()
        opt.step()
        return loss

    return step, ""


def _lenet_impls() -> list[Impl]:
    rng = np.random.default_rng(0)
    model, x, y, step = _lenet_step_srcgrad(rng, 128)
    tstep, reason = _lenet_torch(model, x, y)
    return [
        Impl("PyTorch eager", tstep, kind="reference", reason=reason),
        Impl("srcgrad (srcgrad.nn, generated backward, SGD in place)", step),
        Impl(
            "context: hand-written numpy W3",
            _hand_lenet_step(rng, 128),
            kind="context",
            note="benchmarks/train_hand.py's LeNet (NHWC, in-place sigmoids), SGD",
        ),
    ]


def _hand_lenet_step(rng: np.random.Generator, batch: int):
    """A step of the committed hand-written numpy LeNet (W3 of the training benchmark)."""
    from benchmarks import train_hand, train_models

    work = train_models.WORKLOADS["W3"]
    params = train_models.init_params(work, rng)
    x, y = work.batch(rng, batch)

    def step():
        loss, g = train_hand.lenet_value_and_grad(params, x, y)
        for k, d in g.items():
            params[k] -= 0.01 * d
        return loss

    return step


# -- report ----------------------------------------------------------------------------
def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def _rows(impls: list[Impl]) -> tuple[list[str], float | None]:
    ref = next(i for i in impls if i.kind == "reference")
    rows, ratio = [], None
    for impl in impls:
        if not impl.available:
            rows.append(f"| {impl.name} | unavailable: {impl.reason} | | | |")
            continue
        s = summarize(impl.times)
        rel = None
        if impl is not ref and ref.available:
            rel = s.median / summarize(ref.times).median
            if impl.kind == "grad":  # srcgrad's row gives the goal's figure
                ratio = rel
        shown = "1.00×" if impl is ref else (f"{rel:.2f}×" if rel else "")
        rows.append(
            f"| {impl.name} | {s.median * 1e3:.2f} | {s.q1 * 1e3:.2f}-{s.q3 * 1e3:.2f} "
            f"| {shown} | {impl.note} |"
        )
    return rows, ratio


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks conv")
    ap.add_argument("--reps", type=int, default=31, help="samples per implementation")
    ap.add_argument("--no-lenet", action="store_true", help="skip the LeNet step")
    ap.add_argument("--no-write", action="store_true", help="print, do not write")
    ns = ap.parse_args(argv)
    os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="srcgrad-conv-"))
    start, load0 = time.time(), _load()
    sections: list[tuple[str, str, float, list[Impl]]] = []
    for key in CASES:
        impls, label = _case(key)
        time_interleaved(impls, ns.reps, 3, 0.05, log=print)
        sections.append((f"conv2d {key}: {label}", "hand-written numpy", 1.1, impls))
    if not ns.no_lenet:
        impls = _lenet_impls()
        time_interleaved(impls, ns.reps, 3, 0.05, log=print)
        sections.append(
            ("LeNet-5 training step, batch 128", "PyTorch eager", 1.3, impls)
        )
    text = _render(sections, ns.reps, load0, _load(), time.time() - start)
    print(text)
    if not ns.no_write:
        RESULT.write_text(text)
        report.assemble()
    return 0


def _render(sections, reps, load0, load1, seconds) -> str:
    lines = [
        "## nn kernels: conv2d and LeNet (issue 19)",
        "",
        "Written to `results/conv.md` by `python -m benchmarks conv`; do not edit by hand.",
        "",
        f"float32, one BLAS thread, {reps} interleaved samples per implementation (each "
        "≥ 50 ms of back-to-back calls), medians in ms; total "
        f"{seconds:.0f} s. Load average (1/5/15 min) {load0} at the start and {load1} at "
        "the end, on 2 shared cores: absolute times are noisy, compare the ratios.",
        "",
        "The convolution loss is `sum(conv2d(x, w, b) * r)`; the hand-written backward "
        "starts from `r` itself, srcgrad's from the seed cotangent times `r` (the context "
        "row times that one pass alone). The LeNet step (conv5x5 1->6 padding 2, sigmoid, "
        "avgpool 2, conv5x5 6->16, sigmoid, avgpool 2, three linear layers, cross-entropy) "
        "is the same model on both sides, PyTorch's weights copied in, with a plain SGD "
        "update (srcgrad's in place over `nn.parameters`, PyTorch's `optim.SGD`); its "
        "context row is the committed hand-written numpy LeNet (W3 of `python -m "
        "benchmarks train`), for how far numpy itself is from PyTorch here.",
        "",
        "| case | goal | measured | status |",
        "| --- | --- | --- | --- |",
    ]
    details = []
    for title, ref, target, impls in sections:
        rows, ratio = _rows(impls)
        status = "n/a" if ratio is None else ("MET" if ratio <= target else "MISSED")
        shown = "n/a" if ratio is None else f"{ratio:.2f}×"
        lines.append(f"| {title} | srcgrad ÷ {ref} ≤ {target} | {shown} | {status} |")
        details += [
            f"### {title}",
            "",
            "| implementation | median ms | IQR | ratio | note |",
        ]
        details += ["| --- | --- | --- | --- | --- |", *rows, ""]
    return "\n".join(lines + [""] + details)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
