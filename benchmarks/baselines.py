"""Hand-written numpy forward and backward passes: the references for every ratio.

Each function computes the same loss as its model in :mod:`benchmarks.models` and the gradient
that ``srcgrad.value_and_grad(model, wrt=...)`` must return, with a backward pass derived by
hand. They are written the way a careful person writes them:

- no needless copies: transposes are views (BLAS takes them as flags), reductions feed straight
  into the next step, and the gradient w.r.t. inputs that are not differentiated (``x``, ``y``,
  ``xs``) is never computed;
- in place wherever the array was allocated here and nothing else refers to it: the forward
  pass adds biases and applies ReLU into the matmul result, and the backward pass reuses the
  forward temporaries (``exp`` turns into the softmax and then into ``d_logits``);
- inputs and parameters are never written to, and no two returned gradients share memory.

``tests/test_benchmark_baselines.py`` checks every function against central differences.
"""

from __future__ import annotations

import numpy as np

Params = dict[str, np.ndarray]

__all__ = [
    "layernorm_mse_value_and_grad",
    "mlp_value_and_grad",
    "rnn_value_and_grad",
    "rnn_value_and_grad_hoisted",
    "tiny_value_and_grad",
]


def mlp_value_and_grad(
    params: Params, x: np.ndarray, y: np.ndarray
) -> tuple[np.floating, Params]:
    """Loss and gradient of :func:`benchmarks.models.mlp_loss` w.r.t. ``params``.

    Args:
        params: ``{"W1", "b1", "W2", "b2", "W3", "b3"}``.
        x: inputs ``(n, n_in)``.
        y: target distributions ``(n, n_classes)``, usually one-hot.

    Returns:
        ``(loss, grads)`` with ``grads`` keyed like ``params``, in their dtypes.
    """
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    W3, b3 = params["W3"], params["b3"]
    n = x.shape[0]

    # Forward: biases and ReLU go into the matmul results in place.
    h1 = x @ W1
    h1 += b1
    np.maximum(h1, 0.0, out=h1)
    h2 = h1 @ W2
    h2 += b2
    np.maximum(h2, 0.0, out=h2)
    shifted = h2 @ W3
    shifted += b3
    shifted -= shifted.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    log_s = np.log(s)
    # -sum(y * (shifted - log_s)) / n, without forming logp.
    y_sum = y.sum(axis=1, keepdims=True)  # 1 per row for one-hot targets
    loss = (np.vdot(y_sum, log_s) - np.vdot(y, shifted)) / n

    # Backward: d_logits = (softmax * sum(y) - y) / n, built in e's buffer.
    d_logits = e
    d_logits /= s
    d_logits *= y_sum
    d_logits -= y
    d_logits *= 1.0 / n
    d_W3 = h2.T @ d_logits
    d_b3 = d_logits.sum(axis=0)
    d_h2 = d_logits @ W3.T
    d_h2 *= h2 > 0
    d_W2 = h1.T @ d_h2
    d_b2 = d_h2.sum(axis=0)
    d_h1 = d_h2 @ W2.T
    d_h1 *= h1 > 0
    d_W1 = x.T @ d_h1
    d_b1 = d_h1.sum(axis=0)
    grads = {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2, "W3": d_W3, "b3": d_b3}
    return loss, grads


def rnn_value_and_grad(params: Params, xs: np.ndarray) -> tuple[float, Params]:
    """Loss and gradient of :func:`benchmarks.models.rnn_loss` by straightforward BPTT.

    The forward pass runs the recurrence step by step and keeps every hidden state in one
    preallocated ``(steps + 1, batch, hidden)`` array. The backward pass walks the steps in
    reverse and, per step, accumulates ``d_Wx``, ``d_Wh`` and ``d_b`` in place: the textbook
    algorithm, one step of work per step, as the user's loop is written.
    :func:`rnn_value_and_grad_hoisted` is the faster variant that batches the work which does
    not depend on the recurrence.

    Args:
        params: ``{"Wx": (n_in, hidden), "Wh": (hidden, hidden), "b": (hidden,)}``.
        xs: inputs ``(steps, batch, n_in)``.

    Returns:
        ``(loss, grads)`` with ``grads`` keyed like ``params``.
    """
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    steps, batch, _ = xs.shape
    hidden = Wh.shape[0]

    hs = np.empty((steps + 1, batch, hidden), dtype=np.result_type(Wx, Wh, b, xs))
    hs[0] = 0.0
    loss = 0.0
    for t in range(steps):
        a = xs[t] @ Wx
        a += hs[t] @ Wh
        a += b
        h = np.tanh(a, out=hs[t + 1])
        loss += np.vdot(h, h)
    loss /= steps

    scale = 2.0 / steps  # d loss / d h_t from the step's own term is scale * h_t
    d_Wx = np.zeros_like(Wx)
    d_Wh = np.zeros_like(Wh)
    d_b = np.zeros_like(b)
    d_h = scale * hs[steps]
    for t in range(steps - 1, -1, -1):
        h = hs[t + 1]
        d_h *= 1.0 - h * h  # now d_a, the cotangent of the tanh argument
        d_Wx += xs[t].T @ d_h
        d_Wh += hs[t].T @ d_h
        d_b += d_h.sum(axis=0)
        if t:
            d_h = d_h @ Wh.T
            d_h += scale * hs[t]
    return loss, {"Wx": d_Wx, "Wh": d_Wh, "b": d_b}


