"""End-to-end tests of srcgrad on the corpus (DESIGN §5, §10.4; issues 4 and 5).

Every case of the three families (``straight``, ``control``, ``calls``: functions in
``tests/corpus/{straight,control,calls}.py``, inputs in ``tests/corpus/*cases.py``; ids are
``family-name``) is checked the same way, through the oracles of ``tests/corpus/harness.py``:

* the gradient matches central differences in float64 (``srcgrad.testing.check_grad``);
* the gradient matches HIPS autograd, the test-only oracle, wherever autograd can run the
  function (the case says why not otherwise);
* float32 inputs give float32 gradients that agree with the float64 ones;
* ``value_and_grad(f)(*a)[0]`` is bit-identical to ``f(*a)`` in float64 and float32;
* the gradient has the contract's types (float -> float, containers -> same structure), shares
  no memory with the inputs or other gradients and leaves the inputs untouched;
* on the fake device namespace (``tests/fakexp.py``) ``grad`` and ``value_and_grad`` run without
  any host conversion and agree with numpy.

Per family:

* control flow: a pullback (``vjp``) can run twice on one set of residuals; the emitted backward
  pass of ``rnn_200`` is a reversed loop that pops what the forward pushed; the trip count is a
  runtime value (20 and 200 steps share one emitted file, 200 raise no ``RecursionError``);
* calls: computing the gradient never mutates an input, integer index arrays and masks included;
  the autograd oracle's swap of ``np`` & co. in the corpus modules does not outlive one call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.corpus import calls, control
from tests.corpus.control_cases import rnn_200_inputs
from tests.corpus.harness import (
    CALLS,
    CONTROL,
    FAMILIES,
    Family,
    as_tuple,
    assert_device_gradient_matches,
    assert_float32_agrees,
    assert_matches_oracle,
    assert_no_aliasing,
    assert_same_structure,
    assert_value_bit_identical,
    autograd_gradient,
    autograd_modules,
    copy_tree,
    device_ready,
    family_params,
    fresh_cache_dir,
    grad_leaves,
    grad_of,
    leaves,
    positions,
    to_device,
    to_host,
    value_and_grad_of,
)

pytestmark = pytest.mark.usefixtures(fresh_cache_dir.__name__)

ALL = family_params()
DTYPES = pytest.mark.parametrize(
    "dtype", [np.float64, np.float32], ids=["float64", "float32"]
)


# --------------------------------------------------------------------------- every family


@pytest.mark.parametrize("family,case", ALL)
def test_gradient_matches_central_differences(family: Family, case: Any) -> None:
    check_grad(
        case.fn, *case.args(np.float64), wrt=case.wrt, seed=family.check_grad_seed(case)
    )


@pytest.mark.parametrize("family,case", ALL)
def test_gradient_matches_autograd(family: Family, case: Any) -> None:
    pytest.importorskip("autograd")
    if case.autograd_skip:
        pytest.skip(f"autograd cannot run {case.name}: {case.autograd_skip}")
    args = case.args(np.float64)
    grads = grad_of(case)(*args)  # generated outside the np swap
    expected = autograd_gradient(family, case, args)
    rtol, atol = family.autograd_rtol, family.autograd_atol
    assert_matches_oracle(case, args, grads, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("family,case", ALL)
def test_float32_gradient_has_float32_dtype_and_agrees(
    family: Family, case: Any
) -> None:
    assert_float32_agrees(case, grad_of(case))


@pytest.mark.parametrize("family,case", ALL)
@DTYPES
def test_value_is_bit_identical_to_forward(
    family: Family, case: Any, dtype: Any
) -> None:
    assert_value_bit_identical(case, value_and_grad_of(case), dtype)


@pytest.mark.parametrize("family,case", ALL)
def test_gradient_types_follow_the_contract(family: Family, case: Any) -> None:
    args = case.args(np.float64)
    before = copy_tree(args)
    grads = grad_of(case)(*args)
    for pos, grad in zip(positions(case.fn, case.wrt), as_tuple(grads, case.wrt)):
        assert_same_structure(args[pos], grad, f"{case.name}: argument {pos}")
    for a, b in zip(leaves(args), leaves(before)):
        assert np.array_equal(a, b), f"{case.name}: an input was modified"
    assert_no_aliasing(case, args, grads)


@pytest.mark.parametrize("family,case", family_params(keep=device_ready))
def test_fake_device_gradient_matches_numpy(family: Family, case: Any) -> None:
    if case.device_skip:
        pytest.skip(f"{case.name}: {case.device_skip}")
    args = case.args(np.float64)
    expected = grad_of(case)(*args)
    device_args = to_device(args)
    assert_device_gradient_matches(case, grad_of(case)(*device_args), expected)
    value, grads = value_and_grad_of(case)(*device_args)
    np.testing.assert_allclose(
        np.asarray(to_host(value), float),
        float(case.fn(*args)),
        rtol=1e-12,
        err_msg=f"{case.name}: device value differs from the numpy value",
    )
    assert_device_gradient_matches(case, grads, expected)


# --------------------------------------------------------------------------- control flow


@pytest.mark.parametrize("family,case", family_params([CONTROL]))
def test_pullback_runs_twice_on_one_residual(family: Family, case: Any) -> None:
    """DESIGN §3: ``bwd`` may run many times on one ``res`` and never mutates it.

    Loops keep per-iteration stacks in the residuals; popping them in place would make a second
    pullback fail or silently see an empty stack.
    """
    args = case.args(np.float64)
    value, pullback = srcgrad.vjp(case.fn, wrt=case.wrt)(*args)
    d_out = np.ones_like(value) if isinstance(value, (np.ndarray, np.generic)) else 1.0
    first = as_tuple(pullback(d_out), case.wrt)
    second = as_tuple(pullback(d_out), case.wrt)
    for pos, a, b in zip(positions(case.fn, case.wrt), first, second):
        for i, (x, y) in enumerate(
            zip(grad_leaves(args[pos], a), grad_leaves(args[pos], b))
        ):
            assert np.array_equal(
                np.asarray(x), np.asarray(y)
            ), f"{case.name}: argument {pos}, leaf {i}: the second pullback differs"


def _rnn_args(n_rows: int, n_steps: int) -> tuple:
    Wx, Wh, b, xs = rnn_200_inputs(np.random.default_rng(200), np.float64, n_rows)
    return Wx, Wh, b, xs, n_steps


def test_rnn_200_backward_is_a_reversed_loop_with_pops() -> None:
    df = srcgrad.grad(control.rnn_200, wrt=(0, 1, 2))
    df(*_rnn_args(200, 200))
    source = df.source
    bwd = source[source.index("def bwd_rnn_200") :]
    bwd = bwd[: bwd.index("\ndef ", 1)] if "\ndef " in bwd[1:] else bwd
    assert "reversed(" in bwd or "while " in bwd, (
        "the backward pass of rnn_200 has no reversed loop:\n" + bwd
    )
    assert ".pop()" in bwd, "the backward pass of rnn_200 pops nothing:\n" + bwd
    assert ".append(" in source[: source.index("def bwd_rnn_200")], (
        "the forward pass of rnn_200 pushes nothing:\n" + source
    )


def test_trip_count_is_a_runtime_value_one_emitted_file() -> None:
    """20 and 200 steps share one emitted file; 200 steps raise no RecursionError."""
    f = control.rnn_200
    df20 = srcgrad.grad(f, wrt=(0, 1, 2))
    g20 = df20(*_rnn_args(200, 20))
    path20 = df20.path
    text20 = path20.read_text()
    mtime20 = path20.stat().st_mtime_ns

    df200 = srcgrad.grad(f, wrt=(0, 1, 2))
    g200 = df200(*_rnn_args(200, 200))  # a RecursionError here fails the test
    assert df200.path == path20, f"20 steps: {path20}; 200 steps: {df200.path}"
    assert df200.source == text20, "the emitted source differs between 20 and 200 steps"
    assert path20.read_text() == text20, "the emitted file changed with the trip count"
    assert (
        path20.stat().st_mtime_ns == mtime20
    ), "the emitted file was rewritten for 200 steps"
    for a, b in zip(g20, g200):
        assert a.shape == b.shape and np.all(np.isfinite(b))


# --------------------------------------------------------------------------- calls


@pytest.mark.parametrize("family,case", family_params([CALLS]))
@DTYPES
def test_gradient_call_never_mutates_an_input(
    family: Family, case: Any, dtype: Any
) -> None:
    """No input changes: float arrays, integer index arrays and masks, bit for bit and dtype."""
    args = case.args(dtype)
    pristine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    grad_of(case)(*args)
    value_and_grad_of(case)(*args)
    for pos, (a, b) in enumerate(zip(args, pristine)):
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f"{case.name}: argument {pos} changed dtype"
            assert np.array_equal(a, b), f"{case.name}: argument {pos} was modified"
        else:
            assert a == b, f"{case.name}: argument {pos} changed"


def test_autograd_oracle_restores_the_modules() -> None:
    """The oracle's swap of ``np`` & co. in the corpus modules does not outlive one call."""
    pytest.importorskip("autograd")
    modules = [m for family in FAMILIES for m in family.modules]
    before = {id(m): (m.np, getattr(m, "math", None)) for m in modules}
    with autograd_modules(modules):
        assert calls.np is not np
    for m in modules:
        assert (m.np, getattr(m, "math", None)) == before[id(m)]
        assert "float" not in vars(m)
    for m in CALLS.modules:
        assert m.stop_gradient is srcgrad.stop_gradient
