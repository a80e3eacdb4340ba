"""Straight-line forward functions: the end-to-end corpus for the engine core (DESIGN §10.4).

Every function here is ordinary numeric code as a user would write it: no ``if``, ``for``,
``while``, comprehensions, lambdas, calls to user functions or subscript assignment. Each one
returns a scalar (a Python float or a 0-d/size-1 numpy value).

The inputs, the ``wrt`` specs and the sampling domains live in :mod:`tests.corpus.cases`. Which
language items each function exercises is computed from this file's syntax tree by
``tests/corpus/straight_syntax.py``; nothing here claims coverage by hand.
"""

import math
from typing import NamedTuple

import numpy as np


class MLPParams(NamedTuple):
    """Parameters of a two-layer perceptron, as a NamedTuple."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray


# --------------------------------------------------------------------------- losses


def mse_loss(pred, target):
    """Mean squared error over a batch: sum of squared residuals over the batch size."""
    diff = pred - target
    sq = diff * diff
    return sq.sum() / pred.shape[0]


def huber_loss(pred, target, delta):
    """Huber loss, quadratic inside ``|r| <= delta`` and linear outside."""
    r = pred - target
    a = np.abs(r)
    quadratic = 0.5 * r**2
    linear = delta * (a - 0.5 * delta)
    return np.mean(np.where(a <= delta, quadratic, linear))


def softmax_cross_entropy(logits, onehot):
    """Softmax cross-entropy with a max-shifted log-sum-exp."""
    m = logits.max(axis=1, keepdims=True)
    shifted = logits - m
    lse = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    log_probs = shifted - lse
    return -(onehot * log_probs).sum() / logits.shape[0]


def sparse_cross_entropy(logits, labels):
    """Cross-entropy against integer labels, one-hot encoded by comparison."""
    n, k = logits.shape
    onehot = (labels[:, None] == np.arange(k)[None, :]).astype(logits.dtype)
    z = logits - np.max(logits, axis=-1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.sum(onehot * log_probs) / n


def hinge_loss(w, b, x, y):
    """L2-regularised linear SVM: mean hinge loss via ``np.maximum``."""
    margins = y * (x @ w + b)
    losses = np.maximum(0.0, 1.0 - margins)
    return losses.mean() + 0.5 * 1e-2 * (w @ w)


def focal_loss(logits, targets, gamma, alpha):
    """Binary focal loss of Lin et al. with a Python-float focusing exponent."""
    p = 1.0 / (1.0 + np.exp(-logits))
    p_t = targets * p + (1.0 - targets) * (1.0 - p)
    alpha_t = targets * alpha + (1.0 - targets) * (1.0 - alpha)
    loss = -alpha_t * (1.0 - p_t) ** gamma * np.log(p_t)
    return loss.mean()


def binary_cross_entropy_logits(w, x, y):
    """Logistic regression loss in the stable ``logaddexp`` form with L2 decay."""
    z = x.dot(w)
    nll = np.mean(np.logaddexp(0.0, z) - y * z)
    return nll + 1e-3 * w.dot(w)


def logistic_regression(w, b, X, y):
    """Logistic regression negative log-likelihood through an explicit sigmoid."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    ll = y * np.log(p) + (1.0 - y) * np.log1p(-p)
    return -np.mean(ll)


def ppo_clip_objective(ratio, advantage, eps):
    """PPO's clipped surrogate objective (negated, to be minimised)."""
    unclipped = ratio * advantage
    clipped = np.clip(ratio, 1.0 - eps, 1.0 + eps) * advantage
    return -np.mean(np.minimum(unclipped, clipped))


def pseudo_huber(pred, target, delta):
    """Pseudo-Huber (smooth L1) loss."""
    scaled = (pred - target) / delta
    return delta**2 * np.sum(np.sqrt(1.0 + np.square(scaled)) - 1.0)


