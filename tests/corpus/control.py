"""Forward functions with control flow and containers: the end-to-end corpus for issue 4.

Every function here is ordinary numeric code as a user would write it, using the features of
DESIGN §5: ``if``/``elif``/``else`` on data and on constants, ternaries, ``and``/``or``,
``not``, ``in`` on constants, ``for`` over ``range``/arrays/``enumerate``/``zip``, ``while``,
``break``, ``continue``, early ``return``, nested loops, ``for … else``/``while … else``,
containers built inside the function, comprehensions, the builtins numeric code uses, and
``print``/``assert``/``raise`` inside branches. There are no calls to other corpus functions,
no subscript assignment and no lambdas: those belong to other issues.

Every function returns a scalar (a Python float or a 0-d/size-1 numpy value) and is smooth at
the sample points chosen in :mod:`tests.corpus.control_cases` (inputs away from kinks and from
branch boundaries, so that ``x ± eps`` takes the same branches). Which features each function
exercises is computed from this file's syntax tree by ``tests/corpus/control_syntax.py``.
"""

import math

import numpy as np

# --------------------------------------------------------------------------- ODEs and physics


def euler_ode(y0, k, dt, n_steps, verbose):
    """Explicit Euler for dy/dt = -k y + sin(y) over a runtime number of steps."""
    y = y0
    t = 0.0
    for step in range(n_steps):
        dydt = -k * y + np.sin(y)
        y = y + dt * dydt
        t = t + dt
        if verbose and step == n_steps - 1:
            print("euler_ode: t =", t, "|y| =", np.sqrt(np.sum(y * y)))
    return np.sum(y**2) + t * k


def damped_spring(x0, v0, k, c):
    """A damped spring, semi-implicit Euler over 50 steps; energy sampled every 10 steps."""
    x, v = x0, v0
    dt = 0.02
    energies = []
    for step in range(50):
        a = -k * x - c * v
        v = v + dt * a
        x = x + dt * v
        if step % 10 == 9:
            energies.append(0.5 * v * v + 0.5 * k * x * x)
    return np.sum(sum(energies))


def midpoint_pendulum(theta0, omega0, g_over_l, n_steps):
    """Pendulums by the explicit midpoint rule; the state is a tuple, the loop a counted while."""
    dt = 0.05
    state = (theta0, omega0)
    t = 0
    while t < n_steps:
        theta, omega = state
        theta_mid = theta + 0.5 * dt * omega
        omega_mid = omega - 0.5 * dt * g_over_l * np.sin(theta)
        state = (theta + dt * omega_mid, omega - dt * g_over_l * np.sin(theta_mid))
        t += 1
    theta, omega = state
    return np.sum(0.5 * omega**2 + g_over_l * (1.0 - np.cos(theta)))


def leapfrog_orbit(q0, p0, mass):
    """Kick-drift-kick leapfrog in a central 1/r potential; energies kept in a dict."""
    dt = 0.01
    q, p = q0, p0
    for _ in range(30):
        r = np.sqrt(np.sum(q * q))
        p = p - 0.5 * dt * mass * q / r**3
        q = q + dt * p
        r = np.sqrt(np.sum(q * q))
        p = p - 0.5 * dt * mass * q / r**3
    energy = {"kinetic": 0.5 * np.sum(p * p), "potential": -mass / np.sqrt(np.sum(q * q))}
    return energy["kinetic"] + energy["potential"]


def pairwise_energy(pos, eps):
    """Soft Coulomb energy over particle pairs i < j, by two nested loops."""
    n = len(pos)
    energy = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            d = pos[i] - pos[j]
            energy = energy + 1.0 / np.sqrt(np.sum(d * d) + eps)
    return energy


def kepler_newton(M, e):
    """Eccentric anomaly from Kepler's equation E - e sin E = M by Newton with a while/else."""
    E = M if e < 0.8 else math.pi
    it = 0
    while it < 50:
        step = (E - e * math.sin(E) - M) / (1.0 - e * math.cos(E))
        E = E - step
        it += 1
        if abs(step) < 1e-14:
            break
    else:
        raise RuntimeError("kepler_newton did not converge")
    return E + 0.1 * E * E


def heat_equation(u0, alpha, n_steps):
    """Explicit finite differences for u_t = alpha u_xx with fixed ends."""
    if n_steps > 0:
        assert alpha < 0.5, "the explicit scheme is unstable for alpha >= 1/2"
    u = u0
    for _ in range(n_steps):
        interior = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = np.concatenate([u[:1], interior, u[-1:]])
    return np.sum(u * u)


