"""Gradient checks against central differences, given the gradient to check: for single
adjoint rules and for a function's gradient (:mod:`srcgrad.testing` binds the latter to
``srcgrad.grad``; :mod:`srcgrad.diagnose` to the gradient it diagnoses).

* :func:`check_adjoint` checks one adjoint rule (DESIGN §6, STYLE "What check_adjoint does").
* :func:`compare_gradient` checks what ``make_grad(f, wrt)`` computes on a function.

Both draw random directions, compare directional derivatives with central differences in
float64 under a tolerance of ``atol + rtol * max(|analytic|, |numeric|)``, and raise
``AssertionError`` with a message that says which input disagreed and by how much.  They never
compare with a hard-coded gradient.  Nothing here depends on the API.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from srcgrad import tree
from srcgrad.runtime.containers import is_float_leaf

__all__ = ["check_adjoint", "compare_gradient"]

_DEFAULT_EPS = 1e-6
_DEFAULT_RTOL = 1e-6
_DEFAULT_ATOL = 1e-6


# --------------------------------------------------------------------------- small helpers


def _to_float64(x: Any) -> Any:
    """A float64 copy of a float leaf; containers converted leaf by leaf."""
    return tree.map(_leaf_to_float64, x)


def _leaf_to_float64(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype.kind == "f" else x.copy()
    if isinstance(x, np.floating):
        return np.float64(x)
    return x


def _random_like(rng: np.random.Generator, x: Any) -> Any:
    """A standard-normal value shaped and typed like the float (or complex) leaf ``x``."""
    if isinstance(x, float) and not isinstance(x, np.floating):
        return float(rng.standard_normal())
    if (
        np.dtype(x.dtype).kind == "c"
    ):  # a complex output: random real and imaginary parts
        parts = rng.standard_normal((2,) + np.shape(x))
        return np.asarray(parts[0] + 1j * parts[1], dtype=x.dtype)
    return np.asarray(rng.standard_normal(np.shape(x)), dtype=x.dtype)


def _is_output_leaf(y: Any) -> bool:
    """An output that gets a random cotangent: a float or a complex value."""
    kind = getattr(getattr(y, "dtype", None), "kind", "")
    return is_float_leaf(y, with_complex=False) or kind == "c"


def _output_pairing(u: Any, y: Any) -> float:
    """``Re(sum(u * y))``: the scalar whose gradient a cotangent ``u`` of ``y`` stands for.

    For complex outputs this is autograd's convention (cotangents are not conjugated); for
    real outputs it is the plain inner product.
    """
    if np.iscomplexobj(u) or np.iscomplexobj(y):
        return float(
            np.real(np.sum(np.asarray(u, np.complex128) * np.asarray(y, np.complex128)))
        )
    return _inner(u, y)


def _inner(a: Any, b: Any) -> float:
    """The real inner product of two equally shaped values, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.sum(a * b))


def _snapshot(values: Iterable[Any]) -> list[tuple[Any, Any]]:
    return [(v, v.copy()) for v in values if isinstance(v, np.ndarray)]


def _close(analytic: float, numeric: float, rtol: float, atol: float) -> bool:
    return abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric))


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return "[" + ", ".join(_describe(v) for v in x) + "]"
    if isinstance(x, np.ndarray):
        return f"{x.dtype}{list(x.shape)}"
    return repr(x) if not isinstance(x, float) else "float"


# --------------------------------------------------------------------------- check_adjoint


@dataclass(frozen=True)
class _Meta:
    """What check_adjoint needs to know about a rule's signature."""

    name: str
    positional: tuple[
        str, ...
    ]  # positional parameters after (g, ans), without *varargs
    varargs: str | None
    operands: tuple[str, ...]  # differentiable, in return order
    sequence: tuple[str, ...]
    multi_output: bool
    check: dict[str, float]


