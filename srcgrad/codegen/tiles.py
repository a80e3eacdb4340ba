"""Stage 13b: a cotangent joined from pieces that tile an axis, written piece by piece.

:mod:`scatters` makes the cotangent of a value read through slices that tile one axis
(``gi[:, :h]``, ``gi[:, h : 2 * h]``, ``gi[:, 2 * h :]``) one call::

    d_c_add = d_c * (one - c * c)
    ...
    d_gi = scatter_pieces([d_c_add, d_z_add, d_r_add], gi, [index[:, 2 * hidden :], ...])

which computes each piece into an array of its own and copies them all into a new one.
Where the shape facts prove it the same, this pass allocates the joined array first and
has each piece's own statement write its result into its slice::

    d_gi = xp.empty(gi.shape, dtype=gi.dtype)
    d_c_add = xp.multiply(d_c, one - c * c, out=d_gi[:, 2 * hidden :])
    ...

A piece is written in place when (all proved, else the call stays as it was):

- the keys are slices of one axis, every other axis whole, whose bounds follow one another
  (``:a``, ``a:b``, ``b:``) and do not decrease (``a <= b`` for ``a = h``, ``b = 2 * h``
  and ``h`` a length), so the slices tile the axis whatever its length: every element is
  written once;
- its statement is the last binding of its name before the call, in the same straight-line
  run, and is elementwise arithmetic (``+ - * /``, unary ``-``) whose result has, by the
  facts (or, for a cotangent whose operands they do not know, by the cotangent contract
  of :mod:`specialise`), exactly the shape of its slice and the value's dtype, so
  ``out=`` neither broadcasts nor casts;
- nothing between the allocation and the call binds the joined name, the value, a name a
  key reads, or writes an array in place, and the backward pass writes no array in place
  at all (a piece is now a view of the joined array).

A piece that another call of the run has written already (one cotangent feeding two
joins, as ``d_z_add`` feeds ``d_gi`` and ``d_gh``) is copied into its slice at the call's
place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from srcgrad.codegen import TILED_MARK, ir, shape_facts
from srcgrad.codegen.facts import Fact, Sym, same_fact
from srcgrad.codegen.inference import Inference
from srcgrad.codegen.ir import Backward, Names, assigned_names, read_names
from srcgrad.codegen.optimize import _segments
from srcgrad.codegen.residuals import Residuals
from srcgrad.codegen.specialise import Rewriter

__all__ = ["write_pieces"]

_UFUNC = {
    cst.Add: "add",
    cst.Subtract: "subtract",
    cst.Multiply: "multiply",
    cst.Divide: "divide",
}


@dataclass
class _Join:
    """``target = scatter_pieces([pieces], base, [keys])`` at position ``at`` of a run."""

    at: int
    target: str
    pieces: list[cst.BaseExpression]
    base: str
    keys: list[cst.BaseExpression]


def write_pieces(
    bwd: Backward, names: Names, inf: Inference | None, plan: Residuals
) -> Backward:
    """``bwd`` with the pieces of its tiling joins written into place (in place); the
    backward pass then reads the namespace (``plan.bwd_uses_xp``)."""
    if inf is None or "scatter_pieces" not in bwd.helpers or _writes_in_place(bwd):
        return bwd
    rw = Rewriter(names, bwd, inf)
    if _walk(bwd.blocks, rw, inf.uf, names.generated("scatter_pieces")):
        plan.bwd_uses_xp = True
    return bwd


def _walk(items: list[Any], rw: Rewriter, uf: Any, pieces: str) -> bool:
    """Every straight-line run of ``items``, with the facts' scope of where it runs;
    whether a join was written in place."""
    saved = rw.uf
    rw.uf = uf
    changed = False
    run: list[Any] = []
    for it in items + [None]:
        if isinstance(it, (ir.Block, ir.BSeg)):
            run.append(it)
            continue
        for segment in _segments(run):
            changed |= _segment(segment, rw, pieces)
        run = []
        if isinstance(it, ir.BIf):
            for k, (branch, fills) in enumerate(
                ((it.body, it.fills_body), (it.orelse, it.fills_orelse))
            ):
                scope = rw.inf.scopes.get((id(it.node), k), uf)
                changed |= _walk(branch + fills, rw, scope, pieces)
        elif isinstance(it, ir.BLoop):
            changed |= _walk(it.pre, rw, uf, pieces)
            scope = rw.inf.scopes.get((id(it.node), 0), uf)
            changed |= _walk(it.body, rw, scope, pieces)
    rw.uf = saved
    return changed


def _segment(flat: list[tuple[Any, Any]], rw: Rewriter, pieces: str) -> bool:
    """Write the pieces of the joins of one straight-line segment into place; whether
    one was."""
    for _, st in flat:  # the facts of the run's own temporaries, in order
        _note(rw, st)
    joins = [j for k, (_, st) in enumerate(flat) if (j := _parse(k, st, pieces))]
    if not joins:
        return False
    xp = rw.xp
    code = cst.Module([]).code_for_node
    put: dict[int, list[Any]] = {}  # id(statement) -> what replaces it
    written: set[str] = set()  # pieces now views of a join
    for j in joins:
        axis = _tiling(j, rw)
        if axis is None:
            continue
        places = [_place(flat, j, p, k, rw, written) for k, p in enumerate(j.pieces)]
        moved = [(k, at) for k, at in enumerate(places) if at is not None]
        if not moved:
            continue
        first = min(at for _, at in moved)
        places_moved = {k for k, _ in moved}
        if not _quiet(flat, first, j):
            continue
        for k, at in moved:
            st = flat[at][1]
            out = f"{j.target}[{_key_text(j.keys[k])}]"
            new = _written(st, xp, out)
            lines = put.setdefault(id(st), [st])
            lines[lines.index(st)] = new
            written.add(code(j.pieces[k]))
        alloc = cst.parse_statement(
            f"# {j.target}: {TILED_MARK}\n"
            f"{j.target} = {xp}.empty({j.base}.shape, dtype={j.base}.dtype)"
        )
        put.setdefault(id(flat[first][1]), [flat[first][1]]).insert(0, alloc)
        left = [
            cst.parse_statement(f"{j.target}[{_key_text(j.keys[k])}] = {code(p)}").body[
                0
            ]
            for k, p in enumerate(j.pieces)
            if k not in places_moved
        ]
        put[id(flat[j.at][1])] = left
    for block in {id(b): b for b, _ in flat}.values():
        stmts: list[Any] = []
        for st in block.stmts:
            stmts += put.get(id(st), [st])
        block.stmts = stmts
    return bool(put)


def _note(rw: Rewriter, st: Any) -> None:
    """Record the fact of a backward temporary ``st`` binds (cotangents keep their
    primal's, by the cotangent contract)."""
    if not isinstance(st, cst.Assign):
        for n in assigned_names(st):
            rw.assigned[n] = None
        return
    targets = [t.target for t in st.targets]
    if len(targets) == 1 and isinstance(targets[0], cst.Name):
        t = targets[0].value
        if t not in rw.cot:
            rw.assigned[t] = rw.ev(st.value) if t not in rw.assigned else None
        return
    for n in assigned_names(st):
        rw.assigned[n] = None


def _parse(k: int, st: Any, pieces: str) -> _Join | None:
    if not (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and isinstance(st.value, cst.Call)
        and isinstance(st.value.func, cst.Name)
        and st.value.func.value == pieces
        and len(st.value.args) == 3
    ):
        return None
    gs, base, keys = (a.value for a in st.value.args)
    if not (
        isinstance(gs, cst.List)
        and isinstance(keys, cst.List)
        and isinstance(base, cst.Name)
        and len(gs.elements) == len(keys.elements)
    ):
        return None
    return _Join(
        k,
        st.targets[0].target.value,
        [e.value for e in gs.elements],
        base.value,
        [e.value for e in keys.elements],
    )


def _key_text(key: cst.BaseExpression) -> str:
    """``index[:, a:b]`` -> ``:, a:b``."""
    assert isinstance(key, cst.Subscript)
    return cst.Module([]).code_for_node(key).split("[", 1)[1].rsplit("]", 1)[0]


def _tiling(j: _Join, rw: Rewriter) -> int | None:
    """The axis the keys' slices tile (whatever its length), or None."""
    axis = None
    spans: list[tuple[Any, Any]] = []
    for key in j.keys:
        if not isinstance(key, cst.Subscript):
            return None
        parts = [el.slice for el in key.slice]
        if not all(isinstance(p, cst.Slice) and p.step is None for p in parts):
            return None
        cut = [
            i for i, p in enumerate(parts) if p.lower is not None or p.upper is not None
        ]
        if len(cut) != 1 or axis not in (None, cut[0]):
            return None
        axis = cut[0]
        spans.append((parts[axis].lower, parts[axis].upper))
    code = cst.Module([]).code_for_node
    text = [tuple(None if b is None else code(b) for b in s) for s in spans]
    heads = [k for k, s in enumerate(text) if s[0] is None]
    if len(heads) != 1:
        return None
    k, seen = heads[0], {heads[0]}
    while text[k][1] is not None:
        nxt = [i for i, s in enumerate(text) if s[0] == text[k][1] and i not in seen]
        if len(nxt) != 1 or not _at_most(spans[k][1], spans[nxt[0]][1], rw):
            return None
        k = nxt[0]
        seen.add(k)
    return axis if len(seen) == len(spans) else None


def _linear(node: cst.BaseExpression | None, rw: Rewriter) -> tuple[int, Any] | None:
    """``node`` as ``(c, n)``: ``c * n`` for an int ``c >= 0`` and ``n`` a length name's
    symbol (``n`` None: the int ``c``), else None."""
    if isinstance(node, cst.Integer):
        v = int(node.value, 0)
        return (v, None) if v >= 0 else None
    if isinstance(node, cst.Name):
        f = rw.fact(node.value)
        if f is not None and f.dtype == "weak-int" and isinstance(f.value, Sym):
            made = {id(v): k for k, v in rw.inf.memo.items()}
            return (1, rw.uf.find(f.value)) if _length(f.value, made) else None
        return None
    if isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, cst.Multiply
    ):
        for c, n in ((node.left, node.right), (node.right, node.left)):
            a, b = _linear(c, rw), _linear(n, rw)
            if a is not None and b is not None and a[1] is None and b[1] is not None:
                return (a[0] * b[0], b[1])
    return None


