"""Facts declared on the rules, checked against numpy itself (DESIGN §6 "Facts live on the rule").

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
    "max_of": "Python's max returns one of the items itself",
    "min_of": "Python's min returns one of the items itself",
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
        assert rule.view, f"{rule.name}: listed as a 'may be a view' but not flagged view=True"
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
        "linalg.matrix_power": np.shares_memory(np.linalg.matrix_power(a[:3, :3], 1), a),
        "float32": np.shares_memory(np.float32(a.astype(np.float32)), a)
        or np.float32(b := a.astype(np.float32)) is b,
        "diff": np.shares_memory(np.diff(a, n=0), a),
        "ravel": np.shares_memory(np.ravel(a), a),
        "reshape": np.shares_memory(np.reshape(a, (4, 3)), a),
        "diag": np.shares_memory(np.diag(a), a),
        "float64": np.shares_memory(np.float64(a), a),
        "max_of": max([a[0, 0:1], a[1, 0:1] - 100]) is not None,  # returns an item itself
        "min_of": min([a[0, 0:1], a[1, 0:1] + 100]) is not None,
    }
    from srcgrad.runtime import unbroadcast

    shown["unbroadcast"] = unbroadcast(a, a) is a
    items = [a[0, 0:1], a[1, 0:1] - 100]
    shown["max_of"] = max(items) is items[0]
    shown["min_of"] = min(items) is items[1]
    assert {k for k, v in shown.items() if not v} == set()
    assert set(shown) == set(MAY_BE_VIEW)


# --------------------------------------------------------------------------- non-differentiable
#
# Every entry declared non-differentiable (srcgrad/rules: ``nondifferentiable(...)``; codegen's
# the registry's NONDIFF_METHODS; codegen's BUILTIN_NONDIFF, MATH_NONDIFF, ARRAY_ATTRIBUTES_STATIC) must be provably
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
}
# float outputs that read only shapes, sizes or constant arguments (never a float argument)
SHAPE_ONLY = {
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
}
# unspecified values (np.empty): only the shape and dtype are compared
UNSPECIFIED = {"empty", "empty_like"}

# how to call each entry: name -> (function of the float input x) -> result
CALLS: dict[str, Any] = {
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
    "ravel_multi_index": lambda f, x: f((np.argmax(x, 0) % 3, np.argmin(x, 0)), x.shape),
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
    return isinstance(dtype, np.dtype) and not isinstance(v, np.dtype) and dtype.kind in "fc"


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
                np.testing.assert_array_equal(a, b, err_msg=f"{name} moved with its input")


@pytest.mark.parametrize("name, fn", NONDIFF_ENTRIES, ids=[n for n, _ in NONDIFF_ENTRIES])
def test_nondiff_entry_is_constant(name: str, fn: Any) -> None:
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
    assert all(registry.numpy_function(n) is None for n in missing), missing  # older numpy
    assert runtime.namespace is registry.NONDIFF_FUNCS[id(runtime.namespace)]