def kl_divergence_gaussians(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, 1)) summed over latents, as in a VAE."""
    kl = -0.5 * (1.0 + log_var - np.square(mu) - np.exp(log_var))
    total = kl.sum(axis=1)
    total *= 1.0 / mu.shape[0]
    return np.sum(total)


# --------------------------------------------------------------------------- normalisation


def layer_norm(x, gamma, beta, eps):
    """Layer normalisation over the last axis, read out through ``sin``."""
    mu = x.mean(axis=-1, keepdims=True)
    centred = x - mu
    var = (centred**2).mean(axis=-1, keepdims=True)
    xhat = centred / np.sqrt(var + eps)
    y = gamma * xhat + beta
    return np.sum(np.sin(y))


def batch_norm(x, gamma, beta):
    """Batch normalisation over axis 0 with explicit ``None``/``np.newaxis`` broadcasting."""
    mu = x.mean(axis=0)
    xc = x - mu[None, :]
    var = (xc**2).mean(axis=0)
    xhat = xc / np.sqrt(var + 1e-5)[np.newaxis, :]
    out = gamma * xhat + beta
    return np.mean(np.tanh(out) ** 2)


def rms_norm(x, weight, eps):
    """RMS normalisation; the readout pairs the first and last features."""
    ms = np.mean(np.square(x), axis=-1, keepdims=True)
    y = x / np.sqrt(ms + eps) * weight
    return np.sum(y[..., 0] * y[..., -1])


def zscore_correlation(x):
    """Pearson correlation of the first two columns through z-scores."""
    mu = x.mean(axis=0, keepdims=True)
    sd = np.std(x, axis=0, keepdims=True)
    z = (x - mu) / sd
    return np.sum(z[:, 0] * z[:, 1]) / x.shape[0]


def cosine_similarity_loss(a, b):
    """One minus the mean cosine similarity of L2-normalised rows."""
    an = a / np.sqrt(np.sum(a * a, axis=1, keepdims=True))
    bn = b / np.sqrt(np.sum(b * b, axis=1, keepdims=True))
    cos = np.sum(an * bn, axis=1)
    return np.mean(1.0 - cos)


def group_norm(x, n_groups):
    """Group normalisation of a (batch, channels) array, via reshape."""
    n, c = x.shape
    g = x.reshape(n, n_groups, c // n_groups)
    mu = g.mean(axis=-1, keepdims=True)
    var = np.var(g, axis=-1, keepdims=True)
    y = ((g - mu) / np.sqrt(var + 1e-5)).reshape(n, c)
    return np.sum(y * np.cos(x))


# --------------------------------------------------------------------------- physics


def total_energy(q, v, mass, g):
    """Kinetic plus gravitational potential energy of particles; height is ``q[..., 2]``."""
    ke = 0.5 * mass * np.sum(v * v, axis=-1)
    pe = mass * g * q[..., 2]
    return np.sum(ke + pe)


def spring_chain_energy(q, k, rest):
    """Elastic energy of a chain of springs between consecutive points."""
    d = q[1:] - q[:-1]
    length = np.sqrt(np.sum(d**2, axis=1))
    return 0.5 * k * np.sum((length - rest) ** 2)


def gravitational_potential(r1, r2, m1, m2):
    """Newtonian potential between two bodies (G = 1); ``dx @ dx`` is a 1-D matmul."""
    G = 1.0
    dx = r2 - r1
    dist = np.sqrt(dx @ dx)
    return -G * m1 * m2 / dist


def projectile_range(v0, angle, g):
    """Range of a projectile on flat ground, from Python floats through ``math``."""
    vx = v0 * math.cos(angle)
    vy = v0 * math.sin(angle)
    t_flight = 2.0 * vy / g
    return vx * t_flight


def lennard_jones_pair(r1, r2, epsilon, sigma):
    """Lennard-Jones 12-6 energy of one pair of atoms."""
    d = r1 - r2
    r_sq = np.sum(d**2)
    sr6 = (sigma**2 / r_sq) ** 3
    return 4.0 * epsilon * (sr6**2 - sr6)


def ideal_gas_pressure(n, T, V):
    """Mean ideal-gas pressure ``P = nRT/V`` over a set of vessels."""
    R = 8.314
    pressure = n * R * T / V
    return pressure.mean()


def isothermal_work(n, T, V1, V2):
    """Work done by an ideal gas expanding isothermally, all Python floats."""
    R = 8.314
    return n * R * T * math.log(V2 / V1)


def double_pendulum_lagrangian(th1, th2, w1, w2, g):
    """Lagrangian of a unit-mass, unit-length double pendulum, on Python floats."""
    T = w1**2 + 0.5 * w2**2 + w1 * w2 * math.cos(th1 - th2)
    V = -2.0 * g * math.cos(th1) - g * math.cos(th2)
    return T - V


def pendulum_energy(theta, omega, length, g):
    """Energy of a set of simple pendulums."""
    ke = 0.5 * length**2 * omega**2
    pe = g * length * (1.0 - np.cos(theta))
    return np.sum(ke + pe)


def harmonic_action(q, dt, m, k):
    """Discrete action of a harmonic oscillator path sampled every ``dt``."""
    v = (q[1:] - q[:-1]) / dt
    kinetic = 0.5 * m * v**2
    potential = 0.25 * k * (q[1:] ** 2 + q[:-1] ** 2)
    return dt * np.sum(kinetic - potential)


def orbit_energy(pos, vel, mu):
    """Specific orbital energy of 2-D orbits, with ``np.hypot`` on coordinates."""
    r = np.hypot(pos[..., 0], pos[..., 1])
    v2 = np.sum(vel**2, axis=-1)
    return np.sum(0.5 * v2 - mu / r)


def coulomb_energy(pos, charge):
    """Pairwise Coulomb energy; ``np.newaxis`` builds all pair differences."""
    n = pos.shape[0]
    diff = pos[:, np.newaxis, :] - pos[np.newaxis, :, :]
    eye = np.eye(n, dtype=pos.dtype)
    r = np.sqrt(np.sum(diff**2, axis=-1) + eye)
    e = charge[:, None] * charge[None, :] / r * (1.0 - eye)
    return 0.5 * e.sum()


def periodic_pair_energy(pos, box):
    """Harmonic bonds under periodic boundaries (minimum image via ``%``)."""
    d = pos[1:] - pos[:-1]
    d = (d + 0.5 * box) % box - 0.5 * box
    return 0.5 * np.sum(d * d)


def wrapped_angle_energy(theta, k):
    """Torsion energy of angles wrapped into ``[-pi, pi)`` with ``%``."""
    wrapped = (theta + math.pi) % (2.0 * math.pi) - math.pi
    return 0.5 * k * np.sum(wrapped**2)


def relativistic_kinetic_energy(v, m):
    """Relativistic kinetic energy ``(gamma - 1) m`` in units with c = 1."""
    gamma = np.reciprocal(np.sqrt(1.0 - v**2))
    return np.sum(m * (gamma - 1.0))


def catenary_length(a, x):
    """Arc length of catenaries ``y = a cosh(x / a)`` from 0 to ``x``, plus sag."""
    length = a * np.sinh(x / a)
    sag = a * (np.cosh(x / a) - 1.0)
    return np.sum(length + 0.1 * sag)


def snell_refraction(theta_in, n1, n2):
    """Total refraction angle through Snell's law with ``arcsin``."""
    s = n1 / n2 * np.sin(theta_in)
    return np.sum(np.arcsin(s))


