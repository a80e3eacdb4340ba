"""``ufunc.accumulate`` of the ufuncs whose running form has a rule: ``np.add.accumulate``
is ``np.cumsum`` and ``np.multiply.accumulate`` is ``np.cumprod`` (with numpy's default
``axis=0``); ``np.maximum.accumulate`` / ``np.minimum.accumulate`` gather each running
extreme from the entry it came from (``np.take_along_axis`` with the integer positions
:func:`srcgrad.runtime.running_extreme_index` reads off the values), so the gradient of each
output entry goes to that entry.  Any other form (``dtype=``, ``out=``) is left to the
refusal of a call with no rule.

``ufunc.reduce`` of the same four is the reduction under numpy's name (``np.add.reduce`` is
``np.sum``, ``np.maximum.reduce`` is ``np.max``), with ufunc.reduce's default ``axis=0``
and its ``axis``/``keepdims``.  ``np.where(condition)`` with one argument is
``np.nonzero(condition)``: integer positions."""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.normalize.syntax import _dotted_node
from srcgrad.rules import registry

_SCANS = {"add": "cumsum", "multiply": "cumprod"}
_EXTREMES = {"maximum": "max", "minimum": "min"}


_REDUCTIONS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min"}


def _ufunc_method(obj: Any, method: str) -> str | None:
    """The name of the ufunc whose method ``method`` ``obj`` is, when it is one we lower."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, np.ufunc) or getattr(obj, "__name__", "") != method:
        return None
    name = owner.__name__
    return name if name in _SCANS or name in _EXTREMES else None


def _accumulated_ufunc(obj: Any) -> str | None:
    """The name of the ufunc whose ``accumulate`` ``obj`` is, when it is one we lower."""
    return _ufunc_method(obj, "accumulate")


class Accumulations:
    """Lowering of ``np.<ufunc>.accumulate(a[, axis])`` (a mixin of the Normalizer)."""

    def positions_call(
        self: Any,
        e: cst.Call,
        func: cst.BaseExpression,
        obj: Any,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """``np.where(condition)`` as ``np.nonzero(condition)``."""
        if not (
            obj is np.where
            and isinstance(func, cst.Attribute)
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            return None
        node = e.with_changes(func=func.with_changes(attr=cst.Name("nonzero")))
        return self._lower(node, hint, target)

    def reduce_call(
        self: Any,
        e: cst.Call,
        func: cst.BaseExpression,
        obj: Any,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """``np.add.reduce(a[, axis][, keepdims=])`` as ``np.sum(a, axis=axis)``."""
        name = _ufunc_method(obj, "reduce")
        args = list(e.args)
        keywords = [a.keyword.value if a.keyword else None for a in args]
        positional = [k for k in keywords if k is None]
        if (
            name is None
            or not isinstance(func, cst.Attribute)
            or not isinstance(func.value, cst.Attribute)
            or not args
            or any(a.star for a in args)
            or keywords[0] is not None
            or len(positional) > 2
            or keywords != positional + [k for k in keywords if k is not None]
            or not set(filter(None, keywords)) <= {"axis", "keepdims"}
        ):
            return None
        given = {k: a.value for k, a in zip(keywords, args) if k is not None}
        axis = args[1].value if len(positional) == 2 else given.get("axis")
        extra = [cst.Arg(axis or cst.Integer("0"), keyword=cst.Name("axis"))]
        if "keepdims" in given:
            extra.append(cst.Arg(given["keepdims"], keyword=cst.Name("keepdims")))
        call = cst.Call(
            func=cst.Attribute(
                value=func.value.value, attr=cst.Name(_REDUCTIONS[name])
            ),
            args=[cst.Arg(args[0].value), *extra],
        )
        return self._lower(call, hint, target)

    def accumulate_call(
        self: Any,
        e: cst.Call,
        func: cst.BaseExpression,
        obj: Any,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        name = _accumulated_ufunc(obj)
        args = list(e.args)
        keywords = [a.keyword.value if a.keyword else None for a in args]
        if (
            name is None
            or not isinstance(func, cst.Attribute)
            or not isinstance(func.value, cst.Attribute)
            or not 1 <= len(args) <= 2
            or any(a.star for a in args)
            or keywords[0] is not None
            or keywords[1:] not in ([], [None], ["axis"])
        ):
            return None
        axis = args[1].value if len(args) == 2 else cst.Integer("0")
        if name in _SCANS:
            scan = cst.Call(
                func=cst.Attribute(value=func.value.value, attr=cst.Name(_SCANS[name])),
                args=[cst.Arg(args[0].value), cst.Arg(axis, keyword=cst.Name("axis"))],
            )
            return self._lower(scan, hint, target)
        x = self.lower(args[0].value, hint)
        ax = self.lower(axis, hint)
        if self.is_static(x) or not self.is_static(ax):
            if not self.is_static(x) or not self.is_static(ax):
                return None  # an axis known only when it runs: refused as before
            node = cst.Call(
                func=_dotted_node(self.xp, f"{name}.accumulate"),
                args=[cst.Arg(x), cst.Arg(ax, keyword=cst.Name("axis"))],
            )
            return cst.Name(self.emit(ir.STATIC, target, hint, node))
        self.runtime_imports.add("running_extreme_index")
        index = cst.Call(
            func=cst.Name(self.names.generated("running_extreme_index")),
            args=[
                cst.Arg(x),
                cst.Arg(ax),
                cst.Arg(cst.SimpleString(repr(_EXTREMES[name]))),
            ],
        )
        idx = self.emit_nondiff(None, "running_at", index, [])
        rule = registry.lookup(np.take_along_axis)
        gather = cst.Call(
            func=_dotted_node(self.xp, "take_along_axis"),
            args=[cst.Arg(x), cst.Arg(idx), cst.Arg(ax, keyword=cst.Name("axis"))],
        )
        return self.prim(
            rule, target, hint, gather, {"arr": x, "indices": idx, "axis": ax}
        )
