"""Stage 10b: one array for a cotangent gathered from several subscripts of one value.

A value read through several subscripts (``gh[:, :h]``, ``gh[:, h : 2 * h]``,
``gh[:, 2 * h :]``) gets its cotangent piece by piece, each piece scattered into zeros of
the whole and added on::

    d_gh = scatter_to(d_c, gh, index[:, 2 * h :])
    ...
    d_gh = d_gh + scatter_to(d_z, gh, index[:, h : 2 * h])
    ...
    d_gh = d_gh + scatter_to(d_r, gh, index[:, :h])

After this pass such a chain is one call, in the place of its last statement::

    d_gh = scatter_pieces([d_c, d_z, d_r], gh, [index[:, 2 * h :], ...])

which joins pieces that tile one axis and otherwise adds them into one array of zeros, in
the chain's order (``runtime/indexing.py``), so the result is the chain's.  A chain is
merged only within a straight-line run of one segment (no pop in between), where no
statement between its first and last reads or rebinds the accumulator, or rebinds a name
that a piece, the base or a key moved to the last statement reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from srcgrad.codegen.ir import Backward, Names, assigned_names, names_in, read_names
from srcgrad.codegen.optimize import _runs, _segments

__all__ = ["merge_scatters"]


@dataclass
class _Scatter:
    """``target = scatter_to(g, base, key)``, or ``target = target + scatter_to(...)``."""

    target: str
    adds: bool
    g: cst.BaseExpression
    base: str
    key: cst.BaseExpression


@dataclass
class _Chain:
    target: str
    base: str
    where: list[int] = field(default_factory=list)  # positions in the run
    parts: list[_Scatter] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)  # what the moved parts read


def merge_scatters(bwd: Backward, names: Names) -> Backward:
    """``bwd`` with its chains of scatters into one value merged (in place; returned)."""
    if "scatter_to" not in bwd.helpers:
        return bwd
    scatter = names.generated("scatter_to")
    merged = False
    for run in _runs(bwd.blocks):
        for segment in _segments(run):
            merged |= _merge(segment, scatter, bwd, names)
    if merged:
        bwd.helpers.add("scatter_pieces")
    return bwd


def _parse(st: Any, scatter: str) -> _Scatter | None:
    if not (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
    ):
        return None
    target = st.targets[0].target.value
    value, adds = st.value, False
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        for mine, other in ((value.left, value.right), (value.right, value.left)):
            if isinstance(mine, cst.Name) and mine.value == target:
                value, adds = other, True
                break
        else:
            return None
    if not (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value == scatter
        and len(value.args) == 3
        and all(a.keyword is None and not a.star for a in value.args)
        and isinstance(value.args[1].value, cst.Name)
    ):
        return None
    g, base, key = (a.value for a in value.args)
    if target in names_in(g) | names_in(key) or target == base.value:
        return None
    return _Scatter(target, adds, g, base.value, key)


def _merge(
    flat: list[tuple[Any, cst.BaseSmallStatement]],
    scatter: str,
    bwd: Backward,
    names: Names,
) -> bool:
    open_: dict[str, _Chain] = {}
    done: list[_Chain] = []
    for k, (_, st) in enumerate(flat):
        s = _parse(st, scatter)
        chain = open_.get(s.target) if s is not None else None
        joins = chain is not None and s.adds and s.base == chain.base  # type: ignore[union-attr]
        wrote = set(assigned_names(st))
        read = read_names(st)
        for c in list(open_.values()):
            if joins and c is chain:
                continue
            if c.target in wrote | read or c.reads & wrote:
                done.append(open_.pop(c.target))
        if joins:
            _add(chain, k, s)  # type: ignore[arg-type]
        elif s is not None and not s.adds:
            open_[s.target] = _add(_Chain(s.target, s.base), k, s)
    done += open_.values()
    chains = [c for c in done if len(c.where) > 1]
    if not chains:
        return False
    pieces = names.generated("scatter_pieces")
    drop: set[int] = set()
    put: dict[int, cst.BaseSmallStatement] = {}
    for c in chains:
        drop |= {id(flat[k][1]) for k in c.where[:-1]}
        put[id(flat[c.where[-1]][1])] = _call(c, pieces)
    for block in {id(b): b for b, _ in flat}.values():
        block.stmts = [put.get(id(st), st) for st in block.stmts if id(st) not in drop]
    return True


def _add(chain: _Chain, k: int, s: _Scatter) -> _Chain:
    chain.where.append(k)
    chain.parts.append(s)
    chain.reads |= names_in(s.g) | names_in(s.key) | {s.base}
    return chain


def _call(chain: _Chain, pieces: str) -> cst.BaseSmallStatement:
    code = cst.Module([]).code_for_node
    gs = ", ".join(code(p.g) for p in chain.parts)
    keys = ", ".join(code(p.key) for p in chain.parts)
    line = f"{chain.target} = {pieces}([{gs}], {chain.base}, [{keys}])"
    return cst.parse_statement(line).body[0]
