"""The implementations of a training step, one builder each (issue 18).

A builder takes a workload, its float32 parameter dict and a batch, and returns a
:class:`Step`: ``step()`` runs one complete training step (forward, backward, optimizer
update) on its own copy of the parameters, and ``grads()`` returns ``(loss, gradient dict)``
with numpy leaves keyed like the workload's parameters, for the check before timing.

- *srcgrad* and *hand-written numpy* and *HIPS autograd* update the parameters with the same
  small numpy optimizer (:class:`Adam`, :class:`SGD`).
- *PyTorch eager* runs an idiomatic transliteration (``F.conv2d``, ``nn.GRU``,
  ``nn.TransformerEncoderLayer``, ``F.cross_entropy``) and ``torch.optim.Adam``/``SGD``.
- *JAX* differentiates the workload's own source with ``np`` swapped for ``jax.numpy`` and
  updates with the same Adam written in ``jax.numpy``; *JAX jit* compiles the whole step.

Every builder raises :class:`Unavailable` (with the reason) when its framework is missing.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import train_hand
from benchmarks.train_models import HEADS, Workload

__all__ = ["BUILDERS", "SGD", "Adam", "Step", "Unavailable", "hand_grad"]

LR_ADAM, LR_SGD, BETA1, BETA2, EPS = 1e-3, 0.05, 0.9, 0.999, 1e-8

HAND = {
    "W1": train_hand.mlp_value_and_grad,
    "W2": train_hand.resmlp_value_and_grad,
    "W3": train_hand.lenet_value_and_grad,
    "W4": train_hand.convnet_value_and_grad,
    "W5": train_hand.gru_value_and_grad,
    "W6": train_hand.transformer_value_and_grad,
    "W7": train_hand.rnn_value_and_grad,
}


class Unavailable(Exception):
    """The implementation cannot run here (framework missing, or it refused the workload)."""


@dataclass
class Step:
    """One implementation's training step on one workload."""

    step: Callable[[], Any]
    grads: Callable[[], tuple[float, dict[str, np.ndarray]]]
    note: str = ""
    numpy_memory: bool = True  # its arrays are numpy's, so tracemalloc sees them


def hand_grad(work: Workload) -> Callable[..., Any]:
    """The hand-written ``value_and_grad`` of a workload."""
    return HAND[work.key]


# --------------------------------------------------------------------------------------------
# The shared numpy optimizer
# --------------------------------------------------------------------------------------------


