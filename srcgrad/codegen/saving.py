"""What the forward pass saves for the backward pass, value by value (part of stage 12).

The backward pass reads forward values.  Saving each one it reads costs memory; this module
decides, before :mod:`residuals` lays out the plan, two cheaper ways to serve a read:

- **Shape only.**  A value the backward reads only through a runtime helper that looks at its
  shape and dtype (``unbroadcast(g, x)``, ``expand_like``, ``reduction_size``,
  ``reshape_like``, ``scatter_to``: the helpers marked ``shape_only``) or through
  ``x.shape`` / ``x.dtype`` / ``x.ndim`` / ``x.size`` is saved as ``shape_dtype(x)``, a few
  bytes, instead of the array.
- **Recomputed.**  A value defined once at the top level by a cheap elementwise primitive
  (arithmetic, ``maximum``/``minimum``, ``abs``, ``square``, views: ``registry.CHEAP``), a
  comparison (a mask), a copy or a read from a parameter container is computed again in the backward pass, from the same
  operands, when every operand is at hand there without saving anything new: a parameter,
  a value saved anyway, another recomputed value.  The one exception is a reduction of
  another operand (``x - mean(x)``): it is smaller than the value it lets go.  The
  recomputation repeats the forward operation on the forward operands, so the value is the
  same bit for bit, and it costs one pass over memory, much less than the matrix products
  of a backward pass.

Nothing here changes the trees; the plan records the choices.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad import runtime
from srcgrad.codegen import ir
from srcgrad.codegen.ir import Backward, Normalized, Segment
from srcgrad.rules import registry

SHAPE_ATTRIBUTES = frozenset({"shape", "dtype", "ndim", "size"})


def recomputable(
    norm: Normalized, bwd: Backward, escape: set[str], fwd_names: set[str]
) -> list[ir.Stmt]:
    """The top-level statements worth computing again in the backward pass instead of
    saving their value (see the module docstring), in forward order.

    ``escape`` holds what the backward pass reads from the residuals.
    """
    counts = ir.def_counts(norm.stmts)
    written = _written_in_place(norm)
    value_reads = backward_value_reads(norm, bwd, [])
    free = {p for p in norm.params if counts.get(p, 0) == 0 and p not in written} | {
        bwd.xp
    }
    # saved anyway: read by value, defined once, never the buffer of a later value
    saved = {
        n for n in escape & value_reads if counts.get(n, 0) == 1 and n not in written
    }
    top = [st for it in norm.stmts if isinstance(it, Segment) for st in it.stmts]
    defs = {t: st for st in top for t in st.targets if counts.get(t, 0) == 1}
    chosen: list[ir.Stmt] = []
    at_hand = set(free)  # names the backward has without saving anything new
    for st in top:
        if not _cheap(st, free) or len(st.targets) != 1:
            continue
        (target,) = st.targets
        if counts.get(target, 0) != 1 or target in written:
            continue
        reads = ir.names_in(st.expr)  # type: ignore[arg-type]
        if not reads <= fwd_names | {bwd.xp}:
            continue  # a global or a closure value: read again later, it may differ
        missing = reads - at_hand - saved
        small = {n for n in missing if _reduction_of(defs.get(n), reads, written)}
        if missing - small:
            continue
        chosen.append(st)
        at_hand.add(target)
        at_hand |= small
        saved.discard(target)
    return _needed(chosen, (escape & value_reads) | _free_reads(chosen, escape))


def _free_reads(chosen: list[ir.Stmt], kept: set[str]) -> set[str]:
    """The names of ``kept`` that ``chosen`` reads from a parameter container or copies: read
    again, they cost nothing, not even a ``shape_dtype``."""
    return {
        st.targets[0]
        for st in chosen
        if st.kind in (ir.READ, ir.COPY) and st.targets[0] in kept
    }


def _needed(chosen: list[ir.Stmt], wanted: set[str]) -> list[ir.Stmt]:
    """The statements of ``chosen`` whose value the backward reads (``wanted``), directly
    or through another one of them (one read only for its shape keeps its shape)."""
    by_target = {st.targets[0]: st for st in chosen}
    want = [n for n in by_target if n in wanted]
    keep: set[str] = set()
    while want:
        n = want.pop()
        if n in keep:
            continue
        keep.add(n)
        for r in ir.names_in(by_target[n].expr):  # type: ignore[arg-type]
            if r in by_target:
                want.append(r)
    return [st for st in chosen if st.targets[0] in keep]


def _cheap(st: ir.Stmt, free: set[str]) -> bool:
    """A cheap elementwise primitive, or a read from a parameter container."""
    if _has_out(st.expr):
        return False
    if st.kind == ir.READ:
        return st.read is not None and st.read[0] in free
    if st.kind == ir.COPY:
        return isinstance(st.expr, cst.Name)
    if st.kind == ir.NONDIFF:  # a mask: x > 0
        return isinstance(st.expr, cst.Comparison)
    return st.kind == ir.PRIM and st.rule is not None and registry.is_cheap(st.rule)


def _reduction_of(st: ir.Stmt | None, reads: set[str], written: set[str]) -> bool:
    """``st`` reduces one of ``reads`` (so it is smaller than what reads it)."""
    if st is None or st.kind != ir.PRIM or st.rule is None:
        return False
    if st.rule.kind != "reduce" or _has_out(st.expr) or st.targets[0] in written:
        return False
    operands = ir.names_in(st.expr)  # type: ignore[arg-type]
    return bool(set(st.operands) & reads) and bool(operands & reads)


def _has_out(expr: Any) -> bool:
    """Whether a call in ``expr`` writes into an array (``out=``)."""
    if expr is None:
        return False
    stack = [expr]
    while stack:
        n = stack.pop()
        if (
            isinstance(n, cst.Arg)
            and n.keyword is not None
            and n.keyword.value == "out"
        ):
            return True
        stack.extend(n.children)
    return False


def _written_in_place(norm: Normalized) -> set[str]:
    """The names whose array a forward statement writes into (``out=``) or a later statement
    aliases: their value at the end of the forward pass is not the one they were bound
    to."""
    written: set[str] = set()
    for st in ir.walk_stmts(norm.stmts):
        if not isinstance(st, ir.Stmt) or st.expr is None:
            continue
        stack: list[Any] = [st.expr]
        while stack:
            n = stack.pop()
            if (
                isinstance(n, cst.Arg)
                and n.keyword is not None
                and n.keyword.value == "out"
            ):
                written |= ir.names_in(n.value)
            stack.extend(n.children)
    return written


# -- inside loops -------------------------------------------------------------------------------


def trim_pushes(
    norm: Normalized, bwd: Backward, pops: dict[int, Any], fwd_names: set[str]
) -> list[ir.Stmt]:
    """Recompute after the pop what a loop segment's push can do without: each ``Push`` in
    ``pops`` loses the names it no longer carries and gets them in ``recompute``, the
    statements the backward runs again right after popping.  Returns every such statement.

    A value qualifies as at the top level (see :func:`recomputable`): a cheap statement of
    the pushing segment, defined once, whose operands the same pop restores (or
    parameters), none rebound later in the segment.
    """
    counts = ir.def_counts(norm.stmts)
    written = _written_in_place(norm)
    value_reads = backward_value_reads(norm, bwd, [])
    free = {p for p in norm.params if counts.get(p, 0) == 0 and p not in written} | {
        bwd.xp
    }
    segments = {
        id(it): (it, loop)
        for loop in ir.loops_in(norm.stmts)
        for it in _segments_in(loop.body)
    }
    out: list[ir.Stmt] = []
    for key, push in pops.items():
        seg, loop = segments.get(key, (None, None))
        if seg is None or not push.names:
            continue
        at_hand = {n for n in push.names if n in value_reads} | free
        counter = _counter(loop, counts)
        at_hand |= counter
        chosen: list[ir.Stmt] = []
        for k, st in enumerate(seg.stmts):
            if not (_cheap(st, free) or _step_view(st, counter)):
                continue
            if len(st.targets) != 1:
                continue
            (target,) = st.targets
            if counts.get(target, 0) != 1 or target in written:
                continue
            reads = ir.names_in(st.expr)  # type: ignore[arg-type]
            later = {t for after in seg.stmts[k + 1 :] for t in after.targets}
            if not reads <= fwd_names | {bwd.xp} or reads - at_hand or reads & later:
                continue
            chosen.append(st)
            at_hand.add(target)
        wanted = {n for n in push.names if n in value_reads}
        wanted |= _free_reads(chosen, set(push.names))
        push.recompute = _needed(chosen, wanted)
        done = {st.targets[0] for st in push.recompute}
        push.names = [n for n in push.names if n not in done]
        out += push.recompute
    return out


def _counter(loop: ir.LoopNode, counts: dict[str, int]) -> set[str]:
    """The loop's counter when the backward loop binds it to the same values
    (``for t in reversed(range(...))``, the range read from names bound once), else
    nothing: a step's ``xs[t]`` is then taken again after the pop, not pushed."""
    if not loop.reversible_range or loop.target is None or loop.iter is None:
        return set()
    if counts.get(loop.target, 0) != 1:
        return set()
    if any(counts.get(n, 0) > 1 for n in ir.names_in(loop.iter)):
        return set()
    return {loop.target}


