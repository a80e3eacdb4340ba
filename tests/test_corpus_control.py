"""End-to-end tests of srcgrad on the control-flow corpus (DESIGN §5, §10.4; issue 4).

For every function in ``tests/corpus/control.py`` (inputs in ``tests/corpus/control_cases.py``)
the checks of ``tests/test_corpus.py`` apply:

* the gradient matches central differences in float64 (``srcgrad.testing.check_grad``);
* the gradient matches HIPS autograd, the test-only oracle, which runs Python control flow
  natively (the function is re-created with ``np`` swapped for ``autograd.numpy``, and with
  ``float`` made transparent to autograd's boxes);
* float32 inputs give float32 gradients that agree with the float64 ones;
* ``value_and_grad(f)(*a)[0]`` is bit-identical to ``f(*a)``;
* the gradient has the contract's types, shares no memory with the inputs and leaves them
  untouched;
* on the fake device namespace the gradient runs without host conversions and agrees with numpy.

And for loops in particular:

* the emitted backward pass of ``rnn_200`` is a reversed loop that pops what the forward pushed;
* the trip count is a runtime value: 20 and 200 steps of the same function use one emitted file
  (generation time cannot grow with the trip count), and 200 steps raise no ``RecursionError``;
* the gradient's run time grows about linearly with the number of steps (200 vs 1000);
* a pullback (``vjp``) can run twice on one set of residuals and gives the same gradient.
"""

from __future__ import annotations

import builtins
import importlib
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

try:
    from tests.corpus import control
    from tests.corpus.control_cases import CASES, ControlCase, rnn_200_inputs
    from tests.test_corpus import (
        assert_float32_agrees,
        assert_matches_oracle,
        assert_value_bit_identical,
        _as_tuple,
        _assert_same_structure,
        _autograd_box_methods,
        _autograd_math,
        _copy_tree,
        _device_ready,
        _fakexp,
        _grad_leaves,
        _leaves,
        _positions,
        _unflatten,
    )
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ on sys.path
    from corpus import control
    from corpus.control_cases import CASES, ControlCase, rnn_200_inputs
    from test_corpus import (
        assert_float32_agrees,
        assert_matches_oracle,
        assert_value_bit_identical,
        _as_tuple,
        _assert_same_structure,
        _autograd_box_methods,
        _autograd_math,
        _copy_tree,
        _device_ready,
        _fakexp,
        _grad_leaves,
        _leaves,
        _positions,
        _unflatten,
    )

srcgrad = pytest.importorskip("srcgrad")


@pytest.fixture(scope="module", autouse=True)
def _srcgrad_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ``SRCGRAD_CACHE_DIR`` at a fresh directory before anything is generated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("srcgrad-control-cache")))
        yield


# --------------------------------------------------------------------------- gradients

_GRAD_FNS: dict[tuple[str, str], Any] = {}


