"""Shape facts of the shape-changing primitives: what :class:`~srcgrad.codegen.inference.
Inference` knows of a ``reshape``, ``transpose``, slice, gather, ``pad``, window view,
``einsum``, ``tensordot``, join or creation call from the facts of its operands.

Each function returns a :class:`Fact` or ``None`` (unknown), and raises
:class:`~srcgrad.codegen.inference.Unknown` for an operand it does not model.  Lengths follow
the rules of :mod:`facts`: ``1``, a symbol known not to be 1, or a symbol the program computed
(``maybe_one``: a slice's length, ``d // heads``).  A computed length is one symbol per
computation (:meth:`Lengths.derived`), so the same slice of the same array twice has the same
length, and two results of one computation broadcast as equals.
"""

from __future__ import annotations

import string
from math import prod
from typing import TYPE_CHECKING, Any

import libcst as cst
import numpy as np

from srcgrad.codegen.facts import UF, Fact, Sym, maybe_one

if TYPE_CHECKING:  # pragma: no cover
    from srcgrad.codegen.inference import Inference


class Unknown(Exception):
    """An operand this inference does not model."""


def const_value(node: cst.BaseExpression | None) -> Any:
    import ast

    if node is None:
        return None
    try:
        return ast.literal_eval(cst.Module([]).code_for_node(node))
    except (ValueError, SyntaxError, TypeError):
        raise Unknown from None


def _array(f: Fact | None) -> Fact:
    if f is None or not f.is_array or f.dims is None:
        raise Unknown
    return f


def _axis(a: Any, n: int) -> int:
    if not isinstance(a, int) or not -n <= a < n:
        raise Unknown
    return a % n


class Lengths:
    """Integer values as lengths, and lengths the program computes (a mixin of
    :class:`Inference`)."""

    literals: dict[int, Sym]
    memo: dict[tuple[Any, ...], Sym]
    uf: UF

    def lit(self, n: int) -> Any:
        """The length ``n`` (a literal): 1, or its one symbol."""
        if n == 1:
            return 1
        return self.literals.setdefault(n, Sym(str(n), size=n))

    def derived(self, key: tuple[Any, ...], not_one: bool = False) -> Sym:
        """The one symbol of the length computed as ``key`` (operands as symbols)."""
        key = tuple(self.uf.find(k) if isinstance(k, Sym) else k for k in key)
        if key not in self.memo:
            self.memo[key] = Sym(str(key[0]), maybe_one=not not_one)
        return self.memo[key]

    def offset(self, d: Any, k: int) -> Any:
        """The length ``d + k`` (exact, never below 0): one symbol for each base and total
        offset, so ``pad`` by 1 on each side and a window of 3 give the length back."""
        if d is None:
            return None
        size = self.size_of(d)
        if size is not None:
            return self.lit(size + k) if size + k >= 0 else None
        base, k0 = d, 0
        for key, sym in self.memo.items():
            if sym is d and key[0] == "Offset":
                base, k0 = key[1], key[2]
        total = k0 + k
        if total == 0:
            return base
        return self.derived(("Offset", base, total), not_one=total >= 2)

    def size_of(self, d: Any) -> int | None:
        if isinstance(d, Sym):
            return self.uf.find(d).size if self.uf.find(d).size is not None else d.size
        return d if isinstance(d, int) else None

    def term(self, node: cst.BaseExpression) -> Any:
        """The value of an integer expression: an int, a Sym, or None (unknown)."""
        if isinstance(node, cst.Integer):
            return int(node.value, 0)
        if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, cst.Minus
        ):
            v = self.term(node.expression)
            return -v if isinstance(v, int) else None
        if isinstance(node, cst.BinaryOperation):
            return self._arith(node)
        f = self.expr_fact(node)  # type: ignore[attr-defined]
        if f is None or f.dtype != "weak-int" or f.value is None:
            return None
        n = self.size_of(f.value)
        return n if n is not None else f.value

    def _arith(self, node: cst.BinaryOperation) -> Any:
        a, b = self.term(node.left), self.term(node.right)
        if a is None or b is None:
            return None
        op = type(node.operator).__name__
        if isinstance(a, int) and isinstance(b, int):
            try:
                return {
                    "Add": a + b,
                    "Subtract": a - b,
                    "Multiply": a * b,
                    "FloorDivide": a // b if b else None,
                    "Modulo": a % b if b else None,
                }.get(op)
            except ArithmeticError:
                return None
        if op not in ("Add", "Subtract", "Multiply", "FloorDivide"):
            return None
        # a product of lengths that are not 1 (one of them a symbol) is not 1
        not_one = op == "Multiply" and all(
            (isinstance(v, Sym) and not maybe_one(v, self.uf))
            or (isinstance(v, int) and v >= 2)
            for v in (a, b)
        )
        return self.derived((op, a, b), not_one)

    def dim(self, node: cst.BaseExpression) -> Any:
        """An integer expression as a length, or None."""
        v = self.term(node)
        if isinstance(v, int):
            return self.lit(v) if v >= 0 else None
        return v


