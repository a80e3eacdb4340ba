"""Arguments of calls: lowering them, binding them to a rule's or a function's signature,
tuples and lists passed where numpy takes an array (stacked), and ``dtype=`` arguments.
"""

from __future__ import annotations

import inspect
from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _Bail, _MISSING
from srcgrad.codegen.normalize.syntax import _SwapNodes
from srcgrad.codegen.resolve import is_numpy_module
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule


def _rule_signature(rule: Rule) -> inspect.Signature:
    sig = inspect.signature(rule.adjoint)
    return sig.replace(parameters=list(sig.parameters.values())[2:])


def _bound_arguments(sig: inspect.Signature, args: list[cst.Arg]) -> dict[str, Any]:
    """The call's argument expressions by ``sig``'s parameter names (``Signature.bind``: a
    TypeError where they do not fit)."""
    pos = [a.value for a in args if a.keyword is None]
    kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
    return dict(sig.bind(*pos, **kw).arguments)


class Arguments:
    """Arguments of calls (a mixin of :class:`Normalizer`)."""

    def inlined_args(self, e: cst.Call, hint: str) -> list[cst.Arg]:
        """The arguments of a call of a function that is inlined: a function passed by its
        global name (np.tanh, relu) stays that name, so the callee's calls of the parameter
        resolve to it (never a call of a local value); the others are lowered."""
        out = []
        for a in e.args:
            if self._function_chain(a.value):
                out.append(a)
            elif (passed := self.passed_function(a)) is not None:
                out.append(passed)  # a nested def or lambda of this function
            else:
                out.append(self.lower_arg(a, hint))
        return out

    def lower_arg(self, a: cst.Arg, hint: str, snapshot: bool = False) -> cst.Arg:
        """``a`` lowered; with ``snapshot`` (a primitive's argument), a list that an
        enclosing loop appends to is read as ``lst[:]``: its items now, which the
        primitive's adjoint reads back (the list itself holds every step's items by the
        time the backward pass runs)."""
        if a.star == "**":
            raise _Bail(None)  # `f(**kw)`: reported by check; binding it would mislead
        if snapshot and not a.star and self.grown_by_loop(a.value):
            whole = cst.SubscriptElement(cst.Slice(lower=None, upper=None))
            return a.with_changes(
                value=self.lower(cst.Subscript(a.value, [whole]), hint)
            )
        return a.with_changes(value=self.lower(a.value, hint))

    def grown_by_loop(self, e: cst.BaseExpression) -> bool:
        """``e`` names a list built here that an enclosing loop appends to, one list
        object across that loop's iterations (made before the loop began)."""
        if not isinstance(e, cst.Name) or self.env.get(e.value) not in self.dyn:
            return False
        cur = self.env[e.value]
        if cur in self.grown_outside:
            return True
        made_in = self.list_made_at(cur)
        return any(cur in lp.get("grown", ()) for lp in self.loops[made_in:])

    def list_made_at(self, cur: str) -> int:
        """How many loops were around the making of the list ``cur`` (0: unknown)."""
        return self.list_depth.get(cur, self.display_depth.get(cur, 0))

    def bind_signature(
        self, fn: Any, args: list[cst.Arg], e: cst.CSTNode, display: str
    ) -> dict[str, Any]:
        try:
            return _bound_arguments(inspect.signature(fn), args)
        except TypeError as exc:
            self.fail(
                e, f"arguments of {display}: {exc}", "match its signature", display
            )

    def bind(
        self, rule: Rule, args: list[cst.Arg], e: cst.CSTNode, display: str
    ) -> dict[str, Any]:
        try:
            bound = _bound_arguments(_rule_signature(rule), args)
        except TypeError as exc:
            self.fail(
                e,
                f"arguments of {display} not supported: {exc}",
                f"call {display} with the parameters: {', '.join(rule.params)}",
                display,
            )
        if rule.varargs and rule.varargs in bound:
            bound[rule.varargs] = cst.Tuple(
                elements=[cst.Element(v) for v in bound[rule.varargs]]
            )
        return bound

    def stack_operands(
        self, rule: Rule, node: cst.BaseExpression, bound: dict[str, Any]
    ) -> tuple[cst.BaseExpression, dict[str, Any]]:
        """A tuple/list (a display, or a name bound to one built here, or a list/tuple
        argument) passed to a numpy function where it takes an array is the array of its
        items, as numpy itself makes it: ``np.sum([a, b])`` is ``np.sum(np.array([a, b]))``.
        The array is built in the inputs' namespace (``xp.array``), then the rule applies;
        numpy refuses items of different shapes, in the forward pass, as it does in ``f``.
        """
        swap: dict[int, cst.BaseExpression] = {}
        for p in rule.operands:
            v = bound.get(p)
            if v is None:
                continue
            if p in rule.sequence or p == rule.varargs:
                if isinstance(v, cst.Name) and self.lit.get(v.value, ("",))[0] == "seq":
                    v = bound[p] = cst.List(
                        [cst.Element(a) for a in self.lit[v.value][1]]
                    )
                if not isinstance(v, (cst.Tuple, cst.List)):
                    continue
                elements = []
                for el in v.elements:
                    new = self.as_array(el.value)
                    if new is not el.value:
                        swap[id(el.value)] = new
                    elements.append(el.with_changes(value=new))
                bound[p] = v.with_changes(elements=elements)
                continue
            new = self.as_array(v)
            if new is not v:
                swap[id(v)] = new
                bound[p] = new
        if swap:
            node = node.visit(_SwapNodes(swap))
        return node, bound

    def as_array(self, v: Any) -> Any:
        """``v`` itself, or, for a tuple/list value, the name of ``xp.array`` of its items
        (nested displays become arrays first, row by row)."""
        if not self.is_container(v):
            return v
        obj: cst.BaseExpression
        if isinstance(v, (cst.Tuple, cst.List)):
            items = [el.value for el in v.elements]
        elif (
            isinstance(v, cst.Name)
            and v.value in self.lit
            and self.lit[v.value][0] == "seq"
        ):
            items = list(self.lit[v.value][1])
        elif (
            isinstance(v, cst.Name)
            and v.value in self.cont
            and self.cont[v.value][2][0]
            in (
                "seq",
                "nt",
            )
        ):
            listed = cst.ensure_type(self.expand_container(v.value), cst.List)
            items = [el.value for el in listed.elements]
        elif isinstance(v, cst.Name) and v.value in self.dyn:
            items = None
        else:
            self.fail(
                self._call_node or v,
                "a dict passed where an array is expected",
                "pass an array (np.array of the values you mean, in a fixed order)",
                "list-as-array",
            )
            raise AssertionError
        if items is None:
            obj = v
        else:
            parts = [self.as_array(it) for it in items]
            if not all(self.is_static(p) for p in parts):
                # a device namespace stacks device arrays only: constants join as arrays
                # (numpy gives the same values and dtype either way)
                parts = [
                    (
                        cst.Call(
                            func=cst.Attribute(
                                value=cst.Name(self.xp), attr=cst.Name("asarray")
                            ),
                            args=[cst.Arg(p)],
                        )
                        if self.is_static(p)
                        else p
                    )
                    for p in parts
                ]
            obj = cst.List([cst.Element(p) for p in parts])
        rule = registry.lookup_name("array")
        assert rule is not None
        expr = cst.Call(
            func=cst.Attribute(value=cst.Name(self.xp), attr=cst.Name("array")),
            args=[cst.Arg(obj)],
        )
        return self.prim(rule, None, "stacked", expr, {"object": obj})

    def integer_dtype(
        self, node: cst.BaseExpression, e: cst.CSTNode, display: str
    ) -> bool:
        """Whether a ``dtype=`` argument names an integer or boolean dtype (the result is then
        a constant).  A dtype srcgrad cannot read from the source gets a check at run time
        that refuses a non-float one."""
        if isinstance(node, cst.Name) and node.value == "None":
            return False
        value: Any = _MISSING
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
        else:
            parts = self.resolver.dotted(node)
            if parts is not None and (parts[0] in self.np_alias or parts[0] == self.xp):
                obj: Any = np  # xp.int32: the array module's dtype, as numpy spells it
                for p in parts[1:]:
                    obj = getattr(obj, p, _MISSING)
                value = obj
            elif parts is not None and parts[0] not in self.locals:
                # only names that cannot change between calls: numpy's dtypes, builtin types
                found, root = self.resolver.lookup(parts[0])
                found, obj = self.resolver.value_of(parts)
                if found and (
                    is_numpy_module(root)
                    or (len(parts) == 1 and obj in (int, float, bool, complex))
                ):
                    value = obj
        if value is not _MISSING:
            try:
                kind = np.dtype(value).kind
            except TypeError:
                kind = ""
            if kind:
                return kind not in "fc"
        self.runtime_imports.add("require_float_dtype")
        o = self.origin
        call = cst.Call(
            func=cst.Name(self.names.generated("require_float_dtype")),
            args=[
                cst.Arg(node),
                cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {display}"))),
            ],
        )
        self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
        return False
