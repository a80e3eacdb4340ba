"""Callees whose parameter or local names are also names of the caller (its parameters, its
locals, the globals it reads): each name must read the callee's own binding (the argument,
the default, the callee's local), and a nested def must read its enclosing function's
variables, whichever function calls it.  Every ``f*`` takes (x, s): an array and a float."""

import numpy as np

from srcgrad.runtime import namespace

G0 = np.linspace(-0.9, 1.1, 4)
G1 = np.array([0.4, -0.2, 0.7, 1.3])
K = 1.5


# -- a nested def's parameter named like the enclosing parameter -----------------------------
def f_global_pair(x, s):
    def inner(x):
        return x, x

    a, b = inner(G0)
    return np.sum(np.sin(a)) + np.sum(b) * s + 0.5 * np.sum(x * x)


def f_global_single(x, s):
    def inner(x):
        return x

    return np.sum(np.sin(inner(G0))) + s * np.sum(x * x)


def f_global_if(x, s):
    def inner(x):
        v1 = x.copy()
        if np.max(v1) > 0.5:
            v2 = x + v1
            return v2 * s
        return x

    return np.sum(np.sin(inner(G0))) + 0.5 * np.sum(x * x)


def f_global_view(x, s):
    def inner(x):
        return x[1:] * s

    return np.sum(inner(G0)) + np.sum(inner(G0[::-1])) + np.sum(x**2)


def f_global_attribute_view(x, s):
    def inner(x):
        return x * s

    return np.sum(inner(G0.T)) + np.sum(inner(G0.reshape(2, 2))) + np.sum(x**2)


def f_literal(x, s):
    def inner(x):
        return x * s

    return inner(2.0) + inner(3) + np.sum(x**2)


def f_expression(x, s):
    def inner(x):
        return np.sum(x)

    return inner(x * s) + inner(G0 * 2.0) + inner(G0 + s) + np.sum(x**2)


def f_keyword(x, s):
    def inner(a, x):
        return np.sum(a * x)

    return inner(x=G0, a=x) + inner(a=x, x=s) + inner(x, x=G1)


def f_default(x, s):
    def inner(a, x=2.5):
        return np.sum(a * x)

    return inner(x) + inner(x, s) + s


def f_swapped(x, s):
    def inner(x, s):
        return np.sum(np.sin(x) * s)

    return inner(s, x) + inner(G0, s) + inner(x, K)


def f_both_globals(x, s):
    def inner(G0, G1):
        return np.sum(G0 * 2.0 - G1)

    return inner(G1, G0) + inner(x, G0) * s + inner(G1, x)


# -- a nested def's parameter or local named like an enclosing local -------------------------
def f_enclosing_local(x, s):
    y = x * s

    def inner(y):
        return np.sum(np.cos(y))

    return inner(G0) + inner(y) + np.sum(y)


def f_local_in_callee(x, s):
    y = x * s

    def inner(a):
        y = a * 2.0
        return np.sum(y)

    return inner(G0) + np.sum(y) + inner(x)


# -- a nested def reading an enclosing variable, called where that name means another thing --
def f_sibling(x, s):
    def scale(v):
        return v * x

    def inner(x):
        return scale(x) + x

    return np.sum(inner(G0)) + np.sum(inner(s * G1))


def f_sibling_local(x, s):
    w = x * s

    def scale(v):
        return v * w

    def inner(w):
        return scale(w)

    return np.sum(inner(G0)) + np.sum(inner(x))


def f_nested_twice(x, s):
    def outer(x):
        def inner(x):
            return np.sin(x)

        return inner(G0) * x

    return np.sum(outer(x * s)) + np.sum(outer(G1))


def f_lambda(x, s):
    sc = lambda v: v * x  # noqa: E731

    def inner(x):
        return sc(x)

    return np.sum(inner(G0)) + s


def f_function_param(x, s):
    def act(v):
        return v * 2.0

    def inner(act, v):
        return act(v)

    return np.sum(inner(np.tanh, x)) + np.sum(act(x)) * s + np.sum(inner(np.sin, G0 * s))


def f_array_module_param(x, s):
    xp = namespace(x)

    def inner(xp):
        return xp * s

    def outer(v):
        xp = v * 2.0
        return np.sum(xp)

    return np.sum(inner(G0)) + outer(x) + np.sum(xp.sin(x))


def f_star(x, s):
    def inner(*x, **s):
        return np.sum(x[0] * x[1]) * s["k"]

    return inner(G0, x, k=s) + inner(x, G1, k=K)


def f_nested_global_name(x, s):
    def inner(G0):
        return np.sum(G0 * G1)

    return inner(x) * s + inner(G1) + np.sum(G0 * x)


def f_loop(x, s):
    y = x * s
    total = 0.0

    def inner(y):
        return np.sum(np.sin(y))

    for k in range(3):
        total = total + inner(G0 * k) + inner(y)
        y = y * 0.5
    return total


def f_def_in_loop(x, s):
    total = 0.0
    if np.sum(x) > -10.0:
        for r in x:
            def inner(u):
                return u * r

            total = total + np.sum(inner(G0)) * s
    k = 0
    while k < 2:
        def twice(x):
            return x * 2.0

        total = total + np.sum(twice(G1) * x)
        k = k + 1
    return total + np.sum(x * x)


def f_late_binding(x, s):
    def scale(v):
        return v * y

    y = x * s

    def inner(y):
        return scale(y)

    return np.sum(inner(G0))


# -- module-level callees --------------------------------------------------------------------
def helper_param(x, s):
    return np.sum(np.sin(x)) * s


def helper_pair(G0, x):
    return np.sum(np.sin(G0) * x)


def helper_local(a):
    x = a * 2.0
    G0 = x + 1.0
    return np.sum(G0 * x)


def helper_nested(x, w):
    def scale(v):
        return v * w

    def inner(w):
        return scale(w)

    return np.sum(inner(x))


def helper_three(G0, G1, x):
    return np.sum(np.sin(G0) * G1 * x)


def helper_passes(G1, G0, x):
    return helper_three(G1, G0, x) + 2.0 * helper_three(G0, x, G1)


def f_module_global(x, s):
    return helper_param(G0, s) + helper_param(x, K) + helper_param(x=G1, s=s)


def f_module_named_globals(x, s):
    return helper_pair(G1, G0) + helper_pair(x, G0 * s) + helper_pair(G0, x)


def f_module_locals(x, s):
    G0 = x * s
    return helper_local(G1) + helper_local(G0) + np.sum(G0)


def f_module_nested(x, s):
    return helper_nested(x * s, G0) + helper_nested(G0, x)


def f_module_passes(x, s):
    return helper_passes(G0, G1, x) + helper_passes(x, G1, s) + helper_passes(G1, x * s, G0)


PROGRAMS = [
    f_global_pair, f_global_single, f_global_if, f_global_view, f_global_attribute_view,
    f_literal, f_expression, f_keyword, f_default, f_swapped, f_both_globals,
    f_enclosing_local, f_local_in_callee, f_sibling, f_sibling_local, f_nested_twice,
    f_lambda, f_function_param, f_array_module_param, f_star, f_nested_global_name, f_loop,
    f_def_in_loop, f_late_binding, f_module_global, f_module_named_globals, f_module_locals,
    f_module_nested, f_module_passes,
]
