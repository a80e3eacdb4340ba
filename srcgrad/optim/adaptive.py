"""Scalings by running moments of the gradient, one per published optimizer; each
follows the update equations of its ``torch.optim`` namesake, without the learning
rate (``scale_by_learning_rate`` applies it) and without weight decay
(``add_decayed_weights``)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from srcgrad.optim.base import PyTree, Transform, trainable_map

__all__ = [
    "ScaleByAdamState",
    "ScaleByAdagradState",
    "ScaleByAdadeltaState",
    "ScaleByRmsState",
    "ScaleByNadamState",
    "ScaleByLionState",
    "scale_by_adam",
    "scale_by_adagrad",
    "scale_by_adadelta",
    "scale_by_rms",
    "scale_by_radam",
    "scale_by_nadam",
    "scale_by_lion",
]


def _zeros(params: PyTree) -> PyTree:
    return trainable_map(np.zeros_like, params)


class ScaleByAdamState(NamedTuple):
    """``count`` updates so far; first and second moments; the running maximum of the
    second moment (``amsgrad``; else None leaves)."""

    count: int
    mu: PyTree
    nu: PyTree
    nu_max: PyTree


def _moments(grads: PyTree, state: ScaleByAdamState, b1: float, b2: float):
    mu = trainable_map(lambda g, m: b1 * m + (1 - b1) * g, grads, state.mu)
    nu = trainable_map(lambda g, v: b2 * v + (1 - b2) * (g * g), grads, state.nu)
    return mu, nu


def scale_by_adam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, amsgrad: bool = False
) -> Transform:
    """Adam's step: ``(m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps)``, with ``v``
    replaced by its running maximum under ``amsgrad``."""

    def init(params: PyTree) -> ScaleByAdamState:
        nu_max = _zeros(params) if amsgrad else None
        return ScaleByAdamState(0, _zeros(params), _zeros(params), nu_max)

    def update(grads: PyTree, state: ScaleByAdamState, params: PyTree = None):
        t = state.count + 1
        mu, nu = _moments(grads, state, b1, b2)
        nu_max = trainable_map(np.maximum, nu, state.nu_max) if amsgrad else nu
        bc1, bc2 = 1 - b1**t, math.sqrt(1 - b2**t)
        out = trainable_map(
            lambda m, v: (m / bc1) / (np.sqrt(v) / bc2 + eps), mu, nu_max
        )
        return out, ScaleByAdamState(t, mu, nu, nu_max if amsgrad else None)

    return Transform(init, update)


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Transform:
    """RAdam: Adam's first moment, rectified by ``r_t`` once ``rho_t > 5``; plain
    bias-corrected momentum before."""
    rho_inf = 2 / (1 - b2) - 1

    def init(params: PyTree) -> ScaleByAdamState:
        return ScaleByAdamState(0, _zeros(params), _zeros(params), None)

    def update(grads: PyTree, state: ScaleByAdamState, params: PyTree = None):
        t = state.count + 1
        mu, nu = _moments(grads, state, b1, b2)
        bc1 = 1 - b1**t
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho_t > 5:
            rect = math.sqrt(
                (rho_t - 4)
                * (rho_t - 2)
                * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            bc2 = math.sqrt(1 - b2**t)
            out = trainable_map(
                lambda m, v: (m / bc1) * rect * bc2 / (np.sqrt(v) + eps), mu, nu
            )
        else:
            out = trainable_map(lambda m: m / bc1, mu)
        return out, ScaleByAdamState(t, mu, nu, None)

    return Transform(init, update)


class ScaleByNadamState(NamedTuple):
    """Adam's moments and ``mu_product``: the product of the momentum schedule."""

    count: int
    mu: PyTree
    nu: PyTree
    mu_product: float


def scale_by_nadam(
    b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, momentum_decay: float = 4e-3
) -> Transform:
    """NAdam (Dozat) with PyTorch's momentum schedule
    ``mu_t = b1 (1 - 0.5 * 0.96^(t * momentum_decay))``."""

    def init(params: PyTree) -> ScaleByNadamState:
        return ScaleByNadamState(0, _zeros(params), _zeros(params), 1.0)

    def update(grads: PyTree, state: ScaleByNadamState, params: PyTree = None):
        t = state.count + 1
        mu_t = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod = state.mu_product * mu_t
        adam = ScaleByAdamState(t, state.mu, state.nu, None)
        mu, nu = _moments(grads, adam, b1, b2)
        bc2 = 1 - b2**t
        c_g = (1 - mu_t) / (1 - prod)
        c_m = mu_next / (1 - prod * mu_next)
        out = trainable_map(
            lambda g, m, v: (c_g * g + c_m * m) / (np.sqrt(v / bc2) + eps),
            grads,
            mu,
            nu,
        )
        return out, ScaleByNadamState(t, mu, nu, prod)

    return Transform(init, update)


