"""Facts declared on the rules, checked against numpy itself (DESIGN §6 "Facts live on the rule").

The facts codegen reads from the rules (``srcgrad/rules/registry.py`` lists them), each
checked by calling the primitive:

* ``kind``: a ``"unary"`` rule keeps its operand's shape and float dtype, a ``"binary"`` one
  broadcasts ``x1`` and ``x2`` and promotes their float dtypes, a ``"reduce"`` one reduces
  over ``axis`` with ``keepdims`` and equals its ndarray method (``registry.method_of``), and
  ``integer_result`` holds for integer operands;
* ``methods`` / ``attributes``: each is an ndarray method or attribute, and calling it equals
  calling the rule's primitive on the array (a varargs method collects its positional
  arguments into the parameter it names); the same for the non-differentiable methods;
* ``math`` / ``builtins`` / ``operator``: the Python function or operator equals the primitive;
* ``same_as``, ``single_output_when`` and ``array_operands``.

* ``Rule.view``: every registered rule's primitive is called on its registry test inputs
  (``tests/rules/_cases.py``), in both the contiguous and the non-contiguous variants, and the
  flag must equal whether any result (any item of a sequence result) shares memory with any
  input array.  Primitives that return a view only for some arguments are flagged (a "may"
  view is a view for the alias analysis) and listed in ``MAY_BE_VIEW`` with the reason.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from srcgrad.rules.registry import Rule, all_rules
from tests.rules._cases import rule_cases

# rule name -> why it is flagged although the registry's inputs do not show a shared result
MAY_BE_VIEW = {
    "astype": "copy=False returns the input itself when the dtype already matches",
    "imag": "a view of a complex input (a new array for a real one)",
    "meshgrid": "copy=False returns broadcast views of the inputs",
    "linalg.matrix_power": "n=1 returns the input's data",
    "float32": "np.float32 of a float32 array returns that array",
    "diff": "n=0 returns the input itself",
    "ravel": "a view when the order allows it, else a copy",
    "reshape": "a view when the strides allow it, else a copy",
    "diag": "a view of a 2-d input's diagonal, a new array for a 1-d input",
    "float64": "np.float64 of a float64 array returns that array (a copy of a 0-d one)",
    "unbroadcast": "returns the cotangent itself when nothing needs reducing",
    "mvn_covariance_cotangent": "a view of a vector covariance's diagonal",
    "max_of": "Python's max returns one of the items itself",
    "min_of": "Python's min returns one of the items itself",
    "add_cotangents": "returns the other cotangent itself when one is None",
    "add_list_cotangents": "keeps an entry itself where the other list's entry is None",
    "gather_at": "a view of the cotangent for a basic key that needs no reduction",
    "pad_cotangent": "a slice of the cotangent for mode='constant', else a new array",
    "reshape_like": "a view when the strides allow it, else a copy",
    "diag_cotangent": "the diagonal of a 2-d cotangent is a view, a 1-d one is spread",
    "broadcast_arrays_cotangents": "an operand of the broadcast shape gets its part",
    "meshgrid_cotangents": "the part of a one-input grid passes as it is",
    "matrix_power_cotangent": "n=1 returns the cotangent itself",
    "einsum_of": "a view for subscripts that only permute or take a diagonal (ij->ji)",
    "asarray": "an array of the dtype asked for is returned itself, a list is copied",
}


def _arrays(x: Any) -> list[np.ndarray]:
    """Every ndarray in ``x`` (through lists, tuples and dict values)."""
    if isinstance(x, np.ndarray):
        return [x]
    if isinstance(x, (list, tuple)):
        return [a for v in x for a in _arrays(v)]
    if isinstance(x, dict):
        return [a for v in x.values() for a in _arrays(v)]
    return []


def _shares(rule: Rule) -> set[bool]:
    """For each registry case of ``rule``: does its result share memory with an input?"""
    seen = set()
    for case in rule_cases([rule]):
        args, kwargs = case.call()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = rule.primitive(*args, **kwargs)
        inputs = _arrays(args) + _arrays(kwargs)
        seen.add(any(np.shares_memory(o, i) for o in _arrays(out) for i in inputs))
    return seen


RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_view_flag_matches_shares_memory(rule: Rule) -> None:
    seen = _shares(rule)
    if rule.name in MAY_BE_VIEW:
        assert (
            rule.view
        ), f"{rule.name}: listed as a 'may be a view' but not flagged view=True"
        return
    if rule.view:
        assert seen == {True}, (
            f"{rule.name} is flagged view=True but its result shares no memory with its inputs "
            "on some registry cases; if it is a view only for some arguments, list it in "
            "MAY_BE_VIEW with the reason"
        )
    else:
        assert seen == {False}, (
            f"{rule.name} may return a view of an input (np.shares_memory): "
            f"declare it with @adjoint(..., view=True)"
        )


def test_may_be_view_entries_are_rules_and_really_may_share() -> None:
    """Every allow-list entry names a rule, and the case it gives shows the shared memory."""
    names = {r.name for r in RULES}
    assert all(registry.numpy_function(n) is None for n in set(MAY_BE_VIEW) - names)
    a = np.arange(12.0).reshape(3, 4)
    z = a + 1j
    shown = {
        "astype": np.shares_memory(a.astype(np.float64, copy=False), a),
        "imag": np.shares_memory(np.imag(z), z),
        "meshgrid": np.shares_memory(np.meshgrid(a[0], a[1], copy=False)[0], a),
        "linalg.matrix_power": np.shares_memory(
            np.linalg.matrix_power(a[:3, :3], 1), a
        ),
        "float32": np.shares_memory(np.float32(a.astype(np.float32)), a)
        or np.float32(b := a.astype(np.float32)) is b,
        "diff": np.shares_memory(np.diff(a, n=0), a),
        "ravel": np.shares_memory(np.ravel(a), a),
        "reshape": np.shares_memory(np.reshape(a, (4, 3)), a),
        "diag": np.shares_memory(np.diag(a), a),
        "asarray": np.asarray(a) is a,
        "float64": np.shares_memory(np.float64(a), a),
        "max_of": max([a[0, 0:1], a[1, 0:1] - 100])
        is not None,  # returns an item itself
        "min_of": min([a[0, 0:1], a[1, 0:1] + 100]) is not None,
    }
    from srcgrad.runtime import unbroadcast

    shown["unbroadcast"] = unbroadcast(a, a) is a
    items = [a[0, 0:1], a[1, 0:1] - 100]
    shown["max_of"] = max(items) is items[0]
    shown["min_of"] = min(items) is items[1]
    from srcgrad import runtime as rt

    shown["add_cotangents"] = rt.add_cotangents(None, a) is a
    shown["mvn_covariance_cotangent"] = np.shares_memory(
        rt.mvn_covariance_cotangent(a[:3, :3], a[0, :3]), a
    )
    shown["add_list_cotangents"] = rt.add_list_cotangents([None], [a])[0] is a
    shown["gather_at"] = np.shares_memory(rt.gather_at(a, slice(0, 2), a[:2]), a)
    shown["pad_cotangent"] = np.shares_memory(rt.pad_cotangent(a, a[:1, :2], 1), a)
    shown["reshape_like"] = np.shares_memory(rt.reshape_like(a, a.T), a)
    shown["diag_cotangent"] = np.shares_memory(
        rt.diag_cotangent(a[:3, :3], a[0, :3]), a
    )
    shown["broadcast_arrays_cotangents"] = (
        rt.broadcast_arrays_cotangents([a], [a])[0] is a
    )
    shown["meshgrid_cotangents"] = np.shares_memory(
        rt.meshgrid_cotangents([a[0]], [a[0]])[0], a
    )
    shown["matrix_power_cotangent"] = np.shares_memory(
        rt.matrix_power_cotangent(a[:3, :3], a[:3, :3], 1), a
    )
    shown["einsum_of"] = np.shares_memory(rt.einsum_of("ij->ji", [a]), a)
    assert {k for k, v in shown.items() if not v} == set()
    assert set(shown) == set(MAY_BE_VIEW)


# --------------------------------------------------------------------------- non-differentiable
#
# Every entry declared non-differentiable (srcgrad/rules: ``nondifferentiable(...)`` and its
# ``methods``; codegen's BUILTIN_NONDIFF, MATH_NONDIFF, ARRAY_ATTRIBUTES_STATIC) must be provably
# constant: an integer, boolean, dtype, shape or other non-float output, or a float output
# that is piecewise constant (its derivative is 0 wherever it exists) or reads only shapes.

import builtins  # noqa: E402
import math  # noqa: E402

from srcgrad import runtime  # noqa: E402
from srcgrad.codegen import resolve  # noqa: E402
from srcgrad.rules import registry  # noqa: E402

_RNG = np.random.default_rng(12)
X = _RNG.uniform(-2.0, 2.0, (3, 4))
Y = _RNG.uniform(-2.0, 2.0, (3, 4))
SQ = _RNG.uniform(-2.0, 2.0, (3, 3))
I = _RNG.integers(1, 9, (3, 4))

# float outputs that are piecewise constant in a float argument: derivative 0 almost everywhere
PIECEWISE_CONSTANT = {
    "floor",
    "ceil",
    "round",
    "around",
    "rint",
    "trunc",
    "fix",
    "sign",
    "spacing",
    "extremum_share",
    "interp_outside",
    "nan_count",  # a count of non-NaN elements: constant between NaNs
    "copysign_slope",  # a product of signs
}
# float outputs that read only shapes, sizes or constant arguments (never a float argument)
SHAPE_ONLY = {
    "sign_slope_cotangent",  # zeros shaped like its operands
    "class_onehot",  # 0 and 1 at the targets, shaped like its last operand
    "zeros",
    "ones",
    "empty",
    "zeros_like",
    "ones_like",
    "empty_like",
    "arange",
    "eye",
    "identity",
    "tri",
    "fft.fftfreq",
    "fft.rfftfreq",
    "zeros_cotangent",
    "step_zeros",  # zeros shaped like the step before's value (a loop-only name's cotangent)
    "shape_dtype",  # an array's shape and dtype, which emitted code keeps instead of it
}
# unspecified values (np.empty) and no values at all (shape_dtype): only the shape and
# dtype are compared
UNSPECIFIED = {"empty", "empty_like", "shape_dtype"}

# how to call each entry: name -> (function of the float input x) -> result
# declared without a gradient by definition, though their output moves with the input
NO_GRADIENT_BY_DEFINITION = {"stop_gradient"}  # the user's marker for a constant

CALLS: dict[str, Any] = {
    "mvn_dimension": lambda f, x: f(x, None, np.eye(x.shape[-1])),
    "mvn_rows_shape": lambda f, x: f(x, x.shape[-1]),
    "sign_slope_cotangent": lambda f, x: f(x, x),
    "running_extreme_index": lambda f, x: (f(x, 0, "max"), f(x, -1, "min")),
    "searchsorted": lambda f, x: f(np.sort(x.ravel()), Y.ravel()),
    "digitize": lambda f, x: f(x, np.array([-1.0, 0.0, 1.0])),
    "equal": lambda f, x: f(x, Y),
    "not_equal": lambda f, x: f(x, Y),
    "less": lambda f, x: f(x, Y),
    "less_equal": lambda f, x: f(x, Y),
    "greater": lambda f, x: f(x, Y),
    "greater_equal": lambda f, x: f(x, Y),
    "logical_and": lambda f, x: f(x, Y),
    "logical_or": lambda f, x: f(x, Y),
    "logical_xor": lambda f, x: f(x, Y),
    "isclose": lambda f, x: f(x, Y),
    "allclose": lambda f, x: f(x, Y),
    "array_equal": lambda f, x: f(x, Y),
    "array_equiv": lambda f, x: f(x, Y),
    "zeros": lambda f, x: f(x.shape),
    "ones": lambda f, x: f(x.shape),
    "empty": lambda f, x: f(x.shape),
    "arange": lambda f, x: f(x.shape[0] + 0.5),
    "eye": lambda f, x: f(x.shape[0]),
    "identity": lambda f, x: f(x.shape[0]),
    "tri": lambda f, x: f(x.shape[0]),
    "uint8": lambda f, x: f(np.abs(x) * 10),
    "uint16": lambda f, x: f(np.abs(x) * 10),
    "uint32": lambda f, x: f(np.abs(x) * 10),
    "uint64": lambda f, x: f(np.abs(x) * 10),
    "argpartition": lambda f, x: f(x, 1),
    "lexsort": lambda f, x: f((x[0], x[1])),
    "isin": lambda f, x: f(x, Y),
    "unravel_index": lambda f, x: f(int(np.argmax(x)), x.shape),
    "inverse_permutation": lambda f, x: f(tuple(np.argsort(x[0, :3]))),
    "normalize_axes": lambda f, x: f(int(np.argmax(x[0, :2])) - 1, x.ndim),
    "ravel_multi_index": lambda f, x: f(
        (np.argmax(x, 0) % 3, np.argmin(x, 0)), x.shape
    ),
    "indices": lambda f, x: f(x.shape),
    "diag_indices": lambda f, x: f(x.shape[0]),
    "diag_indices_from": lambda f, x: f(x[:, :3]),
    "tril_indices": lambda f, x: f(x.shape[0]),
    "tril_indices_from": lambda f, x: f(x),
    "triu_indices": lambda f, x: f(x.shape[0]),
    "triu_indices_from": lambda f, x: f(x),
    "mask_indices": lambda f, x: f(x.shape[0], np.triu),
    "bitwise_and": lambda f, x: f(I, np.floor(np.abs(x)).astype(int)),
    "bitwise_or": lambda f, x: f(I, np.floor(np.abs(x)).astype(int)),
    "bitwise_xor": lambda f, x: f(I, np.floor(np.abs(x)).astype(int)),
    "invert": lambda f, x: f(I),
    "left_shift": lambda f, x: f(I, 1),
    "right_shift": lambda f, x: f(I, 1),
    "gcd": lambda f, x: f(I, 6),
    "lcm": lambda f, x: f(I, 6),
    "packbits": lambda f, x: f(x > 0),
    "unpackbits": lambda f, x: f(I.astype(np.uint8)),
    "bitwise_count": lambda f, x: f(I),
    "isscalar": lambda f, x: f(x[0, 0]),
    "isnat": lambda f, x: f(np.array(["2020-01-01"], dtype="datetime64[D]")),
    "may_share_memory": lambda f, x: f(x, Y),
    "shares_memory": lambda f, x: f(x, Y),
    "can_cast": lambda f, x: f(x.dtype, np.float32),
    "promote_types": lambda f, x: f(x.dtype, np.float32),
    "issubdtype": lambda f, x: f(x.dtype, np.floating),
    "broadcast_shapes": lambda f, x: f(x.shape, (1, 4)),
    "fft.fftfreq": lambda f, x: f(x.shape[1], 0.5),
    "fft.rfftfreq": lambda f, x: f(x.shape[1], 0.5),
    "namespace": lambda f, x: f(x),
    "reduction_size": lambda f, x: f(x, 0),
    "extremum_share": lambda f, x: f(x, np.maximum(x, Y), Y),
    "copysign_slope": lambda f, x: f(x, Y),
    "require_float_dtype": lambda f, x: f(x.dtype, "f.py:1: x"),
    "conv_layout": lambda f, x: f((3, 2, 1, 2), x.reshape(3, 2, 1, 2).strides, 1, 16),
    "class_onehot": lambda f, x: f(np.array([0, 2, -100]), -100, x),
    "interp_segments": lambda f, x: f(x[0], np.sort(x[1])),
    "interp_outside": lambda f, x: f(x[0] * 3, np.sort(x[1])),
    "einsum_dual_subscripts": lambda f, x: f("ij,jk->ik", [x, x.T]),
    "multi_dot_subscripts": lambda f, x: f([x, x.T, x]),
}

NONDIFF_ENTRIES = sorted(
    ((name, registry.NONDIFF_FUNCS[key]) for key, name in registry.NONDIFF.items()),
    key=lambda p: p[0],
)


def _leaves(out: Any) -> list[Any]:
    if isinstance(out, (list, tuple)):
        return [v for o in out for v in _leaves(o)]
    return [out]


def _is_float(v: Any) -> bool:
    if isinstance(v, (float, complex)):
        return True
    dtype = getattr(v, "dtype", None)
    return (
        isinstance(dtype, np.dtype)
        and not isinstance(v, np.dtype)
        and dtype.kind in "fc"
    )


def _check_constant(name: str, call: Any) -> None:
    """``call(x)``'s output is non-float, or does not move when ``x`` moves a little."""
    out = call(X)
    floats = [v for v in _leaves(out) if _is_float(v)]
    if not floats:
        return  # integer, boolean, dtype, shape, module or None output: a constant
    assert name in PIECEWISE_CONSTANT | SHAPE_ONLY, (
        f"{name} returns floats: declare it piecewise constant or shape-only here (with a "
        "reason), or give it an adjoint rule instead"
    )
    for k in range(5):
        delta = np.random.default_rng(k).uniform(-1e-7, 1e-7, X.shape)
        moved = call(X + delta)
        for a, b in zip(_leaves(out), _leaves(moved)):
            if name in UNSPECIFIED:
                assert np.shape(a) == np.shape(b)
            else:
                np.testing.assert_array_equal(
                    a, b, err_msg=f"{name} moved with its input"
                )


