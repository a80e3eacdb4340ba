"""Forward mode reads each rule's JVP declaration (``jvp=`` on the adjoint, or a function
attached with ``jvp_of``): the declarations' facts, and the calls whose constants shift the
result (an offset's tangent is 0, never the offset itself)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import tangents
from srcgrad.rules.registry import JVP_KINDS, all_rules, lookup_name
from tests.forward import offset_functions as O


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fwd"))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


def test_every_declaration_is_a_kind_or_a_function_next_to_its_adjoint() -> None:
    for rule in all_rules():
        jvp = rule.jvp
        if jvp is None or isinstance(jvp, str):
            assert jvp in (None, *JVP_KINDS), rule.name
            continue
        # written in the adjoint's own module
        assert jvp.__module__ == rule.adjoint.__module__, rule.name


def test_a_same_as_rule_takes_the_jvp_of_the_rule_it_names() -> None:
    amax, amin = lookup_name("amax"), lookup_name("amin")
    assert amax is not None and amin is not None
    assert tangents.how(amax) == tangents.how(lookup_name("max")) == "reduction"


@pytest.mark.parametrize(
    "fn",
    [O.diff_prepended, O.padded, O.summed_from, O.selected],
    ids=lambda f: f.__name__,
)
def test_an_offset_has_a_zero_tangent(fn) -> None:
    rng = np.random.default_rng(3)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    value, tangent = srcgrad.jvp(fn)(x, v)
    eps = 1e-6
    want = (fn(x + eps * v) - fn(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(value, fn(x))
    np.testing.assert_allclose(tangent, want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_moves_with_its_spacings(edge_order: int) -> None:
    # np.gradient's spacings are operands (their part of the tangent is a complex step)
    rule = lookup_name("gradient")
    assert rule is not None
    jvp = tangents.jvp_rule(rule)
    rng = np.random.default_rng(4)
    f = rng.standard_normal((5, 6))
    x, y = np.cumsum(rng.uniform(0.5, 1.5, 5)), np.cumsum(rng.uniform(0.5, 1.5, 6))
    t_f, t_x = rng.standard_normal(f.shape), rng.standard_normal(5)
    for steps, t_steps in [((x, y), (t_x, None)), ((0.7,), (0.3,))]:
        b = {"f": f, "varargs": steps, "edge_order": edge_order}
        got = jvp(np.gradient(f, *steps, edge_order=edge_order), (t_f, t_steps), b)

        def at(s: float) -> list:
            moved = [
                np.asarray(a) + (0.0 if t is None else s * np.asarray(t))
                for a, t in zip(steps, t_steps)
            ]
            out = np.gradient(f + s * t_f, *moved, edge_order=edge_order)
            return list(out) if isinstance(out, (list, tuple)) else [out]

        eps = 1e-6
        want = [(h - lo) / (2 * eps) for h, lo in zip(at(eps), at(-eps))]
        got = list(got) if isinstance(got, (list, tuple)) else [got]
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
