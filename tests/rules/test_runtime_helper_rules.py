"""Every runtime helper that emitted code can call has its own rule, or is declared
non-differentiable with a reason, so that srcgrad can differentiate what it emits
(higher order).  The rules' gradients are checked against central differences in float64
with every other rule (tests/rules/test_rules.py builds its cases from the registry).

The helpers emitted code can call: those a rule body reads (a rule body is inlined into
emitted code) and those the generator writes itself (named in srcgrad/codegen).  The ones
without a rule yet are listed in NOT_YET, exactly: at a higher order, emitted code that
calls one is refused by name (construct ``runtime-helper``), never inlined.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import pytest

import srcgrad.runtime as runtime
from srcgrad.rules import registry

CODEGEN = Path(runtime.__file__).resolve().parent.parent / "codegen"

# helpers without a rule yet (each refused by name at a higher order).  The structural
# one needs more than a rule: tree_cotangent's parts are a dict keyed by path tuples
# (and its result a container, not one array).
NOT_YET = frozenset("""
    tree_cotangent
    cov_cotangents strided_cotangent
    """.split())


# runtime names that are not values emitted code computes with
NOT_CALLED = {"shape_only"}  # a decorator of helpers: marks which arguments are shapes
# helpers only first-order code calls: the module a higher order differentiates is emitted
# without them (``GradFunction.lists_only``: a loop's sums over steps kept in lists;
# ``GradFunction.variant("_recompute")``: a recursive call is a plain call, its backward a
# call of the callee's recomputing gradient, not call_vjp's pullback, a closure; see
# srcgrad/recompute.py and tests/test_higher_order_recursion.py)
FIRST_ORDER_ONLY = {"step_sum", "call_vjp"}


def _callable_helpers() -> dict[str, object]:
    return {
        n: getattr(runtime, n)
        for n in runtime.__all__
        if callable(getattr(runtime, n))
        and not isinstance(getattr(runtime, n), type)
        and n not in NOT_CALLED | FIRST_ORDER_ONLY
    }


def _read_by_rule_bodies(helpers: dict[str, object]) -> set[str]:
    found: set[str] = set()
    for rule in registry.all_rules():
        try:
            src = textwrap.dedent(inspect.getsource(rule.adjoint))
        except (OSError, TypeError):
            continue
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name) and node.id in helpers:
                g = rule.adjoint.__globals__.get(node.id)
                if g is helpers[node.id]:
                    found.add(node.id)
    return found


def _written_by_codegen(helpers: dict[str, object]) -> set[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in CODEGEN.rglob("*.py"))
    # a name, not an attribute or a method of codegen's own (``self.as_array``)
    return {n for n in helpers if re.search(rf"(?<![.\w])(?<!def ){n}\b", text)}


RULES = CODEGEN.parent / "rules"
HELPERS = _callable_helpers()
CALLED = sorted(_read_by_rule_bodies(HELPERS) | _written_by_codegen(HELPERS))


def _covered(name: str) -> bool:
    obj = HELPERS[name]
    if registry.lookup(obj) is not None:
        return True
    return registry.is_nondiff(obj) and bool(registry.nondiff_reason(obj))


def test_the_enumeration_finds_what_emitted_code_calls() -> None:
    # the helpers every emitted gradient imports, and ones only rule bodies read
    assert {"unbroadcast", "expand_like", "namespace", "shape_dtype"} <= set(CALLED)
    assert {"matmul_cotangent_x1", "digamma", "zeros_cotangent"} <= set(CALLED)


@pytest.mark.parametrize("name", CALLED)
def test_every_helper_emitted_code_calls_has_a_rule(name: str) -> None:
    if name in NOT_YET:
        assert not _covered(name), f"{name} has a rule now: take it out of NOT_YET"
        pytest.xfail(f"{name} has no rule yet (refused by name at a higher order)")
    assert _covered(name), (
        f"{name} is called by emitted code but has no rule and is not declared "
        "non-differentiable with a reason (nondifferentiable(..., reason=...))"
    )


def _named_in_rules_source(helpers: dict[str, object]) -> set[str]:
    """Helpers a rules file names: also those of rules this numpy does not register
    (numpy 2's ``matrix_norm``, ``vecdot``, ``cumulative_sum`` on numpy 1.26)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in RULES.glob("*.py"))
    return {n for n in helpers if re.search(rf"\b{n}\b", text)}


def test_not_yet_lists_only_helpers_emitted_code_calls() -> None:
    known = set(CALLED) | _named_in_rules_source(HELPERS)
    assert NOT_YET <= known, sorted(NOT_YET - known)


def test_forward_mode_puts_every_helper_rule_back() -> None:
    # forward mode swaps the helpers' rules for ones with JVPs while it reads a module; a
    # rule that is an alias (add_at's primitive is another function) must come back under
    # the helper's own key, or a later higher order refuses the helper as rule-less
    from srcgrad.rules import tangent_helpers

    before = {n: registry.lookup(HELPERS[n]) for n in CALLED}
    names = dict(registry._BY_NAME)
    with tangent_helpers.helper_rules():
        pass
    assert {n: registry.lookup(HELPERS[n]) for n in CALLED} == before
    assert registry._BY_NAME == names
    assert registry.lookup(runtime.add_at) is not None
