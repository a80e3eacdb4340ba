"""Inputs and ``wrt`` specs for every function in :mod:`tests.corpus.calls`.

The conventions are those of :mod:`tests.corpus.cases`: each :class:`CallsCase` has a builder
``make(rng, dtype)`` that returns the positional arguments; random draws happen in float64 and
float arrays are cast to ``dtype`` at the end, so the float32 and float64 builds describe the
same point. Python floats stay Python floats; integer index arrays (``IntArray`` parameters)
stay ``int64`` and boolean masks (``BoolArray`` parameters) stay ``bool`` in both builds.

Sampling keeps every function smooth at the sample point: data-dependent masks, floors and
bucket numbers are decided with a margin (so ``x ± eps`` and the float32 build pick the same
entries), and every integer index array passed in repeats some entries on purpose.

``autograd_skip`` is set for the functions that write into an array (directly or in a callee):
HIPS autograd, the test oracle, cannot trace ``y[i] = v``; and for the one function that calls
``np.digitize``, for which autograd has no VJP. ``device_skip`` is set for
the functions that call a ``@custom_vjp`` function: its primal and its rule are user code that
calls ``np.*`` directly, which a device array refuses (a host conversion).
"""

from __future__ import annotations


import numpy as np

from . import calls as C
from .cases import Case
from .sampling import away, normal, redraw, separated, uniform

__all__ = ["CASES", "CASES_BY_NAME", "CallsCase"]


CallsCase = Case  # the name this module's table has always used


WRITES = "writes into an array (y[i] = v, y[i] op= v): autograd cannot trace item assignment"
WRITES_CALLEE = "a callee writes into an array it allocates: autograd cannot trace item assignment"
CUSTOM = "the @custom_vjp primal and rule call np.* directly, which device arrays refuse"
NO_DIGITIZE = "autograd defines no VJP for np.digitize (srcgrad declares it non-differentiable)"


def _ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _away_from_integers(rng, shape, lo, hi, gap=0.05) -> np.ndarray:
    """Uniform draws in ``[lo, hi)`` at least ``gap`` away from every integer."""

    def dist(x):
        r = np.mod(x, 1.0)
        return np.minimum(r, 1.0 - r)

    return away(rng, shape, np.float64, lo, hi, dist, gap=gap)


def _top_gap_ok(q: np.ndarray, gap: float = 0.05) -> bool:
    s = np.sort(q, axis=1)
    return bool(np.all(s[:, -1] - s[:, -2] > gap))


# =========================================================================== physics


def _particle_trajectory(rng, dt):
    return normal(rng, (4, 2), dt), normal(rng, (4, 2), dt, 0.5), 1.5, 0.1, 6


def _chain_energy_trace(rng, dt):
    q0 = np.arange(5.0) + 0.1 * rng.standard_normal(5)
    return q0.astype(dt), normal(rng, (5,), dt, 0.3), 2.0, 0.05


def _pair_potential(rng, dt):
    i, j = np.triu_indices(5, 1)  # every particle appears in several pairs
    return (
        normal(rng, (5, 3), dt),
        uniform(rng, (5,), dt, 0.5, 1.5),
        i.astype(np.int64),
        j.astype(np.int64),
    )


def _wall_bounce(rng, dt):
    wall = 0.5

    def draw():
        return rng.uniform(-1.0, 1.5, 8), rng.standard_normal(8)

    def ok(x, v):
        x1 = x + 0.1 * v
        crossed = (x1 > wall).sum()
        return np.abs(x1 - wall).min() > 0.05 and 2 <= crossed <= 6

    x, v = redraw(draw, ok)
    return x.astype(dt), v.astype(dt), wall, 0.8


def _spring_network_energy(rng, dt):
    return separated(rng, 5, 2, 0.5, 1.0).astype(dt), 0.7


def _pendulum_rk4(rng, dt):
    return uniform(rng, (3,), dt, -1.0, 1.0), normal(rng, (3,), dt, 0.5), 0.05


def _logistic_growth_rk4(rng, dt):
    return uniform(rng, (4,), dt, 0.2, 1.0), 0.8, 2.0


