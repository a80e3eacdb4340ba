"""Closed forms: what a person writes for the derivative of a few spelled-out functions.

Runs on the normal form, before segmentation.  Two patterns, each only where it is exact:

- **The logistic sigmoid** ``s = 1.0 / (1.0 + np.exp(-z))`` (``1`` or ``1.0``, either
  order of the sum) becomes one statement of the primitive
  :func:`srcgrad.runtime.logistic`, whose rule is ``d_z = d_s * s * (1 - s)``.  The
  forward statement keeps the expression as written (the same operations in the same
  order, so the value is bit-identical); the backward pass needs ``s`` alone, where the
  chain rule through four primitives kept ``exp(-z)`` and ``1 + exp(-z)`` and took four
  statements.  Only where the three intermediate values are temporaries read nowhere else.
- **The max shift of a softmax.**  In ``m = max(x, axis, keepdims=True); s = x - m``
  followed by a log-softmax ``s - log(sum(exp(s), axis, keepdims=True))`` or a softmax
  ``exp(s) / sum(exp(s), axis, keepdims=True)`` over the same axis, the result does not
  depend on ``m`` (a shift along the normalised axis cancels), so the cotangent that
  would reach ``x`` through ``m`` is exactly zero.  ``m`` is made a constant of the
  backward pass: no mask of the maxima, no sum, no scatter.  Only where ``m`` and ``s``
  are read nowhere else.
"""

from __future__ import annotations

import re
from typing import Any

import libcst as cst

import srcgrad.runtime as runtime
from srcgrad.codegen import ir
from srcgrad.rules import registry

__all__ = ["closed_forms"]

_ONE = ("1", "1.0", "1.")


def closed_forms(norm: ir.Normalized) -> ir.Normalized:
    """``norm`` with the closed forms applied (statements replaced in place)."""
    reads = ir.read_counts(norm)
    _lists(norm.stmts, norm, reads)
    return norm


def _lists(items: list[Any], norm: ir.Normalized, reads: dict[str, int]) -> None:
    for it in items:
        if isinstance(it, ir.IfNode):
            _lists(it.body, norm, reads)
            _lists(it.orelse, norm, reads)
        elif isinstance(it, ir.LoopNode):
            _lists(it.body, norm, reads)
    k = 0
    while k + 4 <= len(items):
        fused = _logistic(items[k : k + 4], norm, reads)
        if fused is not None:
            items[k : k + 4] = [fused]
        k += 1
    for k in range(len(items)):
        _max_shift(items, k, reads)


# -- the logistic sigmoid ----------------------------------------------------------------


def _prim(st: Any, name: str) -> bool:
    return (
        isinstance(st, ir.Stmt)
        and st.kind == ir.PRIM
        and st.rule is not None
        and st.rule.name == name
        and len(st.targets) == 1
        and not st.recompute
    )


def _name(node: Any) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _one(node: Any) -> bool:
    return isinstance(node, (cst.Integer, cst.Float)) and node.value in _ONE


def _temporary(name: str | None, norm: ir.Normalized, reads: dict[str, int]) -> bool:
    return name is not None and norm.names.made.get(name) == "" and reads.get(name) == 1


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _logistic(
    four: list[Any], norm: ir.Normalized, reads: dict[str, int]
) -> ir.Stmt | None:
    neg, exp, add, div = four
    if not (
        _prim(neg, "negative")
        and _prim(exp, "exp")
        and _prim(add, "add")
        and _prim(div, "divide")
    ):
        return None
    t1, t2, t3 = neg.targets[0], exp.targets[0], add.targets[0]
    if not all(_temporary(t, norm, reads) for t in (t1, t2, t3)):
        return None
    z = _name(neg.bound.get("x"))
    if z is None or _name(exp.bound.get("x")) != t1:
        return None
    x1, x2 = add.bound.get("x1"), add.bound.get("x2")
    if not ((_one(x1) and _name(x2) == t2) or (_one(x2) and _name(x1) == t2)):
        return None
    if not (_one(div.bound.get("x1")) and _name(div.bound.get("x2")) == t3):
        return None
    text = _code(div.expr)
    text = _swap(text, t3, f"({_code(add.expr)})")
    text = _swap(text, t2, _code(exp.expr))
    text = _swap(text, t1, _code(neg.expr))
    rule = registry.lookup(runtime.logistic)
    if rule is None:  # pragma: no cover - registered with the elementwise rules
        return None
    return ir.Stmt(
        kind=ir.PRIM,
        targets=list(div.targets),
        expr=cst.parse_expression(text),
        origin=div.origin,
        rule=rule,
        bound={"x": cst.Name(z)},
        operands=list(neg.operands),
        label="logistic",
    )


