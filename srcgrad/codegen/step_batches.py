"""Stage 13c: a backward step's arithmetic on forward values alone, once for every step.

A backward loop's step often computes something from the forward values it pops and
from loop invariants alone, before the cotangent comes in (the slope of a ``tanh``)::

    for t in reversed(range(n)):
        h_1, h_2 = stack_h_1.pop()
        d_h_add2 = d_h_1 * (one - h_2 * h_2)

Every step's forward values are on the stack before the backward loop starts, so that part
is one array operation over all steps, made before the loop, and the step reads its row::

    if stack_h_1:
        h_2_by_step = xp.concatenate([step[1] for step in stack_h_1])
        h_2_by_step = h_2_by_step.reshape(len(stack_h_1), *stack_h_1[0][1].shape)
        d_h_add2_factors = one - h_2_by_step * h_2_by_step
    for t in reversed(range(n)):
        h_1, h_2 = stack_h_1.pop()
        d_h_add2 = d_h_1 * d_h_add2_factors[t]

(one numpy call a step instead of two: on the small arrays of a recurrent step, the calls
are the cost.)  The values are the same bit for bit: the same elementwise operations on the
same operands, of the same dtypes.

Only where that is sure: the loop runs over ``range(n)`` (one argument, so step ``t`` is the
stack's entry ``t``), no ``break``, and its body is straight-line code with one push a step;
the part is ``+ - * /`` and unary minus over popped values (none of them rebound in the
step), names the loop never binds and numbers; the shape facts prove each popped value's
shape the same in every step (:func:`specialise_shapes.same_every_step`), with at least one
axis and the same number for each, and give no invariant more axes than that, so that
stacking the steps on a new first axis leaves the broadcasting as it was.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import BATCHED_MARK, ir
from srcgrad.codegen.ir import BLoop, Block, BSeg
from srcgrad.codegen.specialise_shapes import same_every_step

__all__ = ["batch_step_values"]

LABEL = "hoisted"
MARK = BATCHED_MARK  # the comment over the steps' parts (srcgrad/higher.py reads it)
_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)


def batch_step_values(loop: BLoop, ctx: Any) -> None:
    """Rewrite ``loop`` in place (see the module docstring); ``ctx`` is hoist's context."""
    push = _the_push(loop, ctx)
    if push is None or ctx.lists_only:
        return
    blocks = [b for it in loop.body if isinstance(it, BSeg) for b in it.blocks]
    blocks += [it for it in loop.body if isinstance(it, Block)]
    bound = {t for b in blocks for st in b.stmts for t in ir.assigned_names(st)}
    bound |= {st.targets[0] for st in push.recompute}
    variant = set(ir.def_counts([loop.node])) | {c.name for c in loop.node.carried}
    variant |= {loop.node.target or ""} | bound
    popped = [n for n in push.names if n not in push.shapes and n not in bound]
    pre = {t for b in loop.pre for st in b.stmts for t in ir.assigned_names(st)}
    finder = _Finder(ctx, set(popped), variant, pre, ctx.constants)
    made: dict[str, str] = {}  # code of a part -> its name over all steps
    stacked: dict[str, str] = {}  # popped name -> its steps stacked
    lines: list[str] = []
    for b in blocks:
        new_stmts = []
        for st in b.stmts:
            target = ir.assigned_names(st)
            rewrite = _Rewrite(
                finder, made, stacked, lines, target, push, ctx, loop.node.target
            )
            new_stmts.append(st.visit(rewrite) if len(target) == 1 else st)
        b.stmts = new_stmts
    if not made:
        return
    body = "".join(f"    {ln}\n" for ln in lines)
    block = Block(loop.node.origin, LABEL)
    block.stmts.append(cst.parse_statement(f"# {MARK}\nif {push.stack}:\n{body}"))
    loop.pre = loop.pre + [block]
    ctx.changed = True


def _the_push(loop: BLoop, ctx: Any) -> Any:
    """The one push of a loop over ``range(n)`` whose body is straight-line, else None."""
    node = loop.node
    it = node.iter
    if not (
        node.kind == "for"
        and node.reversible_range
        and not node.has_break
        and node.target
        and isinstance(it, cst.Call)
        and isinstance(it.func, cst.Name)
        and it.func.value == "range"
        and len(it.args) == 1
        and it.args[0].keyword is None
        and not it.args[0].star
    ):
        return None
    if any(not isinstance(x, (ir.Segment, ir.Phi)) for x in node.body):
        return None
    pushes = [ctx.plan.pops[id(x)] for x in node.body if id(x) in ctx.plan.pops]
    if len(pushes) != 1 or not pushes[0].names or pushes[0].stack != node.stack:
        return None
    if any(not isinstance(x, (BSeg, Block)) for x in loop.body):
        return None
    return pushes[0]


