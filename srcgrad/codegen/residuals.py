"""Stage 12: plan what the forward pass keeps for the backward pass.

The backward pass reads forward values.  A value defined once outside loops is a *residual*:
fwd returns it in the ``Residuals_<f>`` tuple and bwd unpacks it.  A value a loop body rebinds
is pushed onto the loop's stack after the segment (or branch, or inner loop) whose backward
reads it, and popped back in the backward loop.  A value marked ``# srcgrad: recompute`` is
computed again in bwd rather than kept.

After this stage a :class:`Residuals` plan says all of it: the forward items with
:class:`Push` and :class:`StackInit` markers in place (new lists; the forward pass itself is
left as it was), what each backward segment, branch and loop pops, which loops have a
backward at all, the residuals in definition order, the recomputed statements, and the names
fwd binds to None first because only some paths bind them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import libcst as cst

from srcgrad.codegen import ir, saving
from srcgrad.codegen.ir import Backward, BIf, BLoop, Block, BSeg, Normalized, Segment
from srcgrad.codegen.source import Origin


@dataclass
class Push:
    """``stack.append(names)`` in the forward pass: what the backward of one forward item
    reads (no names: a placeholder the backward still pops)."""

    stack: str
    names: list[str]
    origin: Origin | None
    shapes: set[str] = dataclasses.field(
        default_factory=set
    )  # pushed as shape_dtype(name): the backward reads their shape and dtype only
    recompute: list[ir.Stmt] = dataclasses.field(
        default_factory=list
    )  # run again right after the pop instead of pushed


@dataclass
class StackInit:
    """``stack = []`` before a loop whose backward does something."""

    stack: str
    origin: Origin


@dataclass
class Residuals:
    """What the forward pass keeps for the backward pass, and where (see the module
    docstring)."""

    forward: list[Any]  # the forward items with Push and StackInit markers
    pops: dict[int, Push]  # id(forward segment / if / loop) -> what its backward pops
    live_loops: set[int]  # id(loop) of the loops whose backward does something
    pre_only: set[int]  # id(loop) of those whose backward is only what runs before them
    residuals: list[str]  # kept in the Residuals tuple, in definition order
    recomputed: list[ir.Stmt]  # run again in bwd instead of kept, in forward order
    prebind: list[str]  # bound to None at the top of fwd
    bwd_uses_xp: bool  # whether bwd needs the array namespace
    shapes: set[str] = dataclasses.field(
        default_factory=set
    )  # residuals kept as shape_dtype(value): bwd reads their shape and dtype only


def plan_residuals(norm: Normalized, bwd: Backward) -> Residuals:
    """The residual plan of the segmented forward ``norm`` and its backward ``bwd``."""
    planner = _Planner(norm, saving.shape_helpers(norm, bwd))
    escape = planner.plan(bwd.blocks, None, None)
    forward = planner.place(norm.stmts, [], None)
    for g in bwd.grads:
        escape |= ir.names_in(g)
    in_loops = saving.trim_pushes(norm, bwd, planner.pops, planner.fwd_names)
    for st in in_loops:  # the parameters they read
        escape |= ir.names_in(st.expr) & set(norm.params)  # type: ignore[arg-type]
    chosen = saving.recomputable(norm, bwd, escape, planner.fwd_names)
    recomputed = _recomputed(norm, escape, planner.fwd_names, chosen)
    escape -= {t for st in recomputed for t in st.targets}
    residuals = [n for n in ir.ordered_defs(norm) if n in escape]
    value_reads = saving.backward_value_reads(norm, bwd, recomputed + in_loops)
    shapes = {r for r in residuals if r not in value_reads}
    for key, push in planner.pops.items():
        push.shapes = {
            n
            for n in push.names
            if n not in value_reads or (key, n) in planner.step_only
        }
    bwd_reads = ir.block_reads(bwd.blocks) | escape | ir.control_reads(bwd.blocks)
    for st in recomputed + in_loops:
        bwd_reads |= ir.names_in(st.expr)  # type: ignore[arg-type]
    return Residuals(
        forward=forward,
        pops=planner.pops,
        live_loops=planner.live_loops,
        pre_only=planner.pre_only,
        residuals=residuals,
        recomputed=recomputed,
        prebind=_prebind(norm, residuals, planner.prebind),
        bwd_uses_xp=bwd.xp in bwd_reads,
        shapes=shapes,
    )


def _recomputed(
    norm: Normalized, escape: set[str], fwd_names: set[str], chosen: list[ir.Stmt]
) -> list[ir.Stmt]:
    """The top-level statements the backward needs and computes again (``# srcgrad:
    recompute`` and the ``chosen`` ones), with those they read in turn; what they read
    that is not recomputed joins ``escape``."""
    marked = {id(st) for st in chosen}
    defs = {
        t: st
        for it in norm.stmts
        if isinstance(it, Segment)
        for st in it.stmts
        if st.recompute or id(st) in marked
        for t in st.targets
    }
    recomputed: list[ir.Stmt] = []
    pending = [n for n in ir.ordered_defs(norm) if n in escape and n in defs]
    while pending:
        st = defs[pending.pop()]
        if any(st is r for r in recomputed):
            continue
        recomputed.append(st)
        for n in ir.names_in(st.expr):  # type: ignore[arg-type]
            if n in defs and not any(defs[n] is r for r in recomputed):
                pending.append(n)
            elif n in fwd_names:
                escape.add(n)
    order = {id(st): i for i, st in enumerate(ir.walk_stmts(norm.stmts))}
    recomputed.sort(key=lambda st: order[id(st)])
    return recomputed


def _prebind(norm: Normalized, residuals: list[str], stepped: set[str]) -> list[str]:
    """Residuals that not every path binds, then the names normalize asked to prebind and
    those a loop pushes before it binds them (``stepped``)."""
    unconditional = set(norm.params)
    for it in norm.stmts:
        if isinstance(it, Segment):
            unconditional |= {t for st in it.stmts for t in st.targets}
        elif isinstance(it, ir.Phi):
            unconditional.add(it.target)
        elif isinstance(it, ir.LoopNode):
            unconditional.add(it.stack)
    prebind = [r for r in residuals if r not in unconditional]
    prebind += sorted(n for n in set(norm.prebind) | stepped if n not in prebind)
    return prebind


class _Planner:
    """Which names each backward item pops, and where the forward pass pushes them."""

    def __init__(self, norm: Normalized, shape_helpers: dict[str, Any]) -> None:
        self.norm = norm
        self.shape_helpers = shape_helpers
        self.fwd_names = ir.forward_names(norm)
        # names a loop alone binds that its backward reads for step_zeros (reverse.py):
        # restored step by step as their shape and dtype, bound to None before the loop
        self.prebind: set[str] = set()
        self.step_only: set[tuple[int, str]] = (
            set()
        )  # (id(item), name): pushed for that
        self.push: dict[int, list[str]] = (
            {}
        )  # id(forward item) -> names pushed after it
        self.stack_of: dict[int, str | None] = (
            {}
        )  # id(forward item) -> the stack it pushes to
        self.forced: set[int] = set()  # head segments that push a placeholder
        self.live_loops: set[int] = set()  # loops whose backward does something
        self.pre_only: set[int] = set()  # loops whose backward is what runs before them
        self.head_stacks: dict[int, str] = {}  # id(head segment) -> its loop's stack
        self.origins: dict[int, Origin | None] = {}
        self.pops: dict[int, Push] = {}
        for loop in ir.loops_in(norm.stmts):
            for sub in loop.body:
                if isinstance(sub, Segment) and sub.head:
                    self.head_stacks[id(sub)] = loop.stack

    # -- what the backward pass reads, and where it must be restored ---------------------------
    def plan(
        self, items: list[Any], variant: set[str] | None, stack: str | None
    ) -> set[str]:
        """Record pushes for the backward items ``items``; return the reads that escape."""
        escape: set[str] = set()
        for it in items:
            if isinstance(it, BSeg):
                r = ir.block_reads(it.blocks) & self.fwd_names
                escape |= self.record(it.seg, r, variant, stack, it.blocks)
            elif isinstance(it, BIf):
                own = ir.names_in(it.node.test) | ir.block_reads(it.fills_body)
                own |= ir.block_reads(it.fills_orelse)
                fills = it.fills_body + it.fills_orelse
                escape |= self.record(
                    it.node, own & self.fwd_names, variant, stack, fills, it.node.test
                )
                escape |= self.plan(it.body, variant, stack) | self.plan(
                    it.orelse, variant, stack
                )
            elif isinstance(it, BLoop):
                escape |= self.plan_loop(it, variant, stack)
            elif isinstance(it, Block):
                escape |= ir.block_reads([it]) & self.fwd_names
        return escape

    def record(
        self,
        key: Any,
        reads: set[str],
        variant: set[str] | None,
        stack: Any,
        blocks: list[Block] | None = None,
        control: Any = None,
    ) -> set[str]:
        """Inside a loop (``variant``: what its body rebinds), ``key`` pushes the reads that
        vary; the others escape.  ``blocks`` and ``control``: what reads them (a name the
        loop alone binds that they read for ``step_zeros`` only is pushed as its shape).
        """
        if variant is None:
            return reads
        pushed = sorted(reads & variant)
        self.push[id(key)] = pushed
        self.stack_of[id(key)] = stack
        stepped = set(pushed) & self.prebind
        if stepped:
            values = (
                saving.value_names(control, self.shape_helpers) if control else set()
            )
            for b in blocks or []:
                for st in b.stmts:
                    values |= saving.value_names(st, self.shape_helpers)
            self.step_only |= {(id(key), n) for n in stepped - values}
        return reads - variant

    def plan_loop(
        self, it: BLoop, variant: set[str] | None, stack: str | None
    ) -> set[str]:
        node = it.node
        if not ir.has_code(it.body):
            if not ir.has_code(it.pre):
                return set()
            # nothing to do step by step, but what the code after the loop reads (the
            # zero cotangents of the lists it reads) is made all the same
            self.pre_only.add(id(node))
            return self.record(
                node, ir.block_reads(it.pre) & self.fwd_names, variant, stack
            )
        self.live_loops.add(id(node))
        inner = self.plan(it.body, _variant(node) | self.stepped(it), node.stack)
        if node.reversible_range and node.target:
            inner.discard(node.target)  # the reversed header restores it
        outside = inner | ir.block_reads(it.pre) | {node.stack}
        if node.reversible_range and node.iter is not None:
            outside |= ir.names_in(node.iter)
        blocks = it.pre + ir.all_blocks(it.body)
        escape = self.record(
            node, outside & self.fwd_names, variant, stack, blocks, node.iter
        )
        if not node.reversible_range:
            head = it.body[-1]
            if isinstance(head, BSeg) and not self.push.get(id(head.seg)):
                # every iteration must push: a placeholder, unless the segment right after
                # the head (straight-line, reached by every iteration) pushes already
                after = it.body[-2] if len(it.body) > 1 else None
                fwd = [id(x) for x in node.body]
                if not (
                    isinstance(after, BSeg)
                    and self.push.get(id(after.seg))
                    and id(head.seg) in fwd
                    and fwd.index(id(head.seg)) + 1 < len(fwd)
                    and fwd[fwd.index(id(head.seg)) + 1] == id(after.seg)
                ):
                    self.forced.add(id(head.seg))
        return escape

    def stepped(self, it: BLoop) -> set[str]:
        """The names the loop ``it`` alone binds whose zero cotangent its backward makes
        with ``step_zeros`` (reverse.py): restored step by step where the forward pushes
        for the item that reads them (their value of the step before, or None before the
        first step: fwd binds them to None first)."""
        helper = self.norm.names.generated("step_zeros")
        out = set()
        stmts = [st for b in it.pre + ir.all_blocks(it.body) for st in b.stmts]
        calls = [c for st in stmts for c in ir.calls_in(st)]
        for call in calls:
            if not (isinstance(call.func, cst.Name) and call.func.value == helper):
                continue
            arg = call.args[0].value if len(call.args) == 1 else None
            if isinstance(arg, cst.Name):
                out.add(arg.value)
        out &= {c.name for c in it.node.carried if not c.before}
        self.prebind |= out
        return out

    def marker(self, it: Any) -> Push | None:
        """The push after the forward item ``it``, or None when it pushes nothing."""
        names = self.push.get(id(it))
        if not names and id(it) not in self.forced:
            return None
        hit = self.pops.get(id(it))
        if hit is None:
            stack = self.stack_of.get(id(it)) or self.head_stacks[id(it)]
            origin = getattr(it, "origin", None)
            if origin is None and isinstance(it, Segment) and it.stmts:
                origin = it.stmts[-1].origin
            hit = self.pops[id(it)] = Push(stack, list(names or []), origin)
        return hit

    # -- forward ----------------------------------------------------------------------------------
    def place(self, items: list[Any], pending: list[Any], tail: Any) -> list[Any]:
        """``items`` with the pushes in place (new lists, new branch and loop nodes).

        A segment pushes right after itself, a loop right after itself, and an ``if`` at
        the end of each branch that falls through, before the branch's trailing joins
        (which may rebind a carried name the ``if``'s backward reads).  A ``break`` first
        pushes for every enclosing ``if`` it leaves, then for ``tail``, the empty segment
        that ends the body of the loop it leaves: the backward of every iteration starts
        there (with the zero cotangents of the lists the body builds), the one that broke
        included.
        """
        out: list[Any] = []
        for it in items:
            new = it
            if isinstance(it, ir.IfNode):
                body = self.place(it.body, pending + [it], tail)
                orelse = self.place(it.orelse, pending + [it], tail)
                push = self.marker(it)
                if push is not None and it.falls[0]:
                    body = _with_tail(body, push)
                if push is not None and it.falls[1]:
                    orelse = _with_tail(orelse, push)
                new = dataclasses.replace(it, body=body, orelse=orelse)
            elif isinstance(it, ir.LoopNode):
                if id(it) in self.live_loops:
                    out.append(StackInit(it.stack, it.origin))
                new = dataclasses.replace(it, body=self.place(it.body, [], it.body[-1]))
            out.append(new)
            if isinstance(it, (Segment, ir.LoopNode)):
                push = self.marker(it)
                if push is not None:
                    out.append(push)
        if items and isinstance(items[-1], ir.BreakNode):
            k = len(out) - 1
            push = self.marker(tail) if tail is not None else None
            if push is not None:
                out.insert(k, push)  # after the joins, as at the end of the body
            while k > 0 and isinstance(out[k - 1], ir.Phi):
                k -= 1
            for node in reversed(pending):
                push = self.marker(node)
                if push is not None:
                    out.insert(k, push)
                    k += 1
        return out


def _with_tail(items: list[Any], push: Push) -> list[Any]:
    """``items`` with ``push`` at the end of every path that falls through, before the
    trailing joins."""
    k = len(items)
    while k > 0 and isinstance(items[k - 1], ir.Phi):
        k -= 1
    last = items[k - 1] if k > 0 else None
    if isinstance(last, ir.IfNode) and not all(last.falls):
        body = _with_tail(last.body, push) if last.falls[0] else last.body
        orelse = _with_tail(last.orelse, push) if last.falls[1] else last.orelse
        return (
            items[: k - 1]
            + [dataclasses.replace(last, body=body, orelse=orelse)]
            + items[k:]
        )
    return items[:k] + [push] + items[k:]


def _variant(loop: ir.LoopNode) -> set[str]:
    """The names a loop's body rebinds (what a backward inside it must restore per
    iteration)."""
    names: set[str] = set()
    for it in ir.walk_stmts(loop.body):
        names |= set(ir.bound_names(it))
    names |= set(ir.loop_names(loop.body))
    if loop.target and not loop.reversible_range:
        names.add(loop.target)
    names |= {c.name for c in loop.carried if c.before}
    names -= {c.name for c in loop.carried if not c.before}
    if loop.reversible_range and loop.target:
        names.discard(loop.target)  # the reversed header restores it
    return names
