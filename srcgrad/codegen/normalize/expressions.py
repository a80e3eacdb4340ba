"""Expressions: lowering to atoms (names, literals, operators, comparisons, attributes,
subscripts), and :meth:`Expressions.prim`, which binds a primitive's rule to its
operands.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.check import _UNSUPPORTED
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _Bail, _LITERALS, _MISSING
from srcgrad.codegen.normalize.syntax import _constant_key, _readable, _strip_parens
from srcgrad.codegen.resolve import (
    ARRAY_ATTRIBUTES_STATIC,
    is_numpy_module,
    public_name,
)
from srcgrad.errors import MissingRuleError
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule

_BINOPS = {
    cst.Add: "+",
    cst.Subtract: "-",
    cst.Multiply: "*",
    cst.Divide: "/",
    cst.FloorDivide: "//",
    cst.Modulo: "%",
    cst.Power: "**",
    cst.MatrixMultiply: "@",
}


_BITOPS = (cst.BitAnd, cst.BitOr, cst.BitXor, cst.LeftShift, cst.RightShift)


# expression kinds with no lowering of their own: what to call them, what to write instead
_EXPRESSION_HINTS: dict[type, tuple[str, str]] = {
    cst.Lambda: (
        "a lambda used as a value (passed to a function or stored in a container)",
        "srcgrad differentiates calls, not functions passed around: bind the lambda to a name "
        "and call it (f = lambda v: ...; f(x)), or write the computation with array operations",
    ),
    cst.GeneratorExp: (
        "a generator expression outside sum()/a list",
        "build a list ([... for v in xs]) and stack or sum it",
    ),
    cst.Ellipsis: ("`...` as a value", "use it only inside an index, e.g. x[..., 0]"),
    cst.Slice: ("a slice outside an index", "index with it directly, e.g. x[1:3]"),
}


# array attributes with no rule: what to write instead
_ARRAY_ATTRIBUTE_HINTS = {
    "flat": "use np.ravel(x) (or x.ravel())",
    "base": "use the array itself",
    "data": "use the array itself",
    "ctypes": "use the array itself",
    "strides": "only constant attributes (.shape, .ndim, .size, .dtype) are read as constants",
}


class _Renamer(cst.CSTTransformer):
    def __init__(self, norm: Any) -> None:
        super().__init__()
        self.norm = norm
        self.attrs: set[int] = set()

    def rename(self, node: cst.BaseExpression) -> cst.BaseExpression:
        return cst.ensure_type(node.visit(self), cst.BaseExpression)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.attrs.add(id(node.attr))
        return True

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        v = original.value
        if v in self.norm.env:
            return cst.Name(self.norm.env[v])
        if id(original) in self.attrs or v in ("True", "False", "None"):
            return updated
        found, obj = self.norm.resolver.lookup(v)
        if found and not is_numpy_module(obj):
            return self.norm._foreign(
                updated, v
            )  # a free name, as emitted code must read it
        return updated

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)


class Expressions:
    """Lowering expressions to atoms (a mixin of :class:`Normalizer`)."""

    def lower(
        self, e: cst.BaseExpression, hint: str, target: str | None = None
    ) -> cst.BaseExpression:
        """Lower ``e`` to an atom, emitting statements; with ``target``, bind it there."""
        self.last_define = None
        node = self._lower(e, hint, target)
        if target is not None and self.bind_function_value(target, node):
            return node  # `g = make(w)`: g is the function the call returned
        if target is not None and not (
            isinstance(node, cst.Name) and self.last_define == (target, node.value)
        ):
            self.bind_atom(target, node)
            return cst.Name(self.env[target])
        return node

    def _lower(
        self, e: cst.BaseExpression, hint: str, target: str | None
    ) -> cst.BaseExpression:
        if isinstance(e, cst.Name):
            return self.name(e)
        if isinstance(e, _LITERALS):
            return e
        if isinstance(e, cst.FormattedString):
            return _Renamer(self).rename(e)
        if isinstance(e, cst.Attribute):
            return self.attribute(e, hint, target)
        if isinstance(e, cst.Subscript):
            return self.subscript(e, hint, target)
        if isinstance(e, cst.BinaryOperation):
            return self.binop(e, hint, target)
        if isinstance(e, cst.UnaryOperation):
            return self.unop(e, hint, target)
        if isinstance(e, cst.Comparison):
            return self.compare(e, hint, target)
        if isinstance(e, cst.IfExp):
            return self.ternary(e, hint, target)
        if isinstance(e, cst.BooleanOperation):
            return self.boolean(e, hint, target)
        if isinstance(e, cst.Call):
            out = self.call(e, hint, target=target)
            assert out is not None
            return out
        if isinstance(e, cst.Dict):
            elements = []
            for el in e.elements:
                if (
                    not isinstance(el, cst.DictElement)
                    or self.key_of(self.lower(el.key, hint)) is _MISSING
                ):
                    self.fail(
                        el,
                        "dict display with a non-constant key",
                        "use literal keys",
                        "dict",
                    )
                elements.append(
                    el.with_changes(  # type: ignore[union-attr]
                        key=self.literal(self.key_of(self.lower(el.key, hint))),  # type: ignore[union-attr]
                        value=self.lower(el.value, hint),  # type: ignore[union-attr]
                    )
                )
            return e.with_changes(elements=elements)
        if isinstance(e, (cst.ListComp, cst.GeneratorExp)):
            return self.comprehension(e, hint, target)
        if isinstance(e, cst.DictComp):
            return self.dict_comprehension(e, hint)
        if isinstance(e, (cst.Tuple, cst.List)):
            if not all(isinstance(el, cst.Element) for el in e.elements):
                return self.starred_display(e, hint)
            elements = []
            for el in e.elements:
                elements.append(el.with_changes(value=self.lower(el.value, hint)))
            return e.with_changes(elements=elements)
        if type(e) in _UNSUPPORTED:
            raise _Bail(None)  # reported by check, with its own hint
        what, how = _EXPRESSION_HINTS.get(
            type(e), (_readable(type(e).__name__), "split it into simpler statements")
        )
        self.fail(
            e, f"unsupported expression: {what}", how, _readable(type(e).__name__)
        )
        raise AssertionError  # unreachable

    def binop(
        self, e: cst.BinaryOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower(e.left, hint)
        right = self.lower(e.right, hint)
        node = e.with_changes(left=left, right=right)
        if self.is_static(left) and self.is_static(right):
            return node
        if isinstance(e.operator, cst.Add):
            joined = self.concatenation(e, left, right)
            if joined is not None:
                return joined
        node = _strip_parens(node)
        if isinstance(e.operator, _BITOPS):
            return self.emit_nondiff(target, hint, node, [left, right])
        symbol = _BINOPS[type(e.operator)]
        rule = self.resolver.operator_rule(symbol)
        if rule is None:
            self.fail(
                e,
                f"no adjoint rule for the operator {symbol}",
                "use a differentiable numpy function",
                symbol,
                MissingRuleError,
            )
        assert rule is not None
        self._call_node = e  # where an operand's error points
        return self.prim(
            rule, target, hint, node, {rule.params[0]: left, rule.params[1]: right}
        )

    def unop(
        self, e: cst.UnaryOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        operand = self.lower(e.expression, hint)
        node = e.with_changes(expression=operand)
        if self.is_static(operand):
            return node
        node = _strip_parens(node)
        if isinstance(e.operator, (cst.Minus, cst.Plus)):
            symbol = "unary -" if isinstance(e.operator, cst.Minus) else "unary +"
            rule = self.resolver.operator_rule(symbol)
            if rule is None:
                rule = registry.lookup(
                    np.negative if symbol == "unary -" else np.positive
                )
            if rule is None:
                self.fail(
                    e,
                    f"no rule for {symbol}",
                    "register one with @srcgrad.rules.adjoint(np.negative) / (np.positive)",
                    symbol,
                    MissingRuleError,
                )
            assert rule is not None
            self._call_node = e
            return self.prim(rule, target, hint, node, {rule.params[0]: operand})
        return self.emit_nondiff(target, hint, node, [operand])

    def compare(
        self, e: cst.Comparison, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower(e.left, hint)
        comps = [
            c.with_changes(comparator=self.lower(c.comparator, hint))
            for c in e.comparisons
        ]
        node = e.with_changes(left=left, comparisons=comps)
        if self.is_static(node):
            return node
        return self.emit_nondiff(target, hint, _strip_parens(node), [])

    def attribute(
        self, e: cst.Attribute, hint: str, target: str | None
    ) -> cst.BaseExpression:
        chain = self._global_chain(e)
        if chain is not None:
            return self._xp_chain(e)
        attr = e.attr.value
        base = self.lower(e.value, hint)
        if isinstance(base, cst.Name) and base.value in self.cont:
            return self.read(base.value, attr, e.with_changes(value=base), hint, target)
        if attr in ARRAY_ATTRIBUTES_STATIC or self.is_static(base):
            return e.with_changes(value=base)
        rule = registry.by_attribute(attr)
        if rule is not None:
            return self.prim(
                rule, target, hint, e.with_changes(value=base), {rule.params[0]: base}
            )
        if self._untyped_argument(base) and not hasattr(np.ndarray, attr):
            # an argument not differentiated, of a type known only at the call (generating
            # ahead of time): not an array attribute, so an object's, and a constant
            return cst.Name(
                self.emit(ir.STATIC, target, hint, e.with_changes(value=base))
            )
        if hasattr(np.ndarray, attr):
            self.fail(
                e,
                f"array attribute .{attr} on a value that carries a gradient has no rule",
                _ARRAY_ATTRIBUTE_HINTS.get(
                    attr, "rewrite it with numpy functions (`srcgrad rules` lists them)"
                ),
                "attribute",
            )
        self.fail(
            e,
            f"attribute .{attr} of a value that carries a gradient (srcgrad differentiates "
            "arrays and containers of them, not other objects)",
            "read plain settings from an argument that is not differentiated or from a "
            "module-level global, and pass arrays as arguments (in a dict, list, tuple, "
            "NamedTuple or dataclass, or a class given to srcgrad.tree.register)",
            "attribute",
        )
        raise AssertionError

    def subscript(
        self, e: cst.Subscript, hint: str, target: str | None
    ) -> cst.BaseExpression:
        base = self.lower(e.value, hint)
        if isinstance(base, cst.Name) and (
            base.value in self.lit or base.value in self.dyn
        ):
            sliced = self.list_slice(e, base.value, hint, target)
            if sliced is not None:
                return sliced
            if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
                self.fail(
                    e,
                    "slice of a list built in the function",
                    "index its items one by one, or stack it first and slice the array: "
                    "np.stack(items)[1:]",
                    "list-slice",
                )
            key = self.lower(e.slice[0].slice.value, hint)  # type: ignore[union-attr]
            return self.container_item(base.value, key, hint, target, e)
        if (
            isinstance(base, cst.Name)
            and base.value in self.cont
            and len(e.slice) == 1
            and isinstance(e.slice[0].slice, cst.Slice)
            and self.cont[base.value][2][0] == "seq"
        ):
            sl = e.slice[0].slice
            bounds = self.slice_bounds(sl, hint)
            if any(b is _MISSING for b in bounds):
                self.fail(
                    e,
                    "slice of a container argument with bounds not known before the call",
                    "use constant bounds",
                    "read",
                )
            n = len(self.cont[base.value][2][1])
            items = []
            for i in range(n)[slice(*bounds)]:
                expr = cst.Subscript(
                    value=base,
                    slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))],
                )
                items.append(cst.Element(self.read(base.value, i, expr, hint, None)))
            return self.bind_display(cst.List(items), hint, target)
        if isinstance(base, cst.Name) and base.value in self.cont:
            if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
                self.fail(
                    e, "slice of a container argument", "index with a constant", "read"
                )
            return self.argument_item(base, e, hint, target)
        return self.lower_subscript(e, base, hint, target)

    def lower_subscript(
        self,
        e: cst.Subscript,
        base: cst.BaseExpression,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        elements = self.lower_slices(e.slice, hint)
        node = e.with_changes(value=base, slice=elements)
        if self.is_static(node):
            return node
        if not isinstance(base, cst.Name) and self.is_static(base):
            # a constant that is not a plain name here (another module's array, read by
            # an emitted module as module.C): named first, then indexed like any array
            base = cst.Name(self.emit(ir.STATIC, None, hint, base))
            node = e.with_changes(value=base, slice=elements)
        if not isinstance(base, cst.Name):
            self.fail(
                e,
                "subscript of an expression",
                "assign it to a name first",
                "subscript",
            )
        rule = registry.lookup_name("getitem")
        assert rule is not None, "getitem rule missing"
        key = cst.Subscript(value=cst.Name(self.index_name), slice=elements)
        self.runtime_imports.add("index")
        return self.prim(rule, target, hint, node, {"x": base, "key": key})

    def key_of(self, node: cst.BaseExpression) -> Any:
        k = _constant_key(node)
        if k is _MISSING and isinstance(node, cst.BinaryOperation):
            return self.constant_value(node)  # `t - 1` of constants: an int or a str
        if k is _MISSING and isinstance(node, cst.Name):
            name = self.env.get(node.value, node.value)
            k = self.const.get(name, _MISSING)
            if isinstance(k, tuple) or (
                k is not _MISSING and not isinstance(k, (int, str))
            ):
                return _MISSING
        return k

    def lower_slices(self, slices: Any, hint: str) -> list[cst.SubscriptElement]:
        """The elements of a subscript with every index and bound lowered to an atom."""
        elements = []
        for el in slices:
            sl = el.slice
            if isinstance(sl, cst.Index):
                sl = sl.with_changes(value=self.lower(sl.value, hint))
            else:
                sl = sl.with_changes(
                    lower=None if sl.lower is None else self.lower(sl.lower, hint),
                    upper=None if sl.upper is None else self.lower(sl.upper, hint),
                    step=None if sl.step is None else self.lower(sl.step, hint),
                )
            elements.append(el.with_changes(slice=sl))
        return elements

    def _untyped_argument(self, node: cst.BaseExpression) -> bool:
        """``node`` is a parameter of the differentiated function, not in ``wrt``, whose type
        the generator was not told (code generated ahead of time, without arguments)."""
        return (
            isinstance(node, cst.Name)
            and len(self.inline_stack) == 1
            and node.value in self.params_set
            and node.value not in self.wrt
            and node.value not in self.containers
            and node.value not in self.cont
        )

    def emit_nondiff(
        self, target: str | None, hint: str, node: cst.BaseExpression, _: list[Any]
    ) -> cst.BaseExpression:
        return cst.Name(self.emit(ir.NONDIFF, target, hint, node, label="nondiff"))

    def prim(
        self,
        rule: Rule,
        target: str | None,
        hint: str,
        expr: cst.BaseExpression,
        bound: dict[str, Any],
        multi: list[str] | None = None,
    ) -> cst.BaseExpression:
        """Bind the primitive of ``rule`` to its operands (``bound``: its parameters' atoms) in
        a statement ``expr``; ``multi``: the names of a multi-output primitive's results.
        """
        operands = self._prim_operands(rule, expr, bound)
        if multi is not None:
            names = [self.define(n) for n in multi]
            self.last_multi = multi  # (by identity: which unpacking it bound)
            self.locals.update(names)
            self.stmts.append(
                Stmt(
                    ir.PRIM,
                    names,
                    expr,
                    self.origin,
                    rule=rule,
                    bound=bound,
                    operands=operands,
                    label=rule.name,
                )
            )
            self.note_view(self.stmts[-1])
            return cst.Name(names[0])
        out = cst.Name(
            self.emit(
                ir.PRIM,
                target,
                hint,
                expr,
                rule=rule,
                bound=bound,
                operands=operands,
                label=rule.name,
            )
        )
        self.note_view(self.stmts[-1])
        return out

    def refuse_unaccepted(
        self, rule: Rule, call: cst.CSTNode, bound: dict[str, Any]
    ) -> None:
        """Refuse a call that passes a parameter a value its rule does not differentiate
        (the rule's ``accepts``: ``scipy.linalg.solve``'s ``overwrite_a=True``); a value
        that is not a literal counts as any value."""
        for param, (values, hint) in rule.extra.get("accepts", {}).items():
            if param not in bound:
                continue
            value = self.constant_value(bound[param])
            if value is _MISSING or not any(
                type(value) is type(v) and value == v for v in values
            ):
                text = cst.Module([]).code_for_node(bound[param])
                name = public_name(rule) or rule.name
                self.fail(
                    call,
                    f"{name}(..., {param}={text}) is not differentiated (srcgrad "
                    f"differentiates {param} = {', '.join(map(repr, values))})",
                    hint,
                    rule.name,
                    MissingRuleError,
                )

    def _prim_operands(
        self, rule: Rule, expr: cst.BaseExpression, bound: dict[str, Any]
    ) -> list[str]:
        """The locals a primitive's operands read (a sequence operand's items; a name bound
        to a display or a container argument is expanded in ``bound``); a container where
        an array is expected is refused."""
        operands: list[str] = []
        for p in rule.operands + (
            (rule.varargs,)
            if rule.varargs and rule.varargs not in rule.operands
            else ()
        ):
            v = bound.get(p)
            if v is None:
                continue
            if p not in rule.sequence and p != rule.varargs and self.is_container(v):
                self._refuse_container_operand(rule, expr, bound, v)
            if isinstance(v, cst.Name) and p in rule.sequence:
                if v.value in self.lit and self.lit[v.value][0] == "seq":
                    v = bound[p] = cst.List(
                        [cst.Element(a) for a in self.lit[v.value][1]]
                    )
                elif v.value in self.cont and self.cont[v.value][2][0] == "seq":
                    v = bound[p] = self.expand_container(v.value)
                elif v.value in self.dyn:
                    operands.append(v.value)
                    continue
            vals = (
                [e.value for e in v.elements]
                if isinstance(v, (cst.Tuple, cst.List))
                and (p in rule.sequence or p == rule.varargs)
                else [v]
            )
            if p in rule.sequence or p == rule.varargs:
                for a in vals:
                    if self.is_container(a):  # its items would not get their gradients
                        self.fail(
                            self._call_node or v,
                            f"a tuple, list or dict as one operand of {rule.name}",
                            "pass arrays or numbers (np.array([...]) makes one array of "
                            "equally shaped items)",
                            "list-as-array",
                        )
            for a in vals:
                if (
                    isinstance(a, cst.Name)
                    and a.value in self.locals
                    and a.value not in self.static
                ):
                    operands.append(a.value)
        return operands

    def _refuse_container_operand(
        self, rule: Rule, expr: cst.BaseExpression, bound: dict[str, Any], v: Any
    ) -> None:
        """A tuple, list or dict passed where the primitive takes one array (``+`` or ``*``
        on lists: concatenation or repetition, not arithmetic) is refused."""
        what = repr(v.value) if isinstance(v, cst.Name) else "display"
        text = v.value if isinstance(v, cst.Name) else "[...]"
        lists = [o for o in bound.values() if self.is_container(o)]
        ints = [o for o in bound.values() if isinstance(o, cst.Integer)]
        if isinstance(expr, cst.BinaryOperation) and (
            isinstance(expr.operator, cst.Add)
            and len(lists) == 2
            or isinstance(expr.operator, cst.Multiply)
            and len(lists) == 1
            and ints
        ):
            op = "+" if isinstance(expr.operator, cst.Add) else "*"
            shown = (
                self.user_name(v.value, "the list")
                if isinstance(v, cst.Name)
                else "the list"
            )
            self.fail(
                self._call_node or v,
                f"`{op}` on the list/tuple {shown!r}: list "
                f"{'concatenation' if op == '+' else 'repetition'}, not arithmetic",
                f"grow the list with {shown}.append(item) and join the arrays at the end "
                f"with np.concatenate({shown}) or np.stack({shown})",
                "list-arithmetic",
            )
        self.fail(
            self._call_node or v,
            f"the tuple/list/dict {what} is passed to {rule.name} as one array",
            f"make it an array first: np.array({text}) (np.stack for arrays)",
            "list-as-array",
        )
