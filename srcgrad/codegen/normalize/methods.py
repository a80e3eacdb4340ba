"""Method calls: array methods bound to their rules, list methods on lists built here,
random draws of a generator argument, and the refusals for methods with no rule.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules import registry


# in-place array methods with no functional rule: what to write instead
_INPLACE_METHOD_HINTS = {
    "fill": "build a new array instead: y = np.full_like(y, value)",
    "sort": "sort into a new array: y = np.sort(y)",
    "resize": "reshape into a new array: y = np.reshape(y, shape)",
    "put": "build a new array with np.where, or write y[idx] = v into an array made here",
    "itemset": "write y[idx] = v into an array made in the function",
    "setfield": "build a new array instead",
    "partition": "use np.sort(y) (partition order is not defined)",
}


def _method_hint(method: str) -> str:
    """What to write instead of the array method ``method``, which has no rule."""
    if method in _INPLACE_METHOD_HINTS:
        return _INPLACE_METHOD_HINTS[method]
    fn = getattr(np, method, None)
    if fn is not None and registry.lookup(fn) is not None:
        return f"call np.{method}(x, ...) instead: it has a rule"
    return (
        "rewrite it with numpy functions that have rules (`srcgrad rules` lists them), or "
        "register one with @srcgrad.rules.adjoint"
    )
