"""Stage 9: specialise the backward pass to the arguments' abstract signature.

With ``arg_specs`` (see :mod:`facts`), the forward facts (:mod:`inference`) prove some backward
expressions equal to simpler ones; each rewrite is applied only when the facts prove the
result identical.  Cotangent names obey the *cotangent contract*: the cotangent of ``v`` has
``v``'s shape and dtype (every rule ends in ``unbroadcast``/``expand_like``/a same-shape
expression, and the API casts a ``vjp`` seed to the output's dtype and shape).

- ``unbroadcast(g, x)`` -> ``g`` (same shape and dtype), or ``g.sum(axis=...)`` when the
  summed axes are known;
- ``expand_like(g, x, ...)`` -> ``g`` (same shape), and a broadcast that feeds only
  elementwise arithmetic with an operand of ``x``'s shape is left to numpy's broadcasting;
- ``matmul_cotangent_x1/x2`` of 2-D operands of one dtype -> ``g @ x2.T`` / ``x1.T @ g``,
  and ``g.dot(x2.T)`` for a ``g`` of one row (``ndarray.dot`` skips the matmul ufunc's
  dispatch, the cost of a recurrent step's product);
- ``xp.sum(a, ...)`` (and mean/max/min/prod) of a known array -> ``a.sum(...)``.

After this stage the backward pass holds those rewrites, and :class:`Specialised` carries the
facts (for :mod:`specialise_forward`) and the signature in words (for the emitted comment).
Without ``arg_specs`` nothing changes.  The forward pass is read, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst
import numpy as np

from srcgrad import cache
from srcgrad.codegen import ir
from srcgrad.codegen import shape_facts
from srcgrad.codegen import specialise_shapes as shapes
from srcgrad.codegen.facts import (
    UF,
    Fact,
    Sym,
    broadcast,
    describe,
    float_like,
    join,
    promote,
    same_fact,
    same_shape,
)
from srcgrad.codegen.inference import Inference, Unknown, const_value, reduce_dims
from srcgrad.codegen.ir import Backward, Normalized
from srcgrad.codegen.templates import parenthesize
from srcgrad.rules import registry


@dataclass
class Specialised:
    """The backward pass after specialisation, and what specialisation knew."""

    backward: Backward
    facts: Inference | None  # None: generic code
    note: str  # the signature it is specialised to, in words ("" when generic)


def specialise(
    norm: Normalized,
    bwd: Backward,
    arg_specs: dict[str, Any] | None,
    speculate: bool = False,
) -> Specialised:
    """Infer forward facts from ``arg_specs`` and rewrite ``bwd`` where they prove it safe.
    ``speculate``: slices of computed bounds are taken as not 1 long, which the forward
    checks (``Inference.guards``)."""
    if not arg_specs:
        return Specialised(bwd, None, "")
    free = free_specs(norm)
    inf = Inference(norm, arg_specs, free)
    inf.run(speculate)
    Rewriter(norm.names, bwd, inf).items(bwd.blocks, inf.uf)
    note = describe(norm.params, arg_specs)
    if free:
        note += "; reads " + describe(list(free), free)
    return Specialised(bwd, inf, note)


def free_specs(norm: Normalized) -> dict[str, Any]:
    """The abstract signature of every array and Python number the function (and what it
    inlines) reads from a global or closure, by emitted expression.  Each one's ref joins
    ``norm.refs``: the cache keys the code by the signature and compares it at every call
    (``cache.value_spec``), so a global given another shape or dtype gets new code."""
    out: dict[str, Any] = {}
    for code, (ref, obj) in norm.free_values.items():
        spec = cache.value_spec(obj)
        if spec is None:
            continue
        out[code] = spec
        if ref not in norm.refs:
            norm.refs.append(ref)
    return out


def _attr(value: cst.BaseExpression, name: str) -> cst.Attribute:
    return cst.Attribute(value=parenthesize(value), attr=cst.Name(name))


def _axis_arg(axes: list[int]) -> cst.BaseExpression:
    if len(axes) == 1:
        return cst.Integer(str(axes[0]))
    return cst.Tuple([cst.Element(cst.Integer(str(a))) for a in axes])


def _sum_call(g: cst.BaseExpression, axes: list[int], keepdims: bool) -> cst.Call:
    args = [cst.Arg(_axis_arg(axes), keyword=cst.Name("axis"))]
    if keepdims:
        args.append(cst.Arg(cst.Name("True"), keyword=cst.Name("keepdims")))
    return cst.Call(func=_attr(g, "sum"), args=args)


class Rewriter(cst.CSTTransformer):
    """Rewrites backward expressions the facts prove equal (see the module docstring)."""

    def __init__(self, names: ir.Names, bwd: Backward, inf: Inference) -> None:
        super().__init__()
        self.inf = inf
        self.env: dict[str, Fact | None] = dict(inf.env)
        self.helper = {names.generated(h): h for h in bwd.helpers}
        self.xp = bwd.xp
        self.cot: dict[str, str] = {a: p for p, a in bwd.adjoints.items()}
        self.uf = inf.uf
        self.names = names
        self.bwd = bwd
        self.lazy: dict[str, tuple[cst.BaseExpression, Fact, set[str]]] = {}
        # within one statement: id(node) -> (node, what it equals unbroadcast, fact of that)
        self.lazy_nodes: dict[
            int, tuple[cst.BaseExpression, cst.BaseExpression, Fact]
        ] = {}
        self.assigned: dict[str, Fact | None] = {}

    def zeros_cotangent(self) -> str:
        """The emitted name of ``zeros_cotangent``, which the code now calls."""
        self.bwd.helpers.add("zeros_cotangent")
        return self.names.generated("zeros_cotangent")

    # -- facts of backward expressions
    def fact(self, name: str) -> Fact | None:
        primal = self.cot.get(name)
        if primal is not None:  # the cotangent contract
            f = self.env.get(primal)
            return f if f is not None and f.is_array else None
        if name in self.assigned:
            return self.assigned[name]
        if name not in self.env:
            return self.inf.free.get(name)  # a global or closure value
        return self.env.get(name)

    def ev(self, node: cst.BaseExpression) -> Fact | None:
        if isinstance(node, cst.Name):
            return self.fact(node.value)
        if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary)):
            return self.inf.expr_fact(node)
        if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, (cst.Minus, cst.Plus)
        ):
            return self.ev(node.expression)
        if isinstance(node, cst.BinaryOperation):
            a, b = self.ev(node.left), self.ev(node.right)
            if a is None or b is None:
                return None
            if isinstance(node.operator, cst.MatrixMultiply):
                return self.inf.matmul(a, b, self.uf.child())
            if not isinstance(
                node.operator,
                (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Power),
            ):
                return None
            dt = promote(a.dtype, b.dtype)
            if isinstance(node.operator, (cst.Divide, cst.Power)):
                dt = float_like(dt)
            return Fact(broadcast(a, b, self.uf.child()), dt)
        if isinstance(node, cst.Attribute) and node.attr.value in ("size", "ndim"):
            a = self.ev(node.value)
            return Fact((), "weak-int") if a is not None and a.is_array else None
        if isinstance(node, cst.Attribute) and node.attr.value == "T":
            a = self.ev(node.value)
            if a is None or a.dims is None or not a.is_array:
                return None
            return Fact(tuple(reversed(a.dims)), a.dtype)
        if isinstance(node, cst.Call):
            return self.ev_call(node)
        if isinstance(node, cst.Subscript) and not (
            isinstance(node.value, cst.Attribute) and node.value.attr.value == "shape"
        ):
            return self.ev_new_axes(node)
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            a, b = self.ev(node.left), self.ev(node.comparisons[0].comparator)
            if a is None or b is None or not (a.is_array or b.is_array):
                return None
            return Fact(broadcast(a, b, self.uf.child()), np.dtype(bool))
        return self.inf.expr_fact(node)  # a .shape[i] read

    def ev_number_array(self, node: cst.Call, pos: list[Any]) -> Fact | None:
        """``xp.asarray(1, dtype=xp.float32)``: a number as a 0-d array of that dtype
        (:mod:`hoist` makes them for a backward loop's steps)."""
        kw = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        dt = kw.get("dtype")
        if not (
            len(pos) == 1
            and isinstance(pos[0], (cst.Integer, cst.Float))
            and set(kw) == {"dtype"}
            and isinstance(dt, cst.Attribute)
            and isinstance(dt.value, cst.Name)
            and dt.value.value == self.xp
        ):
            return None
        try:
            return Fact((), np.dtype(dt.attr.value))
        except TypeError:
            return None

    def ev_new_axes(self, node: cst.Subscript) -> Fact | None:
        """``g[:, None]``: new axes and full slices only."""
        a = self.ev(node.value)
        if a is None or not a.is_array or a.dims is None:
            return None
        dims: list[Any] = []
        k = 0
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Slice) and s.lower is s.upper is s.step is None:
                if k >= len(a.dims):
                    return None
                dims.append(a.dims[k])
                k += 1
            elif (
                isinstance(s, cst.Index)
                and isinstance(s.value, cst.Name)
                and (s.value.value == "None")
            ):
                dims.append(1)
            else:
                return None
        return Fact(tuple(dims) + a.dims[k:], a.dtype)

    def ev_method(
        self, node: cst.Call, f: cst.Attribute, pos: list[cst.BaseExpression]
    ) -> Fact | None:
        """``g.swapaxes(-1, -2)`` and ``g.astype(x.dtype)``."""
        if f.attr.value == "swapaxes" and len(pos) == 2 == len(node.args):
            try:
                return shape_facts.swapaxes(
                    self.ev(f.value), const_value(pos[0]), const_value(pos[1])
                )
            except Unknown:
                return None
        if f.attr.value == "astype" and len(node.args) == 1:
            x, d = self.ev(f.value), node.args[0].value
            if x is None or x.dims is None or not isinstance(d, cst.Attribute):
                return None
            if d.attr.value != "dtype" or not isinstance(d.value, cst.Name):
                return None
            dt = self.ev(d.value)
            return Fact(x.dims, dt.dtype if dt is not None and dt.is_array else None)
        return None

    def ev_call(self, node: cst.Call) -> Fact | None:
        f = node.func
        pos = [a.value for a in node.args if a.keyword is None and not a.star]
        if isinstance(f, cst.Name) and self.helper.get(f.value) == "reduction_size":
            return Fact((), "weak-int")
        if (
            isinstance(f, cst.Name)
            and self.helper.get(f.value) == "power_slope"
            and len(pos) == 2
        ):
            a, b = self.ev(pos[0]), self.ev(pos[1])  # x2 * x1 ** (x2 - 1), elementwise
            if a is None or b is None:
                return None
            return Fact(
                broadcast(a, b, self.uf.child()), float_like(promote(a.dtype, b.dtype))
            )
        if isinstance(f, cst.Name):
            h = self.helper.get(f.value)
            which = {
                "unbroadcast": 1,
                "expand_like": 1,
                "matmul_cotangent_x1": 1,
                "matmul_cotangent_x2": 2,
                "zeros_cotangent": 0,
                "extremum_share": 1,
                "split_cotangent": 2,
            }.get(h or "")
            if which is None or len(pos) <= which:
                return None
            x = self.ev(pos[which])
            if x is None or not x.is_array or x.dtype.kind not in "fc":
                return None
            return x
        if isinstance(f, cst.Attribute) and f.attr.value in ("swapaxes", "astype"):
            return self.ev_method(node, f, pos)
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.xp
            and f.attr.value == "asarray"
        ):
            return self.ev_number_array(node, pos)
        reducer = None
        if isinstance(f, cst.Attribute) and f.attr.value in registry.names_of_kind(
            "reduce"
        ):
            if isinstance(f.value, cst.Name) and f.value.value == self.xp:
                reducer = pos[0] if pos and len(pos) == 1 else None
            else:
                reducer = f.value if not pos else None
        if reducer is not None:
            a = self.ev(reducer)
            kw = {k.keyword.value: k.value for k in node.args if k.keyword is not None}
            if a is None or not a.is_array or set(kw) - {"axis", "keepdims"}:
                return None
            try:
                axis = const_value(kw.get("axis"))
                keep = bool(const_value(kw.get("keepdims")))
            except Unknown:
                return None
            assert a.dims is not None
            dims = reduce_dims(a.dims, axis, keep)
            if dims is None or a.dtype.kind not in "fc":
                return None
            return Fact(dims, a.dtype)
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.xp
            and f.attr.value
            in registry.names_of_kind("unary") | {"sign", "conj", "conjugate"}
            and len(pos) == 1
            and len(node.args) == 1
        ):
            x = self.ev(pos[0])
            return Fact(x.dims, float_like(x.dtype)) if x is not None else None
        return None

    # -- statements
    def assign(self, st: cst.BaseSmallStatement) -> cst.BaseSmallStatement:
        if not isinstance(st, cst.Assign):
            return st
        value = st.value.visit(self)
        hit = self._lazy_hit(value)
        self.lazy_nodes.clear()
        value = value.visit(shapes.BroadcastTo(self.helper, self.xp, self.ev, self.uf))
        st = st.with_changes(value=value)
        targets = [t.target for t in st.targets]
        if len(targets) != 1 or not isinstance(targets[0], cst.Name):
            for t in targets:
                for n in [x.value for x in ir.name_nodes(t)]:
                    self.forget(n)
                    self.assigned[n] = None
            return st
        t = targets[0].value
        self.forget(t)
        if t not in self.cot:
            f = self.ev(value)
            self.assigned[t] = (
                f if t not in self.assigned else join(self.assigned[t], f, self.uf)
            )
        if hit is not None:  # t is a broadcast numpy's own broadcasting can do later
            reads = {n.value for n in ir.name_nodes(hit[0])}
            self.lazy[t] = (hit[0], hit[1], reads)
        return st

    def forget(self, name: str) -> None:
        self.lazy.pop(name, None)
        for k in [k for k, (_, _, reads) in self.lazy.items() if name in reads]:
            del self.lazy[k]

    def broadcastable(
        self, call: cst.BaseExpression
    ) -> tuple[cst.BaseExpression, Fact] | None:
        """For ``expand_like(g, x, ...)`` whose ``g`` numpy broadcasts to ``x``'s shape, with
        ``x``'s dtype: ``(g, fact of x)``."""
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and self.helper.get(call.func.value) == "expand_like"
        ):
            return None
        pos = [a.value for a in call.args if a.keyword is None and not a.star]
        if len(pos) < 2:
            return None
        g, x = self.ev(pos[0]), self.ev(pos[1])
        if g is None or x is None or not x.is_array or g.dims is None or x.dims is None:
            return None
        if len(g.dims) > len(x.dims):
            return None
        if len(g.dims) not in (0, len(x.dims)) and (
            len(pos) > 2
            or any(
                a.keyword is not None and a.keyword.value == "axis" for a in call.args
            )
        ):
            # a reduction over chosen axes without keepdims: numpy aligns trailing axes, which
            # is not where the reduced axes were (x.sum(axis=1) of a square x)
            return None
        for gd, xd in zip(reversed(g.dims), reversed(x.dims)):
            if not (gd == 1 and not isinstance(gd, Sym)) and not self.uf.same_dim(
                gd, xd
            ):
                return None
        if not (g.dtype == x.dtype or (g.weak and x.dtype.kind in "fc")):
            return None
        return pos[0], x

    # -- expression rewrites
    def _elide(
        self, node: cst.BaseExpression, other: cst.BaseExpression
    ) -> cst.BaseExpression:
        """``node`` (an operand next to ``other``) without a broadcast numpy does anyway."""
        hit = self._lazy_hit(node)
        if hit is None:
            return node
        g, x = hit
        o = self.ev(other)
        if (
            o is not None
            and o.is_array
            and o.dtype == x.dtype
            and same_shape(o, x, self.uf)
        ):
            return parenthesize(g)
        return node

    def _lazy_hit(
        self, node: cst.BaseExpression
    ) -> tuple[cst.BaseExpression, Fact] | None:
        if isinstance(node, cst.Name) and node.value in self.lazy:
            return self.lazy[node.value][:2]
        if isinstance(node, cst.Call):
            return self.broadcastable(node)
        hit = self.lazy_nodes.get(id(node))
        return hit[1:] if hit is not None and hit[0] is node else None

    def leave_BinaryOperation(
        self, original: cst.BinaryOperation, updated: cst.BinaryOperation
    ) -> cst.BaseExpression:
        if not isinstance(
            updated.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
        ):
            return updated
        # At most one side loses its broadcast: each side's shape is what justifies eliding the
        # other, so eliding both leaves nothing of the full shape (d_y / n + d_z, both lazy).
        left = self._elide(updated.left, updated.right)
        right = (
            self._elide(updated.right, updated.left)
            if left is updated.left
            else updated.right
        )
        out = updated.with_changes(left=left, right=right)
        if left is updated.left and right is updated.right:
            # `2 * t` with t a broadcast still to elide: the product is one too (2 * g)
            for side, other in ((left, right), (right, left)):
                hit = self._lazy_hit(side)
                o = self.ev(other)
                if hit is not None and o is not None and o.weak and o.dims == ():
                    g, x = hit
                    repl = updated.with_changes(
                        left=parenthesize(g) if side is left else left,
                        right=parenthesize(g) if side is right else right,
                    )
                    self.lazy_nodes[id(out)] = (
                        out,
                        repl,
                        x,
                    )  # out itself: ids get reused
                    break
        return out

    def leave_Comparison(
        self, original: cst.Comparison, updated: cst.Comparison
    ) -> cst.BaseExpression:
        if len(updated.comparisons) != 1:
            return updated
        comp = updated.comparisons[0]
        left = self._elide(updated.left, comp.comparator)
        right = comp.comparator
        if left is updated.left:
            right = self._elide(comp.comparator, updated.left)
        return updated.with_changes(
            left=left, comparisons=[comp.with_changes(comparator=right)]
        )

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        method = as_method(updated, self.xp, self.ev)  # no dispatch, maybe no xp in bwd
        if method is not None:
            return method
        back = shapes.transpose_back(updated, self.xp, self.helper, self.ev)
        if back is not None:
            return back
        f = updated.func
        if not isinstance(f, cst.Name):
            return updated
        h = self.helper.get(f.value)
        if h is None:
            return updated
        pos = [a.value for a in updated.args if a.keyword is None and not a.star]
        if h == "expand_like":
            kept = shapes.keep_reduced_axes(updated, pos, self.ev)
            if kept is not None:
                updated = kept
                pos = [a.value for a in updated.args]
        other = {
            "reshape_like": lambda: shapes.reshape_like(pos, updated, self.ev),
            "scatter_to": lambda: shapes.scatter_to_reshape(pos, updated, self.ev),
            "zeros_cotangent": lambda: shapes.zeros_like(
                pos, updated, self.xp, self.ev
            ),
            "reduction_size": lambda: shapes.reduction_size(pos, updated, self.ev),
            "step_zeros": lambda: shapes.step_zeros(
                pos, updated, self.xp, self.ev, self.inf, self.zeros_cotangent
            ),
        }.get(h)
        if other is not None:
            out = other()
            return out if out is not None else updated
        if (
            h in ("unbroadcast", "expand_like")
            and len(pos) == 2
            and len(updated.args) >= 2
        ):
            g, x = self.ev(pos[0]), self.ev(pos[1])
            if same_fact(g, x, self.uf) or (
                h == "unbroadcast"
                and g is not None
                and g.is_array
                and g.dims == ()
                and x is not None
                and x.dims == ()
                and all(
                    isinstance(d, str) or d == g.dtype
                    for d in (x.dtype[1:] if isinstance(x.dtype, tuple) else (x.dtype,))
                )
            ):  # (a 0-d cotangent of a Python number, or of a 0-d array of its dtype, is
                # returned as it is)
                return parenthesize(pos[0])
            if h == "unbroadcast" and len(updated.args) == 2:
                return self.reduce_to(updated, pos[0], g, x)
            return updated
        if h in ("matmul_cotangent_x1", "matmul_cotangent_x2") and len(pos) == 3 == len(
            updated.args
        ):
            g, x1, x2 = (self.ev(p) for p in pos)
            if not all(v is not None and v.is_array for v in (g, x1, x2)):
                return updated
            stacked = shapes.matmul_stacked(h, pos, self.xp, self.ev, self.uf)
            if stacked is not None:
                return stacked
            out = shapes.matmul_2d(h, pos, g, x1, x2)  # type: ignore[arg-type]
            if out is not None:
                return out
        return updated

    def reduce_to(
        self, call: cst.Call, g_node: cst.BaseExpression, g: Fact | None, x: Fact | None
    ) -> cst.BaseExpression:
        """``unbroadcast(g, x)`` as ``g.sum(axis=...)`` when the summed axes are known."""
        if (
            g is None
            or x is None
            or not (g.is_array and x.is_array)
            or g.dtype != x.dtype
        ):
            return call
        if not (g.known and x.known) or len(g.dims) < len(x.dims):  # type: ignore[arg-type]
            return call
        assert g.dims is not None and x.dims is not None
        lead = len(g.dims) - len(x.dims)
        inner: list[int] = []
        for i, xd in enumerate(x.dims):
            gd = g.dims[lead + i]
            if self.uf.same_dim(gd, xd):
                continue
            if xd == 1 and not isinstance(xd, Sym) and isinstance(gd, Sym):
                inner.append(lead + i)
                continue
            return call
        out: cst.BaseExpression = g_node
        if inner:
            out = _sum_call(out, inner, keepdims=True)
        if lead:
            out = _sum_call(out, list(range(lead)), keepdims=False)
        if not inner and not lead:
            return parenthesize(g_node)
        return out

    # -- walking the backward items
    def items(self, items: list[Any], uf: UF) -> None:
        saved = self.uf
        self.uf = uf
        for it in items:
            self.lazy.clear()
            if isinstance(it, ir.Block):
                it.stmts = [self.assign(s) for s in it.stmts]
            elif isinstance(it, ir.BSeg):
                for b in it.blocks:
                    b.stmts = [self.assign(s) for s in b.stmts]
            elif isinstance(it, ir.BIf):
                for k, (body, fills) in enumerate(
                    ((it.body, it.fills_body), (it.orelse, it.fills_orelse))
                ):
                    scope = self.inf.scopes.get((id(it.node), k), uf)
                    self.items(body, scope)
                    self.items(fills, scope)
            elif isinstance(it, ir.BLoop):
                self.items(it.pre, uf)
                self.items(it.body, self.inf.scopes.get((id(it.node), 0), uf))
        self.lazy.clear()
        self.uf = saved


def as_method(call: cst.Call, xp: str, fact_of: Any) -> cst.Call | None:
    """``xp.sum(a, ...)`` as ``a.sum(...)`` when ``fact_of(a)`` is an array, else None.

    Every rule of kind ``"reduce"`` takes, after ``a``, the same parameters in the same order
    as its ndarray method (``registry.method_of``: ``np.max`` / ``amax`` are ``a.max``).
    """
    f = call.func
    if not (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value == xp
        and f.attr.value in registry.names_of_kind("reduce")
        and call.args
        and call.args[0].keyword is None
        and not any(a.star for a in call.args)
    ):
        return None
    a = fact_of(call.args[0].value)
    if a is None or not a.is_array:
        return None
    rule = registry.lookup_name(f.attr.value)
    method = registry.method_of(rule) if rule is not None else None
    if method is None:
        return None
    return cst.Call(func=_attr(call.args[0].value, method), args=list(call.args[1:]))
