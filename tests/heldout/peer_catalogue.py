"""A peer catalogue: the call forms other AD tools test numpy with, as srcgrad users write them.

Each function takes float arrays and returns an array or a scalar; ``CATALOGUE`` lists
``(function, arguments, wrt)``.  The forms are the ones a numpy user writes: methods and
functions, positional and keyword axes, Python scalars mixed with arrays, constants captured
from the module, indexing of every kind, and arrays built from scalars.
"""

from __future__ import annotations

import numpy as np

_R = np.random.default_rng(7)
MAT = _R.standard_normal((4, 5))
SQ = _R.standard_normal((4, 4))
SPD = SQ @ SQ.T + 4 * np.eye(4)
VEC4 = _R.standard_normal(4)
VEC5 = _R.standard_normal(5)
T3 = _R.standard_normal((3, 4, 2))
POS = np.abs(_R.standard_normal((3, 4))) + 0.5
MASK = _R.standard_normal((4, 5)) > 0
CONST = _R.standard_normal((4, 5))


def dot_mat_vec(x, y):
    return np.dot(x, y)


def dot_vec_mat(x, y):
    return np.dot(x, y)


def dot_vec_vec(x, y):
    return np.dot(x, y)


def dot_with_float(x, s):
    return np.dot(x, s)


def dot_method(x, y):
    return x.dot(y)


def outer(x, y):
    return np.outer(x, y)


def inner(x, y):
    return np.inner(x, y)


def matmul_op(x, y):
    return x @ y.T


def max_all(x):
    return np.max(x)


def max_axis_keepdims(x):
    return np.max(x, axis=1, keepdims=True)


def min_axis(x):
    return x.min(axis=0)


def amax_tuple_axis(x):
    return np.amax(x, axis=(0, 2))


def sum_axis_tuple(x):
    return np.sum(x, axis=(1, 2))


def sum_positional_axis(x):
    return np.sum(x, 0)


def mean_keepdims_method(x):
    return x.mean(axis=-1, keepdims=True)


def builtin_sum_of_list(x, y):
    return sum([x, y])


def index_ints(x):
    return x[2, 1, 0]


def index_slices_negative_step(x):
    return x[::-1, 1:3, :]


def index_list(x):
    return x[[0, 2, 2], :, :]


def index_mixed(x):
    return x[1, 1:, [0, 1]]


def index_fanout(x):
    a = x[::-1, 1:3]
    b = x[::-1, 2:4]
    return a + b


def index_chained_slices(x):
    y = x[1:5]
    return y[1:3]


def index_repeated(x):
    return np.sum(x[[0, 0, 1]])


def index_ellipsis_newaxis(x):
    return x[..., None, 0]


def index_bool_mask(x):
    return x[MASK]


def dot_of_slices(x):
    return np.dot(x[:2], x[2:])


def reshape_tuple(x):
    return x.reshape((6, 4))


def reshape_varargs(x):
    return x.reshape(2, -1)


def reshape_function(x):
    return np.reshape(x, (4, 6))


def ravel_method(x):
    return x.ravel()


def flatten_method(x):
    return x.flatten()


def transpose_attr(x):
    return x.T


def transpose_axes(x):
    return np.transpose(x, (2, 0, 1))


def swapaxes(x):
    return np.swapaxes(x, 0, 2)


def moveaxis(x):
    return np.moveaxis(x, 0, -1)


def flipud(x):
    return np.flipud(x)


def fliplr(x):
    return np.fliplr(x)


def rot90(x):
    return np.rot90(x)


def roll(x):
    return np.roll(x, 2, axis=1)


def roll_flat(x):
    return np.roll(x, -3)


def cumsum_axis(x):
    return np.cumsum(x, axis=1)


def cumsum_flat(x):
    return np.cumsum(x)


def cumprod(x):
    return np.cumprod(x, axis=0)


def triu(x):
    return np.triu(x, k=1)


def tril(x):
    return np.tril(x, -1)


def clip_keywords(x):
    return np.clip(x, a_min=-0.5, a_max=0.7)


def prod_all(x):
    return np.prod(x)


def prod_axis_keepdims(x):
    return np.prod(x, axis=0, keepdims=True)


def array_of_scalars(s):
    return np.array([s, s * 2.0, s + 2.5])


def array_2d_of_scalars(s):
    return np.array([[s, s * 1.5], [s**2, s / 2.0]])


def array_of_arrays(x):
    return np.array([x, 2 * x])


def concatenate_with_constant(x):
    return np.concatenate((CONST, x), axis=0)


def concatenate_axis1_positional(x):
    return np.concatenate((x, CONST, x), 1)


