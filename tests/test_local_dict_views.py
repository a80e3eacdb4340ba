"""``d.items()``, ``d.keys()`` and ``d.values()`` of a dict display built in the
function (``sum(np.sum(v) for v in p.values())``, ``{k: f(v) for k, v in p.items()}``)
were refused, though the same over a dict argument ran.  A loop over such a view runs
once per key; entries written in the body are seen by later iterations, as in Python;
a new key added while the loop runs is refused (Python raises RuntimeError)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


def values_in_a_generator(x):
    p = {"a": x, "b": 2 * x}
    return sum(np.sum(np.sin(v)) for v in p.values())


def items_loop(x):
    p = {"w": x, "v": x**2}
    t = 0.0
    for k, v in p.items():
        t = t + np.sum(np.tanh(v)) * (2.0 if k == "w" else 0.5)
    return t


def keys_loop(x):
    p = {"a": x, "b": np.exp(x)}
    t = 0.0
    for k in p.keys():
        t = t + np.sum(p[k] ** 2)
    return t


def entries_updated_while_iterating(x):
    p = {"a": x, "b": 2 * x}
    for k, v in p.items():
        p[k] = np.sin(v) * 2
    return p["a"].sum() + 3 * p["b"].sum()


def for_key_in_dict_updates(x):
    p = {"a": x, "b": 2 * x}
    for k in p:
        p[k] = p[k] ** 2
    return sum(np.sum(v) for v in p.values())


def later_iteration_sees_earlier_write(x):
    p = {"a": x, "b": 2 * x}
    for k in p:
        p["b"] = p["b"] * p[k]
    return np.sum(p["b"])


def dict_comprehension_over_items(x):
    p = {"a": x, "b": 2 * x}
    q = {k: np.tanh(v) for k, v in p.items()}
    return np.sum(q["a"] * q["b"])


CASES = [
    values_in_a_generator,
    items_loop,
    keys_loop,
    entries_updated_while_iterating,
    for_key_in_dict_updates,
    later_iteration_sees_earlier_write,
    dict_comprehension_over_items,
]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_gradient_and_value(f):
    x = np.array([0.3, -0.5, 0.8])
    check_grad(f, x)
    value, _ = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)


def _new_key(x):
    p = {"a": x, "b": 2 * x}
    for k in p:
        p[k + "_sq"] = p[k] ** 2
    return p["a"].sum()


def _new_key__followed(x):
    p = {"a": x, "b": 2 * x}
    q = {}
    for k in p:
        q[k + "_sq"] = p[k] ** 2
    return p["a"].sum() + q["b_sq"].sum()


def test_a_key_added_while_iterating_is_refused_with_a_hint_that_works():
    x = np.array([0.3, -0.5, 0.8])
    with pytest.raises(RuntimeError):
        _new_key(x)  # what Python does
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(_new_key)(x)
    assert "test_local_dict_views.py:" in str(info.value)
    assert "another dict" in str(info.value)
    check_grad(_new_key__followed, x)
