"""Stage 6: activity analysis.

After this stage every name is classified (:class:`Activity`): a name is *active* when it
depends on a ``wrt`` argument (varied) and reaches the output (useful).  Only active names get
adjoints.  The two propagations run over every statement of the nested body, branches and
loops included, and repeat until nothing changes: a loop's back edge (its carried names) can
make a statement active that an earlier sweep saw as inactive.

It also refuses a differentiated value in a parameter a rule treats as constant, and warns
for each ``wrt`` argument whose gradient is structurally zero.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Normalized
from srcgrad.codegen.normalize.randomness import draw_refusal
from srcgrad.errors import SrcgradError, UnsupportedSyntaxError


@dataclass(frozen=True)
class Activity:
    """Which names depend on ``wrt`` (varied), reach the output (useful), or both (active)."""

    varied: frozenset[str]
    useful: frozenset[str]
    active: frozenset[str]

    def pullback_wrt(self, st: ir.Stmt) -> list[str]:
        """The parameters of a recursive call (``call_vjp``) whose cotangents the backward
        asks for: those bound to varied names."""
        return [
            n
            for n, v in st.bound.items()
            if isinstance(v, cst.Name) and v.value in self.varied
        ]


def analyse(norm: Normalized) -> Activity:
    """The activity of ``norm``'s names (see the module docstring)."""
    flows = [
        f for f in (ir.flow_of(it) for it in ir.walk_stmts(norm.stmts)) if f is not None
    ]
    varied = _closure(set(norm.wrt), flows, forward=True)
    out = norm.out
    useful = _closure(
        {out.value} if isinstance(out, cst.Name) else set(), flows, forward=False
    )
    _check_constant_parameters(norm, varied, useful)
    _check_random_draws(norm, varied)
    active = varied & useful
    _warn_zero_gradients(norm, active, flows)
    return Activity(frozenset(varied), frozenset(useful), frozenset(active))


def _closure(seeds: set[str], flows: list, forward: bool) -> set[str]:
    """Names reached from ``seeds`` along the flows (operands to targets, or back), to a
    fixed point: a loop's back edge may add to what an earlier sweep saw."""
    reached = set(seeds)
    changed = True
    while changed:
        changed = False
        for targets, operands in flows:
            src, dst = (operands, targets) if forward else (targets, operands)
            if any(n in reached for n in src) and not all(n in reached for n in dst):
                reached.update(dst)
                changed = True
    return reached


class ZeroGradientWarning(UserWarning):
    """A ``wrt`` argument whose gradient is structurally zero."""


def _warn_zero_gradients(norm: Normalized, active: set[str], flows: list) -> None:
    """Warn (at generation time) for each wrt argument that cannot reach the output, naming
    the line that cuts it off when a value made from it is used without a gradient."""
    src = norm.src
    for p in norm.wrt:
        if p in active or p in norm.containers:
            continue
        reach = _closure({p}, flows, forward=True)  # names that carry p's value
        cut = None
        for st in ir.walk_stmts(norm.stmts):
            if (
                isinstance(st, ir.Stmt)
                and st.kind in (ir.NONDIFF, ir.STATIC, ir.STOP)
                and st.expr is not None
            ):
                used = {n.value for n in _names(st.expr)}
                if used & reach:
                    cut = st.origin
                    break
        file, line, col = src.where(src.tree.name)
        if cut is not None:
            msg = (
                f"{cut.file}:{cut.line}:{cut.col}: warning: the gradient w.r.t. {p!r} is "
                f"structurally zero: it reaches the output only through `{cut.text}`, "
                "which carries no gradient (comparison, floor, integer cast or stop_gradient)"
            )
        else:
            msg = (
                f"{file}:{line}:{col}: warning: the gradient w.r.t. {p!r} is structurally "
                f"zero: {p} never reaches the output"
            )
        warnings.warn(ZeroGradientWarning(msg), stacklevel=2)


def _names(node: cst.CSTNode) -> list[cst.Name]:
    return [n for n in m.findall(node, m.Name()) if isinstance(n, cst.Name)]


def _constant_parameter_hint(rule: Any, param: str, wrapped: str) -> str:
    """The hint for a differentiated value in a constant parameter: the rule's own way to
    write it (``constant_hints``, e.g. ``logsumexp``'s ``b``), else ``stop_gradient``.
    """
    own = rule.extra.get("constant_hints", {}).get(param)
    if own is not None:
        return f"{own}; or wrap it in {wrapped} if no gradient should flow through it"
    return (
        f"wrap it in {wrapped} if no gradient should flow through it, or use "
        "differentiable primitives (e.g. np.minimum/np.maximum instead of clip bounds)"
    )


def _check_random_draws(norm: Normalized, varied: set[str]) -> None:
    """A random draw whose arguments (kept in its ``bound``) depend on a differentiated
    input: the sample would depend on it, with no gradient srcgrad could give."""
    findings = []
    for st in ir.walk_stmts(norm.stmts):
        if not isinstance(st, ir.Stmt) or st.label != "random draw" or not st.bound:
            continue
        for argument, v in st.bound.items():
            if any(n.value in varied for n in _names(v)):
                func = st.expr.func if isinstance(st.expr, cst.Call) else None
                method = func.attr.value if isinstance(func, cst.Attribute) else "draw"
                message, hint = draw_refusal(method, argument)
                o = st.origin
                findings.append(
                    UnsupportedSyntaxError(
                        message,
                        filename=o.file,
                        lineno=o.line,
                        col=o.col,
                        construct="random",
                        hint=hint,
                    )
                )
                break
    if findings:
        raise SrcgradError.bundle(findings)


def _check_constant_parameters(
    norm: Normalized, varied: set[str], useful: set[str]
) -> None:
    """A differentiated value in a parameter that a rule treats as constant (``clip``'s
    bounds, ``reshape``'s shape) would silently get a zero gradient: refuse it."""
    findings = []
    for st in ir.walk_stmts(norm.stmts):
        if not isinstance(st, ir.Stmt) or st.kind != ir.PRIM or st.rule is None:
            continue
        if not any(t in useful for t in st.targets):
            continue
        rule = st.rule
        slots = set(rule.operands) | ({rule.varargs} if rule.varargs else set())
        slots |= set(rule.extra.get("shape_only", ()))  # only its shape is read
        for p, v in st.bound.items():
            if p in slots:
                continue
            vals = (
                [e.value for e in v.elements]
                if isinstance(v, (cst.Tuple, cst.List))
                else [v]
            )
            bad = [
                a.value for a in vals if isinstance(a, cst.Name) and a.value in varied
            ]
            if bad:
                o = st.origin
                shown = norm.names.user_name(bad[0])
                wrapped = f"srcgrad.stop_gradient({shown or '...'})"
                findings.append(
                    UnsupportedSyntaxError(
                        f"argument {p!r} of {rule.name} depends on a differentiated input, "
                        f"but {rule.name}'s rule treats {p!r} as a constant",
                        filename=o.file,
                        lineno=o.line,
                        col=o.col,
                        construct=f"{rule.name}:{p}",
                        hint=_constant_parameter_hint(rule, p, wrapped),
                    )
                )
    if findings:
        raise SrcgradError.bundle(findings)