@pytest.mark.parametrize(
    "name, fn", NONDIFF_ENTRIES, ids=[n for n, _ in NONDIFF_ENTRIES]
)
def test_nondiff_entry_is_constant(name: str, fn: Any) -> None:
    if name in NO_GRADIENT_BY_DEFINITION:
        assert fn(X) is X  # the identity
        return
    call = CALLS.get(name, lambda f, x: f(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_constant(name, lambda x: call(fn, x))


def test_nondiff_unless_names_the_argument_that_carries_a_gradient() -> None:
    """np.arange's start/step and fftfreq's spacing move the values: such calls are refused."""
    check = registry.nondiff_active_argument
    assert check(np.arange, [True], {}) is None  # arange(stop): piecewise constant
    assert check(np.arange, [True, False], {}) == "start"
    assert check(np.arange, [False, False, True], {}) == "step"
    assert check(np.arange, [False], {"step": True}) == "step"
    assert check(np.fft.fftfreq, [False, True], {}) == "d"
    assert check(np.fft.rfftfreq, [False], {"d": True}) == "d"
    assert check(np.fft.fftfreq, [False, False], {}) is None
    assert check(np.argmax, [True], {}) is None


@pytest.mark.parametrize("method", sorted(registry.NONDIFF_METHODS))
def test_nondiff_method_is_constant(method: str) -> None:
    args = (1,) if method == "argpartition" else ()
    _check_constant(method, lambda x: getattr(x, method)(*args))


BUILTIN_CALLS = {
    "len": lambda x: len(x),
    "int": lambda x: int(x[0, 0]),
    "bool": lambda x: bool(x[0, 0]),
    "round": lambda x: (round(float(x[0, 0])), round(float(x[0, 0]), 1)),
    "range": lambda x: range(len(x)),
    "isinstance": lambda x: isinstance(x, np.ndarray),
    "str": lambda x: str(x),
    "repr": lambda x: repr(x),
    "type": lambda x: type(x),
    "slice": lambda x: slice(0, len(x)),
    "print": lambda x: None,  # prints; returns None
}


@pytest.mark.parametrize("name", sorted(resolve.BUILTIN_NONDIFF))
def test_nondiff_builtin_is_constant(name: str) -> None:
    assert getattr(builtins, name) is not None
    _check_constant(name, BUILTIN_CALLS[name])


MATH_CALLS = {
    "floor": lambda x: math.floor(x[0, 0]),
    "ceil": lambda x: math.ceil(x[0, 0]),
    "trunc": lambda x: math.trunc(x[0, 0]),
    "isnan": lambda x: math.isnan(x[0, 0]),
    "isinf": lambda x: math.isinf(x[0, 0]),
    "isfinite": lambda x: math.isfinite(x[0, 0]),
    "factorial": lambda x: math.factorial(int(abs(x[0, 0])) + 2),
    "comb": lambda x: math.comb(int(abs(x[0, 0])) + 5, 2),
}


@pytest.mark.parametrize("name", sorted(resolve.MATH_NONDIFF))
def test_nondiff_math_is_constant(name: str) -> None:
    _check_constant(name, MATH_CALLS[name])


@pytest.mark.parametrize("attr", sorted(resolve.ARRAY_ATTRIBUTES_STATIC))
def test_static_attribute_is_constant(attr: str) -> None:
    _check_constant(attr, lambda x: getattr(x, attr))


def test_every_nondiff_call_is_listed_or_defaults_to_one_argument() -> None:
    """A new entry with a special signature needs a CALLS entry (the default is f(x))."""
    missing = set(CALLS) - {n for n, _ in NONDIFF_ENTRIES}
    assert all(
        registry.numpy_function(n) is None for n in missing
    ), missing  # older numpy
    assert runtime.namespace is registry.NONDIFF_FUNCS[id(runtime.namespace)]


# --------------------------------------------------------------------------- facts codegen reads

import operator as _operator  # noqa: E402

from tests.rules._cases import _draw  # noqa: E402

KINDS = {kind: [r for r in RULES if r.kind == kind] for kind in registry.KINDS}


def _sample(rule: Rule, name: str, shape: tuple, dtype: Any = np.float64) -> np.ndarray:
    """An input of ``rule``'s operand ``name`` drawn from its test domain."""
    return np.asarray(_draw(rule, name, np.random.default_rng(3), shape)).astype(dtype)


def test_kinds_are_the_ones_codegen_knows() -> None:
    assert {r.kind for r in RULES} <= {None, *registry.KINDS}
    assert {"exp", "copy"} <= registry.names_of_kind("unary")
    assert {"add", "divide"} <= registry.names_of_kind("binary")
    assert {"sum", "amax"} <= registry.names_of_kind("reduce")


@pytest.mark.parametrize("rule", KINDS["unary"], ids=lambda r: r.name)
def test_unary_keeps_shape_and_float_dtype(rule: Rule) -> None:
    (operand,) = rule.operands
    for dtype in (np.float64, np.float32):
        for shape in ((3, 4), (2, 1, 3), ()):
            x = _sample(rule, operand, shape, dtype)
            out = np.asarray(rule.primitive(x))
            assert out.shape == shape and out.dtype == dtype, (shape, dtype, out.dtype)
    if rule.integer_result:
        i = np.arange(1, 7).reshape(2, 3)
        assert np.asarray(rule.primitive(i)).dtype == i.dtype


@pytest.mark.parametrize("rule", KINDS["binary"], ids=lambda r: r.name)
def test_binary_broadcasts_and_promotes_float_dtypes(rule: Rule) -> None:
    assert rule.operands == ("x1", "x2")
    for d1, d2 in (
        (np.float64, np.float64),
        (np.float32, np.float32),
        (np.float32, np.float64),
    ):
        for s1, s2 in (((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3))):
            x1, x2 = _sample(rule, "x1", s1, d1), _sample(rule, "x2", s2, d2)
            out = rule.primitive(x1, x2)
            assert out.shape == np.broadcast_shapes(s1, s2)
            assert out.dtype == np.result_type(d1, d2)
    if rule.integer_result:
        i, j = np.arange(1, 7).reshape(2, 3), np.arange(1, 4)
        assert rule.primitive(i, j).dtype == np.result_type(i, j)


@pytest.mark.parametrize("rule", KINDS["reduce"], ids=lambda r: r.name)
def test_reduce_takes_axis_and_keepdims_like_its_method(rule: Rule) -> None:
    assert rule.operands == ("a",) and {"axis", "keepdims"} <= set(rule.params)
    method = registry.method_of(rule)
    assert method is not None, f"{rule.name}: a reduction needs an ndarray method"
    for dtype in (np.float64, np.float32):
        a = _sample(rule, "a", (2, 3, 4), dtype)
        for axis in (None, 0, -1, (0, 2)):
            for keepdims in (False, True):
                out = rule.primitive(a, axis=axis, keepdims=keepdims)
                like = np.sum(a, axis=axis, keepdims=keepdims)
                assert np.shape(out) == np.shape(like) and out.dtype == dtype
                by_method = getattr(a, method)(axis=axis, keepdims=keepdims)
                np.testing.assert_array_equal(out, by_method)
        # positionally too: the parameters after ``a`` are in the method's order
        np.testing.assert_array_equal(rule.primitive(a, 1), getattr(a, method)(1))


# method -> (the receiver, the method's positional arguments, the primitive's after it)
_X = np.random.default_rng(5).uniform(-2.0, 2.0, (3, 4))
METHOD_CALLS: dict[str, tuple[np.ndarray, tuple, tuple]] = {
    "clip": (_X, (-0.5, 0.5), (-0.5, 0.5)),
    "repeat": (_X, (2,), (2,)),
    "swapaxes": (_X, (0, 1), (0, 1)),
    "dot": (_X, (_X.T,), (_X.T,)),
    "reshape": (_X, (4, 3), ((4, 3),)),
    "transpose": (_X[None], (2, 0, 1), ((2, 0, 1),)),
    "astype": (_X, ("float32",), ("float32",)),
    "squeeze": (_X[:, None, :, None], (), ()),
    "conj": (_X + 1j * _X[::-1], (), ()),
    "conjugate": (_X + 1j * _X[::-1], (), ()),
    "argpartition": (_X, (1,), (1,)),
}
METHODS = sorted(registry._index().methods)


@pytest.mark.parametrize("method", METHODS)
def test_method_is_the_rule_primitive(method: str) -> None:
    rule = registry.by_method(method)
    assert rule is not None and hasattr(np.ndarray, method)
    x, args, prim_args = METHOD_CALLS.get(method, (_X, (), ()))
    varargs = rule.methods[method]
    if (
        varargs is not None
    ):  # collects positional arguments: the parameter after the array
        assert rule.params[1] == varargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = rule.primitive(x, *prim_args)
        got = getattr(x, method)(*args)
    np.testing.assert_array_equal(got, expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype


def test_every_method_has_a_sample_call_or_takes_none() -> None:
    assert set(METHOD_CALLS) - set(METHODS) <= set(registry.NONDIFF_METHODS)


@pytest.mark.parametrize("method", sorted(registry.NONDIFF_METHODS))
def test_nondiff_method_is_its_function(method: str) -> None:
    assert hasattr(np.ndarray, method)
    x, args, prim_args = METHOD_CALLS.get(method, (_X, (), ()))
    got, expected = getattr(x, method)(*args), registry.NONDIFF_METHODS[method](
        x, *prim_args
    )
    for a, b in zip(_leaves(got), _leaves(expected)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("attr", sorted(registry._index().attributes))
def test_attribute_is_the_rule_primitive(attr: str) -> None:
    rule = registry.by_attribute(attr)
    assert rule is not None and hasattr(np.ndarray, attr)
    z = _X[None] + 1j * _X[None, ::-1]
    np.testing.assert_array_equal(getattr(z, attr), rule.primitive(z))


MATH_ARGS = {"atan2": (0.3, -0.7), "hypot": (0.3, -0.7), "pow": (1.3, 0.7)}


@pytest.mark.parametrize("name", sorted(registry._index().math))
def test_math_function_is_the_rule_primitive(name: str) -> None:
    rule = registry.by_math(name)
    assert rule is not None
    args = MATH_ARGS.get(name, (0.3,))
    assert getattr(math, name)(*args) == pytest.approx(
        float(rule.primitive(*args)), rel=1e-15
    )


@pytest.mark.parametrize("name", sorted(registry._index().builtins))
def test_builtin_is_the_rule_primitive(name: str) -> None:
    rule = registry.by_builtin(name)
    assert rule is not None
    args = (-0.3,) if len(rule.operands) == 1 else (1.3, 0.7)
    # the same function; Python's pow and numpy's power may differ in the last bit (libm)
    expected = getattr(builtins, name)(*args)
    assert float(rule.primitive(*args)) == pytest.approx(expected, rel=4e-16, abs=0)


PYTHON_OPERATORS = {
    "+": _operator.add,
    "-": _operator.sub,
    "*": _operator.mul,
    "/": _operator.truediv,
    "**": _operator.pow,
    "//": _operator.floordiv,
    "%": _operator.mod,
    "@": _operator.matmul,
    "unary -": _operator.neg,
    "unary +": _operator.pos,
}


@pytest.mark.parametrize("symbol", sorted(registry._index().operators))
def test_operator_is_the_rule_primitive(symbol: str) -> None:
    rule = registry.by_operator(symbol)
    assert rule is not None
    args = (np.abs(_X[:, :3]) + 0.5, np.abs(_X[:, 1:]).T + 0.5)[: len(rule.operands)]
    np.testing.assert_array_equal(
        PYTHON_OPERATORS[symbol](*args), rule.primitive(*args)
    )


@pytest.mark.parametrize("rule", [r for r in RULES if r.same_as], ids=lambda r: r.name)
def test_same_as_computes_the_same(rule: Rule) -> None:
    same = registry.lookup_name(rule.same_as)
    assert same is not None and same.params == rule.params
    for axis in (None, 0):
        np.testing.assert_array_equal(
            rule.primitive(_X, axis), same.primitive(_X, axis)
        )


@pytest.mark.parametrize(
    "rule", [r for r in RULES if r.single_output_when], ids=lambda r: r.name
)
def test_single_output_when_returns_one_array(rule: Rule) -> None:
    assert rule.multi_output
    param, value = rule.single_output_when
    assert param in rule.params
    assert isinstance(rule.primitive(_X[:3, :3]), tuple)
    assert isinstance(rule.primitive(_X[:3, :3], **{param: value}), np.ndarray)


@pytest.mark.parametrize("rule", KINDS["unary"] + KINDS["binary"], ids=lambda r: r.name)
def test_array_operands_makes_arrays_of_lists(rule: Rule) -> None:
    assert rule.array_operands
    items = [[0.5, 0.75], [0.25, 0.5]][: len(rule.operands)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(
            rule.primitive(*items), rule.primitive(*[np.array(v) for v in items])
        )


def test_runtime_helpers_do_not_make_arrays() -> None:
    """srcgrad's own helpers (``max_of``: Python's max) take a list as a list."""
    for name in ("max_of", "min_of", "unbroadcast"):
        assert not registry.lookup_name(name).array_operands


def test_fact_lookups_follow_a_registry_restored_in_place() -> None:
    """A rule replaced and then put back by writing the registry's tables (as tests and
    tools that swap rules do) leaves the generation as it was: the lookups must still see the
    rules that are there, not those of the moment they were last built."""
    rules, names = dict(registry._RULES), dict(registry._BY_NAME)
    try:

        @registry.adjoint(np.sin)
        def sin_without_facts(g, ans, x):  # noqa: ANN001, ANN202
            return g

        assert registry.by_math("sin") is None  # the replacement declares no math twin
    finally:
        registry._RULES.clear()
        registry._RULES.update(rules)
        registry._BY_NAME.clear()
        registry._BY_NAME.update(names)
    restored = registry.by_math("sin")
    assert restored is not None and restored is registry.lookup(np.sin)
