# ruff: noqa
# fmt: off
"""Unusual but valid Python, one construct per function, for the "bad/odd inputs" test in
tests/test_trust_errors.py: each must give a right gradient or a SrcgradError at its line,
never another exception."""

import functools
import sys
import math
import numpy as np

SCALE = 2.0


class Cfg:
    scale = 3.0


cfg = Cfg()


def deco(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        return fn(*a, **k)
    return wrapper


@deco
@deco
def stacked_decorators(x):
    return np.sum(x ** 2)


def docstring(x):
    """A docstring."""
    return np.sum(x ** 2)


def annotated(x: np.ndarray, k: float = 2.0) -> float:
    y: np.ndarray = x * k
    return float(np.sum(y))


def annotated_bare(x):
    y: np.ndarray
    y = x * 2.0
    return np.sum(y)


def walrus(x):
    if (n := np.sum(x)) > 0:
        return n * 2.0
    return n


def walrus_in_comprehension(x):
    return sum([(y := v * 2.0) * y for v in x])


def starred_assign(x):
    a, *rest = x
    return a * np.sum(rest)


def starred_assign_tuple(x):
    first, *middle, last = (x[0], x[1], x[2])
    return first * last


def augassign_attribute(x):
    c = Cfg()
    c.scale += 1.0
    return np.sum(x * c.scale)


def augassign_subscript(x):
    y = x.copy()
    y[0] += 2.0 * x[1]
    y[1:] *= 3.0
    return np.sum(y ** 2)


def global_stmt(x):
    global SCALE
    return np.sum(x * SCALE)


def nonlocal_stmt(x):
    k = 2.0

    def inner():
        nonlocal k
        k = k + 1.0
        return k

    return np.sum(x * inner())


def del_stmt(x):
    y = x * 2.0
    z = y + 1.0
    del y
    return np.sum(z)


def with_stmt(x):
    with np.errstate(all="ignore"):
        y = np.log(x)
    return np.sum(y)


def try_stmt(x):
    try:
        y = np.log(x)
    except ValueError:
        y = x
    return np.sum(y)


def match_stmt(x, mode):
    match mode:
        case "sq":
            return np.sum(x ** 2)
        case _:
            return np.sum(x)


def fstring(x):
    label = f"sum of {x.shape[0]} values"
    return np.sum(x) * len(label)


def fstring_print(x):
    y = np.sum(x ** 2)
    print(f"loss={y:.3f}")
    return y


def chained_comparison(x):
    if 0 < x.shape[0] <= 5:
        return np.sum(x ** 2)
    return np.sum(x)


def chained_comparison_active(x):
    m = (0.5 < x) & (x < 2.5)
    return np.sum(np.where(m, x ** 2, 0.0))


def conditional_import(x):
    if x.shape[0] > 1:
        import math as m
        return np.sum(x) * m.pi
    return np.sum(x)


def nested_def(x):
    def sq(v):
        return v * v

    return np.sum(sq(x) + sq(2.0 * x))


def nested_def_closure(x):
    k = 3.0

    def scaled(v):
        return v * k

    return np.sum(scaled(x))


def lambda_default(x):
    f = lambda v, k=2.0: v * k
    return np.sum(f(x))


def lambda_capture(x):
    w = x * 2.0
    f = lambda v: v * w
    return np.sum(f(x))


def kwonly(x, *, k=2.0):
    return np.sum(x ** 2 * k)


def posonly(x, /, k=2.0):
    return np.sum(x ** 2 * k)


def star_args(x, *rest):
    return np.sum(x ** 2)


def ternary(x):
    y = x ** 2 if np.sum(x) > 0 else -x
    return np.sum(y)


def bool_ops(x):
    s = np.sum(x)
    t = s > 0 and s < 100
    return s * 2.0 if t else s


def assert_raise(x):
    assert x.ndim == 1, "expects a vector"
    if x.shape[0] == 0:
        raise ValueError("empty")
    return np.sum(x ** 2)


def semicolons(x):
    a = x * 2.0; b = a + 1.0; return np.sum(b ** 2)


def tuple_swap(x):
    a, b = x[0], x[1]
    a, b = b, a * 2.0
    return a * b


def slice_assign_none(x):
    y = x[None, :] * x[:, None]
    return np.sum(y)


def ellipsis_index(x):
    return np.sum(x[..., 0] ** 2)


def math_funcs(x):
    return math.exp(x) + math.sin(x) * math.sqrt(x)


def while_else(x):
    i = 0
    t = 0.0
    while i < 3:
        t = t + np.sum(x * i)
        i += 1
    else:
        t = t * 2.0
    return t


def for_else_break(x):
    t = 0.0
    for i in range(4):
        if i == 2:
            break
        t = t + np.sum(x ** 2)
    else:
        t = t - 1.0
    return t


def dict_comp(x):
    d = {k: x * k for k in (1.0, 2.0)}
    return np.sum(d[1.0] * d[2.0])


def set_literal(x):
    s = {1, 2}
    return np.sum(x) * len(s)


def generator_sum(x):
    return sum(v ** 2 for v in x)


def unpack_shape(x):
    n, m = x.shape
    return np.sum(x) * n


def attribute_of_config(x):
    return np.sum(x * cfg.scale)


def async_def_inside(x):
    async def helper():
        return 1
    return np.sum(x)


def class_inside(x):
    class P:
        k = 2.0
    return np.sum(x * P.k)


def yield_inside(x):
    def gen():
        yield x
    return np.sum(x)


def string_concat(x):
    s = "a" "b"
    return np.sum(x) * len(s)


def global_call_lambda(x):
    return np.sum(GLOBAL_LAMBDA(x))


GLOBAL_LAMBDA = lambda v: v * 3.0


def builtin_sum_list(x):
    return sum([x[0], x[1] * 2.0])


def complex_literal(x):
    return np.sum(np.real(x * (1 + 0j)) ** 2)


def star_call(x):
    args = (x, x)
    return np.sum(np.add(*args))


def kwargs_call(x):
    kw = {"axis": 0}
    return np.sum(np.sum(x, **kw))


def try_finally(x):
    try:
        y = x * 2.0
    finally:
        pass
    return np.sum(y)


def nested_function_returns_function(x):
    def make(k):
        def f(v):
            return v * k
        return f
    return np.sum(make(2.0)(x))


def recursion_nested(x):
    def r(v, n):
        if n == 0:
            return v
        return r(v * 2.0, n - 1)
    return np.sum(r(x, 2))


def subscript_of_call(x):
    return np.sum(np.stack([x, x * 2.0])[1])


def for_over_list_display(x):
    t = 0.0
    for v in [x, x * 2.0]:
        t = t + np.sum(v ** 2)
    return t


def for_over_tuple_of_arrays(x):
    t = 0.0
    for v in (x, x * 2.0):
        t = t + np.sum(v ** 2)
    return t


def aug_on_global_attr(x):
    cfg.scale += 0.0
    return np.sum(x)


def type_alias_annotation(x: "np.ndarray") -> "float":
    return np.sum(x ** 2)


def lambda_in_call(x):
    return np.sum(np.apply_along_axis(lambda r: r * 2.0, 0, x))


def matmul_op(x):
    A = np.outer(x, x)
    return np.sum(A @ x)


def inplace_matmul(x):
    A = np.outer(x, x)
    A @= A
    return np.sum(A)


def power_op(x):
    y = x.copy()
    y **= 2
    return np.sum(y)


def global_rebind_attr(x):
    Cfg.scale = 3.0
    return np.sum(x)


def conditional_expression_nested(x):
    s = np.sum(x)
    return s * 2 if s > 10 else s * 3 if s > 0 else -s


def lambda_immediately_called(x):
    return np.sum((lambda v: v * 2.0)(x))


def slice_step(x):
    return np.sum(x[::-1] * x[::2].sum())


def not_op(x):
    flag = not (x.shape[0] > 5)
    return np.sum(x) * (2.0 if flag else 1.0)


def int_division(x):
    n = x.shape[0] // 2
    return np.sum(x[:n] ** 2) + np.sum(x % 2.0)


def comparison_in(x):
    if "a" in ("a", "b"):
        return np.sum(x ** 2)
    return np.sum(x)


def is_none_check(x, w=None):
    if w is None:
        w = np.ones_like(x)
    return np.sum(x * w)


def bytes_literal(x):
    b = b"ab"
    return np.sum(x) * len(b)


def unicode_name(x):
    ÿ = x * 2.0
    return np.sum(ÿ)


def very_long_line(x):
    return np.sum(x * 1.0 + x * 2.0 + x * 3.0 + x * 4.0 + x * 5.0 + x * 6.0 + x * 7.0 + x * 8.0 + x * 9.0 + x * 10.0)


K = 2.0


def default_global(x, k=K): return np.sum(x * k)


def oneline_if_return(x):
    if x.shape[0] > 1: return np.sum(x ** 2)
    return np.sum(x)


def oneline_while(x):
    i = 0
    t = 0.0
    while i < 3: t = t + np.sum(x * i); i += 1
    return t


def doc_oneline(x): "doc"; return np.sum(x * 3.0)


def print_stderr(x):
    y = np.sum(x ** 2)
    print("loss", y, file=sys.stderr)
    return y


def np_array_comp(x):
    return np.sum(np.array([x[i] * i for i in range(3)]) ** 2)


async def async_fn(x):
    return np.sum(x)


def gen_fn(x):
    yield np.sum(x)


def oneline_for_nested_def(x):
    t = 0.0
    for i in range(2):
        def g(v): return v * i
        t = t + np.sum(g(x))
    return t


def ann_complex(x: "np.ndarray[int]", y: dict[str, list[int]] | None = None) -> "float":
    return np.sum(x ** 2)


def semicolon_trailing(x):
    y = x * 2.0;
    return np.sum(y)


def paren_return_unpack(x):
    (a, b) = (x[0], x[1])
    [c, d] = [x[1], x[2]]
    return a * b * c * d


def subscript_chain(x):
    m = np.outer(x, x)
    return np.sum(m[0][1:] * m[1][:2])


def boolean_mask(x):
    return np.sum(x[x > 1.0] ** 2)


def tuple_return_index(x):
    return (np.sum(x), np.sum(x ** 2))[1]


def shadow_builtin(x):
    sum = np.sum
    return sum(x ** 2)


def shadow_np(x):
    np = 3.0
    return x[0] * np


def empty_return_path(x):
    if x.shape[0] > 10:
        return
    return np.sum(x)


def bare_raise_oneline(x):
    if x.shape[0] == 0: raise ValueError("empty")
    return np.sum(x ** 2)


def assert_oneline(x):
    assert x.ndim == 1; return np.sum(x ** 2)


def deep_nesting(x):
    t = 0.0
    for i in range(2):
        for j in range(2):
            if i == j:
                while False:
                    pass
                t = t + np.sum(x * (i + j))
            else:
                t = t - np.sum(x ** 2)
    return t


def star_in_list_display(x):
    parts = [x, x * 2.0]
    return np.sum(np.concatenate([*parts, x]))


def ellipsis_body(x):
    ...
    return np.sum(x)


def none_compare(x):
    w = None
    if w is not None:
        return np.sum(x * w)
    return np.sum(x)


@deco
def _decorated_helper(v):
    return v * 3.0


def calls_decorated_helper(x):
    return np.sum(_decorated_helper(x))


class WithStatic:
    @staticmethod
    def double(v):
        return v * 2.0


def calls_staticmethod(x):
    return np.sum(WithStatic.double(x) ** 2)


def _one_line_helper(v): y = v * 2.0; return np.sum(y ** 2)


def calls_one_line_helper(x):
    return _one_line_helper(x) + _one_line_helper(x * 2.0)


def function_argument(x, act=np.tanh):
    return np.sum(act(x))