def _step_view(st: ir.Stmt, counter: set[str]) -> bool:
    """``x_t = x[t]`` with ``t`` the loop's counter: a view, as cheap as a pop."""
    return (
        st.kind == ir.PRIM
        and st.rule is not None
        and st.rule.name == "getitem"
        and any(ir.step_slice(st.expr, t) for t in counter)
    )


def _segments_in(items: list[Any]) -> list[Segment]:
    """The segments of a loop body, in branches too (not in inner loops' bodies: those are
    found as loops of their own)."""
    out: list[Segment] = []
    for it in items:
        if isinstance(it, Segment):
            out.append(it)
        elif isinstance(it, ir.IfNode):
            out += _segments_in(it.body) + _segments_in(it.orelse)
    return out


# -- shape-only reads --------------------------------------------------------------------------


def backward_value_reads(
    norm: Normalized, bwd: Backward, recomputed: list[ir.Stmt]
) -> set[str]:
    """Every name the backward pass reads other than for its shape and dtype."""
    helpers = shape_helpers(norm, bwd)
    out: set[str] = set()
    for b in ir.all_blocks(bwd.blocks):
        for st in b.stmts:
            node = st.value if isinstance(st, cst.Assign) else st
            out |= value_names(node, helpers)
    for node in _control_nodes(bwd.blocks):
        out |= value_names(node, helpers)
    for g in bwd.grads:
        out |= value_names(g, helpers)
    for st in recomputed:
        out |= value_names(st.expr, helpers)
    # the loops' stacks and variables, which the backward pops and iterates
    return out | set(ir.loop_names(norm.stmts))


