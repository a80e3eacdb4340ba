"""Random draws and shape reads in real numpy code.

A sampler of the user's generator (passed in, a module global, a closure's, or numpy's own
global one) is called once per forward run, on that very object: the value is bit-identical
to the plain call's with a generator in the same state, the generator is left in the state
the plain call leaves it in, the backward pass draws nothing, and the gradient is the
function's at the noise that run drew (central differences with the noise fixed, that is
from the generator's state before the call).  Shape reads (``len(x)``, ``np.shape(x)``,
``x.ndim``, ``np.size(x)``, ...) of a value that carries a gradient are constants, usable
wherever a constant is (a draw's size, a reshape, a range, ``*``-unpacking).  What stays
refused names the user's line, and its hint, followed, works.
"""

from __future__ import annotations

import copy
import inspect
import os
import re
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from numpy.random import RandomState, default_rng, randn

import srcgrad
from srcgrad.errors import SrcgradError
from srcgrad.testing import check_grad

_GENERATORS = (np.random.Generator, np.random.RandomState)


@pytest.fixture(autouse=True, scope="module")
def _own_cache(tmp_path_factory: pytest.TempPathFactory):
    """Emitted files go to a directory of this module's, never to the repository's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SRCGRAD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.delenv("SRCGRAD_CACHE", raising=False)
        yield


# --------------------------------------------------------------------------- helpers


def _state(g: Any) -> str:
    """A generator's state, comparable with ``==``."""
    return repr(_snapshot(g))


def _snapshot(g: Any) -> Any:
    return copy.deepcopy(
        g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()
    )


def _restore(g: Any, state: Any) -> None:
    if isinstance(g, np.random.Generator):
        g.bit_generator.state = copy.deepcopy(state)
    else:
        g.set_state(state)


def _global_rs() -> np.random.RandomState:
    """numpy's global generator (what np.random.randn draws from)."""
    return np.random.mtrand._rand


def _central_differences(
    f: Callable[..., Any],
    args: tuple,
    pos: int,
    fresh: Callable[[], tuple],
    eps: float = 1e-6,
) -> np.ndarray:
    """d f / d args[pos] by central differences; ``fresh()`` gives the arguments with
    every generator back in the state before the call (the noise fixed)."""
    x = np.asarray(args[pos], dtype=np.float64)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        vals = []
        for sign in (1, -1):
            new = list(fresh())
            moved = x.copy()
            moved[idx] += sign * eps
            new[pos] = moved
            vals.append(float(f(*new)))
        out[idx] = (vals[0] - vals[1]) / (2 * eps)
    return out


def check_random(
    f: Callable[..., Any],
    *args: Any,
    wrt: int | tuple[int, ...] = 0,
    shared: tuple[Any, ...] = (),
) -> tuple[Any, Any]:
    """The checks of the module docstring for ``f(*args)``.  Generator arguments are
    mirrored by copies for the plain call; ``shared`` are generators ``f`` reads itself (a
    global, a closure's), rewound to their state before the call for the plain call and
    for central differences.  Returns (value, gradients)."""
    before = copy.deepcopy(args)
    shared_before = [_snapshot(g) for g in shared]

    def fresh() -> tuple:
        for g, s in zip(shared, shared_before):
            _restore(g, s)
        return copy.deepcopy(before)

    plain_args = fresh()
    plain = f(*plain_args)
    plain_shared = [_state(g) for g in shared]
    for g, s in zip(shared, shared_before):
        _restore(g, s)
    value, grads = srcgrad.value_and_grad(f, wrt=wrt)(*args)
    # the value: bit-identical to the plain call's
    assert type(value) is type(plain)
    assert np.asarray(value).tobytes() == np.asarray(plain).tobytes(), (value, plain)
    # every generator: where the plain call leaves it (one draw per forward run)
    for a, b in zip(args, plain_args):
        if isinstance(a, _GENERATORS):
            assert _state(a) == _state(b), "the generator argument drew differently"
    assert [
        _state(g) for g in shared
    ] == plain_shared, "a captured generator drew again"
    # the gradient: the function's at the noise that run drew
    after = [_snapshot(g) for g in shared]
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    gs = grads if isinstance(wrt, tuple) else (grads,)
    for pos, g in zip(positions, gs):
        want = _central_differences(f, before, pos, fresh)
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-6)
    for g, s in zip(shared, after):
        _restore(g, s)
    return value, grads