def lotka_volterra(x0, y0, a, b):
    """Predator-prey by Euler on Python floats; a counted while and max() as a floor."""
    x, y = x0, y0
    dt = 0.01
    step = 0
    while step < 100:
        dx = a * x - b * x * y
        dy = b * x * y - 0.4 * y
        x = max(x + dt * dx, 1e-6)
        y = max(y + dt * dy, 1e-6)
        step = step + 1
    final = np.array([x, y])
    return final @ final + x


# --------------------------------------------------------------------------- iterations


def newton_sqrt(a):
    """Square roots by Newton's method: a counted while with a break on convergence."""
    x = a
    k = 0
    while k < 60:
        x_new = 0.5 * (x + a / x)
        delta = np.max(np.abs(x_new - x))
        x = x_new
        k += 1
        if delta < 1e-12:
            break
    return np.sum(np.sin(x))


def newton_cbrt(c):
    """The cube root of a Python float by Newton's method; ternary start, while/else."""
    x = 1.0 if c < 1.0 else c / 2.0
    it = 0
    while it < 100:
        step = (x * x * x - c) / (3.0 * x * x)
        x = x - step
        it = it + 1
        if abs(step) < 1e-14 * abs(x):
            break
    else:
        raise RuntimeError("newton_cbrt did not converge")
    return x * x + math.sin(x)


def newton_log(y):
    """log(y) elementwise by Newton on exp(x) = y, in a for loop with break and for/else."""
    x = np.zeros_like(y)
    for it in range(60):
        step = 1.0 - y * np.exp(-x)
        x = x - step
        if np.max(np.abs(step)) < 1e-13:
            break
    else:
        print("newton_log: no convergence after", it + 1, "iterations")
    return np.sum(x * x)


def fixed_point_cos(a, x0):
    """The fixed point of x = cos(a x) by iteration until a flag says converged."""
    x = x0
    it = 0
    converged = False
    while not converged:
        x_new = math.cos(a * x)
        converged = abs(x_new - x) < 1e-14 or it >= 300
        x = x_new
        it += 1
    return x


def gradient_descent_unrolled(x0, A, b, lr):
    """Twenty unrolled gradient-descent steps on a quadratic; the loss of the final point."""
    x = x0
    for _ in range(20):
        g = A @ x - b
        x = x - lr * g
    loss = 0.5 * x @ (A @ x) - b @ x
    if not np.isfinite(loss):
        raise FloatingPointError("gradient descent diverged")
    return loss


def power_iteration(A, v0, verbose):
    """The Rayleigh quotient, as a float, after 25 power-iteration steps on a symmetric matrix."""
    S = 0.5 * (A + A.T)
    v = v0
    for _ in range(25):
        w = S @ v
        v = w / np.sqrt(w @ w)
    rq = float(v @ (S @ v))
    if verbose:
        print("power_iteration: Rayleigh quotient", rq)
    return rq


def gram_schmidt(V, T):
    """Gram-Schmidt over the rows of V: the inner loop runs over the growing list of results."""
    basis = []
    for v in V:
        w = v
        for u in basis:
            w = w - (w @ u) * u
        w = w / np.sqrt(w @ w)
        basis.append(w)
    Q = np.stack(basis)
    return np.sum(Q * T)


def matrix_power_trace(A, k):
    """Tr(A^k) by repeated multiplication in a shape-independent runtime loop."""
    P = A
    for _ in range(k - 1):
        P = P @ A
    return np.sum(P * np.eye(len(A), dtype=A.dtype))


def nested_while_in_for(X, w):
    """Three tanh refinements per row: a counted while nested in a for over rows."""
    total = 0.0
    for row in X:
        z = row
        k = 0
        while k < 3:
            z = np.tanh(1.1 * z + w)
            k += 1
        total = total + np.sum(z * row)
    return total


# --------------------------------------------------------------------------- recurrences


def tanh_rnn(Wx, Wh, b, xs):
    """An Elman RNN over the rows of xs (``for x_t in xs``)."""
    h = np.zeros_like(b)
    for x_t in xs:
        h = np.tanh(x_t @ Wx + h @ Wh + b)
    return np.sum(h**2)


