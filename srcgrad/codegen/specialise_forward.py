"""Stage 11: the forward rewrites the facts prove bit-identical.

Only with specialisation (``facts`` from :mod:`specialise`), and only after the backward pass
is final, because a value the backward reads must stay as it was:

- ``xp.sum(a, ...)`` (and mean/max/min/prod) of a known array -> ``a.sum(...)``: the same
  reduction without numpy's Python-level dispatch;
- fused elementwise chains: ``t2 = t1 + b`` -> ``t2 = xp.add(t1, b, out=t1)`` when ``t1`` is a
  fresh array read by nothing else (see :func:`forward_in_place`);
- ``xp.split(a, k, axis=ax)`` with literal ``k`` and ``ax`` -> ``split_sections(a, k, ax)``:
  the same views by basic slicing, where numpy's ``split`` works in Python (it falls back
  to ``split`` for anything but equal sections of an array);
- input projections of a loop over time: ``m = xs[t] @ W`` in ``for t in range(...)`` ->
  ``m = m_all[t]`` with ``m_all = xs @ W`` once before the loop, for a loop-invariant
  ``xs`` of three or more axes and ``W`` of two (numpy's stacked matmul multiplies each
  ``xs[t]`` as the step did; see :func:`hoist_input_projections`).  The backward pass is
  unchanged: it differentiates the step's product.  A read of a container that only the
  step's product read (``W = params["W"]``) is dropped then (:func:`drop_dead_reads`);
- a loop-invariant operand of fewer axes in a step's elementwise arithmetic
  (``h + b`` with ``b`` of one axis, ``h`` of two) is given its leading axes of length
  one once before the loop (``b_row = b[None]``): numpy's ufuncs take a faster path when
  both operands have as many axes (twice as fast on a row of 16), and the values are the
  same (see :func:`lift_invariant_operands`).

After this stage the forward statements hold those rewrites.  The statements are rewritten in
place: segments, branches and loops keep their identity, since the backward pass and the
residual plan refer to them.  Nothing else changes.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.facts import UF, Fact, same_fact
from srcgrad.codegen.inference import Inference
from srcgrad.codegen.ir import Backward, Normalized
from srcgrad.codegen.specialise import as_method
from srcgrad.rules import registry


def specialise_forward(
    norm: Normalized, facts: Inference | None, bwd: Backward
) -> Normalized:
    """``norm`` with the forward rewrites applied (see the module docstring)."""
    if facts is None:
        return norm
    reductions_as_methods(norm, bwd.xp, facts)
    splits_as_slices(norm, bwd)
    hoisted = hoist_input_projections(norm, facts.env)
    if lift_invariant_operands(norm, facts.env) + hoisted:
        drop_dead_reads(norm, ir.backward_reads(bwd))
    # after the loop rewrites, which read the statements as written
    forward_in_place(norm, bwd.xp, facts.env, facts.uf, ir.backward_reads(bwd))
    return norm


def reductions_as_methods(norm: Normalized, xp: str, facts: Inference) -> None:
    """``xp.sum(a, ...)`` -> ``a.sum(...)`` (and friends) for a known array ``a``."""
    for st in ir.walk_stmts(norm.stmts):
        if (
            isinstance(st, ir.Stmt)
            and st.kind == ir.PRIM
            and isinstance(st.expr, cst.Call)
        ):
            method = as_method(st.expr, xp, facts.expr_fact)
            if method is not None:
                st.expr = method


# the operators whose ufunc a fused chain calls with out= (not ``**``: numpy's scalar-power
# fast paths need not round as np.power does); each one's rule names the ufunc
_OPERATORS = {cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/"}


def splits_as_slices(norm: Normalized, bwd: Backward) -> int:
    """``xp.split(a, k, axis=ax)`` with integer literals ``k`` and ``ax`` ->
    ``split_sections(a, k, ax)``.  Returns how many it rewrote."""
    done = 0
    for st in ir.walk_stmts(norm.stmts):
        if not (
            isinstance(st, ir.Stmt)
            and st.kind == ir.PRIM
            and st.rule is not None
            and st.rule.name == "split"
            and isinstance(st.expr, cst.Call)
            and isinstance(st.expr.func, cst.Attribute)
            and isinstance(st.expr.func.value, cst.Name)
            and st.expr.func.value.value == bwd.xp
            and st.expr.func.attr.value == "split"
        ):
            continue
        args = _split_args(st.expr.args)
        if args is None:
            continue
        helper = norm.names.generated("split_sections")
        bwd.helpers.add("split_sections")
        st.expr = cst.parse_expression(
            f"{helper}({_code(args[0])}, {args[1]}, {args[2]})"
        )
        done += 1
    return done


def _split_args(args: Any) -> tuple[cst.BaseExpression, int, int] | None:
    """``(a, k, axis)`` of ``split(a, k)`` / ``split(a, k, ax)`` / ``split(a, k, axis=ax)``
    with integer literals ``k`` and ``ax``; else None."""
    names = ["ary", "indices_or_sections", "axis"]
    bound: dict[str, cst.BaseExpression] = {}
    for k, a in enumerate(args):
        if a.star:
            return None
        key = a.keyword.value if a.keyword is not None else names[k] if k < 3 else ""
        if key not in names or key in bound:
            return None
        bound[key] = a.value
    if "ary" not in bound or "indices_or_sections" not in bound:
        return None
    k = _int_literal(bound["indices_or_sections"])
    axis = _int_literal(bound["axis"]) if "axis" in bound else 0
    if k is None or axis is None:
        return None
    return bound["ary"], k, axis


def _int_literal(e: cst.BaseExpression) -> int | None:
    if isinstance(e, cst.Integer):
        return int(e.evaluated_value)
    if (
        isinstance(e, cst.UnaryOperation)
        and isinstance(e.operator, cst.Minus)
        and isinstance(e.expression, cst.Integer)
    ):
        return -int(e.expression.evaluated_value)
    return None


def _elementwise() -> frozenset[str]:
    """The rules of kind "unary" or "binary" (elementwise: the result has the operands'
    broadcast shape)."""
    return registry.names_of_kind("unary") | registry.names_of_kind("binary")


def _writes_out(name: str) -> bool:
    """Whether a call of the elementwise rule ``name`` may be given ``out=``: its primitive
    is a ufunc (``np.copy`` and ``np.sinc`` are functions without ``out``)."""
    rule = registry.lookup_name(name)
    return (
        name in _elementwise()
        and rule is not None
        and isinstance(rule.primitive, np.ufunc)
    )


def forward_in_place(
    norm: Normalized, xp: str, env: dict[str, Fact | None], uf: UF, bwd_reads: set[str]
) -> int:
    """Fused elementwise chains: ``t2 = t1 + b`` becomes ``t2 = xp.add(t1, b, out=t1)`` when
    ``t1`` is a fresh array this function made (a ufunc or matmul result), read by nothing
    else (no later statement, not the backward pass) and of the result's shape and dtype.
    A written chain of one fresh float array and numbers (``1.0 / (1.0 + xp.exp(-a))``)
    writes every step into ``a``.  Straight-line statements outside branches, at the top
    level and in loop bodies (where only a name the same step made before is fresh); the
    values are bit-identical (the same ufuncs, writing where their operand was).  Returns
    how many it rewrote."""
    reads = ir.read_counts(norm)
    for it in ir.walk_stmts(norm.stmts):
        if isinstance(it, ir.Stmt) and it.recompute:  # read again in bwd: never fused
            for t in it.targets:
                reads[t] = reads.get(t, 0) + 2
    fuse = _Fuser(xp, env, uf, reads, bwd_reads)
    return fuse.items(norm.stmts)


class _Fuser:
    """:func:`forward_in_place` over one list of items (and the loop bodies within)."""

    def __init__(
        self,
        xp: str,
        env: dict[str, Fact | None],
        uf: UF,
        reads: dict[str, int],
        bwd_reads: set[str],
    ) -> None:
        self.xp, self.env, self.uf = xp, env, uf
        self.reads, self.bwd_reads = reads, bwd_reads
        # rules whose result is a new array
        self.made = (_elementwise() - {"copy"}) | {"matmul"}

    def items(self, items: list[Any]) -> int:
        fresh: set[str] = (
            set()
        )  # names this list made, fresh arrays read by nothing yet
        done = 0
        for it in items:
            if isinstance(it, ir.LoopNode):
                done += self.items(it.body)  # a step's own fresh names only
            if not isinstance(getattr(it, "stmts", None), list):
                # a branch or a loop may bind a name again: not fresh after it
                fresh -= {t for s in ir.walk_stmts([it]) for t in ir.targets_of(s)}
                continue
            for st in it.stmts:
                if isinstance(st, ir.Stmt):
                    done += self.stmt(st, fresh)
        return done

    def stmt(self, st: ir.Stmt, fresh: set[str]) -> int:
        done = 0
        if st.kind == ir.PRIM and st.rule is not None:
            name = st.rule.name
            result = self.env.get(st.targets[0]) if len(st.targets) == 1 else None
            ok = (
                result is not None
                and result.is_array
                and result.dims  # a 0-d result may be a numpy scalar: no out=
                and not st.recompute
            )
            new = None
            if ok and _writes_out(name):
                new = _in_place(
                    st.expr,
                    result,  # type: ignore[arg-type]
                    self.env,
                    self.uf,
                    fresh,
                    self.reads,
                    self.bwd_reads,
                    self.xp,
                )
            if ok and new is None:
                new = self.chain(st.expr, result, fresh)  # type: ignore[arg-type]
            if new is not None:
                st.expr = new
                done = 1
            if (
                name in self.made
                and len(st.targets) == 1
                and not isinstance(st.expr, cst.Subscript)  # a hoisted step's row
            ):
                fresh.add(st.targets[0])
                return done
        fresh.difference_update(st.targets)
        return done

    def chain(
        self, expr: Any, result: Fact, fresh: set[str]
    ) -> cst.BaseExpression | None:
        """``1.0 / (1.0 + xp.exp(-a))`` as ufunc calls that each write into ``a``: a chain
        of unary ufuncs and arithmetic with number literals down to one fresh float
        array ``a`` read by nothing else, of the result's shape and dtype (a number beside
        a float array keeps its dtype, so every step has ``a``'s shape and dtype)."""
        path: list[Any] = []
        node = expr
        while True:
            path.append(node)
            nxt = _chain_operand(node, self.xp)
            if nxt is None:
                break
            node = nxt
        leaf = path.pop()
        if not (
            path
            and isinstance(leaf, cst.Name)
            and leaf.value in fresh
            and self.reads.get(leaf.value, 0) == 1
            and leaf.value not in self.bwd_reads
            and same_fact(self.env.get(leaf.value), result, self.uf)
            and result.dtype in ("float16", "float32", "float64")
        ):
            return None
        out: cst.BaseExpression = cst.Name(leaf.value)
        for node in reversed(path):
            out = _ufunc_call(node, out, leaf.value, self.xp)
        return out