def _meta(rule_fn: Callable[..., Any], rule: Any) -> _Meta:
    rule = rule if rule is not None else getattr(rule_fn, "rule", None)
    fn = rule.adjoint if rule is not None else rule_fn
    ps = list(inspect.signature(fn).parameters.values())[2:]
    positional = tuple(
        p.name for p in ps if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )
    varargs = next((p.name for p in ps if p.kind is p.VAR_POSITIONAL), None)
    if rule is not None:
        return _Meta(
            name=rule.name,
            positional=positional,
            varargs=varargs,
            operands=tuple(rule.operands),
            sequence=tuple(rule.sequence),
            multi_output=bool(rule.multi_output),
            check=dict(rule.extra.get("check", {})),
        )
    operands = tuple(
        p.name for p in ps if p.default is p.empty and p.kind is not p.VAR_KEYWORD
    )
    return _Meta(
        name=getattr(fn, "__name__", repr(fn)),
        positional=positional,
        varargs=varargs,
        operands=operands,
        sequence=(),
        multi_output=False,
        check={},
    )


@dataclass(frozen=True)
class _Leaf:
    """One differentiable value: where it sits in the call, and how to find its cotangent."""

    label: str  # e.g. "x2", "arrays[1]"
    slot: tuple[str, Any]  # ("pos", index) or ("kw", name)
    item: int | None  # index inside a sequence operand, or None
    operand: int  # index into the rule's returned cotangents


def _operand_slots(meta: _Meta, n_inputs: int, params: dict[str, Any]):
    """Yield (operand index, name, slot, is_sequence) for each differentiable operand."""
    for k, name in enumerate(meta.operands):
        if name == meta.varargs:
            start = len(meta.positional)
            yield k, name, [("pos", i) for i in range(start, n_inputs)], True
        elif name in meta.positional and meta.positional.index(name) < n_inputs:
            i = meta.positional.index(name)
            yield k, name, ("pos", i), name in meta.sequence
        elif name in params:
            yield k, name, ("kw", name), name in meta.sequence
        else:
            raise TypeError(f"{meta.name}: no input given for operand {name!r}")


def _leaves(meta: _Meta, inputs: Sequence[Any], params: dict[str, Any]) -> list[_Leaf]:
    out = []
    for k, name, slot, is_seq in _operand_slots(meta, len(inputs), params):
        if isinstance(slot, list):  # *varargs: each positional input is one element
            out += [_Leaf(f"{name}[{j}]", s, None, k) for j, s in enumerate(slot)]
        elif is_seq and (
            isinstance(_get_slot(inputs, params, slot), (list, tuple))
            or np.ndim(_get_slot(inputs, params, slot)) > 0
        ):
            # (a sequence operand given as one scalar is one leaf: np.array(2.0))
            value = _get_slot(inputs, params, slot)
            out += [_Leaf(f"{name}[{j}]", slot, j, k) for j in range(len(value))]
        else:
            out.append(_Leaf(name, slot, None, k))
    return out


def _get_slot(
    inputs: Sequence[Any], params: dict[str, Any], slot: tuple[str, Any]
) -> Any:
    return inputs[slot[1]] if slot[0] == "pos" else params[slot[1]]


def _leaf_value(inputs: Sequence[Any], params: dict[str, Any], leaf: _Leaf) -> Any:
    value = _get_slot(inputs, params, leaf.slot)
    return value if leaf.item is None else value[leaf.item]


def _with_leaf(
    inputs: Sequence[Any], params: dict[str, Any], leaf: _Leaf, new: Any
) -> tuple[list[Any], dict[str, Any]]:
    inputs, params = list(inputs), dict(params)
    old = _get_slot(inputs, params, leaf.slot)
    if leaf.item is not None:
        seq = list(old)
        seq[leaf.item] = new
        new = type(old)(seq) if isinstance(old, tuple) else seq
    if leaf.slot[0] == "pos":
        inputs[leaf.slot[1]] = new
    else:
        params[leaf.slot[1]] = new
    return inputs, params


