"""Integer arithmetic on sizes, with the literals an inlined callee was given folded in.

An inlined convolution computes its output size from its stride, padding and dilation; once
those are the literals its caller passed, the statement reads
``h_out = (h + 2 * 2 - 1 * (kh - 1) - 1) // 1 + 1``.  Here such a statement is written as
the sum it is, ``h_out = h - kh + 5``: the expression is read as a linear combination of
integer-valued names (and of sub-expressions that are not linear, kept as written, their
insides folded), with ``// 1`` dropped, and written back as terms in the order they first
appear followed by the constant.

Only static statements whose every name is known to hold an int are rewritten: an axis
length (``n, c, h, w = x.shape``, ``x.shape[0]``, ``len(xs)``, ``x.ndim``, ``x.size``), an
int literal, or such arithmetic of those, each bound once.  ``+``, ``-``, ``*`` and
``// 1`` are exact on ints, so the value is unchanged.  A statement is rewritten only when
that makes it shorter: the user's own ``length - width + 1`` stays as written.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir

__all__ = ["fold_size_arithmetic"]

_SIZE_ATTRS = ("ndim", "size")


def fold_size_arithmetic(norm: ir.Normalized) -> bool:
    """Fold the size arithmetic of ``norm``'s static statements in place (see the module
    docstring).  Returns True if it changed."""
    ints = _int_names(norm)
    changed = False
    for it in ir.walk_stmts(norm.stmts):
        if not (
            isinstance(it, ir.Stmt) and it.kind == ir.STATIC and it.expr is not None
        ):
            continue
        if not isinstance(it.expr, cst.BinaryOperation) or not _int_valued(
            it.expr, ints
        ):
            continue
        new = _fold(it.expr, ints)
        if len(_code(new)) < len(_code(it.expr)):
            it.expr = new
            changed = True
    return changed


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _int_names(norm: ir.Normalized) -> set[str]:
    """The names bound once, by a static statement, to an int (see the module docstring)."""
    defs = ir.def_counts(norm.stmts)
    stmts = [
        it
        for it in ir.walk_stmts(norm.stmts)
        if isinstance(it, ir.Stmt)
        and it.kind == ir.STATIC
        and it.expr is not None
        and all(defs.get(t) == 1 for t in it.targets)
    ]
    ints: set[str] = set()
    grew = True
    while grew:
        grew = False
        for st in stmts:
            if set(st.targets) <= ints:
                continue
            if _is_shape(st.expr) and st.target_node is not None:
                new = set(st.targets)
            elif len(st.targets) == 1 and _int_valued(st.expr, ints):
                new = set(st.targets)
            else:
                continue
            ints |= new
            grew = True
    return ints


def _is_shape(node: Any) -> bool:
    return isinstance(node, cst.Attribute) and node.attr.value == "shape"


def _int_valued(node: Any, ints: set[str]) -> bool:
    """Whether ``node`` certainly evaluates to an int, given the int names ``ints``."""
    if isinstance(node, cst.Integer):
        return True
    if isinstance(node, cst.Name):
        return node.value in ints
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, cst.Minus) and _int_valued(
            node.expression, ints
        )
    if isinstance(node, cst.BinaryOperation):
        return isinstance(
            node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide)
        ) and (_int_valued(node.left, ints) and _int_valued(node.right, ints))
    if isinstance(node, cst.Attribute):
        return node.attr.value in _SIZE_ATTRS
    if isinstance(node, cst.Subscript):  # x.shape[0]
        return (
            _is_shape(node.value)
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
            and isinstance(node.slice[0].slice.value, (cst.Integer, cst.UnaryOperation))
        )
    if isinstance(node, cst.Call):
        return (
            isinstance(node.func, cst.Name)
            and node.func.value == "len"
            and len(node.args) == 1
        )
    return False


# A linear combination: the terms (code -> [node, coefficient]) in first-seen order, and
# the constant.
_Linear = tuple[dict[str, list[Any]], int]


def _fold(node: cst.BaseExpression, ints: set[str]) -> cst.BaseExpression:
    return _write(_linear(node, ints))


def _linear(node: cst.BaseExpression, ints: set[str]) -> _Linear:
    if isinstance(node, cst.Integer):
        return {}, int(node.value, 0)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return _scale(_linear(node.expression, ints), -1)
    if isinstance(node, cst.BinaryOperation):
        op = node.operator
        left, right = _linear(node.left, ints), _linear(node.right, ints)
        if isinstance(op, cst.Add):
            return _add(left, right, 1)
        if isinstance(op, cst.Subtract):
            return _add(left, right, -1)
        if isinstance(op, cst.Multiply) and not left[0]:
            return _scale(right, left[1])
        if isinstance(op, cst.Multiply) and not right[0]:
            return _scale(left, right[1])
        if isinstance(op, cst.FloorDivide) and right == ({}, 1):
            return left
        # not linear: a term of its own, its operands folded
        node = node.with_changes(
            left=_paren(_write(left)), right=_paren(_write(right)), lpar=[], rpar=[]
        )
    atom = node.with_changes(lpar=[], rpar=[]) if isinstance(node, cst.Name) else node
    return {_code(atom): [atom, 1]}, 0


def _scale(lin: _Linear, k: int) -> _Linear:
    terms, const = lin
    return {c: [n, a * k] for c, (n, a) in terms.items()}, const * k


def _add(left: _Linear, right: _Linear, sign: int) -> _Linear:
    terms = {c: list(v) for c, v in left[0].items()}
    for c, (n, a) in right[0].items():
        if c in terms:
            terms[c][1] += sign * a
        else:
            terms[c] = [n, sign * a]
    return terms, left[1] + sign * right[1]


def _paren(node: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(
        node, (cst.Name, cst.Integer, cst.Attribute, cst.Subscript, cst.Call)
    ):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _write(lin: _Linear) -> cst.BaseExpression:
    terms, const = lin
    out: cst.BaseExpression | None = None
    for atom, k in terms.values():
        if k == 0:
            continue
        term = atom if abs(k) == 1 else _times(abs(k), atom)
        if out is None:
            out = term if k > 0 else cst.UnaryOperation(cst.Minus(), _paren(term))
        else:
            op = cst.Add() if k > 0 else cst.Subtract()
            out = cst.BinaryOperation(out, op, _operand(term))
    if out is None:
        return _int(const)
    if const:
        op = cst.Add() if const > 0 else cst.Subtract()
        out = cst.BinaryOperation(out, op, cst.Integer(str(abs(const))))
    return out


def _times(k: int, atom: cst.BaseExpression) -> cst.BaseExpression:
    return cst.BinaryOperation(cst.Integer(str(k)), cst.Multiply(), _paren(atom))


def _operand(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node`` as the right operand of ``+`` or ``-``: a sum is parenthesised, a product
    (``*``, ``//``, which bind tighter) is not."""
    if isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, (cst.Add, cst.Subtract)
    ):
        return _paren(node)
    return node


def _int(k: int) -> cst.BaseExpression:
    if k < 0:
        return cst.UnaryOperation(cst.Minus(), cst.Integer(str(-k)))
    return cst.Integer(str(k))