class _Finder:
    """Which expressions are a part to batch (memoised per node)."""

    def __init__(
        self,
        ctx: Any,
        popped: set[str],
        variant: set[str],
        pre: set[str],
        zero: set[str],
    ) -> None:
        self.ctx, self.popped, self.variant = ctx, popped, variant
        self.pre, self.zero = pre, zero
        self.memo: dict[int, tuple[Any, Any]] = {}

    def rank(self, name: str) -> int | None:
        if name in self.zero:
            return 0
        fact = self.ctx.env.get(name)
        dims = getattr(fact, "dims", None)
        return None if dims is None else len(dims)

    def fixed(self, name: str) -> bool:
        """The facts prove ``name``'s shape the same in every step (stacking its steps
        is then one array of them, row ``t`` step ``t``)."""
        fact, inf = self.ctx.env.get(name), self.ctx.inference
        return fact is not None and inf is not None and same_every_step(fact, inf)

    def info(self, node: cst.CSTNode) -> tuple[Any, Any]:
        """(popped ranks, largest invariant rank) of a batchable expression, else
        (None, None)."""
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        out = self._info(node)
        self.memo[id(node)] = (node, out)
        return out

    def _info(self, node: cst.CSTNode) -> tuple[Any, Any]:
        if isinstance(node, (cst.Integer, cst.Float)):
            return frozenset(), 0
        if isinstance(node, cst.Name):
            r = self.rank(node.value)
            if node.value in self.popped:
                if r is None or r < 1 or not self.fixed(node.value):
                    return None, None
                return frozenset({r}), 0
            if node.value in self.variant or node.value in self.ctx.primal:
                return None, None
            if node.value in self.pre and node.value not in self.zero:
                return None, None
            return (frozenset(), r) if r is not None else (None, None)
        if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, cst.Minus
        ):
            return self.info(node.expression)
        if isinstance(node, cst.BinaryOperation) and isinstance(
            node.operator, _OPERATORS
        ):
            a, b = self.info(node.left), self.info(node.right)
            if a[0] is None or b[0] is None:
                return None, None
            return a[0] | b[0], max(a[1], b[1])
        return None, None

    def part(self, node: cst.CSTNode) -> bool:
        """An operation over popped values of one rank and invariants of no more axes."""
        if not isinstance(node, (cst.BinaryOperation, cst.UnaryOperation)):
            return False
        ranks, most = self.info(node)
        return bool(ranks) and len(ranks) == 1 and most <= next(iter(ranks))


class _Rewrite(cst.CSTTransformer):
    """Each maximal part of a statement -> ``<target>_factors[t]``, its steps' values made
    before the loop (``lines``)."""

    def __init__(
        self,
        finder: _Finder,
        made: dict[str, str],
        stacked: dict[str, str],
        lines: list[str],
        target: list[str],
        push: Any,
        ctx: Any,
        loop_target: str,
    ) -> None:
        super().__init__()
        self.finder, self.made, self.stacked, self.lines = finder, made, stacked, lines
        self.target, self.push, self.ctx = target, push, ctx
        self.loop_target = loop_target

    def on_visit(self, node: cst.CSTNode) -> bool:
        return not self.finder.part(node)

    def on_leave(self, original: Any, updated: Any) -> Any:
        if not self.finder.part(original):
            return updated
        code = _code(original)
        if code not in self.made:
            self.made[code] = self._name("factors", self.target[0])
            whole = original.visit(_Stacked(self))
            self.lines.append(f"{self.made[code]} = {_code(whole)}")
        index = cst.SubscriptElement(cst.Index(cst.Name(self.loop_target)))
        return cst.Subscript(cst.Name(self.made[code]), [index])

    def stacked_name(self, name: str) -> str:
        if name not in self.stacked:
            s = self.stacked[name] = self._name("bystep", name)
            stack, names = self.push.stack, self.push.names
            xp = self.ctx.bwd.xp
            if len(names) == 1:
                items, first = stack, f"{stack}[0]"
            else:
                k = names.index(name)
                step = self.ctx.names.fresh("step")
                items = f"[{step}[{k}] for {step} in {stack}]"
                first = f"{stack}[0][{k}]"
            self.lines.append(f"{s} = {xp}.concatenate({items})")
            self.lines.append(f"{s} = {s}.reshape(len({stack}), *{first}.shape)")
        return self.stacked[name]

    def _name(self, kind: str, value: str) -> str:
        """A name renamed with ``value`` (:data:`naming._OWNED`): ``h_2_by_step``,
        ``d_h_add2_factors``."""
        names = self.ctx.names
        if value in self.ctx.primal:
            return names.of_target(f"_{kind}", self.ctx.primal[value], f"d{kind}:")
        return names.of_target(f"_{kind}", value, f"{kind}:")


class _Stacked(cst.CSTTransformer):
    """The part over every step: each popped value -> its stacked steps."""

    def __init__(self, rewrite: _Rewrite) -> None:
        super().__init__()
        self.rewrite = rewrite

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        if original.value in self.rewrite.finder.popped:
            return cst.Name(self.rewrite.stacked_name(original.value))
        return updated


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
