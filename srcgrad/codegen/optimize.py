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
from srcgrad.codegen.templates import parenthesize, substitute


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
    def __init__(
        self, defaults: dict[str, dict[str, Any]], positional: dict[str, list[str]]
    ) -> None:
        super().__init__()
        self.defaults = defaults
        self.positional = positional

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not isinstance(updated.func, cst.Name):
            return updated
        d = self.defaults.get(updated.func.value)
        if not d:
            return updated
        args = []
        for a in updated.args:
            if a.keyword is not None and _is_default(a.value, a.keyword.value, d):
                continue
            args.append(a)
        # trailing positional arguments equal to their defaults
        # (``einsum_cotangents(g, s, ops, False)``: ``optimize=False``)
        order = self.positional.get(updated.func.value, [])
        while (
            args
            and args[-1].keyword is None
            and not args[-1].star
            and len(args) <= len(order)
            and all(a.keyword is None and not a.star for a in args)
            and _is_default(args[-1].value, order[len(args) - 1], d)
        ):
            args.pop()
        if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
            args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(args=args)


_NOPE = object()


def _is_default(node: cst.BaseExpression, param: str, d: dict[str, Any]) -> bool:
    """Whether ``node`` is a literal equal to (and of the type of) ``param``'s default."""
    if param not in d:
        return False
    try:
        value = _literal(node)
    except (ValueError, SyntaxError):
        return False
    return value == d[param] and type(value) is type(d[param])


def _literal(node: cst.BaseExpression) -> Any:
    code = cst.Module([]).code_for_node(node)
    return ast.literal_eval(code)


