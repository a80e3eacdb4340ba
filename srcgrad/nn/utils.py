"""What a model holds: its parameters by path, their count, the model in another dtype.

These walk any pytree (a Module, or dicts, lists and tuples of them), the same way
:func:`srcgrad.tree.flatten` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad import tree

__all__ = ["parameters", "num_parameters", "astype"]


def _floating_array(v: Any) -> bool:
    dtype = getattr(v, "dtype", None)
    return (
        dtype is not None
        and type(getattr(v, "shape", None)) is tuple
        and not isinstance(v, np.generic)
        and np.dtype(dtype).kind in "fc"
    )


def parameters(model: Any) -> list[tuple[str, Any]]:
    """``(path, array)`` for every parameter of ``model``, in leaf order.

    A parameter is a floating (or complex) array that a gradient reaches: buffers,
    Python floats, integer arrays and static fields are left out.  The path is the
    attribute names and positions from the model down, joined by dots
    (``"blocks.0.W"``).
    """
    return [
        (tree.path_string(path), leaf)
        for path, leaf in tree.variable_leaves_with_paths(model)
        if _floating_array(leaf)
    ]


def num_parameters(model: Any) -> int:
    """The number of scalars in the parameters of ``model`` (see :func:`parameters`)."""
    return sum(int(np.prod(leaf.shape)) for _, leaf in parameters(model))


def astype(model: Any, dtype: Any) -> Any:
    """A new model (or tree) whose floating arrays, parameters and buffers both, are
    cast to ``dtype``; every other leaf (integer arrays, Python floats, generators) and
    the static fields are kept as they are.  ``model`` itself is not changed."""
    target = np.dtype(dtype)
    if target.kind not in "fc":
        raise ValueError(f"astype: {target} is not a floating dtype")

    def cast(leaf: Any) -> Any:
        if _floating_array(leaf) and np.dtype(leaf.dtype).kind == "f":
            return leaf.astype(target)
        return leaf

    return tree.map(cast, model)