def _survival_curve(rng, dt):
    return normal(rng, (6,), dt, 0.5), 0.3


# =========================================================================== dynamic programming


def _soft_max_subarray(rng, dt):
    return normal(rng, (7,), dt), 0.5


def _soft_dtw(rng, dt):
    return normal(rng, (5, 2), dt), normal(rng, (4, 2), dt), 0.8


def _hmm_log_likelihood(rng, dt):
    return normal(rng, (6, 3), dt) - 1.0, normal(rng, (3, 3), dt), normal(rng, (3,), dt)


def _soft_value_iteration(rng, dt):
    logits = rng.standard_normal((2, 4, 4))
    P = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return normal(rng, (4, 2), dt), P.astype(dt), 0.8, 0.5


def _kalman_nll(rng, dt):
    return normal(rng, (8,), dt), 0.3, 0.5


def _polynomial_fit(rng, dt):
    return uniform(rng, (7,), dt, -1.0, 1.0), normal(rng, (7,), dt), normal(rng, (4,), dt)


def _lstm_sequence(rng, dt):
    return (
        normal(rng, (3, 8), dt, 0.5),
        normal(rng, (2, 8), dt, 0.5),
        normal(rng, (8,), dt, 0.1),
        normal(rng, (5, 3), dt),
    )


def _blur_energy(rng, dt):
    return normal(rng, (5, 4), dt), 0.6


def _laplacian_smoothness(rng, dt):
    src = _ints(0, 0, 1, 2, 3, 3, 4)
    dst = _ints(1, 2, 2, 3, 4, 0, 1)
    return normal(rng, (5,), dt), uniform(rng, (7,), dt, 0.5, 1.5), src, dst


def _running_extremes(rng, dt):
    return normal(rng, (6,), dt), 0.3


# =========================================================================== scatter and gather


def _interp_histogram(rng, dt):
    lo, width = 0.0, 0.5
    u = _away_from_integers(rng, (10,), 0.05, 4.95)  # 10 samples in 5 bins: bins repeat
    x = lo + width * u
    return x.astype(dt), uniform(rng, (10,), dt, 0.5, 1.5), lo, width, 5


def _segment_mean_pool(rng, dt):
    return normal(rng, (7, 4), dt), _ints(0, 1, 0, 2, 1, 0, 2), normal(rng, (4, 3), dt)


def _gnn_message_passing(rng, dt):
    src = _ints(0, 1, 1, 2, 3, 4, 4, 0)
    dst = _ints(1, 2, 0, 3, 4, 0, 2, 4)
    return normal(rng, (5, 3), dt), normal(rng, (3, 3), dt, 0.5), src, dst


def _embedding_bag_loss(rng, dt):
    tokens = _ints(0, 2, 2, 5, 1, 2, 0)
    bags = _ints(0, 0, 1, 1, 2, 2, 0)
    return normal(rng, (6, 3), dt), tokens, bags, normal(rng, (3,), dt)


def _embedding_update_loss(rng, dt):
    tokens = _ints(0, 2, 2, 5, 1, 2, 0)
    return normal(rng, (6, 3), dt), tokens, normal(rng, (7, 3), dt), 0.3


def _class_balanced_loss(rng, dt):
    return normal(rng, (8,), dt), _ints(0, 1, 1, 3, 2, 0, 3, 1)


def _sparse_quadratic(rng, dt):
    rows = _ints(0, 0, 1, 2, 2, 3, 4, 4, 1)
    cols = _ints(1, 3, 1, 0, 4, 3, 2, 4, 3)
    return normal(rng, (9,), dt), rows, cols, normal(rng, (5,), dt)


def _segment_softmax(rng, dt):
    return normal(rng, (7,), dt), _ints(0, 2, 1, 0, 2, 2, 1), normal(rng, (7,), dt)


def _bilinear_sample(rng, dt):
    cells_x = rng.integers(0, 5, 3)  # 8 points in 3 cells: the corner reads repeat
    cells_y = rng.integers(0, 4, 3)
    pick = rng.integers(0, 3, 8)
    px = cells_x[pick] + _away_from_integers(rng, (8,), 0.05, 0.95)
    py = cells_y[pick] + _away_from_integers(rng, (8,), 0.05, 0.95)
    return normal(rng, (5, 6), dt), px.astype(dt), py.astype(dt)


