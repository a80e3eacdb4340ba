"""JVPs of the runtime helpers that emitted gradient modules call (forward over reverse,
srcgrad/rules/tangent_helpers.py), against central differences in float64."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
from scipy.special import logsumexp

from srcgrad import runtime as rt
from srcgrad.errors import MissingRuleError
from srcgrad.rules import tangent_helpers, tangents

EPS = 1e-6
R = np.random.default_rng(11)
r = R.standard_normal


def _a() -> np.ndarray:
    return r((3, 4))


def _lse() -> dict[str, Any]:
    a = r((3, 4))
    return {"g": r(3), "a": a, "ans": logsumexp(a, axis=1), "axis": 1}


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "matmul_cotangent_x1": lambda: {"g": r((3, 5)), "x1": r((3, 4)), "x2": r((4, 5))},
    "matmul_cotangent_x2": lambda: {"g": r((3, 5)), "x1": r((3, 4)), "x2": r((4, 5))},
    "dot_cotangent_a": lambda: {"g": r((3, 5)), "a": r((3, 4)), "b": r((4, 5))},
    "dot_cotangent_b": lambda: {"g": r((3, 5)), "a": r((3, 4)), "b": r((4, 5))},
    "inner_cotangent_a": lambda: {"g": r((3, 5)), "a": r((3, 4)), "b": r((5, 4))},
    "expand_to": lambda: {"g": r(4), "like": r((3, 4))},
    "reshape_like": lambda: {"g": r(12), "a": r((3, 4))},
    "add_at": lambda: {"d": r(5), "key": np.array([0, 2, 2]), "g": r(3)},
    "logsumexp_cotangent": _lse,
}


def _dependent(name: str, b: dict[str, Any], dots: dict[str, Any], s: float) -> dict:
    """The arguments moved by ``s`` along ``dots`` (``ans`` moves with ``a``)."""
    out = {k: (v + s * dots[k] if k in dots else v) for k, v in b.items()}
    if name == "logsumexp_cotangent":
        out["ans"] = logsumexp(out["a"], axis=b["axis"])
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_helper_jvp_matches_central_differences(name: str) -> None:
    rule = tangent_helpers.helper_rule(name)
    assert rule is not None and tangents.how(rule) == "helper"
    b = CASES[name]()
    dots = {p: r(np.shape(b[p])) for p in rule.operands if np.ndim(b[p]) and p != "key"}
    if name == "logsumexp_cotangent":
        sm = np.exp(b["a"] - b["ans"][:, None])
        dots["ans"] = np.sum(sm * dots["a"], axis=1)
    fn = getattr(rt, name)
    ans = fn(
        **{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in b.items()}
    )
    # add_at adds in place, into its tangent too (as into d): give it copies
    moved = tuple(
        None if dots.get(p) is None else np.array(dots[p]) for p in rule.operands
    )
    got = tangents.jvp_rule(rule)(ans, moved, dict(b))
    hi = fn(**_dependent(name, b, dots, EPS))
    lo = fn(**_dependent(name, b, dots, -EPS))
    np.testing.assert_allclose(got, (hi - lo) / (2 * EPS), rtol=1e-6, atol=1e-7)


def test_a_helper_without_jvp_refuses_by_name() -> None:
    rule = tangent_helpers.helper_rule("prod_others")
    assert rule is not None
    with pytest.raises(MissingRuleError, match="prod_others"):
        tangents.jvp_rule(rule)


def test_helper_rules_leave_the_registry_as_it_was() -> None:
    from srcgrad.rules import registry

    before = (registry.GENERATION, dict(registry._BY_NAME))
    own = registry.lookup(rt.matmul_cotangent_x1)  # its reverse rule (higher orders)
    with tangent_helpers.helper_rules():
        inside = registry.lookup(rt.matmul_cotangent_x1)
        assert inside is not None and inside is not own
        assert inside.extra.get("forward_only")
    assert registry.lookup(rt.matmul_cotangent_x1) is own
    assert (registry.GENERATION, dict(registry._BY_NAME)) == before


def _gate_slices(x, W):
    z = x @ W
    a, b, c = z[:, :2], z[:, 2:4], z[:, 4:]
    return np.sum(np.tanh(a) * np.sin(b) + c**3)


def test_hvp_through_the_gradient_of_several_slices_of_one_value(tmp_path, monkeypatch):
    """The gradient of slices read from one value joins their cotangents with
    ``scatter_pieces``; forward over reverse reads it through its JVP (it was refused).
    """
    import srcgrad

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(3, 4)), rng.normal(size=(4, 6)) * 0.5
    assert "scatter_pieces" in srcgrad.grad(_gate_slices, wrt=1).source
    v = rng.normal(size=W.shape)
    h = srcgrad.hvp(_gate_slices, wrt=1)(x, W, v)
    g, eps = srcgrad.grad(_gate_slices, wrt=1), 1e-6
    fd = (g(x, W + eps * v) - g(x, W - eps * v)) / (2 * eps)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