def stack_list(x, y):
    return np.stack([x, y, x * y], axis=1)


def hstack(x, y):
    return np.hstack([x, y])


def vstack(x):
    return np.vstack((x, x**2))


def split_first(x):
    return np.split(x, 2)[0]


def split_second_axis(x):
    parts = np.split(x, [1, 3], axis=1)
    return parts[1] * parts[2][:, :1]


def diag_of_matrix(x):
    return np.diag(x)


def diag_of_vector(v):
    return np.diag(v)


def diagonal_axes(x):
    return np.diagonal(x, axis1=-1, axis2=-2)


def trace_offset(x):
    return np.trace(x, offset=1)


def var_ddof(x):
    return np.var(x, axis=1, ddof=1)


def std_keepdims(x):
    return np.std(x, axis=0, keepdims=True)


def where_mask(x, y):
    return np.where(MASK, x, y)


def where_comparison(x):
    return np.where(x > 0, x, 0.1 * x)


def squeeze(x):
    return np.squeeze(x[:, :1, :])


def expand_dims(x):
    return np.expand_dims(x, 1)


def repeat_axis(x):
    return np.repeat(x, 2, axis=1)


def tile(x):
    return np.tile(x, (2, 1))


def tensordot_int_axes(x, y):
    return np.tensordot(x, y, 1)


def tensordot_pair_axes(x):
    return np.tensordot(x, T3, axes=([0, 1], [0, 1]))


def einsum_matmul(x, y):
    return np.einsum("ij,kj->ik", x, y)


def einsum_trace(x):
    return np.einsum("ii", x)


def nan_to_num(x):
    return np.sin(np.nan_to_num(x))


def cast_then_index(w):
    idx = np.int64(np.abs(w[:, -1]) * 0)
    return w[idx].sum()


