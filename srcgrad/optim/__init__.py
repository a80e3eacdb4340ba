"""srcgrad.optim: optimizers as ``(init, update)`` transforms that compose with
:func:`chain`, with ``torch.optim``'s keyword names, defaults and update equations.

::

    opt = optim.adam(learning_rate=1e-3)
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = optim.apply_updates(params, updates)

``params`` may be a Module, a dict or any pytree; buffers, static fields and None leaves
are skipped.  ``sgd``, ``adam`` and ``adamw`` also have a fused in-place path,
``state = opt.step(model, grads, state)``, that updates the model's arrays in place.
"""

from srcgrad.optim.adaptive import (
    ScaleByAdadeltaState,
    ScaleByAdagradState,
    ScaleByAdamState,
    ScaleByLionState,
    ScaleByNadamState,
    ScaleByRmsState,
    scale_by_adadelta,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_lion,
    scale_by_nadam,
    scale_by_radam,
    scale_by_rms,
)
from srcgrad.optim.aliases import (
    adadelta,
    adagrad,
    adam,
    adamw,
    lion,
    nadam,
    radam,
    rmsprop,
    sgd,
)
from srcgrad.optim.base import EmptyState, Transform, apply_updates, chain, identity
from srcgrad.optim.transforms import (
    ScaleByScheduleState,
    TraceState,
    add_decayed_weights,
    clip_by_global_norm,
    freeze,
    global_norm,
    masked,
    scale,
    scale_by_learning_rate,
    trace,
)

__all__ = [
    "EmptyState",
    "ScaleByAdadeltaState",
    "ScaleByAdagradState",
    "ScaleByAdamState",
    "ScaleByLionState",
    "ScaleByNadamState",
    "ScaleByRmsState",
    "ScaleByScheduleState",
    "TraceState",
    "Transform",
    "adadelta",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip_by_global_norm",
    "freeze",
    "global_norm",
    "identity",
    "lion",
    "masked",
    "nadam",
    "radam",
    "rmsprop",
    "scale",
    "scale_by_adadelta",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_lion",
    "scale_by_nadam",
    "scale_by_radam",
    "scale_by_rms",
    "sgd",
    "trace",
]
