"""JVPs of the runtime helpers that emitted gradient modules call, for forward over reverse
(:func:`srcgrad.hvp` runs forward mode over an emitted gradient).

They are declared here rather than next to a rule (as the rules' own JVPs are): a runtime
helper is no rules-file primitive.  A helper that also has a reverse-mode rule of its own
(for higher orders) is still read through its JVP here, and one without a JVP here is
refused by name (:func:`srcgrad.rules.tangents.is_helper_rule`).

While forward mode reads a module, :func:`helper_rules` makes each helper below a primitive
(a rule whose adjoint refuses: these are forward-only) unless it has a rule of its own;
outside it the registry is as it was.  Each helper states how its result moves:

* ``linear_in(names)``: linear in those operands (the others give shapes, keys, masks that
  are constant almost everywhere): the helper applied to their tangents.
* ``multilinear_in(names)``: linear in each of those operands separately
  (``matmul_cotangent_x1(g, x1, x2)`` is ``g @ x2.T``: linear in ``g`` and ``x2``).
* an explicit JVP (``logsumexp_cotangent``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from typing import Any, Callable, Iterator

from srcgrad import runtime as rt
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule
from srcgrad.rules.tangent_calls import Jvp, _filled, call, zero_tangent


def linear_in(*names: str) -> Callable[[Rule], Jvp]:
    def make(rule: Rule) -> Jvp:
        def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
            bb = dict(b)
            live = False
            for p, dot in zip(rule.operands, dots):
                if p in names and p in bb:
                    bb[p] = _filled(b[p], dot)
                    live = live or dot is not None
            return call(rule, bb) if live else zero_tangent(ans)

        return jvp

    return make


def multilinear_in(*names: str) -> Callable[[Rule], Jvp]:
    def make(rule: Rule) -> Jvp:
        def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
            out = None
            for p, dot in zip(rule.operands, dots):
                if p not in names or dot is None:
                    continue
                part = call(rule, {**b, p: dot})
                out = part if out is None else out + part
            return zero_tangent(ans) if out is None else out

        return jvp

    return make


def _logsumexp_cotangent(rule: Rule) -> Jvp:
    # g * b * exp(a - ans), ans expanded over axis: linear in g, and d exp(a - ans) is
    # exp(a - ans) * (t_a - t_ans)
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        t = dict(zip(rule.operands, dots))
        out = zero_tangent(ans)
        if t.get("g") is not None:
            out = out + call(rule, {**b, "g": t["g"]})
        moved = 0.0
        if t.get("a") is not None:
            moved = moved + t["a"]
        if t.get("ans") is not None:
            axis, keep = b.get("axis"), b.get("keepdims", False)
            moved = moved - rt.expand_like(t["ans"], b["a"], axis=axis, keepdims=keep)
        return out + ans * moved

    return jvp


_PRODUCTS = {
    "matmul_cotangent_x1": ("g", "x2"),
    "matmul_cotangent_x2": ("g", "x1"),
    "dot_cotangent_a": ("g", "b"),
    "dot_cotangent_b": ("g", "a"),
    "inner_cotangent_a": ("g", "b"),
    "inner_cotangent_b": ("g", "a"),
    "tensordot_cotangent_a": ("g", "b"),
    "tensordot_cotangent_b": ("g", "a"),
    "vecdot_cotangent_x1": ("g", "x2"),
    "vecdot_cotangent_x2": ("g", "x1"),
    "matvec_cotangent_x1": ("g", "x2"),
    "matvec_cotangent_x2": ("g", "x1"),
    "vecmat_cotangent_x1": ("g", "x2"),
    "vecmat_cotangent_x2": ("g", "x1"),
    "kron_cotangent_a": ("g", "b"),
    "kron_cotangent_b": ("g", "a"),
    "cross_cotangent_a": ("g", "b"),
    "cross_cotangent_b": ("g", "a"),
}

# helpers linear in their first operand (the cotangent); the rest is shape, keys or a mask
_LINEAR_IN_G = (
    "expand_to", "reduce_like", "reshape_like", "zeros_if_none", "unrepeat", "unroll",
    "untile", "unwindow", "take_cotangent", "take_along_axis_cotangent",
    "trace_cotangent", "diag_cotangent", "diagflat_cotangent", "diagonal_cotangent",
    "delete_cotangent", "rollaxis_cotangent", "cumsum_cotangent", "compress_cotangent",
    "unstack_like", "split_concatenated", "stacked_cotangents", "atleast_cotangents",
    "broadcast_arrays_cotangents", "concatenate_pieces", "unstack_cotangent_pieces",
    "fft_cotangent", "fftn_cotangent", "rfft_cotangent", "rfftn_cotangent",
    "irfft_cotangent", "irfftn_cotangent", "hfft_cotangent", "ihfft_cotangent",
    "pad_cotangent", "diff_cotangent", "sum_cotangents", "zero_at",
    "extremum_cotangent", "permutation_cotangent", "quantile_cotangent",
    "nan_to_num_cotangent", "cast_like", "average_cotangent", "strided_cotangent",
)  # fmt: skip


def _constant(rule: Rule) -> Jvp:
    # a slope that is constant almost everywhere (a sign)
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        return zero_tangent(ans)

    return jvp


def _real_sign(rule: Rule) -> Jvp:
    # abs_slope: a sign for real x (constant almost everywhere); conj(x) / |x| moves with a
    # complex x, which is not differentiated: the helper of its adjoint refuses it
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        rt.sign_slope_cotangent(ans, b["x"])  # raises for complex x
        return zero_tangent(ans)

    return jvp


def _digamma(rule: Rule) -> Jvp:
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        t = dots[0]
        return zero_tangent(ans) if t is None else rt.trigamma(b["x"]) * t

    return jvp


def _cov_data(rule: Rule, b: dict[str, Any], t: dict[str, Any], pairs: Any) -> Any:
    # the helper with each pair of data operands (m, y) replaced by its tangents, read
    # jointly (a None y stays None); None where no tangent reaches those pairs
    live = [(a, c) for a, c in pairs if t.get(a) is not None or t.get(c) is not None]
    out = None
    for a, c in live:
        bb = {**b, a: _filled(b[a], t.get(a))}
        bb[c] = None if b[c] is None else _filled(b[c], t.get(c))
        part = call(rule, bb)
        out = part if out is None else _added(out, part)
    return out


def _added(u: Any, v: Any) -> Any:
    if isinstance(u, tuple):
        return tuple(None if a is None else a + c for a, c in zip(u, v))
    return u + v


def _cov_cotangents(rule: Rule) -> Jvp:
    # linear in g, and linear in the data (m, y) jointly (not separately: the centring
    # and the stacking read both)
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        t = dict(zip(rule.operands, dots))
        out = _cov_data(rule, b, t, [("m", "y")])
        if t.get("g") is not None:
            part = call(rule, {**b, "g": t["g"]})
            out = part if out is None else _added(out, part)
        if out is None:
            return tuple(None if a is None else zero_tangent(a) for a in ans)
        return out

    return jvp


def _cov_cross(rule: Rule) -> Jvp:
    # bilinear in the data (m, y) and their cotangents (h_m, h_y), each pair jointly
    def jvp(ans: Any, dots: tuple[Any, ...], b: dict[str, Any]) -> Any:
        t = dict(zip(rule.operands, dots))
        out = _cov_data(rule, b, t, [("m", "y"), ("h_m", "h_y")])
        return zero_tangent(ans) if out is None else out

    return jvp


HELPERS: dict[str, Callable[[Rule], Jvp]] = {
    "cov_cotangents": _cov_cotangents,
    "cov_cross": _cov_cross,
    # a container gradient from its read leaves' cotangents, and those leaves read back
    "tree_cotangent": linear_in("values"),
    "tree_parts": linear_in("ct"),
    "abs_slope": _real_sign,
    "copysign_slope": _constant,
    "digamma": _digamma,
    **{n: multilinear_in(*ops) for n, ops in _PRODUCTS.items()},
    **{n: linear_in("g") for n in _LINEAR_IN_G},
    "add_at": linear_in("d", "g"),
    "scatter_pieces": linear_in("pieces"),
    "add_cotangents": linear_in("a", "b"),
    "add_list_cotangents": linear_in("a", "b"),
    "logsumexp_cotangent": _logsumexp_cotangent,
    # a list cotangent's entry, and one added at a position: linear in the cotangents
    "item_cotangent": linear_in("d_list"),
    "list_cotangent_at": linear_in("d_list", "g"),
    # the picked entries of a cotangent; im2col and its adjoint: linear in the cotangent
    "gather_at": linear_in("g"),
    "unfold": linear_in("g"),
    "col2im": linear_in("g"),
}
_OVERRIDES = {"cast_like": linear_in("x")}

_MADE: dict[str, Rule] = {}


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("a forward-only rule has no adjoint")


# the runtime helpers forward mode takes as primitives: those above, and every other helper
# of a gradient module, which then refuses by name instead of being read as code
# other helpers of gradient modules, without a JVP yet: primitives that refuse by name
_REFUSED = (
    "prod_others", "trigamma", "log_or_zero", "nan_count",
)  # fmt: skip


def _is_gradient_helper(name: str) -> bool:
    return (
        name in HELPERS
        or name.endswith(("_cotangent", "_cotangents", "_slope"))
        or name in _REFUSED
    )


# parameters of rules that an emitted gradient passes values that carry a tangent, and that
# the rule's result is constant in almost everywhere (which of tied values won)
LOCALLY_CONSTANT = {"split_cotangent": ("x", "result", "other")}


def helper_rule(name: str) -> Rule | None:
    """The forward-only rule of the runtime helper ``name``, or None."""
    if not _is_gradient_helper(name) or not callable(getattr(rt, name, None)):
        return None
    got = _MADE.get(name)
    if got is None:
        fn = getattr(rt, name)
        sig = inspect.signature(fn)
        stub = _stub(sig)
        ps = list(sig.parameters.values())
        varargs = next((p.name for p in ps if p.kind is p.VAR_POSITIONAL), None)
        defaults = {p.name: p.default for p in ps if p.default is not p.empty}
        operands = tuple(
            p.name for p in ps if p.default is p.empty and p.kind is not p.VAR_KEYWORD
        )
        got = _MADE[name] = Rule(
            primitive=fn,
            name=name,
            adjoint=stub,
            params=tuple(p.name for p in ps),
            operands=operands,
            nondiff=(),
            varargs=varargs,
            defaults=defaults,
            sequence=tuple(
                p.name
                for p in ps
                if p.default is p.empty and "Sequence" in str(p.annotation)
            ),
            module=__name__,
            extra={"forward_only": True},
        )
    return got


def _stub(sig: inspect.Signature) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:
        return _refuse()

    # the two leading parameters of an adjoint (their names are the helper's own here)
    g = inspect.Parameter("_cotangent", inspect.Parameter.POSITIONAL_ONLY)
    ans = inspect.Parameter("_result", inspect.Parameter.POSITIONAL_ONLY)
    params = [
        p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()
    ]
    stub.__signature__ = inspect.Signature([g, ans] + params)  # type: ignore[attr-defined]
    return stub


def has_jvp(rule: Rule) -> bool:
    return rule.name in HELPERS


def helper_jvp(rule: Rule) -> Jvp:
    make = _OVERRIDES.get(rule.name) or HELPERS[rule.name]
    return make(rule)


@contextlib.contextmanager
def helper_rules() -> Iterator[None]:
    """The helpers above as primitives while forward mode reads a module (those without a
    rule of their own); the registry is restored after."""
    added = []
    # what the registry held before, under the keys and names the added rules take (a
    # helper's own rule may be an alias whose primitive is another function: it is put
    # back under the helper's key, not its primitive's)
    saved_keys: dict[Any, Rule | None] = {}
    saved_names: dict[str, Rule | None] = {}
    for name in sorted(dir(rt)):
        rule = helper_rule(name)
        if rule is None or registry.is_nondiff(rule.primitive):
            continue
        own = registry.lookup(rule.primitive)
        if own is not None and not has_jvp(rule):
            continue
        # a helper with a reverse-mode rule of its own (for higher orders): forward
        # mode reads it through the JVP declared here, the rule is put back after
        added.append(rule)
    for name, params in LOCALLY_CONSTANT.items():
        old = registry.lookup_name(name)
        if old is not None:
            shape_only = tuple(old.extra.get("shape_only", ())) + params
            new = dataclasses.replace(
                old, extra={**old.extra, "shape_only": shape_only}
            )
            added.append(new)
    for (
        rule
    ) in added:  # the registry's generation stays: nothing is registered for good
        key = registry._key(rule.primitive)
        saved_keys.setdefault(key, registry._RULES.get(key))
        saved_names.setdefault(rule.name, registry._BY_NAME.get(rule.name))
        registry._RULES[key] = rule
        registry._BY_NAME[rule.name] = rule
    try:
        yield
    finally:
        for key, was in saved_keys.items():
            if was is None:
                registry._RULES.pop(key, None)
            else:
                registry._RULES[key] = was
        for rname, was_rule in saved_names.items():
            if was_rule is None:
                registry._BY_NAME.pop(rname, None)
            else:
                registry._BY_NAME[rname] = was_rule