def vector_angles(u, v):
    """Sum of angles between paired vectors, via ``arccos`` of the cosine."""
    cos = np.sum(u * v, axis=-1) / np.sqrt(np.sum(u**2, -1) * np.sum(v**2, -1))
    return np.sum(np.arccos(cos))


def polar_fit(r, theta, target):
    """Squared error of polar points against Cartesian targets; ``arctan2`` penalty."""
    xy = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)
    ang = np.arctan2(target[..., 1], target[..., 0])
    return np.sum((xy - target) ** 2) + 0.1 * np.sum((theta - ang) ** 2)


# --------------------------------------------------------------------------- networks


def mlp_separate(W1, b1, W2, b2, x, y):
    """Two-layer tanh MLP regression with each parameter a separate array."""
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    err = out - y
    return np.mean(err**2)


def mlp_dict(params, x, y):
    """Two-layer ReLU MLP with parameters in a dict ``params["W1"]``."""
    h = x @ params["W1"]
    h += params["b1"]
    h = np.maximum(h, 0.0)
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - y) ** 2)


def mlp_namedtuple(params, x, onehot):
    """Two-layer classifier with parameters in a NamedTuple, softmax cross-entropy."""
    h = np.tanh(x @ params.W1 + params.b1)
    logits = h @ params.W2 + params.b2
    logits = logits - logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.sum(np.exp(logits), axis=-1, keepdims=True))
    return -np.mean(np.sum(onehot * log_probs, axis=-1))


