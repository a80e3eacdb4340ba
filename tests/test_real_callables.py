"""Callables and closures of real code: the closure variables of called functions (factories'
inner functions) read when the gradient runs, functions passed as arguments and defaults,
function tables and factories' lambdas, and bound methods.  Every gradient is checked
against central differences in float64."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import SrcgradError
from srcgrad.testing import check_grad

P = np.array([0.3, -0.7, 1.1, 0.4, -0.2])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _same(f, *args):
    value, _ = srcgrad.value_and_grad(f)(*args)
    assert value == f(*args)
    check_grad(f, *args)


# --------------------------------------------------------------- closures of called functions


def make_split(D, scale):
    def unpack(p):
        return p[:D] * scale, p[D:]

    def objective(p):
        a, b = unpack(p)
        return np.sum(a**2) + np.sum(np.sin(b))

    return objective


def make_settable(scale):
    def helper(p):
        return scale * p

    def objective(p):
        return np.sum(np.tanh(helper(p)))

    def set_scale(s):
        nonlocal scale
        scale = s

    return objective, set_scale


def make_outer(k):
    def make_inner(shift):
        def inner(p):
            return np.exp(k * p + shift)

        def loss(p):
            return np.sum(inner(p))

        return loss

    return make_inner


def make_weighted(weights, act):
    def layer(p):
        return act(weights * p)

    def loss(p):
        return np.sum(layer(p) ** 2)

    return loss


def relu(x):
    return np.maximum(x, 0.0)


def make_clashing(D):
    def tail(p):
        return p[D:]

    def objective(p):
        D = 2.0  # a local of the same name as tail's closure variable
        return np.sum(tail(p) * D)

    return objective


def make_two_levels(D):
    def first(p):
        return p[:D]

    def middle(p):
        return np.sum(first(p) ** 2)

    def objective(p):
        return middle(p) + np.sum(p)

    return objective


@pytest.mark.parametrize(
    "f",
    [
        make_split(2, 3.0),
        make_split(3, -0.5),
        make_outer(0.5)(0.1),
        make_weighted(np.linspace(-1.0, 1.0, 5), np.tanh),
        make_weighted(np.linspace(-1.0, 1.0, 5), relu),
        make_clashing(2),
        make_two_levels(3),
    ],
    ids=[
        "split",
        "split2",
        "nested",
        "array+ufunc",
        "array+user",
        "clash",
        "two-levels",
    ],
)
def test_callee_closure_variables(f):
    _same(f, P)


def test_closure_value_changed_between_calls_is_seen():
    f, set_scale = make_settable(2.0)
    df = srcgrad.grad(f)
    first = df(P)
    np.testing.assert_allclose(first, 2.0 * (1 - np.tanh(2.0 * P) ** 2))
    set_scale(-0.5)
    np.testing.assert_allclose(df(P), -0.5 * (1 - np.tanh(-0.5 * P) ** 2))
    check_grad(f, P)


def test_two_factories_give_their_own_gradients():
    f, g = make_split(2, 3.0), make_split(2, -1.0)
    df, dg = srcgrad.grad(f), srcgrad.grad(g)
    gf, gg = df(P), dg(P)
    assert not np.allclose(gf, gg)
    np.testing.assert_allclose(gf[:2], 18.0 * P[:2])
    np.testing.assert_allclose(gg[:2], 2.0 * P[:2])
    np.testing.assert_allclose(df(P), gf)  # the first still reads its own cells


def test_nested_factories_each_closure_of_a_closure():
    make_inner = make_outer(0.5)
    f, g = make_inner(0.0), make_inner(1.0)
    np.testing.assert_allclose(srcgrad.grad(f)(P), 0.5 * np.exp(0.5 * P))
    np.testing.assert_allclose(srcgrad.grad(g)(P), 0.5 * np.exp(0.5 * P + 1.0))
    h = make_outer(2.0)(0.0)
    np.testing.assert_allclose(srcgrad.grad(h)(P), 2.0 * np.exp(2.0 * P))


def test_a_callee_replaced_by_a_new_closure_never_runs_a_stale_gradient():
    def make(scale):
        def helper(p):
            return scale * p

        return helper

    holder = {"helper": make(2.0)}
    helper = holder["helper"]

    def objective(p):
        return np.sum(helper(p) ** 2)

    df = srcgrad.grad(objective)
    np.testing.assert_allclose(df(P), 8.0 * P)
    helper = make(3.0)  # noqa: F841  (the cell objective reads)
    np.testing.assert_allclose(df(P), 18.0 * P)

    def make_other():
        def helper(p):
            return np.sin(p)

        return helper

    helper = make_other()  # noqa: F841
    np.testing.assert_allclose(df(P), 2 * np.sin(P) * np.cos(P))


def test_emitted_code_names_the_closure_variables():
    text = srcgrad.grad(make_split(2, 3.0)).source
    assert 'SRCGRAD_CLOSURE_READS = {"D": "1:D", "scale": "1:scale"}' in text
    assert "p[:D]" in text
    text = srcgrad.grad(make_clashing(2)).source
    assert '"tail_D": "1:D"' in text


def test_code_without_closure_reads_has_no_table():
    def objective(p):
        return np.sum(np.sin(p))

    assert "SRCGRAD_CLOSURE_READS" not in srcgrad.grad(objective).source


# --------------------------------------------------------------- functions passed as arguments

W = np.array([[0.3, -0.7, 0.2], [1.1, 0.4, -0.5], [-0.2, 0.6, 0.9]])
X = np.array([[0.5, 0.2, -0.4], [-1.0, 0.3, 0.8], [0.1, -0.6, 0.7], [0.9, 0.4, -0.2]])


def softplus(x, beta=1.0):
    return np.logaddexp(0.0, beta * x) / beta


def swish(x):
    return x * np.exp(-np.logaddexp(0.0, -x))


def layer(h, W, act):
    return act(h @ W)


def net(W, x, nonlinearity):
    h = nonlinearity(x @ W)
    return np.sum(layer(h, W.T, nonlinearity) ** 2)


def net_default(W, x, nonlinearity=np.tanh):
    return np.sum(nonlinearity(x @ W) ** 2)


def net_user_default(W, x, nonlinearity=swish):
    return np.sum(layer(x, W, nonlinearity))


def net_aliased(W, x, nonlinearity):
    act = nonlinearity
    return np.mean(act(x @ W)) + np.sum(W**2)


def cube(v):
    return v * v * v


SCALED = lambda v: 0.5 * np.sin(v)  # noqa: E731  (a lambda passed in)


FUNCTIONS = [
    np.tanh,
    np.sin,
    np.exp,
    swish,
    cube,
    SCALED,
    functools.partial(softplus, beta=2.0),
]


@pytest.mark.parametrize(
    "act", FUNCTIONS, ids=lambda a: getattr(a, "__name__", "partial")
)
@pytest.mark.parametrize("f", [net, net_aliased])
def test_function_passed_as_an_argument(f, act):
    _same(f, W, X, act)


def test_function_defaults():
    _same(net_default, W, X)
    _same(net_user_default, W, X)
    _same(net_default, W, X, np.sin)  # the default replaced by an argument


def test_a_different_function_never_runs_a_stale_gradient():
    df = srcgrad.grad(net)
    g_tanh, g_sin = df(W, X, np.tanh), df(W, X, np.sin)
    assert not np.allclose(g_tanh, g_sin)
    np.testing.assert_array_equal(df(W, X, np.tanh), g_tanh)

    def make(k):
        def act(v):
            return k * v

        return act

    g2, g3 = df(W, X, make(2.0)), df(W, X, make(3.0))  # same code, other closures
    np.testing.assert_allclose(g3, (3.0 / 2.0) ** 4 * g2)  # k**4: k enters four times
    check_grad(net, W, X, make(3.0))


def test_emitted_code_calls_the_function_passed_in_by_its_rule():
    df = srcgrad.grad(net)
    df(W, X, np.tanh)
    assert "xp.tanh(" in df.source
    assert "nonlinearity: numpy.tanh" in df.source


# --------------------------------------------------------------- functions bound to local names


def aliased_in_loop_and_branch(x, c):
    y = x
    for _ in range(3):
        fn1 = swish
        y = fn1(y) + 1.0
    if c > 0:
        fn2 = np.cos
        y = fn2(y)
    else:
        y = y * 2.0
    return np.sum(fn1(y))


def aliased_straight(x, c):
    g = np.log1p
    h = cube
    return np.sum(g(x * x) + h(x) * c)


def aliased_on_branches(x, c):
    if c > 0:
        g = np.sin
    else:
        g = np.cos
    return np.sum(g(x))


def aliased_on_branches_followed(x, c):
    if c > 0:
        y = np.sin(x)
    else:
        y = np.cos(x)
    return np.sum(y)


@pytest.mark.parametrize("c", [1.0, -1.0])
@pytest.mark.parametrize("f", [aliased_in_loop_and_branch, aliased_straight])
def test_function_bound_to_a_local_name(f, c):
    _same(f, P, c)


def test_function_bound_to_different_functions_on_branches_is_refused():
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(aliased_on_branches)(P, 1.0)
    err = info.value
    assert err.lineno == aliased_on_branches.__code__.co_firstlineno + 5
    assert "function stored in a variable" in err.message
    assert "np.log(x)" in err.hint
    for c in (1.0, -1.0):
        _same(aliased_on_branches_followed, P, c)


# --------------------------------------------------------------- bound methods


class Model:
    """Configuration on ``self``, parameters passed to the methods."""

    def __init__(self, l2=0.01, activation="tanh", act=np.tanh):
        self.l2 = l2
        self.activation = activation
        self.act = act
        self.scale = np.array([1.0, -0.5, 2.0])

    def hidden(self, W, x):
        h = x @ W
        return np.tanh(h) if self.activation == "tanh" else relu(h)

    def loss(self, W, x, y):
        err = np.sum(self.hidden(W, x) * self.scale, axis=1) - y
        return np.mean(err**2) + self.l2 * np.sum(W**2)

    def loss_act(self, W, x):
        return np.sum(self.act(x @ W)) + self.l2 * np.sum(W**2)

    def two(self, x, W):
        return self.loss(W, x, x[:, 0])


Y = np.array([0.3, -0.2, 0.8, 0.1])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_bound_method(activation):
    m = Model(activation=activation)
    df = srcgrad.value_and_grad(m.loss)
    value, g = df(W, X, Y)
    assert value == m.loss(W, X, Y)
    check_grad(m.loss, W, X, Y)
    df.check(W, X, Y)


def test_bound_method_calling_a_function_attribute_and_wrt():
    for act in (np.sin, swish):
        check_grad(Model(act=act).loss_act, W, X)
    m = Model()
    check_grad(m.two, X, W, wrt=1)
    check_grad(m.two, X, W, wrt="W")
    g = srcgrad.grad(m.two, wrt=(0, 1))(X, W)
    assert g[0].shape == X.shape and g[1].shape == W.shape


def test_bound_method_reads_self_when_it_runs():
    m = Model(l2=0.0)
    df = srcgrad.grad(m.loss)
    g0 = df(W, X, Y)
    m.l2 = 1.0
    np.testing.assert_allclose(df(W, X, Y), g0 + 2.0 * W)
    m.activation = "relu"  # the branch on it is taken when the code runs
    check_grad(m.loss, W, X, Y)
    np.testing.assert_allclose(
        df(W, X, Y), srcgrad.grad(Model(1.0, "relu").loss)(W, X, Y)
    )


def test_bound_method_of_a_redefined_method_never_runs_a_stale_gradient():
    class Sub(Model):
        def hidden(self, W, x):
            return np.sin(x @ W)

    a, b = Model(), Sub()
    ga = srcgrad.grad(a.loss)(W, X, Y)
    gb = srcgrad.grad(b.loss)(W, X, Y)
    assert not np.allclose(ga, gb)
    check_grad(b.loss, W, X, Y)


def test_bound_method_wrt_the_instance_is_an_error():
    with pytest.raises(srcgrad.errors.WrtError):
        srcgrad.grad(Model().loss, wrt="self")


# --------------------------------------------------------------- partials made in the function


def partial_keyword(x, beta):
    sp = functools.partial(softplus, beta=2.0)
    return np.sum(sp(x)) + np.sum(sp(x, beta=beta))


def partial_positional_array(x, w):
    lay = functools.partial(layer, act=np.tanh)
    return np.sum(lay(x, w))


def partial_on_branches(x, c):
    if c > 0:
        f = functools.partial(softplus, beta=0.5)
    else:
        f = functools.partial(softplus, beta=3.0)
    return np.sum(f(x))


def partial_in_loop(x, w):
    y = x
    for _ in range(2):
        step = functools.partial(layer, W=w)
        y = step(y, act=np.sin)
    return np.sum(y)


def test_partial_made_in_the_function():
    _same(partial_keyword, P, 0.7)
    _same(partial_positional_array, X, W)
    check_grad(partial_positional_array, X, W, wrt=1)
    for c in (1.0, -1.0):
        _same(partial_on_branches, P, c)
    _same(partial_in_loop, X, W)
    check_grad(partial_in_loop, X, W, wrt=1)


def lambdas_of_factories(k):
    return lambda v: np.tanh(k * v)


ACT2 = lambdas_of_factories(2.0)


def make_loss_with_lambda(k):
    act = lambdas_of_factories(k)

    def loss(x):
        return np.sum(act(x) ** 2) + np.sum(ACT2(x))

    return loss


def test_lambdas_returned_by_factories():
    f, g = make_loss_with_lambda(0.5), make_loss_with_lambda(-1.5)
    _same(f, P)
    _same(g, P)
    assert not np.allclose(srcgrad.grad(f)(P), srcgrad.grad(g)(P))


# --------------------------------------------------------------- tables of functions

TABLE = {
    "tanh": np.tanh,
    "swish": swish,
    "softplus": lambda v: np.logaddexp(0.0, v),
    "scaled": lambdas_of_factories(3.0),
    "half": functools.partial(softplus, beta=0.5),
}
LAYERS = [np.sin, cube, np.tanh]


def table_constant_key(x, W):
    h = TABLE["swish"](x @ W)
    return np.sum(TABLE["tanh"](h) + TABLE["scaled"](h) + TABLE["half"](h))


def table_configured(x, W, kind):
    return np.sum(TABLE[kind](x @ W) ** 2)


def table_in_loop(x, W, kinds=("softplus", "tanh", "scaled")):
    h = x
    for kind in kinds:
        h = TABLE[kind](h @ W)
    return np.sum(h)


def table_by_position(x, W, i):
    return np.sum(LAYERS[i](x @ W)) + np.sum(LAYERS[-1](x))


def test_table_with_a_constant_key():
    _same(table_constant_key, X, W)
    check_grad(table_constant_key, X, W, wrt=1)


@pytest.mark.parametrize("kind", sorted(TABLE))
def test_table_with_a_key_known_when_the_code_runs(kind):
    _same(table_configured, X, W, kind)
    check_grad(table_configured, X, W, kind, wrt=1)


def test_table_in_a_loop_over_names():
    _same(table_in_loop, X, W)
    _same(table_in_loop, X, W, ("swish", "half"))


@pytest.mark.parametrize("i", [0, 1, 2, -1, -3])
def test_table_by_position(i):
    _same(table_by_position, X, W, i)


def test_table_key_missing_raises_pythons_error():
    with pytest.raises(KeyError):
        table_configured(X, W, "gelu")
    with pytest.raises(KeyError):
        srcgrad.grad(table_configured)(X, W, "gelu")


def test_table_changed_after_the_first_call_is_seen():
    df = srcgrad.grad(table_configured)
    g = df(X, W, "tanh")
    saved = TABLE["tanh"]
    try:
        TABLE["tanh"] = np.sin  # an entry replaced
        np.testing.assert_allclose(
            df(X, W, "tanh"), srcgrad.grad(table_configured)(X, W, "tanh")
        )
        assert not np.allclose(df(X, W, "tanh"), g)
        check_grad(table_configured, X, W, "tanh")
        TABLE["cube"] = cube  # a key added
        _same(table_configured, X, W, "cube")
        np.testing.assert_allclose(
            df(X, W, "cube"), srcgrad.grad(table_configured)(X, W, "cube")
        )
    finally:
        TABLE["tanh"] = saved
        TABLE.pop("cube", None)
    np.testing.assert_allclose(df(X, W, "tanh"), g)


ODD_KEYS = {"soft-plus": softplus, "tanh": np.tanh}


def table_with_odd_keys(x, W, kind):
    return np.sum(ODD_KEYS[kind](x @ W))


def table_with_odd_keys_followed(x, W, act):
    return np.sum(act(x @ W))


def test_table_whose_keys_cannot_be_tracked_is_refused_with_a_hint_that_works():
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(table_with_odd_keys)(X, W, "tanh")
    err = info.value
    assert err.lineno == table_with_odd_keys.__code__.co_firstlineno + 1
    assert "ODD_KEYS" in err.message
    assert "pass it in as an argument" in err.hint
    for kind in ODD_KEYS:
        _same(table_with_odd_keys_followed, X, W, ODD_KEYS[kind])