class ScaleByAdagradState(NamedTuple):
    """``sum``: the running sum of squared gradients."""

    sum: PyTree


def scale_by_adagrad(
    initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> Transform:
    """Adagrad: ``g / (sqrt(sum of g^2) + eps)``."""

    def init(params: PyTree) -> ScaleByAdagradState:
        return ScaleByAdagradState(
            trainable_map(lambda p: np.full_like(p, initial_accumulator_value), params)
        )

    def update(grads: PyTree, state: ScaleByAdagradState, params: PyTree = None):
        acc = trainable_map(lambda g, s: s + g * g, grads, state.sum)
        out = trainable_map(lambda g, s: g / (np.sqrt(s) + eps), grads, acc)
        return out, ScaleByAdagradState(acc)

    return Transform(init, update)


class ScaleByAdadeltaState(NamedTuple):
    """Running averages of squared gradients and of squared steps."""

    square_avg: PyTree
    acc_delta: PyTree


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> Transform:
    """Adadelta: ``sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g``."""

    def init(params: PyTree) -> ScaleByAdadeltaState:
        return ScaleByAdadeltaState(_zeros(params), _zeros(params))

    def update(grads: PyTree, state: ScaleByAdadeltaState, params: PyTree = None):
        sq = trainable_map(
            lambda g, v: rho * v + (1 - rho) * (g * g), grads, state.square_avg
        )
        delta = trainable_map(
            lambda g, v, u: np.sqrt(u + eps) / np.sqrt(v + eps) * g,
            grads,
            sq,
            state.acc_delta,
        )
        acc = trainable_map(
            lambda d, u: rho * u + (1 - rho) * (d * d), delta, state.acc_delta
        )
        return delta, ScaleByAdadeltaState(sq, acc)

    return Transform(init, update)


class ScaleByRmsState(NamedTuple):
    """Running averages of squared gradients and (``centered``) of gradients; the
    momentum buffer (``momentum > 0``)."""

    square_avg: PyTree
    grad_avg: PyTree
    momentum: PyTree


def scale_by_rms(
    alpha: float = 0.99,
    eps: float = 1e-8,
    centered: bool = False,
    momentum: float = 0.0,
) -> Transform:
    """RMSprop: ``g / (sqrt(v - centered * gbar^2) + eps)``, through a momentum buffer
    ``b <- momentum * b + that`` when ``momentum > 0``."""

    def init(params: PyTree) -> ScaleByRmsState:
        return ScaleByRmsState(
            _zeros(params),
            _zeros(params) if centered else None,
            _zeros(params) if momentum > 0 else None,
        )

    def update(grads: PyTree, state: ScaleByRmsState, params: PyTree = None):
        sq = trainable_map(
            lambda g, v: alpha * v + (1 - alpha) * (g * g), grads, state.square_avg
        )
        if centered:
            gavg = trainable_map(
                lambda g, a: alpha * a + (1 - alpha) * g, grads, state.grad_avg
            )
            avg = trainable_map(lambda v, a: np.sqrt(v - a * a) + eps, sq, gavg)
        else:
            gavg = None
            avg = trainable_map(lambda v: np.sqrt(v) + eps, sq)
        out = trainable_map(lambda g, a: g / a, grads, avg)
        buf = None
        if momentum > 0:
            buf = trainable_map(lambda u, b: momentum * b + u, out, state.momentum)
            out = buf
        return out, ScaleByRmsState(sq, gavg, buf)

    return Transform(init, update)


class ScaleByLionState(NamedTuple):
    """``mu``: the momentum, an average of gradients with ``b2``."""

    mu: PyTree


def scale_by_lion(b1: float = 0.9, b2: float = 0.99) -> Transform:
    """Lion (Chen et al. 2023): ``sign(b1 m + (1 - b1) g)``, then
    ``m <- b2 m + (1 - b2) g``."""

    def init(params: PyTree) -> ScaleByLionState:
        return ScaleByLionState(_zeros(params))

    def update(grads: PyTree, state: ScaleByLionState, params: PyTree = None):
        out = trainable_map(
            lambda g, m: np.sign(b1 * m + (1 - b1) * g), grads, state.mu
        )
        mu = trainable_map(lambda g, m: b2 * m + (1 - b2) * g, grads, state.mu)
        return out, ScaleByLionState(mu)

    return Transform(init, update)
