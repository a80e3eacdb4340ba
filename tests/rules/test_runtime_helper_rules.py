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

# helpers without a rule yet (each refused by name at a higher order): none left
NOT_YET: frozenset[str] = frozenset("""
    """.split())


# runtime names that are not values emitted code computes with
NOT_CALLED = {"shape_only"}  # a decorator of helpers: marks which arguments are shapes
# helpers only first-order code calls: the module a higher order differentiates is emitted
# without them (``GradFunction.lists_only``: a loop's sums over steps kept in lists;
# ``GradFunction.variant("_recompute")``: a recursive call is a plain call, its backward a
# call of the callee's recomputing gradient, not call_vjp's pullback, a closure; see
# srcgrad/recompute.py and tests/test_higher_order_recursion.py); ``assume_not_one``, the
# check of a slice length the code was specialised to (``GradFunction.variant("_general")``,
# tests/test_speculated_lengths.py)
FIRST_ORDER_ONLY = {"step_sum", "call_vjp", "assume_not_one"}


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


def test_tree_cotangent_and_tree_parts_are_adjoint_on_dicts() -> None:
    # the rule cases (tests/rules/test_rules.py) can only build flat lists; the two
    # helpers' rules read any container: <ct, tree_cotangent(x, paths, v)> is
    # sum_i <tree_parts(ct, x, paths)[i], v_i>, checked on a nested dict against central
    # differences in v (float64), with unread leaves and a non-float leaf
    import numpy as np

    from srcgrad import tree

    rng = np.random.default_rng(7)
    x = {"a": np.ones((2, 3)), "b": [np.ones(4), np.ones(())], "n": 3}
    paths = (("b", 0), ("a",))
    ct = {
        "a": rng.standard_normal((2, 3)),
        "b": [rng.standard_normal(4), None],
        "n": None,
    }
    values = [rng.standard_normal(4), rng.standard_normal((2, 3))]

    def pairing(vs: list) -> float:
        out = runtime.tree_cotangent(x, paths, vs)
        assert out["n"] is None and np.array_equal(out["b"][1], np.zeros(()))
        return sum(
            float(np.sum(tree.get(ct, p) * tree.get(out, p)))
            for p in (("a",), ("b", 0))
        )

    rule = registry.lookup(runtime.tree_cotangent)
    got = rule.adjoint(ct, runtime.tree_cotangent(x, paths, values), x, paths, values)
    eps = 1e-6
    for i, v in enumerate(values):
        for k in np.ndindex(v.shape):
            up = [w.copy() for w in values]
            down = [w.copy() for w in values]
            up[i][k] += eps
            down[i][k] -= eps
            want = (pairing(up) - pairing(down)) / (2 * eps)
            assert abs(got[i][k] - want) < 1e-6, (i, k, got[i][k], want)
    # and back: tree_parts' rule puts the parts where they were read, zeros elsewhere
    back = registry.lookup(runtime.tree_parts).adjoint(got, None, ct, x, paths)
    assert np.array_equal(back["a"], ct["a"]) and np.array_equal(
        back["b"][0], ct["b"][0]
    )
    assert np.array_equal(back["b"][1], np.zeros(())) and back["n"] is None


@pytest.mark.parametrize("y_given", [True, False], ids=["y", "no-y"])
@pytest.mark.parametrize("name", ["cov_cotangents", "cov_cross"])
def test_cov_helper_jvps_match_central_differences(name: str, y_given: bool) -> None:
    # the JVPs forward over reverse reads (srcgrad/rules/tangent_helpers.py): cov_cotangents
    # linear in g and in (m, y) jointly, cov_cross bilinear in (m, y) and (h_m, h_y);
    # cov_cross's is reached only at a third order, so it is checked here directly
    import numpy as np

    from srcgrad.rules import tangent_helpers

    rng = np.random.default_rng(3)
    k = 3 if y_given else 2
    values = {
        "g": rng.standard_normal((k, k)),
        "ct": rng.standard_normal((k, k)),
        "m": rng.standard_normal((6, 2)),
        "y": rng.standard_normal(6) if y_given else None,
        "h_m": rng.standard_normal((6, 2)),
        "h_y": rng.standard_normal(6) if y_given else None,
        "rowvar": False,
        "bias": False,
        "ddof": None,
    }
    rule = tangent_helpers.helper_rule(name)
    b = {p: values[p] for p in rule.params}
    moving = [p for p in rule.operands if isinstance(b[p], np.ndarray)]
    t = {p: rng.standard_normal(b[p].shape) for p in moving}
    dots = tuple(t.get(p) for p in rule.operands)
    ans = rule.primitive(**b)
    got = tangent_helpers.helper_jvp(rule)(ans, dots, b)
    eps = 1e-6
    up = rule.primitive(**{**b, **{p: b[p] + eps * t[p] for p in moving}})
    down = rule.primitive(**{**b, **{p: b[p] - eps * t[p] for p in moving}})
    pairs = zip(got, up, down) if isinstance(ans, tuple) else [(got, up, down)]
    for have, u, d in pairs:
        if u is None:
            assert have is None
            continue
        np.testing.assert_allclose(have, (u - d) / (2 * eps), rtol=1e-6, atol=1e-8)
