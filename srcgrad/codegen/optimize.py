"""Stages 8 and 10: clean up the backward pass.

:func:`drop_default_arguments` runs right after ``reverse`` (before specialisation, whose
rewrites match the calls without their defaults): after it, calls to runtime helpers carry no
keyword argument equal to that helper's default.  :func:`optimize` runs after specialisation:
after it no backward statement is dead (its target is never read before being rebound, and it
has no side effect: rule bodies are pure) and no copy ``a = b`` is left that a later read of
``b`` could replace; the two passes repeat to a fixed point.  Both rewrite the backward blocks
and return the backward pass; the forward pass is never read or changed here.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import libcst as cst

import srcgrad.runtime as runtime
from srcgrad.codegen.ir import (
    Backward,
    BIf,
    BLoop,
    Block,
    BSeg,
    Names,
    all_blocks,
    assigned_names,
    control_reads,
    names_in,
    read_names,
)
from srcgrad.codegen.templates import substitute


def eliminate_dead_code(bwd: Backward) -> bool:
    """Drop backward statements whose results are never read.  Returns True if it changed.

    Straight-line backward passes get an exact, flow-sensitive sweep; with branches and
    loops a statement is dropped when nothing else reads what it assigns.
    """
    if all(_is_flat(it) for it in bwd.blocks):
        return _dce_flat(bwd)
    blocks = all_blocks(bwd.blocks)
    reads: set[str] = set(control_reads(bwd.blocks))
    for g in bwd.grads:
        reads |= names_in(g)
    for b in blocks:
        for st in b.stmts:
            reads |= read_names(st) - set(assigned_names(st))
    changed = False
    for b in blocks:
        kept = [
            st
            for st in b.stmts
            if not assigned_names(st) or any(t in reads for t in assigned_names(st))
        ]
        if len(kept) != len(b.stmts):
            changed = True
            b.stmts = kept
    # after the last branch or loop the backward is straight-line again: exact there
    k = len(bwd.blocks)
    while k > 0 and _is_flat(bwd.blocks[k - 1]):
        k -= 1
    return _sweep(all_blocks(bwd.blocks[k:]), bwd.grads) or changed


def _is_flat(it: Any) -> bool:
    return isinstance(it, (Block, BSeg))


def _dce_flat(bwd: Backward) -> bool:
    changed = _sweep(all_blocks(bwd.blocks), bwd.grads)
    for it in bwd.blocks:
        if isinstance(it, BSeg):
            it.blocks = [b for b in it.blocks if b.stmts]
    return changed


def _sweep(blocks: list[Block], grads: list[cst.BaseExpression]) -> bool:
    """Drop the statements of ``blocks`` (straight-line, the last of the backward pass)
    whose targets nothing after them reads.  Returns True if it changed."""
    live: set[str] = set()
    for g in grads:
        live |= names_in(g)
    changed = False
    for block in reversed(blocks):
        kept: list[cst.BaseSmallStatement] = []
        for st in reversed(block.stmts):
            targets = assigned_names(st)
            if targets and not any(t in live for t in targets):
                changed = True
                continue
            live -= set(targets)
            live |= read_names(st)
            kept.append(st)
        block.stmts = list(reversed(kept))
    return changed


class _DropDefaults(cst.CSTTransformer):
    def __init__(self, defaults: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.defaults = defaults

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not isinstance(updated.func, cst.Name):
            return updated
        d = self.defaults.get(updated.func.value)
        if not d:
            return updated
        args = []
        for a in updated.args:
            if a.keyword is not None and a.keyword.value in d:
                try:
                    value = _literal(a.value)
                except ValueError:
                    value = _NOPE
                if (
                    value is not _NOPE
                    and value == d[a.keyword.value]
                    and type(value) is type(d[a.keyword.value])
                ):
                    continue
            args.append(a)
        if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(args=args)


_NOPE = object()


def _literal(node: cst.BaseExpression) -> Any:
    code = cst.Module([]).code_for_node(node)
    return ast.literal_eval(code)


def drop_default_arguments(names: Names, bwd: Backward) -> Backward:
    """Remove keyword arguments of runtime helpers that equal the helper's default."""
    helper_names = {names.generated(h): h for h in bwd.helpers}
    defaults: dict[str, dict[str, Any]] = {}
    for alias, name in helper_names.items():
        fn = getattr(runtime, name, None)
        if fn is None or not callable(fn):
            continue
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):
            continue
        defaults[alias] = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.default is not p.empty
        }
    t = _DropDefaults(defaults)
    for block in all_blocks(bwd.blocks):
        block.stmts = [st.visit(t) for st in block.stmts]  # type: ignore[misc]
    return bwd


