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

from typing import Any

import libcst as cst
import numpy as np

from srcgrad import tree
from srcgrad.codegen import ir, shape_facts
from srcgrad.rules import registry
from srcgrad.codegen.facts import (
    UF,
    Fact,
    Sym,
    broadcast,
    float_like,
    join,
    leaf_fact,
    maybe_one,
    promote,
)
from srcgrad.codegen.shape_facts import Lengths, Unknown, const_value

__all__ = ["Inference", "Unknown", "const_value", "reduce_dims"]


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


class Inference(Lengths):
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
        for k, f in self.free.items():
            if f is not None and f.dtype == "weak-int":  # one length, whatever it is
                self.free[k] = Fact((), "weak-int", Sym(k, maybe_one=True))
        self.env: dict[str, Fact | None] = {}
        self.literals: dict[int, Sym] = {}
        self.memo: dict[tuple[Any, ...], Sym] = {}  # computed lengths (Lengths.derived)
        # a name bound to a tuple display (``shape = (n, m)``): its elements, so that
        # ``xp.zeros(shape)`` has their lengths
        self.tuples: dict[str, list[cst.BaseExpression]] = {}
        self.specs = arg_specs
        self.xp = norm.names.generated("xp")
        self.uf = UF()
        self.scopes: dict[tuple[int, int], UF] = (
            {}
        )  # (id(IfNode/LoopNode), branch) -> scope
        for p in norm.params:
            spec = arg_specs.get(p)
            self.env[p] = leaf_fact(spec)
        self.arg_facts = dict(self.env)  # the arguments' facts, whatever rebinds later
        self.read_lengths: set[Sym] = set()  # lengths of leaves read from arguments
        # every length the same in every loop step (specialise_shapes.same_every_step)
        self.fixed_lengths: set[Sym] | None = None
        # speculation (during run() only): a forward slice's computed length is taken as
        # not 1; ``guards`` are the axes the forward checks after each such statement
        self.speculate = False
        self.guards: dict[str, set[int]] = {}

    # -- driver
    def run(self, speculate: bool = False) -> dict[str, Fact | None]:
        """The facts of every name.  ``speculate``: take the length of each slice the
        forward computes (``gi[:, 2 * hidden :]``) as not 1, as the arguments' lengths are,
        and record the checks (``guards``) that make it true where the code runs."""
        self.speculate = speculate
        try:
            self.items(self.norm.stmts, self.uf)
        finally:
            self.speculate = False
        return self.env

    def speculated(self, length: Any, target: str, axis: int) -> Any:
        """``length`` (axis ``axis`` of ``target``) taken as not 1, with its guard; a
        length known already (1, a literal, not 1) is itself."""
        if not isinstance(length, Sym) or not maybe_one(length, self.uf):
            return length
        self.guards.setdefault(target, set()).add(axis)
        return self.derived(("NotOne", length), not_one=True)

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
            return Fact((), "weak-int", self.lit(int(node.value, 0)))
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
            return Fact((), "weak-int", self.shape_entry(node))
        if isinstance(node, cst.BinaryOperation):
            f = self.int_arith(node)
            if f is not None:
                return f
        if (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == "len"
            and len(node.args) == 1
        ):
            x = self.expr_fact(node.args[0].value)
            if x is not None and x.is_array and x.dims:
                return Fact((), "weak-int", x.dims[0])
        return None

    def shape_entry(self, node: cst.Subscript) -> Any:
        """The length ``x.shape[i]`` reads (an integer ``i``), or None."""
        x = self.expr_fact(node.value.value)  # type: ignore[attr-defined]
        if x is None or x.dims is None or len(node.slice) != 1:
            return None
        idx = node.slice[0].slice
        i = self.term(idx.value) if isinstance(idx, cst.Index) else None
        if not isinstance(i, int) or not -len(x.dims) <= i < len(x.dims):
            return None
        return x.dims[i]

    def int_arith(self, node: cst.BinaryOperation) -> Fact | None:
        """Integer arithmetic of lengths (``d // heads``): its value as a length."""
        a, b = self.expr_fact(node.left), self.expr_fact(node.right)
        if a is None or b is None or a.dtype != "weak-int" or b.dtype != "weak-int":
            return None
        if not isinstance(
            node.operator,
            (cst.Add, cst.Subtract, cst.Multiply, cst.FloorDivide, cst.Modulo),
        ):
            return None
        v = self.term(node)
        return Fact(
            (),
            "weak-int",
            (
                self.lit(v)
                if isinstance(v, int) and v >= 0
                else (v if isinstance(v, Sym) else None)
            ),
        )

    def broadcast_named(
        self, a: Fact, b: Fact, dims: tuple[Any, ...] | None, uf: UF
    ) -> tuple[Any, ...] | None:
        """``dims`` (the broadcast of ``a`` and ``b``) with each length left unknown
        because both operands' may be 1 named by one symbol of the pair: the broadcast
        of the same two lengths is the same length, so a unary function of the result
        (or the same sum again) has the result's shape."""
        if dims is None or a.dims is None or b.dims is None or None not in dims:
            return dims
        n = len(dims)
        da = (1,) * (n - len(a.dims)) + a.dims
        db = (1,) * (n - len(b.dims)) + b.dims
        out = []
        for d, x, y in zip(dims, da, db):
            if d is None and isinstance(x, Sym) and isinstance(y, Sym):
                d = self.derived(("Broadcast", frozenset((uf.find(x), uf.find(y)))))
            out.append(d)
        return tuple(out)

    def stmt(self, st: ir.Stmt, uf: UF) -> None:
        try:
            fact = self._stmt(st, uf)
        except Unknown:
            fact = None
        except Exception:  # noqa: BLE001  (facts are optional: never fail generation)
            fact = None
        if len(st.targets) > 1:
            facts = self.unpacked(st, len(st.targets))
            for t, f in zip(st.targets, facts):
                self.env[t] = f
            return
        for t in st.targets:
            self.env[t] = fact

    def unpacked(self, st: ir.Stmt, n: int) -> list[Fact | None]:
        """``n, d = x.shape``: each target's value as a length; ``a, b = xp.split(x, 2)``:
        equal pieces."""
        e = st.expr
        if st.kind == ir.PRIM and st.rule is not None and st.rule.name == "split":
            try:
                return [self.split_piece(st.bound, n)] * n
            except Unknown:
                return [None] * n
        if (
            st.kind == ir.STATIC
            and isinstance(e, cst.Attribute)
            and e.attr.value == "shape"
        ):
            x = self.expr_fact(e.value)
            if x is not None and x.dims is not None and len(x.dims) == n:
                return [Fact((), "weak-int", d) for d in x.dims]
        return [None] * n

    def split_piece(self, b: dict[str, Any], n: int) -> Fact | None:
        x = self.name(b.get("ary"))
        sections = const_value(b.get("indices_or_sections"))
        axis = const_value(b["axis"]) if b.get("axis") is not None else 0
        if x is None or not x.is_array or x.dims is None or sections != n:
            return None
        if type(axis) is not int or not -len(x.dims) <= axis < len(x.dims):
            return None
        dims = list(x.dims)
        k = axis % len(dims)
        size = self.size_of(dims[k])
        if size is not None:
            dims[k] = self.lit(size // n)
        elif dims[k] is not None:
            dims[k] = self.derived(("Split", dims[k], n))
        return Fact(tuple(dims), x.dtype)

    def _stmt(self, st: ir.Stmt, uf: UF) -> Fact | None:
        if st.kind == ir.READ and st.read is not None:
            param, path = st.read
            leaf = leaf_fact(tree.signature_at(self.specs.get(param), path))
            if leaf is not None and leaf.dims is not None:  # an argument's leaf: fixed
                self.read_lengths.update(d for d in leaf.dims if isinstance(d, Sym))
            return leaf
        if st.kind == ir.COPY and st.operands:
            return self.env.get(st.operands[0])
        if st.kind == ir.STATIC:
            if isinstance(st.expr, cst.Tuple) and len(st.targets) == 1:
                elements = st.expr.elements
                if not any(isinstance(e, cst.StarredElement) for e in elements):
                    self.tuples[st.targets[0]] = [e.value for e in elements]
            return self.static(st.expr)
        if st.kind == ir.NONDIFF and isinstance(st.expr, cst.Call):
            return shape_facts.creation(self, st.expr, self.xp)
        if st.kind != ir.PRIM or st.rule is None:
            return None
        shaped = self.shaped(st, uf)
        if shaped is not NotImplemented:
            return shaped
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
            dims = self.broadcast_named(x1, x2, broadcast(x1, x2, uf), uf)
            return Fact(dims, dt if integers else float_like(dt))
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
        return None

    def shaped(self, st: ir.Stmt, uf: UF) -> Any:
        """The fact of a shape-changing primitive (:mod:`shape_facts`), or NotImplemented
        for other rules."""
        assert st.rule is not None
        name, b = st.rule.name, st.bound
        arg = self.name

        def const(key: str, default: Any = None) -> Any:
            return const_value(b[key]) if b.get(key) is not None else default

        sf = shape_facts
        table = {
            "reshape": lambda: sf.reshape(
                self, arg(b.get("a")), b.get("shape", b.get("newshape"))
            ),
            "transpose": lambda: sf.transpose(arg(b.get("a")), const("axes")),
            "swapaxes": lambda: sf.swapaxes(
                arg(b.get("a")), const("axis1"), const("axis2")
            ),
            "moveaxis": lambda: sf.moveaxis(
                arg(b.get("a")), const("source"), const("destination")
            ),
            "expand_dims": lambda: sf.expand_dims(arg(b.get("a")), const("axis")),
            "squeeze": lambda: sf.squeeze(arg(b.get("a")), const("axis")),
            "stack": lambda: sf.stack(self, b.get("arrays"), const("axis", 0)),
            "concatenate": lambda: sf.concatenate(
                self, b.get("arrays"), const("axis", 0)
            ),
            "pad": lambda: self.pad(b),
            "lib.stride_tricks.sliding_window_view": lambda: sf.sliding_window_view(
                self, arg(b.get("x")), const("window_shape"), const("axis")
            ),
            "einsum": lambda: self.einsum(b),
            "tensordot": lambda: sf.tensordot(
                self, arg(b.get("a")), arg(b.get("b")), const("axes", 2)
            ),
            "getitem": lambda: sf.subscript(
                self,
                arg(b.get("x")),
                b.get("key"),
                st.targets[0] if self.speculate and len(st.targets) == 1 else None,
            ),
        }
        if name not in table:
            return NotImplemented
        saved, self.uf = self.uf, uf
        try:
            return table[name]()
        finally:
            self.uf = saved

    def pad(self, b: dict[str, Any]) -> Fact | None:
        mode = const_value(b["mode"]) if b.get("mode") is not None else "constant"
        if not isinstance(mode, str):
            raise Unknown
        return shape_facts.pad(
            self, self.name(b.get("array")), const_value(b["pad_width"])
        )

    def einsum(self, b: dict[str, Any]) -> Fact | None:
        ops = b.get("operands")
        if (
            not isinstance(ops, (cst.Tuple, cst.List))
            or b.get("optimize") not in (None,)
            and not isinstance(b.get("optimize"), cst.Name)
        ):
            raise Unknown
        facts = [self.expr_fact(e.value) for e in ops.elements]
        return shape_facts.einsum(self, const_value(b.get("subscripts")), facts)

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

    def static_arith(self, expr: cst.BinaryOperation) -> Fact | None:
        """Arithmetic on constant arrays (``xp.arange(n) * 0.5``): elementwise."""
        ops = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
        if not isinstance(expr.operator, ops):
            return None
        a, b = self.static(expr.left), self.static(expr.right)
        if a is None or b is None or not (a.is_array or b.is_array):
            return None
        dt = promote(a.dtype, b.dtype)
        if isinstance(expr.operator, cst.Divide):
            dt = float_like(dt)
        return Fact(broadcast(a, b, None), dt)

    def static(self, expr: cst.BaseExpression | None) -> Fact | None:
        if expr is None:
            return None
        f = self.expr_fact(expr)
        if (
            f is None
            and isinstance(expr, cst.Subscript)
            and isinstance(expr.value, cst.Name)
        ):  # a constant array's slice (``h0[k * dirs : (k + 1) * dirs]``)
            base = self.env.get(expr.value.value)
            if base is not None and base.is_array:
                try:
                    return shape_facts.subscript(self, base, expr)
                except shape_facts.Unknown:
                    return None
        if f is not None or not isinstance(expr, (cst.Call, cst.BinaryOperation)):
            return f
        if isinstance(expr, cst.BinaryOperation):
            return self.static_arith(expr)
        made = shape_facts.creation(self, expr, self.xp)
        if made is not None:
            return made
        func = expr.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.xp
            and func.attr.value in registry.names_of_kind("unary")
            and len(expr.args) == 1
            and expr.args[0].keyword is None
            and not expr.args[0].star
        ):
            x = self.expr_fact(expr.args[0].value)
            if x is not None and x.dims == () and x.dtype in ("weak-int", "weak-float"):
                return Fact((), np.dtype(np.float64))  # np.sqrt(4): a numpy float64
        return None