def rnn_200(Wx, Wh, b, xs, n_steps):
    """A tanh RNN run for a runtime number of steps (200 in the corpus), hidden 16, batch 1."""
    h = np.zeros((xs.shape[1], Wh.shape[0]), dtype=xs.dtype)
    for t in range(n_steps):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum(h)


def lstm_like(W, U, b, xs):
    """An LSTM cell over a sequence; the state is the tuple (h, c)."""
    n = U.shape[0]
    state = (np.zeros_like(b[:n]), np.zeros_like(b[:n]))
    for x_t in xs:
        h, c = state
        z = x_t @ W + h @ U + b
        i = 1.0 / (1.0 + np.exp(-z[:n]))
        f = 1.0 / (1.0 + np.exp(-z[n : 2 * n]))
        o = 1.0 / (1.0 + np.exp(-z[2 * n : 3 * n]))
        g = np.tanh(z[3 * n :])
        c = f * c + i * g
        h = o * np.tanh(c)
        state = (h, c)
    h, c = state
    final = dict(h=h, c=c)
    return np.sum(final["h"]) + 0.1 * np.sum(final["c"] ** 2)


def gru_loop(Wz, Uz, Wh, Uh, xs):
    """A minimal GRU indexed by time step; the weights are grouped with dict(...)."""
    assert xs.ndim == 2, "xs must be (time, features)"
    params = dict(z=(Wz, Uz), h=(Wh, Uh))
    h = np.zeros(Uz.shape[0], dtype=xs.dtype)
    for t in range(len(xs)):
        x_t = xs[t]
        A, B = params["z"]
        z = 1.0 / (1.0 + np.exp(-(x_t @ A + h @ B)))
        C, D = params["h"]
        h_new = np.tanh(x_t @ C + (z * h) @ D)
        h = (1.0 - z) * h + z * h_new
    return np.sum(h * h)


def rnn_outputs_stacked(W, U, xs, targets):
    """An RNN whose per-step outputs are appended, stacked and compared with targets."""
    h = np.zeros(U.shape[0], dtype=xs.dtype)
    outputs = []
    for x_t in xs:
        h = np.tanh(x_t @ W + h @ U)
        outputs.append(h)
    if len(xs) > 1:
        assert targets.shape[0] == len(xs), "one target per step"
    Y = np.stack(outputs)
    return np.mean((Y - targets) ** 2)


def bidirectional_rnn(Wf, Wb, xs):
    """Forward and backward tanh scans, their final states concatenated."""
    hf = np.zeros(Wf.shape[1], dtype=xs.dtype)
    hb = np.zeros(Wb.shape[1], dtype=xs.dtype)
    for x_t in xs:
        hf = np.tanh(x_t @ Wf + 0.5 * hf)
    for x_t in xs[::-1]:
        hb = np.tanh(x_t @ Wb + 0.5 * hb)
    both = np.concatenate([hf, hb])
    return np.sum(np.sin(both))


def ema_smoother(xs, alpha):
    """An exponential moving average over rows, seeded with the first row (enumerate)."""
    m = xs[0]
    for i, x_t in enumerate(xs):
        if i == 0:
            m = x_t
        else:
            m = alpha * m + (1.0 - alpha) * x_t
    return np.sum(np.sin(m))


def discounted_return(rewards, gamma):
    """The discounted return G = sum_t gamma^t r_t, accumulated backwards over rewards."""
    G = 0.0
    for r in rewards[::-1]:
        G = r + gamma * G
    return G


def gae_advantages(rewards, values, gamma, lam):
    """Generalised advantage estimation over a reversed range; advantages appended, stacked."""
    n = len(rewards)
    adv = 0.0
    advantages = []
    for t in range(n - 1, -1, -1):
        next_value = values[t + 1] if t + 1 < n else 0.0
        delta = rewards[t] + gamma * next_value - values[t]
        adv = delta + gamma * lam * adv
        advantages.append(adv)
    A = np.stack(advantages)
    return np.sum(A * A)


def scan_early_exit(w, xs, cap):
    """A decaying running score over rows that stops at the first one that passes the cap."""
    acc = 0.0
    for x_t in xs:
        acc = acc + np.tanh(x_t @ w)
        if acc > cap:
            break
        acc = 0.9 * acc
    return acc * acc


