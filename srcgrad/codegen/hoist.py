"""Stage 12b: loop-invariant hoisting in the backward pass.

A backward loop (the reverse of a forward loop) accumulates the cotangent of every
loop-invariant array the loop reads, one step at a time::

    for t in reversed(range(n)):
        ...
        d_W_part = h_1.T @ d_pre            # this step's contribution
        d_W = d_W + d_W_part

A sum of products over steps is one product of the stacked factors, so the loop keeps only
the factors and the product runs once, after it::

    d_pre_steps, h_1_steps = [], []
    for t in reversed(range(n)):
        ...
        d_pre_steps.append(d_pre)
        h_1_steps.append(h_1)
    if d_pre_steps:
        d_pre_all = xp.concatenate(d_pre_steps)
        d_W = d_W + xp.concatenate(h_1_steps).T @ d_pre_all

A step's factors of one row each (1-D, or a known single row) are kept in lists, as
above.  Where a factor may have several rows, each sum gathers its steps in a
``step_sum(len(range(n)))`` (``runtime/steps.py``) instead::

    d_W_steps = step_sum(len(range(n)))
    for t in reversed(range(n)):
        ...
        d_W_steps.add(h_1, d_pre)
    if d_W_steps:
        d_W = d_W + d_W_steps.total()

which adds a step of many rows at once (one product a step costs no more than a share of
the big one, and keeps no step alive) and copies the rows of smaller steps as they come,
for one product in ``total()``.

``sum_t A_t.T @ B_t == concat(A).T @ concat(B)`` for 1-D and 2-D factors (the rows of
every step side by side), and ``sum_t B_t.sum(axis=0) == concat(B).sum(axis=0)``: only
these forms are hoisted, and only where the shape facts prove every factor has at most two
axes (one at least for a sum).  The accumulator must be read and written nowhere else in
the loop, the contribution read nowhere else, both statements must run on every step (not
under a branch or an inner loop), and nothing in the loop may write into an array in
place (a kept factor must still hold its step's value after the loop).  The sum's order
changes, so results agree with the per-step form to rounding.

Reads of loop-invariant containers (``W = params["W"]``) move before the loop as well, and
so do two things numpy would redo on every step at a cost like that of the step's own
arithmetic on small arrays: ``W.T`` of a name the step does not bind, and a Python number
in arithmetic on arrays of one float dtype, which becomes a zero-dimensional array of that
dtype (``one = xp.asarray(1, dtype=xp.float32)``; the same value and result dtype).
The pass runs after the residual plan, and adds no read of a forward value: the factors
kept are the values the loop read anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Backward, BIf, BLoop, Block, BSeg, Names
from srcgrad.codegen.step_batches import batch_step_values

__all__ = ["hoist"]

LABEL = "hoisted"


@dataclass
class _Hoisted:
    """One accumulation ``acc = acc + part`` turned into kept factors."""

    acc: str
    kind: str  # "matmul" (a.T @ b), "matmul_t" ((a.T @ b).T) or "sum" (b.sum(axis=0))
    a: str | None
    b: str


@dataclass
class _Plan:
    found: list[_Hoisted] = field(default_factory=list)
    drop: set[int] = field(default_factory=set)  # id of statements removed
    at: dict[int, list[_Hoisted]] = field(
        default_factory=dict
    )  # id(stmt) -> sums there


def hoist(
    bwd: Backward,
    names: Names,
    facts: Any,
    plan: Any,
    lists_only: bool = False,
    inference: Any = None,
) -> Backward:
    """``bwd`` with its loops' accumulations hoisted (in place; returned).  ``plan`` is
    the residual plan: only loops whose backward runs are touched, and it learns that
    the backward then needs the array namespace.  ``lists_only``: every factor is kept
    in a list (code srcgrad differentiates again), none in a ``step_sum``."""
    if facts is None:
        return bwd
    primal = {adj: name for name, adj in bwd.adjoints.items()}
    ctx = _Context(bwd, names, facts, primal, plan, lists_only, inference)
    bwd.blocks = _items(bwd.blocks, ctx)
    if ctx.changed:
        plan.bwd_uses_xp = True
    return bwd


@dataclass
class _Context:
    bwd: Backward
    names: Names
    env: dict[str, Any]
    primal: dict[str, str]
    plan: Any
    lists_only: bool = False
    inference: Any = None  # the Inference behind env (argument facts)
    changed: bool = False
    # the 0-d arrays constants_as_arrays made before loops (``one``)
    constants: set[str] = field(default_factory=set)


def _items(items: list[Any], ctx: _Context) -> list[Any]:
    out: list[Any] = []
    for it in items:
        if isinstance(it, BIf):
            it.body = _items(it.body, ctx)
            it.orelse = _items(it.orelse, ctx)
        elif isinstance(it, BLoop):
            it.body = _items(it.body, ctx)
            out.append(it)
            if id(it.node) in ctx.plan.live_loops:
                out += _loop(it, ctx)
            continue
        out.append(it)
    return out


def _top_blocks(body: list[Any]) -> list[Block]:
    """The blocks that run on every step, in order (not under a branch or inner loop)."""
    out: list[Block] = []
    for it in body:
        if isinstance(it, BSeg):
            out += it.blocks
        elif isinstance(it, Block):
            out.append(it)
    return out


def _writes_in_place(blocks: list[Block]) -> bool:
    for b in blocks:
        for st in b.stmts:
            if isinstance(st, cst.AugAssign):
                return True
            if isinstance(st, cst.Assign) and any(
                not isinstance(t.target, (cst.Name, cst.Tuple)) for t in st.targets
            ):
                return True
            for arg in _calls_args(st):
                if arg.keyword is not None and arg.keyword.value == "out":
                    return True
    return False


def _added_into(blocks: list[Block]) -> set[str]:
    """The names whose arrays a runtime ``add_at(d, key, g)`` of the loop adds into."""
    out: set[str] = set()
    for b in blocks:
        for st in b.stmts:
            for call in ir.calls_in(st):
                if (
                    isinstance(call.func, cst.Name)
                    and call.func.value.rstrip("_") == "add_at"
                    and call.args
                    and isinstance(call.args[0].value, cst.Name)
                ):
                    out.add(call.args[0].value.value)
    return out


def _calls_args(node: cst.CSTNode) -> list[cst.Arg]:
    return [a for call in ir.calls_in(node) for a in call.args]


def _assign(st: Any) -> tuple[str, cst.BaseExpression] | None:
    if (
        isinstance(st, cst.Assign)
        and len(st.targets) == 1
        and isinstance(st.targets[0].target, cst.Name)
    ):
        return st.targets[0].target.value, st.value
    return None


def _accumulation(st: Any) -> tuple[str, cst.BaseExpression] | None:
    """``(acc, part)`` for ``acc = acc + part`` or ``acc = part + acc``."""
    a = _assign(st)
    if a is None or not isinstance(a[1], cst.BinaryOperation):
        return None
    op = a[1]
    if not isinstance(op.operator, cst.Add):
        return None
    for mine, other in ((op.left, op.right), (op.right, op.left)):
        if isinstance(mine, cst.Name) and mine.value == a[0]:
            if not (isinstance(other, cst.Name) and other.value == a[0]):
                return a[0], other
    return None


def _contribution(expr: cst.BaseExpression) -> tuple[str, str | None, str] | None:
    """``("matmul", a, b)`` for ``a.T @ b``; ``("sum", None, b)`` for ``b.sum(axis=0)``."""
    if (
        isinstance(expr, cst.BinaryOperation)
        and isinstance(expr.operator, cst.MatrixMultiply)
        and isinstance(expr.left, cst.Attribute)
        and expr.left.attr.value == "T"
        and isinstance(expr.left.value, cst.Name)
        and isinstance(expr.right, cst.Name)
    ):
        return "matmul", expr.left.value.value, expr.right.value
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "sum"
        and isinstance(expr.func.value, cst.Name)
        and len(expr.args) == 1
        and expr.args[0].keyword is not None
        and expr.args[0].keyword.value == "axis"
        and isinstance(expr.args[0].value, cst.Integer)
        and expr.args[0].value.value == "0"
    ):
        return "sum", None, expr.func.value.value
    return None


def _transposed(
    made: Any, defs: dict[str, list[Any]], reads: dict[str, int], position: dict
) -> Any:
    """For ``part = q.T`` whose ``q`` one earlier statement of the step makes and only
    this reads: that statement; else None."""
    a = _assign(made)
    if a is None:
        return None
    return _transposed_expr(a[1], made, defs, reads, position)


def _transposed_expr(
    expr: Any,
    made: Any,
    defs: dict[str, list[Any]],
    reads: dict[str, int],
    position: dict,
) -> Any:
    """For an expression ``q.T`` read in ``made``, whose ``q`` one earlier statement of
    the step makes and only ``made`` reads: that statement; else None."""
    if not (
        isinstance(expr, cst.Attribute)
        and expr.attr.value == "T"
        and isinstance(expr.value, cst.Name)
    ):
        return None
    q = expr.value.value
    if len(defs.get(q, [])) != 1 or reads.get(q, 0) != 1:
        return None
    inner = defs[q][0]
    if id(inner) not in position or position[id(inner)] > position[id(made)]:
        return None
    return inner


def _rank(name: str, ctx: _Context) -> int | None:
    fact = ctx.env.get(ctx.primal.get(name, name))
    dims = getattr(fact, "dims", None)
    return None if dims is None else len(dims)


def _ranks_fit(kind: str, a: str | None, b: str, ctx: _Context) -> bool:
    rb = _rank(b, ctx)
    if kind == "sum":
        return rb is not None and rb >= 1
    if kind == "matmul_t":
        kind = "matmul"
    ra = _rank(a, ctx) if a is not None else None
    return ra is not None and rb is not None and 1 <= ra <= 2 and 1 <= rb <= 2


def _plan(loop: BLoop, ctx: _Context) -> _Plan:
    plan = _Plan()
    top = _top_blocks(loop.body)
    every = ir.all_blocks(loop.body)
    if _writes_in_place(every):
        return plan
    accumulated = _added_into(every)  # add_at(d, ...) writes into d's array
    defs: dict[str, list[Any]] = {}
    reads: dict[str, int] = {}
    for b in every:
        for st in b.stmts:
            for t in ir.assigned_names(st):
                defs.setdefault(t, []).append(st)
            for r in ir.read_names(st):
                reads[r] = reads.get(r, 0) + 1
    for r in ir.control_reads(loop.body):
        reads[r] = reads.get(r, 0) + 1
    order = [st for b in top for st in b.stmts]
    position = {id(st): k for k, st in enumerate(order)}
    for st in order:
        acc_part = _accumulation(st)
        if acc_part is None:
            continue
        also = id(st)
        acc, part = acc_part
        if len(defs.get(acc, [])) != 1 or reads.get(acc, 0) != 1:
            continue  # read or written elsewhere in the loop
        if isinstance(part, cst.Name):  # a temporary made just for this sum
            name = part.value
            if len(defs.get(name, [])) != 1 or reads.get(name, 0) != 1:
                continue
            made = defs[name][0]
            if id(made) not in position or position[id(made)] > position[id(st)]:
                continue
            form = _contribution(_assign(made)[1])  # type: ignore[index]
            inner = _transposed(made, defs, reads, position)
            if form is None and inner is not None:  # d_W = d_W + (a.T @ b).T
                form = _contribution(_assign(inner)[1])  # type: ignore[index]
                if form is not None and form[0] == "matmul":
                    also = id(made)  # the transpose goes with the product
                    made, form = inner, ("matmul_t", form[1], form[2])
                else:
                    form = None
        else:  # the product written in the sum itself, or its transpose
            made, form = st, _contribution(part)
            inner = _transposed_expr(part, st, defs, reads, position)
            if form is None and inner is not None:  # d_W = d_W + q.T, q = a.T @ b
                form = _contribution(_assign(inner)[1])  # type: ignore[index]
                if form is not None and form[0] == "matmul":
                    made, form = inner, ("matmul_t", form[1], form[2])
                else:
                    form = None
        if form is None:
            continue
        kind, a, b = form
        if not _ranks_fit(kind, a, b, ctx) or not all(
            _fixed_in_step(n, made, defs, position) and n not in accumulated
            for n in (a, b)
            if n is not None
        ):
            continue  # a kept factor must still hold its step's value after the loop
        plan.found.append(_Hoisted(acc, kind, a, b))
        plan.drop |= {id(st), id(made), also}
        plan.at.setdefault(id(made), []).append(plan.found[-1])
    return plan


def _fixed_in_step(
    name: str, made: Any, defs: dict[str, list[Any]], position: dict[int, int]
) -> bool:
    """Whether ``name`` holds one value from ``made`` to the end of the step: not
    assigned by the loop's statements (a forward value popped at the step's start, or
    one from outside the loop), or assigned only unconditionally and before ``made``."""
    if name not in defs:
        return True
    where = [position.get(id(d)) for d in defs[name]]
    return all(k is not None and k < position[id(made)] for k in where)


def _loop(loop: BLoop, ctx: _Context) -> list[Any]:
    """Rewrite ``loop`` in place; return the blocks that follow it."""
    _move_invariant_reads(loop, ctx)
    constants_as_arrays(loop, ctx)
    _transposes_before(loop, ctx)
    batch_step_values(loop, ctx)
    plan = _plan(loop, ctx)
    if not plan.found:
        return []
    kept: dict[str, str] = {}  # value name -> its list (factors of one row a step)
    sums: dict[str, str] = {}  # accumulator -> its step_sum (factors of several rows)
    for h in plan.found:
        factors = [n for n in (h.b, h.a) if n is not None]
        if ctx.lists_only or all(_one_row(n, ctx) for n in factors):
            for n in factors:
                kept.setdefault(n, _list_name(n, "steps", ctx))
        else:
            sums[h.acc] = _list_name(h.acc, "steps", ctx)
    views = _step_views(loop, ctx)
    for n in views:
        kept.pop(n, None)  # read whole from its array, reversed: no list a step
    appended: set[str] = set(views)  # one append per list and step
    for b in _top_blocks(loop.body):
        stmts: list[Any] = []
        for st in b.stmts:
            for h in plan.at.get(id(st), []):
                stmts += _keep_step(h, kept, sums, appended)
            if id(st) not in plan.drop:
                stmts.append(st)
        b.stmts = stmts
    ctx.changed = True
    _drop_unread_views(views, loop, ctx)
    origin = loop.node.origin
    init = Block(origin, LABEL)
    for lst in dict.fromkeys(kept.values()):
        init.stmts.append(cst.parse_statement(f"{lst} = []").body[0])
    if sums:
        make = f"{ctx.names.generated('step_sum')}({_steps(loop)})"
        ctx.bwd.helpers.add("step_sum")
        for acc in sums.values():
            init.stmts.append(cst.parse_statement(f"{acc} = {make}").body[0])
    loop.pre = loop.pre + [init]
    return [Block(origin, LABEL, [_after(plan, kept, sums, ctx, views)])]


def _keep_step(
    h: _Hoisted, kept: dict[str, str], sums: dict[str, str], appended: set[str]
) -> list[Any]:
    """The statements that keep a step's factors of ``h`` (or add its product)."""
    if h.acc in sums:
        args = h.b if h.a is None else f"{h.a}, {h.b}"
        return [cst.parse_statement(f"{sums[h.acc]}.add({args})").body[0]]
    out = []
    for n in (h.b, h.a):
        if n is not None and n not in appended:
            appended.add(n)
            out.append(cst.parse_statement(f"{kept[n]}.append({n})").body[0])
    return out