def _leaf_cotangent(
    meta: _Meta, result: Any, leaf: _Leaf, varargs_offset: int, whole: Any = None
) -> Any:
    """The part of a rule's result that belongs to ``leaf`` (``whole``: the operand the
    leaf is an item of, when it is one)."""
    if len(meta.operands) == 1:
        cot = result
    else:
        if not isinstance(result, (tuple, list)) or len(result) != len(meta.operands):
            raise AssertionError(
                f"{meta.name}: the rule must return one cotangent per operand "
                f"{meta.operands}, got {_describe(result)}"
            )
        cot = result[leaf.operand]
    index = leaf.item
    if leaf.slot[0] == "pos" and meta.operands[leaf.operand] == meta.varargs:
        index = leaf.slot[1] - varargs_offset
    if index is None or cot is None:
        return cot
    if isinstance(cot, np.ndarray) and isinstance(whole, np.ndarray):
        return cot[index]  # a sequence operand given as an array: its rows
    if not isinstance(cot, (tuple, list)):
        raise AssertionError(  # noqa: TRY004  (a failed check, not a caller's mistake)
            f"{meta.name}: the cotangent of sequence operand "
            f"{meta.operands[leaf.operand]!r} must be a sequence, got {_describe(cot)}"
        )
    return cot[index]


def _check_cotangent_type(meta: _Meta, leaf: _Leaf, value: Any, cot: Any) -> None:
    if cot is None:
        return
    if isinstance(value, float) and not isinstance(value, np.floating):
        if np.ndim(cot) != 0 or np.asarray(cot).dtype.kind not in "fc":
            raise AssertionError(
                f"{meta.name}: the cotangent of Python float operand {leaf.label} must be a "
                f"float scalar, got {_describe(cot)}"
            )
        return
    shape, dtype = np.shape(value), value.dtype
    if np.shape(cot) != shape or getattr(cot, "dtype", None) != dtype:
        raise AssertionError(
            f"{meta.name}: the cotangent of {leaf.label} has "
            f"{getattr(cot, 'dtype', type(cot).__name__)}{list(np.shape(cot))}, but the "
            f"operand is {dtype}{list(shape)}"
        )


def _output_leaves(ans: Any, multi: bool) -> list[Any]:
    return list(ans) if multi else [ans]


def _cotangent_patterns(rng: np.random.Generator, ans: Any, multi: bool) -> list[Any]:
    """The output cotangents to try: all outputs, then (multi-output) each one alone."""
    outs = _output_leaves(ans, multi)
    full = [_random_like(rng, y) if _is_output_leaf(y) else None for y in outs]
    if not multi:
        return [full[0]]
    patterns = [full]
    if len(outs) > 1:
        for k in range(len(outs)):
            if full[k] is not None:
                patterns.append([u if j == k else None for j, u in enumerate(full)])
    return patterns


def _output_inner(u: Any, y: Any, multi: bool) -> float:
    if not multi:
        return _output_pairing(u, y)
    return sum(_output_pairing(uk, yk) for uk, yk in zip(u, y) if uk is not None)


def _call_rule(
    meta: _Meta, rule_fn: Callable[..., Any], u: Any, ans: Any, inputs: Any, params: Any
) -> Any:
    watched = _snapshot(tree.leaves([u, ans, list(inputs), params]))
    result = rule_fn(u, ans, *inputs, **params)
    for array, before in watched:
        if not np.array_equal(array, before, equal_nan=True):
            raise AssertionError(
                f"{meta.name}: the rule wrote into one of its arguments"
            )
    return result


