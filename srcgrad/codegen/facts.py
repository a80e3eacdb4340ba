"""Stage 7a: shape and dtype facts, and the backward rewrites they prove safe.

A gradient called with arguments is specialised to their *abstract signature*: for every
array leaf its dtype and which axes have length 1; other lengths stay symbolic
(:class:`Sym`), so one generated file serves every batch size except 1.  From that signature
this stage infers, for each forward name, a :class:`Fact`: its axes (``1``, a symbol, or
``None`` when unknown) and its dtype (a numpy dtype, a weak Python scalar kind, or ``None``).

Every inference is sound or unknown: an operation this stage does not model gives ``None``
and no rewrite relies on it.  Two lengths are the same symbol only when the program proves it
(``x @ W`` ran, so ``x.shape[-1] == W.shape[0]``; broadcasting two non-unit lengths makes them
equal) and only from statements that always run (not inside a branch or a loop).

Cotangent names obey the *cotangent contract*: the cotangent of ``v`` has ``v``'s shape and
dtype (every rule ends in ``unbroadcast``/``expand_like``/a same-shape expression, and the API
casts a ``vjp`` seed to the output's dtype and shape).

The rewrites, each applied only when the facts prove the result identical:

- ``unbroadcast(g, x)`` -> ``g`` (same shape and dtype), or ``g.sum(axis=...)`` when the
  summed axes are known;
- ``expand_like(g, x, ...)`` -> ``g`` (same shape), and a broadcast that feeds only
  elementwise arithmetic with an operand of ``x``'s shape is left to numpy's broadcasting;
- ``matmul_cotangent_x1/x2`` of 2-D operands of one dtype -> ``g @ x2.T`` / ``x1.T @ g``;
- in the forward pass, ``xp.sum(a, ...)`` (and mean/max/min/prod) of a known array ->
  ``a.sum(...)``: the same reduction without numpy's Python-level dispatch.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.reverse import BIf, BLoop, Block, BSeg, parenthesize

WEAK = ("weak-int", "weak-float", "weak-complex")
_WEAK_VALUE = {"weak-int": 1, "weak-float": 1.0, "weak-complex": 1j}


class Sym:
    """A length other than 1, known only symbolically.  Which symbols are equal is a
    :class:`UF` (one per scope: a loop body or a branch may prove more than the code around
    it, and what it proves holds only where it runs)."""

    __slots__ = ("label",)

    def __init__(self, label: str = "") -> None:
        self.label = label

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Sym({self.label or hex(id(self))})"


class UF:
    """Union-find over symbols; ``child()`` starts a scope that may learn more."""

    def __init__(self, parent: dict[Sym, Sym] | None = None) -> None:
        self.parent: dict[Sym, Sym] = dict(parent or {})

    def find(self, s: Sym) -> Sym:
        while s in self.parent:
            s = self.parent[s]
        return s

    def union(self, a: Sym, b: Sym) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[rb] = ra

    def child(self) -> "UF":
        return UF(self.parent)

    def same_dim(self, a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if isinstance(a, Sym) and isinstance(b, Sym):
            return self.find(a) is self.find(b)
        return a == 1 and b == 1 and not isinstance(a, Sym) and not isinstance(b, Sym)


@dataclass(frozen=True)
class Fact:
    """What is known of a value: ``dims`` (``None``: rank unknown) and ``dtype``."""

    dims: tuple[Any, ...] | None
    dtype: Any  # np.dtype, one of WEAK, or None

    @property
    def is_array(self) -> bool:
        return isinstance(self.dtype, np.dtype) and self.dims is not None

    @property
    def weak(self) -> bool:
        return isinstance(self.dtype, str)

    @property
    def known(self) -> bool:
        return self.dims is not None and all(d is not None for d in self.dims)


def same_shape(a: Fact | None, b: Fact | None, uf: UF) -> bool:
    if a is None or b is None or a.dims is None or b.dims is None:
        return False
    return len(a.dims) == len(b.dims) and all(uf.same_dim(x, y) for x, y in zip(a.dims, b.dims))


def same_fact(a: Fact | None, b: Fact | None, uf: UF) -> bool:
    """Provably the same shape and the same numpy dtype (both arrays)."""
    return (
        a is not None
        and b is not None
        and a.is_array
        and b.is_array
        and a.dtype == b.dtype
        and same_shape(a, b, uf)
    )


# -- abstract signatures of call arguments ---------------------------------------------------


def leaf_fact(spec: Any, literals: dict[int, Sym] | None = None) -> Fact | None:
    """The fact of one argument leaf from its signature entry (see ``api._arg_facts``)."""
    if spec == "f":
        return Fact((), "weak-float")
    if spec == "i":
        return Fact((), "weak-int")
    if spec == "c":
        return Fact((), "weak-complex")
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], (str, np.dtype)):
        dtype, units = spec
        try:
            dt = np.dtype(dtype)
        except TypeError:
            return None
        return Fact(tuple(1 if u else Sym() for u in units), dt)
    return None


def _tree_get(spec: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        if not isinstance(spec, tuple) or len(spec) != 3 or spec[0] not in ("d", "s", "n"):
            return None
        items = spec[2]
        if spec[0] == "s":
            if not isinstance(k, int) or not -len(items) <= k < len(items):
                return None
            spec = items[k]
        else:
            spec = dict(items).get(k)
    return spec


# -- dtype and shape algebra -----------------------------------------------------------------


def promote(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    for x, y in ((a, b), (b, a)):
        if isinstance(x, tuple):  # ("either", p, q, ...): a join of dtypes
            results = {promote(m, y) for m in x[1:]}
            r = results.pop()
            return r if not results and not isinstance(r, tuple) else None
    if isinstance(a, str) and isinstance(b, str):
        return WEAK[max(WEAK.index(a), WEAK.index(b))]
    try:
        if isinstance(a, str):
            return np.result_type(b, _WEAK_VALUE[a])
        if isinstance(b, str):
            return np.result_type(a, _WEAK_VALUE[b])
        return np.result_type(a, b)
    except TypeError:
        return None


def broadcast(a: Fact | None, b: Fact | None, uf: UF | None) -> tuple[Any, ...] | None:
    """The broadcast shape; with ``uf``, two non-unit lengths are recorded as equal."""
    if a is None or b is None or a.dims is None or b.dims is None:
        return None
    n = max(len(a.dims), len(b.dims))
    da = (1,) * (n - len(a.dims)) + a.dims
    db = (1,) * (n - len(b.dims)) + b.dims
    out: list[Any] = []
    for x, y in zip(da, db):
        if x == 1 and not isinstance(x, Sym):
            out.append(y)
        elif y == 1 and not isinstance(y, Sym):
            out.append(x)
        elif x is None:
            out.append(y)  # y is a non-unit length: the result has it whatever x is
        elif y is None:
            out.append(x)
        else:
            if uf is not None:
                uf.union(x, y)
            out.append(x)
    return tuple(out)


def _float_like(dt: Any) -> Any:
    """dtype of a float-valued elementwise function of an operand of dtype ``dt``."""
    if isinstance(dt, tuple):
        results = {_float_like(m) for m in dt[1:]}
        r = results.pop()
        return r if not results else None
    if isinstance(dt, np.dtype):
        return dt if dt.kind in "fc" else None
    if dt in ("weak-float", "weak-complex"):
        return dt
    return None


def _const(node: cst.BaseExpression | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError):
        raise _Unknown from None


class _Unknown(Exception):
    pass


UNARY = {
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "cbrt",
    "cos",
    "cosh",
    "deg2rad",
    "degrees",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "log",
    "log10",
    "log1p",
    "log2",
    "negative",
    "positive",
    "rad2deg",
    "radians",
    "reciprocal",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "copy",
    "special.expit",
    "special.erf",
    "sinc",
}
BINARY = {
    "add",
    "subtract",
    "multiply",
    "divide",
    "maximum",
    "minimum",
    "power",
    "arctan2",
    "hypot",
    "logaddexp",
    "logaddexp2",
    "fmax",
    "fmin",
    "copysign",
}
REDUCE = {"sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std"}


def _reduce_dims(dims: tuple[Any, ...], axis: Any, keepdims: bool) -> tuple[Any, ...] | None:
    n = len(dims)
    if axis is None:
        axes = set(range(n))
    else:
        try:
            axes = {a % n if n else a for a in (axis if isinstance(axis, tuple) else (axis,))}
        except TypeError:
            return None
        if any(not 0 <= a < n for a in axes):
            return None
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(dims))
    return tuple(d for i, d in enumerate(dims) if i not in axes)


class Inference:
    """Forward facts of every name of a normalized function."""

    def __init__(self, norm: ir.Normalized, arg_specs: dict[str, Any]) -> None:
        self.norm = norm
        self.env: dict[str, Fact | None] = {}
        self.literals: dict[int, Sym] = {}
        self.specs = arg_specs
        self.uf = UF()
        self.scopes: dict[tuple[int, int], UF] = {}  # (id(IfNode/LoopNode), branch) -> scope
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
            return self.env.get(node.value)
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
        except _Unknown:
            fact = None
        except Exception:  # noqa: BLE001  (facts are optional: never fail generation)
            fact = None
        for t in st.targets:
            self.env[t] = fact if len(st.targets) == 1 else None

    def _stmt(self, st: ir.Stmt, uf: UF) -> Fact | None:
        if st.kind == ir.READ and st.read is not None:
            param, path = st.read
            return leaf_fact(_tree_get(self.specs.get(param), path))
        if st.kind == ir.COPY and st.operands:
            return self.env.get(st.operands[0])
        if st.kind == ir.STATIC:
            return self.static(st.expr)
        if st.kind != ir.PRIM or st.rule is None:
            return None
        name = st.rule.name
        b = st.bound
        if name in UNARY:
            x = self.name(b.get("x") if "x" in b else b.get("a"))
            if x is None:
                return None
            if name == "copy":
                return x
            return Fact(x.dims, _float_like(x.dtype))
        if name in ("float32", "float64"):
            x = self.name(b.get("x"))
            return Fact(x.dims if x is not None and x.dims is not None else None, np.dtype(name))
        if name in BINARY:
            x1, x2 = self.name(b.get("x1")), self.name(b.get("x2"))
            if x1 is None or x2 is None:
                return None
            dt = promote(x1.dtype, x2.dtype)
            if name in ("divide", "power", "arctan2", "hypot", "logaddexp", "logaddexp2"):
                dt = (
                    _float_like(dt) if not (isinstance(dt, np.dtype) and dt.kind in "iub") else None
                )
            return Fact(broadcast(x1, x2, uf), dt)
        if name in REDUCE:
            a = self.name(b.get("a"))
            if a is None or a.dims is None or b.get("dtype") is not None:
                return None
            axis = _const(b.get("axis")) if "axis" in b else None
            keep = bool(_const(b.get("keepdims"))) if "keepdims" in b else False
            if b.get("initial") is not None or b.get("where") is not None:
                return None
            dt = a.dtype if isinstance(a.dtype, np.dtype) and a.dtype.kind in "fc" else None
            if dt is None:
                return None
            return Fact(_reduce_dims(a.dims, axis, keep), dt)
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
                if sl.lower is None and sl.upper is None and sl.step is None and pos < len(dims):
                    out.append(dims[pos])
                    pos += 1
                    continue
                return None
            if not isinstance(sl, cst.Index) or sl.star is not None:
                return None
            v = sl.value
            f = self.expr_fact(v) if not isinstance(v, cst.Integer) else Fact((), "weak-int")
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
        ):
            return None
        dtype: Any = np.dtype(np.float64)
        for a in expr.args[1:]:
            if a.keyword is not None and a.keyword.value == "dtype" or a.keyword is None:
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
                neg = isinstance(idx, cst.UnaryOperation) and isinstance(idx.operator, cst.Minus)
                inner = idx.expression if neg else idx
                if src is None or src.dims is None or not isinstance(inner, cst.Integer):
                    return None
                i = int(inner.value, 0) * (-1 if neg else 1)
                if not -len(src.dims) <= i < len(src.dims):
                    return None
                dims.append(src.dims[i])
            else:
                return None
        return Fact(tuple(dims), dtype)


def join(a: Fact | None, b: Fact | None, uf: UF) -> Fact | None:
    if a is None or b is None:
        return None
    if a == b:
        return a
    dt = a.dtype if a.dtype == b.dtype else None
    if dt is None and a.dims == b.dims == () and a.dtype is not None and b.dtype is not None:
        # a scalar that starts as a Python number and becomes a numpy scalar (a loss
        # accumulator): either dtype; what combines the same with all of them is known
        members = {m for d in (a.dtype, b.dtype) for m in (d[1:] if isinstance(d, tuple) else (d,))}
        if len(members) <= 3:
            dt = ("either", *sorted(members, key=str))
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return Fact(None, dt) if dt is not None else None
    dims = tuple(x if uf.same_dim(x, y) else None for x, y in zip(a.dims, b.dims))
    return Fact(dims, dt)


# -- the rewrites ------------------------------------------------------------------------


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

    def __init__(self, rev: Any, inf: Inference) -> None:
        super().__init__()
        self.rev = rev
        self.inf = inf
        self.env: dict[str, Fact | None] = dict(inf.env)
        names = rev.norm.names
        self.helper = {names.generated(h): h for h in rev.helpers}
        self.xp = rev.xp
        self.cot: dict[str, str] = {a: p for p, a in rev.adjoints.items()}
        self.uf = inf.uf
        self.lazy: dict[str, tuple[cst.BaseExpression, Fact, set[str]]] = {}
        # within one statement: id(node) -> (node, what it equals unbroadcast, fact of that)
        self.lazy_nodes: dict[int, tuple[cst.BaseExpression, cst.BaseExpression, Fact]] = {}
        self.assigned: dict[str, Fact | None] = {}

    # -- facts of backward expressions
    def fact(self, name: str) -> Fact | None:
        primal = self.cot.get(name)
        if primal is not None:  # the cotangent contract
            f = self.env.get(primal)
            return f if f is not None and f.is_array else None
        if name in self.assigned:
            return self.assigned[name]
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
                node.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Power)
            ):
                return None
            dt = promote(a.dtype, b.dtype)
            if isinstance(node.operator, (cst.Divide, cst.Power)):
                dt = _float_like(dt)
            return Fact(broadcast(a, b, None), dt)
        if isinstance(node, cst.Attribute) and node.attr.value == "T":
            a = self.ev(node.value)
            if a is None or a.dims is None or not a.is_array:
                return None
            return Fact(tuple(reversed(a.dims)), a.dtype)
        if isinstance(node, cst.Call):
            return self.ev_call(node)
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            a, b = self.ev(node.left), self.ev(node.comparisons[0].comparator)
            if a is None or b is None or not (a.is_array or b.is_array):
                return None
            return Fact(broadcast(a, b, None), np.dtype(bool))
        return self.inf.expr_fact(node)  # a .shape[i] read

    def ev_call(self, node: cst.Call) -> Fact | None:
        f = node.func
        pos = [a.value for a in node.args if a.keyword is None and not a.star]
        if isinstance(f, cst.Name) and self.helper.get(f.value) == "reduction_size":
            return Fact((), "weak-int")
        if isinstance(f, cst.Name) and self.helper.get(f.value) == "power_slope" and len(pos) == 2:
            a, b = self.ev(pos[0]), self.ev(pos[1])  # x2 * x1 ** (x2 - 1), elementwise
            if a is None or b is None:
                return None
            return Fact(broadcast(a, b, None), _float_like(promote(a.dtype, b.dtype)))
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
        if isinstance(f, cst.Attribute) and f.attr.value == "astype" and len(node.args) == 1:
            x, d = self.ev(f.value), node.args[0].value
            if x is None or x.dims is None or not isinstance(d, cst.Attribute):
                return None
            if d.attr.value != "dtype" or not isinstance(d.value, cst.Name):
                return None
            dt = self.ev(d.value)
            return Fact(x.dims, dt.dtype if dt is not None and dt.is_array else None)
        reducer = None
        if isinstance(f, cst.Attribute) and f.attr.value in REDUCE:
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
                axis = _const(kw.get("axis"))
                keep = bool(_const(kw.get("keepdims")))
            except _Unknown:
                return None
            assert a.dims is not None
            dims = _reduce_dims(a.dims, axis, keep)
            if dims is None or a.dtype.kind not in "fc":
                return None
            return Fact(dims, a.dtype)
        if (
            isinstance(f, cst.Attribute)
            and isinstance(f.value, cst.Name)
            and f.value.value == self.xp
            and f.attr.value in UNARY | {"sign", "conj", "conjugate"}
            and len(pos) == 1
            and len(node.args) == 1
        ):
            x = self.ev(pos[0])
            return Fact(x.dims, _float_like(x.dtype)) if x is not None else None
        return None

    # -- statements
    def assign(self, st: cst.BaseSmallStatement) -> cst.BaseSmallStatement:
        if not isinstance(st, cst.Assign):
            return st
        value = st.value.visit(self)
        hit = self._lazy_hit(value)
        self.lazy_nodes.clear()
        st = st.with_changes(value=value)
        targets = [t.target for t in st.targets]
        if len(targets) != 1 or not isinstance(targets[0], cst.Name):
            for t in targets:
                for n in _names_in(t):
                    self.forget(n)
                    self.assigned[n] = None
            return st
        t = targets[0].value
        self.forget(t)
        if t not in self.cot:
            f = self.ev(value)
            self.assigned[t] = f if t not in self.assigned else join(self.assigned[t], f, self.uf)
        if hit is not None:  # t is a broadcast numpy's own broadcasting can do later
            reads = {n.value for n in _all_names(hit[0])}
            self.lazy[t] = (hit[0], hit[1], reads)
        return st

    def forget(self, name: str) -> None:
        self.lazy.pop(name, None)
        for k in [k for k, (_, _, reads) in self.lazy.items() if name in reads]:
            del self.lazy[k]

    def broadcastable(self, call: cst.BaseExpression) -> tuple[cst.BaseExpression, Fact] | None:
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
            or any(a.keyword is not None and a.keyword.value == "axis" for a in call.args)
        ):
            # a reduction over chosen axes without keepdims: numpy aligns trailing axes, which
            # is not where the reduced axes were (x.sum(axis=1) of a square x)
            return None
        for gd, xd in zip(reversed(g.dims), reversed(x.dims)):
            if not (gd == 1 and not isinstance(gd, Sym)) and not self.uf.same_dim(gd, xd):
                return None
        if not (g.dtype == x.dtype or (g.weak and x.dtype.kind in "fc")):
            return None
        return pos[0], x

    # -- expression rewrites
    def _elide(self, node: cst.BaseExpression, other: cst.BaseExpression) -> cst.BaseExpression:
        """``node`` (an operand next to ``other``) without a broadcast numpy does anyway."""
        hit = self._lazy_hit(node)
        if hit is None:
            return node
        g, x = hit
        o = self.ev(other)
        if o is not None and o.is_array and o.dtype == x.dtype and same_shape(o, x, self.uf):
            return parenthesize(g)
        return node

    def _lazy_hit(self, node: cst.BaseExpression) -> tuple[cst.BaseExpression, Fact] | None:
        if isinstance(node, cst.Name) and node.value in self.lazy:
            return self.lazy[node.value][:2]
        if isinstance(node, cst.Call):
            return self.broadcastable(node)
        hit = self.lazy_nodes.get(id(node))
        return hit[1:] if hit is not None and hit[0] is node else None

    def leave_BinaryOperation(
        self, original: cst.BinaryOperation, updated: cst.BinaryOperation
    ) -> cst.BaseExpression:
        if not isinstance(updated.operator, (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)):
            return updated
        # At most one side loses its broadcast: each side's shape is what justifies eliding the
        # other, so eliding both leaves nothing of the full shape (d_y / n + d_z, both lazy).
        left = self._elide(updated.left, updated.right)
        right = self._elide(updated.right, updated.left) if left is updated.left else updated.right
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
                    self.lazy_nodes[id(out)] = (out, repl, x)  # out itself: ids get reused
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
        return updated.with_changes(left=left, comparisons=[comp.with_changes(comparator=right)])

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        method = _as_method(updated, self.xp, self.ev)  # no dispatch, maybe no xp in bwd
        if method is not None:
            return method
        f = updated.func
        if not isinstance(f, cst.Name):
            return updated
        h = self.helper.get(f.value)
        if h is None:
            return updated
        pos = [a.value for a in updated.args if a.keyword is None and not a.star]
        if h in ("unbroadcast", "expand_like") and len(pos) == 2 and len(updated.args) >= 2:
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
            assert g is not None and x1 is not None and x2 is not None
            if not (g.dtype == x1.dtype == x2.dtype and len(x2.dims) == 2):  # type: ignore[arg-type]
                return updated
            gx, a, b = (parenthesize(p) for p in pos)
            if h == "matmul_cotangent_x1" and len(g.dims) == len(x1.dims) >= 2:  # type: ignore[arg-type]
                return cst.BinaryOperation(gx, cst.MatrixMultiply(), _attr(b, "T"))
            if h == "matmul_cotangent_x2" and len(g.dims) == len(x1.dims) == 2:  # type: ignore[arg-type]
                return cst.BinaryOperation(_attr(a, "T"), cst.MatrixMultiply(), gx)
        return updated

    def reduce_to(
        self, call: cst.Call, g_node: cst.BaseExpression, g: Fact | None, x: Fact | None
    ) -> cst.BaseExpression:
        """``unbroadcast(g, x)`` as ``g.sum(axis=...)`` when the summed axes are known."""
        if g is None or x is None or not (g.is_array and x.is_array) or g.dtype != x.dtype:
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
            if isinstance(it, Block):
                it.stmts = [self.assign(s) for s in it.stmts]
            elif isinstance(it, BSeg):
                for b in it.blocks:
                    b.stmts = [self.assign(s) for s in b.stmts]
            elif isinstance(it, BIf):
                for k, (body, fills) in enumerate(
                    ((it.body, it.fills_body), (it.orelse, it.fills_orelse))
                ):
                    scope = self.inf.scopes.get((id(it.node), k), uf)
                    self.items(body, scope)
                    self.items(fills, scope)
            elif isinstance(it, BLoop):
                self.items(it.pre, uf)
                self.items(it.body, self.inf.scopes.get((id(it.node), 0), uf))
        self.lazy.clear()
        self.uf = saved

    def forward(self, items: list[Any]) -> None:
        """``xp.sum(a, ...)`` -> ``a.sum(...)`` (and friends) for a known array ``a``."""
        for st in ir.walk_stmts(items):
            if isinstance(st, ir.Stmt) and st.kind == ir.PRIM and isinstance(st.expr, cst.Call):
                method = _as_method(st.expr, self.xp, self.inf.expr_fact)
                if method is not None:
                    st.expr = method


def _as_method(call: cst.Call, xp: str, fact_of: Any) -> cst.Call | None:
    """``xp.sum(a, ...)`` as ``a.sum(...)`` when ``fact_of(a)`` is an array, else None.

    Every reduction in REDUCE takes, after ``a``, the same parameters in the same order as
    its ndarray method (``np.max`` / ``amax`` are ``a.max``).
    """
    f = call.func
    if not (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value == xp
        and f.attr.value in REDUCE
        and call.args
        and call.args[0].keyword is None
        and not any(a.star for a in call.args)
    ):
        return None
    a = fact_of(call.args[0].value)
    if a is None or not a.is_array:
        return None
    method = {"amax": "max", "amin": "min"}.get(f.attr.value, f.attr.value)
    return cst.Call(func=_attr(call.args[0].value, method), args=list(call.args[1:]))


_UFUNC_OF = {
    cst.Add: "add",
    cst.Subtract: "subtract",
    cst.Multiply: "multiply",
    cst.Divide: "divide",
}
_FRESH = BINARY | (UNARY - {"copy"}) | {"matmul"}  # rules whose result is a new array


def forward_in_place(rev: Any, env: dict[str, Fact | None], uf: UF, bwd_reads: set[str]) -> int:
    """Fused elementwise chains: ``t2 = t1 + b`` becomes ``t2 = xp.add(t1, b, out=t1)`` when
    ``t1`` is a fresh array this function made (a ufunc or matmul result), read by nothing
    else (no later statement, not the backward pass) and of the result's shape and dtype.
    Only straight-line statements outside loops and branches; the values are bit-identical
    (the same ufunc, writing where its operand was).  Returns how many it rewrote."""
    norm = rev.norm
    reads: dict[str, int] = {}

    def count(node: Any) -> None:
        if node is None:
            return
        for n in _all_names(node):
            reads[n.value] = reads.get(n.value, 0) + 1

    for it in ir.walk_stmts(norm.stmts):
        if isinstance(it, ir.Phi):
            count(it.source)
        elif isinstance(it, ir.Stmt):
            count(it.expr)
            count(it.node)
            if it.recompute:
                for t in it.targets:
                    reads[t] = reads.get(t, 0) + 2
    _count_control(norm.stmts, count)
    count(norm.out)
    count(norm.aux)
    fresh: set[str] = set()
    done = 0
    xp = rev.xp
    for seg in norm.stmts:
        if not isinstance(getattr(seg, "stmts", None), list):
            continue
        for st in seg.stmts:
            if not (isinstance(st, ir.Stmt) and st.kind == ir.PRIM and st.rule is not None):
                continue
            name = st.rule.name
            result = env.get(st.targets[0]) if len(st.targets) == 1 else None
            if (
                name in BINARY | UNARY
                and result is not None
                and result.is_array
                and result.dims  # a 0-d result may be a numpy scalar: no out=
                and not st.recompute
            ):
                new = _in_place(st.expr, result, env, uf, fresh, reads, bwd_reads, xp)
                if new is not None:
                    st.expr = new
                    done += 1
            if name in _FRESH and len(st.targets) == 1:
                fresh.add(st.targets[0])
    return done


def _count_control(items: list[Any], count: Any) -> None:
    for it in items:
        if isinstance(it, ir.IfNode):
            count(it.test)
            _count_control(it.body, count)
            _count_control(it.orelse, count)
        elif isinstance(it, ir.LoopNode):
            count(it.iter)
            _count_control(it.body, count)


def _in_place(
    expr: cst.BaseExpression | None,
    result: Fact,
    env: dict[str, Fact | None],
    uf: UF,
    fresh: set[str],
    reads: dict[str, int],
    bwd_reads: set[str],
    xp: str,
) -> cst.BaseExpression | None:
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) in _UFUNC_OF:
        func: cst.BaseExpression = cst.Attribute(
            cst.Name(xp), cst.Name(_UFUNC_OF[type(expr.operator)])
        )
        args = [expr.left, expr.right]
    elif (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and isinstance(expr.func.value, cst.Name)
        and expr.func.value.value == xp
        and all(a.keyword is None and not a.star for a in expr.args)
    ):
        func = expr.func
        args = [a.value for a in expr.args]
    else:
        return None
    for a in args:
        if not isinstance(a, cst.Name) or a.value not in fresh:
            continue
        if (
            reads.get(a.value, 0)
            != sum(1 for b in args if isinstance(b, cst.Name) and b.value == a.value)
            or a.value in bwd_reads
        ):
            continue
        if not same_fact(env.get(a.value), result, uf):
            continue
        return cst.Call(
            func=func,
            args=[cst.Arg(b.with_changes(lpar=[], rpar=[])) for b in args]
            + [cst.Arg(cst.Name(a.value), keyword=cst.Name("out"))],
        )
    return None


def _names_in(node: cst.BaseExpression) -> list[str]:
    return [n.value for n in _all_names(node)]


def _all_names(node: cst.CSTNode) -> list[cst.Name]:
    """Every Name node under ``node`` (a plain walk: libcst matchers are slow here)."""
    out: list[cst.Name] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n)
        else:
            stack.extend(n.children)
    return out


def describe(params: list[str], arg_specs: dict[str, Any]) -> str:
    """The signature in words: ``x: float64[*, 1], lr: float`` (``*``: any length but 1)."""

    def leaf(spec: Any) -> str:
        if spec in ("f", "i", "c"):
            return {"f": "float", "i": "int", "c": "complex"}[spec]
        if spec == "static":
            return "constant"
        if isinstance(spec, tuple) and len(spec) == 3 and spec[0] in ("d", "s", "n"):
            kind, typ, items = spec
            if kind == "s":
                inner = ", ".join(leaf(v) for v in items)
                return f"[{inner}]" if typ is list else f"({inner}{',' if len(items) == 1 else ''})"
            inner = ", ".join(
                f"{k}: {leaf(v)}" if kind == "d" else f"{k}={leaf(v)}" for k, v in items
            )
            return "{" + inner + "}" if kind == "d" else f"{typ.__name__}({inner})"
        if isinstance(spec, tuple) and len(spec) == 2:
            dims = ", ".join("1" if u else "*" for u in spec[1])
            return f"{np.dtype(spec[0]).name}[{dims}]"
        return "any"

    return ", ".join(f"{p}: {leaf(arg_specs.get(p))}" for p in params)


def specialise(rev: Any, arg_specs: dict[str, Any] | None) -> None:
    """Infer forward facts from ``arg_specs`` and apply the rewrites to ``rev`` in place."""
    if not arg_specs:
        return
    inf = Inference(rev.norm, arg_specs)
    inf.run()
    rw = Rewriter(rev, inf)
    rw.items(rev.blocks, inf.uf)
    rw.forward(rev.norm.stmts)
    rev.facts = inf
    rev.note = describe(rev.norm.params, arg_specs)