def _bucketed_lookup(rng, dt):
    return normal(rng, (4,), dt), away(rng, (8,), dt, -2.0, 2.0, [-1.0, 0.0, 1.0])


# =========================================================================== masks


def _mask(rng, shape, p=0.6) -> np.ndarray:
    while True:
        m = rng.uniform(size=shape) < p
        if m.sum() >= 2 and (~m).sum() >= 2:
            return m


def _masked_mse(rng, dt):
    return normal(rng, (8,), dt), normal(rng, (8,), dt), _mask(rng, (8,))


def _leaky_energy(rng, dt):
    return away(rng, (8,), dt, -2.0, 2.0, [0.0]), 0.1


def _trimmed_mean_square(rng, dt):
    def draw():
        return (away(rng, (10,), np.float64, -2.0, 2.0, [-1.0, 1.0]),)

    def ok(x):
        return ((x > -1.0) & (x < 1.0)).sum() >= 2 and (x >= 1.0).sum() >= 2

    (x,) = redraw(draw, ok)
    return x.astype(dt), -1.0, 1.0


def _robust_reweight(rng, dt):
    def draw():
        return (away(rng, (10,), np.float64, -4.0, 4.0, [-2.0, 0.0, 2.0]),)

    def ok(r):
        return (np.abs(r) > 2.0).sum() >= 2

    (r,) = redraw(draw, ok)
    return r.astype(dt), 1.0


def _row_norm_clip(rng, dt):
    def draw():
        return (0.7 * rng.standard_normal((6, 3)),)

    def ok(G):
        norms = np.sqrt((G * G).sum(1))
        return np.abs(norms - 1.0).min() > 0.05 and 2 <= (norms > 1.0).sum() <= 4

    (G,) = redraw(draw, ok)
    return G.astype(dt), 1.0


def _masked_attention(rng, dt):
    keep = _mask(rng, (4, 5))
    keep[:, 0] = True  # every query keeps at least one key
    return normal(rng, (4, 5), dt), keep, normal(rng, (5, 3), dt)


def _dropout_rescale(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3, 5), dt, 0.5), _mask(rng, (4, 5), 0.7), 0.3


# =========================================================================== mixed indices


def _slice_contrast(rng, dt):
    return normal(rng, (4, 5, 3), dt), 2, 1


def _attention_head(rng, dt):
    return normal(rng, (5, 2, 3), dt), normal(rng, (5, 2, 3), dt), normal(rng, (5, 2, 3), dt), 1


def _diagonal_fibres(rng, dt):
    return normal(rng, (3, 4, 3), dt), normal(rng, (4,), dt)


# =========================================================================== models split into calls


def _mlp_regression(rng, dt):
    return (
        normal(rng, (3, 4), dt, 0.5),
        normal(rng, (4,), dt, 0.1),
        normal(rng, (4, 1), dt, 0.5),
        normal(rng, (1,), dt, 0.1),
        normal(rng, (6, 3), dt),
        normal(rng, (6,), dt),
    )


def _kernel_smoother(rng, dt):
    return normal(rng, (6, 2), dt), normal(rng, (6,), dt), normal(rng, (4, 2), dt), 0.9


def _polynomial_energy(rng, dt):
    return normal(rng, (4,), dt), uniform(rng, (5,), dt, -1.0, 1.0)


def _gaussian_mixture_nll(rng, dt):
    return (
        normal(rng, (8,), dt),
        normal(rng, (3,), dt),
        normal(rng, (3,), dt, 0.2),
        normal(rng, (3,), dt),
    )


def _ridge_cross_terms(rng, dt):
    w = away(rng, (3,), dt, -1.5, 1.5, [0.0], gap=0.1)
    return normal(rng, (6, 3), dt), normal(rng, (6,), dt), w, 0.1


def _swish_features(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3, 5), dt, 0.5)


def _lambda_smoothing(rng, dt):
    return normal(rng, (8,), dt), 0.3