class Adam:
    """Adam (PyTorch's form: ``p -= lr * m_hat / (sqrt(v_hat) + eps)``), in place."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = LR_ADAM) -> None:
        self.lr, self.t = lr, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        c1 = 1.0 - BETA1**self.t
        c2 = (1.0 - BETA2**self.t) ** 0.5
        for k, p in params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            m *= BETA1
            m += (1.0 - BETA1) * g
            v *= BETA2
            v += (1.0 - BETA2) * (g * g)
            denom = np.sqrt(v)
            denom /= c2
            denom += EPS
            p -= (self.lr / c1) * m / denom


class SGD:
    """Plain gradient descent, in place."""

    def __init__(self, params: dict[str, np.ndarray], lr: float = LR_SGD) -> None:
        self.lr = lr

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for k, p in params.items():
            p -= self.lr * grads[k]


class _NoUpdate:
    def __init__(self, params: dict[str, np.ndarray]) -> None:
        pass

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        pass


OPTIMIZERS = {"adam": Adam, "sgd": SGD, "": _NoUpdate}


def _numpy_step(work: Workload, vg: Callable[..., Any], params, batch, note="") -> Step:
    """A step of a numpy ``value_and_grad``, updated by the shared optimizer."""
    own = copy.deepcopy(params)
    opt = OPTIMIZERS[work.optimizer](own)

    def step() -> Any:
        loss, g = vg(own, *batch)
        opt.step(own, g)
        return loss

    def grads() -> tuple[float, dict[str, np.ndarray]]:
        loss, g = vg(params, *batch)
        return float(loss), {k: np.asarray(v) for k, v in g.items()}

    return Step(step, grads, note)


def build_hand(work: Workload, params, batch) -> Step:
    return _numpy_step(work, HAND[work.key], params, batch)


def build_srcgrad(work: Workload, params, batch) -> Step:
    try:
        import srcgrad
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"import srcgrad failed: {exc}") from exc
    vg = srcgrad.value_and_grad(work.loss)
    vg(params, *batch)  # generates the gradient module now, not in the timed region
    return _numpy_step(work, vg, params, batch)


# --------------------------------------------------------------------------------------------
# HIPS autograd and JAX: the workload's own source with ``np`` swapped
# --------------------------------------------------------------------------------------------


def _sliding_windows(module: Any) -> Callable[..., Any]:
    """``sliding_window_view(x, (kh, kw), axis=(1, 2))`` from slices and stacks."""

    def sliding_window_view(x, window_shape, axis):
        (kh, kw), (a, b) = window_shape, axis
        assert (a, b) == (1, 2), "only the NHWC image axes"
        h, w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
        rows = [
            module.stack([x[:, i : i + h, j : j + w] for j in range(kw)], axis=-1)
            for i in range(kh)
        ]
        return module.stack(rows, axis=-2)

    return sliding_window_view


def with_numpy(
    f: Callable[..., Any], module: Any, **overrides: Any
) -> Callable[..., Any]:
    """``f`` with its ``np`` global replaced by ``module`` (plus a sliding-window shim)."""
    shim = types.SimpleNamespace(**{k: getattr(module, k) for k in dir(module)})
    for name, value in overrides.items():
        setattr(shim, name, value)
    shim.lib = types.SimpleNamespace(
        stride_tricks=types.SimpleNamespace(
            sliding_window_view=_sliding_windows(module)
        )
    )
    glb = {**f.__globals__, "np": shim}
    return types.FunctionType(f.__code__, glb, f.__name__, f.__defaults__)


def build_autograd(work: Workload, params, batch) -> Step:
    try:
        import autograd
        import autograd.numpy as anp
    except Exception as exc:  # noqa: BLE001
        raise Unavailable("not installed") from exc
    # autograd's pad rule needs the mode spelled out.
    pad = lambda a, width: anp.pad(a, width, "constant")  # noqa: E731
    vg = autograd.value_and_grad(with_numpy(work.loss, anp, pad=pad))
    note = "sliding windows from slices" if work.key in ("W3", "W4") else ""
    return _numpy_step(work, vg, params, batch, note)


def _setup_jax() -> Any:
    try:
        import jax
    except Exception as exc:  # noqa: BLE001
        raise Unavailable("not installed") from exc
    jax.config.update("jax_platforms", "cpu")
    return jax


def _jax_step(work: Workload, params, batch, jit: bool) -> Step:
    jax = _setup_jax()
    jnp = jax.numpy
    vg = jax.value_and_grad(with_numpy(work.loss, jnp))

    def update(p, m, v, t, g):
        if work.optimizer == "sgd":
            return {k: p[k] - LR_SGD * g[k] for k in p}, m, v
        if not work.optimizer:
            return p, m, v
        m = {k: BETA1 * m[k] + (1 - BETA1) * g[k] for k in p}
        v = {k: BETA2 * v[k] + (1 - BETA2) * g[k] * g[k] for k in p}
        c1, c2 = 1 - BETA1**t, jnp.sqrt(1 - BETA2**t)
        p = {k: p[k] - LR_ADAM / c1 * m[k] / (jnp.sqrt(v[k]) / c2 + EPS) for k in p}
        return p, m, v

    def train_step(p, m, v, t, b):
        loss, g = vg(p, *b)
        p, m, v = update(p, m, v, t, g)
        return loss, p, m, v

    fn = jax.jit(train_step) if jit else train_step
    jb = jax.device_put(batch)
    state = {
        "p": jax.device_put(params),
        "m": {k: jnp.zeros_like(x) for k, x in params.items()},
        "v": {k: jnp.zeros_like(x) for k, x in params.items()},
        "t": 0,
    }

    def step() -> Any:
        state["t"] += 1
        t = jnp.float32(state["t"])
        loss, state["p"], state["m"], state["v"] = fn(
            state["p"], state["m"], state["v"], t, jb
        )
        return jax.block_until_ready(loss)

    gfn = jax.jit(vg) if jit else vg
    jparams = jax.device_put(params)

    def grads() -> tuple[float, dict[str, np.ndarray]]:
        loss, g = gfn(jparams, *jb)
        return float(loss), {k: np.asarray(x) for k, x in g.items()}

    return Step(step, grads, f"jax {jax.__version__}", numpy_memory=False)


def build_jax(work: Workload, params, batch) -> Step:
    return _jax_step(work, params, batch, jit=False)


def build_jax_jit(work: Workload, params, batch) -> Step:
    """Compiles at its first step: the harness's warm-up steps, never timed."""
    return _jax_step(work, params, batch, jit=True)