def _length(s: Sym, made: dict[int, Any]) -> bool:
    """Whether the symbol is a length (never negative): an array's axis or a literal, or a
    product, sum or floor quotient of lengths, or a slice's length.  A global integer's
    symbol (``maybe_one``, not made by the facts) may be negative: not a length.
    ``made``: each derived symbol's key (``Lengths.derived``), by id."""
    key = made.get(id(s))
    if key is None:
        return s.size is not None or not s.maybe_one
    if key[0] in ("Slice", "Drop", "NotOne", "Split"):
        return True
    if key[0] in ("Multiply", "Add", "FloorDivide"):
        return all(
            (isinstance(v, int) and v >= 0) or (isinstance(v, Sym) and _length(v, made))
            for v in key[1:]
        )
    return False


def _at_most(a: Any, b: Any, rw: Rewriter) -> bool:
    """``a <= b`` for every value of the lengths the bounds read (``b`` None: the end)."""
    if b is None:
        return True
    la, lb = _linear(a, rw), _linear(b, rw)
    if la is None or lb is None:
        return False
    if la[0] == 0:
        return True
    if la[1] is None and lb[1] is None:
        return la[0] <= lb[0]
    return la[1] is not None and la[1] is lb[1] and la[0] <= lb[0]


def _place(
    flat: list[tuple[Any, Any]],
    j: _Join,
    piece: cst.BaseExpression,
    k: int,
    rw: Rewriter,
    written: set[str],
) -> int | None:
    """The position of the statement that can write ``piece`` into its slice, or None."""
    if not isinstance(piece, cst.Name) or piece.value in written:
        return None
    name = piece.value
    if sum(isinstance(p, cst.Name) and p.value == name for p in j.pieces) != 1:
        return None
    at = next(
        (i for i in range(j.at - 1, -1, -1) if name in assigned_names(flat[i][1])),
        None,
    )
    if at is None:
        return None
    st = flat[at][1]
    if not (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and _ufunc(st.value) is not None
    ):
        return None
    got = rw.ev(st.value)
    if got is None and name in rw.cot:  # the cotangent contract: its primal's fact
        got = rw.fact(name)
    want = _slice_fact(rw, j.base, j.keys[k])
    return at if got is not None and same_fact(got, want, rw.uf) else None


