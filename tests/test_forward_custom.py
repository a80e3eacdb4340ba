"""``@srcgrad.custom_vjp`` functions in forward mode: their ``.defjvp`` rule is called
(tangents against central differences in float64); without one the call is refused at its
line, naming the function."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import MissingRuleError
from tests.forward import custom_functions as C


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fwd"))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


def _central(f, args: list, pos: tuple[int, ...], v: tuple, eps: float = 1e-6):
    def at(s: float):
        moved = list(args)
        for p, d in zip(pos, v):
            moved[p] = moved[p] + s * d
        return np.asarray(f(*moved))

    return (at(eps) - at(-eps)) / (2 * eps)


@pytest.mark.parametrize(
    "fn, wrt, shapes",
    [
        (C.uses_logsumexp, 0, [(3,), (4, 3)]),
        (C.uses_logsumexp, (0, 1), [(3,), (4, 3)]),
        (C.uses_scaled, 0, [(5,), (5,)]),
        (C.uses_scaled, (0, 1), [(5,), (5,)]),
        (C.uses_scaled, 1, [(5,), (5,)]),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_a_custom_vjp_function_with_a_jvp_rule(fn, wrt, shapes) -> None:
    rng = np.random.default_rng(5)
    args = [rng.standard_normal(s) for s in shapes]
    pos = (wrt,) if isinstance(wrt, int) else wrt
    v = tuple(rng.standard_normal(shapes[p]) for p in pos)
    f_jvp = srcgrad.jvp(fn, wrt)
    value, tangent = f_jvp(*args, v[0] if isinstance(wrt, int) else v)
    np.testing.assert_allclose(value, fn(*args))
    np.testing.assert_allclose(
        tangent, _central(fn, args, pos, v), rtol=1e-6, atol=1e-8
    )
    assert ".jvp(" in f_jvp.source


def test_a_custom_vjp_function_without_a_jvp_rule_is_refused_at_its_line() -> None:
    with pytest.raises(MissingRuleError, match="clipped") as err:
        srcgrad.jvp(C.uses_clipped)(np.ones(3), np.ones(3))
    assert "custom_functions.py" in str(err.value)
    assert "defjvp" in str(err.value)


@pytest.mark.parametrize(
    "fn", [C.uses_logsumexp, C.uses_scaled], ids=lambda f: f.__name__
)
def test_hvp_through_a_custom_vjp_function_differentiates_its_rule(fn) -> None:
    # forward over reverse: the gradient calls the custom rule (f.vjp), whose tangent is
    # the Hessian-vector product's
    rng = np.random.default_rng(8)
    x, second = rng.uniform(0.5, 1.5, 3), rng.uniform(0.5, 1.5, (4, 3))
    args = (x, second) if fn is C.uses_logsumexp else (x, second[0])
    v = rng.standard_normal(3)
    got = srcgrad.hvp(fn)(*args, v)
    grad, eps = srcgrad.grad(fn), 1e-6
    want = (grad(x + eps * v, args[1]) - grad(x - eps * v, args[1])) / (2 * eps)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
