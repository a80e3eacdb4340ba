"""Numerics and small models: Taylor series, convolutions by loops, attention, least squares."""

import math

import numpy as np

# ---------------------------------------------------------------- series with a while loop


def taylor_sine(x, tol=1e-10):
    """sin(x) from its Taylor series, summed until the next term is negligible."""
    ans = term = x
    i = 0
    while np.abs(term) > tol:
        term = -term * x**2 / ((2 * i + 3) * (2 * i + 2))
        ans = ans + term
        i += 1
    return ans


def taylor_exp_sum(xs, n_terms=12):
    """exp of every entry by a fixed number of series terms, summed; math.factorial for scale."""
    total = np.zeros_like(xs)
    for k in range(n_terms):
        total += xs**k / math.factorial(k)
    return np.sum(total * np.cos(xs))


# ---------------------------------------------------------------- convolution by loops


def conv2d_valid(image, kernel):
    """'valid' cross-correlation written as a sum of shifted slices."""
    kh, kw = kernel.shape
    H, W = image.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(kh):
        for j in range(kw):
            out = out + kernel[i, j] * image[i : i + H - kh + 1, j : j + W - kw + 1]
    return out


def convnet_loss(kernels, dense, images, targets):
    """Conv layer (one kernel per channel, loop over images), ReLU, then a dense readout."""
    feats = []
    for img in images:
        maps = [np.maximum(conv2d_valid(img, k), 0.0) for k in kernels]
        feats.append(np.concatenate([m.ravel() for m in maps]))
    feats = np.stack(feats)
    logits = feats @ dense
    return np.mean((logits - targets) ** 2)


def conv1d_inplace(signal, taps):
    """1-D convolution filling the output one sample at a time."""
    n, k = signal.shape[0], taps.shape[0]
    out = np.zeros(n - k + 1)
    for i in range(n - k + 1):
        out[i] = np.dot(signal[i : i + k], taps[::-1])
    return np.sum(np.sin(out))


# ---------------------------------------------------------------- attention and normalisation


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def layer_norm(x, gain, bias, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    sigma = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    return gain * (x - mu) / sigma + bias


def attention_block(params, x):
    """Single-head causal self-attention with a residual and a layer norm."""
    q = x @ params["Wq"]
    k = x @ params["Wk"]
    v = x @ params["Wv"]
    scores = q @ k.T / np.sqrt(q.shape[-1])
    T = x.shape[0]
    mask = np.triu(np.ones((T, T)), 1).astype(bool)
    scores = np.where(mask, -1e9, scores)
    attn = softmax(scores, axis=-1)
    h = layer_norm(x + attn @ v, params["gain"], params["bias"])
    return np.sum(h**2)


def multi_head_attention(Wqkv, Wo, x, n_heads=2):
    """Heads split by reshape/transpose, einsum for the scores."""
    T, D = x.shape
    qkv = x @ Wqkv
    q, k, v = np.split(qkv, 3, axis=-1)
    hd = D // n_heads
    q = q.reshape(T, n_heads, hd).transpose(1, 0, 2)
    k = k.reshape(T, n_heads, hd).transpose(1, 0, 2)
    v = v.reshape(T, n_heads, hd).transpose(1, 0, 2)
    att = softmax(np.einsum("htd,hsd->hts", q, k) / math.sqrt(hd))
    out = np.einsum("hts,hsd->htd", att, v).transpose(1, 0, 2).reshape(T, D)
    return np.mean((out @ Wo) ** 2)


# ---------------------------------------------------------------- regression


def poly_features(x, degree):
    return np.stack([x**k for k in range(degree + 1)], axis=1)


def poly_regression_loss(coeffs, x, y, lam=1e-3):
    pred = poly_features(x, len(coeffs) - 1) @ coeffs
    return np.mean((pred - y) ** 2) + lam * np.dot(coeffs, coeffs)


def least_squares_residual(A, b):
    """Residual norm of the normal-equations solution, differentiated w.r.t. the design."""
    x = np.linalg.solve(A.T @ A, A.T @ b)
    r = A @ x - b
    return np.dot(r, r)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def huber_regression(w, X, y, delta=1.0):
    """Huber loss with the piecewise form written as an np.where."""
    r = X @ w - y
    small = np.abs(r) <= delta
    return np.sum(np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta)))
