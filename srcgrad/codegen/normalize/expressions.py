"""Expressions: lowering to atoms (names, literals, operators, comparisons, attributes,
subscripts), and :meth:`Expressions.prim`, which binds a primitive's rule to its
operands.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen.resolve import is_numpy_module


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
            return self.norm._foreign(updated, v)  # a free name, as emitted code must read it
        return updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)