def check_adjoint(
    prim: Callable[..., Any],
    rule_fn: Callable[..., Any],
    inputs: Sequence[Any],
    params: dict[str, Any] | None = None,
    rng: np.random.Generator | None = None,
    *,
    rule: Any = None,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    n_dirs: int = 3,
) -> None:
    """Check an adjoint rule against central differences of its primitive.

    For a random output cotangent ``u`` and, for each differentiable input separately,
    ``n_dirs`` random directions ``v``, checks autograd's inner-product identity in float64::

        <rule(u, ans, *inputs), v>  ==  <u, (prim(x + eps v) - prim(x - eps v)) / (2 eps)>

    up to ``atol + rtol * max(|lhs|, |rhs|)``.  A ``None`` cotangent counts as zero.  It also
    checks that each cotangent has its operand's shape and dtype (on the inputs as given, so
    float32 inputs must give float32 cotangents), that the rule returns one cotangent per
    operand, and that it writes into none of its arguments.  A multi-output primitive is also
    checked with every output but one given a ``None`` cotangent.

    Args:
        prim: the primitive, e.g. ``np.tanh``.
        rule_fn: the adjoint rule ``rule_fn(g, ans, *inputs, **params)``.
        inputs: the positional arguments of ``prim`` in order: arrays, Python floats,
            sequences of arrays for sequence operands, and non-differentiable values
            (``where``'s condition, ``einsum``'s subscripts).  Float inputs are converted to
            float64 for the central differences.
        params: keyword arguments for both ``prim`` and ``rule_fn`` (``axis``, ...).
        rng: the random generator for ``u`` and ``v`` (default: seeded with 0).
        rule: the registry entry describing ``rule_fn``'s operands; defaults to
            ``rule_fn.rule`` (set by ``@adjoint``), else every parameter without a default
            counts as an operand.
        eps: the central-difference step (default 1e-6, or the rule's ``check["eps"]``).
        rtol: relative tolerance (default 1e-6, or the rule's ``check["rtol"]``).
        atol: absolute tolerance (default 1e-6, or the rule's ``check["atol"]``).
        n_dirs: how many random directions per input.

    Raises:
        AssertionError: on any mismatch, naming the rule and the input.
    """
    params = dict(params or {})
    rng = rng if rng is not None else np.random.default_rng(0)
    meta = _meta(rule_fn, rule)
    eps = eps if eps is not None else meta.check.get("eps", _DEFAULT_EPS)
    rtol = rtol if rtol is not None else meta.check.get("rtol", _DEFAULT_RTOL)
    atol = atol if atol is not None else meta.check.get("atol", _DEFAULT_ATOL)
    leaves = _leaves(meta, inputs, params)
    # 1. shapes and dtypes on the inputs as given
    ans = prim(*inputs, **params)
    for u in _cotangent_patterns(rng, ans, meta.multi_output):
        result = _call_rule(meta, rule_fn, u, ans, inputs, params)
        for leaf in leaves:
            value = _leaf_value(inputs, params, leaf)
            if is_float_leaf(value, with_complex=False):
                whole = _get_slot(inputs, params, leaf.slot)
                cot = _leaf_cotangent(meta, result, leaf, len(meta.positional), whole)
                _check_cotangent_type(meta, leaf, value, cot)
    _check_inner_products(
        meta, prim, rule_fn, inputs, params, rng, leaves, (eps, rtol, atol), n_dirs
    )


def _check_inner_products(
    meta: Any,
    prim: Callable[..., Any],
    rule_fn: Callable[..., Any],
    inputs: Sequence[Any],
    params: dict[str, Any],
    rng: np.random.Generator,
    leaves: Any,
    tols: tuple[float, float, float],
    n_dirs: int,
) -> None:
    """Step 2 of :func:`check_adjoint`: the inner-product identity in float64."""
    eps, rtol, atol = tols
    x64 = [_to_float64(x) for x in inputs]
    p64 = {k: _to_float64(v) for k, v in params.items()}
    ans = prim(*x64, **p64)
    for u in _cotangent_patterns(rng, ans, meta.multi_output):
        result = _call_rule(meta, rule_fn, u, ans, x64, p64)
        for leaf in leaves:
            value = _leaf_value(x64, p64, leaf)
            if not is_float_leaf(value, with_complex=False):
                continue
            whole = _get_slot(x64, p64, leaf.slot)
            cot = _leaf_cotangent(meta, result, leaf, len(meta.positional), whole)
            _check_cotangent_type(meta, leaf, value, cot)
            for _ in range(n_dirs):
                v = _random_like(rng, value)
                xp_, pp_ = _with_leaf(x64, p64, leaf, value + eps * v)
                xm_, pm_ = _with_leaf(x64, p64, leaf, value - eps * v)
                plus = _output_inner(u, prim(*xp_, **pp_), meta.multi_output)
                minus = _output_inner(u, prim(*xm_, **pm_), meta.multi_output)
                numeric = (plus - minus) / (2 * eps)
                analytic = 0.0 if cot is None else _inner(cot, v)
                if not _close(analytic, numeric, rtol, atol):
                    raise AssertionError(
                        _disagreement(
                            meta,
                            leaf,
                            analytic,
                            numeric,
                            (eps, rtol, atol),
                            inputs,
                            params,
                            u,
                        )
                    )