def _partial_smoothing(rng, dt):
    return normal(rng, (6,), dt), normal(rng, (6,), dt), 0.7


def _labels_pm1(rng, n, dt) -> np.ndarray:
    return np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0).astype(dt)


def _smooth_hinge_svm(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt), _labels_pm1(rng, 8, dt)


def _map_objective(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt), normal(rng, (8,), dt)


def _robust_regression(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt), normal(rng, (8,), dt)


def _scaled_regression(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt, 2.0), normal(rng, (8,), dt)


def _distillation_loss(rng, dt):
    return normal(rng, (5, 4), dt), normal(rng, (5, 4), dt, 2.0)


# =========================================================================== custom rules


def _softmax_cross_entropy(rng, dt):
    labels = _ints(0, 2, 2, 3, 0, 2)
    return normal(rng, (3, 4), dt), normal(rng, (6, 3), dt), labels


def _weight_norm_loss(rng, dt):
    return normal(rng, (4,), dt), 1.3, normal(rng, (5, 4), dt)


def _softplus_margin(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt), _labels_pm1(rng, 8, dt), 1.5


def _logcosh_regression(rng, dt):
    return normal(rng, (3,), dt), normal(rng, (8, 3), dt), normal(rng, (8,), dt)


def _lse_pooling(rng, dt):
    return normal(rng, (6, 3), dt), normal(rng, (3,), dt)


# =========================================================================== stop_gradient in callees


def _td_loss(rng, dt):
    def draw():
        return rng.standard_normal((4, 3)), rng.standard_normal((6, 4))

    W, s = redraw(draw, lambda W, s: _top_gap_ok(s @ W))
    return (
        W.astype(dt),
        normal(rng, (4, 3), dt),
        s.astype(dt),
        normal(rng, (6, 4), dt),
        normal(rng, (6,), dt),
    )


def _cosine_alignment(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (4, 3), dt)


def _geometric_mean_ratio(rng, dt):
    return uniform(rng, (5,), dt, 0.5, 2.0), uniform(rng, (5,), dt, 0.5, 2.0)


# =========================================================================== the case list

