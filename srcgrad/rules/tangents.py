"""Tangent rules (JVPs) for forward mode, declared from the facts of the adjoint rules.

A JVP takes ``(ans, dots, b)``: the primitive's result, one tangent per differentiable
operand of its rule (in ``rule.operands`` order; ``None`` for an operand that carries none,
a sequence of tangents for a sequence or ``*varargs`` operand) and the call's arguments
bound to the rule's parameter names.  It returns the tangent of the result (a list of
tangents for a ``multi_output`` rule).

Most rules need no code of their own; their JVP follows from what the rule is:

* ``elementwise``: the result is an elementwise function of its broadcast operands
  (``kind="unary"``/``"binary"`` and the names in :data:`ELEMENTWISE`).  The Jacobian for
  each operand is diagonal once the operands are broadcast to the result's shape, so the
  JVP is the adjoint itself, called with each tangent as the cotangent:
  ``sum_i adjoint(t_i, ans, *broadcast operands)[i]``.
* ``linear``: the primitive is linear in its operands (reshape, transpose, sum, indexing,
  concatenate, the FFTs, ...): the JVP is the same primitive applied to the tangents.
* ``multilinear``: linear in each operand separately (matmul, dot, einsum, ...): the sum,
  over the operands that carry a tangent, of the primitive with that operand replaced by it.
* ``reduction``: each input element feeds exactly one output element (max, prod, std,
  logsumexp, norms, det over the last two axes): the adjoint with a cotangent of ones gives
  every input's partial derivative, and the JVP sums ``partials * tangent`` over the reduced
  axes.
* the rest are written out in :data:`EXPLICIT` (linear algebra, softmax, sort, ...).

A rule with none of these has no JVP: forward mode refuses it (:func:`jvp_rule` raises),
never computing a wrong tangent.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from srcgrad.errors import MissingRuleError
from srcgrad.rules.registry import Rule, all_rules, lookup_name
from srcgrad.rules.tangent_calls import (  # noqa: F401  (zero_tangent: emitted code's)
    Jvp,
    _filled,
    call,
    call_adjoint,
    tangent_at,
    zero_tangent,
)
from srcgrad.rules.tangent_helpers import has_jvp, helper_jvp, helper_rule

ELEMENTWISE = frozenset(
    {
        "arctan2", "clip", "copysign", "float_power", "fmax", "fmin", "fmod",
        "heaviside", "ldexp", "logaddexp", "logaddexp2", "nan_to_num", "power_slope",
        "remainder", "sinc", "where", "floor_divide",
        "special.beta", "special.betaln", "special.entr", "special.erfc",
        "special.erfcinv", "special.erfinv", "special.gamma", "special.gammaln",
        "special.kl_div", "special.log_expit", "special.log_ndtr", "special.logit",
        "special.ndtr", "special.ndtri", "special.psi", "special.rel_entr",
        "special.xlog1py", "special.xlogy",
        "stats.beta.logpdf", "stats.gamma.logpdf", "stats.norm.cdf", "stats.norm.logcdf",
        "stats.norm.logpdf", "stats.norm.pdf", "stats.poisson.logpmf", "stats.t.logpdf",
        "float", "float32", "float64", "astype", "copy",
    }
)  # fmt: skip

LINEAR = frozenset(
    {
        "added_at", "append", "array", "array_split", "assign_at", "atleast_1d", "atleast_2d",
        "atleast_3d", "broadcast_arrays", "broadcast_to", "builtin_sum", "choose",
        "column_stack", "compress", "concatenate", "conjugate", "cumsum",
        "cumulative_sum", "delete", "diag", "diagflat", "diagonal", "diff", "dsplit",
        "dstack", "expand_dims", "expand_like", "extract", "fft.fft", "fft.fft2",
        "fft.fftn", "fft.fftshift", "fft.hfft", "fft.ifft", "fft.ifft2", "fft.ifftn",
        "fft.ifftshift", "fft.ihfft", "fft.irfft", "fft.irfft2", "fft.irfftn",
        "fft.rfft", "fft.rfft2", "fft.rfftn", "flip", "fliplr", "flipud", "full",
        "full_like", "getitem", "hsplit", "hstack", "imag", "lib.stride_tricks."
        "sliding_window_view", "linalg.diagonal", "linalg.matrix_transpose",
        "linalg.trace", "mT", "matrix_transpose", "mean", "moveaxis", "nn.col2im_sum",
        "nn.im2col", "nn.avg_pool2d", "ravel", "real", "repeat", "reshape", "roll",
        "rollaxis", "rot90", "scatter_to", "select", "split", "split_cotangent",
        "squeeze", "stack", "sum", "swapaxes", "take", "take_along_axis", "tile",
        "trace", "transpose", "tril", "triu", "unbroadcast", "unstack", "vsplit",
        "vstack", "nn.embedding", "trapezoid", "real_if_close", "pad", "linspace",
        "positive", "negative", "add", "subtract",
    }
)  # fmt: skip

MULTILINEAR = frozenset(
    {
        "convolve", "correlate", "cross", "dot", "einsum", "inner", "kron",
        "linalg.cross", "linalg.matmul", "linalg.multi_dot", "linalg.outer",
        "linalg.tensordot", "linalg.vecdot", "matmul", "matvec", "outer", "tensordot",
        "vecdot", "vecmat",
    }
)  # fmt: skip

# rule name -> the axes a reduction removes, from its bound arguments
REDUCTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    **{
        n: (lambda b: b.get("axis"))
        for n in (
            "amax", "amin", "max", "min", "prod", "std", "var", "nanmax", "nanmin",
            "nanprod", "nanstd", "nanvar", "nanmean", "nansum", "median", "ptp",
            "percentile", "quantile", "special.logsumexp", "average",
            "linalg.vector_norm",
        )
    },
    "linalg.det": lambda b: (-2, -1),
    "scipy.linalg.det": lambda b: (-2, -1),
    "linalg.matrix_norm": lambda b: (-2, -1),
    "linalg.cond": lambda b: (-2, -1),
    "linalg.norm": lambda b: _norm_axes(b),
}  # fmt: skip

EXPLICIT: dict[str, Jvp] = {}

# how each rule's JVP is declared (see the module docstring); filled by _declare
DECLARED: dict[str, str] = {}


def explicit(*names: str) -> Callable[[Jvp], Jvp]:
    """Declare the JVP of the rules ``names`` (``fn(ans, dots, b)``)."""

    def register(fn: Jvp) -> Jvp:
        for n in names:
            EXPLICIT[n] = fn
        return fn

    return register


def how(rule: Rule) -> str | None:
    """How ``rule``'s JVP is declared: ``"elementwise"``, ``"linear"``, ``"multilinear"``,
    ``"reduction"``, ``"explicit"``, or None where it has none."""
    name = rule.same_as or rule.name
    if rule.extra.get("custom"):
        return None
    if rule.extra.get("forward_only"):  # a runtime helper's (rules/tangent_helpers.py)
        return "helper" if has_jvp(rule) else None
    if name in EXPLICIT or rule.name in EXPLICIT:
        return "explicit"
    if name in LINEAR:
        return "linear"
    if rule.kind in ("unary", "binary") or name in ELEMENTWISE:
        return None if rule.multi_output else "elementwise"
    if name in LINEAR:
        return "linear"
    if name in MULTILINEAR:
        return "multilinear"
    if name in REDUCTIONS:
        return "reduction"
    return None


def without_jvp() -> list[str]:
    """The registered rules forward mode refuses (no JVP declared)."""
    return [r.name for r in all_rules() if how(r) is None]


def jvp_rule(rule: Rule) -> Jvp:
    """The JVP of ``rule`` (see the module docstring); raises where it has none."""
    kind = how(rule)
    if kind is None:
        raise MissingRuleError(
            f"{rule.name} has no tangent rule (JVP): forward mode cannot differentiate it",
            construct=rule.name,
            hint="differentiate this function in reverse mode (srcgrad.grad, "
            "jacobian(mode='rev')), or rewrite the call with primitives that have JVPs",
        )
    if kind == "helper":
        return helper_jvp(rule)
    if kind == "explicit":
        fn = EXPLICIT.get(rule.name) or EXPLICIT[rule.same_as or rule.name]
        return fn
    return {
        "elementwise": _elementwise,
        "linear": _linear,
        "multilinear": _multilinear,
        "reduction": _reduction,
    }[kind](rule)


def jvp_by_name(name: str) -> Callable[..., Any]:
    """The JVP of the rule registered as ``name``, called as ``jvp(ans, dots, **bound)``
    (what emitted forward modules call)."""
    helper = helper_rule(name)
    if helper is not None and has_jvp(helper):
        rule = helper  # a runtime helper: its JVP (also where it has a reverse rule)
    else:
        rule = lookup_name(name) or helper
    if rule is None:
        raise MissingRuleError(f"no rule named {name}", construct=name)
    fn = jvp_rule(rule)

    def jvp(ans: Any, dots: tuple[Any, ...], /, **b: Any) -> Any:
        return fn(ans, dots, b)

    jvp.__name__ = jvp.__qualname__ = "jvp_" + name.replace(".", "_")
    return jvp


def _active(dot: Any) -> bool:
    if dot is None:
        return False
    if isinstance(dot, (list, tuple)):
        return any(_active(d) for d in dot)
    return True


def _elementwise(rule: Rule) -> Jvp:
    adj = rule.adjoint
    ops = rule.operands

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        shape = np.shape(ans)
        bb = dict(b)
        for p in ops:
            if p in bb and bb[p] is not None:
                bb[p] = np.broadcast_to(bb[p], shape)
        out = None
        for k, (p, dot) in enumerate(zip(ops, dots)):
            if dot is None:
                continue
            t = np.broadcast_to(dot, shape)
            got = call_adjoint(rule, t, ans, bb)
            part = got if len(ops) == 1 else got[k]
            if part is None:
                continue
            out = part if out is None else out + part
        return zero_tangent(ans) if out is None else out

    return jvp


def _linear(rule: Rule) -> Jvp:
    ops = rule.operands

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        bb = dict(b)
        for p, dot in zip(ops, dots):
            if p in bb:
                bb[p] = _filled(b[p], dot)
        if rule.name == "pad":  # affine in its fill values: their tangent is 0
            mode = bb.get("mode", "constant")
            if mode == "constant":
                bb["constant_values"] = 0
            elif mode == "linear_ramp":
                bb["end_values"] = 0
            elif mode in ("maximum", "minimum", "median"):
                raise MissingRuleError(
                    f"pad(mode={mode!r}) has no tangent rule", construct="pad"
                )
        if rule.name == "diff":  # affine in prepend and append: their tangent is 0
            for k in ("prepend", "append"):
                if k in bb and bb[k] is not np._NoValue:
                    bb[k] = np.zeros_like(np.asarray(bb[k], dtype=float))
        return call(rule, bb)

    return jvp


def _multilinear(rule: Rule) -> Jvp:
    ops = rule.operands
    seq = set(rule.sequence) | ({rule.varargs} if rule.varargs else set())

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        out = None
        for p, dot in zip(ops, dots):
            if not _active(dot):
                continue
            if p in seq:
                for k, d in enumerate(dot):
                    if d is None:
                        continue
                    items = list(b[p])
                    items[k] = d
                    part = call(rule, {**b, p: type(b[p])(items)})
                    out = part if out is None else out + part
                continue
            part = call(rule, {**b, p: dot})
            out = part if out is None else out + part
        return zero_tangent(ans) if out is None else out

    return jvp


def _norm_axes(b: dict[str, Any]) -> Any:
    axis = b.get("axis")
    if axis is not None:
        return axis
    return None  # every axis: a scalar


def _reduction(rule: Rule) -> Jvp:
    axes_of = REDUCTIONS[rule.same_as or rule.name]
    adj = rule.adjoint

    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        if np.ndim(b.get("q", 0)) > 0:  # several quantiles: a new leading axis
            raise MissingRuleError(
                f"{rule.name} of several q has no tangent rule", construct=rule.name
            )
        (dot,) = dots[:1]
        if dot is None:
            return zero_tangent(ans)
        ones = np.ones_like(np.asarray(ans, dtype=np.result_type(ans, np.float64)))
        got = call_adjoint(rule, ones, ans, b)
        w = got if len(rule.operands) == 1 else got[0]
        axis = axes_of(b)
        keep = b.get("keepdims", False)
        return np.sum(w * dot, axis=axis, keepdims=bool(keep))

    return jvp


def check_declarations() -> None:
    """Every name in the tables names a rule (a typo would silently drop a JVP)."""
    names = {r.name for r in all_rules()}
    tables = set(ELEMENTWISE) | LINEAR | MULTILINEAR | set(REDUCTIONS) | set(EXPLICIT)
    stray = tables - names
    if stray:
        raise ValueError(f"JVP tables name no rule: {sorted(stray)}")


# -- the rules written out -------------------------------------------------------------


@explicit("special.softmax")
def _softmax_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    t = dots[0]
    return ans * (t - np.sum(ans * t, axis=b.get("axis"), keepdims=True))


@explicit("special.log_softmax")
def _log_softmax_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    t = dots[0]
    return t - np.sum(np.exp(ans) * t, axis=b.get("axis"), keepdims=True)


@explicit("linalg.inv")
def _inv_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    return -(ans @ dots[0] @ ans)


@explicit("linalg.solve")
def _solve_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    ta, tb = dots
    a = b["a"]
    vector = np.ndim(b["b"]) == 1  # numpy's rule: a 1-d b is one vector
    x = ans[..., None] if vector else ans
    rhs = np.zeros(np.shape(x)) if tb is None else np.asarray(tb)
    if tb is not None and vector:
        rhs = rhs[..., None]
    rhs = np.broadcast_to(rhs, np.shape(x))
    if ta is not None:
        rhs = rhs - ta @ x
    out = np.linalg.solve(np.broadcast_to(a, np.shape(x)[:-2] + np.shape(a)[-2:]), rhs)
    return out[..., 0] if vector else out


@explicit("linalg.slogdet")
def _slogdet_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    sign, logdet = ans
    t = dots[0]
    inv = np.linalg.inv(b["a"])
    return [zero_tangent(sign), np.einsum("...ij,...ji->...", inv, t)]


@explicit("linalg.cholesky")
def _cholesky_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    upper = bool(b.get("upper"))
    low = np.swapaxes(ans, -1, -2) if upper else ans
    t = np.asarray(dots[0])
    if upper:  # numpy reads the upper triangle only
        t = np.swapaxes(t, -1, -2)
    t = np.tril(t)  # numpy reads the lower triangle only
    t = t + np.swapaxes(np.tril(t, -1), -1, -2)
    inv = np.linalg.inv(low)
    phi = inv @ t @ np.swapaxes(inv, -1, -2)
    phi = np.tril(phi) - 0.5 * np.eye(phi.shape[-1]) * phi
    t_low = low @ phi
    return np.swapaxes(t_low, -1, -2) if upper else t_low


@explicit("sort")
def _sort_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    a, t = np.asarray(b["a"]), np.asarray(dots[0])
    axis = b.get("axis", -1)
    if axis is None:
        a, t, axis = a.ravel(), t.ravel(), 0
    order = np.argsort(a, axis=axis, kind="stable")
    return np.take_along_axis(np.broadcast_to(t, a.shape), order, axis=axis)


@explicit("cumprod")
def _cumprod_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    # the product rule along the axis: y_k = y_(k-1) a_k, so t_y_k = t_y_(k-1) a_k +
    # y_(k-1) t_k (exact where a holds zeros)
    a = np.asarray(b["a"])
    t = np.broadcast_to(np.asarray(dots[0]), a.shape)
    axis = b.get("axis")
    if axis is None:
        a, t, axis = a.ravel(), t.ravel(), 0
    a, t = np.moveaxis(a, axis, 0), np.moveaxis(t, axis, 0)
    y = np.moveaxis(np.asarray(ans).reshape(np.shape(np.moveaxis(a, 0, axis))), axis, 0)
    out = np.empty(np.shape(y), dtype=np.result_type(y, t))
    out[0] = t[0]
    for k in range(1, a.shape[0]):
        out[k] = out[k - 1] * a[k] + y[k - 1] * t[k]
    return np.moveaxis(out, 0, axis).reshape(np.shape(ans))


@explicit("nancumsum")
def _nancumsum_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    a = np.asarray(b["a"])
    t = np.where(np.isnan(a), 0.0, dots[0])
    return np.cumsum(t, axis=b.get("axis"))


def _symmetric_read(t: Any, uplo: str) -> Any:
    """The symmetric tangent numpy's ``eigh`` sees: the triangle it reads, mirrored."""
    t = np.asarray(t)
    tri = np.tril(t) if uplo == "L" else np.triu(t)
    off = np.tril(tri, -1) if uplo == "L" else np.triu(tri, 1)
    return tri + np.swapaxes(off, -1, -2)