def _swap(text: str, name: str, by: str) -> str:
    out, n = re.subn(rf"(?<![\w.]){re.escape(name)}(?!\w)", lambda _: by, text)
    if n != 1:
        raise ValueError(f"{name} read {n} times in {text}")
    return out


# -- the max shift of a softmax --------------------------------------------------------------


def _users(items: list[Any], name: str) -> list[int]:
    # an effect (a buffer set in the forward pass) has no expression
    return [
        k
        for k, st in enumerate(items)
        if isinstance(st, ir.Stmt)
        and st.expr is not None
        and name in {n.value for n in ir.name_nodes(st.expr)}
    ]


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return _code(a) == _code(b)


def _max_shift(items: list[Any], k: int, reads: dict[str, int]) -> None:
    m_st = items[k]
    if not (_prim(m_st, "max") or _prim(m_st, "amax")):
        return
    b = m_st.bound
    if not _truthy(b.get("keepdims")) or set(b) - {"a", "axis", "keepdims"}:
        return
    x, m, axis = _name(b.get("a")), m_st.targets[0], b.get("axis")
    if x is None or reads.get(m) != 1:
        return
    users = _users(items, m)
    if len(users) != 1 or not _prim(items[users[0]], "subtract"):
        return
    sub = items[users[0]]
    if _name(sub.bound.get("x1")) != x or _name(sub.bound.get("x2")) != m:
        return
    s = sub.targets[0]
    if _normalised(items, users[0], s, axis, reads):
        m_st.operands = []  # a constant of the backward pass: its cotangent is zero


def _truthy(node: Any) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def _normalised(
    items: list[Any], at: int, s: str, axis: Any, reads: dict[str, int]
) -> bool:
    """Whether ``s`` (read exactly by an exp, and by a log-softmax subtraction or not)
    only reaches the result through a softmax or log-softmax over ``axis``."""
    later = items[at + 1 :]
    uses = _users(later, s)
    exps = [later[u] for u in uses if _prim(later[u], "exp")]
    if len(exps) != 1 or reads.get(exps[0].targets[0]) not in (2, 1):
        return False
    e = exps[0].targets[0]
    sums = [
        later[u]
        for u in _users(later, e)
        if _prim(later[u], "sum")
        and _name(later[u].bound.get("a")) == e
        and _same(later[u].bound.get("axis"), axis)
        and _truthy(later[u].bound.get("keepdims"))
        and set(later[u].bound) <= {"a", "axis", "keepdims"}
    ]
    if len(sums) != 1:
        return False
    total = sums[0].targets[0]
    rest = [later[u] for u in uses if later[u] is not exps[0]]
    if reads.get(e) == 2:  # softmax: exp(s) / sum(exp(s))
        div = [later[u] for u in _users(later, total)]
        return (
            not rest
            and reads.get(s) == 1
            and reads.get(total) == 1
            and len(div) == 1
            and _prim(div[0], "divide")
            and _name(div[0].bound.get("x1")) == e
            and _name(div[0].bound.get("x2")) == total
        )
    # log-softmax: s - log(sum(exp(s)))
    logs = [later[u] for u in _users(later, total)]
    if reads.get(total) != 1 or len(logs) != 1 or not _prim(logs[0], "log"):
        return False
    lg = logs[0].targets[0]
    subs = _users(later, lg)
    return (
        reads.get(s) == 2
        and reads.get(lg) == 1
        and len(rest) == 1
        and len(subs) == 1
        and later[subs[0]] is rest[0]
        and _prim(rest[0], "subtract")
        and _name(rest[0].bound.get("x1")) == s
        and _name(rest[0].bound.get("x2")) == lg
    )