def _after(
    plan: _Plan,
    kept: dict[str, str],
    sums: dict[str, str],
    ctx: _Context,
    views: dict[str, str],
) -> cst.If:
    xp = ctx.bwd.xp
    # every list and sum has one entry a step
    first = next(iter(sums.values()), None) or next(iter(kept.values()))
    lines: list[str] = []
    stacked: dict[str, str] = {}
    uses: dict[str, int] = {}
    for h in plan.found:
        for n in (h.a, h.b):
            if n is not None and h.acc not in sums:
                uses[n] = uses.get(n, 0) + 1
    for n, k in uses.items():
        if n in views:  # the steps' x[t] in the backward loop's order, as rows
            x = views[n]
            stacked[n] = f"{x}[::-1].reshape(-1, {x}.shape[-1])"
        elif k > 1:
            stacked[n] = _list_name(n, "every", ctx)
            lines.append(f"{stacked[n]} = {xp}.concatenate({kept[n]})")

    def whole(n: str) -> str:
        return stacked.get(n) or f"{xp}.concatenate({kept[n]})"

    for h in plan.found:
        if h.acc in sums:
            part = f"{sums[h.acc]}.total()" + (".T" if h.kind == "matmul_t" else "")
        elif h.kind == "sum":
            part = f"{whole(h.b)}.sum(axis=0)"
        elif h.kind == "matmul_t":
            part = f"({whole(h.a)}.T @ {whole(h.b)}).T"  # type: ignore[arg-type]
        else:
            part = f"{whole(h.a)}.T @ {whole(h.b)}"  # type: ignore[arg-type]
        lines.append(f"{h.acc} = {h.acc} + {part}")
    body = "".join(f"    {ln}\n" for ln in lines)
    node = cst.parse_statement(f"if {first}:\n{body}")
    return cst.ensure_type(node, cst.If)