def _disagreement(
    meta: Any,
    leaf: Any,
    analytic: float,
    numeric: float,
    tols: tuple[float, float, float],
    inputs: Sequence[Any],
    params: dict[str, Any],
    u: Any,
) -> str:
    """The message of a rule whose cotangent disagrees with central differences."""
    eps, rtol, atol = tols
    return (
        f"{meta.name}: the cotangent of {leaf.label} disagrees with central "
        f"differences: <cotangent, v> = {analytic:.12g} but "
        f"<u, (f(x+eps*v) - f(x-eps*v)) / (2*eps)> = {numeric:.12g} "
        f"(eps={eps:g}, rtol={rtol:g}, atol={atol:g}; inputs "
        f"{_describe(list(inputs))}, params {params!r}"
        + (f", output cotangents {_describe(u)}" if meta.multi_output else "")
        + ")"
    )


# --------------------------------------------------------------------------- check_grad


def _tree_map_float64(x: Any) -> Any:
    """``x`` with its float leaves in float64 (only the containers on their paths rebuilt)."""
    for path, leaf in tree.leaves_with_paths(x):
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
            x = tree.replace(x, path, leaf.astype(np.float64))
        elif isinstance(leaf, np.floating):
            x = tree.replace(x, path, np.float64(leaf))
    return x


def _scalar_output(out: Any, name: str) -> float:
    arr = np.asarray(out)
    if arr.size != 1:
        raise AssertionError(
            f"check_grad: {name} must return a scalar, got shape {arr.shape}"
        )
    return float(arr.reshape(()))


def _wrt_positions(f: Callable[..., Any], wrt: Any, n_args: int) -> list[int]:
    items = list(wrt) if isinstance(wrt, tuple) else [wrt]
    names = None
    out = []
    for w in items:
        if isinstance(w, str):
            if names is None:
                names = list(inspect.signature(f).parameters)
            if w not in names:
                raise ValueError(
                    f"check_grad: {w!r} is not a parameter of the function"
                )
            w = names.index(w)
        if not 0 <= w < n_args:
            raise ValueError(
                f"check_grad: wrt={w!r} but only {n_args} arguments were given"
            )
        out.append(w)
    return out


def _check_structure(name: str, pos: int, arg: Any, grad: Any) -> None:
    """The gradient of argument ``pos`` has an entry for each leaf of it, and each float
    leaf's entry has its shape and dtype."""
    for path, leaf in tree.variable_leaves_with_paths(arg):  # (not a model's buffers)
        label = f"argument {pos}" + "".join(f"[{k!r}]" for k in path)
        try:
            g = tree.get(grad, path)
        except (KeyError, IndexError, TypeError) as err:
            raise AssertionError(
                f"check_grad: {name}: the gradient has no entry for {label}"
            ) from err
        if not is_float_leaf(leaf, with_complex=False):
            continue
        if isinstance(leaf, float) and not isinstance(leaf, np.floating):
            ok = np.ndim(g) == 0
        else:
            ok = np.shape(g) == leaf.shape and getattr(g, "dtype", None) == leaf.dtype
        if not ok:
            raise AssertionError(
                f"check_grad: {name}: the gradient of {label} is {_describe(g)}, "
                f"the argument is {_describe(leaf)}"
            )


def _check_unchanged(name: str, pristine: tuple, run_args: tuple) -> None:
    """Computing the gradient left its arguments as they were (a model's buffers may change,
    as the plain call changes them)."""
    pairs = zip(
        tree.variable_leaves_with_paths(pristine),
        tree.variable_leaves_with_paths(run_args),
    )
    for (_, b), (_, a) in pairs:
        if isinstance(a, np.ndarray) and not np.array_equal(a, b, equal_nan=True):
            raise AssertionError(
                f"check_grad: {name}: computing the gradient changed an input"
            )