def logsumexp_by_hand(x):
    m = np.max(x, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def power_scalar_ops(x):
    return 2.0**x + x**3 - 1.5 / x


def abs_sign(x):
    return np.abs(x) * np.sign(x) + abs(x)


def hypot_arctan2(x, y):
    return np.hypot(x, y) + np.arctan2(x, y)


def maximum_minimum(x, y):
    return np.maximum(x, y) - np.minimum(x, 0.1)


def log_family(x):
    return np.log(x) + np.log2(x) + np.log10(x) + np.log1p(x)


def exp_family(x):
    return np.exp(x) + np.exp2(x) + np.expm1(x)


def trig_family(x):
    return np.sin(x) * np.cos(x) + np.tan(x * 0.3) + np.arctan(x)


def hyperbolic_family(x):
    return np.sinh(x) + np.cosh(x) + np.tanh(x) + np.arcsinh(x)


def sqrt_square_reciprocal(x):
    return np.sqrt(x) + np.square(x) + np.reciprocal(x) + np.cbrt(x)


def linalg_inv(a):
    return np.linalg.inv(a)


def linalg_det(a):
    return np.linalg.det(a)


def linalg_slogdet(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


def linalg_solve(a, b):
    return np.linalg.solve(a, b)


def linalg_cholesky(a):
    return np.linalg.cholesky(a)


def linalg_norm_fro(x):
    return np.linalg.norm(x)


def linalg_norm_axis(x):
    return np.linalg.norm(x, axis=1)


def linalg_eigh_values(a):
    w, v = np.linalg.eigh(a)
    return w


def sort_values(x):
    return np.sort(x, axis=1)


def fft_abs(x):
    return np.abs(np.fft.fft(x))


def rfft_real(x):
    return np.real(np.fft.rfft(x, axis=0))


def chained_comparison_branch(x):
    s = np.sum(x)
    if -100.0 < s < 100.0:
        return x * 2.0
    return x


def loop_accumulate(x):
    total = 0.0
    for i in range(x.shape[0]):
        total = total + np.sum(x[i] ** 2)
    return total


def while_loop(x):
    y = x
    k = 0
    while k < 3:
        y = np.tanh(y) + x
        k += 1
    return y


CATALOGUE = [
    (dot_mat_vec, (MAT, VEC5), (0, 1)),
    (dot_vec_mat, (VEC4, MAT), (0, 1)),
    (dot_vec_vec, (VEC5, VEC5 + 1.0), (0, 1)),
    (dot_with_float, (MAT, 1.7), (0, 1)),
    (dot_method, (MAT, VEC5), (0, 1)),
    (outer, (VEC4, VEC5), (0, 1)),
    (inner, (MAT, CONST), (0, 1)),
    (matmul_op, (MAT, CONST), (0, 1)),
    (max_all, (MAT,), 0),
    (max_axis_keepdims, (MAT,), 0),
    (min_axis, (MAT,), 0),
    (amax_tuple_axis, (T3,), 0),
    (sum_axis_tuple, (T3,), 0),
    (sum_positional_axis, (MAT,), 0),
    (mean_keepdims_method, (T3,), 0),
    (builtin_sum_of_list, (MAT, CONST), (0, 1)),
    (index_ints, (T3,), 0),
    (index_slices_negative_step, (T3,), 0),
    (index_list, (T3,), 0),
    (index_mixed, (T3,), 0),
    (index_fanout, (MAT,), 0),
    (index_chained_slices, (VEC5,), 0),
    (index_repeated, (VEC4,), 0),
    (index_ellipsis_newaxis, (T3,), 0),
    (index_bool_mask, (MAT,), 0),
    (dot_of_slices, (VEC4,), 0),
    (reshape_tuple, (T3,), 0),
    (reshape_varargs, (T3,), 0),
    (reshape_function, (T3,), 0),
    (ravel_method, (T3,), 0),
    (flatten_method, (T3,), 0),
    (transpose_attr, (MAT,), 0),
    (transpose_axes, (T3,), 0),
    (swapaxes, (T3,), 0),
    (moveaxis, (T3,), 0),
    (flipud, (MAT,), 0),
    (fliplr, (MAT,), 0),
    (rot90, (MAT,), 0),
    (roll, (MAT,), 0),
    (roll_flat, (MAT,), 0),
    (cumsum_axis, (MAT,), 0),
    (cumsum_flat, (MAT,), 0),
    (cumprod, (POS,), 0),
    (triu, (SQ,), 0),
    (tril, (SQ,), 0),
    (clip_keywords, (MAT,), 0),
    (prod_all, (POS,), 0),
    (prod_axis_keepdims, (POS,), 0),
    (array_of_scalars, (1.3,), 0),
    (array_2d_of_scalars, (0.7,), 0),
    (array_of_arrays, (MAT,), 0),
    (concatenate_with_constant, (MAT,), 0),
    (concatenate_axis1_positional, (MAT,), 0),
    (stack_list, (VEC4, VEC4 * 0.5), (0, 1)),
    (hstack, (VEC4, VEC5), (0, 1)),
    (vstack, (MAT,), 0),
    (split_first, (VEC4,), 0),
    (split_second_axis, (MAT,), 0),
    (diag_of_matrix, (SQ,), 0),
    (diag_of_vector, (VEC4,), 0),
    (diagonal_axes, (T3[:, :2, :2].copy(),), 0),
    (trace_offset, (MAT,), 0),
    (var_ddof, (MAT,), 0),
    (std_keepdims, (MAT,), 0),
    (where_mask, (MAT, CONST), (0, 1)),
    (where_comparison, (MAT,), 0),
    (squeeze, (T3,), 0),
    (expand_dims, (MAT,), 0),
    (repeat_axis, (MAT,), 0),
    (tile, (MAT,), 0),
    (tensordot_int_axes, (MAT, CONST.T.copy()), (0, 1)),
    (tensordot_pair_axes, (T3[:, :, 0].copy(),), 0),
    (einsum_matmul, (MAT, CONST), (0, 1)),
    (einsum_trace, (SQ,), 0),
    (nan_to_num, (MAT,), 0),
    (cast_then_index, (MAT,), 0),
    (logsumexp_by_hand, (MAT,), 0),
    (softmax, (MAT,), 0),
    (power_scalar_ops, (POS,), 0),
    (abs_sign, (MAT,), 0),
    (hypot_arctan2, (MAT, CONST), (0, 1)),
    (maximum_minimum, (MAT, CONST), (0, 1)),
    (log_family, (POS,), 0),
    (exp_family, (MAT,), 0),
    (trig_family, (MAT,), 0),
    (hyperbolic_family, (MAT,), 0),
    (sqrt_square_reciprocal, (POS,), 0),
    (linalg_inv, (SPD,), 0),
    (linalg_det, (SQ,), 0),
    (linalg_slogdet, (SPD,), 0),
    (linalg_solve, (SPD, MAT), (0, 1)),
    (linalg_cholesky, (SPD,), 0),
    (linalg_norm_fro, (MAT,), 0),
    (linalg_norm_axis, (MAT,), 0),
    (linalg_eigh_values, (SPD,), 0),
    (sort_values, (MAT,), 0),
    (fft_abs, (VEC5,), 0),
    (rfft_real, (MAT,), 0),
    (chained_comparison_branch, (MAT,), 0),
    (loop_accumulate, (MAT,), 0),
    (while_loop, (MAT,), 0),
]


# -- a second batch: Python scalars beside arrays, reductions with options, less common numpy


def outer_with_float(x, s):
    return np.outer(x, s)


def maximum_with_float(x, s):
    return np.maximum(x, s)


def where_float_branch(x):
    return np.where(x > 0.0, x, 0.0)


def clip_array_bounds(x):
    return np.clip(x, CONST - 0.5, CONST + 0.5)


def sum_of_python_float(s):
    return np.sum(s) * np.mean(s)


def average_weights(x):
    return np.average(x, axis=1, weights=VEC5)


def norm_ord_1(x):
    return np.linalg.norm(x, ord=1, axis=1)


def norm_inf_vector(v):
    return np.linalg.norm(v, np.inf)


def einsum_ellipsis(x):
    return np.einsum("...ij,...kj->...ik", x, x)


def kron(x):
    return np.kron(x, np.eye(2))


def convolve(x, y):
    return np.convolve(x, y, mode="full")


def cross3(x, y):
    return np.cross(x, y)


def pinv(a):
    return np.linalg.pinv(a)


def svd_values(a):
    return np.linalg.svd(a, compute_uv=False)


def median_axis(x):
    return np.median(x, axis=0)


def diff_axis(x):
    return np.diff(x, axis=1)


def diff_twice(x):
    return np.diff(x, n=2)


def flip_axis(x):
    return np.flip(x, axis=0) * x


def atleast_2d(v):
    return np.atleast_2d(v) * 2.0


def take_axis(x):
    return np.take(x, [0, 2, 2], axis=1)


def take_along_axis(x):
    idx = np.argsort(CONST, axis=1)
    return np.take_along_axis(x, idx, axis=1)


def logaddexp(x, y):
    return np.logaddexp(x, y)


def sinc(x):
    return np.sinc(x)


def polyval(c):
    return np.polyval(c, VEC4)


def interp(y):
    return np.interp(np.linspace(0.0, 4.0, 7), np.arange(5.0), y)


def cumsum_reversed(x):
    return np.cumsum(x[::-1])[::-1]


def sum_where_keyword(x):
    return np.sum(x, where=MASK)


def mean_dtype(x):
    return np.mean(x, axis=0, dtype=np.float64)


def matmul_function_batched(x):
    return np.matmul(x, np.swapaxes(x, -1, -2))


def std_all(x):
    return x.std()


def nested_array_display(s, t):
    return np.array([[s, t], [t * s, s - t]])


def sum_of_tuple_display(x):
    return np.sum((x[0], 2.0 * x[1]))


def max_of_list_display(a, b):
    return np.max([a, b], axis=0)


def mean_of_list_comprehension(x):
    return np.mean([np.sum(row**2) for row in x])


def stack_generator(x):
    return np.stack([r * i for i, r in enumerate(x)])


def power_int_exponent_array(x):
    return np.power(x, 3)


def float_power(x):
    return np.float_power(x, 2.5)


def divide_floor_mix(x):
    return x / 3.0 + (x // 1.0) * 0.0


def expit_logit(x):
    return 1.0 / (1.0 + np.exp(-x))


def scalar_math_functions(s):
    import math

    return math.exp(s) + math.sin(s) * math.sqrt(abs(s) + 1.0)


CATALOGUE += [
    (outer_with_float, (VEC4, 0.3), (0, 1)),
    (maximum_with_float, (MAT, 0.2), (0, 1)),
    (where_float_branch, (MAT,), 0),
    (clip_array_bounds, (MAT,), 0),
    (sum_of_python_float, (1.7,), 0),
    (average_weights, (MAT,), 0),
    (norm_ord_1, (MAT,), 0),
    (norm_inf_vector, (VEC5,), 0),
    (einsum_ellipsis, (T3,), 0),
    (kron, (SQ,), 0),
    (convolve, (VEC4, VEC5), (0, 1)),
    (cross3, (T3[:, :3, 0].copy(), MAT[:3, :3].copy()), (0, 1)),
    (pinv, (MAT,), 0),
    (svd_values, (MAT,), 0),
    (median_axis, (MAT,), 0),
    (diff_axis, (MAT,), 0),
    (diff_twice, (VEC5,), 0),
    (flip_axis, (MAT,), 0),
    (atleast_2d, (VEC4,), 0),
    (take_axis, (MAT,), 0),
    (take_along_axis, (MAT,), 0),
    (logaddexp, (MAT, CONST), (0, 1)),
    (sinc, (MAT,), 0),
    (polyval, (VEC4,), 0),
    (interp, (VEC5,), 0),
    (cumsum_reversed, (VEC5,), 0),
    (sum_where_keyword, (MAT,), 0),
    (mean_dtype, (MAT,), 0),
    (matmul_function_batched, (T3,), 0),
    (std_all, (MAT,), 0),
    (nested_array_display, (0.4, -1.1), (0, 1)),
    (sum_of_tuple_display, (VEC4,), 0),
    (max_of_list_display, (MAT, CONST), (0, 1)),
    (mean_of_list_comprehension, (MAT,), 0),
    (stack_generator, (MAT,), 0),
    (power_int_exponent_array, (MAT,), 0),
    (float_power, (POS,), 0),
    (divide_floor_mix, (MAT,), 0),
    (expit_logit, (MAT,), 0),
    (scalar_math_functions, (0.9,), 0),
]


# -- a third batch: in-place writes, aliasing, containers and control flow as users write them


def inplace_copy_then_scale_row(x):
    y = x.copy()
    y[0] = y[0] * 2.0
    return y


def inplace_shifted_add(x):
    y = x * 1.0
    y[1:] += x[:-1]
    return y


def inplace_zeros_column(x):
    y = np.zeros_like(x)
    y[:, 0] = x[:, 1] ** 2
    y[:, 1] = np.sin(x[:, 0])
    return y


def inplace_view_then_write(x):
    y = x.copy()
    v = y[0]
    w = v * 3.0
    y[0] = 0.0
    return y * w


def inplace_augmented_local(x):
    y = x + 0.0
    y *= 2.0
    y -= x**2
    y /= 3.0
    return y


def inplace_fancy_add(x):
    y = np.zeros(6)
    y[[0, 2, 2, 5]] += x
    return y


def inplace_masked_assign(x):
    y = x.copy()
    y[y < 0] = 0.0
    return y * x


def transpose_chain(x):
    y = x.T
    return y.sum(axis=0) * y.mean()


def dict_params(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return np.sum(h**2) * p["scale"]


def list_of_tuples_loop(params, x):
    for W, b in params:
        x = np.tanh(x @ W + b)
    return np.sum(x)


def zip_enumerate_loop(ws, x):
    total = 0.0
    for i, (w, c) in enumerate(zip(ws, [1.0, 2.0, 3.0])):
        total = total + c * i * np.sum(w * x)
    return total


def helper_returning_tuple(x):
    def moments(v):
        return np.mean(v), np.var(v)

    m, s = moments(x)
    return m * s


def while_break(x):
    y = x
    for _ in range(10):
        y = y * 0.9 + 0.01 * np.sin(y)
        if np.sum(np.abs(y)) < 1e-3:
            break
    return np.sum(y)


def early_return_in_loop(x):
    for i in range(x.shape[0]):
        if i == 2:
            return np.sum(x[i] * x[0])
    return np.sum(x)


def ternary_and_or(x):
    s = np.sum(x)
    y = x * 2.0 if s > 0 else x * -1.0
    return np.sum(y) + (s > 0 and 1.0 or 2.0)


def nested_function_closure(x, a):
    def scaled(v):
        return a * v

    return np.sum(scaled(x) ** 2)


def append_then_stack(x):
    rows = []
    for i in range(x.shape[0]):
        rows.append(x[i] * (i + 1.0))
    return np.stack(rows)


def list_comprehension_sum(x):
    return sum([np.sum(r * r) for r in x])


def generator_sum(x):
    return sum(np.sum(np.exp(r)) for r in x)


CATALOGUE += [
    (inplace_copy_then_scale_row, (MAT,), 0),
    (inplace_shifted_add, (MAT,), 0),
    (inplace_zeros_column, (MAT,), 0),
    (inplace_view_then_write, (MAT,), 0),
    (inplace_augmented_local, (MAT,), 0),
    (inplace_fancy_add, (VEC4,), 0),
    (inplace_masked_assign, (MAT,), 0),
    (transpose_chain, (MAT,), 0),
    (dict_params, ({"W": MAT, "b": VEC5, "scale": 1.5}, VEC4), 0),
    (list_of_tuples_loop, ([(SQ, VEC4), (MAT, VEC5)], VEC4), 0),
    (zip_enumerate_loop, ([MAT, CONST, MAT * 2.0], CONST), 0),
    (helper_returning_tuple, (MAT,), 0),
    (while_break, (MAT,), 0),
    (early_return_in_loop, (MAT,), 0),
    (ternary_and_or, (MAT,), 0),
    (nested_function_closure, (MAT, 0.7), (0, 1)),
    (append_then_stack, (MAT,), 0),
    (list_comprehension_sum, (MAT,), 0),
    (generator_sum, (MAT,), 0),
]
