"""Inputs and ``wrt`` specs for every function in :mod:`tests.corpus.straight`.

Each :class:`Case` has a builder ``make(rng, dtype)`` that returns the positional arguments. All
random draws happen in float64 and arrays are cast to ``dtype`` at the end, so the float32 and
float64 builds from the same seed describe the same point (up to rounding). Python floats stay
Python floats and integer configuration stays ``int``.

Sampling domains keep every function smooth at the sample point: inputs are drawn away from the
kinks of ``abs``/``maximum``/``where``/``clip``/``%``/``//`` and positive where ``log`` or
``sqrt`` need it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import straight as S
from .sampling import away, chain, normal, onehot, periodic, uniform, uniform_float

__all__ = ["CASES", "CASES_BY_NAME", "Case"]

Wrt = int | str | tuple[int | str, ...]


@dataclass(frozen=True)
class Case:
    """One corpus function with the inputs it is differentiated at.

    Attributes:
        fn: The forward function (from ``tests.corpus.straight``).
        make: ``make(rng, dtype) -> tuple`` of positional arguments.
        wrt: The ``wrt`` spec handed to ``srcgrad.grad``.
        autograd_skip: Why HIPS autograd cannot run this function, or ``None``.
        device_skip: Why the function cannot run on a device array namespace (for example, it
            calls ``float()`` on an active array, which is a host transfer), or ``None``.
    """

    fn: Callable[..., Any]
    make: Callable[[np.random.Generator, Any], tuple]
    wrt: Wrt = 0
    autograd_skip: str | None = None
    device_skip: str | None = None

    @property
    def name(self) -> str:
        """The function's name, used as the pytest id."""
        return self.fn.__name__

    @property
    def seed(self) -> int:
        """A stable per-case seed (independent of ``PYTHONHASHSEED``)."""
        return zlib.crc32(self.name.encode())

    def args(self, dtype: Any = np.float64) -> tuple:
        """The positional arguments built from the case's own seed."""
        return self.make(np.random.default_rng(self.seed), dtype)

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- builders
# Each builder takes (rng, dtype) and returns the positional arguments.


def _mse_loss(rng, dt):
    return normal(rng, (6, 3), dt), normal(rng, (6, 3), dt)


def _huber_loss(rng, dt):
    target = normal(rng, (8,), dt)
    r = away(rng, (8,), np.float64, -2.5, 2.5, [-1.0, 1.0], gap=0.1)
    return (target + r).astype(dt), target, 1.0


def _softmax_cross_entropy(rng, dt):
    return normal(rng, (5, 4), dt), onehot(rng, 5, 4, dt)


def _sparse_cross_entropy(rng, dt):
    return normal(rng, (5, 4), dt), rng.integers(0, 4, 5)


def _hinge_loss(rng, dt):
    for _ in range(1000):
        w = rng.standard_normal(3)
        b = uniform_float(rng, -0.5, 0.5)
        x = rng.standard_normal((10, 3))
        y = rng.choice([-1.0, 1.0], 10)
        if np.min(np.abs(y * (x @ w + b) - 1.0)) > 0.05:
            return w.astype(dt), b, x.astype(dt), y.astype(dt)
    raise RuntimeError("no smooth hinge sample")


def _focal_loss(rng, dt):
    targets = rng.integers(0, 2, 8).astype(dt)
    return normal(rng, (8,), dt), targets, 2.0, 0.25


def _binary_cross_entropy_logits(rng, dt):
    w, x = normal(rng, (3,), dt), normal(rng, (10, 3), dt)
    return w, x, rng.integers(0, 2, 10).astype(dt)


def _logistic_regression(rng, dt):
    w, b = normal(rng, (3,), dt), uniform_float(rng, -0.5, 0.5)
    return w, b, normal(rng, (10, 3), dt), rng.integers(0, 2, 10).astype(dt)


def _ppo_clip_objective(rng, dt):
    ratio = away(rng, (10,), dt, 0.5, 1.5, [0.8, 1.2], gap=0.03)
    return ratio, normal(rng, (10,), dt), 0.2


def _pseudo_huber(rng, dt):
    return normal(rng, (7,), dt), normal(rng, (7,), dt), 0.7


def _kl_divergence_gaussians(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (4, 3), dt, 0.5)


def _layer_norm(rng, dt):
    x = normal(rng, (4, 5), dt)
    return x, uniform(rng, (5,), dt, 0.5, 1.5), normal(rng, (5,), dt), 1e-5


