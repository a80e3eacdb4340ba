"""Backward rewrites of the shape helpers, where the forward facts prove them equal.

Called by :class:`~srcgrad.codegen.specialise.Rewriter` for each helper call (``fact`` is its
fact of an expression); each returns the rewritten expression, or None to keep the call:

- ``reshape_like(g, a)`` -> ``g.reshape(a.shape)`` (same dtype, C order);
- ``xp.transpose(g, inverse_permutation((0, 2, 1, 3)))`` -> ``g.transpose(0, 2, 1, 3)``
  (the inverse of a constant permutation, worked out here);
- ``expand_like(g, x, axis=(1, 3))`` -> ``expand_like(g[:, None, :, None], x)``, which
  numpy's broadcasting may then do (see :meth:`Rewriter.broadcastable`), and what is left
  of ``expand_like(g, x)`` -> ``xp.broadcast_to(g, x.shape)`` (same dtype);
- ``matmul_cotangent_x1/x2`` of stacked operands without broadcast batch axes ->
  ``g @ x2.swapaxes(-1, -2)`` (``g @ x2.T`` for a 2-D ``x2``), ``x1.swapaxes(-1, -2) @
  g``, or ``xp.tensordot`` over the batch and row axes for a 2-D ``x2``;
- ``zeros_cotangent(x)`` of a floating array -> ``xp.zeros_like(x)``;
- ``step_zeros(v)`` of a name whose shape the facts prove the same in every step of its
  loop -> ``xp.zeros_like(v)`` (its value after the loop; nothing pushed step by step);
- ``reduction_size(x, None)`` of an array -> ``x.size``, ``reduction_size(x, -1)`` ->
  ``x.shape[-1]`` (a constant axis or tuple of axes within ``x``'s known rank);
- ``scatter_to(g, x, index[None, :])`` (a key of ``None`` and ``:`` only) ->
  ``g.reshape(x.shape)``.
"""

from __future__ import annotations

from typing import Any, Callable

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.facts import UF, Fact, Sym, same_shape
from srcgrad.codegen.inference import Unknown, const_value
from srcgrad.codegen.templates import parenthesize

FactOf = Callable[[cst.BaseExpression], "Fact | None"]


def _attr(value: cst.BaseExpression, name: str) -> cst.Attribute:
    return cst.Attribute(value=parenthesize(value), attr=cst.Name(name))


def _method(
    value: cst.BaseExpression, name: str, *args: cst.BaseExpression
) -> cst.Call:
    return cst.Call(func=_attr(value, name), args=[cst.Arg(a) for a in args])


def _ints(values: Any) -> cst.BaseExpression:
    if isinstance(values, int):
        return cst.Integer(str(values))
    return cst.Tuple([cst.Element(_ints(v)) for v in values])


def _floats_alike(*facts: Fact | None) -> bool:
    """All arrays of one floating dtype (the cotangent contract then fixes every dtype)."""
    if not all(f is not None and f.is_array for f in facts):
        return False
    dts = {f.dtype for f in facts}  # type: ignore[union-attr]
    return len(dts) == 1 and next(iter(dts)).kind in "fc"


def reshape_like(pos: list[cst.BaseExpression], call: cst.Call, fact: FactOf) -> Any:
    if (
        len(pos) != 2
        or len(call.args) != 2
        or not _floats_alike(fact(pos[0]), fact(pos[1]))
    ):
        return None
    return _method(pos[0], "reshape", _attr(pos[1], "shape"))


def transpose_back(
    call: cst.Call, xp: str, helper: dict[str, str], fact: FactOf
) -> Any:
    """``xp.transpose(g, inverse_permutation(axes))`` with constant ``axes``."""
    f = call.func
    if not (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value == xp
        and f.attr.value == "transpose"
        and len(call.args) == 2
        and all(a.keyword is None and not a.star for a in call.args)
    ):
        return None
    inner = call.args[1].value
    if not (
        isinstance(inner, cst.Call)
        and isinstance(inner.func, cst.Name)
        and helper.get(inner.func.value) == "inverse_permutation"
        and len(inner.args) == 1
    ):
        return None
    try:
        axes = const_value(inner.args[0].value)
    except Unknown:
        return None
    if axes is None:  # the reversed axes: their own inverse
        return _attr(call.args[0].value, "T")
    if not isinstance(axes, tuple) or not all(type(a) is int for a in axes):
        return None
    n = len(axes)
    if sorted(a % n for a in axes) != list(range(n)):
        return None
    inv = [0] * n
    for position, a in enumerate(axes):
        inv[a % n] = position
    g = call.args[0].value
    return cst.Call(
        func=_attr(g, "transpose"), args=[cst.Arg(cst.Integer(str(i))) for i in inv]
    )


