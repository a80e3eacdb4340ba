"""End-to-end tests of srcgrad on the calls / subscripts / in-place-writes corpus (issue 5).

For every function in ``tests/corpus/calls.py`` (inputs in ``tests/corpus/calls_cases.py``) the
checks of ``tests/test_corpus.py`` apply:

* the gradient matches central differences in float64 (``srcgrad.testing.check_grad``);
* the gradient matches HIPS autograd, the test-only oracle, wherever autograd can run the
  function (it cannot trace item assignment; those cases are skipped with the reason). The
  oracle swaps ``np``, ``math`` and ``stop_gradient`` in the *modules* the corpus lives in
  (``tests.corpus.calls`` and ``tests.corpus.calls_helpers``), so that callees, nested defs,
  lambdas, ``functools.partial`` objects, bound methods and ``@custom_vjp`` primals all trace;
  for a ``@custom_vjp`` function autograd differentiates the primal, which checks the rule;
* float32 inputs give float32 gradients that agree with the float64 ones;
* ``value_and_grad(f)(*a)[0]`` is bit-identical to ``f(*a)`` in float64 and float32;
* the gradient has the contract's types and shares no memory with the inputs;
* computing the gradient never mutates an input: float arrays, integer index arrays and masks
  alike, for ``grad`` and ``value_and_grad``, in float64 and float32;
* on the fake device namespace the gradient runs without host conversions and agrees with numpy.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

try:
    from tests.corpus import calls
    from tests.corpus.calls_cases import CASES, CallsCase
    from tests.test_corpus import (
        assert_float32_agrees,
        assert_matches_oracle,
        assert_value_bit_identical,
        _as_tuple,
        _assert_same_structure,
        _autograd_box_methods,
        _autograd_math,
        _device_ready,
        _fakexp,
        _leaves,
        _positions,
        _unflatten,
    )
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ on sys.path
    from corpus import calls
    from corpus.calls_cases import CASES, CallsCase
    from test_corpus import (
        assert_float32_agrees,
        assert_matches_oracle,
        assert_value_bit_identical,
        _as_tuple,
        _assert_same_structure,
        _autograd_box_methods,
        _autograd_math,
        _device_ready,
        _fakexp,
        _leaves,
        _positions,
        _unflatten,
    )

srcgrad = pytest.importorskip("srcgrad")


@pytest.fixture(scope="module", autouse=True)
def _srcgrad_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ``SRCGRAD_CACHE_DIR`` at a fresh directory before anything is generated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("srcgrad-calls-cache")))
        yield


# --------------------------------------------------------------------------- gradients

_GRAD_FNS: dict[tuple[str, str], Any] = {}


def _grad_fn(case: CallsCase) -> Any:
    """``srcgrad.grad(case.fn, wrt=case.wrt)``, built once per case."""
    key = (case.name, "grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


def _value_and_grad_fn(case: CallsCase) -> Any:
    key = (case.name, "value_and_grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.value_and_grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


# --------------------------------------------------------------------------- autograd oracle


def _autograd_float(x: Any) -> Any:
    """``float`` that lets autograd's boxes through (``float(box)`` would drop the trace)."""
    from autograd.tracer import Box

    return x if isinstance(x, Box) else builtins.float(x)


def _corpus_modules() -> list[Any]:
    """The modules whose globals the corpus functions and their callees read."""
    return [calls, sys.modules[calls.H.__name__]]


@contextlib.contextmanager
def _autograd_modules() -> Iterator[None]:
    """Swap ``np``, ``math``, ``float`` and ``stop_gradient`` for autograd's in the corpus modules.

    Patching the module globals (rather than re-creating the one function, as the other corpus
    oracles do) reaches everything the function calls: helpers in the same module, imported
    helpers, nested defs and lambdas (their globals are the module's), ``functools.partial``
    objects and bound methods (which hold functions of these modules) and ``@custom_vjp``
    primals. Everything is restored on exit.
    """
    anp = importlib.import_module("autograd.numpy")
    from autograd.tracer import getval

    swaps = {
        "np": anp,
        "math": _autograd_math(anp),
        "float": _autograd_float,
        "stop_gradient": getval,
    }
    with pytest.MonkeyPatch.context() as mp, _autograd_box_methods(anp):
        for module in _corpus_modules():
            for name, value in swaps.items():
                if name == "float" or hasattr(module, name):
                    mp.setattr(module, name, value, raising=False)
        yield