# the unary ufuncs a chain may call with out= (a float operand gives a result of its dtype)
_UNARY_CHAIN = frozenset(
    "exp expm1 exp2 log log1p log2 log10 sqrt cbrt square reciprocal negative tanh sinh "
    "cosh sin cos tan arctan arcsinh".split()
)


def _chain_operand(node: Any, xp: str) -> Any:
    """The operand a chain step applies its ufunc to, or None when ``node`` is no step."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return node.expression
    if isinstance(node, cst.BinaryOperation) and type(node.operator) in _OPERATORS:
        left_num = isinstance(node.left, (cst.Integer, cst.Float))
        right_num = isinstance(node.right, (cst.Integer, cst.Float))
        if left_num != right_num:
            return node.right if left_num else node.left
        return None
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and isinstance(node.func.value, cst.Name)
        and node.func.value.value == xp
        and node.func.attr.value in _UNARY_CHAIN
        and len(node.args) == 1
        and node.args[0].keyword is None
        and not node.args[0].star
    ):
        return node.args[0].value
    return None


def _ufunc_call(node: Any, arg: cst.BaseExpression, out: str, xp: str) -> cst.Call:
    """The chain step ``node`` as ``xp.<ufunc>(..., out=out)`` applied to ``arg``."""
    if isinstance(node, cst.UnaryOperation):
        func, args = "negative", [arg]
    elif isinstance(node, cst.BinaryOperation):
        func = _UFUNC_OF[type(node.operator)]
        num = node.left if isinstance(node.left, (cst.Integer, cst.Float)) else None
        args = [num, arg] if num is not None else [arg, node.right]
    else:
        func, args = node.func.attr.value, [arg]
    return cst.Call(
        func=cst.Attribute(cst.Name(xp), cst.Name(func)),
        args=[cst.Arg(a.with_changes(lpar=[], rpar=[])) for a in args]
        + [cst.Arg(cst.Name(out), keyword=cst.Name("out"))],
    )


_UFUNC_OF = {
    cst.Add: "add",
    cst.Subtract: "subtract",
    cst.Multiply: "multiply",
    cst.Divide: "divide",
}


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
    if isinstance(expr, cst.BinaryOperation) and type(expr.operator) in _OPERATORS:
        rule = registry.by_operator(_OPERATORS[type(expr.operator)])
        if rule is None:
            return None
        func: cst.BaseExpression = cst.Attribute(cst.Name(xp), cst.Name(rule.name))
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


def hoist_input_projections(norm: Normalized, env: dict[str, Fact | None]) -> int:
    """``m = xs[t] @ W`` in a ``for t in range(...)`` loop becomes ``m = m_all[t]``, with
    ``m_all = xs @ W`` computed once before the loop (the step's product for every step at
    once), where ``xs`` and ``W`` are loop-invariant, ``xs`` has at least three axes and
    ``W`` two, and both statements run on every step.  Returns how many it rewrote."""
    done = 0
    for items in _lists_with_loops(norm.stmts):
        k = 0
        while k < len(items):
            loop = items[k]
            if isinstance(loop, ir.LoopNode) and loop.kind == "for" and loop.target:
                before = _segment_before(items, k)
                if before is not None:
                    done += _hoist_loop(loop, before, norm, env)
            k += 1
    return done


def _lists_with_loops(items: list[Any]) -> list[list[Any]]:
    out = [items]
    for it in items:
        if isinstance(it, ir.LoopNode):
            out += _lists_with_loops(it.body)
        elif isinstance(it, ir.IfNode):
            out += _lists_with_loops(it.body) + _lists_with_loops(it.orelse)
    return out


def _segment_before(items: list[Any], k: int) -> Any:
    """The segment the loop at ``k`` follows (phis between them aside), else None."""
    j = k - 1
    while j >= 0 and isinstance(items[j], ir.Phi):
        j -= 1
    if j >= 0 and isinstance(getattr(items[j], "stmts", None), list):
        return items[j]
    return None


def _step_parts(
    loop: ir.LoopNode,
) -> tuple[set[str], list[ir.Stmt], dict[str, cst.BaseExpression]]:
    """What a step of ``loop`` binds (its names, the carried ones, the loop variable), the
    statements of its straight-line segments, and its constant-key reads of containers it
    does not bind (``W = params["W"]``: invariant too), each name with what it reads."""
    variant = set(ir.def_counts(loop.body)) | {c.name for c in loop.carried}
    if loop.target:
        variant.add(loop.target)
    steps = [
        st
        for seg in loop.body
        if isinstance(getattr(seg, "stmts", None), list)
        for st in seg.stmts
        if isinstance(st, ir.Stmt)
    ]
    reads = {
        st.targets[0]: st.expr
        for st in steps
        if st.kind == ir.READ
        and len(st.targets) == 1
        and not ({n.value for n in ir.name_nodes(st.expr)} & variant)
    }
    return variant, steps, reads  # type: ignore[return-value]


def _hoist_loop(
    loop: ir.LoopNode, before: Any, norm: Normalized, env: dict[str, Fact | None]
) -> int:
    if not (
        isinstance(loop.iter, cst.Call)
        and isinstance(loop.iter.func, cst.Name)
        and loop.iter.func.value == "range"
    ):
        return 0
    variant, steps, reads = _step_parts(loop)
    slices = {}  # name -> the invariant array it is a step of
    done = 0
    for st in steps:
        if not (st.kind == ir.PRIM and st.rule is not None):
            continue
        sliced = ir.step_slice(st.expr, loop.target)  # type: ignore[arg-type]
        if sliced is not None and len(st.targets) == 1:
            if sliced not in variant and _rank(env.get(sliced)) >= 3:
                slices[st.targets[0]] = sliced
            continue
        e = st.expr
        if not (
            st.rule.name == "matmul"
            and len(st.targets) == 1
            and isinstance(e, cst.BinaryOperation)
            and isinstance(e.operator, cst.MatrixMultiply)
            and isinstance(e.left, cst.Name)
            and isinstance(e.right, cst.Name)
            and e.left.value in slices
            and (e.right.value not in variant or e.right.value in reads)
            and _rank(env.get(e.right.value)) == 2
        ):
            continue
        weight = _code(reads.get(e.right.value, e.right))
        target = st.targets[0]
        whole = norm.names.of_target("_all", target, "every:")
        before.stmts.append(
            ir.Stmt(
                kind=ir.NONDIFF,
                targets=[whole],
                expr=cst.parse_expression(f"{slices[e.left.value]} @ {weight}"),
                origin=st.origin,
                label="hoisted",
            )
        )
        st.expr = cst.parse_expression(f"{whole}[{loop.target}]")
        done += 1
    return done


_ELEMENTWISE = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)


def lift_invariant_operands(norm: Normalized, env: dict[str, Fact | None]) -> int:
    """``t = a + b`` (``-``, ``*``, ``/``) on every step of a loop, with ``b``
    loop-invariant and of fewer axes than ``a`` (shape facts), becomes ``t = a + b_row``
    with ``b_row = b[None]`` (as many ``None`` as axes missing) once before the loop.
    Broadcasting gives the same shape and values; only the ufunc's path changes.  The
    backward pass is unchanged.  Returns how many it rewrote."""
    done = 0
    for items in _lists_with_loops(norm.stmts):
        for k, loop in enumerate(items):
            if isinstance(loop, ir.LoopNode):
                before = _segment_before(items, k)
                if before is not None:
                    done += _lift_loop(loop, before, norm, env)
    return done


def _lift_loop(
    loop: ir.LoopNode, before: Any, norm: Normalized, env: dict[str, Fact | None]
) -> int:
    variant, steps, reads = _step_parts(loop)
    lifted: dict[str, str] = {}  # invariant name -> its lifted copy
    done = 0
    for st in steps:
        e = st.expr
        if not (
            st.kind == ir.PRIM
            and len(st.targets) == 1
            and isinstance(e, cst.BinaryOperation)
            and isinstance(e.operator, _ELEMENTWISE)
            and isinstance(e.left, cst.Name)
            and isinstance(e.right, cst.Name)
        ):
            continue
        for side, other in (("right", e.left), ("left", e.right)):
            b: cst.Name = getattr(e, side)
            if (
                b.value in variant and b.value not in reads
            ) or other.value not in variant:
                continue
            rb, ra = _rank(env.get(b.value)), _rank(env.get(other.value))
            if not 1 <= rb < ra:
                continue
            key = f"{b.value}:{ra - rb}"
            if key not in lifted:
                value = _code(reads.get(b.value, b))
                lifted[key] = _lifted_name(b.value, reads.get(b.value), norm)
                nones = ", ".join(["None"] * (ra - rb))
                before.stmts.append(
                    ir.Stmt(
                        kind=ir.NONDIFF,
                        targets=[lifted[key]],
                        expr=cst.parse_expression(f"{value}[{nones}]"),
                        origin=st.origin,
                        label="hoisted",
                    )
                )
            st.expr = e.with_changes(**{side: cst.Name(lifted[key])})
            done += 1
            break
    return done


def _lifted_name(name: str, read: Any, norm: Normalized) -> str:
    """``params_b_row`` for ``params["b"]``, ``b_row`` for ``b``."""
    parts: list[str] = []
    while isinstance(read, cst.Subscript):
        key = read.slice[0].slice.value  # type: ignore[attr-defined]
        parts.insert(0, str(getattr(key, "evaluated_value", "")).strip("'\""))
        read = read.value
    if isinstance(read, cst.Name) and all(p.isidentifier() for p in parts):
        return norm.names.fresh("_".join([read.value, *parts, "row"]))
    if not name.startswith("_"):
        return norm.names.fresh(f"{name}_row")
    return norm.names.of_target("_lifted", name, "lifted:row")


def drop_dead_reads(norm: Normalized, bwd_reads: set[str]) -> int:
    """Drop the container reads (``W = params["W"]``) of loop bodies that nothing reads
    any more, in the forward or the backward pass.  Returns how many it dropped."""
    reads = ir.read_counts(norm)
    dropped = 0
    for items in _lists_with_loops(norm.stmts)[1:]:  # inside a loop only
        for seg in items:
            stmts = getattr(seg, "stmts", None)
            if not isinstance(stmts, list):
                continue
            kept = [
                st
                for st in stmts
                if not (
                    isinstance(st, ir.Stmt)
                    and st.kind == ir.READ
                    and len(st.targets) == 1
                    and not reads.get(st.targets[0])
                    and st.targets[0] not in bwd_reads
                    and not st.recompute
                )
            ]
            dropped += len(stmts) - len(kept)
            seg.stmts[:] = kept
    return dropped


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _rank(fact: Fact | None) -> int:
    return -1 if fact is None or fact.dims is None else len(fact.dims)