def mlp_list(params, x, y):
    """Two-layer MLP with parameters in a list, unpacked into names."""
    W1, b1, W2, b2 = params
    h = x @ W1 + b1
    h = h / (1.0 + np.exp(-h))
    out = h @ W2 + b2
    return np.sum((out - y) ** 2) / x.shape[0]


def mlp_tuple(layers, x, y):
    """Two-layer MLP whose layers are a tuple of ``(W, b)`` tuples."""
    first, second = layers
    W1, b1 = first
    W2, b2 = second
    h = np.tanh(x.dot(W1) + b1)
    residual = h.copy()
    h = np.tanh(h @ W2[:, :-1] + b2[:-1]) + residual
    return np.mean((h - y) ** 2)


def mlp_relu_mask(W1, b1, w2, x):
    """One hidden ReLU layer written as a mask: ``(h > 0).astype(...) * h``."""
    h = x @ W1 + b1
    mask = (h > 0).astype(h.dtype)
    a = h * mask
    out = a @ w2
    return np.sum(np.log1p(out**2))


def leaky_relu_net(W, x, slope):
    """Leaky ReLU via ``np.where`` and a residual copy; Python float slope."""
    h = x @ W
    act = np.where(h > 0, h, slope * h)
    skip = x.copy()
    return np.mean((act + skip) ** 2)


def linear_scan_residual(W, x):
    """A linear layer followed by a residual, with the pre-activation kept by copy."""
    z = x @ W.T
    pre = z.copy()
    z = np.tanh(z) + pre
    z *= 0.5
    return z.sum()


def attention_head(x, Wq, Wk, Wv):
    """Scaled dot-product self-attention for one head, sum of squared outputs."""
    q = x @ Wq
    k = x @ Wk
    v = x @ Wv
    d = q.shape[-1]
    scores = q @ k.T / math.sqrt(d)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = w @ v
    return np.sum(out**2)


def multi_head_attention(x, Wqkv, Wo, n_heads):
    """Multi-head self-attention with an integer head count (not differentiated)."""
    n, dm = x.shape
    dh = dm // n_heads
    qkv = x @ Wqkv
    q = qkv[:, :dm].reshape(n, n_heads, dh).transpose(1, 0, 2)
    k = qkv[:, dm : 2 * dm].reshape(n, n_heads, dh).transpose(1, 0, 2)
    v = qkv[:, 2 * dm :].reshape(n, n_heads, dh).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / np.sum(w, axis=-1, keepdims=True)
    o = (w @ v).transpose(1, 0, 2).reshape(n, dm)
    return np.mean((o @ Wo) ** 2)


def gated_linear_unit(x, W):
    """GLU: split the projection in two halves, gate one with a sigmoid of the other."""
    h = x @ W
    a, b = np.split(h, 2, axis=-1)
    gate = 1.0 / (1.0 + np.exp(-b))
    return np.sum(a * gate)


def conv1d_valid(x, w):
    """A width-3 valid 1-D convolution written with shifted slices."""
    y = w[0] * x[:-2] + w[1] * x[1:-1] + w[2] * x[2:]
    return np.sum(np.tanh(y) ** 2)