def _step_views(loop: BLoop, ctx: _Context) -> dict[str, str]:
    """Factors taken again after each pop as ``x_t = x[t]`` (:func:`saving.trim_pushes`)
    in a loop over ``range(x.shape[0])`` or ``range(len(x))`` of a 3-axis ``x``: each
    ``x_t`` -> ``x``.  Their steps, in the backward loop's order, are the rows of
    ``x[::-1]``: no list is kept."""
    node = loop.node
    it = node.iter
    if not (
        node.reversible_range
        and isinstance(it, cst.Call)
        and len(it.args) == 1
        and it.args[0].keyword is None
        and _length(it.args[0].value)
    ):
        return {}
    n = it.args[0].value
    whole = n.value.value if isinstance(n, cst.Subscript) else n.args[0].value  # type: ignore[attr-defined]
    if not isinstance(whole, cst.Name):
        return {}
    if isinstance(n, cst.Subscript) and _code(n.slice[0].slice) != "0":  # type: ignore[attr-defined]
        return {}
    bound = {
        t
        for b in ir.all_blocks(loop.body)
        for st in b.stmts
        for t in ir.assigned_names(st)
    }
    if len(getattr(ctx.env.get(whole.value), "dims", ())) != 3:
        return {}
    out: dict[str, str] = {}
    for seg in node.body:  # the pushes of this loop's own segments
        push = ctx.plan.pops.get(id(seg)) if isinstance(seg, ir.Segment) else None
        for st in push.recompute if push is not None else []:
            if (
                len(st.targets) == 1
                and st.targets[0] not in bound
                and ir.step_slice(st.expr, node.target) == whole.value
            ):
                out[st.targets[0]] = whole.value
    return out


