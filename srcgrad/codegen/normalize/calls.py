"""Calls: what a call resolves to (a nested def, a partial or bound method, a user
function, a rule, a non-differentiable function, a random draw, stop_gradient) and how
it is lowered or refused.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from srcgrad import cache


# multi-output primitives that return one array for some arguments
_SINGLE_OUTPUT_WHEN = {"linalg.svd": ("compute_uv", False), "linalg.qr": ("mode", "r")}


# builtins that have no rule on values that carry a gradient: what to write instead
_BUILTIN_HINTS = {
    "sorted": "sort the array with np.sort(x)",
    "reversed": "reverse the array with x[::-1]",
    "list": "use the value itself (index it, slice it or loop over it), or build a new list "
    "with [a, b] or .append",
    "tuple": "use the value itself (index it, slice it or loop over it), or build a tuple "
    "display (a, b)",
    "round": "use np.round(x)",
    "map": "write a loop or a comprehension: [f(v) for v in xs]",
    "filter": "select with a boolean mask, x[mask], or np.where",
    "int": "convert only constants; for values that carry a gradient use np.floor(x)",
    "divmod": "use np.floor_divide and np.mod (or // and %)",
    "any": "use np.any(x)",
    "all": "use np.all(x)",
}


_LIBRARIES = ("numpy", "scipy", "srcgrad", "builtins", "math", "functools", "operator")


def _user_object(obj: Any) -> bool:
    """A callable the user defined (or an emitted module's): its rule or non-differentiable
    declaration is the user's too, so the cache key records it."""
    fn = cache.inlined_function(obj)
    mod = getattr(fn, "__module__", None) or ""
    return mod.startswith("srcgrad.generated") or mod.split(".")[0] not in _LIBRARIES


def _is_rng(obj: Any) -> bool:
    """A random generator object: its methods are draws (non-differentiable, stateful)."""
    return isinstance(obj, (np.random.Generator, np.random.RandomState))


def _is_numpy_obj(obj: Any) -> bool:
    """A function numpy exports (so that ``xp.<its name>`` is the same function on numpy);
    never a method bound to an object (``rng.normal``), which lives on that object."""
    owner = getattr(obj, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return False
    if isinstance(obj, np.ufunc):  # scipy.special's ufuncs are ufuncs too
        return getattr(np, obj.__name__, None) is obj
    mod = getattr(obj, "__module__", None) or ""
    return mod == "numpy" or mod.startswith("numpy.")


def _numpy_export_name(obj: Any) -> str | None:
    """The dotted name numpy exports ``obj`` under (``"linalg.matrix_power"``), or None."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    for prefix, mod in (("", np), ("linalg.", np.linalg), ("fft.", np.fft), ("random.", np.random)):
        if getattr(mod, name, None) is obj:
            return prefix + name
    return None