# -- reshapes and axis permutations -----------------------------------------------------


def reshape(inf: "Inference", a: Fact | None, shape: cst.BaseExpression | None) -> Fact:
    a = _array(a)
    assert a.dims is not None
    if isinstance(shape, cst.Attribute) and shape.attr.value == "shape":
        other = _array(inf.expr_fact(shape.value))  # reshape(a, b.shape)
        return Fact(other.dims, a.dtype)
    if isinstance(shape, (cst.Tuple, cst.List)):
        if any(isinstance(e, cst.StarredElement) for e in shape.elements):
            raise Unknown
        nodes = [e.value for e in shape.elements]
    elif isinstance(shape, cst.Name) and shape.value in inf.tuples:
        nodes = list(inf.tuples[shape.value])  # shape = (n, m); a.reshape(shape)
    elif shape is not None and _an_integer(inf, shape):
        nodes = [shape]
    else:  # a shape tuple made elsewhere (``reshape(*s)``, ``reshape(xp.shape(y))``)
        raise Unknown
    terms = [inf.term(n) for n in nodes]
    if sum(1 for t in terms if t == -1) > 1:
        raise Unknown
    dims = [inf.dim(n) if t != -1 else -1 for n, t in zip(nodes, terms)]
    if -1 in dims:
        i = dims.index(-1)
        dims[i] = _rest(inf, a.dims, [d for d in dims if d != -1])
    return Fact(tuple(dims), a.dtype)


def _an_integer(inf: "Inference", node: cst.BaseExpression) -> bool:
    """Whether ``node`` is one integer (a reshape to one axis), as far as the facts say."""
    if isinstance(node, (cst.Integer, cst.UnaryOperation, cst.BinaryOperation)):
        return True
    f = inf.expr_fact(node)
    return f is not None and f.dims == () and _integer(f.dtype)


