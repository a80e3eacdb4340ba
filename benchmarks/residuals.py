"""Residual memory: what srcgrad's forward pass keeps for the backward pass, against what a
careful hand-written numpy backward keeps.

Usage (from the repository root)::

    python -m benchmarks.residuals [--dtype float32|float64]

For each model below there is the plain numpy forward function srcgrad differentiates and a
hand-written forward/backward pair.  The hand-written forward returns the arrays its backward
reads (``saved``), the way a careful person writes it: the attention weights once, the layer
norms' normalised inputs and reciprocal deviations, the ReLU output (its mask is ``f > 0``),
the gates of each LSTM step.  Its gradient is checked against srcgrad's before anything is
counted, so neither side can leave out what the gradient needs.

Both sides count the bytes of memory the residuals keep alive, each buffer once (a view
counts as its base), and not the arguments the residuals refer to (the parameters, the
token ids): those live anyway.  srcgrad's figure comes from its residual report
(``df.residuals(*args)``, the table ``srcgrad show --residuals`` prints).

Models:

- **transformer**: one post-LN Transformer block as a training step: embedding (vocabulary
  5000) plus learned positions, 4-head self-attention (D=64, T=45), ReLU feed-forward
  (128), mean pool over time, a 2-way classifier and softmax cross-entropy; batch 128.
- **mlp**: 784-400-100-10 ReLU MLP with softmax cross-entropy against one-hot labels, batch
  128 (:func:`benchmarks.models.mlp_loss`).
- **lstm**: a one-layer LSTM (input 16, hidden 64, batch 32, 50 steps) in a Python loop,
  then a linear readout of the last state and a squared error.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.models import mlp_inputs, mlp_loss

EPS = 1e-5
HEADS = 4

# --------------------------------------------------------------------------------------------
# The models, as a srcgrad user writes them
# --------------------------------------------------------------------------------------------


def layer_norm(x, gain, bias):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return gain * (x - mu) / np.sqrt(var + EPS) + bias


def transformer_loss(params, tokens, labels):
    """Cross-entropy of a post-LN Transformer block classifier (see the module docstring)."""
    B, T = tokens.shape
    D = params["Wq"].shape[0]
    dh = D // HEADS
    x = params["embed"][tokens] + params["pos"][:T]
    q = (x @ params["Wq"]).reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)
    k = (x @ params["Wk"]).reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)
    v = (x @ params["Wv"]).reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / dh**0.5
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    e = np.exp(scores)
    att = e / np.sum(e, axis=-1, keepdims=True)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    h = layer_norm(x + ctx @ params["Wo"] + params["bo"], params["g1"], params["b1"])
    f = np.maximum(h @ params["W1"] + params["c1"], 0.0)
    y = layer_norm(h + f @ params["W2"] + params["c2"], params["g2"], params["b2"])
    pooled = np.mean(y, axis=1)
    logits = pooled @ params["Wc"] + params["bc"]
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(B), labels])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_loss(params, xs, target):
    """Squared error of a linear readout of an LSTM's last hidden state."""
    H = params["Wh"].shape[0]
    h = np.zeros((xs.shape[1], H), dtype=xs.dtype)
    c = np.zeros((xs.shape[1], H), dtype=xs.dtype)
    for t in range(xs.shape[0]):
        a = xs[t] @ params["Wx"] + h @ params["Wh"] + params["b"]
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H : 2 * H])
        o = sigmoid(a[:, 2 * H : 3 * H])
        g = np.tanh(a[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
    err = h @ params["Wy"] + params["by"] - target
    return np.mean(err * err)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _weights(rng: np.random.Generator, dtype: Any, *shape: int) -> np.ndarray:
    return (rng.standard_normal(shape) / np.sqrt(shape[0])).astype(dtype)


def transformer_inputs(
    dtype: Any = np.float32,
    batch: int = 128,
    T: int = 45,
    D: int = 64,
    F: int = 128,
    vocab: int = 5000,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = lambda *s: _weights(rng, dtype, *s)  # noqa: E731
    zeros = lambda n: np.zeros(n, dtype)  # noqa: E731
    params = {
        "embed": w(vocab, D),
        "pos": w(T, D),
        "Wq": w(D, D),
        "Wk": w(D, D),
        "Wv": w(D, D),
        "Wo": w(D, D),
        "bo": zeros(D),
        "g1": 1 + w(D) / 8,
        "b1": w(D) / 8,
        "W1": w(D, F),
        "c1": w(F) / 8,
        "W2": w(F, D),
        "c2": zeros(D),
        "g2": 1 + w(D) / 8,
        "b2": w(D) / 8,
        "Wc": w(D, 2),
        "bc": zeros(2),
    }
    return params, rng.integers(0, vocab, (batch, T)), rng.integers(0, 2, batch)


def lstm_inputs(
    dtype: Any = np.float32,
    batch: int = 32,
    steps: int = 50,
    n_in: int = 16,
    hidden: int = 64,
    n_out: int = 4,
    seed: int = 0,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {
        "Wx": _weights(rng, dtype, n_in, 4 * hidden),
        "Wh": _weights(rng, dtype, hidden, 4 * hidden),
        "b": np.zeros(4 * hidden, dtype),
        "Wy": _weights(rng, dtype, hidden, n_out),
        "by": np.zeros(n_out, dtype),
    }
    xs = rng.standard_normal((steps, batch, n_in)).astype(dtype)
    return params, xs, rng.standard_normal((batch, n_out)).astype(dtype)


# --------------------------------------------------------------------------------------------
# Hand-written forward and backward passes: forward -> (loss, saved), backward(saved) -> grads
# --------------------------------------------------------------------------------------------


def _ln_forward(r: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> tuple[Any, ...]:
    mu = r.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(r.var(axis=-1, keepdims=True) + EPS)
    xhat = (r - mu) * rstd
    return gain * xhat + bias, xhat, rstd


def _ln_backward(dy: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, gain: np.ndarray):
    axes = tuple(range(dy.ndim - 1))
    dgain = (dy * xhat).sum(axis=axes)
    dbias = dy.sum(axis=axes)
    dxhat = dy * gain
    dr = rstd * (
        dxhat
        - dxhat.mean(axis=-1, keepdims=True)
        - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True)
    )
    return dr, dgain, dbias


def transformer_forward(params, tokens, labels):
    p = params
    B, T = tokens.shape
    D = p["Wq"].shape[0]
    dh = D // HEADS

    def heads(a: np.ndarray) -> np.ndarray:
        return a.reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)

    x = p["embed"][tokens] + p["pos"][:T]
    q, k, v = heads(x @ p["Wq"]), heads(x @ p["Wk"]), heads(x @ p["Wv"])
    s = q @ k.transpose(0, 1, 3, 2) / dh**0.5
    att = np.exp(s - s.max(axis=-1, keepdims=True))
    att /= att.sum(axis=-1, keepdims=True)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    h, xhat1, rstd1 = _ln_forward(x + ctx @ p["Wo"] + p["bo"], p["g1"], p["b1"])
    f = np.maximum(h @ p["W1"] + p["c1"], 0.0)
    y, xhat2, rstd2 = _ln_forward(h + f @ p["W2"] + p["c2"], p["g2"], p["b2"])
    pooled = y.mean(axis=1)
    logits = pooled @ p["Wc"] + p["bc"]
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = z / z.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(prob[np.arange(B), labels]))
    saved = dict(
        x=x, q=q, k=k, v=v, att=att, ctx=ctx, xhat1=xhat1, rstd1=rstd1, h=h, f=f,
        xhat2=xhat2, rstd2=rstd2, pooled=pooled, prob=prob, tokens=tokens, labels=labels,
    )  # fmt: skip
    return loss, saved


def transformer_backward(params, saved):
    p, s = params, saved
    B, T = s["tokens"].shape
    D = p["Wq"].shape[0]
    dh = D // HEADS
    g: dict[str, np.ndarray] = {}
    dlogits = s["prob"].copy()
    dlogits[np.arange(B), s["labels"]] -= 1.0
    dlogits /= B
    g["Wc"], g["bc"] = s["pooled"].T @ dlogits, dlogits.sum(axis=0)
    dy = np.broadcast_to((dlogits @ p["Wc"].T)[:, None, :] / T, (B, T, D))
    dr2, g["g2"], g["b2"] = _ln_backward(dy, s["xhat2"], s["rstd2"], p["g2"])
    f, h = s["f"], s["h"]
    g["c2"] = dr2.sum(axis=(0, 1))
    g["W2"] = f.reshape(-1, f.shape[-1]).T @ dr2.reshape(-1, D)
    df = (dr2 @ p["W2"].T) * (f > 0)
    g["c1"] = df.sum(axis=(0, 1))
    g["W1"] = h.reshape(-1, D).T @ df.reshape(-1, df.shape[-1])
    dh_ = dr2 + df @ p["W1"].T
    dr1, g["g1"], g["b1"] = _ln_backward(dh_, s["xhat1"], s["rstd1"], p["g1"])
    ctx, x = s["ctx"].reshape(-1, D), s["x"].reshape(-1, D)
    g["bo"], g["Wo"] = dr1.sum(axis=(0, 1)), ctx.T @ dr1.reshape(-1, D)
    dctx = (dr1 @ p["Wo"].T).reshape(B, T, HEADS, dh).transpose(0, 2, 1, 3)
    att, q, k, v = s["att"], s["q"], s["k"], s["v"]
    datt = dctx @ v.transpose(0, 1, 3, 2)
    dv = att.transpose(0, 1, 3, 2) @ dctx
    ds = att * (datt - (datt * att).sum(axis=-1, keepdims=True)) / dh**0.5
    dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
    dx = dr1.reshape(-1, D).copy()
    for name, d in (("Wq", dq), ("Wk", dk), ("Wv", dv)):
        d = d.transpose(0, 2, 1, 3).reshape(-1, D)
        g[name] = x.T @ d
        dx += d @ p[name].T
    dx = dx.reshape(B, T, D)
    g["pos"] = np.zeros_like(p["pos"])
    g["pos"][:T] = dx.sum(axis=0)
    g["embed"] = np.zeros_like(p["embed"])
    np.add.at(g["embed"], s["tokens"], dx)
    return g


def mlp_forward(params, x, y):
    h1 = np.maximum(x @ params["W1"] + params["b1"], 0.0)
    h2 = np.maximum(h1 @ params["W2"] + params["b2"], 0.0)
    logits = h2 @ params["W3"] + params["b3"]
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = z / z.sum(axis=1, keepdims=True)
    loss = -np.sum(y * np.log(prob)) / x.shape[0]
    return loss, dict(x=x, y=y, h1=h1, h2=h2, prob=prob)


def mlp_backward(params, saved):
    s = saved
    dlogits = (s["prob"] * s["y"].sum(axis=1, keepdims=True) - s["y"]) / s["x"].shape[0]
    g = {"W3": s["h2"].T @ dlogits, "b3": dlogits.sum(axis=0)}
    d2 = (dlogits @ params["W3"].T) * (s["h2"] > 0)
    g["W2"], g["b2"] = s["h1"].T @ d2, d2.sum(axis=0)
    d1 = (d2 @ params["W2"].T) * (s["h1"] > 0)
    g["W1"], g["b1"] = s["x"].T @ d1, d1.sum(axis=0)
    return g


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def lstm_forward(params, xs, target):
    p = params
    H = p["Wh"].shape[0]
    h = np.zeros((xs.shape[1], H), dtype=xs.dtype)
    c = np.zeros_like(h)
    steps = []
    for t in range(xs.shape[0]):
        a = xs[t] @ p["Wx"] + h @ p["Wh"] + p["b"]
        i, f, o = (
            _sigmoid(a[:, :H]),
            _sigmoid(a[:, H : 2 * H]),
            _sigmoid(a[:, 2 * H : 3 * H]),
        )
        gg = np.tanh(a[:, 3 * H :])
        c_prev, h_prev = c, h
        c = f * c + i * gg
        tc = np.tanh(c)
        h = o * tc
        steps.append((h_prev, c_prev, i, f, o, gg, tc))
    err = h @ p["Wy"] + p["by"] - target
    loss = np.mean(err * err)
    return loss, dict(xs=xs, steps=steps, h=h, err=err)


def lstm_backward(params, saved):
    p, s = params, saved
    H = p["Wh"].shape[0]
    derr = 2.0 * s["err"] / s["err"].size
    g = {"Wy": s["h"].T @ derr, "by": derr.sum(axis=0)}
    g.update({k: np.zeros_like(p[k]) for k in ("Wx", "Wh", "b")})
    dh = derr @ p["Wy"].T
    dc = np.zeros_like(dh)
    for t in reversed(range(len(s["steps"]))):
        h_prev, c_prev, i, f, o, gg, tc = s["steps"][t]
        do = dh * tc
        dc = dc + dh * o * (1.0 - tc * tc)
        da = np.concatenate(
            [
                dc * gg * i * (1.0 - i),
                dc * c_prev * f * (1.0 - f),
                do * o * (1.0 - o),
                dc * i * (1.0 - gg * gg),
            ],
            axis=1,
        )
        dc = dc * f
        g["Wx"] += s["xs"][t].T @ da
        g["Wh"] += h_prev.T @ da
        g["b"] += da.sum(axis=0)
        dh = da @ p["Wh"].T
    return g


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------


def _bases(v: Any) -> list[np.ndarray]:
    """The arrays owning the memory of ``v``'s arrays (containers walked)."""
    if isinstance(v, np.ndarray):
        while isinstance(v.base, np.ndarray):
            v = v.base
        return [v]
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, (list, tuple)):
        return [b for x in v for b in _bases(x)]
    return []


def kept_bytes(saved: Any, args: tuple[Any, ...]) -> tuple[int, int]:
    """(bytes, arrays) of the memory ``saved`` keeps alive beyond the arguments ``args``."""
    held = {id(b) for b in _bases(list(args))}
    own = {id(b): b for b in _bases(saved) if id(b) not in held}
    return sum(int(b.nbytes) for b in own.values()), len(own)


MODELS: dict[str, tuple[Callable[..., Any], ...]] = {
    "transformer": (
        transformer_loss,
        transformer_inputs,
        transformer_forward,
        transformer_backward,
    ),
    "mlp": (
        mlp_loss,
        lambda dtype: mlp_inputs(np.random.default_rng(0), dtype=dtype),
        mlp_forward,
        mlp_backward,
    ),
    "lstm": (lstm_loss, lstm_inputs, lstm_forward, lstm_backward),
}


def measure(name: str, dtype: Any = np.float32) -> dict[str, Any]:
    """srcgrad's and the hand-written backward's residual bytes for the model ``name``, after
    checking that both give the same gradient (in float64)."""
    import srcgrad

    loss, make, forward, backward = MODELS[name]
    df = srcgrad.grad(loss)
    exact = make(np.float64)
    want = df(*exact)
    got = backward(exact[0], forward(*exact)[1])
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-9, err_msg=k)
    args = make(dtype)
    fields = df.residuals(*args)
    ours = [f for f in fields if f.kind != "input"]
    _, saved = forward(*args)
    hand, hand_arrays = kept_bytes(saved, args)
    return {
        "model": name,
        "srcgrad_bytes": sum(f.nbytes for f in ours),
        "srcgrad_fields": len(fields),
        "hand_bytes": hand,
        "hand_arrays": hand_arrays,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("models", nargs="*", default=list(MODELS))
    ns = parser.parse_args(argv)
    os.environ.setdefault("SRCGRAD_CACHE", "off")
    mib = 1024.0 * 1024.0
    print(f"residual memory per training step ({ns.dtype}; arguments not counted)")
    print(f"{'model':<12} {'srcgrad':>22} {'hand-written':>22} {'ratio':>6}")
    for name in ns.models:
        r = measure(name, np.dtype(ns.dtype))
        ours = f"{r['srcgrad_bytes'] / mib:.2f} MiB ({r['srcgrad_fields']} fields)"
        hand = f"{r['hand_bytes'] / mib:.2f} MiB ({r['hand_arrays']} arrays)"
        ratio = r["srcgrad_bytes"] / r["hand_bytes"]
        print(f"{name:<12} {ours:>22} {hand:>22} {ratio:>6.2f}")


if __name__ == "__main__":
    main()