def _drop_unread_views(views: dict[str, str], loop: BLoop, ctx: _Context) -> None:
    """A step view read whole after the loop and by nothing else is taken neither in the
    backward loop (after the pop) nor in the forward one."""
    if not views:
        return
    reads: set[str] = set(ir.control_reads(ctx.bwd.blocks))
    for b in ir.all_blocks(ctx.bwd.blocks):
        for st in b.stmts:
            reads |= set(ir.read_names(st))
    pushes = list(ctx.plan.pops.values())
    for push in pushes:
        for st in push.recompute:
            reads |= ir.names_in(st.expr)
    if ctx.inference is None:
        return  # (no forward pass at hand to read)
    fwd_reads = set(ir.read_counts(ctx.inference.norm))
    for push in pushes:
        fwd_reads |= set(push.names) | push.shapes
    fwd_reads |= set(ctx.plan.residuals)
    for name in views:
        if name in reads or name in fwd_reads:
            continue
        for push in pushes:
            push.recompute = [st for st in push.recompute if st.targets[0] != name]
        for seg in loop.node.body:
            if isinstance(seg, ir.Segment):
                seg.stmts = [st for st in seg.stmts if name not in st.targets]


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _one_row(name: str, ctx: _Context) -> bool:
    """Whether each step's ``name`` is one row (1-D, or 2-D with one row): kept in a
    list, whose append costs less than a copy of so little."""
    dims = getattr(ctx.env.get(ctx.primal.get(name, name)), "dims", None)
    return dims is not None and (len(dims) == 1 or len(dims) == 2 and dims[0] == 1)


