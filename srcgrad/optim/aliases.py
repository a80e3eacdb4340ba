"""The published optimizers, with ``torch.optim``'s keyword names (``learning_rate`` for
``lr``, ``b1``/``b2`` for ``betas``), defaults and update equations, each a
:func:`chain` of the pieces in ``transforms`` and ``adaptive``.

Every ``learning_rate`` and ``weight_decay`` is a number or a ``step -> value`` schedule
(:mod:`srcgrad.schedules`), read at the number of updates made so far.
"""

from __future__ import annotations

from srcgrad.optim import adaptive, fused
from srcgrad.optim.base import Schedule, Transform, chain, identity
from srcgrad.optim.transforms import (
    add_decayed_weights,
    scale_by_learning_rate,
    trace,
)

__all__ = [
    "sgd",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adam",
    "adamw",
    "radam",
    "nadam",
    "lion",
]

Number = float | Schedule


def _decay(weight_decay: Number) -> Transform:
    """``add_decayed_weights`` (an identity for a weight decay of 0: no work)."""
    if not callable(weight_decay) and weight_decay == 0:
        return identity()
    return add_decayed_weights(weight_decay)


def _coupled(weight_decay: Number, scaling: Transform, lr: Number) -> Transform:
    """L2 penalty added to the gradient before ``scaling`` (torch's weight_decay)."""
    return chain(_decay(weight_decay), scaling, scale_by_learning_rate(lr))


def _decoupled(weight_decay: Number, scaling: Transform, lr: Number) -> Transform:
    """``p <- p - lr * (scaling + weight_decay * p)`` (AdamW's decay)."""
    return chain(scaling, _decay(weight_decay), scale_by_learning_rate(lr))


def sgd(
    learning_rate: Number = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: Number = 0.0,
    nesterov: bool = False,
) -> Transform:
    """Stochastic gradient descent as ``torch.optim.SGD`` (heavy-ball or Nesterov
    momentum, dampening, L2 weight decay).  Has the fused in-place ``step``."""
    first = trace(momentum, dampening, nesterov) if momentum else identity()
    t = _coupled(weight_decay, first, learning_rate)
    step = fused.fused_sgd(learning_rate, momentum, dampening, weight_decay, nesterov)
    return Transform(t.init, t.update, step)


def adagrad(
    learning_rate: Number = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: Number = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
) -> Transform:
    """Adagrad as ``torch.optim.Adagrad``: the step size is
    ``learning_rate / (1 + (t - 1) * lr_decay)`` at update ``t``."""
    lr: Number = learning_rate
    if lr_decay:

        def lr(count: int) -> float:
            base = learning_rate(count) if callable(learning_rate) else learning_rate
            return base / (1 + count * lr_decay)

    scaling = adaptive.scale_by_adagrad(initial_accumulator_value, eps)
    return _coupled(weight_decay, scaling, lr)


def adadelta(
    learning_rate: Number = 1.0,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: Number = 0.0,
) -> Transform:
    """Adadelta as ``torch.optim.Adadelta``."""
    return _coupled(weight_decay, adaptive.scale_by_adadelta(rho, eps), learning_rate)


def rmsprop(
    learning_rate: Number = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: Number = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
) -> Transform:
    """RMSprop as ``torch.optim.RMSprop`` (centered, momentum)."""
    scaling = adaptive.scale_by_rms(alpha, eps, centered, momentum)
    return _coupled(weight_decay, scaling, learning_rate)


def adam(
    learning_rate: Number = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: Number = 0.0,
    amsgrad: bool = False,
) -> Transform:
    """Adam as ``torch.optim.Adam`` (L2 weight decay, amsgrad).  Has the fused
    in-place ``step``."""
    t = _coupled(
        weight_decay, adaptive.scale_by_adam(b1, b2, eps, amsgrad), learning_rate
    )
    step = fused.fused_adam(learning_rate, b1, b2, eps, weight_decay, amsgrad, False)
    return Transform(t.init, t.update, step)


def adamw(
    learning_rate: Number = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: Number = 1e-2,
    amsgrad: bool = False,
) -> Transform:
    """AdamW as ``torch.optim.AdamW``: ``p <- p (1 - lr wd)`` then Adam's step.  Has
    the fused in-place ``step``."""
    scaling = adaptive.scale_by_adam(b1, b2, eps, amsgrad)
    t = _decoupled(weight_decay, scaling, learning_rate)
    step = fused.fused_adam(learning_rate, b1, b2, eps, weight_decay, amsgrad, True)
    return Transform(t.init, t.update, step)


def radam(
    learning_rate: Number = 1e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: Number = 0.0,
    decoupled_weight_decay: bool = False,
) -> Transform:
    """RAdam as ``torch.optim.RAdam``."""
    scaling = adaptive.scale_by_radam(b1, b2, eps)
    build = _decoupled if decoupled_weight_decay else _coupled
    return build(weight_decay, scaling, learning_rate)


def nadam(
    learning_rate: Number = 2e-3,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: Number = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
) -> Transform:
    """NAdam as ``torch.optim.NAdam``."""
    scaling = adaptive.scale_by_nadam(b1, b2, eps, momentum_decay)
    build = _decoupled if decoupled_weight_decay else _coupled
    return build(weight_decay, scaling, learning_rate)


def lion(
    learning_rate: Number = 1e-4,
    b1: float = 0.9,
    b2: float = 0.99,
    weight_decay: Number = 0.0,
) -> Transform:
    """Lion (Chen et al. 2023): ``p <- p (1 - lr wd) - lr sign(b1 m + (1 - b1) g)``."""
    return _decoupled(weight_decay, adaptive.scale_by_lion(b1, b2), learning_rate)
