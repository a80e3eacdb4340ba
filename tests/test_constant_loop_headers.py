"""A loop over a module-level or closure constant through ``enumerate`` stopped with
"name 'c' is not defined" (the pair was never unpacked into the loop's names).  Every
header form over constants the function does not bind itself is checked here against
central differences (tests/trust/constant_loop_headers_src.py)."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import constant_loop_headers_src as S

ONE_ARG = [
    "plain",
    "enumerate_tuple",
    "enumerate_list",
    "enumerate_array",
    "enumerate_start",
    "unpacked_pairs",
    "zip_two_globals",
    "reversed_global",
    "enumerate_reversed",
    "enumerate_pairs_indexed",
    "closure_enumerate",
    "recurrence_over_enumerate",
]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("name", ONE_ARG)
def test_gradient_matches_differences(name):
    f = getattr(S, name)
    x = np.random.default_rng(0).uniform(0.2, 0.9, size=4)
    check_grad(f, x)
    # and the value the gradient module computes is the function's own
    value, _ = srcgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-12)


def test_zip_of_a_constant_and_rows():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=4), rng.normal(size=(3, 4))
    check_grad(S.zip_global_and_rows, x, w)


def _rows_with_start(x, w):
    s = 0.0 * x
    for k, row in enumerate(w, start=1):
        s = s + k * row * x
    return np.sum(s)


def _rows_with_start__followed(x, w):
    s = 0.0 * x
    for i, row in enumerate(w):
        s = s + (i + 1) * row * x
    return np.sum(s)


def test_enumerate_start_over_rows_is_refused_with_a_hint_that_works():
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=4), rng.normal(size=(3, 4))
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(_rows_with_start)(x, w)
    message = str(info.value)
    assert "test_constant_loop_headers.py:" in message
    assert "enumerate(..., start)" in message and "i + start" in message
    check_grad(_rows_with_start__followed, x, w)


@pytest.mark.parametrize(
    "name",
    [
        "enumerate_zip_rows",
        "enumerate_zip_shifted",
        "enumerate_zip_recurrence",
        "enumerate_zip_list_built_here",
        "enumerate_zip_constants",
    ],
)
def test_enumerate_of_zip_with_a_nested_target(name):
    """``for i, (a, b) in enumerate(zip(xs, ys))`` was refused ("nested loop target")."""
    f = getattr(S, name)
    rng = np.random.default_rng(3)
    x, w = rng.uniform(-0.9, 0.9, size=(4, 3)), rng.uniform(-0.9, 0.9, size=(4, 3))
    for wrt in (0, 1):
        check_grad(f, x, w, wrt=wrt)
    value, _ = srcgrad.value_and_grad(f)(x, w)
    assert value == pytest.approx(f(x, w), rel=1e-12)


def test_enumerate_of_zip_over_a_list_argument():
    rng = np.random.default_rng(4)
    xs = [rng.normal(size=3) for _ in range(3)]
    w = rng.normal(size=(4, 3))
    check_grad(S.enumerate_zip_list_argument, xs, w, wrt=(0, 1))
    value, _ = srcgrad.value_and_grad(S.enumerate_zip_list_argument)(xs, w)
    assert value == pytest.approx(S.enumerate_zip_list_argument(xs, w), rel=1e-12)


@pytest.mark.parametrize(
    "name",
    [
        "enumerate_unpacked_local_layers",
        "unpacked_local_layers",
        "unpacked_array_rows",
        "enumerate_unpacked_array_rows",
        "enumerate_unpacked_constants",
    ],
)
def test_unpacked_items(name):
    """``for i, (a, b) in enumerate(items)`` and ``for a, b in items`` over a list built
    here, an array's rows or constants were refused ("nested loop target", "unpacking
    rows in a loop target"), though the same loop over an argument ran."""
    f = getattr(S, name)
    rng = np.random.default_rng(5)
    x, w = rng.uniform(-0.9, 0.9, size=(4, 3)), rng.uniform(-0.9, 0.9, size=(4, 3))
    for wrt in (0, 1):
        check_grad(f, x, w, wrt=wrt)
    value, _ = srcgrad.value_and_grad(f)(x, w)
    assert value == pytest.approx(f(x, w), rel=1e-12)


@pytest.mark.parametrize(
    "name", ["enumerate_unpacked_list_argument", "unpacked_list_argument"]
)
def test_unpacked_layers_of_a_list_argument(name):
    f = getattr(S, name)
    rng = np.random.default_rng(6)
    layers = [(rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3)) for _ in range(2)]
    x = rng.normal(size=(2, 3))
    check_grad(f, layers, x, wrt=(0, 1))
    value, _ = srcgrad.value_and_grad(f)(layers, x)
    assert value == pytest.approx(f(layers, x), rel=1e-12)
