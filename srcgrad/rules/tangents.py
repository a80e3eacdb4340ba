"""Tangent rules (JVPs) for forward mode: what a rule's ``jvp`` declaration means.

Each rule declares its JVP with its adjoint, in its rules file (``jvp=`` on
:func:`~srcgrad.rules.registry.adjoint`, or a function attached with
:func:`~srcgrad.rules.registry.jvp_of`); this module interprets the declarations.  A JVP
takes ``(ans, dots, b)``: the primitive's result, one tangent per differentiable operand of
its rule (in ``rule.operands`` order; ``None`` for an operand that carries none, a sequence
of tangents for a sequence or ``*varargs`` operand) and the call's arguments bound to the
rule's parameter names.  It returns the tangent of the result (a list of tangents for a
``multi_output`` rule).

* ``elementwise`` (the default of a single-output rule of kind ``"unary"``/``"binary"``):
  the Jacobian for each operand is diagonal once the operands are broadcast to the result's
  shape, so the JVP is the adjoint itself, called with each tangent as the cotangent:
  ``sum_i adjoint(t_i, ans, *broadcast operands)[i]``.
* ``linear``: the same primitive applied to the tangents.  The parameters a rule lists in
  ``offsets`` add a constant (``np.sum``'s ``initial``): their tangent is zero.
* ``multilinear``: the sum, over the operands that carry a tangent, of the primitive with
  that operand replaced by its tangent.
* ``reduction``: each input element feeds exactly one output element, over ``axis`` (over
  the last two axes for a matrix function without an ``axis``: det, matrix norms): the
  adjoint with a cotangent of ones gives every input's partial derivative, and the JVP sums
  ``partials * tangent`` over the reduced axes.
* a function: the JVP written out next to the adjoint (linear algebra, softmax, sort, ...).

A rule with none of these has no JVP: forward mode refuses it (:func:`jvp_rule` raises),
never computing a wrong tangent.  The runtime helpers that emitted gradient modules call
get theirs from :mod:`srcgrad.rules.tangent_helpers` (what :func:`srcgrad.hvp` reads).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from srcgrad.errors import MissingRuleError
from srcgrad.rules.registry import JVP_KINDS, Rule, all_rules, lookup_name
from srcgrad.rules.tangent_calls import (  # noqa: F401  (zero_tangent: emitted code's)
    Jvp,
    _filled,
    call,
    call_adjoint,
    tangent_at,
    zero_tangent,
)
from srcgrad.rules.tangent_helpers import has_jvp, helper_jvp, helper_rule


def declared(rule: Rule) -> str | Callable[..., Any] | None:
    """``rule``'s JVP declaration: its own, else that of the rule it is the same as, else
    ``"elementwise"`` for a single-output rule of kind ``"unary"``/``"binary"``."""
    if rule.jvp is not None:
        return rule.jvp
    same = lookup_name(rule.same_as) if rule.same_as else None
    if same is not None and same.jvp is not None:
        return same.jvp
    if rule.kind in ("unary", "binary") and not rule.multi_output:
        return "elementwise"
    return None


def how(rule: Rule) -> str | None:
    """How ``rule``'s JVP is declared: ``"elementwise"``, ``"linear"``, ``"multilinear"``,
    ``"reduction"``, ``"explicit"`` (a function), ``"helper"`` (a runtime helper's, from
    :mod:`srcgrad.rules.tangent_helpers`), or None where it has none."""
    if rule.extra.get("custom"):
        return None
    if rule.extra.get("forward_only"):  # a runtime helper's (rules/tangent_helpers.py)
        return "helper" if has_jvp(rule) else None
    got = declared(rule)
    if got is None:
        return None
    return got if isinstance(got, str) else "explicit"


def is_helper_rule(rule: Rule) -> bool:
    """Whether ``rule`` is the reverse-mode rule of a runtime helper that emitted gradient
    modules call (for higher orders): forward mode reads such a helper through
    :mod:`srcgrad.rules.tangent_helpers`, so it needs no JVP of its own."""
    prim = rule.primitive
    module = getattr(prim, "__module__", None) or ""
    own_name = rule.name == getattr(prim, "__name__", None)
    return (
        module.startswith("srcgrad.runtime") and own_name
    ) or rule.module.startswith("srcgrad.rules.helpers_")


def without_jvp() -> list[str]:
    """The registered rules forward mode refuses (no JVP declared), runtime helpers'
    reverse-mode rules left out (:func:`is_helper_rule`)."""
    return [r.name for r in all_rules() if how(r) is None and not is_helper_rule(r)]


def linear_names() -> frozenset[str]:
    """The names of the rules declared linear."""
    return frozenset(r.name for r in all_rules() if how(r) == "linear")


def jvp_rule(rule: Rule) -> Jvp:
    """The JVP of ``rule`` (see the module docstring); raises where it has none."""
    kind = how(rule)
    if kind is None:
        raise MissingRuleError(
            f"{rule.name} has no tangent rule (JVP): forward mode cannot differentiate it",
            construct=rule.name,
            hint="differentiate this function in reverse mode (srcgrad.grad, "
            "jacobian(mode='rev')), or rewrite the call with primitives that have JVPs",
        )
    if kind == "helper":
        return helper_jvp(rule)
    if kind == "explicit":
        return declared(rule)  # type: ignore[return-value]
    return {
        "elementwise": _elementwise,
        "linear": _linear,
        "multilinear": _multilinear,
        "reduction": _reduction,
    }[kind](rule)


def jvp_by_name(name: str) -> Callable[..., Any]:
    """The JVP of the rule registered as ``name``, called as ``jvp(ans, dots, **bound)``
    (what emitted forward modules call)."""
    helper = helper_rule(name)
    if helper is not None and has_jvp(helper):
        rule = helper  # a runtime helper: its JVP (also where it has a reverse rule)
    else:
        rule = lookup_name(name) or helper
    if rule is None:
        raise MissingRuleError(f"no rule named {name}", construct=name)
    fn = jvp_rule(rule)

    def jvp(ans: Any, dots: tuple[Any, ...], /, **b: Any) -> Any:
        return fn(ans, dots, b)

    jvp.__name__ = jvp.__qualname__ = "jvp_" + name.replace(".", "_")
    return jvp


_CALLEES: dict[tuple[Any, tuple[str, ...]], Any] = {}
# srcgrad.jvp, installed by srcgrad.forward when it loads: the rules sit below the API and
# do not import it, and emitted forward modules (call_jvp's only caller) run after it
_make_jvp: Callable[..., Any] | None = None


def install_jvp(make_jvp: Callable[..., Any]) -> None:
    """Give :func:`call_jvp` the API's ``jvp`` (called once, by :mod:`srcgrad.forward`)."""
    global _make_jvp
    _make_jvp = make_jvp