def first_passage(w, xs, cap):
    """The step and score at which a running sum first passes the cap (early return)."""
    total = 0.0
    for t, x_t in enumerate(xs):
        total = total + np.exp(x_t @ w)
        if total > cap:
            return total / (t + 1)
    return total


def horner(coeffs, x):
    """Polynomial evaluation by Horner's rule, iterating over the coefficient array."""
    y = np.zeros_like(x)
    for c in coeffs:
        y = y * x + c
    return np.sum(y)


def cumulative_product(x):
    """Cumulative products by a loop that appends to a list, then np.stack."""
    running = x[0]
    prods = [running]
    for k in range(1, len(x)):
        running = running * x[k]
        prods.append(running)
    return np.sum(np.stack(prods))


def lagged_activity(x, n):
    """Names that become active only after a few iterations (activity to a fixed point)."""
    prev = 1.0
    cur = 0.0
    total = 0.0
    for _ in range(n):
        total = total + cur
        cur = prev
        prev = np.sin(x) * prev
    return np.sum(total)


# --------------------------------------------------------------------------- branches


def piecewise_float(x, a):
    """A smooth-by-pieces function of a Python float, with a return in every branch."""
    if x < -1.0:
        return a * (x + 1.0) ** 2 - x
    elif x < 1.0:
        y = a * math.sin(x) + x * x
        return y
    else:
        return math.exp(-x) * a + math.log(x + 1.0)


def piecewise_loop(x, a):
    """if/elif/else on each element of an array, accumulated over a for loop."""
    total = 0.0
    for xi in x:
        if xi < -0.5:
            total = total + a * xi * xi
        elif xi < 0.5:
            total = total + np.sin(xi)
        else:
            total = total + np.exp(-xi) * a
    return total


def signed_sqrt_sum(v):
    """A signed square root by a ternary whose untaken branch would be NaN."""
    total = 0.0
    for vi in v:
        r = np.sqrt(vi) if vi > 0 else -np.sqrt(-vi)
        total = total + r * r * r
    return total


def robust_loss(pred, target, kind, delta):
    """Huber or Cauchy loss chosen by a string config; a per-element branch on the residual."""
    total = 0.0
    for p, t in zip(pred, target):
        r = p - t
        if kind in ("huber", "smooth_l1"):
            if abs(r) <= delta:
                total = total + 0.5 * r * r
            else:
                total = total + delta * (abs(r) - 0.5 * delta)
        elif kind == "cauchy":
            total = total + 0.5 * delta**2 * np.log1p((r / delta) ** 2)
        else:
            raise ValueError(f"unknown loss kind {kind!r}")
    return total / len(pred)


def activation_mlp(W1, b1, w2, X, activation):
    """A one-hidden-layer MLP whose activation is chosen by a string config with ``in``."""
    Z = X @ W1 + b1
    if activation in ("tanh", "sigmoid"):
        H = np.tanh(Z) if activation == "tanh" else 1.0 / (1.0 + np.exp(-Z))
    elif activation == "softplus":
        H = np.log1p(np.exp(Z))
    else:
        raise ValueError("unsupported activation")
    return np.mean((H @ w2) ** 2)


def norm_by_ndim(x, w):
    """A norm whose formula depends on the input's rank; constant branches with assert/raise."""
    if x.ndim == 1:
        return np.sqrt(np.sum(x * x) + 1.0) * np.sum(w)
    elif x.ndim == 2 and x.shape[0] > 1:
        assert x.shape[1] == w.shape[0], "feature size mismatch"
        row_norms = np.sqrt(np.sum(x * x, axis=1) + 1.0)
        return np.sum(row_norms * (x @ w))
    else:
        raise ValueError("norm_by_ndim wants a vector or a matrix with several rows")


def mode_loss(pred, y, mode):
    """Three losses selected by an int mode (1 and 3 share one); the mode-2 branch checks shapes first."""
    if mode in (1, 3):
        return np.mean((pred - y) ** 2)
    if mode == 2:
        assert pred.shape == y.shape
        r = pred - y
        return np.mean(np.sqrt(1.0 + r * r))
    return np.mean(np.log(np.cosh(pred - y)))


def trust_region_steps(G, radius):
    """Per-row step lengths clipped to a trust region: a data branch inside a row loop."""
    total = 0.0
    for g in G:
        norm = np.sqrt(g @ g)
        if norm > radius:
            step = g * (radius / norm)
        else:
            step = g
        total = total + np.sum(np.sin(step))
    return total