def _eigh_parts(b: dict[str, Any], t: Any) -> tuple[Any, Any, Any]:
    w, v = np.linalg.eigh(b["a"], UPLO=b.get("UPLO", "L"))
    m = np.swapaxes(v, -1, -2) @ _symmetric_read(t, b.get("UPLO", "L")) @ v
    return w, v, m


@explicit("linalg.eigh")
def _eigh_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    w, v, m = _eigh_parts(b, dots[0])
    gap = w[..., None, :] - w[..., :, None]  # w_j - w_i
    n = w.shape[-1]
    off = ~np.eye(n, dtype=bool)
    f = np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)
    return [np.diagonal(m, axis1=-2, axis2=-1).copy(), v @ (f * m)]


@explicit("linalg.eigvalsh")
def _eigvalsh_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    _, _, m = _eigh_parts(b, dots[0])
    return np.diagonal(m, axis1=-2, axis2=-1).copy()


@explicit("linalg.matrix_power")
def _matrix_power_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    a, t, n = np.asarray(b["a"]), np.asarray(dots[0]), int(b["n"])
    if n == 0:
        return zero_tangent(ans)
    if n < 0:  # (a^-1)^|n|, and d(a^-1) = -a^-1 t a^-1
        a = np.linalg.inv(a)
        t = -(a @ t @ a)
        n = -n
    powers = [np.broadcast_to(np.eye(a.shape[-1]), a.shape)]
    for _ in range(n - 1):
        powers.append(powers[-1] @ a)
    return sum(powers[k] @ t @ powers[n - 1 - k] for k in range(n))


@explicit("linalg.svdvals")
def _svdvals_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    # distinct singular values: d s_i = u_i^T t v_i
    u, _, vh = np.linalg.svd(b["x"], full_matrices=False)
    m = np.swapaxes(u, -1, -2) @ np.asarray(dots[0]) @ np.swapaxes(vh, -1, -2)
    return np.diagonal(m, axis1=-2, axis2=-1).copy()


@explicit("max_of", "min_of")
def _extremum_of_jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
    # builtin max/min of numbers: the picked item's tangent (the adjoint says which)
    rule = lookup_name("max_of")
    assert rule is not None
    weights = call_adjoint(rule, np.ones_like(np.asarray(ans, dtype=float)), ans, b)
    out = zero_tangent(ans)
    for w, t in zip(weights, dots[0]):
        if w is not None and t is not None:
            out = out + w * t
    return out
