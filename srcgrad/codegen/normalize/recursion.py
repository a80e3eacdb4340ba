"""Recursion: a call of a module-level user function already being inlined becomes
``r, r_pullback = call_vjp(f, wrt, *args)``, the callee's own generated pair, with its
arguments bound to the call's atoms (or to its literal defaults).
"""

from __future__ import annotations

import inspect
from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _MISSING


class Recursion:
    """Recursive calls through ``call_vjp`` (a mixin of :class:`Normalizer`)."""

    def recursive_call(
        self,
        e: cst.Call,
        callee: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        pre_bound: dict[str, cst.BaseExpression],
    ) -> cst.BaseExpression:
        """``r, r_pullback = call_vjp(f, wrt, *args)``: the callee's own forward pass, whose
        pullback runs in the backward pass (its wrt is filled in after activity analysis).
        """
        if pre_bound:
            self.fail(
                e,
                "recursion through a partial or a bound method (not supported yet)",
                "call the function directly",
                "recursion",
            )
        bound = self._recursion_arguments(e, callee, args)
        self._check_recursion_arguments(e, callee, bound)
        operands = [
            v.value
            for v in bound.values()
            if isinstance(v, cst.Name)
            and v.value in self.locals
            and not self.is_static(v)
        ]
        self.callees.append(callee)
        self.runtime_imports.add("call_vjp")
        r = self.define(target) if target is not None else self.names.temp(hint)
        stem = r.lstrip("_")
        if not stem[:1].isalpha():
            # a temporary with no hint (`_2`): name it after the callee
            stem = f"{callee.__name__}{stem}"
        pb = self.names.fresh(f"{stem}_pullback")
        self.locals.update({r, pb})
        func = (
            self._xp_chain(e.func)
            if self.resolver.dotted(e.func) is not None
            else e.func
        )
        st = Stmt(
            ir.CALLVJP,
            [r, pb],
            func,
            self.origin,
            operands=operands,
            label=f"call {callee.__qualname__}",
            bound=bound,
        )
        self.stmts.append(st)
        self.last_define = (target, r) if target is not None else None
        return cst.Name(r)

    def _recursion_arguments(
        self, e: cst.Call, callee: Any, args: list[cst.Arg]
    ) -> dict[str, Any]:
        """The callee's parameters bound to the call's atoms, the missing ones to their
        defaults (which must be literals)."""
        sig = inspect.signature(callee)
        pos = [a.value for a in args if a.keyword is None]
        kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            ba = sig.bind(*pos, **kw)
        except TypeError as exc:
            self.fail(
                e,
                f"arguments of {callee.__qualname__}: {exc}",
                "match its signature",
                "recursion",
            )
        ba.apply_defaults()
        bound: dict[str, Any] = {}
        for name, value in ba.arguments.items():
            if isinstance(value, cst.BaseExpression):
                bound[name] = value
            elif self.constant_value(self.literal(value)) is not _MISSING:
                bound[name] = self.literal(value)
            else:
                self.fail(
                    e,
                    f"the default of {callee.__qualname__}'s {name!r} is not a literal",
                    f"pass {name} explicitly",
                    "recursion",
                )
        return bound

    def _check_recursion_arguments(
        self, e: cst.Call, callee: Any, bound: dict[str, Any]
    ) -> None:
        """Refuse the arguments a recursive call cannot pass: a container, or a tuple or
        list built here."""
        for name, v in bound.items():
            if (
                isinstance(v, cst.Name)
                and v.value in self.cont
                and not self.is_static(v)
            ):
                self.fail(
                    e,
                    f"a container argument ({self.user_name(v.value)}) passed to the recursive "
                    f"call {callee.__qualname__} (not supported yet)",
                    "pass the arrays the recursion needs as separate arguments, e.g. "
                    f"{callee.__name__}(W, b, ...) instead of {callee.__name__}(params, ...)",
                    "recursion",
                )
            if isinstance(v, cst.Name) and (v.value in self.lit or v.value in self.dyn):
                self.fail(
                    e,
                    f"a tuple/list built here passed to the recursive call {callee.__qualname__}",
                    "pass arrays",
                    "recursion",
                )
