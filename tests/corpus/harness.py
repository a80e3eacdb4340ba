"""The oracles the corpus tests share: what a correct gradient of a corpus case looks like.

The corpus comes in three families (``straight``, ``control``, ``calls``); :data:`FAMILIES`
says, for each, which cases it has, which modules its functions read their globals from and how
tightly it is held to the autograd oracle. Everything else is the same for all three:

* pytrees of arguments and gradients (:func:`leaves`, :func:`unflatten`, :func:`grad_leaves`);
* the gradient functions, built once per case (:func:`grad_of`, :func:`value_and_grad_of`);
* HIPS autograd as the test-only oracle (:func:`autograd_gradient`), run with ``np``, ``math``,
  ``float`` and ``stop_gradient`` swapped for autograd's in the family's modules;
* value equality, float32 agreement, the gradient's structure and the replay on the fake device
  namespace (``tests/fakexp.py``) as ``assert_*`` checks;
* :func:`fresh_cache_dir`, the fixture that points ``SRCGRAD_CACHE_DIR`` at a new directory.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import inspect
import math
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad import tree as pytree
from tests import fakexp

from . import calls, calls_cases, calls_helpers, cases, control, control_cases, straight

# --------------------------------------------------------------------------- the families


@dataclass(frozen=True)
class Family:
    """One part of the corpus and how its checks are tuned.

    Attributes:
        name: The prefix of its test ids.
        cases: Its ``CASES`` list.
        modules: The modules whose globals its functions (and their callees) read.
        autograd_rtol: Tolerance against the autograd oracle, relative ...
        autograd_atol: ... and absolute.
        seeded_directions: Whether ``check_grad`` draws its directions from the case's seed
            (otherwise from seed 0).
    """

    name: str
    cases: Sequence[Any]
    modules: tuple[types.ModuleType, ...]
    autograd_rtol: float
    autograd_atol: float
    seeded_directions: bool

    def check_grad_seed(self, case: Any) -> int:
        return case.seed % 2**31 if self.seeded_directions else 0


STRAIGHT = Family("straight", cases.CASES, (straight,), 1e-9, 1e-12, False)
CONTROL = Family("control", control_cases.CASES, (control,), 1e-8, 1e-11, True)
CALLS = Family("calls", calls_cases.CASES, (calls, calls_helpers), 1e-8, 1e-11, True)
FAMILIES: tuple[Family, ...] = (STRAIGHT, CONTROL, CALLS)


def family_params(
    families: Sequence[Family] = FAMILIES, keep: Callable[[Any], bool] = lambda case: True
) -> list[Any]:
    """``pytest.param(family, case)`` for every case of ``families``, id ``family-name``."""
    return [
        pytest.param(family, case, id=f"{family.name}-{case.name}")
        for family in families
        for case in family.cases
        if keep(case)
    ]


@pytest.fixture(scope="module")
def fresh_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ``SRCGRAD_CACHE_DIR`` at a fresh directory before anything is generated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("srcgrad-corpus-cache")))
        yield


# --------------------------------------------------------------------------- trees


def is_diff_leaf(x: Any, arrays_only: bool = False) -> bool:
    """Whether ``x`` is a leaf the contract differentiates: a float array or a float."""
    if isinstance(x, np.ndarray):
        return np.issubdtype(x.dtype, np.floating)
    return isinstance(x, float) and not arrays_only


def leaves(tree: Any, arrays_only: bool = False) -> list[Any]:
    """The differentiable leaves of ``tree`` in a fixed order (only arrays if asked)."""
    return [leaf for leaf in pytree.leaves(tree) if is_diff_leaf(leaf, arrays_only)]


def unflatten(tree: Any, new_leaves: list[Any], arrays_only: bool = False) -> Any:
    """``tree`` with its differentiable leaves replaced, in :func:`leaves` order."""
    it = iter(new_leaves)
    return pytree.map(lambda leaf: next(it) if is_diff_leaf(leaf, arrays_only) else leaf, tree)


def map_arrays(tree: Any, fn: Callable[[np.ndarray], Any]) -> Any:
    """Apply ``fn`` to every ndarray in ``tree`` (any dtype)."""
    return pytree.map(lambda leaf: fn(leaf) if isinstance(leaf, np.ndarray) else leaf, tree)


def copy_tree(tree: Any) -> Any:
    return map_arrays(tree, np.copy)


def positions(fn: Callable[..., Any], wrt: Any) -> list[int]:
    """The parameter positions ``wrt`` names (ints or parameter names)."""
    names = list(inspect.signature(fn).parameters)
    spec = wrt if isinstance(wrt, tuple) else (wrt,)
    return [w if isinstance(w, int) else names.index(w) for w in spec]


def as_tuple(grads: Any, wrt: Any) -> tuple[Any, ...]:
    """The gradient as a tuple in ``wrt`` order, whatever the ``wrt`` form."""
    if isinstance(wrt, tuple):
        assert isinstance(grads, tuple), f"wrt={wrt!r} must give a tuple, got {type(grads)}"
        assert len(grads) == len(wrt), f"wrt={wrt!r}: {len(grads)} gradients"
        return grads
    return (grads,)


def grad_leaves(arg: Any, grad: Any) -> list[Any]:
    """The gradient leaves that pair with ``leaves(arg)`` (the structures must match)."""
    return [g for a, g in pytree.zip_leaves(arg, grad) if is_diff_leaf(a)]


# --------------------------------------------------------------------------- gradients


@functools.cache
def grad_of(case: Any) -> Callable[..., Any]:
    """``srcgrad.grad(case.fn, wrt=case.wrt)``, built once per case."""
    return srcgrad.grad(case.fn, wrt=case.wrt)


@functools.cache
def value_and_grad_of(case: Any) -> Callable[..., Any]:
    """``srcgrad.value_and_grad(case.fn, wrt=case.wrt)``, built once per case."""
    return srcgrad.value_and_grad(case.fn, wrt=case.wrt)


# --------------------------------------------------------------------------- autograd oracle


@contextlib.contextmanager
def _autograd_box_methods(anp: Any) -> Iterator[None]:
    """Give autograd's ArrayBox the ndarray methods the corpus uses but autograd lacks.

    ``x.dot(y)``, ``x.copy()``, ``x // y`` and ``x.transpose(1, 0, 2)`` (axes as separate
    arguments) are plain numpy, but ArrayBox lacks them or takes only an axes tuple. Patch them
    in for the duration of one oracle call and restore the class afterwards.
    """
    from autograd.numpy.numpy_boxes import ArrayBox

    def transpose(self: Any, *axes: Any) -> Any:
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return anp.transpose(self, axes or None)

    patches = {
        "dot": lambda self, other: anp.dot(self, other),
        "copy": lambda self: anp.array(self),
        "__floordiv__": lambda self, other: anp.floor_divide(self, other),
        "__rfloordiv__": lambda self, other: anp.floor_divide(other, self),
        "transpose": transpose,
    }
    saved = {name: vars(ArrayBox)[name] for name in patches if name in vars(ArrayBox)}
    for name, fn in patches.items():
        setattr(ArrayBox, name, fn)
    try:
        yield
    finally:
        for name in patches:
            if name in saved:
                setattr(ArrayBox, name, saved[name])
            else:
                delattr(ArrayBox, name)


_AUTOGRAD_MATH = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "log1p")


def _autograd_math(anp: Any) -> types.SimpleNamespace:
    """A stand-in for ``math`` whose functions accept autograd boxes."""
    names = {n: getattr(math, n) for n in dir(math) if not n.startswith("_")}
    names.update({n: getattr(anp, n) for n in _AUTOGRAD_MATH})
    return types.SimpleNamespace(**names)


def _autograd_float(x: Any) -> Any:
    """``float`` that lets autograd's boxes through (``float(box)`` would drop the trace)."""
    from autograd.tracer import Box

    return x if isinstance(x, Box) else builtins.float(x)