def refusal(f: Callable[..., Any], *args: Any, wrt: Any = 0) -> SrcgradError:
    """The SrcgradError ``f`` gets; it names a line of ``f`` in this file."""
    with pytest.raises(SrcgradError) as info:
        srcgrad.value_and_grad(f, wrt=wrt)(*args)
    err = info.value
    lines, first = inspect.getsourcelines(f)
    for e in err.errors:
        assert os.path.samefile(e.filename, __file__), str(err)
        assert first <= e.lineno < first + len(lines), str(err)
        assert e.hint, str(err)
    return err


def _line(err: SrcgradError) -> str:
    e = err.errors[0]
    with open(e.filename) as fh:
        return fh.read().splitlines()[e.lineno - 1]


X = np.random.RandomState(1).randn(4, 3)
SIGMA = 0.5 + np.random.RandomState(2).rand(4, 3)
PARAMS = [np.random.RandomState(3).randn(4, 3), np.random.RandomState(4).randn(4, 3)]


# --------------------------------------------------------------------------- programs
# generators passed in


def reparameterised(mu, sigma, rng):
    z = mu + sigma * rng.normal(size=mu.shape)
    return np.sum(np.tanh(z) ** 2)


def dropout(x, rs, keep=0.8):
    mask = rs.rand(*x.shape) < keep
    h = np.tanh(x) * mask / keep
    return np.mean(h**2)


def randn_unpacked(x, rs):
    return np.sum(np.sin(x * rs.randn(*x.shape)))


def standard_normal_of_shape(x, rng):
    n, d = np.shape(x)
    eps = rng.standard_normal((n, d))
    return np.sum((x + 0.1 * eps) ** 3)


def minibatch_randint(x, rs):
    idx = rs.randint(0, len(x), size=3)
    return np.sum(np.tanh(x[idx]) ** 2)


def minibatch_integers(x, rng):
    idx = rng.integers(0, x.shape[0], size=5)
    return np.sum(x[idx] ** 2)


def minibatch_choice(x, rng):
    idx = rng.choice(len(x), size=2, replace=False)
    return np.sum(np.exp(x[idx]))


def shuffled(x, rng):
    perm = rng.permutation(np.shape(x)[0])
    return np.sum(x[perm] * np.arange(len(x))[:, None])


def draws_in_a_loop(x, rng):
    h = x
    for _ in range(3):
        h = np.tanh(h + 0.3 * rng.standard_normal(h.shape))
    return np.sum(h**2)


def noise_helper(shape, rng):
    return rng.normal(0.0, 0.2, size=shape)


def draw_in_a_helper(x, rng):
    return np.sum((x + noise_helper(x.shape, rng)) ** 2)


def unused_draws(x, rng):
    rng.normal(size=5)  # advances the generator only
    _ = rng.uniform(size=x.shape)  # never read
    return np.sum(x**2)


def recomputed_line(x, rng):
    e = rng.normal(size=x.shape)  # srcgrad: recompute
    return np.sum(np.sin(x + e))


def recomputed_reparameterisation(x, rng):
    z = x + 0.5 * rng.normal(size=x.shape)  # srcgrad: recompute
    return np.sum(np.sin(z) ** 2)


def draws_of_arguments_not_differentiated(x, loc, scale, rng, batch=2):
    e = rng.normal(loc, scale)  # loc: an array, scale: a float, neither differentiated
    rng.normal(0.0, scale, size=3)  # never read
    idx = rng.choice(len(x), size=batch, replace=False)
    return np.sum(np.sin(x + e)[idx])


def generator_made_from_a_seed(x, seed):
    rng = np.random.default_rng(seed)
    rs = np.random.RandomState(seed + 1)
    return np.sum(x * rng.normal(size=x.shape)) + np.sum(
        np.tanh(x) * rs.randn(*x.shape)
    )