def log_barrier(x, t):
    """A log-barrier objective that raises on infeasible input."""
    if not np.all(x > 0):
        raise ValueError("log_barrier: x must be strictly positive")
    obj = 0.0
    for xi in x:
        obj = obj + t * xi * xi - np.log(xi)
    return obj


def gated_sum(x, y, scale, normalize, use_y):
    """Constant config flags combined with ``and``/``or``/``not`` choose the terms."""
    out = scale * np.sum(x * x)
    if normalize and x.ndim == 1:
        out = out / len(x)
    if use_y or not normalize:
        out = out + np.sum(np.sin(y) * x)
    return out


def positive_part_product(a, b):
    """Data branches on two Python floats combined with ``and``; ``or`` as a fallback."""
    if a > 0 and b > 0:
        z = a * b
    elif a > 0 or b > 0:
        z = a + b
    else:
        z = -a * b
    return z * z + math.exp(0.1 * a)


def leaky_loop(x, slope):
    """A leaky ReLU by a ternary on each element, squared and summed."""
    total = 0.0
    for xi in x:
        y = xi if xi > 0 else slope * xi
        total = total + y * y + 0.5 * y
    return total


# --------------------------------------------------------------------------- continue


def masked_row_mean(X, w, mask):
    """The mean score over unmasked rows: ``continue`` over a constant mask."""
    total = 0.0
    count = 0
    for row, m in zip(X, mask):
        if not m:
            continue
        total = total + np.tanh(row @ w)
        count += 1
    if count == 0:
        return total
    return total / count


def skip_outlier_rows(X, w, clip):
    """Rows whose largest entry passes the clip are skipped (a data-dependent continue)."""
    total = 0.0
    for row in X:
        s = row @ w
        if np.max(np.abs(row)) > clip:
            continue
        total = total + s * s
    return total


def even_steps_only(x, n):
    """A loop that skips odd steps with ``continue`` after some work on them."""
    acc = np.zeros_like(x)
    for i in range(n):
        phase = np.cos(x * (i + 1))
        if i % 2 == 1:
            continue
        acc = acc + phase * x
    return np.sum(acc)


# --------------------------------------------------------------------------- containers


def softmax_list(logits, weights):
    """Softmax across a list of arrays (elementwise over the list), then a weighted readout."""
    m = logits[0]
    for a in logits[1:]:
        m = np.maximum(m, a)
    exps = [np.exp(a - m) for a in logits]
    Z = sum(exps)
    probs = [e / Z for e in exps]
    return sum(np.sum(w * p) for w, p in zip(weights, probs))


def tanh_rows_comprehension(X, w):
    """A list comprehension over rows, stacked and read out."""
    hs = [np.tanh(r * w) for r in X]
    H = np.stack(hs)
    return np.sum(H * H)


def weighted_sum_generator(ws, xs):
    """``sum(w * x for w, x in zip(ws, xs))`` over rows, then squared."""
    s = sum(w * x for w, x in zip(ws, xs))
    return np.sum(s * s)


def dict_params_model(x, w, b):
    """Parameters grouped in a dict display, a dict(...) call and a dict comprehension."""
    params = {"w": w, "b": b}
    if "b" in params:
        params = {"w": w, "b": b + 0.5}
    scaled = {k: params[k] * 2.0 for k in ("w", "b")}
    extra = dict(shift=b, weight=w)
    z = x @ scaled["w"] + scaled["b"] - extra["shift"]
    return np.sum(np.tanh(z)) + np.sum(extra["weight"] ** 2)


def moment_features(x, weights):
    """Summary statistics gathered with np.array([...]) of active scalars."""
    stats = np.array([np.mean(x), np.mean(x * x), np.max(x), np.min(x)])
    return stats @ weights


def polynomial_features_concat(x, w):
    """Features built as a list display of arrays and joined by np.concatenate."""
    feats = [x, x * x, np.sin(x)]
    phi = np.concatenate(feats)
    return np.tanh(phi @ w)


def min_max_floats(a, b, c):
    """min, max and abs on Python floats."""
    hi = max(a, b)
    lo = min(b, c)
    spread = abs(a - c)
    v = np.array([hi, lo, spread])
    return np.sum(v * v) + math.sin(hi)


def float_accumulate(x):
    """float() of 0-d active values inside a loop over the array."""
    total = 0.0
    for v in x:
        total += float(v * v)
    return total + float(np.sum(np.cos(x)))