@contextlib.contextmanager
def autograd_modules(modules: Sequence[types.ModuleType]) -> Iterator[None]:
    """Swap ``np``, ``math``, ``float`` and ``stop_gradient`` for autograd's in ``modules``.

    Patching the module globals reaches everything a corpus function calls: helpers in the same
    module, imported helpers, nested defs and lambdas (their globals are the module's),
    ``functools.partial`` objects and bound methods (which hold functions of these modules) and
    ``@custom_vjp`` primals (autograd differentiates the primal, which checks the rule).
    ``float`` of a traced value keeps the trace (``float`` of a 0-d array is the identity).
    Everything is restored on exit.
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
        for module in modules:
            for name, value in swaps.items():
                if name == "float" or hasattr(module, name):
                    mp.setattr(module, name, value, raising=False)
        yield


def autograd_gradient(family: Family, case: Any, args: tuple) -> tuple[list[Any], ...]:
    """HIPS autograd's gradient of ``case.fn`` at ``args``, one leaf list per ``wrt`` item.

    Every float array of every argument is traced, not only the ``wrt`` ones, so that
    ``x.dot(w)`` on a constant ``x`` still sees a box; Python floats are traced only in ``wrt``
    arguments (autograd has no adjoint for ``np.clip``'s bounds, for example); integer index
    arrays and masks stay as they are. Each entry of the result is the list of leaf gradients
    of that argument, in :func:`leaves` order.
    """
    autograd = pytest.importorskip("autograd")
    fn = case.fn
    wrt_positions = positions(fn, case.wrt)
    arrays_only = [p not in wrt_positions for p in range(len(args))]
    per_arg = [len(leaves(a, only)) for a, only in zip(args, arrays_only)]

    def of_leaves(new_leaves: list[Any]) -> Any:
        rebuilt, start = [], 0
        for arg, n, only in zip(args, per_arg, arrays_only):
            rebuilt.append(unflatten(arg, new_leaves[start : start + n], only))
            start += n
        return fn(*rebuilt)

    start_leaves = [leaf for a, only in zip(args, arrays_only) for leaf in leaves(a, only)]
    with autograd_modules(family.modules):
        flat = autograd.grad(of_leaves)(start_leaves)
    starts = np.cumsum([0] + per_arg)
    return tuple(list(flat[starts[p] : starts[p + 1]]) for p in wrt_positions)


# --------------------------------------------------------------------------- checks


def assert_matches_oracle(
    case: Any,
    args: tuple[Any, ...],
    grads: Any,
    expected: list[list[Any]],
    rtol: float,
    atol: float,
) -> None:
    """Each gradient leaf equals the oracle's (autograd's) to ``rtol``/``atol``."""
    grads = as_tuple(grads, case.wrt)
    for pos, grad, want in zip(positions(case.fn, case.wrt), grads, expected):
        got = grad_leaves(args[pos], grad)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            np.testing.assert_allclose(
                np.asarray(g, float),
                np.asarray(w, float),
                rtol=rtol,
                atol=atol,
                err_msg=f"{case.name}: argument {pos}, leaf {i} differs from autograd",
            )


def assert_float32_agrees(case: Any, df: Any) -> None:
    """float32 inputs give float32 gradients of the right shape, close to float64's."""
    args32 = case.args(np.float32)
    args64 = map_arrays(args32, lambda a: a.astype(np.float64) if a.dtype == np.float32 else a)
    grads32 = as_tuple(df(*args32), case.wrt)
    grads64 = as_tuple(df(*args64), case.wrt)
    for pos, g32, g64 in zip(positions(case.fn, case.wrt), grads32, grads64):
        arg = args32[pos]
        pairs = zip(leaves(arg), grad_leaves(arg, g32), grad_leaves(args64[pos], g64))
        for i, (leaf, a, b) in enumerate(pairs):
            where = f"{case.name}: argument {pos}, leaf {i}"
            if isinstance(leaf, np.ndarray):
                assert isinstance(a, np.ndarray), f"{where}: got {type(a).__name__}"
                assert a.dtype == np.float32, f"{where}: float32 input, {a.dtype} gradient"
                assert a.shape == leaf.shape, f"{where}: shape {a.shape} != {leaf.shape}"
            scale = max(float(np.max(np.abs(b))), 1e-3)
            np.testing.assert_allclose(
                np.asarray(a, float),
                np.asarray(b, float),
                rtol=2e-3,
                atol=2e-3 * scale,
                err_msg=f"{where}: float32 gradient differs from float64",
            )


