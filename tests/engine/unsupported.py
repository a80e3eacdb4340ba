"""Forward functions with one unsupported construct each; `# !<token>` marks where the error
must point (the column of <token> on that line)."""

import numpy as np
import scipy.special


def helper(x):
    return x * 2.0


def uses_list_as_array(x):
    rows = [np.tanh(r) for r in x]
    return np.sum(rows @ x)  # !rows @ x


CAPTURED = np.zeros(3)


def write_into_argument(x):
    x[0] = 1.0  # !x[0]
    return np.sum(x)


def write_into_view(x):
    y = x[1:]
    y[0] = 1.0  # !y[0]
    return np.sum(y)


def write_into_captured(x):
    CAPTURED[0] = np.sum(x)  # !CAPTURED
    return np.sum(x * CAPTURED)


def stale_view(x):
    y = x * 2.0
    row = y[0:2]
    y[0] = 5.0
    return np.sum(row)  # !row


def uses_missing_rule(x):
    y = np.unwrap(x)  # !np.unwrap
    return np.sum(y)


def uses_lambda_value(x):
    return np.sum(np.apply_along_axis(lambda r: r * 2.0, 0, x))  # !lambda


def uses_try(x):
    try:  # !try
        y = np.log(x)
    except ValueError:
        y = x
    return np.sum(y)


def uses_with(x, ctx):
    with ctx:  # !with
        y = x * 2.0
    return np.sum(y)


def uses_builtin_sorted(x, y):
    return np.sum(sorted(x * y))  # !sorted


def uses_attr_write(x, obj):
    obj.cache = x  # !obj.cache
    return np.sum(x)


def uses_recursive_nested(x):
    def down(v, n):
        if n == 0:
            return v
        return down(v * 0.5, n - 1)  # !down(v

    return np.sum(down(x, 3))


def uses_star_args(*xs):  # !*xs
    return np.sum(xs[0])


def uses_undefined(x):
    return np.sum(x * not_defined_anywhere)  # noqa: F821  !not_defined_anywhere


def uses_out_kwarg(x):
    y = np.empty((2, 3))
    np.exp(x, out=y[0])  # !out=
    return np.sum(y)


def uses_global_stmt(x):
    global COUNTER  # !global
    return np.sum(x)


def no_return(x):  # !no_return
    y = x * 2.0


def many_problems(x):
    z = {k: v for k, v in zip("ab", x)}  # !{k
    y = helper(x)
    z = np.unwrap(y)  # !np.unwrap
    return np.sum(z)


def uses_walrus(x):
    y = (z := x * 2.0)  # !z :=
    return np.sum(y + z)


def uses_del(x):
    y = x * 2.0
    del y  # !del
    return np.sum(x)


def uses_active_constant_parameter(w, x):
    return scipy.special.logsumexp(x, b=w)  # !return


def _append_to(lst, v):
    lst.append(v * 2.0)  # !lst.append
    return 0.0


def callee_mutates_list(x):
    items = [x]
    _append_to(items, x)
    return np.sum(np.stack(items))


def _zero_first(y):
    y[0] = 0.0  # !y[0]
    return np.sum(y)


def callee_writes_argument(x):
    z = x * 1.0
    return _zero_first(z) + np.sum(z)