def autograd_gradient(case: CallsCase, args: tuple) -> tuple[list[Any], ...]:
    """HIPS autograd's gradient of ``case.fn`` at ``args``, one leaf list per ``wrt`` item.

    As :func:`tests.test_corpus.autograd_gradient`: every float array of every argument is
    traced, Python floats only in ``wrt`` arguments; integer index arrays and masks stay as
    they are.
    """
    autograd = pytest.importorskip("autograd")
    fn = case.fn
    positions = _positions(fn, case.wrt)
    arrays_only = [p not in positions for p in range(len(args))]
    per_arg = [len(_leaves(a, only)) for a, only in zip(args, arrays_only)]

    def of_leaves(leaves: list[Any]) -> Any:
        rebuilt, start = [], 0
        for arg, n, only in zip(args, per_arg, arrays_only):
            rebuilt.append(_unflatten(arg, leaves[start : start + n], only))
            start += n
        return fn(*rebuilt)

    start_leaves = [leaf for a, only in zip(args, arrays_only) for leaf in _leaves(a, only)]
    with _autograd_modules():
        flat = autograd.grad(of_leaves)(start_leaves)
    starts = np.cumsum([0] + per_arg)
    return tuple(list(flat[starts[p] : starts[p + 1]]) for p in positions)


# --------------------------------------------------------------------------- the corpus checks

IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_central_differences(case: CallsCase) -> None:
    from srcgrad.testing import check_grad

    check_grad(case.fn, *case.args(np.float64), wrt=case.wrt, seed=case.seed % 2**31)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_autograd(case: CallsCase) -> None:
    pytest.importorskip("autograd")
    if case.autograd_skip:
        pytest.skip(f"autograd cannot run {case.name}: {case.autograd_skip}")
    args = case.args(np.float64)
    grads = _grad_fn(case)(*args)  # generated outside the np swap
    expected = autograd_gradient(case, args)
    assert_matches_oracle(case, args, grads, expected, rtol=1e-8, atol=1e-11)


def test_autograd_oracle_restores_the_modules() -> None:
    """The oracle's swap of ``np`` & co. in the corpus modules does not outlive one call."""
    before = {id(m): (m.np, m.math if hasattr(m, "math") else None) for m in _corpus_modules()}
    pytest.importorskip("autograd")
    with _autograd_modules():
        assert calls.np is not np
    for m in _corpus_modules():
        assert (m.np, m.math if hasattr(m, "math") else None) == before[id(m)]
        assert "float" not in vars(m)
        assert m.stop_gradient is srcgrad.stop_gradient


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_gradient_has_float32_dtype_and_agrees(case: CallsCase) -> None:
    assert_float32_agrees(case, _grad_fn(case))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_value_is_bit_identical_to_forward(case: CallsCase, dtype: Any) -> None:
    assert_value_bit_identical(case, _value_and_grad_fn(case), dtype)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_types_follow_the_contract(case: CallsCase) -> None:
    args = case.args(np.float64)
    grads = _grad_fn(case)(*args)
    for pos, grad in zip(_positions(case.fn, case.wrt), _as_tuple(grads, case.wrt)):
        _assert_same_structure(args[pos], grad, f"{case.name}: argument {pos}")
    held = [a for a in args if isinstance(a, np.ndarray)]
    grad_arrays = [g for g in _leaves(_as_tuple(grads, case.wrt)) if isinstance(g, np.ndarray)]
    for i, g in enumerate(grad_arrays):
        for a in held:
            assert not np.shares_memory(g, a), f"{case.name}: gradient {i} aliases an input"
        for j, h in enumerate(grad_arrays[:i]):
            assert not np.shares_memory(g, h), f"{case.name}: gradients {j} and {i} alias"


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_gradient_call_never_mutates_an_input(case: CallsCase, dtype: Any) -> None:
    """No input changes: float arrays, integer index arrays and masks, bit for bit and dtype."""
    args = case.args(dtype)
    pristine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    _grad_fn(case)(*args)
    _value_and_grad_fn(case)(*args)
    for pos, (a, b) in enumerate(zip(args, pristine)):
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype, f"{case.name}: argument {pos} changed dtype"
            assert np.array_equal(a, b), f"{case.name}: argument {pos} was modified"
        else:
            assert a == b, f"{case.name}: argument {pos} changed"


DEVICE_CASES = [case for case in CASES if _device_ready(case)]


@pytest.mark.parametrize("case", DEVICE_CASES, ids=[c.name for c in DEVICE_CASES])
def test_fake_device_gradient_matches_numpy(case: CallsCase) -> None:
    if case.device_skip:
        pytest.skip(f"{case.name}: {case.device_skip}")
    fakexp = _fakexp()
    args = case.args(np.float64)
    expected = _as_tuple(_grad_fn(case)(*args), case.wrt)
    device_args = tuple(fakexp.to_device(a) if isinstance(a, np.ndarray) else a for a in args)
    value, grads = _value_and_grad_fn(case)(*device_args)
    grads = _as_tuple(grads, case.wrt)
    np.testing.assert_allclose(
        np.asarray(fakexp.to_host(value), float),
        float(case.fn(*args)),
        rtol=1e-12,
        err_msg=f"{case.name}: device value differs from the numpy value",
    )
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
