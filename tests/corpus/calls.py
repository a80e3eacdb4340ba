"""Forward functions with subscripts, in-place writes, calls and closures: the corpus of issue 5.

Every public function here is ordinary numeric code as a user would write it, using the features
of DESIGN §5 that issue 5 adds:

* subscript reads: integer-array (fancy) indices that repeat entries, boolean masks, and mixes
  of integers and slices such as ``x[i, :, j]``;
* in-place writes into arrays the function creates: ``y[i] = v`` outside and inside loops,
  ``y[i] += v``, ``y[mask] *= c`` and ``h[idx] += w`` with a repeated ``idx``;
* calls to helpers in this module and in :mod:`tests.corpus.calls_helpers`, with keyword
  arguments and defaults; nested ``def``\\ s and lambdas called inside the function;
  ``functools.partial`` objects; bound methods of module-level objects; ``@custom_vjp``
  functions; and callees that call ``stop_gradient``.

``h[idx] += w`` with a repeated ``idx`` has numpy's own meaning: it is ``h[idx] = h[idx] + w``,
so of the repeated positions the last write wins (it is not ``np.add.at``). The functions below
compute exactly what numpy computes, and srcgrad must differentiate exactly that.

Helpers (names starting with ``_``, classes, partial objects and module-level instances) are not
corpus functions. Every ``stop_gradient`` in a helper stops a shift or a scale that the result
does not depend on (a numerical stabiliser), or a value outside the differentiated arguments, so
every gradient is still the exact derivative that central differences measure.

Every corpus function returns a scalar and is smooth at the sample points chosen in
:mod:`tests.corpus.calls_cases` (masks and floors decided with a margin). Which features each
function exercises is computed from this file's syntax tree by
``tests/corpus/calls_syntax.py``. Integer index arrays and boolean masks that arrive as
arguments are annotated ``IntArray`` and ``BoolArray`` so that the syntax tree says what they are.
"""

import functools
import math

import numpy as np

from srcgrad import custom_vjp, stop_gradient

from . import calls_helpers as H
from .calls_helpers import (
    PRIOR,
    TEMPERED,
    gentle,
    logcosh,
    rbf,
    safe_cosine,
    softplus,
    tanh2,
)

IntArray = np.ndarray  # an integer index array (its entries may repeat)
BoolArray = np.ndarray  # a boolean mask


# =========================================================================== helpers


def _sigmoid(z):
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _dense(x, W, b, act="tanh"):
    z = x @ W + b
    if act == "tanh":
        return np.tanh(z)
    if act == "softplus":
        return softplus(z)
    return z


def _mse(pred, target, weight=1.0):
    d = pred - target
    return weight * np.mean(d * d)


def _l2(A, B, lam=1e-3):
    return lam * (np.sum(A * A) + np.sum(B * B))


def _spring_force(x, k=1.0, rest=0.0):
    return -k * (x - rest)


def _residual(h, update, alpha=0.5):
    return h + alpha * np.tanh(update)


def _split4(z):
    n = z.shape[0] // 4
    return z[:n], z[n : 2 * n], z[2 * n : 3 * n], z[3 * n :]


def _stable_lse(x):
    """log-sum-exp of all entries; the max shift is stopped (the result does not depend on it)."""
    m = stop_gradient(np.max(x))
    return m + np.log(np.sum(np.exp(x - m)))


def _softmin3(a, b, c, gamma=1.0):
    """Smooth minimum of three values; the stopped shift cancels out of the result."""
    m = stop_gradient(np.minimum(np.minimum(a, b), c))
    s = np.exp(-(a - m) / gamma) + np.exp(-(b - m) / gamma) + np.exp(-(c - m) / gamma)
    return m - gamma * np.log(s)


def _geo_mean(x):
    """Geometric mean of positive entries, rescaled by their (stopped) maximum for range."""
    s = stop_gradient(np.max(x))
    return s * np.exp(np.mean(np.log(x / s)))


