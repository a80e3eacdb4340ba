"""Every rule with a Python float where numpy accepts one.

Users pass Python floats beside arrays (``np.dot(x, 0.5)``, ``np.outer(v, s)``, a float
argument in ``wrt``), and the emitted code inlines the rule's body with that float.  A rule
body or runtime helper that reads ``.ndim``/``.shape``/``.dtype`` of an operand breaks there.
For every rule, every float operand (and every float entry of a sequence operand, such as
``np.stack``'s arrays) and every parameter combination of the rule's grid (``axis=0`` on
what is now a 0-d operand, ``keepdims``, ...), the operand is replaced by a Python float
when the primitive accepts it, and the rule is checked

* against central differences (``check_adjoint``: the float's cotangent must be a 0-d float);
* with the other operands in float32 (their cotangents must stay float32: a helper that
  turns the float into a float64 0-d array must not upcast them);
* on the fake device (``tests/fakexp.py``), the arrays there and the float on the host: no
  helper may build a host array from the float that then meets device data.

A static check adds that no rule body reads an operand's ``shape``/``ndim``/``dtype``.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest

from srcgrad.rules.registry import all_rules
from srcgrad.testing import check_adjoint
from tests.fakexp import FakeArray, to_host
from tests.rules._cases import (
    device_cotangents,
    flat_pairs,
    map_arrays,
    operand_values,
    per_operand,
    positional_parameters,
    random_cotangent,
    rule_cases,
)


def _finite(ans: Any) -> bool:
    if isinstance(ans, (list, tuple)):
        return all(_finite(y) for y in ans)
    return bool(np.all(np.isfinite(ans)))


def _is_float_array(a: Any) -> bool:
    return isinstance(a, np.ndarray) and a.dtype.kind == "f" and bool(a.size)


def _variants(args: list[Any]) -> list[tuple[str, list[Any]]]:
    """(label, arguments) with one float operand made a Python float: ``"1"`` for the second
    argument, ``"0[2]"`` for the third entry of a sequence operand (``np.stack``'s arrays),
    ``"0[*]"`` for every float entry of it."""
    out = []
    for i, a in enumerate(args):
        if _is_float_array(a):
            out.append((str(i), [*args[:i], float(a.flat[0]), *args[i + 1 :]]))
        elif isinstance(a, list):
            for j, e in enumerate(a):
                if _is_float_array(e):
                    seq = [*a[:j], float(e.flat[0]), *a[j + 1 :]]
                    out.append((f"{i}[{j}]", [*args[:i], seq, *args[i + 1 :]]))
            seq = [float(e.flat[0]) if _is_float_array(e) else e for e in a]
            out.append((f"{i}[*]", [*args[:i], seq, *args[i + 1 :]]))
    return out


def _scalar_cases() -> list[tuple[Any, str, list[Any], dict[str, Any]]]:
    """(case, operand label, arguments, params) for every rule, every float operand and
    every parameter combination of the rule's grid (the first input case that fits)."""
    out = []
    seen: set[tuple[str, str, str]] = set()
    for case in rule_cases(noncontig=False):
        args, kwargs = case.call()
        names = [p.name for p in positional_parameters(case.rule)]
        allowed = case.rule.extra.get("python_floats")  # None: every operand
        for label, moved in _variants(args):
            key = (case.rule.name, label, case.grid_id)
            if key in seen:
                continue
            at = int(label.split("[")[0])
            if allowed is not None and (at >= len(names) or names[at] not in allowed):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    ans = case.rule.primitive(*moved, **kwargs)
            except (
                Exception
            ):  # noqa: BLE001  numpy refuses a scalar here: nothing to check
                continue
            if not _finite(ans):  # a scalar outside the domain (log of a negative, ...)
                continue
            seen.add(key)
            out.append((case, label, moved, kwargs))
    return out


# Cases whose failure is not about Python floats, each with its reason.  They run as strict
# xfails, so a change that makes one pass flags the entry for removal.
EXCLUDED = {
    # The standard deviation of one element is 0 for every value, and the rule follows its
    # documented convention (srcgrad/rules/reductions.py, autograd's and JAX's too): nan
    # where the standard deviation is 0.  A (1,)-shaped array gives the same nan.
    ("std", "0"): "std of one element: nan where the std is 0, by convention",
    ("nanstd", "0"): "nanstd of one element: nan where the std is 0, by convention",
}

CASES = _scalar_cases()


def _params(excluded: dict[tuple[str, str], str] = EXCLUDED) -> list[Any]:
    out = []
    for case, i, args, kwargs in CASES:
        reason = excluded.get((case.rule.name, i))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        name = f"{case.rule.name}-arg{i}" + (f"-{case.grid_id}" if case.grid_id else "")
        out.append(pytest.param(case, i, args, kwargs, marks=marks, id=name))
    return out


def _f32(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float64 else a


def _has_float64(x: Any) -> bool:
    if isinstance(x, list):
        return any(_has_float64(e) for e in x)
    return isinstance(x, np.ndarray) and x.dtype == np.float64


def _float32_params() -> list[Any]:
    """The cases with another float64 array operand (or sequence entry), made float32."""
    return [p for p in _params() if any(_has_float64(a) for a in p.values[2])]


def test_exclusions_are_cases() -> None:
    """Every exclusion names a case that the sweep still generates."""
    present = {(c.rule.name, i) for c, i, _, _ in CASES}
    assert set(EXCLUDED) <= present


def test_the_sweep_reaches_the_scalar_forms_users_write() -> None:
    """The sweep covers the call forms the peer catalogue found (a shrinking case list
    would make the sweep pass vacuously)."""
    present = {(c.rule.name, i) for c, i, _, _ in CASES}
    for name, label in [
        ("dot", "0"),
        ("dot", "1"),
        ("outer", "0"),
        ("outer", "1"),
        ("max", "0"),
        ("prod", "0"),
        ("inner", "0"),
        ("inner", "1"),
        ("tensordot", "0"),
        ("tensordot", "1"),
        ("linalg.norm", "0"),
        ("convolve", "0"),
        ("stack", "0[*]"),
        ("linalg.multi_dot", "0[0]"),
    ]:
        assert (name, label) in present, (name, label)
    assert len(CASES) > 300


@pytest.mark.parametrize("case,i,args,kwargs", _params())
def test_rule_with_python_float_operand(case, i, args, kwargs) -> None:
    check_adjoint(
        case.rule.primitive,
        case.rule.adjoint,
        args,
        kwargs,
        rng=np.random.default_rng(case.seed),
        rule=case.rule,
    )


@pytest.mark.parametrize("case,i,args,kwargs", _float32_params())
def test_rule_with_python_float_beside_float32(case, i, args, kwargs) -> None:
    """The other operands' cotangents keep float32 (check_adjoint checks the dtypes on the
    inputs as given, then the values in float64)."""
    check_adjoint(
        case.rule.primitive,
        case.rule.adjoint,
        map_arrays(args, _f32),
        kwargs,
        rng=np.random.default_rng(case.seed),
        rule=case.rule,
    )


# (std's nan at one element is the same nan on the device: no exclusion here)
@pytest.mark.parametrize("case,i,args,kwargs", _params(excluded={}))
def test_rule_with_python_float_on_the_fake_device(case, i, args, kwargs) -> None:
    """The arrays (and the output cotangent) on the device, the float on the host: the
    cotangents equal the host ones and are device arrays, a 0-d one for the float, so no
    helper built a host array from the float that then met device data."""
    rule = case.rule
    ans = rule.primitive(*args, **kwargs)
    if (
        isinstance(ans, (tuple, list)) and not ans
    ):  # np.gradient of a 0-d value: no outputs
        if not any(isinstance(a, np.ndarray) for a in args):
            pytest.skip("no output and no array: nothing of this call is on the device")
        u: Any = ()
    else:
        u = random_cotangent(np.random.default_rng(case.seed), ans, rule.multi_output)
    want = rule.adjoint(u, ans, *args, **kwargs)
    expected = flat_pairs(
        rule, operand_values(rule, args, kwargs), per_operand(rule, want)
    )
    got = device_cotangents(rule, u, ans, args, kwargs)
    for (label, _, w), (_, _, have) in zip(expected, got):
        where = f"{rule.name}: cotangent of {label}"
        if w is None:
            assert have is None, where
            continue
        assert isinstance(
            have, FakeArray
        ), f"{where}: a {type(have).__name__} on device"
        assert have.shape == np.shape(
            w
        ), f"{where}: shape {have.shape} != {np.shape(w)}"
        np.testing.assert_allclose(
            to_host(have), w, rtol=1e-12, atol=1e-12, err_msg=where
        )


_ARRAY_ATTRIBUTES = {"shape", "ndim", "dtype", "size", "flags", "strides", "T", "mT"}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: f"{r.name}_adjoint")
def test_rule_body_reads_no_attribute_of_an_operand(rule) -> None:
    """The static side of the sweep: an operand may be a Python float, which has no
    ``shape``/``ndim``/``dtype``; a body reads those of ``g``/``ans`` or lets a runtime
    helper read them after ``as_array``."""
    fn = ast.parse(textwrap.dedent(inspect.getsource(rule.adjoint))).body[0]
    operands = set(rule.operands)
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _ARRAY_ATTRIBUTES
            and isinstance(node.value, ast.Name)
            and node.value.id in operands
        ):
            raise AssertionError(
                f"{rule.name}: the body reads {node.value.id}.{node.attr}, and {node.value.id} "
                "may be a Python float (use a runtime helper: reshape_like, cast_like, "
                "unbroadcast, or as_array inside a helper)"
            )