def _runs(items: list[Any]) -> list[list[Any]]:
    """Maximal straight-line runs of backward items (Blocks and BSegs), at every level."""
    out: list[list[Any]] = []
    run: list[Any] = []
    for it in items:
        if isinstance(it, (Block, BSeg)):
            run.append(it)
            continue
        if run:
            out.append(run)
            run = []
        if isinstance(it, BIf):
            out += _runs(it.body) + _runs(it.orelse)
            out += [it.fills_body, it.fills_orelse]
        elif isinstance(it, BLoop):
            out += [it.pre] + _runs(it.body)
    if run:
        out.append(run)
    return out


def _run_blocks(run: list[Any]) -> list[tuple[bool, Any]]:
    """(starts a segment, block) for each block of a run; a segment starts with a pop."""
    out: list[tuple[bool, Any]] = []
    for it in run:
        if isinstance(it, BSeg):
            out += [(k == 0, b) for k, b in enumerate(it.blocks)]
        else:
            out.append((False, it))
    return out


def _copy_of(st: cst.BaseSmallStatement) -> tuple[str, str] | None:
    """``(a, b)`` for a statement ``a = b`` between two names, else None."""
    if (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and isinstance(st.value, cst.Name)
    ):
        return st.targets[0].target.value, st.value.value
    return None


def propagate_copies(bwd: Backward) -> bool:
    """After ``a = b``, read ``b`` for ``a`` until either is rebound (within a run; across
    the pop that starts a segment only for cotangent names, which no pop assigns), then drop
    stores that are overwritten before any read.  Returns True if it changed."""
    cot = set(bwd.adjoints.values())
    changed = False
    for run in _runs(bwd.blocks):
        alias: dict[str, str] = {}
        for starts, block in _run_blocks(run):
            if starts:
                alias = {k: v for k, v in alias.items() if k in cot and v in cot}
            new = []
            for st in block.stmts:
                if isinstance(st, cst.Assign) and alias and read_names(st) & set(alias):
                    mapping = {k: cst.Name(v) for k, v in alias.items()}
                    st = st.with_changes(value=substitute(st.value, mapping))
                    changed = True
                copy = _copy_of(st)
                if copy is not None and copy[0] == copy[1]:
                    changed = True  # x = x: nothing to do
                    continue
                for t in assigned_names(st):
                    alias = {k: v for k, v in alias.items() if t not in (k, v)}
                if copy is not None:
                    alias[copy[0]] = copy[1]
                new.append(st)
            block.stmts = new
        flat = [st for _, block in _run_blocks(run) for st in block.stmts]
        dead: set[int] = set()
        nxt: dict[str, str] = {}  # name -> "read" / "write": what happens to it next
        for st in reversed(flat):  # one backward sweep: linear in the run's length
            targets = assigned_names(st)
            if (
                len(targets) == 1
                and isinstance(st, cst.Assign)
                and nxt.get(targets[0]) == "write"
            ):
                dead.add(id(st))
                continue  # a dropped store reads nothing
            for t in targets:
                nxt[t] = "write"
            for r in read_names(st):
                nxt[r] = "read"
        if dead:
            changed = True
            for _, block in _run_blocks(run):
                block.stmts = [st for st in block.stmts if id(st) not in dead]
    return changed


def optimize(bwd: Backward) -> Backward:
    """Copy propagation and dead-code elimination, repeated to a fixed point."""
    while True:
        copies = propagate_copies(bwd)
        dead = eliminate_dead_code(bwd)
        if not (copies or dead):
            return bwd