def trapezoid_pairs(y, dx):
    """The trapezoid rule over neighbouring pairs with zip, converting each area with float()."""
    area = 0.0
    for left, right in zip(y[:-1], y[1:]):
        area = area + float(0.5 * (left + right) * dx)
    return area * area


def max_row_score(X, w):
    """The best row score by max() over a generator and the worst by min() over a list."""
    best = max(np.tanh(row @ w) for row in X)
    worst = min([np.sum(row * row) for row in X])
    return best + 0.1 * worst


# --------------------------------------------------------------------------- searches and else


def interp_linear(xq, knots, values):
    """Piecewise-linear interpolation: a nested search loop with break, extrapolating in else."""
    total = 0.0
    for q in xq:
        for j in range(len(knots) - 1):
            if knots[j] <= q < knots[j + 1]:
                t = (q - knots[j]) / (knots[j + 1] - knots[j])
                total = total + (1.0 - t) * values[j] + t * values[j + 1]
                break
        else:
            slope = (values[-1] - values[-2]) / (knots[-1] - knots[-2])
            total = total + values[-1] + slope * (q - knots[-1])
    return total


def first_hit_row(X, w, thresh):
    """The first row whose score passes the threshold (for/else falls back to the last row)."""
    for i, row in enumerate(X):
        if row @ w > thresh:
            hit = row * (i + 1)
            break
    else:
        hit = X[-1]
    return np.sum(np.tanh(hit))


def while_else_decay(x, n):
    """A counted while whose else clause runs after a normal exit."""
    acc = x
    i = 0
    while i < n:
        acc = np.sin(acc) + 0.5 * x
        i += 1
    else:
        acc = acc * 2.0
    return np.sum(acc * acc)


def grid_laplacian_energy(U):
    """The discrete Dirichlet energy of a grid: nested index loops over both shape axes."""
    energy = 0.0
    for i in range(U.shape[0]):
        for j in range(U.shape[1] - 1):
            energy = energy + (U[i, j + 1] - U[i, j]) ** 2
    for i in range(U.shape[0] - 1):
        energy = energy + np.sum((U[i + 1] - U[i]) ** 2)
    return energy


def compound_growth(principal, rate, years):
    """Compound growth with yearly withdrawals on Python floats, by a while/else with break."""
    balance = principal
    year = 0
    while year < years:
        balance = balance * (1.0 + rate) - 1.0
        if balance < 0.0:
            print("compound_growth: ruined in year", year)
            break
        year += 1
    else:
        balance = balance * 0.99
    return balance


def newton_reciprocal(c):
    """1/c by the division-free Newton iteration, returning from inside the loop."""
    x = 0.1 if c > 5.0 else 0.5
    for _ in range(100):
        x_new = x * (2.0 - c * x)
        if abs(x_new - x) < 1e-15:
            return x_new * x_new
        x = x_new
    return x * x


def bounded_growth(x, limit):
    """A growth recurrence that returns from inside the loop once the state passes a limit."""
    z = x
    for k in range(30):
        z = z + 0.3 * np.tanh(z) + 0.05
        if np.sum(z * z) > limit:
            return np.sum(z) * (k + 1)
    return np.sum(z)


def clipped_rewards(rewards, cap):
    """Rewards clipped from above by min() in a generator, summed with sum()."""
    total = sum(min(r, cap) for r in rewards)
    return total * total


def two_layer_dict_loop(X, W1, W2):
    """Layers stored in a dict display and a dict comprehension, applied in a loop by name."""
    layers = {"first": W1, "second": W2}
    order = ("first", "second")
    gains = {name: 1.0 / (i + 1) for i, name in enumerate(order)}
    H = X
    for name in order:
        H = np.tanh(gains[name] * (H @ layers[name]))
    return np.sum(H * H)


def named_gains(x, w):
    """Per-feature gains from a dict comprehension over constant keys, read back by key."""
    gains = {k: w * g for k, g in zip(("low", "high"), (0.5, 2.0))}
    return np.sum(np.tanh(x * gains["low"]) + gains["high"] * x**2)


def pair_energy_lists(pts):
    """Pairwise energies kept in a list of arrays built in a nested loop, then summed."""
    energies = []
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            energies.append(np.exp(-np.sqrt(np.sum(d * d))) * (i + j + 1))
    return sum(energies)