def keep_reduced_axes(
    call: cst.Call, pos: list[cst.BaseExpression], fact: FactOf
) -> cst.Call | None:
    """``expand_like(g, x, axis=A)`` (no keepdims) as ``expand_like(g[...None...], x)``."""
    kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if len(pos) != 2 or set(kw) - {"axis", "keepdims"} or "axis" not in kw:
        return None
    try:
        axis = const_value(kw["axis"])
        keep = bool(const_value(kw.get("keepdims"))) if "keepdims" in kw else False
    except Unknown:
        return None
    g, x = fact(pos[0]), fact(pos[1])
    if (
        keep
        or axis is None
        or g is None
        or x is None
        or g.dims is None
        or x.dims is None
    ):
        return None
    if not g.is_array:
        return None
    n = len(x.dims)
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(type(a) is int and -n <= a < n for a in axes):
        return None
    reduced = {a % n for a in axes}
    if len(reduced) != len(axes) or len(g.dims) + len(reduced) != n:
        return None
    key = [
        cst.SubscriptElement(
            cst.Index(cst.Name("None")) if i in reduced else cst.Slice(None, None)
        )
        for i in range(n)
    ]
    while key and isinstance(key[-1].slice, cst.Slice):
        key.pop()
    expanded = cst.Subscript(value=parenthesize(pos[0]), slice=key)
    return call.with_changes(args=[cst.Arg(expanded), cst.Arg(pos[1])])


def broadcast_to(
    pos: list[cst.BaseExpression], call: cst.Call, xp: str, fact: FactOf, uf: UF
) -> Any:
    """``expand_like(g, x)`` (or with ``keepdims=True``) of a ``g`` of ``x``'s dtype that
    broadcasts to ``x``."""
    kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if len(pos) != 2 or set(kw) - {"axis", "keepdims"}:
        return None
    if kw:
        try:
            if not const_value(kw.get("keepdims")):
                return None  # reduced axes left out: keep_reduced_axes did not apply
        except Unknown:
            return None
    g, x = fact(pos[0]), fact(pos[1])
    if not _floats_alike(g, x):
        return None
    assert g is not None and x is not None and g.dims is not None and x.dims is not None
    if len(g.dims) > len(x.dims):
        return None
    for gd, xd in zip(reversed(g.dims), reversed(x.dims)):
        if not (gd == 1 and not isinstance(gd, Sym)) and not uf.same_dim(gd, xd):
            return None
    return cst.Call(
        func=cst.Attribute(value=cst.Name(xp), attr=cst.Name("broadcast_to")),
        args=[cst.Arg(pos[0]), cst.Arg(_attr(pos[1], "shape"))],
    )


def matmul_stacked(
    h: str, pos: list[cst.BaseExpression], xp: str, fact: FactOf, uf: UF
) -> Any:
    """A matmul cotangent of stacked operands whose batch axes do not broadcast."""
    if len(pos) != 3:
        return None
    g, x1, x2 = (fact(p) for p in pos)
    if not _floats_alike(g, x1, x2):
        return None
    assert g is not None and x1 is not None and x2 is not None
    assert g.dims is not None and x1.dims is not None and x2.dims is not None
    r = len(g.dims)
    if r < 3 or len(x1.dims) != r or len(x2.dims) not in (2, r):
        return None
    gx, a, b = (parenthesize(p) for p in pos)

    def batch_same(f: Fact) -> bool:
        return same_shape(Fact(f.dims[:-2], f.dtype), Fact(g.dims[:-2], g.dtype), uf)  # type: ignore[index]

    swap = (
        cst.UnaryOperation(cst.Minus(), cst.Integer("1")),
        cst.UnaryOperation(cst.Minus(), cst.Integer("2")),
    )
    if h == "matmul_cotangent_x1" and batch_same(x1):
        # a 2-D weight's transpose is its .T
        x2t = _attr(b, "T") if len(x2.dims) == 2 else _method(b, "swapaxes", *swap)
        return cst.BinaryOperation(gx, cst.MatrixMultiply(), x2t)
    if h != "matmul_cotangent_x2":
        return None
    if len(x2.dims) == r and batch_same(x2):
        return cst.BinaryOperation(
            _method(a, "swapaxes", *swap), cst.MatrixMultiply(), gx
        )
    if len(x2.dims) == 2 and batch_same(x1):
        axes = tuple(range(r - 1))
        return cst.Call(
            func=cst.Attribute(value=cst.Name(xp), attr=cst.Name("tensordot")),
            args=[
                cst.Arg(a),
                cst.Arg(gx),
                cst.Arg(_ints((axes, axes)), keyword=cst.Name("axes")),
            ],
        )
    return None