def drop_default_arguments(names: Names, bwd: Backward) -> Backward:
    """Remove arguments of runtime helpers that equal the helper's default: keyword ones,
    and positional ones at the end of the call."""
    helper_names = {names.generated(h): h for h in bwd.helpers}
    defaults: dict[str, dict[str, Any]] = {}
    positional: dict[str, list[str]] = {}
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
        positional[alias] = [
            p.name
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    t = _DropDefaults(defaults, positional)
    for block in all_blocks(bwd.blocks):
        block.stmts = [st.visit(t) for st in block.stmts]  # type: ignore[misc]
    return bwd


def _runs(items: list[Any], into_loops: bool = True) -> list[list[Any]]:
    """Maximal straight-line runs of backward items (Blocks and BSegs), at every level
    (``into_loops`` False: only those no loop holds)."""
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
            out += _runs(it.body, into_loops) + _runs(it.orelse, into_loops)
            out += [it.fills_body, it.fills_orelse]
        elif isinstance(it, BLoop) and into_loops:
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


def _segments(run: list[Any]) -> list[list[tuple[Any, Any]]]:
    """The statements of a run as ``(block, statement)`` lists, one per segment (a new
    one at each pop)."""
    out: list[list[tuple[Any, Any]]] = [[]]
    for starts, block in _run_blocks(run):
        if starts and out[-1]:
            out.append([])
        out[-1] += [(block, st) for st in block.stmts]
    return [seg for seg in out if seg]


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


def coalesce_result_copies(bwd: Backward) -> bool:
    """A copy ``a = b`` whose ``a`` only the results read (a gradient returned, an entry of
    a parameter pytree) and whose ``b`` is assigned once, earlier in the same straight-line
    run outside loops (``a`` not assigned between), and read by nothing else: ``b``'s
    statement assigns ``a`` and the copy goes
    (``d_model_fc_bias = d_shifted.sum(axis=0)``, not ``d_linear_out_read2 = ...`` and
    ``d_model_fc_bias = d_linear_out_read2``).  Returns True if it changed."""
    blocks = all_blocks(bwd.blocks)
    defs: dict[str, int] = {}
    reads: dict[str, int] = {}
    for b in blocks:
        for st in b.stmts:
            for t in assigned_names(st):
                defs[t] = defs.get(t, 0) + 1
            for r in read_names(st):
                reads[r] = reads.get(r, 0) + 1
    for r in control_reads(bwd.blocks):
        reads[r] = reads.get(r, 0) + 1
    results: set[str] = set()
    for g in bwd.grads:
        results |= names_in(g)
    changed = False
    for run in _runs_outside_loops(bwd.blocks):
        flat = [(block, st) for _, block in _run_blocks(run) for st in block.stmts]
        where: dict[str, int] = {}  # name -> index in ``flat`` of its one assignment
        for i, (block, st) in enumerate(flat):
            copy = _copy_of(st)
            j = where.get(copy[1], -1) if copy is not None else -1
            if (
                copy is not None
                and j >= 0
                and _coalescible(copy, defs, reads, results)
                and not any(copy[0] in assigned_names(s) for _, s in flat[j + 1 : i])
            ):
                a, b = copy
                first, def_st = flat[j]
                new = def_st.with_changes(targets=[cst.AssignTarget(cst.Name(a))])
                first.stmts = [new if s is def_st else s for s in first.stmts]
                block.stmts = [s for s in block.stmts if s is not st]
                flat[j] = (first, new)
                changed = True
                continue
            targets = assigned_names(st)
            if (
                isinstance(st, cst.Assign)
                and len(st.targets) == 1
                and isinstance(st.targets[0].target, cst.Name)
            ):
                where[targets[0]] = i
    return changed


def _runs_outside_loops(items: list[Any]) -> list[list[Any]]:
    """The straight-line runs of :func:`_runs` that no loop holds."""
    return _runs(items, into_loops=False)


def _coalescible(
    copy: tuple[str, str],
    defs: dict[str, int],
    reads: dict[str, int],
    results: set[str],
) -> bool:
    a, b = copy
    return (
        a != b
        and a in results
        and not reads.get(a)
        and defs.get(b) == 1
        and reads.get(b) == 1
        and b not in results
    )


def fold_transposed_products(bwd: Backward) -> bool:
    """``t = a.T @ b`` read only by ``r = t.T``, in one straight-line run outside loops,
    with nothing between rebinding what the product reads: ``r = b.T @ a`` and ``t`` goes
    (``d_W = d_h.T @ x`` for a ``Linear``'s ``x @ W.T``, not ``d_W_T = x.T @ d_h`` and
    ``d_W = d_W_T.T``).  Only cotangents: the backward writes ``a.T @ b`` for 2-D ``a``
    and ``b`` only (specialisation's matmul cotangent), where the two are equal.  Returns
    True if it changed."""
    cot = set(bwd.adjoints.values())
    reads: dict[str, int] = {}
    defs: dict[str, int] = {}
    for b in all_blocks(bwd.blocks):
        for st in b.stmts:
            for r in read_names(st):
                reads[r] = reads.get(r, 0) + 1
            for t in assigned_names(st):
                defs[t] = defs.get(t, 0) + 1
    for r in control_reads(bwd.blocks):
        reads[r] = reads.get(r, 0) + 1
    for g in bwd.grads:
        for r in names_in(g):
            reads[r] = reads.get(r, 0) + 1
    changed = False
    for run in _runs_outside_loops(bwd.blocks):
        flat = [(block, st) for _, block in _run_blocks(run) for st in block.stmts]
        made: dict[str, int] = {}
        for i, (block, st) in enumerate(flat):
            t = _transpose_of(st)
            j = made.get(t, -1) if t is not None else -1
            if j >= 0 and reads.get(t) == 1 and defs.get(t) == 1 and t in cot:
                first, prod = flat[j]
                between = {n for _, s in flat[j + 1 : i] for n in assigned_names(s)}
                if not read_names(prod) & between:
                    v = prod.value
                    assert isinstance(v, cst.BinaryOperation)
                    new = st.with_changes(
                        value=cst.BinaryOperation(
                            _transposed(v.right),
                            cst.MatrixMultiply(),
                            _transposed(v.left),
                        )
                    )
                    block.stmts = [new if s is st else s for s in block.stmts]
                    first.stmts = [s for s in first.stmts if s is not prod]
                    changed = True
                    continue
            if _is_transposed_product(st):
                made[assigned_names(st)[0]] = i
    return changed


def _is_transposed_product(st: cst.BaseSmallStatement) -> bool:
    """``t = a.T @ b`` (one name assigned)."""
    return (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and isinstance(st.value, cst.BinaryOperation)
        and isinstance(st.value.operator, cst.MatrixMultiply)
        and isinstance(st.value.left, cst.Attribute)
        and st.value.left.attr.value == "T"
    )


def _transpose_of(st: cst.BaseSmallStatement) -> str | None:
    """``t`` for a statement ``r = t.T``, else None."""
    if (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
        and isinstance(st.value, cst.Attribute)
        and st.value.attr.value == "T"
        and isinstance(st.value.value, cst.Name)
    ):
        return st.value.value.value
    return None


def _transposed(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node.T``, with ``a.T.T`` read as ``a``."""
    if isinstance(node, cst.Attribute) and node.attr.value == "T":
        return node.value
    return cst.Attribute(value=parenthesize(node), attr=cst.Name("T"))


class _Subtractions(cst.CSTTransformer):
    """``a + (-b)`` and ``(-b) + a`` as ``a - b``: one operation, not two, and the same
    value to the bit (IEEE subtraction is the addition of the negation)."""

    def leave_BinaryOperation(
        self, original: cst.BinaryOperation, updated: cst.BinaryOperation
    ) -> cst.BaseExpression:
        if not isinstance(updated.operator, cst.Add):
            return updated
        for a, b in ((updated.left, updated.right), (updated.right, updated.left)):
            if isinstance(b, cst.UnaryOperation) and isinstance(b.operator, cst.Minus):
                neg = b.expression
                atom = (cst.Name, cst.Attribute, cst.Subscript, cst.Call)
                if not isinstance(neg, atom) and not neg.lpar:
                    neg = cst.parse_expression(f"({cst.Module([]).code_for_node(neg)})")
                return updated.with_changes(left=a, operator=cst.Subtract(), right=neg)
        return updated


def subtract_negations(bwd: Backward) -> None:
    """Every ``a + (-b)`` of the backward pass as ``a - b`` (:class:`_Subtractions`)."""
    for b in all_blocks(bwd.blocks):
        b.stmts = [st.visit(_Subtractions()) for st in b.stmts]


def optimize(bwd: Backward) -> Backward:
    """Copy propagation and dead-code elimination, repeated to a fixed point; then the
    copies into the results are folded into the statements they copy, and additions of
    negations are subtractions."""
    subtract_negations(bwd)
    while True:
        copies = propagate_copies(bwd)
        dead = eliminate_dead_code(bwd)
        if not (copies or dead):
            break
    fold_transposed_products(bwd)
    coalesce_result_copies(bwd)
    eliminate_dead_code(bwd)  # drops the blocks the copies leave empty
    return bwd