def _batch_norm(rng, dt):
    x = normal(rng, (6, 4), dt)
    return x, uniform(rng, (4,), dt, 0.5, 1.5), normal(rng, (4,), dt, 0.3)


def _rms_norm(rng, dt):
    return normal(rng, (3, 5), dt), uniform(rng, (5,), dt, 0.5, 1.5), 1e-6


def _zscore_correlation(rng, dt):
    return (normal(rng, (10, 3), dt),)


def _cosine_similarity_loss(rng, dt):
    return normal(rng, (5, 4), dt), normal(rng, (5, 4), dt)


def _group_norm(rng, dt):
    return normal(rng, (3, 6), dt), 2


def _total_energy(rng, dt):
    q, v = normal(rng, (4, 3), dt), normal(rng, (4, 3), dt)
    return q, v, uniform(rng, (4,), dt, 0.5, 2.0), 9.81


def _spring_chain_energy(rng, dt):
    return chain(rng, 5, 3).astype(dt), 3.0, 1.2


def _gravitational_potential(rng, dt):
    r1 = normal(rng, (3,), dt)
    r2 = (r1 + 3.0 + normal(rng, (3,), np.float64, 0.3)).astype(dt)
    return r1, r2, 2.0, 5.0


def _projectile_range(rng, dt):
    return uniform_float(rng, 10.0, 30.0), uniform_float(rng, 0.2, 1.2), 9.81


def _lennard_jones_pair(rng, dt):
    r1 = normal(rng, (3,), dt)
    u = rng.standard_normal(3)
    r2 = (r1 + uniform_float(rng, 1.1, 1.5) * u / np.sqrt(u @ u)).astype(dt)
    return r1, r2, 0.8, 1.0


def _ideal_gas_pressure(rng, dt):
    n = uniform(rng, (5,), dt, 0.5, 2.0)
    return n, uniform(rng, (5,), dt, 250.0, 350.0), uniform(rng, (5,), dt, 1.0, 3.0)


def _isothermal_work(rng, dt):
    return 1.5, 300.0, uniform_float(rng, 1.0, 2.0), uniform_float(rng, 2.5, 4.0)


def _double_pendulum_lagrangian(rng, dt):
    th1, th2 = uniform_float(rng, -1.0, 1.0), uniform_float(rng, -1.0, 1.0)
    return th1, th2, uniform_float(rng, -2.0, 2.0), uniform_float(rng, -2.0, 2.0), 9.81


def _pendulum_energy(rng, dt):
    theta = uniform(rng, (6,), dt, -1.5, 1.5)
    return theta, normal(rng, (6,), dt), 1.3, 9.81


def _harmonic_action(rng, dt):
    return normal(rng, (8,), dt), 0.1, 1.0, 2.0


def _orbit_energy(rng, dt):
    angle = rng.uniform(0, 2 * np.pi, 5)
    radius = rng.uniform(1.0, 2.0, 5)
    pos = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
    return pos.astype(dt), normal(rng, (5, 2), dt), 1.0


def _coulomb_energy(rng, dt):
    pos = np.arange(4.0)[:, None] * np.array([1.0, 0.5, 0.2]) + 0.1 * rng.normal(size=(4, 3))
    return pos.astype(dt), normal(rng, (4,), dt)


def _periodic_pair_energy(rng, dt):
    box = 5.0
    for _ in range(1000):
        pos = rng.uniform(0.0, box, (6, 3))
        d = pos[1:] - pos[:-1]
        if periodic(box, 0.5 * box)(d).min() > 0.05:
            return pos.astype(dt), box
    raise RuntimeError("no smooth periodic sample")


def _wrapped_angle_energy(rng, dt):
    theta = away(rng, (8,), dt, -9.0, 9.0, periodic(2 * np.pi, np.pi), gap=0.05)
    return theta, 1.7


def _relativistic_kinetic_energy(rng, dt):
    return uniform(rng, (6,), dt, -0.8, 0.8), uniform(rng, (6,), dt, 0.5, 2.0)


def _catenary_length(rng, dt):
    return uniform(rng, (4,), dt, 1.0, 2.0), uniform(rng, (4,), dt, 0.5, 1.5)


def _snell_refraction(rng, dt):
    return uniform(rng, (5,), dt, 0.1, 1.2), 1.0, 1.5


def _vector_angles(rng, dt):
    return normal(rng, (5, 3), dt), normal(rng, (5, 3), dt)


