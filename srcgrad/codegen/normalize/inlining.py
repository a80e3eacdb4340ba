"""Inlining: a user function's body (or a nested def's, or a lambda's) run at its call
site with its parameters bound to the call's atoms; recursion through ``call_vjp``.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen.normalize.base import _is_function_value


def _default_function(d: cst.BaseExpression, resolver: Any) -> bool:
    """Is a parameter default a global name chain of a function (``act=np.tanh``)?"""
    parts = resolver.dotted(d)
    if parts is None:
        return False
    found, obj = resolver.value_of(parts)
    return found and _is_function_value(obj)