def _steps(loop: BLoop) -> str:
    """The number of steps of a backward loop over ``reversed(range(...))``, as an
    expression read before it (``xs.shape[0]`` for ``range(xs.shape[0])``, else
    ``len(range(n))``); "" when only the loop knows it."""
    node = loop.node
    if not (node.reversible_range and node.iter is not None):
        return ""
    it = node.iter
    if (  # range(xs.shape[0]), range(len(xs)): that many steps (never negative)
        isinstance(it, cst.Call)
        and len(it.args) == 1
        and it.args[0].keyword is None
        and not it.args[0].star
        and _length(it.args[0].value)
    ):
        return cst.Module([]).code_for_node(it.args[0].value)
    return f"len({cst.Module([]).code_for_node(it)})"


def _length(node: cst.BaseExpression) -> bool:
    """Whether ``node`` is an axis length: ``x.shape[k]`` or ``len(x)``."""
    if isinstance(node, cst.Subscript):
        v = node.value
        return isinstance(v, cst.Attribute) and v.attr.value == "shape"
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "len"
        and len(node.args) == 1
    )


def _list_name(value: str, what: str, ctx: _Context) -> str:
    """A name for the kept steps (or their concatenation) of ``value``, renamed with it:
    ``d_h_add2_steps`` for a cotangent, ``h_1_steps`` for a forward value."""
    if value in ctx.primal:
        return ctx.names.of_target(f"_{what}", ctx.primal[value], f"d{what}:")
    return ctx.names.of_target(f"_{what}", value, f"{what}:")


