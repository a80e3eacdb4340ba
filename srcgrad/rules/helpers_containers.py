"""Rules of ``tree_cotangent`` and ``tree_parts`` (a container argument's gradient, and
the leaves read back from one).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  ``tree_cotangent(x, paths,
values)`` puts each value at its path in a container shaped as ``x`` (zeros elsewhere):
linear in ``values``, its adjoint reads the cotangent's leaves at ``paths`` back
(``tree_parts``), and ``tree_parts``'s adjoint puts them back (``tree_cotangent``): the
cycle of ``meshgrid_cotangents`` and ``mesh_expand``.  ``x`` gives only structure, shapes
and dtypes; ``paths`` are constants.

Both rules take a container whose structure is ``x``'s as a result or operand.  The
engine's multi-output machinery reads such a value as a sequence, one entry per item:
what the rule cases check, and what emitted code can pass, is a flat list or tuple ``x``
of arrays.  A dict, NamedTuple or nested container is not a value emitted code
differentiates: a higher order with respect to a container is refused at the user's def
(construct ``container-wrt``), before any of this is read.
"""

from __future__ import annotations

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import tree_cotangent, tree_parts

_TREES = {
    "all-read": ("[(3,),(2,2)],-,[(3,),(2,2)]", {"paths": ((0,), (1,))}),
    "one-read": ("[(3,),(2,2),(4,)],-,[(2,2)]", {"paths": ((1,),)}),
    "reordered": ("[(3,),(2,2),()],-,[(),(3,)]", {"paths": ((2,), (0,))}),
}


@adjoint(
    tree_cotangent,
    python_floats=(),
    nondiff=("x", "paths"),
    shape_only=("x",),
    sequence=("values",),
    multi_output=True,
    view=True,  # the values themselves are the read leaves' cotangents
    shapes=_TREES,
)
def tree_cotangent_adjoint(g, ans, x, paths, values):
    return tree_parts(g, x, paths)


@adjoint(
    tree_parts,
    python_floats=(),
    nondiff=("x", "paths"),
    shape_only=("x",),
    sequence=("ct",),
    multi_output=True,
    view=True,  # the read leaves themselves
    shapes={
        name: (f"{entries.split('],-,')[0]}],{entries.split('],-,')[0]}],-", params)
        for name, (entries, params) in _TREES.items()
    },
)
def tree_parts_adjoint(g, ans, ct, x, paths):
    return tree_cotangent(x, paths, g)
