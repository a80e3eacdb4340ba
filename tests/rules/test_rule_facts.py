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
    assert set(MAY_BE_VIEW) <= names
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
