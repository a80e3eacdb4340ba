"""End-to-end tests of srcgrad on the straight-line corpus (DESIGN §10.4).

For every function in ``tests/corpus/straight.py`` (inputs in ``tests/corpus/cases.py``):

* the gradient matches central differences in float64;
* the gradient matches HIPS autograd, the test-only oracle;
* float32 inputs give float32 gradients that agree with the float64 ones;
* ``value_and_grad(f)(*a)[0]`` is bit-identical to ``f(*a)``;
* the gradient has the contract's types (float -> float, containers -> same structure),
  shares no memory with the inputs and leaves the inputs untouched;
* on the fake device namespace (``tests/fakexp.py``) the gradient runs without any host
  conversion and agrees with the numpy gradient.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import math
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

try:
    from tests.corpus.cases import CASES, Case
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ on sys.path
    from corpus.cases import CASES, Case

srcgrad = pytest.importorskip("srcgrad")


@pytest.fixture(scope="session", autouse=True)
def _srcgrad_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point ``SRCGRAD_CACHE_DIR`` at a fresh directory before anything is generated."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("srcgrad-corpus-cache")))
        yield


# --------------------------------------------------------------------------- trees


def _is_diff_leaf(x: Any, arrays_only: bool = False) -> bool:
    """Whether ``x`` is a leaf the contract differentiates: a float array or a float."""
    if isinstance(x, np.ndarray):
        return np.issubdtype(x.dtype, np.floating)
    return isinstance(x, float) and not arrays_only


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _leaves(tree: Any, arrays_only: bool = False) -> list[Any]:
    """The differentiable leaves of ``tree`` in a fixed order (only arrays if asked)."""
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key], arrays_only)]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item, arrays_only)]
    return [tree] if _is_diff_leaf(tree, arrays_only) else []


def _unflatten(tree: Any, leaves: list[Any], arrays_only: bool = False) -> Any:
    """``tree`` with its differentiable leaves replaced, in :func:`_leaves` order."""
    it = iter(leaves)

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: build(value) for key, value in node.items()}
        if _is_namedtuple(node):
            return type(node)(*(build(item) for item in node))
        if isinstance(node, (list, tuple)):
            return type(node)(build(item) for item in node)
        return next(it) if _is_diff_leaf(node, arrays_only) else node

    return build(tree)


def _map_arrays(tree: Any, fn: Callable[[np.ndarray], Any]) -> Any:
    """Apply ``fn`` to every ndarray in ``tree`` (any dtype)."""
    if isinstance(tree, dict):
        return {key: _map_arrays(value, fn) for key, value in tree.items()}
    if _is_namedtuple(tree):
        return type(tree)(*(_map_arrays(item, fn) for item in tree))
    if isinstance(tree, (list, tuple)):
        return type(tree)(_map_arrays(item, fn) for item in tree)
    return fn(tree) if isinstance(tree, np.ndarray) else tree


def _copy_tree(tree: Any) -> Any:
    return _map_arrays(tree, np.copy)


def _positions(fn: Callable[..., Any], wrt: Any) -> list[int]:
    """The parameter positions ``wrt`` names (ints or parameter names)."""
    names = list(inspect.signature(fn).parameters)
    spec = wrt if isinstance(wrt, tuple) else (wrt,)
    return [w if isinstance(w, int) else names.index(w) for w in spec]


def _as_tuple(grads: Any, wrt: Any) -> tuple[Any, ...]:
    """The gradient as a tuple in ``wrt`` order, whatever the ``wrt`` form."""
    if isinstance(wrt, tuple):
        assert isinstance(grads, tuple), f"wrt={wrt!r} must give a tuple, got {type(grads)}"
        assert len(grads) == len(wrt), f"wrt={wrt!r}: {len(grads)} gradients"
        return grads
    return (grads,)


def _grad_leaves(arg: Any, grad: Any) -> list[Any]:
    """The gradient leaves that pair with ``_leaves(arg)`` (the structures must match)."""
    if isinstance(arg, dict):
        return [leaf for key in arg for leaf in _grad_leaves(arg[key], grad[key])]
    if isinstance(arg, (list, tuple)):
        return [leaf for a, g in zip(arg, grad) for leaf in _grad_leaves(a, g)]
    return [grad] if _is_diff_leaf(arg) else []


def _replace(args: tuple, pos: int, value: Any) -> tuple:
    return args[:pos] + (value,) + args[pos + 1 :]


# --------------------------------------------------------------------------- gradients

_GRAD_FNS: dict[tuple[str, str], Callable[..., Any]] = {}


def _grad_fn(case: Case) -> Callable[..., Any]:
    """``srcgrad.grad(case.fn, wrt=case.wrt)``, built once per case."""
    key = (case.name, "grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


def _value_and_grad_fn(case: Case) -> Callable[..., Any]:
    key = (case.name, "value_and_grad")
    if key not in _GRAD_FNS:
        _GRAD_FNS[key] = srcgrad.value_and_grad(case.fn, wrt=case.wrt)
    return _GRAD_FNS[key]


def central_difference_check(
    f: Callable[..., Any],
    args: tuple,
    wrt: Any,
    grads: Any,
    *,
    seed: int = 0,
    n_directions: int = 3,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
) -> None:
    """Check ``grads`` against directional central differences of ``f`` in float64.

    For each differentiated argument and several random directions ``v`` (over all its float
    leaves at once), ``<grad, v>`` must equal ``(f(x + eps v) - f(x - eps v)) / 2 eps``.

    Raises:
        AssertionError: naming the argument, the direction and both numbers.
    """
    rng = np.random.default_rng(seed)
    for pos, grad in zip(_positions(f, wrt), _as_tuple(grads, wrt)):
        leaves = _leaves(args[pos])
        g_leaves = _grad_leaves(args[pos], grad)
        for k in range(n_directions):
            vs = [rng.standard_normal(np.shape(leaf)) for leaf in leaves]

            def at(step: float, pos: int = pos, leaves=leaves, vs=vs) -> float:
                moved = [leaf + step * v for leaf, v in zip(leaves, vs)]
                moved = [m if isinstance(m, np.ndarray) else float(m) for m in moved]
                return float(f(*_replace(args, pos, _unflatten(args[pos], moved))))

            numeric = (at(eps) - at(-eps)) / (2 * eps)
            analytic = sum(float(np.vdot(np.asarray(g, float), v)) for g, v in zip(g_leaves, vs))
            bound = atol + rtol * max(abs(numeric), abs(analytic))
            assert abs(numeric - analytic) <= bound, (
                f"{f.__name__}: argument {pos}, direction {k}: "
                f"<grad, v> = {analytic!r}, central difference = {numeric!r}"
            )


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


def _autograd_math(anp: Any) -> types.SimpleNamespace:
    """A stand-in for ``math`` whose functions accept autograd boxes."""
    names = {n: getattr(math, n) for n in dir(math) if not n.startswith("_")}
    for n in (
        "sin",
        "cos",
        "tan",
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sinh",
        "cosh",
        "log1p",
    ):
        names[n] = getattr(anp, n)
    return types.SimpleNamespace(**names)


def autograd_gradient(case: Case, args: tuple) -> tuple[list[Any], ...]:
    """HIPS autograd's gradient of ``case.fn`` at ``args``, one entry per ``wrt`` item.

    Every float array of every argument is traced, not only the ``wrt`` ones, so that
    ``x.dot(w)`` on a constant ``x`` still sees a box; Python floats are traced only in ``wrt``
    arguments (autograd has no adjoint for ``np.clip``'s bounds, for example). Each entry of
    the result is the list of leaf gradients of that argument, in :func:`_leaves` order.
    """
    autograd = pytest.importorskip("autograd")
    anp = importlib.import_module("autograd.numpy")
    fn = case.fn
    env = {**fn.__globals__, "np": anp, "math": _autograd_math(anp)}
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


# --------------------------------------------------------------------------- tests

IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_central_differences(case: Case) -> None:
    args = case.args(np.float64)
    try:
        from srcgrad.testing import check_grad
    except ImportError:
        check_grad = None
    if check_grad is not None:
        check_grad(case.fn, *args, wrt=case.wrt)
    else:
        grads = _grad_fn(case)(*args)
        central_difference_check(case.fn, args, case.wrt, grads, seed=case.seed)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_autograd(case: Case) -> None:
    pytest.importorskip("autograd")
    if case.autograd_skip:
        pytest.skip(f"autograd cannot run {case.name}: {case.autograd_skip}")
    args = case.args(np.float64)
    expected = autograd_gradient(case, args)
    assert_matches_oracle(case, args, _grad_fn(case)(*args), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_gradient_has_float32_dtype_and_agrees(case: Case) -> None:
    assert_float32_agrees(case, _grad_fn(case))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_value_is_bit_identical_to_forward(case: Case, dtype: Any) -> None:
    assert_value_bit_identical(case, _value_and_grad_fn(case), dtype)


def _assert_same_structure(arg: Any, grad: Any, where: str) -> None:
    if isinstance(arg, dict):
        assert type(grad) is dict, f"{where}: dict in, {type(grad).__name__} out"
        assert list(grad) == list(arg), f"{where}: keys {list(grad)} != {list(arg)}"
        for key in arg:
            _assert_same_structure(arg[key], grad[key], f"{where}[{key!r}]")
    elif isinstance(arg, (list, tuple)):
        assert type(grad) is type(
            arg
        ), f"{where}: {type(arg).__name__} in, {type(grad).__name__} out"
        assert len(grad) == len(arg), f"{where}: length {len(grad)} != {len(arg)}"
        for i, (a, g) in enumerate(zip(arg, grad)):
            _assert_same_structure(a, g, f"{where}[{i}]")
    elif isinstance(arg, np.ndarray) and _is_diff_leaf(arg):
        assert isinstance(grad, np.ndarray), f"{where}: array in, {type(grad).__name__} out"
        assert grad.shape == arg.shape, f"{where}: shape {grad.shape} != {arg.shape}"
        assert grad.dtype == arg.dtype, f"{where}: dtype {grad.dtype} != {arg.dtype}"
    elif isinstance(arg, float):
        assert type(grad) is float, f"{where}: float in, {type(grad).__name__} out"
    else:
        assert grad is None, f"{where}: non-float leaf {arg!r} got gradient {grad!r}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_types_follow_the_contract(case: Case) -> None:
    args = case.args(np.float64)
    before = _copy_tree(args)
    grads = _grad_fn(case)(*args)
    for pos, grad in zip(_positions(case.fn, case.wrt), _as_tuple(grads, case.wrt)):
        _assert_same_structure(args[pos], grad, f"{case.name}: argument {pos}")
    # Aliasing: inputs untouched, and no gradient shares memory with anything the caller holds.
    for a, b in zip(_leaves(args), _leaves(before)):
        assert np.array_equal(a, b), f"{case.name}: an input was modified"
    held = [a for a in _leaves(args) if isinstance(a, np.ndarray)]
    grad_arrays = [g for g in _leaves(_as_tuple(grads, case.wrt)) if isinstance(g, np.ndarray)]
    for i, g in enumerate(grad_arrays):
        for a in held:
            assert not np.shares_memory(g, a), f"{case.name}: gradient {i} aliases an input"
        for j, h in enumerate(grad_arrays[:i]):
            assert not np.shares_memory(g, h), f"{case.name}: gradients {j} and {i} alias"


# --------------------------------------------------------------------------- fake device


def _fakexp() -> Any:
    for name in ("tests.fakexp", "fakexp"):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    pytest.skip("tests/fakexp.py (the fake device namespace) is not there yet")


def _device_ready(case: Case) -> bool:
    """Cases whose arguments are all arrays or Python scalars (no containers)."""
    args = case.args(np.float64)
    flat = all(isinstance(a, (np.ndarray, float, int)) for a in args)
    return flat and any(isinstance(a, np.ndarray) for a in args)


DEVICE_CASES = [case for case in CASES if _device_ready(case)]


@pytest.mark.parametrize("case", DEVICE_CASES, ids=[c.name for c in DEVICE_CASES])
def test_fake_device_gradient_matches_numpy(case: Case) -> None:
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
        host = fakexp.to_host(got)
        np.testing.assert_allclose(
            np.asarray(host, float),
            np.asarray(want, float),
            rtol=1e-12,
            atol=1e-14,
            err_msg=f"{where}: device gradient differs from the numpy gradient",
        )


# --------------------------------------------------------------------------- shared checks
# (the control-flow and calls corpora run the same checks through these)


def assert_matches_oracle(
    case: Any, args: tuple[Any, ...], grads: Any, expected: list[list[Any]], rtol: float, atol: float
) -> None:
    """Each gradient leaf equals the oracle's (autograd's) to ``rtol``/``atol``."""
    grads = _as_tuple(grads, case.wrt)
    for pos, grad, want in zip(_positions(case.fn, case.wrt), grads, expected):
        got = _grad_leaves(args[pos], grad)
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
    args64 = _map_arrays(args32, lambda a: a.astype(np.float64) if a.dtype == np.float32 else a)
    grads32 = _as_tuple(df(*args32), case.wrt)
    grads64 = _as_tuple(df(*args64), case.wrt)
    for pos, g32, g64 in zip(_positions(case.fn, case.wrt), grads32, grads64):
        arg = args32[pos]
        pairs = zip(_leaves(arg), _grad_leaves(arg, g32), _grad_leaves(args64[pos], g64))
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
    expected = case.fn(*_copy_tree(args))
    value, _ = value_and_grad_fn(*args)
    assert type(value) is type(expected), f"{type(value)} != {type(expected)}"
    if hasattr(expected, "dtype"):
        assert value.dtype == expected.dtype
    assert np.array_equal(value, expected), f"{value!r} != {expected!r}"