def shape_helpers(norm: Normalized, bwd: Backward) -> dict[str, tuple[Any, ...]]:
    """The emitted name of each helper marked ``shape_only`` -> (positions, max_args)."""
    out = {}
    for h in bwd.helpers:
        mark = getattr(getattr(runtime, h, None), "shape_only", None)
        if mark is not None:
            out[norm.names.generated(h)] = mark
    return out


def _control_nodes(items: list[Any]) -> list[cst.CSTNode]:
    """The expressions of the backward pass's control structure (tests, loop headers)."""
    out: list[cst.CSTNode] = []
    for it in items:
        if isinstance(it, ir.BIf):
            out += [it.node.test] + _control_nodes(it.body) + _control_nodes(it.orelse)
        elif isinstance(it, ir.BLoop):
            if it.node.iter is not None:
                out.append(it.node.iter)
            out += _control_nodes(it.body)
    return out


def value_names(node: Any, helpers: dict[str, tuple[Any, ...]]) -> set[str]:
    """Names read under ``node`` (as :func:`ir.names_in`), less those read only as a shape
    helper's shape argument or through a shape attribute."""
    names: set[str] = set()
    stack: list[Any] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            names.add(n.value)
        elif isinstance(n, cst.Attribute):
            if not (isinstance(n.value, cst.Name) and n.attr.value in SHAPE_ATTRIBUTES):
                stack.append(n.value)
        elif isinstance(n, cst.Arg):
            stack.append(n.value)
        elif isinstance(n, cst.Call) and _is_helper(n, helpers):
            positions, max_args = helpers[n.func.value]  # type: ignore[attr-defined]
            fits = max_args is None or len(n.args) <= max_args
            for i, a in enumerate(n.args):
                plain = a.keyword is None and not a.star
                if fits and plain and i in positions and isinstance(a.value, cst.Name):
                    continue
                stack.append(a.value)
        else:
            stack.extend(n.children)
    return names


def _is_helper(call: cst.Call, helpers: dict[str, tuple[Any, ...]]) -> bool:
    return isinstance(call.func, cst.Name) and call.func.value in helpers