def scatter_to_reshape(
    pos: list[cst.BaseExpression], call: cst.Call, fact: FactOf
) -> Any:
    """``scatter_to(g, x, index[None, :, None])``: a key of new axes and full slices only
    selects every element, so the cotangent is ``g`` without the new axes."""
    if len(pos) != 3 or len(call.args) != 3:
        return None
    key = pos[2]
    if not isinstance(key, cst.Subscript):
        return None
    for el in key.slice:
        s = el.slice
        if isinstance(s, cst.Slice):
            if s.lower is not None or s.upper is not None or s.step is not None:
                return None
        elif not (isinstance(s.value, cst.Name) and s.value.value == "None"):
            return None
    if not _floats_alike(fact(pos[0]), fact(pos[1])):
        return None
    return _method(pos[0], "reshape", _attr(pos[1], "shape"))


class BroadcastTo(cst.CSTTransformer):
    """What is left of ``expand_like(g, x)`` in a statement as ``xp.broadcast_to`` (run
    after the statement's own rewrites, so a later elision still sees the broadcast)."""

    def __init__(self, helper: dict[str, str], xp: str, fact: FactOf, uf: UF) -> None:
        super().__init__()
        self.helper, self.xp, self.fact, self.uf = helper, xp, fact, uf

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        f = updated.func
        if isinstance(f, cst.Name) and self.helper.get(f.value) == "expand_like":
            pos = [a.value for a in updated.args if a.keyword is None and not a.star]
            out = broadcast_to(pos, updated, self.xp, self.fact, self.uf)
            if out is not None:
                return out
        return updated


def zeros_like(
    pos: list[cst.BaseExpression], call: cst.Call, xp: str, fact: FactOf
) -> Any:
    """``zeros_cotangent(x)`` of a floating array: ``xp.zeros_like(x)``."""
    if len(pos) != 1 or len(call.args) != 1 or not _floats_alike(fact(pos[0])):
        return None
    return cst.Call(
        func=cst.Attribute(value=cst.Name(xp), attr=cst.Name("zeros_like")),
        args=[cst.Arg(pos[0])],
    )


def step_zeros(
    pos: list[cst.BaseExpression],
    call: cst.Call,
    xp: str,
    fact: FactOf,
    inf: Any,
    zeros_cotangent: Callable[[], str],
) -> Any:
    """``step_zeros(v)`` (the zero cotangent of a name a loop alone binds, for the step
    before) where the facts prove ``v``'s shape and dtype the same in every step:
    ``zeros_cotangent(v)`` of its value after the loop (``xp.zeros_like(v)`` of a floating
    array), which the forward pass then need not push step by step.  Proved: an array of a
    known dtype (or a Python float) whose every length is 1, a literal or a length of an
    argument (``inf``: the :class:`Inference`); a length computed in the loop (a slice's)
    is one symbol for every step, so it proves nothing."""
    if len(pos) != 1 or len(call.args) != 1 or not isinstance(pos[0], cst.Name):
        return None
    f = fact(pos[0])
    if f is None or f.dims is None:
        return None
    if not (f.is_array or (f.dims == () and f.dtype == "weak-float")):
        return None
    if not same_every_step(f, inf):
        return None
    zeros = cst.Call(func=cst.Name(zeros_cotangent()), args=call.args)
    return zeros_like(pos, zeros, xp, fact) or zeros


