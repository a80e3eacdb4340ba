"""The public API (DESIGN §2): grad, value_and_grad, vjp, has_aux, decorators, wrt, gradient
types, aliasing, the faithful forward and the errors.

Every gradient is compared against float64 central differences of the user's function.  Each
test points ``SRCGRAD_CACHE_DIR`` at its own directory and writes the functions it
differentiates into a module file of its own (srcgrad reads source with ``inspect``).
"""

from __future__ import annotations

import re

import copy
import hashlib
import importlib.util
import itertools
import linecache
import os
import sys
import textwrap
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad import api
from srcgrad import tree as pytree

_COUNTER = itertools.count()
EPS = 1e-6


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Callable[[str], types.ModuleType]:
    """``load(source)`` writes ``source`` to a fresh module file and imports it."""
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)
    monkeypatch.delenv("SRCGRAD_DEBUG", raising=False)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    src = tmp_path / "src"
    src.mkdir()
    prefix = f"sgapi_{hashlib.sha1(request.node.name.encode()).hexdigest()[:8]}_{os.getpid()}"

    def _load(source: str) -> types.ModuleType:
        name = f"{prefix}_{next(_COUNTER)}"
        path = src / f"{name}.py"
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        linecache.checkcache(str(path))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, name, mod)
        spec.loader.exec_module(mod)
        return mod

    return _load


