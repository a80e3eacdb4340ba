"""Nested defs and lambdas as values inside the differentiated function: passed to a
function it calls (``odeint(f, z0, ts)`` with ``f = lambda z, t: ...``), or returned by one
(``dynamics = make_dynamics(params)``, a closure over the factory's locals).  Such a value
is never an array: it is a marker name standing for the function, and every call of it is
inlined in the scope the function was made in (a returned closure keeps its factory's
bindings, which can no longer change).
"""

from __future__ import annotations

import inspect
from typing import Any, NamedTuple

import libcst as cst

from srcgrad import cache

from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _MISSING, _Scope
from srcgrad.codegen.source import own_returns
from srcgrad.errors import UnsupportedSyntaxError


class _Closure(NamedTuple):
    """A nested def or lambda that a callee returned: its node, source, resolver and the
    scope it was made in (the callee's, as it was when it returned).  An entry of
    ``Normalizer.local_funcs``."""

    node: Any
    src: Any
    resolver: Any
    scope: _Scope


class FunctionValues:
    """Functions passed to and returned by inlined calls (a mixin of :class:`Normalizer`)."""

    def function_marker(self, entry: Any, hint: str) -> cst.Name:
        """A name standing for the function ``entry`` where it is passed or returned."""
        marker = self.names.temp(f"{hint}_fn")
        self.function_values[marker] = entry
        return cst.Name(marker)

    def passed_function(self, a: cst.Arg) -> cst.Arg | None:
        """``a`` when it passes a nested def or lambda of this function by its name: the
        argument as a marker for it; else None."""
        v = a.value
        entry = None if a.star else self.table_entry(v)
        if entry is not None:  # ACTIVATIONS["relu"]: the table's entry
            return a.with_changes(value=self.function_marker(entry, "entry"))
        if (
            a.star
            or not isinstance(v, cst.Name)
            or v.value not in self.local_funcs
            or v.value in self.env
        ):
            return None
        entry = self.local_funcs[v.value]
        if (
            type(entry) is tuple
        ):  # made here: its definer is on the stack while passed down
            node, fsrc, fres, depth = entry
            if depth == len(self.inline_stack) - 1:
                entry = _Closure(node, fsrc, fres, self.scope())
        return a.with_changes(value=self.function_marker(entry, v.value))

    def bind_function_value(self, name: str, atom: cst.BaseExpression) -> bool:
        """Bind ``name`` to the function a marker stands for (True); False for any other
        atom."""
        if not (isinstance(atom, cst.Name) and atom.value in self.function_values):
            return False
        self.forget(name)
        self.local_funcs[name] = self.function_values[atom.value]
        return True

    def returned_function(
        self, fdef: cst.FunctionDef, hint: str
    ) -> cst.BaseExpression | None:
        """Run a callee whose one ``return`` (its last statement) returns a lambda or a def
        of its own: its body, then a marker for that function, closed over the callee's
        bindings as they are now; None (nothing run) for any other callee."""
        body = list(fdef.body.body)  # type: ignore[union-attr]
        last = body[-1] if body else None
        if not (
            isinstance(last, cst.SimpleStatementLine)
            and len(last.body) == 1
            and isinstance(last.body[0], cst.Return)
            and len(own_returns(fdef)) == 1
        ):
            return None
        value = last.body[0].value
        if not isinstance(value, cst.Lambda) and not (
            isinstance(value, cst.Name)
            and any(
                isinstance(s, cst.FunctionDef) and s.name.value == value.value
                for s in body
            )
        ):
            return None
        self.block(body[:-1])
        if isinstance(value, cst.Lambda):
            entry: Any = _Closure(value, self.src, self.resolver, self._frozen_scope())
        else:
            found = self.local_funcs.get(value.value)
            if type(found) is not tuple:
                self.fail(
                    last,
                    f"{value.value!r} is returned, but it is defined differently on "
                    "different paths",
                    f"define {value.value} once, then return it",
                    "def",
                )
            node, fsrc, fres, _ = found
            entry = _Closure(node, fsrc, fres, self._frozen_scope())
        return self.function_marker(entry, hint)

    def call_closure(
        self,
        e: cst.Call,
        entry: _Closure,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        display: str,
    ) -> cst.BaseExpression:
        """Inline a call of a function passed or returned, in the scope it was made in."""
        return self.inline_body(
            e,
            entry.node,
            entry.node,
            entry.src,
            entry.resolver,
            args,
            hint,
            target,
            entry.scope,
            display,
            {},
        )

    def _fixed_default(self, d: Any, resolver: Any, fdef: Any, name: str) -> Any:
        """A parameter's default ``d`` as a literal: itself, or the value the ``def``
        fixed when ``d`` names a module constant (``nt=NT``); ``d`` when neither."""
        if d is None or self.constant_value(d) is not _MISSING:
            return d
        fixed = _def_time_default(resolver, fdef, name)
        return d if fixed is _MISSING else self.literal(fixed)

    def refuse_leaked_functions(self) -> None:
        """A function passed or returned is only ever called: one that reached emitted code
        as a value (stored in a list, returned, given to numpy) is refused there."""
        if not self.function_values:
            return
        for st in ir.walk_stmts(self.stmts):
            expr = getattr(st, "expr", None) or getattr(st, "source", None)
            node = getattr(st, "node", None)
            for part in (expr, node):
                if not isinstance(part, cst.CSTNode):
                    continue
                hit = ir.names_in(part) & set(self.function_values)
                if hit:
                    o = st.origin
                    self.findings.append(
                        UnsupportedSyntaxError(
                            "a function used as a value (stored, returned or given to a "
                            "function that is not inlined)",
                            filename=o.file,
                            lineno=o.line,
                            col=o.col,
                            construct="function-value",
                            hint="call it where it is needed, or pass it to a function of "
                            "yours that calls it",
                        )
                    )
                    return

    def _frozen_scope(self) -> _Scope:
        """The running function's bindings as they are now (a returned closure's)."""
        return _Scope(
            dict(self.env),
            dict(self.galias),
            set(self.np_alias),
            dict(self.local_funcs),
        )


def _def_time_default(resolver: Any, fdef: Any, name: str) -> Any:
    """The default of parameter ``name`` as the ``def`` of a module-level function fixed it
    (``nt=NT`` holds NT's value when the def ran), when it is a number, a string, None or a
    tuple of such; else ``_MISSING``.  The cache key covers these values."""
    fn = getattr(resolver, "fn", None)
    code = getattr(fn, "__code__", None)
    if code is None or not isinstance(fdef, cst.FunctionDef):
        return _MISSING
    if code.co_name != fdef.name.value:
        return _MISSING
    try:
        param = inspect.signature(fn).parameters.get(name)
    except (TypeError, ValueError):
        return _MISSING
    if param is None or param.default is inspect.Parameter.empty:
        return _MISSING
    v = param.default
    return v if cache.is_constant(v, literal=True) and _short(v) else _MISSING


def _short(v: Any) -> bool:
    """No tuple in ``v`` longer than 64 items (a default written out as a literal)."""
    return type(v) is not tuple or (len(v) <= 64 and all(map(_short, v)))