def same_every_step(f: Fact, inf: Any) -> bool:
    """Whether the facts prove a loop value's shape ``f`` the same in every step: every
    length is 1, a literal, a length of an argument (``inf``: the :class:`Inference`,
    whose argument facts are as first inferred), of a leaf read from one, or of a value
    made before the first loop.  A length computed in the loop (a slice's) is one symbol for every step, so it
    proves nothing."""
    if f.dims is None:
        return False
    fixed = inf.fixed_lengths
    if fixed is None:
        leaves = list(inf.arg_facts.values()) + list(inf.free.values())
        # a value made before the first loop (``W = params["W"]``) has one shape for
        # the whole call
        leaves += [inf.env.get(n) for n in _before_loops(inf.norm.stmts)]
        fixed = inf.fixed_lengths = {
            inf.uf.find(d)
            for leaf in leaves
            if leaf is not None and leaf.dims is not None
            for d in leaf.dims
            if isinstance(d, Sym)
        }
        # a leaf read from an argument (``params["W"]``), wherever it is read
        fixed |= {inf.uf.find(d) for d in inf.read_lengths}
    return all(
        d == 1 or (isinstance(d, Sym) and (inf.uf.find(d) in fixed or d.size))
        for d in f.dims
    )


def _before_loops(items: list[Any]) -> list[str]:
    """The names the statements before the function's first loop bind (not in
    branches: a join of two shapes is a length of neither)."""
    out: list[str] = []
    for it in items:
        if isinstance(it, (ir.LoopNode, ir.IfNode)):
            break
        for st in getattr(it, "stmts", None) or []:
            if isinstance(st, ir.Stmt):
                out += st.targets
    return out


def reduction_size(pos: list[cst.BaseExpression], call: cst.Call, fact: FactOf) -> Any:
    """``reduction_size(x, axis)`` of an array as ``x.size`` or a product of ``x.shape``
    entries, read as written (a Python number, which the helper counts as 0-d, keeps the
    call)."""
    if len(pos) not in (1, 2) or len(call.args) != len(pos):
        return None
    x = fact(pos[0])
    if x is None or not x.is_array or x.dims is None:
        return None
    try:
        axis = const_value(pos[1]) if len(pos) == 2 else None
    except Unknown:
        return None
    if axis is None:
        return _attr(pos[0], "size")
    axes = (axis,) if isinstance(axis, int) else axis
    ndim = len(x.dims)
    if not (
        isinstance(axes, tuple)
        and axes
        and all(type(a) is int and -ndim <= a < ndim for a in axes)
    ):
        return None
    out: cst.BaseExpression | None = None
    for a in axes:
        entry = cst.Subscript(
            value=_attr(pos[0], "shape"),
            slice=[cst.SubscriptElement(cst.Index(_int_literal(a)))],
        )
        out = entry if out is None else cst.BinaryOperation(out, cst.Multiply(), entry)
    if isinstance(out, cst.BinaryOperation):  # a product: one operand where it goes
        out = out.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return out


def _int_literal(k: int) -> cst.BaseExpression:
    if k < 0:
        return cst.UnaryOperation(cst.Minus(), cst.Integer(str(-k)))
    return cst.Integer(str(k))


def matmul_2d(h: str, pos: list[Any], g: Fact, x1: Fact, x2: Fact) -> Any:
    """``matmul_cotangent_x1/x2(g, x1, x2)`` of 2-D operands of one dtype (x1 may be
    stacked for x1's cotangent): ``g @ x2.T`` (``g.dot(x2.T)`` for a ``g`` of one row) /
    ``x1.T @ g``; None otherwise."""
    if not (g.dtype == x1.dtype == x2.dtype and len(x2.dims) == 2):  # type: ignore[arg-type]
        return None
    gx, a, b = (parenthesize(p) for p in pos)
    if h == "matmul_cotangent_x1" and len(g.dims) == len(x1.dims) == 2 and g.dims[0] == 1:  # type: ignore[arg-type, index]
        # ndarray.dot: the same product of a row and a matrix without the matmul ufunc's
        # dispatch, half the time on a row of 16 (a recurrent step); of many rows it can
        # be the slower (numpy's dot of a transposed operand), so those keep @
        return cst.Call(func=_attr(gx, "dot"), args=[cst.Arg(_attr(b, "T"))])
    if h == "matmul_cotangent_x1" and len(g.dims) == len(x1.dims) >= 2:  # type: ignore[arg-type]
        return cst.BinaryOperation(gx, cst.MatrixMultiply(), _attr(b, "T"))
    if h == "matmul_cotangent_x2" and len(g.dims) == len(x1.dims) == 2:  # type: ignore[arg-type]
        return cst.BinaryOperation(_attr(a, "T"), cst.MatrixMultiply(), gx)
    return None