CASES: list[CallsCase] = [
    # physics
    CallsCase(C.particle_trajectory, _particle_trajectory, (0, 1, 2, 3), WRITES),
    CallsCase(C.chain_energy_trace, _chain_energy_trace, (0, 1, 2, 3), WRITES),
    CallsCase(C.pair_potential, _pair_potential, (0, 1), WRITES),
    CallsCase(C.wall_bounce, _wall_bounce, (0, 1, 2, 3), WRITES),
    CallsCase(C.spring_network_energy, _spring_network_energy, (0, 1), WRITES),
    CallsCase(C.pendulum_rk4, _pendulum_rk4, (0, 1, 2), WRITES),
    CallsCase(C.logistic_growth_rk4, _logistic_growth_rk4, (0, 1, 2), WRITES),
    CallsCase(C.survival_curve, _survival_curve, (0, 1), WRITES_CALLEE),
    # dynamic programming and tables
    CallsCase(C.soft_max_subarray, _soft_max_subarray, (0, 1), WRITES),
    CallsCase(C.soft_dtw, _soft_dtw, (0, 1, 2), WRITES),
    CallsCase(C.hmm_log_likelihood, _hmm_log_likelihood, (0, 1, 2), WRITES, CUSTOM),
    CallsCase(C.soft_value_iteration, _soft_value_iteration, (0, 2, 3), WRITES, CUSTOM),
    CallsCase(C.kalman_nll, _kalman_nll, (0, 1, 2), WRITES),
    CallsCase(C.polynomial_fit, _polynomial_fit, (0, 1, 2), WRITES),
    CallsCase(C.lstm_sequence, _lstm_sequence, (0, 1, 2, 3), WRITES),
    CallsCase(C.blur_energy, _blur_energy, (0, 1), WRITES),
    CallsCase(C.laplacian_smoothness, _laplacian_smoothness, (0, 1), WRITES),
    CallsCase(C.running_extremes, _running_extremes, (0, 1), WRITES),
    # scatter and gather
    CallsCase(C.interp_histogram, _interp_histogram, (0, 1, 2, 3), WRITES),
    CallsCase(C.segment_mean_pool, _segment_mean_pool, (0, 2), WRITES),
    CallsCase(C.gnn_message_passing, _gnn_message_passing, (0, 1), WRITES),
    CallsCase(C.embedding_bag_loss, _embedding_bag_loss, (0, 3), WRITES),
    CallsCase(C.embedding_update_loss, _embedding_update_loss, (0, 2, 3), WRITES),
    CallsCase(C.class_balanced_loss, _class_balanced_loss, 0, WRITES),
    CallsCase(C.sparse_quadratic, _sparse_quadratic, (0, 3), WRITES),
    CallsCase(C.segment_softmax, _segment_softmax, (0, 2), WRITES),
    CallsCase(C.bilinear_sample, _bilinear_sample, (0, 1, 2)),
    CallsCase(C.bucketed_lookup, _bucketed_lookup, (0, 1), NO_DIGITIZE),
    # masks
    CallsCase(C.masked_mse, _masked_mse, (0, 1)),
    CallsCase(C.leaky_energy, _leaky_energy, (0, 1), WRITES),
    CallsCase(C.trimmed_mean_square, _trimmed_mean_square, 0),
    CallsCase(C.robust_reweight, _robust_reweight, (0, 1), WRITES, CUSTOM),
    CallsCase(C.row_norm_clip, _row_norm_clip, (0, 1), WRITES),
    CallsCase(C.masked_attention, _masked_attention, (0, 2), WRITES),
    CallsCase(C.dropout_rescale, _dropout_rescale, (0, 1), WRITES),
    # mixed indices
    CallsCase(C.slice_contrast, _slice_contrast, 0),
    CallsCase(C.attention_head, _attention_head, (0, 1, 2)),
    CallsCase(C.diagonal_fibres, _diagonal_fibres, (0, 1)),
    # models split into calls, closures, partials, bound methods
    CallsCase(C.mlp_regression, _mlp_regression, (0, 1, 2, 3)),
    CallsCase(C.kernel_smoother, _kernel_smoother, (0, 1, 2, 3)),
    CallsCase(C.polynomial_energy, _polynomial_energy, (0, 1)),
    CallsCase(C.gaussian_mixture_nll, _gaussian_mixture_nll, (0, 1, 2, 3), None, CUSTOM),
    CallsCase(C.ridge_cross_terms, _ridge_cross_terms, (0, 1, 2, 3)),
    CallsCase(C.swish_features, _swish_features, (0, 1)),
    CallsCase(C.lambda_smoothing, _lambda_smoothing, (0, 1)),
    CallsCase(C.partial_smoothing, _partial_smoothing, (0, 1, 2)),
    CallsCase(C.smooth_hinge_svm, _smooth_hinge_svm, 0),
    CallsCase(C.map_objective, _map_objective, 0),
    CallsCase(C.robust_regression, _robust_regression, 0),
    CallsCase(C.scaled_regression, _scaled_regression, (0, 1, 2)),
    CallsCase(C.distillation_loss, _distillation_loss, (0, 1)),
    # custom rules
    CallsCase(C.softmax_cross_entropy, _softmax_cross_entropy, (0, 1), None, CUSTOM),
    CallsCase(C.weight_norm_loss, _weight_norm_loss, (0, 1, 2), None, CUSTOM),
    CallsCase(C.softplus_margin, _softplus_margin, (0, 3), None, CUSTOM),
    CallsCase(C.logcosh_regression, _logcosh_regression, 0, None, CUSTOM),
    CallsCase(C.lse_pooling, _lse_pooling, (0, 1), None, CUSTOM),
    # stop_gradient inside callees
    CallsCase(C.td_loss, _td_loss, 0),
    CallsCase(C.cosine_alignment, _cosine_alignment, (0, 1)),
    CallsCase(C.geometric_mean_ratio, _geometric_mean_ratio, (0, 1)),
]

CASES_BY_NAME: dict[str, CallsCase] = {case.name: case for case in CASES}
