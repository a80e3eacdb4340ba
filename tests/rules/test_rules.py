"""Every registered rule against central differences, in float32, and on the fake device.

The cases come from the registry (``tests/rules/_cases.py``): each rule's ``shapes`` (or the
defaults: same shape, broadcast, outer, Python float operand), each combination of its
``params`` grid, and a non-contiguous twin of every case.  Ids read
``tanh_adjoint[broadcast-noncontig]``.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import textwrap
from typing import Any

import numpy as np
import pytest

from srcgrad import runtime
from srcgrad.rules.registry import all_rules
from srcgrad.testing import check_adjoint
from tests.fakexp import FakeArray, to_host
from tests.rules._cases import (
    device_cotangents,
    RuleCase,
    cast_floats,
    flat_pairs,
    operand_values,
    per_operand,
    random_cotangent,
    rule_cases,
)

CASES = rule_cases()
PLAIN = [case for case in CASES if not case.noncontig]


def test_every_rule_has_cases() -> None:
    names = {case.rule.name for case in CASES}
    # the core modules' rules are all there, and none is silently without a case
    assert names == {rule.name for rule in all_rules()}
    assert {"tanh", "multiply", "power", "where", "clip", "maximum"} <= names


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_matches_central_differences(case: RuleCase) -> None:
    args, kwargs = case.call()
    check_adjoint(
        case.rule.primitive,
        case.rule.adjoint,
        args,
        kwargs,
        rng=np.random.default_rng(case.seed),
        rule=case.rule,
    )


def _cotangents(
    case: RuleCase, u: Any, ans: Any, args: list, kwargs: dict
) -> list[tuple]:
    rule = case.rule
    result = rule.adjoint(u, ans, *args, **kwargs)
    return flat_pairs(
        rule, operand_values(rule, args, kwargs), per_operand(rule, result)
    )


def _is_float(x: Any) -> bool:
    return isinstance(x, float) or getattr(getattr(x, "dtype", None), "kind", "") == "f"


@pytest.mark.parametrize("case", PLAIN, ids=str)
def test_rule_float32_agrees_with_float64(case: RuleCase) -> None:
    rule = case.rule
    check = rule.extra.get("check", {})
    rtol, atol = check.get("rtol32", 1e-4), check.get("atol32", 1e-4)
    x32, kwargs = case.call(np.float32)
    x64 = cast_floats(x32, np.float64)
    ans32 = rule.primitive(*x32, **kwargs)
    ans64 = rule.primitive(*x64, **kwargs)
    u64 = random_cotangent(np.random.default_rng(case.seed), ans64, rule.multi_output)
    if rule.multi_output:
        u32 = [
            None if u is None else u.astype(np.result_type(a))
            for u, a in zip(u64, ans32)
        ]
    else:
        u32 = u64.astype(np.result_type(ans32))
    pairs32 = _cotangents(case, u32, ans32, x32, kwargs)
    pairs64 = _cotangents(case, u64, ans64, x64, kwargs)
    for (label, v32, c32), (_, _, c64) in zip(pairs32, pairs64):
        if not _is_float(v32):
            continue
        where = f"{case}: cotangent of {label}"
        assert (c32 is None) == (c64 is None), f"{where}: None in one precision only"
        if c32 is None:
            continue
        if isinstance(v32, np.ndarray):
            assert (
                c32.dtype == v32.dtype
            ), f"{where}: {c32.dtype} for a {v32.dtype} operand"
            assert c32.shape == v32.shape, f"{where}: shape {c32.shape} != {v32.shape}"
        else:
            assert (
                np.ndim(c32) == 0
            ), f"{where}: not a scalar for a Python float operand"
        scale = max(1.0, float(np.max(np.abs(c64), initial=0.0)))
        np.testing.assert_allclose(
            np.asarray(c32, dtype=np.float64),
            c64,
            rtol=rtol,
            atol=atol * scale,
            err_msg=f"{where}: float32 and float64 disagree",
        )


@pytest.mark.parametrize("case", PLAIN, ids=str)
def test_rule_runs_on_fake_device(case: RuleCase) -> None:
    rule = case.rule
    args, kwargs = case.call()
    ans = rule.primitive(*args, **kwargs)
    u = random_cotangent(np.random.default_rng(case.seed), ans, rule.multi_output)
    expected = _cotangents(case, u, ans, args, kwargs)
    got = device_cotangents(rule, u, ans, args, kwargs)
    for (label, _, want), (_, _, have) in zip(expected, got):
        where = f"{case}: cotangent of {label}"
        if want is None:
            assert have is None, where
            continue
        if isinstance(want, (np.ndarray, np.generic)):
            assert isinstance(
                have, FakeArray
            ), f"{where}: a {type(have).__name__} on device"
            have = to_host(have)
        np.testing.assert_allclose(have, want, rtol=1e-12, atol=1e-12, err_msg=where)


# --------------------------------------------------------------------------- the inlining contract

_ALLOWED_STATEMENTS = (ast.Assign, ast.Return, ast.Expr, ast.Pass)
_FORBIDDEN_NODES = (
    ast.If,
    ast.IfExp,
    ast.For,
    ast.While,
    ast.With,
    ast.Try,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.AugAssign,
    ast.NamedExpr,
    ast.Global,
    ast.Nonlocal,
    ast.Yield,
    ast.Await,
)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: f"{r.name}_adjoint")
def test_rule_body_follows_the_inlining_contract(rule) -> None:
    """Straight-line assignments to names, one return, free names np/runtime/builtins only."""
    source = textwrap.dedent(inspect.getsource(rule.adjoint))
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef)
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and s is fn.body[0])]
    assert body and isinstance(
        body[-1], ast.Return
    ), f"{rule.name}: must end in one return"
    bound = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
    for stmt in body:
        assert isinstance(
            stmt, _ALLOWED_STATEMENTS
        ), f"{rule.name}: {ast.dump(stmt)[:60]}"
        assert (
            not isinstance(stmt, ast.Return) or stmt is body[-1]
        ), f"{rule.name}: 2 returns"
        for node in ast.walk(stmt):
            assert not isinstance(node, _FORBIDDEN_NODES), (
                f"{rule.name}: {type(node).__name__} in a rule body (move it to a runtime "
                "helper)"
            )
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                assert isinstance(
                    target, ast.Name
                ), f"{rule.name}: assign to a plain name"
                bound.add(target.id)
    allowed = {"np"} | set(runtime.__all__) | set(dir(builtins))
    for node in (n for stmt in body for n in ast.walk(stmt)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in bound:
                continue
            assert node.id in allowed, (
                f"{rule.name}: free name {node.id!r} is neither np, a srcgrad.runtime export "
                "nor a builtin"
            )
            value = rule.adjoint.__globals__.get(
                node.id, getattr(builtins, node.id, None)
            )
            if node.id != "np" and node.id in runtime.__all__:
                assert value is getattr(
                    runtime, node.id
                ), f"{rule.name}: {node.id!r} is not srcgrad.runtime.{node.id}"