def _td_target(W_target, s_next, r, discount=0.9):
    """The bootstrapped Q-learning target; the target network's output is a constant."""
    q_next = stop_gradient(s_next @ W_target)
    return r + discount * np.max(q_next, axis=1)


def _kalman_step(m, P, z, q, r=1.0):
    P_pred = P + q
    S = P_pred + r
    innov = z - m
    gain = P_pred / S
    return m + gain * innov, (1.0 - gain) * P_pred, S, innov


@custom_vjp
def _logsumexp(x):
    """Stable log-sum-exp of a vector; its rule is the softmax."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@_logsumexp.defvjp
def _logsumexp_vjp(g, ans, x):
    return g * np.exp(x - ans)


@custom_vjp
def _logsumexp_rows(Z):
    """Row-wise stable log-sum-exp of a matrix; its rule is the row softmax."""
    m = np.max(Z, axis=1, keepdims=True)
    return m[:, 0] + np.log(np.sum(np.exp(Z - m), axis=1))


@_logsumexp_rows.defvjp
def _logsumexp_rows_vjp(g, ans, Z):
    return g[:, None] * np.exp(Z - ans[:, None])


@custom_vjp
def _logsumexp_cols(Z):
    """Column-wise stable log-sum-exp of a matrix; its rule is the column softmax."""
    m = np.max(Z, axis=0, keepdims=True)
    return m[0] + np.log(np.sum(np.exp(Z - m), axis=0))


@_logsumexp_cols.defvjp
def _logsumexp_cols_vjp(g, ans, Z):
    return g[None, :] * np.exp(Z - ans[None, :])


@custom_vjp
def _safe_norm(x):
    """Euclidean norm; the rule ``x / |x|`` is written out."""
    return np.sqrt(np.sum(x * x))


@_safe_norm.defvjp
def _safe_norm_vjp(g, ans, x):
    return g * x / ans


@custom_vjp
def _softplus_cv(x, beta):
    """Softplus with a temperature; the rule returns one cotangent per parameter."""
    return np.logaddexp(0.0, beta * x) / beta


@_softplus_cv.defvjp
def _softplus_cv_vjp(g, ans, x, beta):
    s = 0.5 * (np.tanh(0.5 * beta * x) + 1.0)
    return g * s, np.sum(g * (x * s - ans) / beta)


class _GaussianLik:
    """A Gaussian likelihood with a fixed noise level."""

    def __init__(self, noise):
        self.noise = noise

    def nll(self, pred, y):
        r = (pred - y) / self.noise
        return 0.5 * np.sum(r * r)


class _Pendulum:
    """A damped pendulum; ``rhs`` is its vector field."""

    def __init__(self, g_over_l, damping):
        self.g_over_l = g_over_l
        self.damping = damping

    def rhs(self, theta, omega):
        return omega, -self.g_over_l * np.sin(theta) - self.damping * omega


class _Standardizer:
    """Fixed feature scaling: subtract a centre, divide by a spread."""

    def __init__(self, center, spread):
        self.center = center
        self.spread = spread

    def transform(self, X, clip=3.0):
        return clip * np.tanh((X - self.center) / (self.spread * clip))


class _StudentT:
    """A Student-t residual model; ``nll`` calls another method of the same object."""

    def __init__(self, nu, scale):
        self.nu = nu
        self.scale = scale

    def _z2(self, r):
        z = r / self.scale
        return z * z

    def nll(self, r, weight=1.0):
        return weight * 0.5 * (self.nu + 1.0) * np.sum(np.log1p(self._z2(r) / self.nu))


_LIK = _GaussianLik(0.5)
_PENDULUM = _Pendulum(9.81, 0.1)
_STUDENT = _StudentT(4.0, 0.8)
_SCALER = _Standardizer(0.5, 2.0)

_wide_rbf = functools.partial(rbf, scale=2.0)
_soft_relu = functools.partial(softplus, beta=4.0)


# =========================================================================== physics


def particle_trajectory(x0, v0, k, dt, n_steps):
    """Particles on springs by semi-implicit Euler; positions go into a preallocated array."""
    n, d = x0.shape
    pos = np.zeros((n_steps + 1, n, d))
    pos[0] = x0
    x, v = x0, v0
    for t in range(n_steps):
        v = v + dt * _spring_force(x, k=k)
        x = x + dt * v
        pos[t + 1] = x
    mid = pos[n_steps // 2, :, 0]
    return np.sum(pos[-1] ** 2) + np.sum(mid * pos[n_steps, :, 1])


def chain_energy_trace(q0, p0, k, dt):
    """A chain of unit masses (forces from an imported helper); energy recorded per step."""
    n_steps = 12
    energy = np.zeros(n_steps)
    q, p = q0, p0
    for t in range(n_steps):
        p = p + dt * H.chain_forces(q, k)
        q = q + dt * p
        stretch = q[1:] - q[:-1] - 1.0
        energy[t] = 0.5 * np.sum(p * p) + 0.5 * k * np.sum(stretch * stretch)
    return np.mean(energy) + 0.1 * np.sum(energy[[0, 5, 5, 11]])


def pair_potential(pos, mass, pair_i: IntArray, pair_j: IntArray):
    """Softened gravity over listed pairs; a per-particle potential by scatter-add."""
    d = pos[pair_i] - pos[pair_j]
    r = np.sqrt(np.sum(d * d, axis=1) + 0.1)
    pair = mass[pair_i] * mass[pair_j] / r
    phi = np.zeros(mass.shape[0])
    phi[pair_i] += pair
    phi[pair_j] += pair
    return -np.sum(phi * mass) + 0.5 * np.sum(pos * pos)


def wall_bounce(x, v, wall, restitution):
    """Particles past a wall have their velocity reversed and damped (a masked ``*=``)."""
    x1 = x + 0.1 * v
    vel = v.copy()
    out = x1 > wall
    vel[out] *= -restitution
    x2 = np.where(out, 2.0 * wall - x1, x1) + 0.1 * vel
    return np.sum(x2 * x2) + np.sum(vel * vel)


def spring_network_energy(pos, k):
    """Forces of a complete spring network accumulated pair by pair with ``F[i] += f``."""
    n = pos.shape[0]
    F = np.zeros_like(pos)
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[j] - pos[i]
            r = np.sqrt(np.sum(d * d))
            f = k * (r - 1.0) * d / r
            F[i] += f
            F[j] -= f
    moved = pos + 0.05 * F
    return np.sum(moved**2) + _stable_lse(np.sum(F * F, axis=1))


def pendulum_rk4(theta0, omega0, dt):
    """RK4 for a batch of pendulums through a bound method; the trajectory is written per step."""
    n_steps = 10
    traj = np.zeros((n_steps + 1, 2, theta0.shape[0]))
    traj[0, 0] = theta0
    traj[0, 1] = omega0
    th, om = theta0, omega0
    for t in range(n_steps):
        k1t, k1o = _PENDULUM.rhs(th, om)
        k2t, k2o = _PENDULUM.rhs(th + 0.5 * dt * k1t, om + 0.5 * dt * k1o)
        k3t, k3o = _PENDULUM.rhs(th + 0.5 * dt * k2t, om + 0.5 * dt * k2o)
        k4t, k4o = _PENDULUM.rhs(th + dt * k3t, om + dt * k3o)
        th = th + dt / 6.0 * (k1t + 2.0 * k2t + 2.0 * k3t + k4t)
        om = om + dt / 6.0 * (k1o + 2.0 * k2o + 2.0 * k3o + k4o)
        traj[t + 1, 0] = th
        traj[t + 1, 1] = om
    return np.sum(traj[:, 0] ** 2) + np.sum(np.cos(traj[n_steps, 1, :]))


def logistic_growth_rk4(y0, rate, capacity):
    """RK4 with the vector field and the step as nested defs capturing the parameters."""

    def field(y):
        return rate * y * (1.0 - y / capacity)

    def rk4_step(y, dt=0.1):
        k1 = field(y)
        k2 = field(y + 0.5 * dt * k1)
        k3 = field(y + 0.5 * dt * k2)
        k4 = field(y + dt * k3)
        return y + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    n_steps = 8
    ys = np.zeros((n_steps + 1, y0.shape[0]))
    ys[0] = y0
    y = y0
    for t in range(n_steps):
        y = rk4_step(y)
        ys[t + 1] = y
    return np.sum(ys[-1]) + np.mean(ys)


def survival_curve(log_rates, dt):
    """Survival from a piecewise-constant hazard; the imported prefix sum writes in a loop."""
    hazard = np.exp(log_rates) * dt
    cumulative = H.prefix_sum(hazard)
    surv = np.exp(-cumulative)
    return np.sum(surv) + surv[-1]


# =========================================================================== dynamic programming


def soft_max_subarray(a, tau):
    """Kadane's recurrence with a soft maximum: a DP table filled in a loop."""
    n = a.shape[0]
    best = np.zeros(n)
    best[0] = a[0]
    for i in range(1, n):
        best[i] = tau * np.logaddexp((best[i - 1] + a[i]) / tau, a[i] / tau)
    return tau * _stable_lse(best / tau)