def _polar_fit(rng, dt):
    r, theta = uniform(rng, (5,), dt, 0.5, 2.0), uniform(rng, (5,), dt, -1.0, 1.0)
    target = np.stack([rng.uniform(0.2, 2.0, 5), rng.normal(size=5)], axis=-1)
    return r, theta, target.astype(dt)


def _mlp_arrays(rng, dt, n_in=3, n_hidden=4, n_out=2):
    W1 = normal(rng, (n_in, n_hidden), dt, 0.7)
    b1 = normal(rng, (n_hidden,), dt, 0.1)
    W2 = normal(rng, (n_hidden, n_out), dt, 0.7)
    b2 = normal(rng, (n_out,), dt, 0.1)
    return W1, b1, W2, b2


def _mlp_separate(rng, dt):
    return *_mlp_arrays(rng, dt), normal(rng, (5, 3), dt), normal(rng, (5, 2), dt)


def _mlp_dict(rng, dt):
    params = dict(zip(("W1", "b1", "W2", "b2"), _mlp_arrays(rng, dt)))
    return params, normal(rng, (5, 3), dt), normal(rng, (5, 2), dt)


def _mlp_namedtuple(rng, dt):
    params = S.MLPParams(*_mlp_arrays(rng, dt, n_out=3))
    return params, normal(rng, (5, 3), dt), onehot(rng, 5, 3, dt)


def _mlp_list(rng, dt):
    params = list(_mlp_arrays(rng, dt))
    return params, normal(rng, (5, 3), dt), normal(rng, (5, 2), dt)


def _mlp_tuple(rng, dt):
    W1, b1, W2, b2 = _mlp_arrays(rng, dt, n_in=3, n_hidden=4, n_out=5)
    return ((W1, b1), (W2, b2)), normal(rng, (5, 3), dt), normal(rng, (5, 4), dt)


def _mlp_relu_mask(rng, dt):
    W1, b1 = normal(rng, (3, 5), dt), normal(rng, (5,), dt, 0.1)
    return W1, b1, normal(rng, (5,), dt), normal(rng, (6, 3), dt)


def _leaky_relu_net(rng, dt):
    return normal(rng, (3, 3), dt), normal(rng, (5, 3), dt), 0.1


def _linear_scan_residual(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (5, 3), dt)


def _attention_head(rng, dt):
    x = normal(rng, (4, 3), dt)
    return x, *(normal(rng, (3, 2), dt) for _ in range(3))


def _multi_head_attention(rng, dt):
    x = normal(rng, (4, 6), dt)
    return x, normal(rng, (6, 18), dt, 0.4), normal(rng, (6, 6), dt, 0.4), 2


def _gated_linear_unit(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3, 6), dt)


def _conv1d_valid(rng, dt):
    return normal(rng, (10,), dt), normal(rng, (3,), dt, 0.5)


def _avg_pool_2x2(rng, dt):
    return normal(rng, (2, 4, 6), dt), normal(rng, (6, 3), dt, 0.5)


def _channels_first_readout(rng, dt):
    return normal(rng, (3, 4, 2), dt), normal(rng, (3, 4, 2), dt)


def _patch_embedding(rng, dt):
    img = normal(rng, (2, 4, 6), dt)
    return img, normal(rng, (4, 3), dt, 0.5), normal(rng, (6, 3), dt, 0.1)


def _distillation_loss(rng, dt):
    W, x = normal(rng, (3, 4), dt), normal(rng, (5, 3), dt)
    return W, x, normal(rng, (5, 4), dt), 2.0


def _einsum_bilinear(rng, dt):
    x, W, y = (normal(rng, s, dt) for s in [(5, 3), (3, 4), (5, 4)])
    return x, W, y


def _gram_style_loss(rng, dt):
    return normal(rng, (3, 6), dt), normal(rng, (3, 3), dt)


def _outer_product_fit(rng, dt):
    return normal(rng, (4,), dt), normal(rng, (3,), dt), normal(rng, (4, 3), dt)


def _concat_features(rng, dt):
    return normal(rng, (4, 2), dt), normal(rng, (4, 3), dt), normal(rng, (5,), dt)


def _tiled_bias_readout(rng, dt):
    return normal(rng, (4, 3), dt), normal(rng, (3,), dt), normal(rng, (3,), dt)


def _repeat_upsample(rng, dt):
    return normal(rng, (3, 4), dt), normal(rng, (24,), dt)


def _gelu(rng, dt):
    return (normal(rng, (10,), dt),)


def _swish(rng, dt):
    return normal(rng, (10,), dt), 1.3


def _softplus(rng, dt):
    return (away(rng, (10,), dt, -3.0, 3.0, [0.0]),)


