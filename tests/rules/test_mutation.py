"""Mutation tests: a broken rule in the registry makes the generated rule tests fail.

Each test swaps a registry entry for a mutant (the same rule, its adjoint wrapped to introduce
one typical bug), rebuilds the cases from the patched registry exactly as ``test_rules.py``
does, and requires every case to fail.  A checker that let these through would be worthless.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from srcgrad.rules.registry import numpy_at_least
from srcgrad.rules import lookup, registry
from srcgrad.testing import check_adjoint
from tests.rules._cases import RuleCase, rule_cases


def _mutate(
    monkeypatch: pytest.MonkeyPatch, prim: Any, wrap: Callable[[Callable], Callable]
) -> registry.Rule:
    """Put a mutant of ``prim``'s rule into the registry; return the mutant's entry."""
    rule = lookup(prim)
    assert rule is not None
    mutant = dataclasses.replace(rule, adjoint=wrap(rule.adjoint))
    monkeypatch.setitem(registry._RULES, id(prim), mutant)
    monkeypatch.setitem(registry._BY_NAME, rule.name, mutant)
    return mutant


def _run(case: RuleCase, dtype: Any = np.float64) -> None:
    args, kwargs = case.call(dtype)
    check_adjoint(
        case.rule.primitive,
        case.rule.adjoint,
        args,
        kwargs,
        rng=np.random.default_rng(case.seed),
        rule=case.rule,
    )


def _cases_of(prim: Any) -> list[RuleCase]:
    cases = rule_cases([lookup(prim)])
    assert cases
    return cases


def test_flipped_tanh_fails_every_case(monkeypatch: pytest.MonkeyPatch) -> None:
    _mutate(monkeypatch, np.tanh, lambda fn: lambda g, ans, x: -fn(g, ans, x))
    for case in _cases_of(np.tanh):
        with pytest.raises(AssertionError, match="central differences"):
            _run(case)


def test_flipped_multiply_operand_fails_every_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def flip_second(fn: Callable) -> Callable:
        def mutant(g, ans, x1, x2):
            d1, d2 = fn(g, ans, x1, x2)
            return d1, -d2

        return mutant

    _mutate(monkeypatch, np.multiply, flip_second)
    for case in _cases_of(np.multiply):
        with pytest.raises(AssertionError, match="cotangent of x2"):
            _run(case)


def test_multiply_without_unbroadcast_fails_broadcast_cases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _mutate(
        monkeypatch, np.multiply, lambda fn: lambda g, ans, x1, x2: (g * x2, g * x1)
    )
    cases = [c for c in _cases_of(np.multiply) if c.case_id in ("broadcast", "outer")]
    assert len(cases) == 4
    for case in cases:
        with pytest.raises(AssertionError, match="has float64"):
            _run(case)


@pytest.mark.skipif(
    not numpy_at_least("2.0.0"),
    reason="NEP 50 promotion (numpy >= 2): numpy 1.x keeps float32",
)
def test_float64_constant_in_rule_fails_float32_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # np.float64(1.0) is not weak under NEP 50: it upcasts a float32 cotangent to float64
    def upcast(fn: Callable) -> Callable:
        return lambda g, ans, x: fn(g, ans, x) * np.float64(1.0)

    _mutate(monkeypatch, np.tanh, upcast)
    for case in _cases_of(np.tanh):
        with pytest.raises(AssertionError, match="float64"):
            _run(case, np.float32)


def test_rule_that_writes_into_g_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def in_place(fn: Callable) -> Callable:
        def mutant(g, ans, x):
            g *= 1 - ans * ans
            return g

        return mutant

    _mutate(monkeypatch, np.tanh, in_place)
    for case in _cases_of(np.tanh):
        with pytest.raises(AssertionError, match="wrote into"):
            _run(case)


def test_swapped_maximum_operands_fail_every_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def swapped(fn: Callable) -> Callable:
        return lambda g, ans, x1, x2: fn(g, ans, x2, x1)

    _mutate(monkeypatch, np.maximum, swapped)
    for case in _cases_of(np.maximum):
        with pytest.raises(AssertionError):
            _run(case)


def test_mutants_leave_the_registry_as_it_was() -> None:
    # runs after the monkeypatched tests above: the real rules are back and pass
    for prim in (np.tanh, np.multiply, np.maximum):
        for case in _cases_of(prim):
            _run(case)
            _run(case, np.float32)