def assert_value_bit_identical(case: Any, value_and_grad_fn: Any, dtype: Any) -> None:
    """``value_and_grad(f)(*a)[0]`` is ``f(*a)``, bit for bit, type and dtype included."""
    args = case.args(dtype)
    expected = case.fn(*copy_tree(args))
    value, _ = value_and_grad_fn(*args)
    assert type(value) is type(expected), f"{type(value)} != {type(expected)}"
    if hasattr(expected, "dtype"):
        assert value.dtype == expected.dtype
    assert np.array_equal(value, expected), f"{value!r} != {expected!r}"


def assert_same_structure(arg: Any, grad: Any, where: str) -> None:
    """``grad`` has the contract's type for ``arg``: same containers, shapes and dtypes."""
    if isinstance(arg, dict):
        assert type(grad) is dict, f"{where}: dict in, {type(grad).__name__} out"
        assert list(grad) == list(arg), f"{where}: keys {list(grad)} != {list(arg)}"
        for key in arg:
            assert_same_structure(arg[key], grad[key], f"{where}[{key!r}]")
    elif isinstance(arg, (list, tuple)):
        assert type(grad) is type(
            arg
        ), f"{where}: {type(arg).__name__} in, {type(grad).__name__} out"
        assert len(grad) == len(arg), f"{where}: length {len(grad)} != {len(arg)}"
        for i, (a, g) in enumerate(zip(arg, grad)):
            assert_same_structure(a, g, f"{where}[{i}]")
    elif isinstance(arg, np.ndarray) and is_diff_leaf(arg):
        assert isinstance(grad, np.ndarray), f"{where}: array in, {type(grad).__name__} out"
        assert grad.shape == arg.shape, f"{where}: shape {grad.shape} != {arg.shape}"
        assert grad.dtype == arg.dtype, f"{where}: dtype {grad.dtype} != {arg.dtype}"
    elif isinstance(arg, float):
        assert type(grad) is float, f"{where}: float in, {type(grad).__name__} out"
    else:
        assert grad is None, f"{where}: non-float leaf {arg!r} got gradient {grad!r}"


