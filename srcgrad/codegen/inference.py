"""Forward facts: the shape and dtype of every name of a segmented function.

From the abstract signature of the arguments (see :mod:`facts`), :class:`Inference` walks the
forward items once (loops to a fixed point, at most four rounds) and records a
:class:`~srcgrad.codegen.facts.Fact` per name.  Every inference is sound or unknown: an
operation it does not model gives ``None`` and no rewrite relies on it.  Two lengths are the
same symbol only when the program proves it (``x @ W`` ran, so ``x.shape[-1] == W.shape[0]``;
broadcasting two non-unit lengths makes them equal), and what a branch or loop body proves
holds only in that scope (``scopes``).
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst
import numpy as np

from srcgrad import tree
from srcgrad.codegen import ir
from srcgrad.codegen.facts import (
    UF,
    Fact,
    Sym,
    broadcast,
    float_like,
    join,
    leaf_fact,
    promote,
)


def const_value(node: cst.BaseExpression | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError):
        raise Unknown from None


class Unknown(Exception):
    """An operand this inference does not model."""


def reduce_dims(
    dims: tuple[Any, ...], axis: Any, keepdims: bool
) -> tuple[Any, ...] | None:
    n = len(dims)
    if axis is None:
        axes = set(range(n))
    else:
        try:
            axes = {
                a % n if n else a
                for a in (axis if isinstance(axis, tuple) else (axis,))
            }
        except TypeError:
            return None
        if any(not 0 <= a < n for a in axes):
            return None
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(dims))
    return tuple(d for i, d in enumerate(dims) if i not in axes)


class Inference:
    """Forward facts of every name of a normalized function."""

    def __init__(
        self,
        norm: ir.Normalized,
        arg_specs: dict[str, Any],
        free: dict[str, Any] | None = None,
    ) -> None:
        self.norm = norm
        # free arrays and numbers by emitted expression (``x @ W1``, ``_helpers.SCALE``)
        self.free = {k: leaf_fact(v) for k, v in (free or {}).items()}
        self.env: dict[str, Fact | None] = {}
        self.literals: dict[int, Sym] = {}
        self.specs = arg_specs
        self.uf = UF()
        self.scopes: dict[tuple[int, int], UF] = (
            {}
        )  # (id(IfNode/LoopNode), branch) -> scope
        for p in norm.params:
            spec = arg_specs.get(p)
            self.env[p] = leaf_fact(spec)

    # -- driver
    def run(self) -> dict[str, Fact | None]:
        self.items(self.norm.stmts, self.uf)
        return self.env

    def items(self, items: list[Any], uf: UF) -> None:
        for it in items:
            if isinstance(it, ir.Stmt):
                self.stmt(it, uf)
            elif isinstance(it, ir.Phi):
                self.phi(it, uf)
            elif isinstance(it, ir.IfNode):
                for k, branch in enumerate((it.body, it.orelse)):
                    scope = self.scopes[(id(it), k)] = uf.child()
                    self.items(branch, scope)
            elif isinstance(it, ir.LoopNode):
                self.loop(it, uf)
            elif isinstance(getattr(it, "stmts", None), list):  # a Segment
                self.items(it.stmts, uf)

    def loop(self, node: ir.LoopNode, uf: UF) -> None:
        scope = self.scopes[(id(node), 0)] = uf.child()
        if node.target is not None:
            it = node.iter
            is_range = (
                isinstance(it, cst.Call)
                and isinstance(it.func, cst.Name)
                and it.func.value == "range"
            )
            self.env[node.target] = Fact((), "weak-int") if is_range else None
        for _ in range(4):
            before = {c.name: self.env.get(c.name) for c in node.carried}
            self.items(node.body, scope)
            if all(self.env.get(c.name) == before[c.name] for c in node.carried):
                return
        for c in node.carried:  # no fixed point in 4 rounds: give up on them
            self.env[c.name] = None
        self.items(node.body, scope)

    def phi(self, phi: ir.Phi, uf: UF) -> None:
        src = self.expr_fact(phi.source)
        if phi.target in self.env:
            # the old value's lengths, where this path proves the new one has them too
            self.env[phi.target] = join(self.env[phi.target], src, uf)
        else:
            self.env[phi.target] = src

    def name(self, node: cst.BaseExpression | None) -> Fact | None:
        return self.expr_fact(node) if node is not None else None

    def expr_fact(self, node: cst.BaseExpression) -> Fact | None:
        if isinstance(node, cst.Name):
            if node.value not in self.env and node.value in self.free:
                return self.free[node.value]
            return self.env.get(node.value)
        if isinstance(node, cst.Attribute) and self.free:
            code = cst.Module([]).code_for_node(node)
            if code in self.free:
                return self.free[code]
        if isinstance(node, cst.Float):
            return Fact((), "weak-float")
        if isinstance(node, cst.Integer):
            return Fact((), "weak-int")
        if isinstance(node, cst.Imaginary):
            return Fact((), "weak-complex")
        if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, (cst.Minus, cst.Plus)
        ):
            return self.expr_fact(node.expression)
        if (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Attribute)
            and node.value.attr.value == "shape"
        ):
            return Fact((), "weak-int")
        return None

    def stmt(self, st: ir.Stmt, uf: UF) -> None:
        try:
            fact = self._stmt(st, uf)
        except Unknown:
            fact = None
        except Exception:  # noqa: BLE001  (facts are optional: never fail generation)
            fact = None
        for t in st.targets:
            self.env[t] = fact if len(st.targets) == 1 else None

    def _stmt(self, st: ir.Stmt, uf: UF) -> Fact | None:
        if st.kind == ir.READ and st.read is not None:
            param, path = st.read
            return leaf_fact(tree.signature_at(self.specs.get(param), path))
        if st.kind == ir.COPY and st.operands:
            return self.env.get(st.operands[0])
        if st.kind == ir.STATIC:
            return self.static(st.expr)
        if st.kind != ir.PRIM or st.rule is None:
            return None
        name, kind, integers = st.rule.name, st.rule.kind, st.rule.integer_result
        b = st.bound
        if kind == "unary":
            x = self.name(b.get("x") if "x" in b else b.get("a"))
            if x is None:
                return None
            return Fact(x.dims, x.dtype if integers else float_like(x.dtype))
        if name in ("float32", "float64"):
            x = self.name(b.get("x"))
            return Fact(
                x.dims if x is not None and x.dims is not None else None, np.dtype(name)
            )
        if kind == "binary":
            x1, x2 = self.name(b.get("x1")), self.name(b.get("x2"))
            if x1 is None or x2 is None:
                return None
            dt = promote(x1.dtype, x2.dtype)
            return Fact(broadcast(x1, x2, uf), dt if integers else float_like(dt))
        if kind == "reduce":
            a = self.name(b.get("a"))
            if a is None or a.dims is None or b.get("dtype") is not None:
                return None
            axis = const_value(b.get("axis")) if "axis" in b else None
            keep = bool(const_value(b.get("keepdims"))) if "keepdims" in b else False
            if b.get("initial") is not None or b.get("where") is not None:
                return None
            dt = (
                a.dtype
                if isinstance(a.dtype, np.dtype) and a.dtype.kind in "fc"
                else None
            )
            if dt is None:
                return None
            return Fact(reduce_dims(a.dims, axis, keep), dt)
        if name == "matmul":
            return self.matmul(self.name(b.get("x1")), self.name(b.get("x2")), uf)
        if name == "transpose":
            a = self.name(b.get("a"))
            if a is None or a.dims is None or b.get("axes") is not None:
                return None
            return Fact(tuple(reversed(a.dims)), a.dtype)
        if name == "getitem":
            return self.getitem(self.name(b.get("x")), b.get("key"))
        return None

    def matmul(self, a: Fact | None, b: Fact | None, uf: UF) -> Fact | None:
        if a is None or b is None or a.dims is None or b.dims is None:
            return None
        if not (a.is_array and b.is_array) or len(a.dims) < 1 or len(b.dims) < 1:
            return None
        dt = promote(a.dtype, b.dtype)
        k1 = a.dims[-1]
        k2 = b.dims[-2] if len(b.dims) >= 2 else b.dims[0]
        if isinstance(k1, Sym) and isinstance(k2, Sym):
            uf.union(k1, k2)
        if len(a.dims) == 1 and len(b.dims) == 1:
            return Fact((), dt)
        if len(a.dims) == 1:
            return Fact(b.dims[:-2] + b.dims[-1:], dt)
        if len(b.dims) == 1:
            return Fact(a.dims[:-1], dt)
        batch = broadcast(Fact(a.dims[:-2], dt), Fact(b.dims[:-2], dt), uf)
        if batch is None:
            return None
        return Fact(batch + (a.dims[-2], b.dims[-1]), dt)

    def getitem(self, x: Fact | None, key: cst.BaseExpression | None) -> Fact | None:
        if x is None or x.dims is None or not x.is_array:
            return None
        if not (isinstance(key, cst.Subscript) and isinstance(key.value, cst.Name)):
            return None
        dims = list(x.dims)
        out: list[Any] = []
        pos = 0
        for el in key.slice:
            sl = el.slice
            if isinstance(sl, cst.Slice):
                if (
                    sl.lower is None
                    and sl.upper is None
                    and sl.step is None
                    and pos < len(dims)
                ):
                    out.append(dims[pos])
                    pos += 1
                    continue
                return None
            if not isinstance(sl, cst.Index) or sl.star is not None:
                return None
            v = sl.value
            f = (
                self.expr_fact(v)
                if not isinstance(v, cst.Integer)
                else Fact((), "weak-int")
            )
            if f is None or f.dtype != "weak-int" or pos >= len(dims):
                return None
            pos += 1
        return Fact(tuple(out) + tuple(dims[pos:]), x.dtype)

    def static(self, expr: cst.BaseExpression | None) -> Fact | None:
        if expr is None:
            return None
        f = self.expr_fact(expr)
        if f is not None:
            return f
        if not (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Attribute)
            and isinstance(expr.func.value, cst.Name)
            and expr.func.value.value == self.norm.names.generated("xp")
            and expr.func.attr.value in ("zeros", "ones", "empty")
            and expr.args
            and expr.args[0].keyword is None
            and not any(a.star for a in expr.args)  # xp.zeros(*shape): not modelled
        ):
            return None
        dtype: Any = np.dtype(np.float64)
        for a in expr.args[1:]:
            if (
                a.keyword is not None
                and a.keyword.value == "dtype"
                or a.keyword is None
            ):
                dtype = None  # an explicit dtype: not modelled
        shape = expr.args[0].value
        elems = shape.elements if isinstance(shape, cst.Tuple) else [cst.Element(shape)]
        dims: list[Any] = []
        for e in elems:
            v = e.value
            if isinstance(v, cst.Integer):
                n = int(v.value, 0)
                dims.append(1 if n == 1 else self.literals.setdefault(n, Sym(str(n))))
            elif (
                isinstance(v, cst.Subscript)
                and isinstance(v.value, cst.Attribute)
                and v.value.attr.value == "shape"
                and isinstance(v.value.value, cst.Name)
                and len(v.slice) == 1
                and isinstance(v.slice[0].slice, cst.Index)
            ):
                src = self.env.get(v.value.value.value)
                idx = v.slice[0].slice.value
                neg = isinstance(idx, cst.UnaryOperation) and isinstance(
                    idx.operator, cst.Minus
                )
                inner = idx.expression if neg else idx
                if (
                    src is None
                    or src.dims is None
                    or not isinstance(inner, cst.Integer)
                ):
                    return None
                i = int(inner.value, 0) * (-1 if neg else 1)
                if not -len(src.dims) <= i < len(src.dims):
                    return None
                dims.append(src.dims[i])
            else:
                return None
        return Fact(tuple(dims), dtype)
