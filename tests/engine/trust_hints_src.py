# ruff: noqa
"""Pairs for tests/test_trust_hints.py: ``<name>`` fails with a hint, ``<name>__followed`` is
the same function rewritten the way the hint says, and must then differentiate correctly."""

import functools

import numpy as np
import scipy.special

import srcgrad

SCALE = 2.0


class Config:
    scale = 3.0

    def factor(self):
        return 2.0

    def apply(self, v):
        return v * 2.0


vec = np.vectorize(lambda v: v * 2.0)


def vectorized(x):
    return np.sum(vec(x) * x)


def vectorized__followed(x):
    return np.sum((x * 2.0) * x)


def local_alias(x):
    g = np.log
    return np.sum(g(x))


def local_alias__followed(x):
    return np.sum(np.log(x))


def nested_def_as_value(x):
    def g(v):
        return v * 2.0

    h = g
    return np.sum(h(x))


def nested_def_as_value__followed(x):
    def g(v):
        return v * 2.0

    return np.sum(g(x))


def config_argument(x, cfg):
    return np.sum(x * cfg.scale * cfg.factor())


def object_method_on_active(x, cfg):
    return np.sum(cfg.apply(x))


def _apply(v):
    return v * 2.0


def object_method_on_active__followed(x, cfg):
    return np.sum(_apply(x))


def attribute_of_active(x):
    y = x * 2.0
    return np.sum(y.flat)


def attribute_of_active__followed(x):
    y = x * 2.0
    return np.sum(y.ravel())


def fill_method(x):
    y = x * 2.0
    y.fill(0.5)
    return np.sum(y * x)


def fill_method__followed(x):
    y = x * 2.0
    y = np.full_like(y, 0.5)
    return np.sum(y * x)


def lambda_value(x):
    return np.sum(np.apply_along_axis(lambda r: r * 2.0, 0, x))


def lambda_value__followed(x):
    f = lambda r: r * 2.0
    return np.sum(f(x))


def rebound_list(x):
    lst = [x]
    lst = [x, x * 2.0]
    return np.sum(np.tanh(lst))


def rebound_list__followed(x):
    lst = [x]
    lst = [x, x * 2.0]
    return np.sum(np.tanh(np.stack(lst)))


def list_concatenation(x):
    state = [x]
    for i in range(2):
        state = state + [x * i]
    return np.sum(np.concatenate(state) ** 2)


def list_concatenation__followed(x):
    state = [x]
    for i in range(2):
        state.append(x * i)
    return np.sum(np.concatenate(state) ** 2)


def _broken_helper(v):
    return v.frobnicate()


def callee_error(x):
    return np.sum(_broken_helper(x))


def unknown_numpy(x, phase):
    return np.sum(x * np.unwrap(phase))


def unknown_numpy__followed(x, phase):
    return np.sum(x * np.unwrap(srcgrad.stop_gradient(phase)))


def constant_parameter(x):
    weights = np.abs(x) + 0.5
    return scipy.special.logsumexp(x, b=weights)


def constant_parameter__followed(x):
    weights = np.abs(x) + 0.5
    return scipy.special.logsumexp(x + np.log(weights))


def builtin_sorted(x):
    return np.sum(np.stack(sorted(x)) * x)


def builtin_sorted__followed(x):
    return np.sum(np.sort(x) * x)


def dict_float_keys(x):
    d = {k: x * k for k in (1.0, 2.0)}
    return np.sum(d[1.0] * d[2.0])


def dict_float_keys__followed(x):
    d = {k: x * (k + 1.0) for k in (0, 1)}
    return np.sum(d[0] * d[1])


def starred_target(x):
    a, *rest = x
    return a * np.sum(rest)


def starred_target__followed(x):
    a, rest = x[0], x[1:]
    return a * np.sum(rest)


def _make(k):
    def g(v):
        return v * k

    return g


def call_of_call(x):
    return np.sum(_make(2.0)(x))


def _scaled(v, k):
    return v * k


def call_of_call__followed(x):
    return np.sum(_scaled(x, 2.0))


def nested_recursion(x):
    def r(v, n):
        if n == 0:
            return v
        return r(v * 2.0, n - 1)

    return np.sum(r(x, 2))


def _r(v, n):
    if n == 0:
        return v
    return _r(v * 2.0, n - 1)


def nested_recursion__followed(x):
    return np.sum(_r(x, 2))


def match_on_mode(x, mode):
    match mode:
        case "sq":
            return np.sum(x**2)
        case _:
            return np.sum(x)


def match_on_mode__followed(x, mode):
    if mode == "sq":
        return np.sum(x**2)
    return np.sum(x)


def with_errstate(x):
    with np.errstate(all="ignore"):
        y = np.log(x)
    return np.sum(y)


def with_errstate__followed(x):
    y = np.log(x)
    return np.sum(y)


def global_statement(x):
    global SCALE
    return np.sum(x * SCALE)


def global_statement__followed(x, scale):
    return np.sum(x * scale)


def random_from_active(mu, rng):
    return np.sum(rng.normal(mu, 0.5) ** 2)


def random_from_active__followed(mu, rng):
    return np.sum((mu + 0.5 * rng.standard_normal(mu.shape)) ** 2)


def conditional_import(x):
    import math

    return np.sum(x) * math.pi


def conditional_import__followed(x):
    return np.sum(x) * np.pi


def function_argument(x, act):
    return np.sum(act(x) * x)


def _make_function_argument__followed(act):
    def f(x):
        return np.sum(act(x) * x)

    return f


function_argument__followed = _make_function_argument__followed(np.tanh)


def list_slice(x):
    items = [x, x * 2.0, x * 3.0]
    first = int(np.argmax(x))  # a bound known only at run time
    return np.sum(items[first:])


def list_slice__followed(x):
    items = [x, x * 2.0, x * 3.0]
    first = int(np.argmax(x))
    return np.sum(np.stack(items)[first:])


def list_of_tuples(pts):
    pairs = []
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            pairs.append((i, j, np.sqrt(np.sum(d * d))))
    total = 0.0
    for i, j, r in pairs:
        total = total + np.exp(-r) * (i + j + 1)
    return total


def list_of_tuples__followed(pts):
    Is, Js, Rs = [], [], []
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            Is.append(i)
            Js.append(j)
            Rs.append(np.sqrt(np.sum(d * d)))
    total = 0.0
    for i, j, r in zip(Is, Js, Rs):
        total = total + np.exp(-r) * (i + j + 1)
    return total


def _fold_step(acc, v):
    return np.tanh(acc * v)


_FOLDS = {"tanh": _fold_step}


def reduce_fold(x):
    # (a fold of a function reached by name runs as a loop; one read from a table is
    # refused with the loop hint)
    return np.sum(functools.reduce(_FOLDS["tanh"], [x, 2.0 * x], x))


def reduce_fold__followed(x):
    acc = x
    for item in [x, 2.0 * x]:
        acc = _FOLDS["tanh"](acc, item)
    return np.sum(acc)


def list_in_dict(x):
    cache = {"k": []}
    for i in range(3):
        cache["k"].append(x * i)
    return np.sum(np.stack(cache["k"]) ** 2)


def list_in_dict__followed(x):
    items = []
    for i in range(3):
        items.append(x * i)
    return np.sum(np.stack(items) ** 2)