def soft_dtw(x, y, gamma):
    """Soft dynamic time warping: an (n+1) x (m+1) table filled by two nested loops."""
    D = H.sq_dists(x, y)
    n, m = D.shape
    R = np.full((n + 1, m + 1), 1e10)
    R[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            best = _softmin3(R[i - 1, j - 1], R[i - 1, j], R[i, j - 1], gamma=gamma)
            R[i, j] = D[i - 1, j - 1] + best
    return R[n, m]


def hmm_log_likelihood(log_emit, trans_logits, init_logits):
    """The HMM forward algorithm in log space; one row of alpha written per step."""
    T, K = log_emit.shape
    log_trans = H.stable_log_softmax(trans_logits)
    alpha = np.zeros((T, K))
    alpha[0] = H.stable_log_softmax(init_logits) + log_emit[0]
    for t in range(1, T):
        alpha[t] = log_emit[t] + _logsumexp_cols(alpha[t - 1][:, None] + log_trans)
    return _logsumexp(alpha[T - 1])


def soft_value_iteration(rewards, P, discount, tau):
    """Soft Bellman backups, one row of a value table per sweep; a lambda is the soft max."""
    n_sweeps = 6
    S = rewards.shape[0]
    soft_max = lambda q: tau * _logsumexp_rows(q / tau)
    V = np.zeros((n_sweeps + 1, S))
    for k in range(n_sweeps):
        Q = rewards + discount * np.einsum("ast,t->sa", P, V[k])
        V[k + 1] = soft_max(Q)
    return np.mean(V[n_sweeps])


def kalman_nll(zs, q, r):
    """A 1-D Kalman filter; means and variances are written per step by a tuple-valued helper."""
    T = zs.shape[0]
    means = np.zeros(T)
    variances = np.zeros(T)
    m, P = 0.0, 1.0
    nll = 0.0
    for t in range(T):
        m, P, S, innov = _kalman_step(m, P, zs[t], q, r=r)
        means[t] = m
        variances[t] = P
        nll = nll + 0.5 * (np.log(S) + innov * innov / S)
    return nll + 0.1 * np.sum(means**2) + np.sum(variances)


def polynomial_fit(x, y, w):
    """A Vandermonde matrix built column by column in a loop, then a least-squares residual."""
    deg = w.shape[0] - 1
    Phi = np.ones((x.shape[0], deg + 1))
    for k in range(1, deg + 1):
        Phi[:, k] = Phi[:, k - 1] * x
    return _mse(Phi @ w, y)


def lstm_sequence(Wx, Wh, b, xs):
    """An LSTM unrolled over a sequence; gates by a lambda, hidden states stored per step."""
    T = xs.shape[0]
    n = Wh.shape[0]
    hs = np.zeros((T, n))
    h = np.zeros(n)
    c = np.zeros(n)
    gate = lambda z: _sigmoid(z)
    for t in range(T):
        z = xs[t] @ Wx + h @ Wh + b
        i, f, o, g = _split4(z)
        c = gate(f) * c + gate(i) * np.tanh(g)
        h = gate(o) * np.tanh(c)
        hs[t] = h
    return np.sum(hs[:, 0]) + np.sum(h * h)


def blur_energy(img, w_center):
    """A 3-point vertical blur written into slices of a fresh array; borders copied over."""
    out = np.zeros_like(img)
    out[1:-1, :] = w_center * img[1:-1, :]
    out[1:-1, :] += 0.5 * (1.0 - w_center) * (img[:-2, :] + img[2:, :])
    out[0, :] = img[0, :]
    out[-1, :] = img[-1, :]
    return np.sum(out**2) + np.sum(out[:, 1] * img[:, 0])


def laplacian_smoothness(x, w, src: IntArray, dst: IntArray):
    """A weighted graph Laplacian assembled entry by entry with ``+=`` over the edges."""
    n = x.shape[0]
    L = np.zeros((n, n))
    for e in range(src.shape[0]):
        i = src[e]
        j = dst[e]
        L[i, i] += w[e]
        L[j, j] += w[e]
        L[i, j] -= w[e]
        L[j, i] -= w[e]
    return x @ L @ x + 0.1 * np.sum(x[src] * x[dst])


def running_extremes(x, tau):
    """Soft running maximum and minimum of a series written into a two-row table."""
    n = x.shape[0]
    table = np.zeros((2, n))
    table[0, 0] = x[0]
    table[1, 0] = x[0]
    for t in range(1, n):
        table[0, t] = tau * np.logaddexp(table[0, t - 1] / tau, x[t] / tau)
        table[1, t] = -tau * np.logaddexp(-table[1, t - 1] / tau, -x[t] / tau)
    table[:, 0] += 0.5
    spread = table[0] - table[1]
    return np.sum(spread * spread) + table[0, n - 1]


# =========================================================================== scatter and gather


def interp_histogram(x, w, lo, width, n_bins):
    """Linear-interpolation histogram: each sample splits its weight between two bins."""
    u = (x - lo) / width
    left = np.floor(u).astype(np.int64)
    frac = u - left
    h = np.zeros(n_bins + 1)
    h[left] += w * (1.0 - frac)
    h[left + 1] += w * frac
    return np.sum(h * h) + np.sum(h[left] * frac)


def segment_mean_pool(feats, seg: IntArray, W):
    """A graph readout: features added per segment by scatter-add, then a dense layer."""
    n_seg = 3
    sums = np.zeros((n_seg, feats.shape[1]))
    sums[seg] += feats
    counts = np.ones(n_seg)
    counts[seg] += 1.0
    pooled = sums / counts[:, None]
    return np.sum(_dense(pooled, W, 0.1, act="softplus"))


def gnn_message_passing(feats, W, src: IntArray, dst: IntArray):
    """Two rounds of message passing: gather by source (repeats), scatter-add by destination."""
    h = feats
    for _ in range(2):
        msg = tanh2(h[src] @ W)
        agg = np.zeros_like(h)
        agg[dst] += msg
        h = _residual(h, agg, alpha=0.3)
    return np.sum(h * h)


def embedding_bag_loss(E, tokens: IntArray, bags: IntArray, w):
    """Embedding lookups with repeated tokens, pooled into bags by scatter-add."""
    vecs = E[tokens]
    pooled = np.zeros((3, E.shape[1]))
    pooled[bags] += vecs
    scores = pooled @ w
    return np.sum(H.softplus(scores, beta=2.0)) + 0.01 * np.sum(E[tokens] ** 2)


def embedding_update_loss(E, tokens: IntArray, target, lr):
    """One SGD-like step on the rows a batch touches, then a loss on the updated table.

    ``rows = table[tokens]`` is a copy (integer-array indexing copies), so the later write into
    ``table`` leaves it unchanged.
    """
    table = E.copy()
    rows = table[tokens]
    table[tokens] += lr * (target - rows)
    return np.sum(table**2) + np.sum(rows * target)


def class_balanced_loss(scores, labels: IntArray):
    """Per-class totals of exp-scores by scatter-add, read back by label."""
    n_classes = 4
    p = np.exp(scores)
    totals = np.ones(n_classes)
    totals[labels] += p
    return -np.sum(np.log(p / totals[labels]))


def sparse_quadratic(vals, rows: IntArray, cols: IntArray, x):
    """``x^T A x`` for a COO matrix: gather ``x[cols]``, scatter into rows with ``+=``."""
    Ax = np.zeros(x.shape[0])
    Ax[rows] += vals * x[cols]
    return np.sum(x * Ax) + 0.5 * np.sum(vals**2)


def segment_softmax(scores, seg: IntArray, values):
    """Softmax-like weights within segments: denominators by scatter-add, gathered back."""
    e = np.exp(scores)
    den = np.ones(3)
    den[seg] += e
    alpha = e / den[seg]
    return np.sum(alpha * values)


def bilinear_sample(img, px, py):
    """Bilinear interpolation at points that share cells: fancy reads with repeated pairs."""
    x0 = np.floor(px).astype(np.int64)
    y0 = np.floor(py).astype(np.int64)
    fx = px - x0
    fy = py - y0
    top = img[y0, x0] * (1.0 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1.0 - fx) + img[y0 + 1, x0 + 1] * fx
    vals = top * (1.0 - fy) + bottom * fy
    return np.sum(vals**2) + np.sum(img[y0[0]] ** 2)


def bucketed_lookup(table, x):
    """Look up a learned per-bucket scale at bucketed positions (``np.digitize``)."""
    edges = np.array([-1.0, 0.0, 1.0])
    bucket = np.digitize(x, edges)
    scale = table[bucket]
    return np.sum(np.tanh(scale * x) ** 2) + np.sum(table[[0, 0, 3]])


# =========================================================================== masks


def masked_mse(pred, target, valid: BoolArray):
    """Mean squared error over the valid entries, plus a small penalty on the others."""
    fit = _mse(pred[valid], target[valid], weight=2.0)
    return fit + 0.1 * np.mean(pred[~valid] ** 2)


def leaky_energy(x, slope):
    """A leaky ReLU written as a masked ``*=`` on a fresh array."""
    y = x * 1.5
    neg = y < 0.0
    y[neg] *= slope
    return np.sum(y * y) + np.sum(np.tanh(y))


def trimmed_mean_square(x, lo, hi):
    """Mean square of the entries inside ``(lo, hi)`` plus the sum of those above ``hi``."""
    keep = (x > lo) & (x < hi)
    inner = x[keep]
    return np.mean(inner * inner) + np.sum(x[x >= hi])


def robust_reweight(r, scale):
    """Residuals beyond two scales are down-weighted in place, then a custom-VJP log-cosh."""
    z = r / scale
    big = np.abs(z) > 2.0
    z[big] *= 0.25
    return np.sum(logcosh(z))


def row_norm_clip(G, max_norm):
    """Rows whose norm exceeds ``max_norm`` are rescaled onto the ball (masked ``*=``)."""
    norms = np.sqrt(np.sum(G * G, axis=1))
    over = norms > max_norm
    clipped = G.copy()
    clipped[over] *= (max_norm / norms[over])[:, None]
    return np.sum(clipped * np.tanh(clipped))


def masked_attention(logits, keep: BoolArray, values):
    """Attention with masked-out logits set to a large negative value before a softmax."""
    z = logits.copy()
    z[~keep] = -30.0
    attn = H.stable_softmax(z, axis=1)
    return np.sum(attn @ values) + 0.01 * np.sum(logits[keep] ** 2)


def dropout_rescale(x, W, keep: BoolArray, rate):
    """Inverted dropout with a fixed mask: dropped units zeroed, kept ones scaled up."""
    h = np.tanh(x @ W)
    h[~keep] *= 0.0
    h[keep] *= 1.0 / (1.0 - rate)
    return np.sum(h * h) + np.sum(h[keep])


# =========================================================================== mixed indices


def slice_contrast(X, i, j):
    """Contrast between the fibre ``X[i, :, j]`` and its neighbours."""
    fibre = X[i, :, j]
    left = X[i - 1, :, j]
    right = X[i, :, j + 1]
    return np.sum((fibre - 0.5 * (left + right)) ** 2) + np.sum(X[0, 1, :] ** 2)


def attention_head(Q, K, V, head):
    """One head of multi-head attention: ``Q[:, head, :]`` slices and an imported softmax."""
    q = Q[:, head, :]
    k = K[:, head, :]
    v = V[:, head, :]
    scores = q @ k.T / math.sqrt(q.shape[1])
    attn = H.stable_softmax(scores, axis=-1)
    return np.sum((attn @ v) ** 2)


def diagonal_fibres(T, u):
    """Sum over k of ``tanh(T[k, :, k]) @ u``: a mixed index inside a loop."""
    acc = 0.0
    for k in range(T.shape[0]):
        acc = acc + np.tanh(T[k, :, k]) @ u
    return acc


# =========================================================================== models split into calls


def mlp_regression(W1, b1, W2, b2, X, y):
    """A two-layer model split into helpers, with a keyword activation and defaults."""
    h = _dense(X, W1, b1)
    out = _dense(h, W2, b2, act="identity")
    return _mse(out[:, 0], y) + _l2(W1, W2, lam=1e-2)


def kernel_smoother(X, y, Xq, ell):
    """Nadaraya-Watson regression with an imported RBF kernel and a partial of it."""
    Kq = rbf(H.sq_dists(Xq, X), scale=ell)
    pred = Kq @ y / np.sum(Kq, axis=1)
    return np.sum(pred**2) + np.sum(_wide_rbf(H.sq_dists(Xq, Xq)))


def polynomial_energy(c, x):
    """Horner evaluation of a polynomial and a central-difference slope, by nested defs."""

    def horner(t):
        acc = np.zeros_like(t)
        for coef in c:
            acc = acc * t + coef
        return acc

    def slope(t, h=1e-3):
        return (horner(t + h) - horner(t - h)) / (2.0 * h)

    return np.sum(horner(x) ** 2) + 0.1 * np.sum(slope(x) ** 2)


def gaussian_mixture_nll(x, means, log_scales, logits):
    """A 1-D Gaussian mixture: a nested log-density, a custom-VJP row log-sum-exp."""

    def log_normal(v, mu, log_s):
        z = (v - mu) / np.exp(log_s)
        return -0.5 * z * z - log_s - 0.5 * math.log(2.0 * math.pi)

    log_w = H.stable_log_softmax(logits)
    comp = log_normal(x[:, None], means[None, :], log_scales[None, :]) + log_w[None, :]
    return -np.sum(_logsumexp_rows(comp))


def ridge_cross_terms(X, y, w, lam):
    """A ridge objective whose residual and penalty are nested defs with defaults."""

    def residual(v, bias=0.0):
        return X @ v + bias - y

    def penalty(v, power=2.0):
        return lam * np.sum(np.abs(v) ** power)

    r = residual(w)
    return 0.5 * np.sum(r * r) + penalty(w) + 0.1 * penalty(w, power=4.0)


def swish_features(x, W):
    """Swish activations and an energy, both lambdas (one with a default)."""
    swish = lambda z: z * _sigmoid(z)
    energy = lambda v, scale=1.0: scale * np.sum(v * v)
    h = swish(x @ W)
    return energy(h) + energy(swish(h), scale=0.5)


def lambda_smoothing(x, alpha):
    """Exponential smoothing with the update rule as a lambda, applied along the series."""
    update = lambda s, v: alpha * v + (1.0 - alpha) * s
    s = x[0]
    total = 0.0
    for t in range(1, x.shape[0]):
        s = update(s, x[t])
        total = total + (x[t] - s) ** 2
    return total


def partial_smoothing(x, y, alpha):
    """Activations from functools.partial objects, two imported and one from this module."""
    a = tanh2(x, b=alpha)
    c = _soft_relu(y)
    return np.sum(a * c) + np.sum(gentle(x - y))


def smooth_hinge_svm(w, X, y):
    """A linear SVM with a softplus hinge (a partial object) and an L2 penalty."""
    margins = 1.0 - y * (X @ w)
    return np.mean(_soft_relu(margins)) + _l2(w, w, lam=0.05)


def map_objective(theta, X, y):
    """A MAP objective: bound methods of a likelihood here and of an imported prior."""
    pred = X @ theta
    return _LIK.nll(pred, y) - PRIOR.logpdf(theta)


def robust_regression(w, X, y):
    """Student-t regression: the model object's method calls another of its methods."""
    r = X @ w - y
    return _STUDENT.nll(r) + _STUDENT.nll(w, weight=0.1) - PRIOR.logpdf(w)


def scaled_regression(w, X, y):
    """Soft-clipped standardised features (a bound method with a default), Gaussian fit."""
    Xs = _SCALER.transform(X)
    return _LIK.nll(Xs @ w, y) + _LIK.nll(_SCALER.transform(w, clip=2.0), 0.0)


def distillation_loss(student_logits, teacher_logits):
    """Knowledge distillation: the teacher's tempered softmax comes from an imported object."""
    p = TEMPERED.probs(teacher_logits)
    log_q = H.stable_log_softmax(student_logits / 2.0)
    return -np.sum(p * log_q) + 0.01 * np.sum(TEMPERED.probs(student_logits, axis=0) ** 2)


# =========================================================================== custom rules


def softmax_cross_entropy(W, X, labels: IntArray):
    """Cross-entropy with a custom-VJP row log-sum-exp; label scores by fancy indexing."""
    Z = X @ W
    picked = Z[np.arange(Z.shape[0]), labels]
    return np.mean(_logsumexp_rows(Z) - picked)


def weight_norm_loss(V, g, x):
    """Weight normalisation ``w = g v / |v|`` with a custom-VJP norm."""
    w = g * V / _safe_norm(V)
    return np.sum(np.tanh(x @ w) ** 2)


def softplus_margin(w, X, y, beta):
    """Logistic loss with a temperature, through a two-argument custom-VJP softplus."""
    margins = y * (X @ w)
    return np.mean(_softplus_cv(-margins, beta))


def logcosh_regression(w, X, y):
    """Log-cosh regression with an imported custom-VJP log-cosh and an L2 helper."""
    r = X @ w - y
    return np.mean(logcosh(r)) + _l2(w, w, lam=0.01)


def lse_pooling(X, w):
    """Log-sum-exp pooling of scores with the custom rule (softmax) and keyword helpers."""
    scores = _dense(X, w, 0.0, act="identity")
    return _logsumexp(scores) + _logsumexp(-scores) + _mse(scores, 0.5, weight=0.1)


# =========================================================================== stop_gradient in callees


def td_loss(W, W_target, s, s_next, r):
    """Q-learning loss; the bootstrapped target goes through a callee that stops its gradient."""
    q = s @ W
    target = _td_target(W_target, s_next, r, discount=0.95)
    return np.mean((np.max(q, axis=1) - target) ** 2)


def cosine_alignment(A, B):
    """Squared cosine distance between paired rows, through an imported stable cosine."""
    total = 0.0
    for a, b in zip(A, B):
        total = total + (1.0 - safe_cosine(a, b)) ** 2
    return total


def geometric_mean_ratio(x, y):
    """Log-ratio of two geometric means computed with a stopped rescaling."""
    gx = _geo_mean(x)
    gy = _geo_mean(y)
    return np.log(gx) - np.log(gy) + 0.1 * gx * gy