def call_jvp(
    fn: Any, wrt: tuple[str, ...], args: tuple[Any, ...], dots: tuple[Any, ...]
) -> tuple[Any, Any]:
    """``fn(*args)`` and its tangent along ``dots`` w.r.t. its parameters ``wrt`` (a
    recursive call in an emitted forward module): the callee's own forward-mode module,
    made once per (function, wrt) pair."""
    key = (fn.__code__, wrt)
    got = _CALLEES.get(key)
    if got is None:
        assert _make_jvp is not None, "srcgrad.forward installs it when it is imported"
        got = _CALLEES.setdefault(
            key, _make_jvp(fn, wrt=wrt if len(wrt) > 1 else wrt[0])
        )
    return got(*args, dots if len(wrt) > 1 else dots[0])


def _active(dot: Any) -> bool:
    if dot is None:
        return False
    if isinstance(dot, (list, tuple)):
        return any(_active(d) for d in dot)
    return True


def _elementwise(rule: Rule) -> Jvp:
    ops = rule.operands

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        shape = np.shape(ans)
        bb = dict(b)
        for p in ops:
            if p in bb and bb[p] is not None:
                bb[p] = np.broadcast_to(bb[p], shape)
        out = None
        for k, (p, dot) in enumerate(zip(ops, dots)):
            if dot is None:
                continue
            t = np.broadcast_to(dot, shape)
            got = call_adjoint(rule, t, ans, bb)
            part = got if len(ops) == 1 else got[k]
            if part is None:
                continue
            out = part if out is None else out + part
        return zero_tangent(ans) if out is None else out

    return jvp


def _linear(rule: Rule) -> Jvp:
    ops = rule.operands
    offsets = tuple(rule.extra.get("offsets", ()))

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        bb = dict(b)
        for p, dot in zip(ops, dots):
            if p in bb:
                bb[p] = _filled(b[p], dot)
        for p in offsets:  # they add a constant: their tangent is 0
            value = bb.get(p)
            if value is not None and value is not np._NoValue:
                bb[p] = np.zeros(np.shape(value))
        return call(rule, bb)

    return jvp


def _multilinear(rule: Rule) -> Jvp:
    ops = rule.operands
    seq = set(rule.sequence) | ({rule.varargs} if rule.varargs else set())

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        out = None
        for p, dot in zip(ops, dots):
            if not _active(dot):
                continue
            if p in seq:
                for k, d in enumerate(dot):
                    if d is None:
                        continue
                    items = list(b[p])
                    items[k] = d
                    part = call(rule, {**b, p: type(b[p])(items)})
                    out = part if out is None else out + part
                continue
            part = call(rule, {**b, p: dot})
            out = part if out is None else out + part
        return zero_tangent(ans) if out is None else out

    return jvp


def _reduction(rule: Rule) -> Jvp:
    matrix = "axis" not in rule.params  # det, matrix norms: the last two axes

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        if np.ndim(b.get("q", 0)) > 0:  # several quantiles: a new leading axis
            raise MissingRuleError(
                f"{rule.name} of several q has no tangent rule", construct=rule.name
            )
        (dot,) = dots[:1]
        if dot is None:
            return zero_tangent(ans)
        ones = np.ones_like(np.asarray(ans, dtype=np.result_type(ans, np.float64)))
        got = call_adjoint(rule, ones, ans, b)
        w = got if len(rule.operands) == 1 else got[0]
        axis = (-2, -1) if matrix else b.get("axis")
        keep = b.get("keepdims", False)
        return np.sum(w * dot, axis=axis, keepdims=bool(keep))

    return jvp


def check_declarations() -> None:
    """Every rule's ``jvp`` declaration is one :mod:`srcgrad.rules.tangents` knows, and
    every ``offsets`` entry names a parameter of a linear rule."""
    for r in all_rules():
        if isinstance(r.jvp, str) and r.jvp not in JVP_KINDS:
            raise ValueError(f"{r.name}: jvp {r.jvp!r} is none of {JVP_KINDS}")
        if r.jvp is not None and not isinstance(r.jvp, str) and not callable(r.jvp):
            raise ValueError(f"{r.name}: jvp {r.jvp!r} is no function")
        offsets = set(r.extra.get("offsets", ()))
        if offsets and (how(r) != "linear" or not offsets <= set(r.params)):
            raise ValueError(
                f"{r.name}: offsets {sorted(offsets)} of a non-linear rule"
            )
