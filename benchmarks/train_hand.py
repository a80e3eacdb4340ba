"""Hand-written numpy forward and backward passes of the training workloads W1-W7.

Each ``*_value_and_grad(params, *batch)`` returns ``(loss, grads)`` with ``grads`` a dict
keyed like ``params``: the reference every other implementation's gradient is checked against
and every ratio is taken against. They compute exactly what
:mod:`benchmarks.train_models` computes, the way a careful numpy programmer writes a backward
pass: the softmax cross-entropy cotangent is ``(softmax - y) / n``, masks multiply in place,
an im2col matrix is built once per convolution and used by the forward and the kernel
gradient, and the input gradient of a convolution is scattered back window offset by window
offset (col2im).
"""

from __future__ import annotations

import numpy as np

from benchmarks.train_models import HEADS, LN_EPS

__all__ = [
    "convnet_value_and_grad",
    "gru_value_and_grad",
    "lenet_value_and_grad",
    "mlp_value_and_grad",
    "resmlp_value_and_grad",
    "rnn_value_and_grad",
    "transformer_value_and_grad",
]

swv = np.lib.stride_tricks.sliding_window_view


def _softmax_ce(logits, y):
    """(loss, d logits) of the mean softmax cross-entropy against one-hot ``y``."""
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.vdot(y, shifted - np.log(s)) / n
    e /= s
    e -= y
    e /= n
    return loss, e


def mlp_value_and_grad(params, x, y):
    """W1."""
    h1 = x @ params["W1"]
    h1 += params["b1"]
    np.maximum(h1, 0.0, out=h1)
    h2 = h1 @ params["W2"]
    h2 += params["b2"]
    np.maximum(h2, 0.0, out=h2)
    logits = h2 @ params["W3"]
    logits += params["b3"]
    loss, d = _softmax_ce(logits, y)
    g = {"W3": h2.T @ d, "b3": d.sum(axis=0)}
    d = d @ params["W3"].T
    d *= h2 > 0
    g["W2"], g["b2"] = h1.T @ d, d.sum(axis=0)
    d = d @ params["W2"].T
    d *= h1 > 0
    g["W1"], g["b1"] = x.T @ d, d.sum(axis=0)
    return loss, g


def resmlp_value_and_grad(params, x, y):
    """W2."""
    h1 = x @ params["W1"]
    h1 += params["b1"]
    np.maximum(h1, 0.0, out=h1)
    r = h1 @ params["W2"]
    r += params["b2"]
    np.maximum(r, 0.0, out=r)
    h2 = h1 + r
    logits = h2 @ params["W3"]
    logits += params["b3"]
    loss, d = _softmax_ce(logits, y)
    g = {"W3": h2.T @ d, "b3": d.sum(axis=0)}
    dh2 = d @ params["W3"].T
    dr = dh2 * (r > 0)
    g["W2"], g["b2"] = h1.T @ dr, dr.sum(axis=0)
    dh2 += dr @ params["W2"].T
    dh2 *= h1 > 0
    g["W1"], g["b1"] = x.T @ dh2, dh2.sum(axis=0)
    return loss, g


def _conv(xp, kernel, bias):
    """(im2col matrix, output) of a valid convolution of NHWC ``xp`` with ``(C, k, k, O)``."""
    c, k, _, o = kernel.shape
    win = swv(xp, (k, k), axis=(1, 2))
    n, h, w = win.shape[:3]
    cols = win.reshape(n * h * w, c * k * k)
    out = cols @ kernel.reshape(c * k * k, o)
    out += bias
    return cols, out.reshape(n, h, w, o)