# --------------------------------------------------------------------------------------------
# PyTorch eager
# --------------------------------------------------------------------------------------------


def setup_torch() -> Any:
    """torch pinned to one thread, or :class:`Unavailable`."""
    try:
        import torch
    except Exception as exc:  # noqa: BLE001
        raise Unavailable("not installed") from exc
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    return torch


def _conv_to_torch(k: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(k.transpose(3, 0, 1, 2))  # (C, k, k, O) -> (O, C, k, k)


def _torch_model(work: Workload, params, torch) -> tuple[Callable, dict, Callable]:
    """(forward(batch) -> loss, leaves by name, leaf grads -> numpy dict) for a workload."""
    from torch.nn import functional as F

    t = {k: torch.from_numpy(np.array(v)) for k, v in params.items()}
    for k in ("K1", "K2"):
        if k in t:
            t[k] = torch.from_numpy(_conv_to_torch(params[k]))
    for v in t.values():
        v.requires_grad_()
    key = work.key

    def ce(logits, labels):
        return F.cross_entropy(logits, labels)

    if key in ("W1", "W2"):

        def fwd(x, labels):
            h1 = torch.relu(x @ t["W1"] + t["b1"])
            h2 = torch.relu(h1 @ t["W2"] + t["b2"])
            return ce((h1 + h2 if key == "W2" else h2) @ t["W3"] + t["b3"], labels)

    elif key in ("W3", "W4"):
        act, pool = (
            (torch.sigmoid, F.avg_pool2d) if key == "W3" else (torch.relu, F.max_pool2d)
        )
        pad = 2 if key == "W3" else 1

        def fwd(x, labels):
            h = pool(act(F.conv2d(x, t["K1"], t["c1"], padding=pad)), 2)
            h = pool(
                act(F.conv2d(h, t["K2"], t["c2"], padding=pad - 2 * (key == "W3"))), 2
            )
            h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
            h = act(h @ t["W1"] + t["b1"])
            if key == "W3":
                h = act(h @ t["W2"] + t["b2"])
                return ce(h @ t["W3"] + t["b3"], labels)
            return ce(h @ t["W2"] + t["b2"], labels)

    elif key == "W5":
        return _torch_gru(t, params, torch, ce)
    elif key == "W6":
        return _torch_transformer(t, params, torch, ce)
    else:

        def fwd(xs):
            h = torch.zeros((1, t["Wh"].shape[0]))
            for i in range(xs.shape[0]):
                h = torch.tanh(xs[i] @ t["Wx"] + h @ t["Wh"] + t["b"])
            return torch.sum(h * h)

    def to_numpy(ts: dict) -> dict[str, np.ndarray]:
        out = {k: v.grad.numpy().copy() for k, v in ts.items()}
        for k in ("K1", "K2"):
            if k in out:
                out[k] = out[k].transpose(1, 2, 3, 0)
        return out

    return fwd, t, to_numpy


def _torch_gru(t, params, torch, ce):
    gru = torch.nn.GRU(28, params["W_hh"].shape[1], batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(t["W_ih"])
        gru.weight_hh_l0.copy_(t["W_hh"])
        gru.bias_ih_l0.copy_(t["b_ih"])
        gru.bias_hh_l0.copy_(t["b_hh"])
    leaves = {
        "W_ih": gru.weight_ih_l0,
        "W_hh": gru.weight_hh_l0,
        "b_ih": gru.bias_ih_l0,
        "b_hh": gru.bias_hh_l0,
        "W": t["W"],
        "b": t["b"],
    }

    def fwd(x, labels):
        _, h = gru(x)
        return ce(h[0] @ t["W"] + t["b"], labels)

    def to_numpy(ts):
        return {k: v.grad.numpy().copy() for k, v in ts.items()}

    return fwd, leaves, to_numpy


def _torch_transformer(t, params, torch, ce):
    d = params["Wq"].shape[0]
    layer = torch.nn.TransformerEncoderLayer(
        d, HEADS, params["F1"].shape[1], dropout=0.0, batch_first=True
    )
    att = layer.self_attn
    with torch.no_grad():
        att.in_proj_weight.copy_(torch.cat([t["Wq"].T, t["Wk"].T, t["Wv"].T]))
        att.in_proj_bias.copy_(torch.cat([t["bq"], t["bk"], t["bv"]]))
        att.out_proj.weight.copy_(t["Wo"].T)
        att.out_proj.bias.copy_(t["bo"])
        layer.linear1.weight.copy_(t["F1"].T)
        layer.linear1.bias.copy_(t["f1"])
        layer.linear2.weight.copy_(t["F2"].T)
        layer.linear2.bias.copy_(t["f2"])
        for i in ("1", "2"):
            getattr(layer, "norm" + i).weight.copy_(t["g" + i])
            getattr(layer, "norm" + i).bias.copy_(t["be" + i])
    leaves = {
        "emb": t["emb"],
        "pos": t["pos"],
        "Wc": t["Wc"],
        "bc": t["bc"],
        "in_proj_weight": att.in_proj_weight,
        "in_proj_bias": att.in_proj_bias,
        "Wo": att.out_proj.weight,
        "bo": att.out_proj.bias,
        "F1": layer.linear1.weight,
        "f1": layer.linear1.bias,
        "F2": layer.linear2.weight,
        "f2": layer.linear2.bias,
        "g1": layer.norm1.weight,
        "be1": layer.norm1.bias,
        "g2": layer.norm2.weight,
        "be2": layer.norm2.bias,
    }

    def fwd(tokens, labels):
        x = torch.nn.functional.embedding(tokens, t["emb"]) + t["pos"]
        return ce(layer(x).mean(dim=1) @ t["Wc"] + t["bc"], labels)

    def to_numpy(ts):
        g = {k: v.grad.numpy().copy() for k, v in ts.items()}
        w, b = g.pop("in_proj_weight"), g.pop("in_proj_bias")
        for i, c in enumerate("qkv"):
            g["W" + c] = w[i * d : (i + 1) * d].T
            g["b" + c] = b[i * d : (i + 1) * d]
        for k in ("Wo", "F1", "F2"):
            g[k] = g[k].T
        return g

    return fwd, leaves, to_numpy


def _torch_batch(work: Workload, batch, torch) -> tuple:
    if work.key == "W7":
        return (torch.from_numpy(batch[0]),)
    x, y = batch
    labels = torch.from_numpy(np.argmax(y, axis=1))
    if work.key in ("W3", "W4"):
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return torch.from_numpy(x), labels


def build_torch(work: Workload, params, batch) -> Step:
    torch = setup_torch()
    fwd, leaves, to_numpy = _torch_model(work, params, torch)
    tb = _torch_batch(work, batch, torch)
    opt_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}.get(work.optimizer)
    lr = LR_ADAM if work.optimizer == "adam" else LR_SGD
    opt = opt_class(list(leaves.values()), lr=lr) if opt_class else None
    check_fwd, check_leaves, _ = _torch_model(work, params, torch)

    def step() -> Any:
        for v in leaves.values():
            v.grad = None
        loss = fwd(*tb)
        loss.backward()
        if opt is not None:
            opt.step()
        return loss

    def grads() -> tuple[float, dict[str, np.ndarray]]:
        for v in check_leaves.values():
            v.grad = None
        loss = check_fwd(*tb)
        loss.backward()
        return float(loss.detach()), to_numpy(check_leaves)

    return Step(step, grads, f"torch {torch.__version__}", numpy_memory=False)


BUILDERS: dict[str, Callable[[Workload, Any, Any], Step]] = {
    "hand-written numpy": build_hand,
    "srcgrad": build_srcgrad,
    "PyTorch eager": build_torch,
    "HIPS autograd": build_autograd,
    "JAX (no jit)": build_jax,
    "JAX jit": build_jax_jit,
}
