# ruff: noqa
"""Programs for tests/test_fuzz_nested_defs_in_blocks.py: nested defs (and lambdas) inside
loop bodies and if/else branches, called there or after.  Each takes ``x`` (4, 3) and ``w``
(3,); the inputs used make every branch run."""

import numpy as np

G0 = np.linspace(-0.9, 1.1, 3)
G1 = np.linspace(-0.9, 1.1, 6).reshape((3, 2))


# -- a def inside a loop: its `return` is the def's, not one of the function's ----------------
def def_in_for_in_if(x, w):  # the fuzzer's program
    if np.sum(x) > -100.0:
        for r0 in x:
            def inner1(u0):
                return u0
            v2 = inner1(r0)
    return np.sum(np.sin(w)) + 0.5 * np.sum(x * x)


def def_in_while_in_if(x, w):
    if np.sum(w) > -100.0:
        i = 0
        while i < 3:
            def h(u):
                return np.tanh(u) * w
            v = h(x[i])
            i = i + 1
    return np.sum(x * x) + np.sum(w)


def def_in_for_result_used(x, w):
    acc = 0.0
    if np.sum(x) > -100.0:
        for r in x:
            def g(u):
                return np.sin(u) * w
            acc = acc + np.sum(g(r))
    return acc + np.sum(x)


def def_per_iteration_captures_loop_variable(x, w):
    acc = np.zeros_like(w)
    for r in x:
        def g(u):
            return u * r
        acc = acc + g(w) + g(np.cos(w))
    return np.sum(acc * acc)


def def_reads_names_when_called(x, w):
    acc = np.zeros_like(w)
    s = w
    for r in x:
        def g(u):
            return u * s
        s = s * r  # g reads the new s: Python's closures bind late
        acc = acc + g(r)
    return np.sum(acc)


def def_in_loop_returns_tuple(x, w):
    tot = 0.0
    for r in x:
        def split(u):
            return np.sin(u), u * w
        a, b = split(r)
        tot = tot + np.sum(a * b)
    return tot


def def_in_loop_with_early_return(x, w):
    for r in x:
        def g(u):
            return u * w
        if np.sum(g(r)) > 1.0:
            return np.sum(g(r) ** 2)
    return np.sum(x)


def def_in_loop_with_break(x, w):
    acc = 0.0
    for r in x:
        def g(u):
            return np.exp(u) * w
        acc = acc + np.sum(g(r))
        if acc > 1.0:
            break
    return acc


def def_in_loop_with_continue_and_return(x, w):
    for r in x:
        def g(u):
            return u * w
        if np.sum(r) > -1.0:
            if np.sum(w) > -5.0:
                continue
        return np.sum(g(r))
    return np.sum(x)


def def_with_own_returns_in_loop(x, w):
    acc = 0.0
    for r in x:
        def g(u):
            for k in range(3):
                if np.sum(u) > k * 0.5:
                    return u * k
            if np.sum(u) > -0.5:
                return u * w
            return u - w
        acc = acc + np.sum(g(r))
    return acc


def def_in_nested_loops(x, w):
    acc = 0.0
    for r in x:
        for c in r:
            def g(u):
                return u * c
            acc = acc + np.sum(g(w))
    return acc


def def_inside_def_in_loop(x, w):
    acc = 0.0
    for r in x:
        def outer(u):
            def inner(v):
                return v * w
            return inner(u) + inner(r)
        acc = acc + np.sum(outer(r))
    return acc


def def_in_if_in_while_with_return(x, w):
    i = 0
    while i < 4:
        if np.sum(x[i]) > 0.0:
            def g(u):
                return u * w
            if np.sum(g(x[i])) > 0.3:
                return np.sum(g(x[i]))
        i = i + 1
    return np.sum(w)


def lambda_in_loop(x, w):
    acc = 0.0
    for r in x:
        g = lambda u: u * r
        acc = acc + np.sum(g(w))
    return acc