def _elu_mean(rng, dt):
    return away(rng, (10,), dt, -3.0, 3.0, [0.0]), 1.0


def _mish_like(rng, dt):
    return (normal(rng, (10,), dt),)


def _polynomial_regression(rng, dt):
    x = away(rng, (8,), dt, -1.0, 1.0, [0.0], gap=0.1)
    return normal(rng, (4,), dt), x, normal(rng, (8,), dt)


def _gaussian_log_likelihood(rng, dt):
    x = normal(rng, (6,), dt)
    return x, normal(rng, (6,), dt, 0.5), normal(rng, (6,), dt, 0.3)


def _linear_regression_ridge(rng, dt):
    w, X, y = normal(rng, (3,), dt), normal(rng, (8, 3), dt), normal(rng, (8,), dt)
    return w, X, y, 0.1


def _sawtooth_features(rng, dt):
    period = 1.3
    x = away(rng, (8,), dt, 0.0, 5.0, periodic(period), gap=0.05)
    return x, normal(rng, (8,), dt), period


def _fractional_part_model(rng, dt):
    x = away(rng, (8,), dt, -3.0, 3.0, periodic(1.0), gap=0.05)
    return x, normal(rng, (8,), dt)


def _split_halves_product(rng, dt):
    return (normal(rng, (7, 3), dt),)


def _temperature_entropy(rng, dt):
    return normal(rng, (6,), dt), 0.7


def _logsumexp_pool(rng, dt):
    return (normal(rng, (5, 4), dt),)


def _geometric_mean_loss(rng, dt):
    return (uniform(rng, (4, 3), dt, 0.2, 1.0),)


def _rbf_kernel_sum(rng, dt):
    return normal(rng, (4, 2), dt), normal(rng, (3, 2), dt), 0.8


def _clipped_tan_score(rng, dt):
    x = away(rng, (8,), dt, -2.0, 2.0, [-1.0, 1.0], gap=0.05)
    return x, normal(rng, (8,), dt)


def _transposed_bilinear(rng, dt):
    return normal(rng, (3, 3), dt), normal(rng, (3, 3), dt), normal(rng, (3,), dt)


def _mixed_precision_sum(rng, dt):
    return normal(rng, (5,), dt), normal(rng, (5,), dt)


def _negated_margin_ranking(rng, dt):
    return normal(rng, (6,), dt), normal(rng, (6,), dt), 0.5


# --------------------------------------------------------------------------- the table


def _case(fn, make, wrt=0, autograd_skip=None) -> Case:
    return Case(fn=fn, make=make, wrt=wrt, autograd_skip=autograd_skip)