def rnn_value_and_grad_hoisted(params: Params, xs: np.ndarray) -> tuple[float, Params]:
    """:func:`rnn_value_and_grad` with every non-recurrent operation batched over the steps.

    Only ``h @ Wh``, the tanh and the ``d_a @ Wh.T`` chain stay in the loops; the input
    projection, the loss, ``1 - h**2`` and the three weight gradients are each one call over all
    steps. This is a restructuring a person does by hand and a per-statement code generator
    does not, so it is reported for context, not used as the reference.

    Args:
        params: ``{"Wx": (n_in, hidden), "Wh": (hidden, hidden), "b": (hidden,)}``.
        xs: inputs ``(steps, batch, n_in)``.

    Returns:
        ``(loss, grads)`` with ``grads`` keyed like ``params``.
    """
    Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
    steps, batch, n_in = xs.shape
    hidden = Wh.shape[0]

    hs = np.empty((steps + 1, batch, hidden), dtype=np.result_type(Wx, Wh, b, xs))
    hs[0] = 0.0
    a = xs @ Wx  # (steps, batch, hidden): every input projection at once
    a += b
    for t in range(steps):
        a_t = a[t]
        a_t += hs[t] @ Wh
        np.tanh(a_t, out=hs[t + 1])
    h_all = hs[1:]
    loss = np.vdot(h_all, h_all) / steps

    # d_a[t] = (scale * h_t + d_a[t+1] @ Wh.T) * (1 - h_t**2), built in a's buffer.
    d_a = a
    np.multiply(h_all, h_all, out=d_a)
    np.subtract(1.0, d_a, out=d_a)  # 1 - h_t**2
    d_direct = h_all * (2.0 / steps)
    d_a[steps - 1] *= d_direct[steps - 1]
    for t in range(steps - 2, -1, -1):
        d_h = d_a[t + 1] @ Wh.T
        d_h += d_direct[t]
        d_a[t] *= d_h
    d_a2 = d_a.reshape(steps * batch, hidden)
    d_Wx = xs.reshape(steps * batch, n_in).T @ d_a2
    d_Wh = hs[:-1].reshape(steps * batch, hidden).T @ d_a2
    d_b = d_a2.sum(axis=0)
    return loss, {"Wx": d_Wx, "Wh": d_Wh, "b": d_b}


def layernorm_mse_value_and_grad(
    params: Params, x: np.ndarray, t: np.ndarray
) -> tuple[float, tuple[Params, np.ndarray]]:
    """Loss and gradient of :func:`benchmarks.models.layernorm_mse_loss` w.r.t. ``(params, x)``.

    Args:
        params: ``{"gamma": (d,), "beta": (d,), "W": (d, d_out), "c": (d_out,)}``.
        x: inputs ``(n, d)``.
        t: targets ``(n, d_out)``.

    Returns:
        ``(loss, (grads, d_x))`` with ``grads`` keyed like ``params``.
    """
    gamma, beta, W, c = params["gamma"], params["beta"], params["W"], params["c"]
    d = x.shape[-1]

    # Forward: xc becomes xhat in place, out becomes err in place.
    xhat = x - x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", xhat, xhat)[:, None]
    var *= 1.0 / d
    var += 1e-5
    rstd = np.sqrt(var)
    np.divide(1.0, rstd, out=rstd)
    xhat *= rstd
    h = xhat * gamma
    h += beta
    err = h @ W
    err += c
    err -= t
    size = err.size
    loss = np.vdot(err, err) / size

    # Backward: err becomes d_out in place, d_h becomes d_xhat and then d_x.
    d_out = err
    d_out *= 2.0 / size
    d_W = h.T @ d_out
    d_c = d_out.sum(axis=0)
    d_h = d_out @ W.T
    d_gamma = np.einsum("ij,ij->j", d_h, xhat)
    d_beta = d_h.sum(axis=0)
    d_x = d_h
    d_x *= gamma  # d_xhat
    # d_x = rstd * (d_xhat - mean(d_xhat) - xhat * mean(d_xhat * xhat)), row-wise.
    proj = np.einsum("ij,ij->i", d_x, xhat)[:, None]
    proj *= 1.0 / d
    d_x -= d_x.mean(axis=-1, keepdims=True)
    xhat *= proj  # xhat is not needed any more
    d_x -= xhat
    d_x *= rstd
    grads = {"gamma": d_gamma, "beta": d_beta, "W": d_W, "c": d_c}
    return loss, (grads, d_x)


def tiny_value_and_grad(x: np.ndarray) -> tuple[np.floating, np.ndarray]:
    """Loss and gradient of :func:`benchmarks.models.tiny_loss`."""
    return np.vdot(x, x), 2.0 * x
