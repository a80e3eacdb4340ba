"""The W5 training step built from srcgrad.nn layers: ``python -m benchmarks.gru_layer``.

A GRU-128 over the 28 rows of a (128, 28, 28) batch (``nn.GRU(28, 128, batch_first=True)``),
its last state through ``nn.Linear(128, 10)``, softmax cross-entropy, Adam; srcgrad
generates the backward pass (backpropagation through time) from the layers' numpy forward
code.  The reference is the hand-written numpy GRU forward and BPTT of W5
(:func:`benchmarks.train_hand.gru_value_and_grad`) with the same parameters, batch and
optimizer (:class:`benchmarks.train_impls.Adam`).  Both gradients are checked against each
other before anything is timed; the steps are timed round-robin; the machine's load average
is printed before and after.  BLAS is pinned to one thread.
"""

from __future__ import annotations

from benchmarks.pinning import pin_thread_env

pin_thread_env()

import argparse  # noqa: E402
import copy  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.harness import Impl, summarize, time_interleaved  # noqa: E402
from benchmarks.train import compare  # noqa: E402
from benchmarks.train_hand import gru_value_and_grad  # noqa: E402
from benchmarks.train_impls import Adam  # noqa: E402
from benchmarks.train_models import GRU_H, WORKLOADS, init_params  # noqa: E402
import srcgrad  # noqa: E402
from srcgrad import nn  # noqa: E402

__all__ = ["GRUClassifier", "gru_classifier_loss", "build", "main"]


class GRUClassifier(nn.Module):
    """nn.GRU over the rows, the last hidden state through nn.Linear."""

    def __init__(self, hidden: int = GRU_H) -> None:
        rng = np.random.default_rng(0)
        self.gru = nn.GRU(28, hidden, batch_first=True, rng=rng)
        self.fc = nn.Linear(hidden, 10, rng=rng)

    def __call__(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


def gru_classifier_loss(model, x, y):
    """Mean softmax cross-entropy of the classifier against one-hot ``y``."""
    logits = model(x)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(y * logp) / x.shape[0]


# PyTorch-style name in the model -> key of the hand-written parameter dict
_NAMES = {
    "gru.weight_ih_l0": "W_ih",
    "gru.weight_hh_l0": "W_hh",
    "gru.bias_ih_l0": "b_ih",
    "gru.bias_hh_l0": "b_hh",
    "fc.weight": "W",
    "fc.bias": "b",
}


def _to_model(params: dict[str, np.ndarray]) -> Any:
    model = GRUClassifier(params["W_hh"].shape[1])
    state = {k: params[v].T if v == "W" else params[v] for k, v in _NAMES.items()}
    return nn.load_state_dict(model, state)


def _to_dict(tree: Any) -> dict[str, np.ndarray]:
    sd = nn.state_dict(tree)
    return {v: sd[k].T if v == "W" else sd[k] for k, v in _NAMES.items()}


def build(params: dict[str, np.ndarray], batch: tuple) -> tuple[Impl, Impl, str]:
    """(hand-written step, srcgrad.nn step, "" or the gradient mismatch on ``batch``)."""
    own = copy.deepcopy(params)
    opt = Adam(own)

    def hand_step() -> Any:
        loss, g = gru_value_and_grad(own, *batch)
        opt.step(own, g)
        return loss

    model = _to_model(params)
    vg = srcgrad.value_and_grad(gru_classifier_loss)
    loss, g = vg(model, *batch)  # generates the gradient module outside the timing
    mismatch = compare(
        (
            float(gru_value_and_grad(params, *batch)[0]),
            gru_value_and_grad(params, *batch)[1],
        ),
        (float(loss), _to_dict(g)),
    )
    weights = nn.state_dict(model)  # the model's own arrays, updated in place
    opt_nn = Adam(weights)

    def nn_step() -> Any:
        loss, g = vg(model, *batch)
        opt_nn.step(weights, nn.state_dict(g))
        return loss

    return (
        Impl("hand-written numpy GRU + BPTT", hand_step),
        Impl("srcgrad.nn GRU + Linear", nn_step),
        mismatch,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.gru_layer")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--min-sample", type=float, default=0.2)
    ns = ap.parse_args(argv)
    work = WORKLOADS["W5"]
    params = init_params(work, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    check_batch = work.batch(rng, 8)
    _, _, mismatch = build(params, check_batch)
    if mismatch:
        print(f"gradient mismatch against the hand-written GRU: {mismatch}")
        return 1
    batch = work.batch(rng, ns.batch)
    hand, ours, _ = build(params, batch)
    load_before = os.getloadavg()
    time_interleaved([hand, ours], ns.reps, warmup=2, min_sample=ns.min_sample)
    load_after = os.getloadavg()
    h, o = summarize(hand.times), summarize(ours.times)
    print(
        f"W5 training step, batch {ns.batch}, float32, GRU-{GRU_H} over 28 steps, Adam"
    )
    for impl, s in ((hand, h), (ours, o)):
        print(
            f"  {impl.name:32s} median {s.median * 1e3:8.2f} ms "
            f"(IQR {s.q1 * 1e3:.2f}-{s.q3 * 1e3:.2f}, {s.n} samples x {impl.number})"
        )
    print(f"  ratio srcgrad.nn / hand-written: {o.median / h.median:.3f}")
    print(
        f"  load average (1, 5, 15 min) before {load_before[0]:.2f} "
        f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} "
        f"{load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