def _rest(inf: "Inference", src: tuple[Any, ...], known: list[Any]) -> Any:
    """The length of a ``-1`` axis: the source axes the other target axes do not account
    for (the same symbols cancel), or None."""
    left = [d for d in src if not (d == 1 and not isinstance(d, Sym))]
    unmatched: list[Any] = []
    for d in known:
        if d == 1 and not isinstance(d, Sym):
            continue
        match = next((k for k, s in enumerate(left) if inf.uf.same_dim(s, d)), None)
        if match is None:
            unmatched.append(d)
            continue
        del left[match]
    if unmatched:
        sizes = [inf.size_of(s) for s in left + unmatched]
        if None not in sizes:
            total = prod(sizes[: len(left)])
            n = prod(sizes[len(left) :])
            return inf.lit(total // n) if n and total % n == 0 else None
        if None in left or None in unmatched:
            return None
        # what the other axes leave of the source's: one symbol per such quotient
        return inf.derived(("Quotient", tuple(left), tuple(unmatched)))
    if not left:
        return 1
    if len(left) == 1:
        return left[0]
    if any(d is None or maybe_one(d, inf.uf) for d in left):
        return inf.derived(("Multiply", *left))
    return inf.derived(("Multiply", *left), not_one=True)


def transpose(a: Fact | None, axes: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    n = len(a.dims)
    if axes is None:
        return Fact(tuple(reversed(a.dims)), a.dtype)
    perm = [_axis(x, n) for x in axes]
    if sorted(perm) != list(range(n)):
        raise Unknown
    return Fact(tuple(a.dims[p] for p in perm), a.dtype)


def swapaxes(a: Fact | None, i: Any, j: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    n = len(a.dims)
    perm = list(range(n))
    i, j = _axis(i, n), _axis(j, n)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def moveaxis(a: Fact | None, source: Any, destination: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    n = len(a.dims)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src, dst = [_axis(s, n) for s in src], [_axis(d, n) for d in dst]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise Unknown
    order = [k for k in range(n) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def expand_dims(a: Fact | None, axis: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    axes = [axis] if isinstance(axis, int) else list(axis)
    n = len(a.dims) + len(axes)
    where = {_axis(x, n) for x in axes}
    if len(where) != len(axes):
        raise Unknown
    it = iter(a.dims)
    return Fact(tuple(1 if k in where else next(it) for k in range(n)), a.dtype)


def squeeze(a: Fact | None, axis: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    n = len(a.dims)
    if axis is None:
        if any(d is None or (isinstance(d, Sym) and d.maybe_one) for d in a.dims):
            raise Unknown
        return Fact(tuple(d for d in a.dims if isinstance(d, Sym)), a.dtype)
    axes = {_axis(x, n) for x in ([axis] if isinstance(axis, int) else axis)}
    return Fact(tuple(d for k, d in enumerate(a.dims) if k not in axes), a.dtype)


# -- joins ---------------------------------------------------------------------------


def _items(inf: "Inference", node: cst.BaseExpression | None) -> list[Fact]:
    if not isinstance(node, (cst.List, cst.Tuple)) or not node.elements:
        raise Unknown
    if any(isinstance(e, cst.StarredElement) for e in node.elements):
        raise Unknown
    return [_array(inf.expr_fact(e.value)) for e in node.elements]


def _common_dtype(items: list[Fact]) -> Any:
    dts = {f.dtype for f in items}
    if len(dts) != 1:
        raise Unknown
    return dts.pop()


def stack(inf: "Inference", arrays: cst.BaseExpression | None, axis: Any) -> Fact:
    items = _items(inf, arrays)
    first = items[0]
    assert first.dims is not None
    for f in items[1:]:  # stack requires equal shapes: what it ran proves
        if f.dims is None or len(f.dims) != len(first.dims):
            raise Unknown
        for x, y in zip(first.dims, f.dims):
            if isinstance(x, Sym) and isinstance(y, Sym):
                inf.uf.union(x, y)
    n = len(first.dims) + 1
    k = _axis(axis, n)
    dims = list(first.dims)
    dims.insert(k, inf.lit(len(items)))
    return Fact(tuple(dims), _common_dtype(items))


def concatenate(inf: "Inference", arrays: cst.BaseExpression | None, axis: Any) -> Fact:
    items = _items(inf, arrays)
    first = items[0]
    assert first.dims is not None
    if axis is None or any(
        f.dims is None or len(f.dims) != len(first.dims) for f in items
    ):
        raise Unknown
    k = _axis(axis, len(first.dims))
    dims = list(first.dims)
    for f in items[1:]:
        assert f.dims is not None
        for j, (x, y) in enumerate(zip(first.dims, f.dims)):
            if j != k and isinstance(x, Sym) and isinstance(y, Sym):
                inf.uf.union(x, y)
    parts = [f.dims[k] for f in items]  # type: ignore[index]
    if len(parts) == 1:
        dims[k] = parts[0]
    else:
        sizes = [inf.size_of(p) for p in parts]
        if None not in sizes:
            dims[k] = inf.lit(sum(sizes))  # type: ignore[arg-type]
        else:
            # two or more lengths, one a symbol: not 1 unless all but one are 0
            dims[k] = inf.derived(("Add", *parts))
    return Fact(tuple(dims), _common_dtype(items))


# -- windows and padding ---------------------------------------------------------------


def pad(inf: "Inference", a: Fact | None, width: Any) -> Fact:
    a = _array(a)
    assert a.dims is not None
    n = len(a.dims)
    if isinstance(width, int):
        pairs = [(width, width)] * n
    elif len(width) == 1 and isinstance(width[0], (tuple, list)):
        pairs = [tuple(width[0])] * n
    elif len(width) == 2 and all(isinstance(w, int) for w in width):
        pairs = [tuple(width)] * n
    else:
        pairs = [tuple(w) for w in width]
    if len(pairs) != n or any(len(p) != 2 for p in pairs):
        raise Unknown
    dims = []
    for d, (lo, hi) in zip(a.dims, pairs):
        if not (isinstance(lo, int) and isinstance(hi, int)) or lo < 0 or hi < 0:
            raise Unknown
        extra = lo + hi
        size = inf.size_of(d)
        if extra == 0:
            dims.append(d)
        elif size is not None:
            dims.append(inf.lit(size + extra))
        elif d is None:
            dims.append(None)
        else:
            dims.append(inf.offset(d, extra))
    return Fact(tuple(dims), a.dtype)


def sliding_window_view(
    inf: "Inference", x: Fact | None, window: Any, axis: Any
) -> Fact:
    x = _array(x)
    assert x.dims is not None
    n = len(x.dims)
    win = [window] if isinstance(window, int) else list(window)
    if axis is None:
        axes = list(range(n))
    else:
        axes = [axis] if isinstance(axis, int) else list(axis)
    if len(win) != len(axes) or any(not isinstance(w, int) or w < 1 for w in win):
        raise Unknown
    dims = list(x.dims)
    for ax, w in zip(axes, win):
        k = _axis(ax, n)
        d = dims[k]
        size = inf.size_of(d)
        if w == 1:
            continue
        if size is not None:
            dims[k] = inf.lit(size - w + 1)
        else:
            dims[k] = inf.offset(
                d, 1 - w
            )  # numpy refuses a window longer than the axis
    return Fact(tuple(dims) + tuple(inf.lit(w) for w in win), x.dtype)


# -- products ---------------------------------------------------------------------------


def einsum(inf: "Inference", subscripts: Any, operands: list[Fact | None]) -> Fact:
    if not isinstance(subscripts, str) or "." in subscripts:
        raise Unknown
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise Unknown
    facts = [_array(f) for f in operands]
    letters: dict[str, Any] = {}
    for term, f in zip(terms, facts):
        assert f.dims is not None
        if len(term) != len(f.dims) or not set(term) <= set(string.ascii_letters):
            raise Unknown
        for ch, d in zip(term, f.dims):
            if (
                ch not in letters
                or letters[ch] == 1
                and not isinstance(letters[ch], Sym)
            ):
                letters[ch] = d  # a letter of length 1 broadcasts
            elif d == 1 and not isinstance(d, Sym):
                continue
            elif isinstance(letters[ch], Sym) and isinstance(d, Sym):
                inf.uf.union(letters[ch], d)
            else:
                letters[ch] = None
    if not arrow:
        counts = {ch: ins.count(ch) for ch in letters}
        out = "".join(sorted(ch for ch, c in counts.items() if c == 1))
    if not set(out) <= set(letters) or len(set(out)) != len(out):
        raise Unknown
    dtype = facts[0].dtype
    for f in facts[1:]:
        dtype = np.result_type(dtype, f.dtype)
    return Fact(tuple(letters[ch] for ch in out), dtype)


def tensordot(inf: "Inference", a: Fact | None, b: Fact | None, axes: Any) -> Fact:
    a, b = _array(a), _array(b)
    assert a.dims is not None and b.dims is not None
    if isinstance(axes, int):
        if not 0 <= axes <= min(len(a.dims), len(b.dims)):
            raise Unknown
        ax_a = list(range(len(a.dims) - axes, len(a.dims)))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = (
            [x] if isinstance(x, int) else list(x) for x in axes  # type: ignore[misc]
        )
        ax_a = [_axis(x, len(a.dims)) for x in ax_a]
        ax_b = [_axis(x, len(b.dims)) for x in ax_b]
    if len(ax_a) != len(ax_b):
        raise Unknown
    for i, j in zip(ax_a, ax_b):
        x, y = a.dims[i], b.dims[j]
        if isinstance(x, Sym) and isinstance(y, Sym):
            inf.uf.union(x, y)
    keep_a = [d for k, d in enumerate(a.dims) if k not in ax_a]
    keep_b = [d for k, d in enumerate(b.dims) if k not in ax_b]
    return Fact(tuple(keep_a + keep_b), np.result_type(a.dtype, b.dtype))


# -- subscripts --------------------------------------------------------------------------


def subscript(
    inf: "Inference",
    x: Fact | None,
    key: cst.BaseExpression | None,
    target: str | None = None,
) -> Fact:
    """``x[key]`` for basic keys (ints, slices with integer bounds, None, one Ellipsis)
    and one integer-array index.

    ``target``: the forward name the statement binds, where the inference speculates
    (:meth:`Inference.speculated`): a slice's computed length is then taken as not 1, and
    the forward checks that after the statement."""
    x = _array(x)
    assert x.dims is not None
    if not (isinstance(key, cst.Subscript) and isinstance(key.value, cst.Name)):
        raise Unknown
    els = [el.slice for el in key.slice]
    if any(isinstance(s, cst.Index) and s.star is not None for s in els):
        raise Unknown
    consumed = sum(
        0 if isinstance(s, cst.Index) and _is_none_or_ellipsis(s.value) else 1
        for s in els
    )
    dims = list(x.dims)
    if consumed > len(dims):
        raise Unknown
    out: list[Any] = []
    advanced: list[Fact] = []
    pos = 0
    for s in els:
        if isinstance(s, cst.Slice):
            length = _slice_length(inf, dims[pos], s)
            if target is not None and _symbolic_bound(inf, s):
                length = inf.speculated(length, target, len(out))
            out.append(length)
            pos += 1
            continue
        v = s.value
        if isinstance(v, cst.Name) and v.value == "None":
            out.append(1)
            continue
        if isinstance(v, cst.Ellipsis):
            n = len(dims) - consumed
            out.extend(dims[pos : pos + n])
            pos += n
            continue
        f = inf.expr_fact(v)
        if f is not None and f.dtype == "weak-int" and f.dims == ():
            pos += 1  # an integer index drops the axis
            continue
        if (
            f is not None
            and f.is_array
            and f.dtype.kind in "iu"
            and not advanced
            and all(isinstance(o, cst.Slice) for o in els if o is not s)
        ):
            advanced.append(f)
            assert f.dims is not None
            out.extend(f.dims)
            pos += 1
            continue
        raise Unknown
    if advanced and any(
        isinstance(s, cst.Index) and not _is_array_index(inf, s.value) for s in els
    ):
        raise Unknown  # numpy moves the indexed axes first: not modelled
    return Fact(tuple(out) + tuple(dims[pos:]), x.dtype)


def _is_array_index(inf: "Inference", v: cst.BaseExpression) -> bool:
    f = inf.expr_fact(v)
    return f is not None and f.is_array


def _is_none_or_ellipsis(v: cst.BaseExpression) -> bool:
    return isinstance(v, cst.Ellipsis) or (
        isinstance(v, cst.Name) and v.value == "None"
    )


def _symbolic_bound(inf: "Inference", s: cst.Slice) -> bool:
    """Whether a bound of ``s`` is a length the program computed (``gi[:, :hidden]``,
    ``x[:, h * d : (h + 1) * d]``), not a literal (``x[-1:]`` is most often 1 long)."""
    return (s.step is None or inf.term(s.step) == 1) and any(
        b is not None and isinstance(inf.term(b), Sym) for b in (s.lower, s.upper)
    )


def _slice_length(inf: "Inference", d: Any, s: cst.Slice) -> Any:
    if s.lower is None and s.upper is None and s.step is None:
        return d
    bounds = [
        inf.term(b) if b is not None else None for b in (s.lower, s.upper, s.step)
    ]
    for b, node in zip(bounds, (s.lower, s.upper, s.step)):
        if node is not None and b is None:
            raise Unknown  # a bound this inference cannot read
    size = inf.size_of(d)
    if size is not None and all(b is None or isinstance(b, int) for b in bounds):
        return inf.lit(len(range(size)[slice(*bounds)]))
    if bounds[2] == 0:
        raise Unknown
    if d is None:
        return None
    lo, hi, step = bounds
    if (
        step in (None, 1)
        and (lo is None or (isinstance(lo, int) and lo >= 0))
        and (hi is None or (isinstance(hi, int) and hi <= 0))
    ):
        # x[k:], x[:-k], x[1:-1]: max(0, len(x) - k), one symbol for every such k
        k = (lo or 0) - (hi or 0)
        return d if k == 0 else inf.derived(("Drop", d, k))
    return inf.derived(("Slice", d, *bounds))


# -- creation functions -------------------------------------------------------------------

_CREATE = ("zeros", "ones", "empty", "full")
_LIKE = ("zeros_like", "ones_like", "empty_like", "full_like")
# the creation functions whose facts are known (each returns a new array)
CREATION = _CREATE + _LIKE + ("eye", "identity", "arange")


def creation(inf: "Inference", call: cst.Call, xp: str) -> Fact | None:
    """``xp.zeros(shape, dtype=...)`` and friends, ``xp.zeros_like(a)``, ``xp.eye(n)``,
    ``xp.arange(...)``; None for other calls."""
    f = call.func
    if not (
        isinstance(f, cst.Attribute)
        and isinstance(f.value, cst.Name)
        and f.value.value == xp
    ):
        return None
    name = f.attr.value
    if name not in CREATION:
        return None
    if any(a.star for a in call.args):
        raise Unknown
    pos = [a.value for a in call.args if a.keyword is None]
    kw = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if set(kw) - {"dtype", "fill_value", "order", "shape"} or not pos:
        raise Unknown
    if name not in _LIKE and ("shape" in kw or len(pos) > 3):
        raise Unknown
    if name in _LIKE:
        like = _array(inf.expr_fact(pos[0]))
        at = 2 if name == "full_like" else 1  # where dtype is passed by position
        if "shape" in kw or len(pos) > at + 1:
            raise Unknown
        given = kw.get("dtype", pos[at] if len(pos) > at else None)
        return Fact(like.dims, _dtype(inf, given, like))  # full_like casts to a's dtype
    if name == "arange":
        return _arange(inf, pos, kw)
    if name in ("eye", "identity"):
        if len(pos) != 1:
            raise Unknown
        d = inf.dim(pos[0])
        return Fact((d, d), _dtype(inf, kw.get("dtype"), None))
    shape = pos[0]
    if isinstance(shape, cst.Attribute) and shape.attr.value == "shape":
        like = _array(inf.expr_fact(shape.value))
        dims: tuple[Any, ...] = like.dims  # type: ignore[assignment]
        return _made(inf, name, pos, kw, dims)
    if any(isinstance(e, cst.StarredElement) for e in getattr(shape, "elements", [])):
        raise Unknown
    if isinstance(shape, (cst.Tuple, cst.List)):
        nodes = [e.value for e in shape.elements]
    elif isinstance(shape, cst.Name) and shape.value in inf.tuples:
        nodes = inf.tuples[shape.value]  # shape = (n, m); xp.zeros(shape)
    else:
        # one length (``xp.zeros(n)``) only where the facts say it is an integer: a
        # name may hold a tuple of lengths, whose count is not known here
        one = inf.expr_fact(shape)
        if one is None or one.dims != () or not _integer(one.dtype):
            raise Unknown
        nodes = [shape]
    return _made(inf, name, pos, kw, tuple(inf.dim(n) for n in nodes))


def _made(
    inf: "Inference", name: str, pos: list[Any], kw: dict[str, Any], dims: Any
) -> Fact:
    given = kw.get("dtype")
    if given is None and name == "full":
        fill = pos[1] if len(pos) > 1 else kw.get("fill_value")
        ff = inf.expr_fact(fill) if fill is not None else None
        if ff is None or ff.dtype != "weak-float":
            raise Unknown
        return Fact(dims, np.dtype(np.float64))
    if given is None and len(pos) > (2 if name == "full" else 1):
        given = pos[2 if name == "full" else 1]
    return Fact(dims, _dtype(inf, given, None))


def _arange(inf: "Inference", pos: list[Any], kw: dict[str, Any]) -> Fact:
    terms = [inf.term(p) for p in pos]
    if len(pos) > 3 or any(t is None for t in terms):
        raise Unknown
    if all(isinstance(t, int) for t in terms):
        n = len(range(*terms))
        d: Any = inf.lit(n)
    elif len(terms) == 1:
        d = terms[0]  # arange(n) of a length n: n items
    else:
        d = inf.derived(("Arange", *terms))
    dtype = _dtype(inf, kw.get("dtype"), None) if "dtype" in kw else np.dtype(int)
    return Fact((d,), dtype)


def _dtype(inf: "Inference", node: Any, like: Fact | None) -> Any:
    """The dtype a ``dtype=`` argument names: absent (float64, or ``like``'s), ``x.dtype``,
    ``xp.float32``, or a string."""
    if node is None:
        return like.dtype if like is not None else np.dtype(np.float64)
    if isinstance(node, cst.Attribute) and node.attr.value == "dtype":
        f = inf.expr_fact(node.value)
        if f is not None and f.is_array:
            return f.dtype
        raise Unknown
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        if node.value.value == inf.norm.names.generated("xp"):
            try:
                return np.dtype(getattr(np, node.attr.value))
            except (AttributeError, TypeError):
                raise Unknown from None
    if isinstance(node, cst.SimpleString):
        try:
            return np.dtype(const_value(node))
        except TypeError:
            raise Unknown from None
    raise Unknown


def _integer(dtype: Any) -> bool:
    """An integer's dtype: Python's ``int`` (weak) or a numpy integer type."""
    return dtype == "weak-int" or (isinstance(dtype, np.dtype) and dtype.kind in "iu")
