"""Every rule with a Python float where numpy accepts one.

Users pass Python floats beside arrays (``np.dot(x, 0.5)``, ``np.outer(v, s)``, a float
argument in ``wrt``), and the emitted code inlines the rule's body with that float.  A rule
body or runtime helper that reads ``.ndim``/``.shape``/``.dtype`` of an operand breaks there.
For every rule and every float operand of its first plain case, the operand is replaced by a
Python float when the primitive accepts it, and the rule is checked against central
differences.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from srcgrad.testing import check_adjoint
from tests.rules._cases import rule_cases


def _scalar_cases() -> list[tuple[Any, int, list[Any], dict[str, Any]]]:
    out = []
    seen: set[tuple[str, int]] = set()
    for case in rule_cases(noncontig=False):
        args, kwargs = case.call()
        for i, a in enumerate(args):
            if not (isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.size):
                continue
            key = (case.rule.name, i)
            if key in seen:
                continue
            moved = list(args)
            moved[i] = float(a.flat[0])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    ans = case.rule.primitive(*moved, **kwargs)
            except Exception:  # noqa: BLE001  numpy refuses a scalar here: nothing to check
                continue
            if not np.all(
                np.isfinite(
                    np.asarray(ans, dtype=object).astype(complex)
                    if isinstance(ans, (list, tuple))
                    else ans
                )
            ):
                continue
            seen.add(key)
            out.append((case, i, moved, kwargs))
    return out


# Cases whose failure is not about Python floats, each with its reason.  They run as strict
# xfails, so a change that makes one pass flags the entry for removal.
EXCLUDED = {
    # The standard deviation of one element is 0 for every value, and the rule follows its
    # documented convention (srcgrad/rules/reductions.py, autograd's and JAX's too): nan
    # where the standard deviation is 0.  A (1,)-shaped array gives the same nan.
    ("std", 0): "std of one element: nan where the std is 0, by convention",
    ("nanstd", 0): "nanstd of one element: nan where the std is 0, by convention",
}

CASES = _scalar_cases()


def _params() -> list[Any]:
    out = []
    for case, i, args, kwargs in CASES:
        reason = EXCLUDED.get((case.rule.name, i))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(case, i, args, kwargs, marks=marks, id=f"{case.rule.name}-arg{i}"))
    return out


def test_exclusions_are_cases() -> None:
    """Every exclusion names a case that the sweep still generates."""
    present = {(c.rule.name, i) for c, i, _, _ in CASES}
    assert set(EXCLUDED) <= present


def test_the_sweep_reaches_the_scalar_forms_users_write() -> None:
    """The sweep covers the call forms the peer catalogue found (a shrinking case list
    would make the sweep pass vacuously)."""
    present = {(c.rule.name, i) for c, i, _, _ in CASES}
    for key in [
        ("dot", 0),
        ("dot", 1),
        ("outer", 0),
        ("outer", 1),
        ("max", 0),
        ("prod", 0),
        ("inner", 0),
        ("inner", 1),
        ("tensordot", 0),
        ("tensordot", 1),
        ("linalg.norm", 0),
        ("convolve", 0),
    ]:
        assert key in present, key
    assert len(CASES) > 100


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