def assert_no_aliasing(case: Any, args: tuple, grads: Any) -> None:
    """No gradient array shares memory with an input array or with another gradient."""
    held = [a for a in leaves(args) if isinstance(a, np.ndarray)]
    held += [a for a in args if isinstance(a, np.ndarray)]  # integer index arrays and masks
    grad_arrays = [g for g in leaves(as_tuple(grads, case.wrt)) if isinstance(g, np.ndarray)]
    for i, g in enumerate(grad_arrays):
        for a in held:
            assert not np.shares_memory(g, a), f"{case.name}: gradient {i} aliases an input"
        for j, h in enumerate(grad_arrays[:i]):
            assert not np.shares_memory(g, h), f"{case.name}: gradients {j} and {i} alias"


# --------------------------------------------------------------------------- fake device


def device_ready(case: Any) -> bool:
    """Cases whose arguments are all arrays or Python scalars (no containers)."""
    args = case.args(np.float64)
    flat = all(isinstance(a, (np.ndarray, float, int)) for a in args)
    return flat and any(isinstance(a, np.ndarray) for a in args)


def to_device(args: tuple) -> tuple:
    """``args`` with every ndarray moved to the fake device."""
    return tuple(fakexp.to_device(a) if isinstance(a, np.ndarray) else a for a in args)


def to_host(x: Any) -> Any:
    """A device array brought back to the host (anything else as it is)."""
    return fakexp.to_host(x)


def assert_device_gradient_matches(case: Any, device_grads: Any, host_grads: Any) -> None:
    """Every device-side gradient is a device array equal to the numpy gradient."""
    pairs = zip(as_tuple(device_grads, case.wrt), as_tuple(host_grads, case.wrt))
    for pos, (got, want) in zip(positions(case.fn, case.wrt), pairs):
        where = f"{case.name}: argument {pos}"
        assert isinstance(got, fakexp.FakeArray), (
            f"{where}: a device-side gradient must be a device array (a 0-d one for a "
            f"Python float argument), got {type(got).__name__}"
        )
        np.testing.assert_allclose(
            np.asarray(to_host(got), float),
            np.asarray(want, float),
            rtol=1e-12,
            atol=1e-14,
            err_msg=f"{where}: device gradient differs from the numpy gradient",
        )