def _move_invariant_reads(loop: BLoop, ctx: _Context) -> None:
    """A constant-key read of a container the loop never assigns (``W = params["W"]``),
    which the residual plan recomputes after each step's pop, runs once before the loop.
    """
    assigned: set[str] = set()
    for b in ir.all_blocks(loop.body):
        for st in b.stmts:
            assigned.update(ir.assigned_names(st))
    # the forward values of the loop are popped or recomputed each step: variant
    variant = ir.control_reads([loop]) | set(ir.def_counts([loop.node]))
    variant |= {c.name for c in loop.node.carried}
    moved = Block(loop.node.origin, LABEL)
    for it in loop.body:
        push = ctx.plan.pops.get(id(it.seg)) if isinstance(it, BSeg) else None
        if push is None:
            continue
        keep = []
        for st in push.recompute:
            if (
                st.kind == ir.READ
                and len(st.targets) == 1
                and st.targets[0] not in assigned
                and _constant_read(st.expr)
                and not (ir.names_in(st.expr) & variant)
            ):
                text = f"{st.targets[0]} = {cst.Module([]).code_for_node(st.expr)}"
                moved.stmts.append(cst.parse_statement(text).body[0])
            else:
                keep.append(st)
        push.recompute = keep
    if moved.stmts:
        loop.pre = loop.pre + [moved]
        ctx.changed = True


def _constant_read(expr: cst.BaseExpression) -> bool:
    """``name[constant]`` (nested), the only reads moved."""
    if isinstance(expr, cst.Name):
        return False
    while isinstance(expr, cst.Subscript):
        if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Index):
            return False
        key = expr.slice[0].slice.value
        if not isinstance(key, (cst.SimpleString, cst.Integer)):
            return False
        expr = expr.value
    return isinstance(expr, cst.Name)


_ARITHMETIC = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)
_WORDS = {"1": "one", "2": "two", "0.5": "half", "1.0": "one", "2.0": "two"}