def _grad_fn(case: ControlCase) -> Any:
    """``srcgrad.grad(case.fn, wrt=case.wrt)``, built once per case."""
    key = (case.name, "grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


def _value_and_grad_fn(case: ControlCase) -> Any:
    key = (case.name, "value_and_grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.value_and_grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


# --------------------------------------------------------------------------- autograd oracle


def _autograd_float(x: Any) -> Any:
    """``float`` that lets autograd's boxes through (``float(box)`` would drop the trace)."""
    from autograd.tracer import Box

    return x if isinstance(x, Box) else builtins.float(x)


def autograd_gradient(case: ControlCase, args: tuple) -> tuple[list[Any], ...]:
    """HIPS autograd's gradient of ``case.fn`` at ``args``, one leaf list per ``wrt`` item.

    As :func:`tests.test_corpus.autograd_gradient`, with one addition: ``float(...)`` on a
    traced value keeps the trace (mathematically ``float`` of a 0-d array is the identity).
    """
    autograd = pytest.importorskip("autograd")
    anp = importlib.import_module("autograd.numpy")
    fn = case.fn
    env = {**fn.__globals__, "np": anp, "math": _autograd_math(anp), "float": _autograd_float}
    traced = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    positions = _positions(fn, case.wrt)
    arrays_only = [p not in positions for p in range(len(args))]
    per_arg = [len(_leaves(a, only)) for a, only in zip(args, arrays_only)]

    def of_leaves(leaves: list[Any]) -> Any:
        rebuilt, start = [], 0
        for arg, n, only in zip(args, per_arg, arrays_only):
            rebuilt.append(_unflatten(arg, leaves[start : start + n], only))
            start += n
        return traced(*rebuilt)

    start_leaves = [leaf for a, only in zip(args, arrays_only) for leaf in _leaves(a, only)]
    with _autograd_box_methods(anp):
        flat = autograd.grad(of_leaves)(start_leaves)
    starts = np.cumsum([0] + per_arg)
    return tuple(list(flat[starts[p] : starts[p + 1]]) for p in positions)


# --------------------------------------------------------------------------- the corpus checks

IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_central_differences(case: ControlCase) -> None:
    from srcgrad.testing import check_grad

    check_grad(case.fn, *case.args(np.float64), wrt=case.wrt, seed=case.seed % 2**31)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_autograd(case: ControlCase) -> None:
    pytest.importorskip("autograd")
    if case.autograd_skip:
        pytest.skip(f"autograd cannot run {case.name}: {case.autograd_skip}")
    args = case.args(np.float64)
    expected = autograd_gradient(case, args)
    assert_matches_oracle(case, args, _grad_fn(case)(*args), expected, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_gradient_has_float32_dtype_and_agrees(case: ControlCase) -> None:
    assert_float32_agrees(case, _grad_fn(case))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_value_is_bit_identical_to_forward(case: ControlCase, dtype: Any) -> None:
    assert_value_bit_identical(case, _value_and_grad_fn(case), dtype)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_types_follow_the_contract(case: ControlCase) -> None:
    args = case.args(np.float64)
    before = _copy_tree(args)
    grads = _grad_fn(case)(*args)
    for pos, grad in zip(_positions(case.fn, case.wrt), _as_tuple(grads, case.wrt)):
        _assert_same_structure(args[pos], grad, f"{case.name}: argument {pos}")
    for a, b in zip(_leaves(args), _leaves(before)):
        assert np.array_equal(a, b), f"{case.name}: an input was modified"
    held = [a for a in _leaves(args) if isinstance(a, np.ndarray)]
    grad_arrays = [g for g in _leaves(_as_tuple(grads, case.wrt)) if isinstance(g, np.ndarray)]
    for i, g in enumerate(grad_arrays):
        for a in held:
            assert not np.shares_memory(g, a), f"{case.name}: gradient {i} aliases an input"
        for j, h in enumerate(grad_arrays[:i]):
            assert not np.shares_memory(g, h), f"{case.name}: gradients {j} and {i} alias"


DEVICE_CASES = [case for case in CASES if _device_ready(case)]


@pytest.mark.parametrize("case", DEVICE_CASES, ids=[c.name for c in DEVICE_CASES])
def test_fake_device_gradient_matches_numpy(case: ControlCase) -> None:
    if case.device_skip:
        pytest.skip(f"{case.name}: {case.device_skip}")
    fakexp = _fakexp()
    args = case.args(np.float64)
    expected = _as_tuple(_grad_fn(case)(*args), case.wrt)
    device_args = tuple(fakexp.to_device(a) if isinstance(a, np.ndarray) else a for a in args)
    grads = _as_tuple(_grad_fn(case)(*device_args), case.wrt)
    for pos, got, want in zip(_positions(case.fn, case.wrt), grads, expected):
        where = f"{case.name}: argument {pos}"
        assert isinstance(got, fakexp.FakeArray), (
            f"{where}: a device-side gradient must be a device array (a 0-d one for a "
            f"Python float argument), got {type(got).__name__}"
        )
        np.testing.assert_allclose(
            np.asarray(fakexp.to_host(got), float),
            np.asarray(want, float),
            rtol=1e-12,
            atol=1e-14,
            err_msg=f"{where}: device gradient differs from the numpy gradient",
        )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pullback_runs_twice_on_one_residual(case: ControlCase) -> None:
    """DESIGN §3: ``bwd`` may run many times on one ``res`` and never mutates it.

    Loops keep per-iteration stacks in the residuals; popping them in place would make a second
    pullback fail or silently see an empty stack.
    """
    args = case.args(np.float64)
    value, pullback = srcgrad.vjp(case.fn, wrt=case.wrt)(*args)
    d_out = np.ones_like(value) if isinstance(value, (np.ndarray, np.generic)) else 1.0
    first = _as_tuple(pullback(d_out), case.wrt)
    second = _as_tuple(pullback(d_out), case.wrt)
    for pos, a, b in zip(_positions(case.fn, case.wrt), first, second):
        for i, (x, y) in enumerate(zip(_grad_leaves(args[pos], a), _grad_leaves(args[pos], b))):
            assert np.array_equal(np.asarray(x), np.asarray(y)), (
                f"{case.name}: argument {pos}, leaf {i}: the second pullback differs"
            )


# --------------------------------------------------------------------------- loops


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
    assert path20.stat().st_mtime_ns == mtime20, "the emitted file was rewritten for 200 steps"
    for a, b in zip(g20, g200):
        assert a.shape == b.shape and np.all(np.isfinite(b))