def _is_float_leaf(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "f"
    return isinstance(x, float)


def _numeric_leaf(call: Callable[[Any], Any], x: Any) -> Any:
    if isinstance(x, float):
        return (float(call(x + EPS)) - float(call(x - EPS))) / (2 * EPS)
    x = x.astype(np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += EPS
        xm[i] -= EPS
        g[i] = (float(call(xp)) - float(call(xm))) / (2 * EPS)
    return g


def numeric_grad(fun: Callable[..., Any], args: tuple[Any, ...], pos: int) -> Any:
    """Central differences in float64 of scalar ``fun`` w.r.t. argument ``pos``: an array, a
    float, or a container with the argument's structure (``None`` for non-float leaves).
    """
    arg = args[pos]
    out = arg

    for path, leaf in pytree.leaves_with_paths(arg):
        if not _is_float_leaf(leaf):
            out = pytree.replace(out, path, None)
            continue

        def call(v: Any, path: tuple[Any, ...] = path) -> Any:
            new = pytree.replace(arg, path, v)
            return fun(*args[:pos], new, *args[pos + 1 :])

        out = pytree.replace(out, path, _numeric_leaf(call, leaf))
    return out


def assert_tree_close(
    actual: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """Same structure and types; leaves close.  ``expected`` comes from :func:`numeric_grad`."""
    if expected is None:
        assert actual is None, actual
    elif isinstance(expected, dict):
        assert type(actual) is type(expected) and list(actual) == list(expected), actual
        for k in expected:
            assert_tree_close(actual[k], expected[k], rtol, atol)
    elif isinstance(expected, (list, tuple)):
        assert type(actual) is type(expected) and len(actual) == len(expected), actual
        for a, e in zip(actual, expected):
            assert_tree_close(a, e, rtol, atol)
    elif isinstance(expected, float):
        assert type(actual) is float, type(actual)
        assert abs(actual - expected) <= atol + rtol * abs(expected), (actual, expected)
    else:
        assert isinstance(actual, np.ndarray), type(actual)
        assert actual.shape == expected.shape, (actual.shape, expected.shape)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def check(fun: Callable[..., Any], args: tuple[Any, ...], grads: Any, wrt: Any) -> None:
    """``grads`` (as returned for ``wrt``, given as positions) against central differences."""
    if isinstance(wrt, tuple):
        assert isinstance(grads, tuple) and len(grads) == len(wrt)
        for g, pos in zip(grads, wrt):
            assert_tree_close(g, numeric_grad(fun, args, pos))
    else:
        assert_tree_close(grads, numeric_grad(fun, args, wrt))


def arrays_in(tree: Any) -> list[np.ndarray]:
    return [v for v in pytree.leaves(tree) if isinstance(v, np.ndarray)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


# --------------------------------------------------------------------------- grad, vjp


LAYER = """\
import numpy as np


def loss(W, b, x):
    h = np.tanh(x @ W + b)
    return np.mean(h * h)


def vec(x, W):
    return np.tanh(x @ W) * 2.0


def with_aux(x, y):
    d = x - y
    return np.sum(d * d * x), d
"""


def layer_args(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    return rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4))


def test_grad_default_wrt(load, rng) -> None:
    m = load(LAYER)
    args = layer_args(rng)
    check(m.loss, args, srcgrad.grad(m.loss)(*args), 0)


def test_value_and_grad(load, rng) -> None:
    m = load(LAYER)
    args = layer_args(rng)
    value, grads = srcgrad.value_and_grad(m.loss, wrt=("W", "b"))(*args)
    check(m.loss, args, grads, (0, 1))
    expected = m.loss(*args)
    assert np.array_equal(value, expected) and np.asarray(value).dtype == expected.dtype
    value, gx = srcgrad.value_and_grad(m.loss, wrt=2)(*args)
    check(m.loss, args, gx, 2)


def test_vjp_pullback(load, rng) -> None:
    m = load(LAYER)
    x, W = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    value, pullback = srcgrad.vjp(m.vec, wrt=(0, 1))(x, W)
    expected = m.vec(x, W)
    assert np.array_equal(value, expected) and value.dtype == expected.dtype
    u = rng.normal(size=value.shape)
    u_before = u.copy()
    gx, gW = pullback(u)
    check(lambda x, W: np.sum(u * m.vec(x, W)), (x, W), (gx, gW), (0, 1))
    again = pullback(u)
    assert np.array_equal(again[0], gx) and np.array_equal(again[1], gW)
    assert np.array_equal(u, u_before), "the pullback mutated the cotangent"
    for g in (*again, gx, gW):
        assert not np.shares_memory(g, u)
    assert not np.shares_memory(again[0], gx) and not np.shares_memory(again[1], gW)

    # a single wrt gives a single gradient
    value, pullback = srcgrad.vjp(m.vec)(x, W)
    gx1 = pullback(u)
    assert isinstance(gx1, np.ndarray)
    np.testing.assert_allclose(gx1, gx, rtol=1e-12, atol=0)


def test_vjp_cotangent_is_never_returned(load, rng) -> None:
    m = load("""\
        def add(x, y):
            return x + y
        """)
    x, y = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    _, pullback = srcgrad.vjp(m.add, wrt=(0, 1))(x, y)
    u = rng.normal(size=(3, 2))
    gx, gy = pullback(u)
    check(lambda x, y: np.sum(u * m.add(x, y)), (x, y), (gx, gy), (0, 1))
    for g in (gx, gy):
        assert g is not u and not np.shares_memory(g, u) and g.flags.writeable
    assert not np.shares_memory(gx, gy)


def test_has_aux(load, rng) -> None:
    m = load(LAYER)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def loss_only(x, y):
        return m.with_aux(x, y)[0]

    grads, aux = srcgrad.grad(m.with_aux, wrt=(0, 1), has_aux=True)(x, y)
    check(loss_only, (x, y), grads, (0, 1))
    assert np.array_equal(aux, x - y)

    (value, aux), gx = srcgrad.value_and_grad(m.with_aux, has_aux=True)(x, y)
    check(loss_only, (x, y), gx, 0)
    assert np.array_equal(value, loss_only(x, y)) and np.array_equal(aux, x - y)


# --------------------------------------------------------------------------- decorators


DECORATED = """\
import numpy as np
import srcgrad


@srcgrad.grad
def bare(x):
    return np.sum(np.sin(x) * x)


@srcgrad.grad(wrt=("W", "b"))
def layer(W, b, x):
    return np.sum(np.tanh(x @ W + b))
"""


def test_decorator_forms(load, rng) -> None:
    m = load(DECORATED)
    assert isinstance(m.bare, srcgrad.GradFunction)
    assert m.bare.forward.__name__ == "bare" and not isinstance(
        m.bare.forward, srcgrad.GradFunction
    )
    x = rng.normal(size=(3, 4))
    check(m.bare.forward, (x,), m.bare(x), 0)
    assert "def bwd_bare(" in m.bare.source
    # specialised to the argument kinds: <qualname>__wrt-<names>__<spec8>.py
    assert re.fullmatch(
        r"bare__wrt-x__[0-9a-f]{8}\.py", m.bare.path.name
    ), m.bare.path.name
    assert m.bare.path.read_text() == m.bare.source

    W, b, x = layer_args(rng)
    # .source and .path before the first call
    assert "def bwd_layer(" in m.layer.source and "d_W" in m.layer.source
    assert m.layer.path.name == "layer__wrt-W-b.py" and m.layer.path.is_file()
    assert m.layer.path.parent.name == m.__name__
    assert m.layer.forward(W, b, x) == np.sum(np.tanh(x @ W + b))
    check(m.layer.forward, (W, b, x), m.layer(W, b, x), (0, 1))


# --------------------------------------------------------------------------- wrt


THREE = """\
import numpy as np


def three(a, b, c):
    return np.sum(np.sin(a) * b + c * c * a)
"""


def test_wrt_forms(load, rng) -> None:
    m = load(THREE)
    args = tuple(rng.normal(size=(2, 3)) for _ in range(3))
    for wrt, pos in [(0, 0), (-3, 0), ("a", 0), (1, 1), (-1, 2), ("c", 2)]:
        check(m.three, args, srcgrad.grad(m.three, wrt=wrt)(*args), pos)
    for wrt, pos in [((2, "a", -2), (2, 0, 1)), (("b",), (1,)), ((-1, 0), (2, 0))]:
        check(m.three, args, srcgrad.grad(m.three, wrt=wrt)(*args), pos)
    assert srcgrad.grad(m.three, wrt=(2, "a", -2)).wrt == ("c", "a", "b")


@pytest.mark.parametrize("wrt", ["zz", 3, -4, (0, "nope"), (0, 7), 1.5, True, None])
def test_wrt_unknown_parameter(load, rng, wrt) -> None:
    m = load(THREE)
    args = tuple(rng.normal(size=(2, 3)) for _ in range(3))
    with pytest.raises(srcgrad.WrtError) as info:
        srcgrad.grad(m.three, wrt=wrt)(*args)
    assert isinstance(info.value, srcgrad.SrcgradError)
    assert "error:" in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [3, True, np.int64(2), np.arange(6).reshape(2, 3), np.ones((2, 3), dtype=bool)],
    ids=["int", "bool", "np-int", "int-array", "bool-array"],
)
def test_wrt_integer_argument(load, rng, bad) -> None:
    m = load(THREE)
    b, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    with pytest.raises(srcgrad.WrtError) as info:
        srcgrad.grad(m.three, wrt=(1, "a"))(bad, b, c)
    assert "'a'" in str(info.value)
    assert info.value.filename == m.three.__code__.co_filename
    # not named in wrt, an integer argument is fine
    g = srcgrad.grad(m.three, wrt=1)(np.asarray(bad, dtype=float), b, c)
    check(m.three, (np.asarray(bad, dtype=float), b, c), g, 1)


# --------------------------------------------------------------------------- call-time reads


SCALED = """\
import numpy as np

SCALE = 2.0


def scaled(x, a=3.0, *, b=0.5):
    return np.sum(np.sin(x) * a + b * x * x * SCALE)


def make(c):
    def inner(x):
        return np.sum(np.sin(x) * c)

    def set_c(v):
        nonlocal c
        c = v

    return inner, set_c
"""


@pytest.fixture
def no_regeneration(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make any further code generation fail the test."""

    def forbid() -> None:
        def fail(self: api.GradFunction, *a: Any, **k: Any) -> Any:
            raise AssertionError(f"{self.forward.__qualname__} was regenerated")

        monkeypatch.setattr(api.GradFunction, "_generate", fail)

    return forbid


def test_keyword_call_and_defaults(load, rng, no_regeneration) -> None:
    m = load(SCALED)
    x = rng.normal(size=(2, 3))
    df = srcgrad.grad(m.scaled)
    check(m.scaled, (x,), df(x), 0)
    check(lambda x: m.scaled(x, a=-1.5), (x,), df(x=x, a=-1.5), 0)
    check(lambda x: m.scaled(x, 0.25, b=4.0), (x,), df(x, 0.25, b=4.0), 0)
    check(lambda x: m.scaled(x, b=4.0), (x,), df(b=4.0, x=x), 0)
    # gradients w.r.t. a defaulted and a keyword-only parameter
    ga, gb = srcgrad.grad(m.scaled, wrt=("a", "b"))(x)
    check(lambda a, b: m.scaled(x, a, b=b), (3.0, 0.5), (ga, gb), (0, 1))

    no_regeneration()
    # defaults are read at call time
    m.scaled.__defaults__ = (7.0,)
    check(m.scaled, (x,), df(x), 0)
    m.scaled.__kwdefaults__ = {"b": -2.0}
    check(m.scaled, (x,), df(x), 0)
    assert m.scaled(x) != m.scaled(x, 3.0, b=0.5)


def test_closure_read_at_call_time(load, rng, no_regeneration) -> None:
    m = load(SCALED)
    x = rng.normal(size=(2, 3))
    inner, set_c = m.make(2.0)
    df = srcgrad.grad(inner)
    check(inner, (x,), df(x), 0)
    stamp = df.path.stat().st_mtime_ns
    no_regeneration()
    set_c(-5.0)
    check(inner, (x,), df(x), 0)
    other, _ = m.make(
        0.5
    )  # another closure of the same code: the cached file serves it
    check(other, (x,), srcgrad.grad(other)(x), 0)
    assert df.path.stat().st_mtime_ns == stamp


def test_module_global_read_at_call_time(load, rng, no_regeneration) -> None:
    m = load(SCALED)
    x = rng.normal(size=(2, 3))
    df = srcgrad.grad(m.scaled)
    check(m.scaled, (x,), df(x), 0)
    no_regeneration()
    m.SCALE = -7.0
    g = df(x)
    check(m.scaled, (x,), g, 0)
    check(m.scaled, (x,), srcgrad.grad(m.scaled)(x), 0)


# --------------------------------------------------------------------------- gradient types


TYPES = """\
from typing import Any, NamedTuple

import numpy as np


class Params(NamedTuple):
    W: Any
    b: Any
    label: str
    spare: Any


def scal(a, b):
    return a * b + np.sin(a) * np.exp(b)


def f32(W, x):
    return np.sum(np.tanh(x @ W))


def dict_loss(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return np.sum(h * p["scale"])


def seq_loss(layers, x):
    h = np.tanh(x @ layers[0])
    return np.sum(h @ layers[1])


def nt_loss(p, x):
    return np.sum(np.tanh(x @ p.W + p.b))


def unused(x, y, s):
    return np.sum(x * 2.0)
"""


def test_float_gives_float(load) -> None:
    m = load(TYPES)
    ga, gb = srcgrad.grad(m.scal, wrt=(0, 1))(1.3, 0.7)
    assert type(ga) is float and type(gb) is float
    check(m.scal, (1.3, 0.7), (ga, gb), (0, 1))
    g = srcgrad.grad(m.scal)(np.float64(1.3), 0.7)
    assert isinstance(g, float)
    assert_tree_close(float(g), numeric_grad(m.scal, (1.3, 0.7), 0))


def test_float32_gives_float32(load, rng) -> None:
    m = load(TYPES)
    W, x = rng.normal(size=(4, 3)), rng.normal(size=(5, 4))
    W32, x32 = W.astype(np.float32), x.astype(np.float32)
    gW, gx = srcgrad.grad(m.f32, wrt=(0, 1))(W32, x32)
    assert gW.dtype == np.float32 and gx.dtype == np.float32
    assert_tree_close(gW, numeric_grad(m.f32, (W, x), 0), rtol=1e-4, atol=1e-4)
    assert_tree_close(gx, numeric_grad(m.f32, (W, x), 1), rtol=1e-4, atol=1e-4)


def test_dict_argument(load, rng) -> None:
    m = load(TYPES)
    p = {
        "W": rng.normal(size=(4, 3)),
        "b": rng.normal(size=3),
        "scale": 1.5,
        "name": "layer",
        "n": 3,
        "spare": np.ones(2),
        "spare_f": 0.25,
    }
    x = rng.normal(size=(5, 4))
    g = srcgrad.grad(m.dict_loss)(p, x)
    check(m.dict_loss, (p, x), g, 0)
    assert g["name"] is None and g["n"] is None
    assert g["spare"].shape == (2,) and not g["spare"].any()
    assert g["spare_f"] == 0.0


@pytest.mark.parametrize("kind", [list, tuple])
def test_sequence_argument(load, rng, kind) -> None:
    m = load(TYPES)
    layers = kind(
        [rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), "relu", 4, np.ones(3)]
    )
    x = rng.normal(size=(5, 4))
    g = srcgrad.grad(m.seq_loss)(layers, x)
    assert type(g) is kind
    check(m.seq_loss, (layers, x), g, 0)
    assert g[2] is None and g[3] is None and g[4].shape == (3,) and not g[4].any()


def test_namedtuple_argument(load, rng) -> None:
    m = load(TYPES)
    p = m.Params(rng.normal(size=(4, 3)), rng.normal(size=3), "lin", np.ones((2, 2)))
    x = rng.normal(size=(5, 4))
    g = srcgrad.grad(m.nt_loss)(p, x)
    assert type(g) is m.Params
    check(m.nt_loss, (p, x), g, 0)
    assert g.label is None and g.spare.shape == (2, 2) and not g.spare.any()


def test_unused_argument_gets_zeros(load, rng) -> None:
    m = load(TYPES)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(2, 5)).astype(np.float32)
    gx, gy, gs = srcgrad.grad(m.unused, wrt=(0, 1, 2))(x, y, 0.5)
    check(
        m.unused,
        (x, y.astype(np.float64), 0.5),
        (gx, gy.astype(np.float64), gs),
        (0, 1, 2),
    )
    assert gy.shape == y.shape and gy.dtype == np.float32 and not gy.any()
    assert type(gs) is float and gs == 0.0


# --------------------------------------------------------------------------- aliasing


ALIAS = """\
import numpy as np


def add_sum(x, y):
    return np.sum(x + y)


def plain_sum(x, y):
    return np.sum(x) + np.sum(y)


def mul_sum(x, y):
    return np.sum(x * y)


def dot(x, y):
    return np.sum(x.ravel() @ y.ravel())


def transposed(x, y):
    return np.sum(x.T * y.T)


def in_place_local(x, y):
    h = x * 1.0
    h += y
    h *= x
    return np.sum(h)
"""


@pytest.mark.parametrize(
    "name", ["add_sum", "plain_sum", "mul_sum", "dot", "transposed", "in_place_local"]
)
def test_gradients_alias_nothing(load, rng, name) -> None:
    m = load(ALIAS)
    fn = getattr(m, name)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    before = copy.deepcopy((x, y))
    runs = [
        lambda: srcgrad.grad(fn, wrt=(0, 1))(x, y),
        lambda: srcgrad.value_and_grad(fn, wrt=(0, 1))(x, y)[1],
    ]
    for run in runs:
        gx, gy = run()
        check(fn, (x, y), (gx, gy), (0, 1))
        assert not np.shares_memory(gx, gy)
        for g in (gx, gy):
            assert g is not x and g is not y
            assert not np.shares_memory(g, x) and not np.shares_memory(g, y)
            assert g.flags.writeable
        gx[...] = 123.0  # writing into one gradient changes nothing else
        assert not np.any(gy == 123.0)
    assert np.array_equal(x, before[0]) and np.array_equal(y, before[1])


def test_inputs_not_mutated(load, rng) -> None:
    m = load(TYPES)
    p = {
        "W": rng.normal(size=(4, 3)),
        "b": rng.normal(size=3),
        "scale": 1.5,
        "name": "l",
    }
    x = rng.normal(size=(5, 4))
    before = copy.deepcopy((p, x))
    g = srcgrad.grad(m.dict_loss, wrt=(0, 1))(p, x)
    check(m.dict_loss, (p, x), g, (0, 1))
    assert p.keys() == before[0].keys()
    for k, v in p.items():
        assert np.array_equal(v, before[0][k])
    assert np.array_equal(x, before[1])
    for leaf in arrays_in(g):
        assert not any(np.shares_memory(leaf, a) for a in arrays_in((p, x)))


# --------------------------------------------------------------------------- faithful forward


FORWARD = """\
import numpy as np


def mlp(W1, W2, x):
    h = np.maximum(x @ W1, 0.0)
    z = h @ W2
    return np.mean(np.log(np.sum(np.exp(z - np.max(z)), axis=1)))


def mixed(a, s):
    b = a * s + np.sqrt(a * a + 1.0)
    return np.sum(b / (1.0 + np.abs(b))) - np.prod(a[:2]) ** 2


def scalar(a, b):
    return np.sin(a) * b - a / (b + 3.0)
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_is_bit_identical(load, rng, dtype) -> None:
    m = load(FORWARD)
    cases = [
        (
            m.mlp,
            (rng.normal(size=(4, 6)), rng.normal(size=(6, 3)), rng.normal(size=(5, 4))),
        ),
        (m.mixed, (rng.normal(size=(3, 5)), 0.75)),
    ]
    for fn, args in cases:
        args = tuple(a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args)
        value, g = srcgrad.value_and_grad(fn)(*args)
        expected = fn(*args)
        assert np.array_equal(value, expected), (fn.__name__, value, expected)
        assert np.asarray(value).dtype == np.asarray(expected).dtype
        assert g.dtype == dtype
        if dtype == np.float64:
            check(fn, args, g, 0)
    value, (ga, gb) = srcgrad.value_and_grad(m.scalar, wrt=(0, 1))(0.4, 1.7)
    assert value == m.scalar(0.4, 1.7) and type(value) is type(m.scalar(0.4, 1.7))
    check(m.scalar, (0.4, 1.7), (ga, gb), (0, 1))


# --------------------------------------------------------------------------- errors


def test_non_scalar_output_points_at_vjp(load, rng) -> None:
    m = load(LAYER)
    x, W = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    with pytest.raises(srcgrad.NonScalarOutputError) as info:
        srcgrad.grad(m.vec)(x, W)
    assert "vjp" in str(info.value)
    assert info.value.filename == m.vec.__code__.co_filename
    with pytest.raises(srcgrad.NonScalarOutputError):
        srcgrad.value_and_grad(m.vec)(x, W)


def test_exec_function_has_no_source(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    ns: dict[str, Any] = {"np": np}
    exec(
        "def made(x):\n    return np.sum(x * x)\n", ns
    )  # noqa: S102  (no source, on purpose)
    with pytest.raises(srcgrad.SourceNotFoundError) as info:
        srcgrad.grad(ns["made"])(np.ones(3))
    err = info.value
    assert "made" in str(err) and "source" in str(err)
    assert err.hint and "def" in err.hint
    assert isinstance(err, srcgrad.SrcgradError)
    assert not (tmp_path / "cache").exists() or not any(
        (tmp_path / "cache").rglob("*.py")
    )


def test_lambda_is_read_from_its_line(load) -> None:
    m = load("""\
        import numpy as np

        square = lambda x: np.sum(x * x)  # noqa: E731
        pair = (lambda x: np.sum(x), lambda x: np.sum(x * x))
        """)
    x = np.arange(3.0)
    srcgrad.testing.check_grad(m.square, x)
    assert "def bwd__lambda" in srcgrad.grad(m.square).source


def test_a_line_with_two_lambdas_is_unsupported(load) -> None:
    m = load("""\
        import numpy as np

        pair = (lambda x: np.sum(x), lambda x: np.sum(x * x))
        """)
    with pytest.raises(srcgrad.UnsupportedSyntaxError) as info:
        srcgrad.grad(m.pair[1])(np.ones(3))
    err = info.value
    assert "lambda" in str(err) and err.construct == "lambda"
    assert err.hint and "def" in err.hint
    assert err.lineno == 3 and Path(err.filename).name == Path(m.__file__).name