def def_in_for_else(x, w):
    acc = 0.0
    for r in x:
        acc = acc + np.sum(r * w)
    else:
        def g(u):
            return u * u
        acc = acc + np.sum(g(w))
    return acc


# -- one name, a different def on each branch: the call runs the branch's def ----------------
def def_on_both_branches(x, w):
    if np.sum(x) > 0.0:
        def g(u):
            return 2.0 * u
    else:
        def g(u):
            return u + w
    return np.sum(g(x) * w)


def def_before_and_in_one_branch(x, w):
    def g(u):
        return u + 1.0
    if np.sum(x) > 0.0:
        def g(u):
            return u * w
    return np.sum(g(x))


def def_in_else_only_redefines(x, w):
    def g(u):
        return u + 1.0
    if np.sum(x) > 0.0:
        y = x * 2.0
    else:
        def g(u):
            return u * w
        y = x
    return np.sum(g(y))


def def_on_elif_chain(x, w):
    s = np.sum(x)
    if s > 1.0:
        def g(u):
            return u * w
    elif s > -1.0:
        def g(u):
            return np.sin(u)
    else:
        def g(u):
            return u * u
    return np.sum(g(x))


def def_on_nested_ifs(x, w):
    if np.sum(w) > 0.0:
        if np.sum(x) > 0.0:
            def g(u):
                return u * w
        else:
            def g(u):
                return u + w
    else:
        def g(u):
            return np.sin(u)
    return np.sum(g(x) * x)


def def_on_branches_in_loop(x, w):
    acc = 0.0
    for r in x:
        if np.sum(r) > 0.0:
            def g(u):
                return u * w
        else:
            def g(u):
                return np.sin(u)
        acc = acc + np.sum(g(r))
    return acc


def def_on_branches_in_while_with_break(x, w):
    i = 0
    acc = 0.0
    while i < 4:
        if np.sum(x[i]) > 0.0:
            def g(u):
                return u * w
        else:
            def g(u):
                return np.cos(u)
        acc = acc + np.sum(g(x[i]))
        if acc > 2.0:
            break
        i = i + 1
    return acc


def def_on_branches_in_unrolled_loop(x, w):
    acc = 0.0
    for k in range(3):
        if k == 1:
            def g(u):
                return u * w
        else:
            def g(u):
                return np.sin(u) + k
        acc = acc + np.sum(g(x[k]))
    return acc