class Config:
    """A settings object (not differentiated) that holds the generator."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.scale = 0.2


def generator_of_a_config(x, cfg):
    return np.sum(np.tanh(x + cfg.rng.normal(0.0, cfg.scale, size=x.shape)) ** 2)


def draw_of_shape_reads(x, rs):
    e = rs.randn(len(x), np.shape(x)[1])
    return np.sum(x * e) * np.ndim(x)


def either_generator(x, rng):
    return np.sum(
        x * rng.standard_normal(x.shape) + rng.uniform(-1, 1, size=x.shape[1])
    )


# captured generators and numpy's global one

RNG = np.random.default_rng(11)
RS = np.random.RandomState(12)


def global_generator(mu, sigma):
    return np.sum((mu + sigma * RNG.normal(size=mu.shape)) ** 2)


def global_random_state(x):
    return np.sum(np.tanh(x) * RS.randn(*x.shape))


def make_closure(seed):
    rs = np.random.RandomState(seed)

    def objective(x):
        mask = rs.rand(*x.shape) < 0.5
        return np.sum((x * mask) ** 2)

    return objective


closure_generator = make_closure(13)


def module_randn(x):
    return np.sum(x * np.random.randn(*x.shape))


def module_normal(x):
    return np.sum(np.sin(x + np.random.normal(size=x.shape)))


def module_rand(x):
    return np.sum(x**2 * np.random.rand(x.shape[0], x.shape[1]))


def module_uniform(x):
    return np.sum(x * np.random.uniform(-1.0, 1.0, size=np.shape(x)))


def seeded_inside(x):
    rng = np.random.default_rng(3)
    return np.sum(x * rng.normal(size=x.shape))


def seeded_inside_imported(x):
    rs = RandomState(4)
    return np.sum(np.tanh(x) * rs.randn(*x.shape)) + np.sum(x * default_rng(5).random())


# --------------------------------------------------------------------------- tests: draws


def test_reparameterised_noise_gradient_is_the_noise():
    rng = np.random.default_rng(5)
    noise = copy.deepcopy(rng).normal(size=X.shape)

    def linear(mu, sigma, rng):
        z = mu + sigma * rng.normal(size=mu.shape)
        return np.sum(z)

    _, (d_mu, d_sigma) = check_random(linear, X, SIGMA, rng, wrt=(0, 1))
    np.testing.assert_array_equal(d_mu, np.ones_like(X))
    np.testing.assert_array_equal(d_sigma, noise)
    check_random(reparameterised, X, SIGMA, np.random.default_rng(6), wrt=(0, 1))


@pytest.mark.parametrize(
    "f, make",
    [
        (dropout, lambda: np.random.RandomState(7)),
        (randn_unpacked, lambda: np.random.RandomState(8)),
        (standard_normal_of_shape, lambda: np.random.default_rng(9)),
        (standard_normal_of_shape, lambda: np.random.RandomState(9)),
        (minibatch_randint, lambda: np.random.RandomState(10)),
        (minibatch_integers, lambda: np.random.default_rng(10)),
        (minibatch_choice, lambda: np.random.default_rng(11)),
        (minibatch_choice, lambda: np.random.RandomState(11)),
        (shuffled, lambda: np.random.default_rng(12)),
        (draws_in_a_loop, lambda: np.random.default_rng(13)),
        (draw_in_a_helper, lambda: np.random.default_rng(14)),
        (unused_draws, lambda: np.random.default_rng(15)),
        (recomputed_line, lambda: np.random.default_rng(16)),
        (recomputed_reparameterisation, lambda: np.random.default_rng(16)),
        (draw_of_shape_reads, lambda: np.random.RandomState(17)),
    ],
)
def test_generator_argument(f, make):
    check_random(f, X, make())


def test_generator_of_a_config_object():
    cfg = Config(5)
    mirror = copy.deepcopy(cfg)
    value, grad = srcgrad.value_and_grad(generator_of_a_config)(X, cfg)
    assert value == generator_of_a_config(X, mirror)
    assert _state(cfg.rng) == _state(mirror.rng)
    before = Config(5)
    want = _central_differences(
        generator_of_a_config, (X, before), 0, lambda: (X, copy.deepcopy(before))
    )
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-6)


def test_draws_of_arguments_not_differentiated_ahead_of_time():
    """Generated before any call (the generator's type unknown): a sampler's name called
    on an argument is a draw, refused only where a differentiated value reaches it."""
    df = srcgrad.value_and_grad(draws_of_arguments_not_differentiated)
    assert "rng.choice(" in df.source
    df = srcgrad.value_and_grad(draw_of_a_gradient, wrt=(0, 1))
    with pytest.raises(SrcgradError, match="random draw .normal"):
        df.source


def test_generator_made_from_a_seed_argument():
    check_random(generator_made_from_a_seed, X, 3)
    check_random(generator_made_from_a_seed, X, 4)


def test_draws_of_arguments_not_differentiated():
    """Arguments that are no constants but carry no gradient (an array or a float not in
    ``wrt``, an int) may size or shift a draw."""
    loc = np.random.RandomState(4).randn(4, 3)
    check_random(
        draws_of_arguments_not_differentiated, X, loc, 0.3, np.random.default_rng(3)
    )


@pytest.mark.parametrize("shape", [(4, 3), (1, 3), (4, 1), (5, 2)])
def test_generator_argument_shapes(shape):
    """A length-1 axis gets its own specialisation; other lengths share one."""
    x = np.random.RandomState(3).randn(*shape)
    check_random(dropout, x, np.random.RandomState(1))
    check_random(standard_normal_of_shape, x, np.random.default_rng(2))


def test_generic_code_draws_from_the_argument(monkeypatch):
    monkeypatch.setenv("SRCGRAD_SPECIALISE", "0")
    check_random(dropout, X, np.random.RandomState(21))
    check_random(reparameterised, X, SIGMA, np.random.default_rng(22), wrt=(0, 1))


def test_source_before_any_call():
    """Generated ahead of time (the generator's type unknown): the draws are constants."""
    df = srcgrad.value_and_grad(reparameterised, wrt=(0, 1))
    assert "rng.normal(size=mu.shape)" in df.source
    check_random(reparameterised, X, SIGMA, np.random.default_rng(23), wrt=(0, 1))


def test_gradient_is_not_cached_on_the_generator_state():
    """Each call draws afresh from the generator as it then is, on one emitted file."""
    rng, mirror = np.random.default_rng(30), np.random.default_rng(30)
    df = srcgrad.value_and_grad(reparameterised, wrt=(0, 1))
    for _ in range(3):
        before = copy.deepcopy(mirror)
        plain = reparameterised(X, SIGMA, mirror)
        value, (d_mu, _) = df(X, SIGMA, rng)
        assert value == plain
        assert _state(rng) == _state(mirror)
        want = _central_differences(
            reparameterised,
            (X, SIGMA, before),
            0,
            lambda: (X, SIGMA, copy.deepcopy(before)),
        )
        np.testing.assert_allclose(d_mu, want, rtol=1e-5, atol=1e-6)
    # the other kind of generator, the same method: the same code works
    check_random(either_generator, X, np.random.default_rng(31))
    check_random(either_generator, X, np.random.RandomState(31))


def test_backward_pass_never_draws():
    rng = np.random.default_rng(40)
    mirror = copy.deepcopy(rng)
    value, pullback = srcgrad.vjp(draws_in_a_loop)(X, rng)
    assert value == draws_in_a_loop(X, mirror)
    after = _state(rng)
    g1 = pullback(1.0)
    g2 = pullback(1.0)
    assert _state(rng) == after
    np.testing.assert_array_equal(g1, g2)
    bwd = _code(srcgrad.vjp(draws_in_a_loop).source, "bwd_draws_in_a_loop")
    assert "rng" not in bwd, bwd
    df = srcgrad.value_and_grad(recomputed_reparameterisation)
    df(X, np.random.default_rng(41))
    bwd = _code(df.source, "bwd_recomputed_reparameterisation")
    assert "rng" not in bwd and "z = x + 0.5 * " in bwd, bwd  # the kept draw


@pytest.mark.parametrize(
    "f, shared, wrt",
    [
        (global_generator, (RNG,), (0, 1)),
        (global_random_state, (RS,), 0),
        (closure_generator, (closure_generator.__closure__[0].cell_contents,), 0),
        (module_randn, (_global_rs(),), 0),
        (module_normal, (_global_rs(),), 0),
        (module_rand, (_global_rs(),), 0),
        (module_uniform, (_global_rs(),), 0),
        (seeded_inside, (), 0),
        (seeded_inside_imported, (), 0),
    ],
)
def test_captured_generator(f, shared, wrt):
    args = (X, SIGMA) if wrt == (0, 1) else (X,)
    check_random(f, *args, wrt=wrt, shared=shared)


def test_numpy_global_generator_is_read_through_numpy_random():
    """Never the array namespace's ``random`` (cupy's, or none): numpy's own generator."""
    df = srcgrad.value_and_grad(module_randn)
    df(X)
    assert "import numpy.random as" in df.source
    assert "xp.random" not in df.source
    np.random.seed(3)
    plain = module_randn(X)
    np.random.seed(3)
    assert df(X)[0] == plain


# --------------------------------------------------------------------------- tests: shapes


def len_divides(x):
    return np.sum(x / len(x))


def np_shape_index(x):
    return np.sum(np.tanh(x)) / np.shape(x)[0]


def zeros_of_np_shape(x):
    z = np.zeros(np.shape(x))
    return np.sum((z + x) ** 2)


def shape_attributes(x):
    return np.sum(x**2) / x.shape[0] + np.sum(x) * x.ndim / x.size


def np_ndim_size(x):
    h = np.tanh(x @ x.T)
    return np.sum(h) * np.ndim(h) / np.size(h) + np.sum(x) / np.size(x, 0)


def dtype_reads(x):
    z = np.zeros(x.shape, dtype=x.dtype) + x
    return np.sum(z * x.dtype.type(2.0)) + np.finfo(x.dtype).eps


def range_of_len(x):
    t = 0.0
    for i in range(len(x)):
        t = t + np.sum(x[i] ** 2) * (i + 1)
    return t


def reshape_of_shape_reads(x):
    h = np.tanh(x)
    n = np.shape(h)[0]
    return np.sum(h.reshape(n, -1) ** 2) + np.sum(np.reshape(h, (len(h), -1)))


def comparisons_of_shapes(x):
    h = np.sin(x)
    if len(h) > 2 and np.shape(h)[1] >= 2 and h.ndim == 2:
        return np.sum(h**2)
    return np.sum(h)


def unpacked_np_shape(x):
    n, d = np.shape(x)
    return np.sum(x**2) / (n * d)


def len_of_a_list_argument(params, x):
    t = 0.0
    for W in params:
        t = t + np.sum(np.tanh(W * x))
    return t / len(params)


def len_of_a_growing_list(x):
    hs = []
    t = 0.0
    for i in range(3):
        hs.append(np.tanh(x * (i + 1)))
        t = t + np.sum(hs[-1]) * len(hs)
    return t / len(hs)


def unpacked_constants(x):
    z = np.zeros((*x.shape, 2))
    s = x.shape
    y = x.ravel().reshape(*s)
    return np.sum(y**2) + np.sum(z) + np.sum(np.eye(*x.shape) * x)


@pytest.mark.parametrize(
    "f",
    [
        len_divides,
        np_shape_index,
        zeros_of_np_shape,
        shape_attributes,
        np_ndim_size,
        dtype_reads,
        range_of_len,
        reshape_of_shape_reads,
        comparisons_of_shapes,
        unpacked_np_shape,
        unpacked_constants,
        len_of_a_growing_list,
    ],
)
@pytest.mark.parametrize("shape", [(4, 3), (1, 3), (3, 1)])
def test_shape_reads_are_constants(f, shape):
    x = np.random.RandomState(5).randn(*shape)
    check_grad(f, x)
    value = srcgrad.value_and_grad(f)(x)[0]
    assert np.asarray(value).tobytes() == np.asarray(f(x)).tobytes()


def test_len_of_a_list_argument():
    check_grad(len_of_a_list_argument, PARAMS, X, wrt=0)
    check_grad(len_of_a_list_argument, PARAMS, X, wrt=1)
    assert srcgrad.value_and_grad(len_of_a_list_argument, wrt=(0, 1))(PARAMS, X)[
        0
    ] == len_of_a_list_argument(PARAMS, X)


def _code(source: str, function: str) -> str:
    """The lines of the emitted ``function`` that are code (not the forward-line comments)."""
    text = source[source.index(f"def {function}") :]
    text = text[: text.index("\ndef ", 1)] if "\ndef " in text[1:] else text
    return "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith("#"))


def test_shape_reads_make_nothing_active():
    """A shape read is a constant: it gets no cotangent, whatever it is computed from."""
    df = srcgrad.value_and_grad(np_shape_index)
    df(X)
    fwd = _code(df.source, "fwd_np_shape_index")
    (name,) = re.findall(r"(\w+) = xp\.shape\(x\)", fwd)
    bwd = _code(df.source, "bwd_np_shape_index")
    assert not re.search(rf"\bd_{name.lstrip('_')}\b|\bd{name}\b", bwd), bwd


# --------------------------------------------------------------------------- refusals


def draw_of_a_gradient(mu, sigma, rng):
    return np.sum(rng.normal(mu, sigma) ** 2)


def draw_of_a_gradient_hinted(mu, sigma, rng):
    return np.sum((mu + sigma * rng.standard_normal(mu.shape)) ** 2)


def permutation_of_a_gradient(x, rng):
    return np.sum(rng.permutation(x) * np.arange(len(x))[:, None])


def permutation_of_a_gradient_hinted(x, rng):
    return np.sum(x[rng.permutation(len(x))] * np.arange(len(x))[:, None])


def choice_of_a_gradient(x, rng):
    return np.sum(rng.choice(x, size=2) ** 2)


def choice_of_a_gradient_hinted(x, rng):
    return np.sum(x[rng.choice(len(x), size=2)] ** 2)


def shuffle_of_a_gradient(x, rng):
    x = np.tanh(x)
    rng.shuffle(x)
    return np.sum(x * np.arange(len(x))[:, None])


def shuffle_of_a_gradient_hinted(x, rng):
    x = np.tanh(x)
    x = x[rng.permutation(len(x))]
    return np.sum(x * np.arange(len(x))[:, None])


def unpacked_gradients(x):
    pair = (x, 2.0 * x)
    return np.sum(np.add(*pair) ** 2)


def unpacked_gradients_hinted(x):
    pair = (x, 2.0 * x)
    return np.sum(np.add(pair[0], pair[1]) ** 2)


def _helper(a, b):
    return a * b


def unpacked_into_a_helper(x, rs):
    args = (x, rs.rand(*x.shape))
    return np.sum(_helper(*args))


OPS = types.SimpleNamespace(mul=_helper)


def unpacked_into_a_dotted_helper(x, rs):
    args = (x, rs.rand(*x.shape))
    return np.sum(OPS.mul(*args))


def unpacked_into_a_dotted_helper_hinted(x, rs):
    args = (x, rs.rand(*x.shape))
    return np.sum(OPS.mul(args[0], args[1]))


def unpacked_into_a_helper_hinted(x, rs):
    args = (x, rs.rand(*x.shape))
    return np.sum(_helper(args[0], args[1]))


def starred_display_of_gradients(x):
    parts = [x, 2.0 * x]
    return np.sum(np.stack([*parts, x]) ** 2)


def starred_display_of_gradients_hinted(x):
    parts = [x, 2.0 * x]
    return np.sum(np.stack([parts[0], parts[1], x]) ** 2)


def unpacked_into_a_reduction(x):
    axes = (0,)
    return np.sum(x.sum(*axes) ** 2)


def unpacked_into_a_reduction_hinted(x):
    axes = (0,)
    return np.sum(x.sum(axes[0]) ** 2)


@pytest.mark.parametrize(
    "refused, hinted, construct, text",
    [
        (draw_of_a_gradient, draw_of_a_gradient_hinted, "random", "rng.normal(mu"),
        (
            permutation_of_a_gradient,
            permutation_of_a_gradient_hinted,
            "random",
            "rng.permutation(len(x))",
        ),
        (
            choice_of_a_gradient,
            choice_of_a_gradient_hinted,
            "random",
            "rng.choice(len(x)",
        ),
        (
            shuffle_of_a_gradient,
            shuffle_of_a_gradient_hinted,
            "random",
            "rng.permutation(len(x))",
        ),
    ],
)
def test_draw_of_a_gradient_is_refused_with_a_working_hint(
    refused, hinted, construct, text
):
    rng = np.random.default_rng(50)
    wrt = (0, 1) if "mu" in inspect.signature(refused).parameters else 0
    args = (X, SIGMA, rng) if wrt == (0, 1) else (X, rng)
    err = refusal(refused, *args, wrt=wrt)
    assert err.errors[0].construct == construct
    assert text in err.errors[0].hint
    assert "rng." in _line(err)
    check_random(hinted, *args[:-1], np.random.default_rng(51), wrt=wrt)


@pytest.mark.parametrize(
    "unpacked, written_out, needs_rs",
    [
        (unpacked_gradients, unpacked_gradients_hinted, False),
        (unpacked_into_a_helper, unpacked_into_a_helper_hinted, True),
        (unpacked_into_a_dotted_helper, unpacked_into_a_dotted_helper_hinted, True),
    ],
)
def test_unpacking_of_known_items_binds_each_argument(unpacked, written_out, needs_rs):
    """``f(*args)`` where ``args`` is a tuple built in the function: one argument per
    item, as Python binds them (was refused); the same gradient as the written-out call.
    """
    args = (X, np.random.RandomState(60)) if needs_rs else (X,)
    check_random(unpacked, *args)
    check_random(written_out, *args)


@pytest.mark.parametrize(
    "refused, hinted, needs_rs",
    [(unpacked_into_a_reduction, unpacked_into_a_reduction_hinted, False)],
)
def test_unpacking_of_gradients_is_refused_with_a_working_hint(
    refused, hinted, needs_rs
):
    args = (X, np.random.RandomState(60)) if needs_rs else (X,)
    err = refusal(refused, *args)
    assert err.errors[0].construct == "star-args"
    assert "*" in _line(err)
    assert err.errors[0].hint == "pass the arguments explicitly"
    check_random(hinted, *args)


def test_starred_display_of_gradients_is_refused_with_a_working_hint():
    err = refusal(starred_display_of_gradients, X)
    assert err.errors[0].construct == "starred"
    assert "*parts" in _line(err)
    check_random(starred_display_of_gradients_hinted, X)


def generator_in_a_dict(x, cfg):
    return np.sum(x * cfg["rng"].normal(size=x.shape)) * cfg["scale"]


def generator_in_a_dict_hinted(x, cfg, rng):
    return np.sum(x * rng.normal(size=x.shape)) * cfg["scale"]


def imported_sampler_unpacked(x):
    return np.sum(x * randn(*x.shape))


def imported_sampler_unpacked_hinted(x):
    return np.sum(x * randn(x.shape[0], x.shape[1]))


def test_generator_in_a_container_is_refused_with_a_working_hint():
    cfg = {"rng": np.random.default_rng(70), "scale": 2.0}
    err = refusal(generator_in_a_dict, X, cfg)
    assert err.errors[0].construct == "random"
    assert 'cfg["rng"].normal' in _line(err)
    check_random(
        generator_in_a_dict_hinted, X, {"scale": 2.0}, np.random.default_rng(71)
    )


def test_unpacking_into_a_plain_name():
    """``randn(*s)`` (a function imported by name) with a constant shape: kept as written,
    a draw (it was refused: check refused ``*`` in every call of a plain name)."""
    check_random(imported_sampler_unpacked, X, shared=(_global_rs(),))
    check_random(imported_sampler_unpacked_hinted, X, shared=(_global_rs(),))