def _conv_grads(cols, kernel, dout, need_input, padded_shape):
    """(d kernel, d bias, d padded input or None) of :func:`_conv`."""
    c, k, _, o = kernel.shape
    d2 = dout.reshape(-1, o)
    dk = (cols.T @ d2).reshape(kernel.shape)
    db = d2.sum(axis=0)
    if not need_input:
        return dk, db, None
    n, h, w = dout.shape[:3]
    dwin = (d2 @ kernel.reshape(c * k * k, o).T).reshape(n, h, w, c, k, k)
    dx = np.zeros(padded_shape, dtype=dout.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, i : i + h, j : j + w, :] += dwin[..., i, j]
    return dk, db, dx


def _sigmoid(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    return np.reciprocal(a, out=a)


def _unpool_avg(d, shape):
    """Cotangent of a 2x2 mean pool: each input gets a quarter of its window's cotangent."""
    n, h, w, c = d.shape
    up = np.broadcast_to((d * 0.25)[:, :, None, :, None, :], (n, h, 2, w, 2, c))
    return up.reshape(shape)


def lenet_value_and_grad(params, x, y):
    """W3."""
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
    cols1, s1 = _conv(xp, params["K1"], params["c1"])
    _sigmoid(s1)
    p1 = s1.reshape(n, 14, 2, 14, 2, 6).mean(axis=(2, 4))
    cols2, s2 = _conv(p1, params["K2"], params["c2"])
    _sigmoid(s2)
    p2 = s2.reshape(n, 5, 2, 5, 2, 16).mean(axis=(2, 4))
    f = p2.reshape(n, 400)
    h1 = _sigmoid(f @ params["W1"] + params["b1"])
    h2 = _sigmoid(h1 @ params["W2"] + params["b2"])
    logits = h2 @ params["W3"]
    logits += params["b3"]
    loss, d = _softmax_ce(logits, y)
    g = {"W3": h2.T @ d, "b3": d.sum(axis=0)}
    d = d @ params["W3"].T
    d *= h2 * (1.0 - h2)
    g["W2"], g["b2"] = h1.T @ d, d.sum(axis=0)
    d = d @ params["W2"].T
    d *= h1 * (1.0 - h1)
    g["W1"], g["b1"] = f.T @ d, d.sum(axis=0)
    d = _unpool_avg((d @ params["W1"].T).reshape(n, 5, 5, 16), s2.shape)
    d = d * (s2 * (1.0 - s2))
    g["K2"], g["c2"], dp1 = _conv_grads(cols2, params["K2"], d, True, p1.shape)
    d = _unpool_avg(dp1, s1.shape)
    d = d * (s1 * (1.0 - s1))
    g["K1"], g["c1"], _ = _conv_grads(cols1, params["K1"], d, False, None)
    return loss, g


def _maxpool(r):
    """(pooled, mask of the maxima) of a 2x2 max pool of NHWC ``r``."""
    n, h, w, c = r.shape
    v = r.reshape(n, h // 2, 2, w // 2, 2, c)
    p = v.max(axis=(2, 4))
    return p, v == p[:, :, None, :, None, :]


def _unpool_max(d, mask, shape):
    return (mask * d[:, :, None, :, None, :]).reshape(shape)


def convnet_value_and_grad(params, x, y):
    """W4."""
    n = x.shape[0]
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols1, r1 = _conv(xp, params["K1"], params["c1"])
    np.maximum(r1, 0.0, out=r1)
    p1, m1 = _maxpool(r1)
    p1p = np.pad(p1, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols2, r2 = _conv(p1p, params["K2"], params["c2"])
    np.maximum(r2, 0.0, out=r2)
    p2, m2 = _maxpool(r2)
    f = p2.reshape(n, 2450)
    h = f @ params["W1"]
    h += params["b1"]
    np.maximum(h, 0.0, out=h)
    logits = h @ params["W2"]
    logits += params["b2"]
    loss, d = _softmax_ce(logits, y)
    g = {"W2": h.T @ d, "b2": d.sum(axis=0)}
    d = d @ params["W2"].T
    d *= h > 0
    g["W1"], g["b1"] = f.T @ d, d.sum(axis=0)
    d = _unpool_max((d @ params["W1"].T).reshape(n, 7, 7, 50), m2, r2.shape)
    d *= r2 > 0
    g["K2"], g["c2"], dp1p = _conv_grads(cols2, params["K2"], d, True, p1p.shape)
    d = _unpool_max(dp1p[:, 1:-1, 1:-1, :], m1, r1.shape)
    d *= r1 > 0
    g["K1"], g["c1"], _ = _conv_grads(cols1, params["K1"], d, False, None)
    return loss, g


def gru_value_and_grad(params, x, y):
    """W5: the forward keeps each step's gates; the backward runs the steps in reverse."""
    w_ih, w_hh = params["W_ih"], params["W_hh"]
    hid = w_hh.shape[1]
    n, steps = x.shape[:2]
    h = np.zeros((n, hid), dtype=x.dtype)
    tape = []
    for t in range(steps):
        gi = x[:, t, :] @ w_ih.T
        gi += params["b_ih"]
        gh = h @ w_hh.T
        gh += params["b_hh"]
        rz = gi[:, : 2 * hid] + gh[:, : 2 * hid]
        _sigmoid(rz)
        r, z = rz[:, :hid], rz[:, hid:]
        ghn = gh[:, 2 * hid :]
        c = np.tanh(gi[:, 2 * hid :] + r * ghn)
        tape.append((h, rz, c, ghn))
        h = c + z * (h - c)
    logits = h @ params["W"]
    logits += params["b"]
    loss, d = _softmax_ce(logits, y)
    g = {"W": h.T @ d, "b": d.sum(axis=0)}
    dh = d @ params["W"].T
    dgi = np.empty((n, steps, 3 * hid), dtype=x.dtype)
    gw_hh = np.zeros_like(w_hh)
    gb_hh = np.zeros_like(params["b_hh"])
    for t in range(steps - 1, -1, -1):
        h_prev, rz, c, ghn = tape[t]
        r, z = rz[:, :hid], rz[:, hid:]
        da = dgi[:, t, :]
        dan = da[:, 2 * hid :]
        np.multiply(dh * (1.0 - z), 1.0 - c * c, out=dan)
        drz = da[:, : 2 * hid]
        np.multiply(dan * ghn, r * (1.0 - r), out=drz[:, :hid])
        np.multiply(dh * (h_prev - c), z * (1.0 - z), out=drz[:, hid:])
        dgh = da.copy()
        dgh[:, 2 * hid :] *= r
        gw_hh += dgh.T @ h_prev
        gb_hh += dgh.sum(axis=0)
        dh = dh * z
        dh += dgh @ w_hh
    dgi2 = dgi.reshape(n * steps, 3 * hid)
    g["W_ih"] = dgi2.T @ x.reshape(n * steps, -1)
    g["b_ih"] = dgi2.sum(axis=0)
    g["W_hh"], g["b_hh"] = gw_hh, gb_hh
    return loss, g


def _ln_forward(a, gamma, beta):
    mu = a.mean(axis=-1, keepdims=True)
    d = a - mu
    inv = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + LN_EPS)
    xh = d * inv
    return xh, inv, xh * gamma + beta


def _ln_backward(dy, xh, inv, gamma):
    """(d input, d gamma, d beta) of a layer norm over the last axis."""
    dg = np.einsum("ntd,ntd->d", dy, xh)
    db = dy.sum(axis=(0, 1))
    dxh = dy * gamma
    m1 = dxh.mean(axis=-1, keepdims=True)
    m2 = (dxh * xh).mean(axis=-1, keepdims=True)
    dxh -= m1
    dxh -= xh * m2
    dxh *= inv
    return dxh, dg, db


def transformer_value_and_grad(params, tokens, y):
    """W6."""
    p = params
    n, t = tokens.shape
    d = p["emb"].shape[1]
    hd = d // HEADS
    scale = 1.0 / hd**0.5
    x = p["emb"][tokens] + p["pos"]
    x2d = x.reshape(n * t, d)

    def heads(w, b):
        return (x2d @ w + b).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)

    q, k, v = heads(p["Wq"], p["bq"]), heads(p["Wk"], p["bk"]), heads(p["Wv"], p["bv"])
    s = q @ k.transpose(0, 1, 3, 2)
    s *= scale
    s -= s.max(axis=-1, keepdims=True)
    att = np.exp(s, out=s)
    att /= att.sum(axis=-1, keepdims=True)
    ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n * t, d)
    a = x2d + ctx @ p["Wo"] + p["bo"]
    xh1, inv1, x1 = _ln_forward(a.reshape(n, t, d), p["g1"], p["be1"])
    x1f = x1.reshape(n * t, d)
    u = x1f @ p["F1"]
    u += p["f1"]
    np.maximum(u, 0.0, out=u)
    f = x1f + u @ p["F2"] + p["f2"]
    xh2, inv2, x2 = _ln_forward(f.reshape(n, t, d), p["g2"], p["be2"])
    pooled = x2.mean(axis=1)
    logits = pooled @ p["Wc"]
    logits += p["bc"]
    loss, dl = _softmax_ce(logits, y)
    g = {"Wc": pooled.T @ dl, "bc": dl.sum(axis=0)}
    dx2 = np.broadcast_to((dl @ p["Wc"].T / t)[:, None, :], (n, t, d))
    df, g["g2"], g["be2"] = _ln_backward(dx2, xh2, inv2, p["g2"])
    df = df.reshape(n * t, d)
    g["F2"], g["f2"] = u.T @ df, df.sum(axis=0)
    du = df @ p["F2"].T
    du *= u > 0
    g["F1"], g["f1"] = x1f.T @ du, du.sum(axis=0)
    dx1 = df + du @ p["F1"].T
    da, g["g1"], g["be1"] = _ln_backward(dx1.reshape(n, t, d), xh1, inv1, p["g1"])
    da = da.reshape(n * t, d)
    g["Wo"], g["bo"] = ctx.T @ da, da.sum(axis=0)
    dctx = (da @ p["Wo"].T).reshape(n, t, HEADS, hd).transpose(0, 2, 1, 3)
    datt = dctx @ v.transpose(0, 1, 3, 2)
    dv = att.transpose(0, 1, 3, 2) @ dctx
    datt -= (datt * att).sum(axis=-1, keepdims=True)
    datt *= att
    datt *= scale
    dq = datt @ k
    dk = datt.transpose(0, 1, 3, 2) @ q
    dx = da
    for name, dh in (("q", dq), ("k", dk), ("v", dv)):
        dm = dh.transpose(0, 2, 1, 3).reshape(n * t, d)
        g["W" + name], g["b" + name] = x2d.T @ dm, dm.sum(axis=0)
        dx = dx + dm @ p["W" + name].T
    dx = dx.reshape(n, t, d)
    g["pos"] = dx.sum(axis=0)
    g["emb"] = np.zeros_like(p["emb"])
    np.add.at(g["emb"], tokens.reshape(-1), dx.reshape(n * t, d))
    return loss, g


def rnn_value_and_grad(params, xs):
    """W7: the states are kept; the backward loop runs the 200 steps in reverse."""
    wx, wh, b = params["Wx"], params["Wh"], params["b"]
    h = np.zeros((1, wh.shape[0]), dtype=xs.dtype)
    hs = [h]
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
        hs.append(h)
    loss = np.vdot(h, h)
    gx, gh, gb = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    dh = 2.0 * h
    for t in range(xs.shape[0] - 1, -1, -1):
        ht = hs[t + 1]
        da = dh * (1.0 - ht * ht)
        gx += xs[t].T @ da
        gh += hs[t].T @ da
        gb += da[0]
        dh = da @ wh.T
    return loss, {"Wx": gx, "Wh": gh, "b": gb}
