"""Adjoint rules for broadcasting: ``broadcast_to``, ``broadcast_arrays``, and the runtime helpers
``unbroadcast`` / ``expand_like`` that every emitted gradient calls (so that an emitted gradient
can be differentiated again: higher-order derivatives).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  The cotangent of a broadcast is
the sum over the broadcast axes (``unbroadcast``); the helpers' own rules are each other's
adjoints (``expand_to``, ``reduce_like``).
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    broadcast_arrays_cotangents,
    expand_like,
    expand_to,
    reduce_like,
    unbroadcast,
)

# --------------------------------------------------------------------------- broadcasts


@adjoint(
    np.broadcast_to,
    nondiff=("shape",),
    shapes={"column": "(3,1),-", "one": "(1,),-"},
    params={"shape": [(3, 4), (2, 3, 4), (2, 3, 1)]},
    view=True,
    jvp="linear",
)
def broadcast_to_adjoint(g, ans, array, shape, subok=False):
    return unbroadcast(g, array)


@adjoint(
    np.broadcast_arrays,
    multi_output=True,
    shapes={"two": "(3,1),(4,)", "three": "(2,3,4),(3,1),()"},
    view=True,
    jvp="linear",
)
def broadcast_arrays_adjoint(g, ans, *args, subok=False):
    return broadcast_arrays_cotangents(g, args)


# --------------------------------------------------------------------------- runtime helpers


@adjoint(
    unbroadcast,
    nondiff=("x",),
    shape_only=("x",),
    shapes={"broadcast": "(3,4),(4,)", "same": "(3,4),(3,4)"},
    view=True,
    jvp="linear",
)
def unbroadcast_adjoint(g, ans, x1, x):
    # the helper's own parameters are (g, x): here x1 is the cotangent being reduced
    return expand_to(g, x1)


@adjoint(
    expand_like,
    nondiff=("x",),
    shape_only=("x",),
    shapes={"all": "(),(3,4)"},
    view=True,
    jvp="linear",
)
def expand_like_adjoint(g, ans, x1, x, axis=None, keepdims=False):
    return reduce_like(g, x1, axis, keepdims)


@adjoint(
    expand_to,
    nondiff=("like",),
    shape_only=("like",),
    shapes={"broadcast": "(4,),(3,4)", "same": "(3,4),(3,4)"},
    view=True,
)
def expand_to_adjoint(g, ans, x1, like):
    # the helper's own parameters are (g, like): here x1 is the cotangent being broadcast;
    # a Python-number like summed it (g is then 0-d): spread g over x1 before summing back
    return unbroadcast(g * np.ones_like(x1), x1)


@adjoint(
    reduce_like,
    nondiff=("like",),
    shape_only=("like",),
    shapes={"rows": "(3,4),(4,)"},
    params={"axis": [0]},
)
def reduce_like_adjoint(g, ans, x1, like, axis=None, keepdims=False):
    return expand_like(g, x1, axis, keepdims)