def avg_pool_2x2(img, w):
    """2x2 average pooling via reshape and mean over two axes, then a linear readout."""
    n, h, wd = img.shape
    pooled = img.reshape(n, h // 2, 2, wd // 2, 2).mean(axis=(2, 4))
    flat = pooled.reshape(n, -1)
    return np.sum(np.tanh(flat @ w))


def channels_first_readout(img, w):
    """Move channels first, swap spatial axes and read out with ``transpose``."""
    chw = np.moveaxis(img, -1, 0)
    cwh = np.swapaxes(chw, 1, 2)
    hwc = cwh.transpose(2, 1, 0)
    return np.sum(hwc * w) + np.sum(cwh[0] ** 2)


def patch_embedding(img, W, pos):
    """ViT-style patch embedding: 2x2 patches via reshape/transpose, plus positions."""
    n, h, w = img.shape
    p = img.reshape(n, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 2, 4)
    patches = p.reshape(n, (h // 2) * (w // 2), 4)
    tokens = patches @ W + pos[np.newaxis, :, :]
    return np.mean(np.tanh(tokens) ** 2)


def distillation_loss(W, x, teacher_logits, temperature):
    """Knowledge distillation: KL to a copied teacher's softened targets, float64 mean."""
    s = x.dot(W) / temperature
    t = teacher_logits.copy() / temperature
    s = s - s.max(axis=-1, keepdims=True)
    t = t - t.max(axis=-1, keepdims=True)
    p_t = np.exp(t) / np.exp(t).sum(axis=-1, keepdims=True)
    log_p_s = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    kl = (p_t * (np.log(p_t) - log_p_s)).sum(axis=-1)
    return kl.astype(np.float64).mean() * temperature**2


def einsum_bilinear(x, W, y):
    """Bilinear form per batch row via an explicit ``einsum``."""
    s = np.einsum("bi,ij,bj->b", x, W, y)
    return np.mean(np.tanh(s))


def gram_style_loss(F, G_target):
    """Style loss: squared error between a Gram matrix and a target."""
    G = F @ F.T / F.shape[1]
    return np.sum((G - G_target) ** 2)


def outer_product_fit(u, v, M):
    """Rank-one fit ``u v^T`` to a matrix, plus an ``inner`` regulariser."""
    approx = np.outer(u, v)
    return np.sum((approx - M) ** 2) + 0.01 * np.inner(u, u)


def concat_features(a, b, w):
    """Concatenate two feature blocks and score them linearly."""
    h = np.concatenate([a, b], axis=1)
    return np.sum(np.tanh(h @ w))


def tiled_bias_readout(x, b, w):
    """Add a bias tiled and broadcast over the batch; squeeze an expanded axis."""
    bias = np.tile(b, (x.shape[0], 1))
    scale = np.broadcast_to(w, x.shape)
    z = np.expand_dims((x + bias) * scale, 0)
    return np.sum(np.squeeze(z, 0) ** 2)


def repeat_upsample(x, w):
    """Nearest-neighbour upsampling via ``np.repeat`` and a flattened readout."""
    up = np.repeat(x, 2, axis=1)
    flat = np.ravel(up)
    return np.sum(np.sin(flat) * w)


# --------------------------------------------------------------------------- activations


def gelu(x):
    """GELU, tanh approximation, with ``math.sqrt(2 / pi)``."""
    c = math.sqrt(2.0 / math.pi)
    return np.sum(0.5 * x * (1.0 + np.tanh(c * (x + 0.044715 * x**3))))


def swish(x, beta):
    """Swish ``x * sigmoid(beta x)`` with a learnable Python-float beta."""
    return np.sum(x / (1.0 + np.exp(-beta * x)))


def softplus(x):
    """Numerically stable softplus ``max(x, 0) + log1p(exp(-|x|))``."""
    return np.sum(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))


def elu_mean(x, alpha):
    """Mean ELU activation with ``expm1`` for the negative branch."""
    return np.mean(np.where(x > 0.0, x, alpha * np.expm1(x)))


def mish_like(x):
    """``x * tanh(softplus(x))`` using ``logaddexp``."""
    return np.sum(x * np.tanh(np.logaddexp(0.0, x)))


# --------------------------------------------------------------------------- models and features


def polynomial_regression(coef, x, y):
    """Cubic polynomial features from integer powers, least squares against ``y``."""
    powers = np.arange(coef.shape[0])
    feats = x[:, np.newaxis] ** powers
    pred = feats @ coef
    return np.mean((pred - y) ** 2)


def gaussian_log_likelihood(x, mu, log_sigma):
    """Log-likelihood of samples under a diagonal Gaussian."""
    sigma = np.exp(log_sigma)
    z = (x - mu) / sigma
    return np.sum(-0.5 * z**2 - log_sigma - 0.5 * math.log(2.0 * math.pi))


def linear_regression_ridge(w, X, y, lam):
    """Ridge regression objective with ``dot`` methods and a Python-float penalty."""
    r = X.dot(w) - y
    return r.dot(r) / X.shape[0] + lam * w.dot(w)


def sawtooth_features(x, w, period):
    """Sawtooth phase features ``x % period`` with a differentiable period."""
    phase = x % period / period
    return np.sum(np.sin(2.0 * math.pi * phase) * w + phase * w)


def fractional_part_model(x, w):
    """Integer and fractional parts from ``//`` on arrays (the floor part is flat)."""
    whole = x // 1.0
    frac = x - whole
    return np.sum(np.cos(frac) * w + 0.1 * whole * w * x)


def split_halves_product(x):
    """Pair the first and second half of the rows; ``//`` and ``%`` on shape ints."""
    half = x.shape[0] // 2
    odd = x.shape[0] % 2
    a = x[:half]
    b = x[half + odd :]
    return np.sum(a * b) + odd * np.sum(x[half] ** 2)


def temperature_entropy(logits, temperature):
    """Entropy of a softmax at a learnable Python-float temperature."""
    z = logits / temperature
    z = z - z.max()
    p = np.exp(z)
    p = p / p.sum()
    return -(p * np.log(p)).sum()


def logsumexp_pool(x):
    """Column-wise log-sum-exp pooling with the max kept as a shift."""
    m = np.max(x, axis=0)
    return np.sum(m + np.log(np.sum(np.exp(x - m), axis=0)))


def geometric_mean_loss(p):
    """Negative log of the row products (a product likelihood), via ``np.prod``."""
    rows = np.prod(p, axis=1)
    return -np.sum(np.log(rows))


def rbf_kernel_sum(x, y, lengthscale):
    """Sum of an RBF kernel matrix between two point sets."""
    d2 = np.sum((x[:, None, :] - y[None, :, :]) ** 2, axis=-1)
    K = np.exp(-d2 / (2.0 * lengthscale**2))
    return K.sum()


def clipped_tan_score(x, w):
    """``tan`` of clipped, damped inputs; clipping saturates at +-1."""
    c = np.clip(x, -1.0, 1.0)
    t = np.tan(0.5 * c)
    return np.sum(t * w) + np.sum(np.arctan(x) ** 2)


def transposed_bilinear(A, B, x):
    """Quadratic form of ``A^T B`` in ``x``; ``transpose()`` and ``.T`` both used."""
    M = A.transpose() @ B
    q = x @ M @ x
    return q + 0.5 * np.sum(A.T * B.T)


def mixed_precision_sum(x, w):
    """Sum of products accumulated in float64 with ``astype``, as in mixed precision."""
    prod = (x * w).astype(np.float64)
    total = prod.sum()
    total -= 0.5 * np.sum(np.square(x).astype(np.float64))
    return total


def negated_margin_ranking(pos, neg, margin):
    """Smooth margin ranking loss ``softplus(margin - (pos - neg))``."""
    gap = -(pos - neg)
    return np.sum(np.logaddexp(0.0, gap + margin))