def _slice_fact(rw: Rewriter, base: str, key: cst.BaseExpression) -> Fact | None:
    """The fact of ``base[key]``, its slices' lengths as the forward pass checked them
    (``Inference.speculated``), read in the scope where it runs or around it."""
    for uf in dict.fromkeys((rw.uf, rw.inf.uf)):
        saved, rw.inf.uf = rw.inf.uf, uf
        try:
            f = shape_facts.subscript(rw.inf, rw.fact(base), key)
        except Exception:  # noqa: BLE001  (facts are optional)
            return None
        finally:
            rw.inf.uf = saved
        if f.dims is None:
            return None
        dims = tuple(
            rw.inf.memo.get(("NotOne", uf.find(d)), d) if isinstance(d, Sym) else d
            for d in f.dims
        )
        if not any(isinstance(d, Sym) and d.maybe_one for d in dims):
            break
    return Fact(dims, f.dtype)


def _ufunc(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.BinaryOperation):
        return _UFUNC.get(type(value.operator))
    if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
        return "negative"
    return None


def _written(st: cst.Assign, xp: str, out: str) -> cst.BaseSmallStatement:
    """``t = a op b`` as ``t = xp.ufunc(a, b, out=out)``."""
    code = cst.Module([]).code_for_node
    v = st.value
    fn = _ufunc(v)
    bare = lambda e: code(
        e.with_changes(lpar=[], rpar=[]) if e.lpar else e
    )  # noqa: E731
    if isinstance(v, cst.BinaryOperation):
        args = f"{bare(v.left)}, {bare(v.right)}"
    else:
        assert isinstance(v, cst.UnaryOperation)
        args = bare(v.expression)
    target = code(st.targets[0].target)
    return cst.parse_statement(f"{target} = {xp}.{fn}({args}, out={out})").body[0]


def _quiet(flat: list[tuple[Any, Any]], first: int, j: _Join) -> bool:
    """Nothing from ``first`` up to the join binds its target, its base or a name its keys
    read, or reads its target."""
    keys = set().union(*(ir.names_in(k) for k in j.keys))
    for _, st in flat[first : j.at]:
        wrote = set(assigned_names(st))
        if wrote & ({j.target, j.base} | keys) or j.target in read_names(st):
            return False
    return True


def _writes_in_place(bwd: Backward) -> bool:
    """Whether a backward statement writes an array in place (``+=``, ``out=``, a
    subscript assignment)."""
    found = False

    class _Find(cst.CSTVisitor):
        def visit_AugAssign(self, node: cst.AugAssign) -> None:
            nonlocal found
            found = True

        def visit_Arg(self, node: cst.Arg) -> None:
            nonlocal found
            if node.keyword is not None and node.keyword.value == "out":
                found = True

        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            nonlocal found
            if isinstance(node.target, cst.Subscript):
                found = True

    for block in ir.all_blocks(bwd.blocks):
        for st in block.stmts:
            st.visit(_Find())
    return found