def constants_as_arrays(loop: BLoop, ctx: _Context) -> None:
    """A number in a step's arithmetic on arrays of one float dtype (``1 - h_2 * h_2``
    of float32 arrays) becomes a zero-dimensional array of that dtype made once before
    the loop (``one = xp.asarray(1, dtype=xp.float32)``): numpy converts a Python number
    on every call, which costs as much as the operation on a small array.  The number
    converts to the same value either way, and the result has the operands' dtype either
    way, so every value is unchanged."""
    made: dict[tuple[str, str], str] = {}

    def constant(text: str, dtype: str) -> str:
        if (text, dtype) not in made:
            made[(text, dtype)] = ctx.names.fresh(_WORDS.get(text, "constant"))
            ctx.constants.add(made[(text, dtype)])
        return made[(text, dtype)]

    for b in ir.all_blocks(loop.body):
        b.stmts = [_with_constants(st, ctx, constant) for st in b.stmts]
    if not made:
        return
    pre = Block(loop.node.origin, LABEL)
    for (text, dtype), name in made.items():
        code = f"{name} = {ctx.bwd.xp}.asarray({text}, dtype={ctx.bwd.xp}.{dtype})"
        pre.stmts.append(cst.parse_statement(code).body[0])
    loop.pre = loop.pre + [pre]
    ctx.changed = True


def _with_constants(st: Any, ctx: _Context, constant: Any) -> Any:
    class Rewrite(cst.CSTTransformer):
        def leave_BinaryOperation(
            self, orig: cst.BinaryOperation, node: cst.BinaryOperation
        ) -> cst.BaseExpression:
            if not isinstance(node.operator, _ARITHMETIC):
                return node
            for side, other in (("left", node.right), ("right", node.left)):
                number = getattr(node, side)
                if isinstance(number, (cst.Integer, cst.Float)):
                    dtype = _float_dtype(other, ctx)
                    if dtype is not None:
                        name = constant(number.value, dtype)
                        return node.with_changes(**{side: cst.Name(name)})
            return node

    return st.visit(Rewrite()) if isinstance(st, cst.Assign) else st


def _float_dtype(expr: cst.BaseExpression, ctx: _Context) -> str | None:
    """``"float32"`` or ``"float64"`` when ``expr`` is arithmetic (``+ - * /``) on forward
    values whose facts are arrays of that one dtype, one of them with an axis at least.
    """
    dtypes: set[Any] = set()
    ranked = False
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, cst.BinaryOperation) and isinstance(e.operator, _ARITHMETIC):
            stack += [e.left, e.right]
        elif isinstance(e, cst.Name):
            # forward values only: a cotangent may have another dtype than its value
            fact = None if e.value in ctx.primal else ctx.env.get(e.value)
            if getattr(fact, "dims", None) is None:
                return None
            dtypes.add(fact.dtype)
            ranked = ranked or len(fact.dims) >= 1
        elif not isinstance(e, (cst.Integer, cst.Float)):
            return None
    if not ranked or len(dtypes) != 1:
        return None
    (dt,) = dtypes
    return dt.name if dt in (np.dtype("float32"), np.dtype("float64")) else None


def _transposes_before(loop: BLoop, ctx: _Context) -> None:
    """``W.T`` of a name the loop never binds (``d_h @ W.T`` each step) is taken once
    before the loop, as ``W_T`` (a view: the same array)."""
    # what a step binds: the forward loop's names (popped or recomputed each step, but
    # for the invariant reads moved before the loop), and the backward statements' own
    before = {t for b in loop.pre for st in b.stmts for t in ir.assigned_names(st)}
    variant = set(ir.def_counts([loop.node])) - before
    variant |= {c.name for c in loop.node.carried} | {loop.node.target or ""}
    blocks = ir.all_blocks(loop.body)
    for b in blocks:
        for st in b.stmts:
            variant.update(ir.assigned_names(st))
    made: dict[str, str] = {}

    class Rewrite(cst.CSTTransformer):
        def leave_Attribute(
            self, orig: cst.Attribute, node: cst.Attribute
        ) -> cst.BaseExpression:
            v = node.value
            if (
                node.attr.value != "T"
                or not isinstance(v, cst.Name)
                or v.value in variant
                or v.value == ctx.bwd.xp
            ):
                return node
            if v.value not in made:
                made[v.value] = ctx.names.of_target(
                    f"_{v.value.lstrip('_')}_T", v.value, "transposed:T"
                )
            return cst.Name(made[v.value])

    for b in blocks:
        b.stmts = [st.visit(Rewrite()) for st in b.stmts]
    if made:
        pre = Block(loop.node.origin, LABEL)
        for name, t in made.items():
            pre.stmts.append(cst.parse_statement(f"{t} = {name}.T").body[0])
        loop.pre = loop.pre + [pre]
        ctx.changed = True