def def_on_branches_one_returns(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return u * w
        return np.sum(g(x))
    else:
        def g(u):
            return np.sin(u)
    return np.sum(g(x))


def def_on_branches_called_twice(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return u * w
    else:
        def g(u):
            return np.cos(u)
    return np.sum(g(x)) + np.sum(g(g(x)))


def def_on_branches_returns_tuple(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return u * w, u
    else:
        def g(u):
            return u, u * w
    a, b = g(x)
    return np.sum(a * np.cos(b))


def def_on_branches_returns_dict(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return {"a": u * w, "b": u}
    else:
        def g(u):
            return {"a": u, "b": np.sin(u)}
    d = g(x)
    return np.sum(d["a"] * d["b"])


def def_on_branches_with_own_returns(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            if np.sum(u) > 0.0:
                return u * w
            return u
    else:
        def g(u):
            for k in range(2):
                if np.sum(u) > k:
                    return u * k
            return np.sin(u)
    return np.sum(g(x)) + np.sum(g(w))


def def_on_branches_constant_result(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return 2.0
    else:
        def g(u):
            return u * w
    return np.sum(g(x) * x)


def def_on_branches_append(x, w):
    parts = []
    if np.sum(w) > 0.0:
        def g(u):
            parts.append(u * w)
            return u
    else:
        def g(u):
            parts.append(np.sin(u))
            return u * 2.0
    y = g(x)
    return np.sum(y) + np.sum(parts[0])


def def_on_branches_called_by_nested_def(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return u * w
    else:
        def g(u):
            return np.sin(u)
    def h(u):
        return g(u) * 2.0 + g(w)
    return np.sum(h(x))


def def_on_branches_called_in_conditional_expression(x, w):
    if np.sum(x) > 0.0:
        def g(u):
            return u * w
    else:
        def g(u):
            return np.sin(u)
    y = g(x) if np.sum(w) > 0.0 else g(w)
    return np.sum(y)


def lambda_on_branches(x, w):
    if np.sum(w) > 0.0:
        g = lambda u: u * w
    else:
        g = lambda u: np.cos(u)
    return np.sum(g(x))


def def_on_branches_static_config(x, w, kind="tanh"):
    if kind == "tanh":
        def act(u):
            return np.tanh(u)
    else:
        def act(u):
            return np.maximum(u, 0.0)
    return np.sum(act(x) * w)


def _helper_with_def_on_branches(x, w):
    if np.sum(x) > 0.0:
        def g(u):
            return u * w
    else:
        def g(u):
            return u - w
    return g(x)


def def_on_branches_in_a_callee(x, w):
    return np.sum(_helper_with_def_on_branches(x, w) * x)


def def_in_first_iteration_only(x, w):
    acc = 0.0
    for i in range(4):
        if i == 0:
            def g(u):
                return u * w * x[i]  # reads i when called
        acc = acc + np.sum(g(x[i]))
    return acc


def lambda_in_first_iteration_only(x, w):
    acc = 0.0
    i = 0
    while i < 4:
        if i == 0:
            g = lambda u: u * w
        acc = acc + np.sum(g(x[i]))
        i = i + 1
    return acc


def def_called_in_the_next_iteration(x, w):
    acc = 0.0
    for i in range(4):
        if i > 0:
            acc = acc + np.sum(h(w) * x[i])
        def h(u):
            return u * x[i] * x[i - 1]
    return acc


# -- a parameter hides the enclosing function's name (the fuzzer's second program) ----------
def param_shadows_closure_name(x, w):
    def inner(u, x):
        return (x @ G1) * np.sum(u)
    return np.sum(np.sin(inner(w, G0))) + 0.5 * np.sum(x * x)


def param_shadows_closure_name_in_loop(x, w):
    acc = 0.0
    for r in x:
        def inner(u, r):
            return u * r
        acc = acc + np.sum(inner(r, G0[0]) * w)
    return acc


# -- refused: which def runs is not known where the call is --------------------------------
def def_in_loop_called_after(x, w):
    for r in x:
        def g(u):
            return u * r
    return np.sum(g(w))


def def_in_loop_called_after__followed(x, w):
    def g(u):
        return u * r
    for r in x:
        pass
    return np.sum(g(w))


def def_in_loop_called_before_it(x, w):
    def g(u):
        return u + 1.0
    acc = 0.0
    for r in x:
        acc = acc + np.sum(g(r) * w)
        def g(u):
            return u * r
    return acc


def def_in_loop_called_before_it__followed(x, w):
    def g(u):
        return u + 1.0
    acc = 0.0
    for r in x:
        acc = acc + np.sum(g(r) * w)
        def g2(u):
            return u * r
    return acc


def def_on_branch_in_loop_called_next_iteration(x, w):
    def g(u):
        return u
    acc = 0.0
    for r in x:
        acc = acc + np.sum(g(r))
        if np.sum(r) > 0.0:
            def g(u):
                return u * w
    return acc


def def_on_branch_and_in_loop_body(x, w):
    acc = 0.0
    def g(u):
        return u
    for r in x:
        if np.sum(r) > 0.0:
            def g(u):
                return u * w
        acc = acc + np.sum(g(r))
        def g(u):
            return np.sin(u)
    return acc


def def_on_branches_different_shapes(x, w):
    if np.sum(w) > 0.0:
        def g(u):
            return u, u
    else:
        def g(u):
            return u * w
    return np.sum(g(x))


# -- a nested def's return is not the function's ---------------------------------------------
def only_the_nested_def_returns(x, w):
    def g(u):
        return u * w
    y = g(x)