CASES: list[Case] = [
    # losses
    _case(S.mse_loss, _mse_loss, 0),
    _case(S.huber_loss, _huber_loss, (0, 2)),
    _case(S.softmax_cross_entropy, _softmax_cross_entropy, 0),
    _case(S.sparse_cross_entropy, _sparse_cross_entropy, "logits"),
    _case(S.hinge_loss, _hinge_loss, (0, 1)),
    _case(S.focal_loss, _focal_loss, (0, "gamma")),
    _case(S.binary_cross_entropy_logits, _binary_cross_entropy_logits, 0),
    _case(S.logistic_regression, _logistic_regression, ("w", "b")),
    _case(S.ppo_clip_objective, _ppo_clip_objective, 0),
    _case(S.pseudo_huber, _pseudo_huber, (0, 2)),
    _case(S.kl_divergence_gaussians, _kl_divergence_gaussians, (0, 1)),
    # normalisation
    _case(S.layer_norm, _layer_norm, (0, 1, 2)),
    _case(S.batch_norm, _batch_norm, (0, 1, 2)),
    _case(S.rms_norm, _rms_norm, (0, 1)),
    _case(S.zscore_correlation, _zscore_correlation, 0),
    _case(S.cosine_similarity_loss, _cosine_similarity_loss, (0, 1)),
    _case(S.group_norm, _group_norm, 0),
    # physics
    _case(S.total_energy, _total_energy, ("q", "v", "mass", "g")),
    _case(S.spring_chain_energy, _spring_chain_energy, (0, 1, 2)),
    _case(S.gravitational_potential, _gravitational_potential, (0, 1, 2)),
    _case(S.projectile_range, _projectile_range, (0, 1, 2)),
    _case(S.lennard_jones_pair, _lennard_jones_pair, (0, "sigma")),
    _case(S.ideal_gas_pressure, _ideal_gas_pressure, (0, 1, 2)),
    _case(S.isothermal_work, _isothermal_work, ("V1", "V2")),
    _case(S.double_pendulum_lagrangian, _double_pendulum_lagrangian, (0, 1, 2, 3)),
    _case(S.pendulum_energy, _pendulum_energy, (0, 1, 2)),
    _case(S.harmonic_action, _harmonic_action, (0, 1)),
    _case(S.orbit_energy, _orbit_energy, (0, 1, 2)),
    _case(S.coulomb_energy, _coulomb_energy, (0, 1)),
    _case(S.periodic_pair_energy, _periodic_pair_energy, (0, 1)),
    _case(S.wrapped_angle_energy, _wrapped_angle_energy, (0, 1)),
    _case(S.relativistic_kinetic_energy, _relativistic_kinetic_energy, (0, 1)),
    _case(S.catenary_length, _catenary_length, (0, 1)),
    _case(S.snell_refraction, _snell_refraction, (0, 1, 2)),
    _case(S.vector_angles, _vector_angles, (0, 1)),
    _case(S.polar_fit, _polar_fit, (0, 1, 2)),
    # networks
    _case(S.mlp_separate, _mlp_separate, (0, 1, 2, 3)),
    _case(S.mlp_dict, _mlp_dict, 0),
    _case(S.mlp_namedtuple, _mlp_namedtuple, 0),
    _case(S.mlp_list, _mlp_list, "params"),
    _case(S.mlp_tuple, _mlp_tuple, (0, 1)),
    _case(S.mlp_relu_mask, _mlp_relu_mask, (0, 1, 2)),
    _case(S.leaky_relu_net, _leaky_relu_net, (0, 2)),
    _case(S.linear_scan_residual, _linear_scan_residual, 0),
    _case(S.attention_head, _attention_head, (0, 1, 2, 3)),
    _case(S.multi_head_attention, _multi_head_attention, (0, 1, 2)),
    _case(S.gated_linear_unit, _gated_linear_unit, (0, 1)),
    _case(S.conv1d_valid, _conv1d_valid, (0, 1)),
    _case(S.avg_pool_2x2, _avg_pool_2x2, (0, 1)),
    _case(S.channels_first_readout, _channels_first_readout, (0, 1)),
    _case(S.patch_embedding, _patch_embedding, (0, 1, 2)),
    _case(S.distillation_loss, _distillation_loss, (0, 3)),
    _case(S.einsum_bilinear, _einsum_bilinear, (0, 1, 2)),
    _case(S.gram_style_loss, _gram_style_loss, 0),
    _case(S.outer_product_fit, _outer_product_fit, (0, 1)),
    _case(S.concat_features, _concat_features, (0, 1, 2)),
    _case(
        S.tiled_bias_readout,
        _tiled_bias_readout,
        (0, 1, 2),
        autograd_skip="its np.tile adjoint cannot handle reps that add leading axes",
    ),
    _case(S.repeat_upsample, _repeat_upsample, (0, 1)),
    # activations
    _case(S.gelu, _gelu, 0),
    _case(S.swish, _swish, (0, 1)),
    _case(S.softplus, _softplus, 0),
    _case(S.elu_mean, _elu_mean, (0, 1)),
    _case(S.mish_like, _mish_like, 0),
    # models and features
    _case(S.polynomial_regression, _polynomial_regression, (0, 1)),
    _case(S.gaussian_log_likelihood, _gaussian_log_likelihood, (0, 1, 2)),
    _case(S.linear_regression_ridge, _linear_regression_ridge, (0, "lam")),
    _case(S.sawtooth_features, _sawtooth_features, (0, 1, 2)),
    _case(S.fractional_part_model, _fractional_part_model, (0, 1)),
    _case(S.split_halves_product, _split_halves_product, 0),
    _case(S.temperature_entropy, _temperature_entropy, (0, 1)),
    _case(S.logsumexp_pool, _logsumexp_pool, 0),
    _case(S.geometric_mean_loss, _geometric_mean_loss, 0),
    _case(S.rbf_kernel_sum, _rbf_kernel_sum, (0, 1, 2)),
    _case(S.clipped_tan_score, _clipped_tan_score, (0, 1)),
    _case(S.transposed_bilinear, _transposed_bilinear, (0, 1, 2)),
    _case(S.mixed_precision_sum, _mixed_precision_sum, (0, 1)),
    _case(S.negated_margin_ranking, _negated_margin_ranking, (0, 1, 2)),
]

CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}