def _check_unshared(name: str, run_args: tuple, grads: tuple) -> None:
    """No gradient shares memory with the arguments it was computed from."""
    held = [v for v in tree.leaves(run_args) if isinstance(v, np.ndarray)]
    for g in tree.leaves(grads):
        if isinstance(g, np.ndarray) and any(np.shares_memory(g, h) for h in held):
            raise AssertionError(
                f"check_grad: {name}: a returned gradient shares memory with an argument"
            )


@dataclass
class _Differences:
    """How to compare along random directions: the function, its arguments and tolerances."""

    f: Callable[..., Any]
    name: str
    args: tuple
    steps: tuple
    rtol: float
    atol: float
    n_dirs: int
    rng: np.random.Generator

    def value(self, arguments: tuple) -> float:
        return _scalar_output(self.f(*copy.deepcopy(arguments)), self.name)

    def check(self, pos: int, grad: Any) -> None:
        """<grad, v> matches central differences along ``n_dirs`` random directions ``v``
        over the float leaves of argument ``pos``."""
        arg = self.args[pos]
        leaves = [
            (p, v)
            for p, v in tree.variable_leaves_with_paths(arg)
            if is_float_leaf(v, with_complex=False)
        ]
        if not leaves:
            return
        for _ in range(self.n_dirs):
            dirs = [(p, _random_like(self.rng, v)) for p, v in leaves]
            analytic = sum(_inner(tree.get(grad, p), v) for p, v in dirs)
            numerics = []
            for step in self.steps:
                plus, minus = arg, arg
                for (p, v), (_, x) in zip(dirs, leaves):
                    plus = tree.replace(plus, p, x + step * v)
                    minus = tree.replace(minus, p, x - step * v)
                args_plus = self.args[:pos] + (plus,) + self.args[pos + 1 :]
                args_minus = self.args[:pos] + (minus,) + self.args[pos + 1 :]
                numerics.append(
                    (self.value(args_plus) - self.value(args_minus)) / (2 * step)
                )
            if not any(_close(analytic, n, self.rtol, self.atol) for n in numerics):
                shown = ", ".join(
                    f"{n:.12g} (eps={s:g})" for n, s in zip(numerics, self.steps)
                )
                raise AssertionError(
                    f"check_grad: {self.name}: the gradient of argument {pos} disagrees with "
                    f"central differences along a random direction: <grad, v> = "
                    f"{analytic:.12g}, numeric: {shown} (rtol={self.rtol:g}, atol={self.atol:g})"
                )


def compare_gradient(
    make_grad: Callable[..., Any],
    f: Callable[..., Any],
    *args: Any,
    wrt: int | str | tuple[int | str, ...] = 0,
    eps: float | Sequence[float] = (1e-4, 1e-5, 1e-6),
    rtol: float = 1e-5,
    atol: float = 1e-6,
    n_dirs: int = 3,
    seed: int = 0,
) -> None:
    """Check ``make_grad(f, wrt=wrt)`` against central differences of ``f``: what
    :func:`srcgrad.testing.check_grad` documents, for any way of making the gradient."""
    name = getattr(f, "__name__", repr(f))
    rng = np.random.default_rng(seed)
    steps = (eps,) if isinstance(eps, (int, float)) else tuple(eps)
    args = tuple(_tree_map_float64(a) for a in args)
    positions = _wrt_positions(f, wrt, len(args))
    pristine = copy.deepcopy(args)

    # the gradient sees its own copy too: a Generator argument then starts from the same
    # state as in every evaluation below
    run_args = copy.deepcopy(args)
    grads = make_grad(f, wrt=wrt)(*run_args)
    _check_unchanged(name, pristine, run_args)
    grads = tuple(grads) if isinstance(wrt, tuple) else (grads,)
    _check_unshared(name, run_args, grads)
    if len(grads) != len(positions):
        raise AssertionError(
            f"check_grad: {name}: expected {len(positions)} gradients, got {len(grads)}"
        )
    differences = _Differences(f, name, args, steps, rtol, atol, n_dirs, rng)
    for pos, grad in zip(positions, grads):
        _check_structure(name, pos, args[pos], grad)
        differences.check(pos, grad)
