"""Inputs and ``wrt`` specs for every function in :mod:`tests.corpus.control`.

The conventions are those of :mod:`tests.corpus.cases`: each :class:`ControlCase` has a builder
``make(rng, dtype)`` that returns the positional arguments; random draws happen in float64 and
arrays are cast to ``dtype`` at the end, so the float32 and float64 builds describe the same
point; Python floats stay Python floats, and integer or string configuration stays as it is.

Sampling keeps every function smooth at the sample point *and* keeps every data-dependent
branch, ``break``, ``continue`` and early ``return`` decided with a margin, so that ``x ± eps``
(and the float32 build) take the same path through the code. Where the path depends on several
draws at once, the builder simulates it and redraws until every decision has a margin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import control as C
from .cases import Case
from .sampling import away, normal, redraw, separated, uniform, uniform_float

__all__ = ["CASES", "CASES_BY_NAME", "ControlCase"]


ControlCase = Case  # the name this module's table has always used


# --------------------------------------------------------------------------- ODEs and physics


def _euler_ode(rng, dt):
    return normal(rng, (4,), dt), 0.7, 0.05, 20, True


def _damped_spring(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (3,), dt), 2.0, 0.3


def _midpoint_pendulum(rng, dt):
    return uniform(rng, (4,), dt, -1.0, 1.0), normal(rng, (4,), dt, 0.5), 6.5, 20


def _leapfrog_orbit(rng, dt):
    q0 = np.array([1.0, 0.0]) + 0.1 * rng.standard_normal(2)
    p0 = np.array([0.0, 1.0]) + 0.1 * rng.standard_normal(2)
    return q0.astype(dt), p0.astype(dt), 1.0


def _pairwise_energy(rng, dt):
    return separated(rng, 4, 3, 0.5, 1.0).astype(dt), 0.1


def _kepler_newton(rng, dt):
    return uniform_float(rng, 0.5, 2.5), uniform_float(rng, 0.1, 0.6)


def _heat_equation(rng, dt):
    return normal(rng, (8,), dt), 0.3, 10


def _lotka_volterra(rng, dt):
    return uniform_float(rng, 1.0, 2.0), uniform_float(rng, 0.5, 1.0), 1.1, 0.4


# --------------------------------------------------------------------------- iterations


def _newton_sqrt(rng, dt):
    return (uniform(rng, (5,), dt, 0.5, 4.0),)


def _newton_cbrt(rng, dt):
    return (uniform_float(rng, 2.0, 10.0),)


def _newton_log(rng, dt):
    return (uniform(rng, (5,), dt, 0.5, 3.0),)


def _fixed_point_cos(rng, dt):
    return uniform_float(rng, 0.3, 0.9), 0.5


def _spd(rng, n: int, lo: float, hi: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * rng.uniform(lo, hi, n)) @ q.T


def _gradient_descent_unrolled(rng, dt):
    A = _spd(rng, 3, 0.5, 2.0)
    return normal(rng, (3,), dt), A.astype(dt), normal(rng, (3,), dt), 0.2


def _power_iteration(rng, dt):
    q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = (q * np.array([3.0, 1.5, 0.5, -0.2])) @ q.T + 0.05 * rng.standard_normal((4, 4))
    v0 = q[:, 0] + 0.3 * rng.standard_normal(4)
    return A.astype(dt), v0.astype(dt), True


def _gram_schmidt(rng, dt):
    return normal(rng, (3, 4), dt), normal(rng, (3, 4), dt)


def _matrix_power_trace(rng, dt):
    return normal(rng, (3, 3), dt, 0.5), 4


def _nested_while_in_for(rng, dt):
    return normal(rng, (3, 4), dt), normal(rng, (4,), dt, 0.3)


# --------------------------------------------------------------------------- recurrences


def _tanh_rnn(rng, dt):
    Wx, Wh = normal(rng, (3, 5), dt, 0.5), normal(rng, (5, 5), dt, 0.3)
    return Wx, Wh, normal(rng, (5,), dt, 0.1), normal(rng, (4, 3), dt)


RNN_HIDDEN = 16
RNN_INPUT = 4
RNN_STEPS = 200


def rnn_200_inputs(rng: np.random.Generator, dt: Any, n_rows: int = RNN_STEPS) -> tuple:
    """Weights for :func:`tests.corpus.control.rnn_200` and ``n_rows`` time steps of input."""
    Wx = normal(rng, (RNN_INPUT, RNN_HIDDEN), dt, 0.3)
    Wh = normal(rng, (RNN_HIDDEN, RNN_HIDDEN), dt, 0.5 / np.sqrt(RNN_HIDDEN))
    b = normal(rng, (RNN_HIDDEN,), dt, 0.1)
    xs = normal(rng, (n_rows, 1, RNN_INPUT), dt)
    return Wx, Wh, b, xs


def _rnn_200(rng, dt):
    return *rnn_200_inputs(rng, dt), RNN_STEPS


def _lstm_like(rng, dt):
    n = 3
    W, U = normal(rng, (3, 4 * n), dt, 0.5), normal(rng, (n, 4 * n), dt, 0.5)
    return W, U, normal(rng, (4 * n,), dt, 0.1), normal(rng, (4, 3), dt)


def _gru_loop(rng, dt):
    Wz, Uz = normal(rng, (3, 4), dt, 0.5), normal(rng, (4, 4), dt, 0.5)
    Wh, Uh = normal(rng, (3, 4), dt, 0.5), normal(rng, (4, 4), dt, 0.5)
    return Wz, Uz, Wh, Uh, normal(rng, (5, 3), dt)


def _rnn_outputs_stacked(rng, dt):
    W, U = normal(rng, (3, 4), dt, 0.5), normal(rng, (4, 4), dt, 0.4)
    return W, U, normal(rng, (5, 3), dt), normal(rng, (5, 4), dt, 0.5)


def _bidirectional_rnn(rng, dt):
    Wf, Wb = normal(rng, (3, 4), dt, 0.5), normal(rng, (3, 2), dt, 0.5)
    return Wf, Wb, normal(rng, (5, 3), dt)


def _ema_smoother(rng, dt):
    return normal(rng, (6, 3), dt), 0.7


def _discounted_return(rng, dt):
    return normal(rng, (8,), dt), 0.9


def _gae_advantages(rng, dt):
    return normal(rng, (6,), dt), normal(rng, (6,), dt), 0.95, 0.9


def _scan_early_exit(rng, dt):
    cap = 1.5

    def draw():
        return 0.8 * rng.standard_normal(3), rng.standard_normal((8, 3))

    def ok(w, xs):
        acc, margin = 0.0, np.inf
        for t, x_t in enumerate(xs):
            acc = acc + np.tanh(x_t @ w)
            margin = min(margin, abs(acc - cap))
            if acc > cap:
                return 2 <= t <= 6 and margin > 0.05
            acc = 0.9 * acc
        return False

    w, xs = redraw(draw, ok)
    return w.astype(dt), xs.astype(dt), cap


def _first_passage(rng, dt):
    def draw():
        return 0.5 * rng.standard_normal(3), rng.standard_normal((8, 3))

    def ok(w, xs):
        totals = np.cumsum(np.exp(xs @ w))
        return totals[4] - totals[3] > 0.2

    w, xs = redraw(draw, ok)
    totals = np.cumsum(np.exp(xs @ w))
    cap = float(0.5 * (totals[3] + totals[4]))  # passed at step 4, with a margin both sides
    return w.astype(dt), xs.astype(dt), cap


def _horner(rng, dt):
    return normal(rng, (5,), dt), uniform(rng, (6,), dt, -1.0, 1.0)


def _cumulative_product(rng, dt):
    return (uniform(rng, (6,), dt, 0.5, 1.5),)


def _lagged_activity(rng, dt):
    return normal(rng, (4,), dt), 5


# --------------------------------------------------------------------------- branches


def _piecewise_float(rng, dt):
    return uniform_float(rng, 1.2, 2.5), 0.8


def _piecewise_loop(rng, dt):
    # three draws in each of the three regions, away from the boundaries at -0.5 and 0.5
    x = np.concatenate(
        [
            rng.uniform(-1.5, -0.6, 3),
            rng.uniform(-0.4, 0.4, 3),
            rng.uniform(0.6, 1.5, 3),
        ]
    )
    return rng.permutation(x).astype(dt), 1.3


def _signed_sqrt_sum(rng, dt):
    v = away(rng, (8,), np.float64, -2.0, 2.0, [0.0], gap=0.1)
    v[:2] = [-1.0, 1.0]  # both branches of the ternary are taken
    return (v.astype(dt),)


def _robust_loss(rng, dt):
    delta = 1.0
    target = normal(rng, (8,), np.float64)
    r = away(rng, (8,), np.float64, -2.5, 2.5, [-delta, delta], gap=0.1)
    r[:2] = [0.3, -1.8]  # both branches of the Huber split are taken
    return (target + r).astype(dt), target.astype(dt), "huber", delta


def _activation_mlp(rng, dt):
    W1, b1 = normal(rng, (3, 4), dt, 0.7), normal(rng, (4,), dt, 0.1)
    return W1, b1, normal(rng, (4,), dt), normal(rng, (5, 3), dt), "sigmoid"


def _norm_by_ndim(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3,), dt)


def _mode_loss(rng, dt):
    return normal(rng, (6,), dt), normal(rng, (6,), dt), 2


def _trust_region_steps(rng, dt):
    radius = 1.6

    def draw():
        return (rng.standard_normal((6, 3)),)

    def ok(G):
        norms = np.sqrt((G * G).sum(1))
        return np.abs(norms - radius).min() > 0.1 and (norms > radius).sum() in (2, 3, 4)

    (G,) = redraw(draw, ok)
    return G.astype(dt), radius


def _log_barrier(rng, dt):
    return uniform(rng, (6,), dt, 0.5, 2.0), 0.5


def _gated_sum(rng, dt):
    return normal(rng, (5,), dt), normal(rng, (5,), dt), 1.3, True, True


def _positive_part_product(rng, dt):
    return uniform_float(rng, 0.5, 1.5), uniform_float(rng, -1.5, -0.5)


def _leaky_loop(rng, dt):
    x = away(rng, (8,), np.float64, -2.0, 2.0, [0.0], gap=0.1)
    x[:2] = [-0.7, 0.7]
    return x.astype(dt), 0.1


# --------------------------------------------------------------------------- continue


def _masked_row_mean(rng, dt):
    mask = np.array([1, 0, 1, 1, 0, 1])
    return normal(rng, (6, 3), dt), normal(rng, (3,), dt), mask


def _skip_outlier_rows(rng, dt):
    clip = 1.5

    def draw():
        return (rng.standard_normal((6, 3)),)

    def ok(X):
        peak = np.abs(X).max(1)
        return np.abs(peak - clip).min() > 0.1 and (peak > clip).sum() in (2, 3, 4)

    (X,) = redraw(draw, ok)
    return X.astype(dt), normal(rng, (3,), dt), clip


def _even_steps_only(rng, dt):
    return normal(rng, (4,), dt), 5


# --------------------------------------------------------------------------- containers


def _softmax_list(rng, dt):
    logits = [normal(rng, (4,), dt) for _ in range(3)]
    return logits, [normal(rng, (4,), dt) for _ in range(3)]


def _tanh_rows_comprehension(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3,), dt)


def _weighted_sum_generator(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (4, 3), dt)


def _dict_params_model(rng, dt):
    return normal(rng, (5, 3), dt), normal(rng, (3, 2), dt, 0.5), normal(rng, (2,), dt, 0.3)


def _moment_features(rng, dt):
    return normal(rng, (6,), dt), normal(rng, (4,), dt)


def _polynomial_features_concat(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (9,), dt, 0.3)


def _named_gains(rng, dt):
    return normal(rng, (4,), dt), normal(rng, (4,), dt)


def _pair_energy_lists(rng, dt):
    return (normal(rng, (4, 2), dt),)


def _row_norm_dict(rng, dt):
    return (normal(rng, (4, 3), dt),)


def _min_max_floats(rng, dt):
    return (
        uniform_float(rng, 1.0, 1.5),
        uniform_float(rng, 0.2, 0.6),
        uniform_float(rng, -0.6, -0.1),
    )


def _float_accumulate(rng, dt):
    return (normal(rng, (5,), dt),)


def _trapezoid_pairs(rng, dt):
    return normal(rng, (7,), dt), 0.1


def _max_row_score(rng, dt):
    def draw():
        return rng.standard_normal((5, 3)), rng.standard_normal(3)

    def ok(X, w):
        scores = np.sort(np.tanh(X @ w))
        sq = np.sort((X * X).sum(1))
        return scores[-1] - scores[-2] > 0.05 and sq[1] - sq[0] > 0.05

    X, w = redraw(draw, ok)
    return X.astype(dt), w.astype(dt)


def _pair_list_energy(rng, dt):
    return (separated(rng, 4, 2, 0.3, 1.0).astype(dt),)


# --------------------------------------------------------------------------- searches and else

INTERP_KNOTS = (0.0, 0.7, 1.5, 2.2, 3.0)


def _interp_linear(rng, dt):
    knots = np.array(INTERP_KNOTS)
    inside = away(rng, (4,), np.float64, 0.05, 2.95, list(INTERP_KNOTS), gap=0.05)
    beyond = rng.uniform(3.2, 3.8, 2)  # no interval contains them: the for/else extrapolates
    xq = rng.permutation(np.concatenate([inside, beyond]))
    return xq.astype(dt), knots.astype(dt), normal(rng, (5,), dt)


def _first_hit_row(rng, dt):
    thresh = 0.8

    def draw():
        return rng.standard_normal((6, 3)), rng.standard_normal(3)

    def ok(X, w):
        s = X @ w
        hits = np.flatnonzero(s > thresh)
        if len(hits) == 0 or not 1 <= hits[0] <= 4:
            return False
        return np.abs(s[: hits[0] + 1] - thresh).min() > 0.05

    X, w = redraw(draw, ok)
    return X.astype(dt), w.astype(dt), thresh


def _while_else_decay(rng, dt):
    return normal(rng, (4,), dt), 6


def _grid_laplacian_energy(rng, dt):
    return (normal(rng, (3, 4), dt),)


def _compound_growth(rng, dt):
    return uniform_float(rng, 100.0, 200.0), uniform_float(rng, 0.03, 0.07), 10


def _newton_reciprocal(rng, dt):
    return (uniform_float(rng, 1.5, 3.5),)


def _bounded_growth(rng, dt):
    def draw():
        return (rng.uniform(0.3, 1.0, 3),)

    def sums(x):
        z, out = x, []
        for _ in range(30):
            z = z + 0.3 * np.tanh(z) + 0.05
            out.append(float(np.sum(z * z)))
        return out

    (x,) = redraw(draw, lambda x: sums(x)[5] - sums(x)[4] > 0.2)
    s = sums(x)
    return x.astype(dt), 0.5 * (s[4] + s[5])  # passed at k = 5, with a margin both sides


def _clipped_rewards(rng, dt):
    r = away(rng, (8,), np.float64, -1.5, 1.5, [0.5], gap=0.05)
    return r.astype(dt), 0.5


def _two_layer_dict_loop(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3, 4), dt, 0.6), normal(rng, (4, 2), dt, 0.6)


# --------------------------------------------------------------------------- the table

_FLOAT_ON_DEVICE = "calls float() on an active array, a host transfer on a device"


def _case(fn, make, wrt=0, autograd_skip=None, device_skip=None) -> ControlCase:
    return ControlCase(
        fn=fn, make=make, wrt=wrt, autograd_skip=autograd_skip, device_skip=device_skip
    )


CASES: list[ControlCase] = [
    # ODEs and physics
    _case(C.euler_ode, _euler_ode, (0, 1, 2)),
    _case(C.damped_spring, _damped_spring, (0, 1, 2, 3)),
    _case(C.midpoint_pendulum, _midpoint_pendulum, (0, 1, 2)),
    _case(C.leapfrog_orbit, _leapfrog_orbit, (0, 1, 2)),
    _case(C.pairwise_energy, _pairwise_energy, (0, 1)),
    _case(C.kepler_newton, _kepler_newton, (0, 1)),
    _case(C.heat_equation, _heat_equation, (0, 1)),
    _case(C.lotka_volterra, _lotka_volterra, (0, 1, 2, 3)),
    # iterations
    _case(C.newton_sqrt, _newton_sqrt, 0),
    _case(C.newton_cbrt, _newton_cbrt, 0),
    _case(C.newton_log, _newton_log, 0),
    _case(C.fixed_point_cos, _fixed_point_cos, (0, 1)),
    _case(C.gradient_descent_unrolled, _gradient_descent_unrolled, (0, 1, 2, 3)),
    _case(C.power_iteration, _power_iteration, (0, 1), device_skip=_FLOAT_ON_DEVICE),
    _case(C.gram_schmidt, _gram_schmidt, (0, 1)),
    _case(C.matrix_power_trace, _matrix_power_trace, 0),
    _case(C.nested_while_in_for, _nested_while_in_for, (0, 1)),
    # recurrences
    _case(C.tanh_rnn, _tanh_rnn, (0, 1, 2, 3)),
    _case(C.rnn_200, _rnn_200, (0, 1, 2, 3)),
    _case(C.lstm_like, _lstm_like, (0, 1, 2, 3)),
    _case(C.gru_loop, _gru_loop, (0, 1, 2, 3, 4)),
    _case(C.rnn_outputs_stacked, _rnn_outputs_stacked, (0, 1, 2)),
    _case(C.bidirectional_rnn, _bidirectional_rnn, (0, 1, 2)),
    _case(C.ema_smoother, _ema_smoother, (0, 1)),
    _case(C.discounted_return, _discounted_return, (0, 1)),
    _case(C.gae_advantages, _gae_advantages, (0, 1, 2, 3)),
    _case(C.scan_early_exit, _scan_early_exit, (0, 1)),
    _case(C.first_passage, _first_passage, (0, 1)),
    _case(C.horner, _horner, (0, 1)),
    _case(C.cumulative_product, _cumulative_product, 0),
    _case(C.lagged_activity, _lagged_activity, 0),
    # branches
    _case(C.piecewise_float, _piecewise_float, (0, 1)),
    _case(C.piecewise_loop, _piecewise_loop, (0, 1)),
    _case(C.signed_sqrt_sum, _signed_sqrt_sum, 0),
    _case(C.robust_loss, _robust_loss, (0, 1, "delta")),
    _case(C.activation_mlp, _activation_mlp, (0, 1, 2)),
    _case(C.norm_by_ndim, _norm_by_ndim, (0, 1)),
    _case(C.mode_loss, _mode_loss, (0, 1)),
    _case(C.trust_region_steps, _trust_region_steps, (0, 1)),
    _case(C.log_barrier, _log_barrier, (0, 1)),
    _case(C.gated_sum, _gated_sum, (0, 1, "scale")),
    _case(C.positive_part_product, _positive_part_product, (0, 1)),
    _case(C.leaky_loop, _leaky_loop, (0, 1)),
    # continue
    _case(C.masked_row_mean, _masked_row_mean, (0, 1)),
    _case(C.skip_outlier_rows, _skip_outlier_rows, (0, 1)),
    _case(C.even_steps_only, _even_steps_only, 0),
    # containers
    _case(C.softmax_list, _softmax_list, (0, 1)),
    _case(C.tanh_rows_comprehension, _tanh_rows_comprehension, (0, 1)),
    _case(C.weighted_sum_generator, _weighted_sum_generator, (0, 1)),
    _case(C.dict_params_model, _dict_params_model, (0, 1, 2)),
    _case(C.moment_features, _moment_features, (0, 1)),
    _case(C.polynomial_features_concat, _polynomial_features_concat, (0, 1)),
    _case(C.named_gains, _named_gains, (0, 1)),
    _case(C.min_max_floats, _min_max_floats, (0, 1, 2)),
    _case(C.float_accumulate, _float_accumulate, 0, device_skip=_FLOAT_ON_DEVICE),
    _case(C.trapezoid_pairs, _trapezoid_pairs, (0, 1), device_skip=_FLOAT_ON_DEVICE),
    _case(C.max_row_score, _max_row_score, (0, 1)),
    _case(C.pair_energy_lists, _pair_energy_lists, 0),
    # searches and else
    _case(C.interp_linear, _interp_linear, (0, 2)),
    _case(C.first_hit_row, _first_hit_row, (0, 1)),
    _case(C.while_else_decay, _while_else_decay, 0),
    _case(C.grid_laplacian_energy, _grid_laplacian_energy, 0),
    _case(C.compound_growth, _compound_growth, (0, 1)),
    _case(C.newton_reciprocal, _newton_reciprocal, 0),
    _case(C.bounded_growth, _bounded_growth, 0),
    _case(C.clipped_rewards, _clipped_rewards, (0, 1)),
    _case(C.two_layer_dict_loop, _two_layer_dict_loop, (0, 1, 2)),
]

CASES_BY_NAME: dict[str, ControlCase] = {case.name: case for case in CASES}
