"""Each program here once raised from inside srcgrad or from generated code; now it is right,
or a SrcgradError at the user's line whose hint, followed, works."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import internal_src as src

A = np.array([0.3, -0.2, 0.5])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _line_of(fn, text: str) -> int:
    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, ln in enumerate(lines) if text in ln)


@pytest.mark.parametrize(
    "fn",
    [
        src.nested_loops_name_first_bound_inside,
        src.triple_nested_name_first_bound_inside,
        src.while_inside_for_name_first_bound_inside,
        src.nested_read_bound_before,
    ],
    ids=lambda f: f.__name__,
)
def test_name_first_bound_in_a_nested_loop(fn):
    value, _ = srcgrad.value_and_grad(fn)(A)
    assert value == fn(A)
    check_grad(fn, A)


def test_nested_read_of_a_name_unbound_before_the_loops_is_refused():
    fn = src.nested_read_of_previous_outer_iteration
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(A)
    err = info.value
    # a read of the previous outer iteration's value: refused at the read
    assert err.lineno == _line_of(fn, "np.sum(top)")
    check_grad(src.nested_read_bound_before, A)  # the hint, followed


def test_bound_method_differentiates_like_the_function_calling_it():
    x = np.array([1.0, 2.0, 3.0])
    df = srcgrad.value_and_grad(src.MODEL.loss)
    value, g = df(A, x)
    assert value == src.MODEL.loss(A, x)
    np.testing.assert_allclose(g, 2.0 * x)
    np.testing.assert_allclose(g, srcgrad.grad(src.calls_the_method)(A, x))
    check_grad(src.MODEL.loss, A, x)
    check_grad(src.calls_the_method, A, x)  # the earlier refusal's hint still works


def test_library_function_without_rule_is_a_missing_rule_at_the_users_line():
    K = np.eye(3) * 2.0
    with pytest.raises(srcgrad.MissingRuleError) as info:
        srcgrad.grad(src.scipy_without_rule)(K, np.ones(3))
    err = info.value
    assert err.filename.endswith("internal_src.py")
    assert err.lineno == _line_of(src.scipy_without_rule, "lu_solve")
    assert "scipy.linalg.lu_solve" in str(err)
    assert "power_slope" not in str(err) and "split_cotangent" not in str(err)
    assert len(getattr(err, "errors", [err]) or [err]) == 1  # no follow-on findings
    check_grad(src.scipy_with_rule, A)
    check_grad(src.scipy_cho_solve, K, np.ones(3))  # cho_solve has a rule now


@pytest.mark.parametrize(
    "fn", [src.flat_write, src.flat_assign], ids=lambda f: f.__name__
)
def test_write_through_an_attribute_is_refused(fn):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(A)
    err = info.value
    assert err.lineno == _line_of(fn, "K.flat")
    assert "np.eye" in err.hint
    check_grad(src.diagonal_as_hinted, A)


def test_carried_from_an_enclosing_loop_unbound_before_is_refused_with_a_working_hint():
    fn = src.nested_conditional_read_within_inner_loop
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(A)
    err = info.value
    assert err.lineno == _line_of(fn, "for j in range(3)")
    assert "bind top before the first loop that assigns it" in err.hint
    fixed = src.nested_conditional_read_bound_before
    assert srcgrad.value_and_grad(fixed)(A)[0] == fixed(A) == fn(A)
    check_grad(fixed, A)


_BAD_RULE = """
import numpy as np
import srcgrad
from srcgrad.rules import adjoint


def mysq(x):
    return x * x


@adjoint(mysq)
def mysq_adjoint(g, ans, x):
    if True:
        out = 2 * x * g
    return out


def f(x):
    return np.sum(mysq(x))


try:
    srcgrad.grad(f)(np.ones(3))
except srcgrad.SrcgradError as err:
    print(type(err).__name__, err.filename.endswith("badrule.py"), err.lineno, err.hint)
"""


def test_a_user_rule_that_cannot_be_inlined_is_an_error_at_the_rule(tmp_path):
    # in a child process: the registry is global, and the rule tests enumerate it
    import os
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "badrule.py").write_text(_BAD_RULE)
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "SRCGRAD_CACHE": "off",
    }
    out = subprocess.run(
        [sys.executable, str(tmp_path / "badrule.py")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.stdout.split()[:3] == [
        "UnsupportedSyntaxError",
        "True",
        "11",
    ], out.stderr
    assert "np.where" in out.stdout


@pytest.mark.parametrize(
    "fn",
    [
        src.ternary_reads_its_target,
        src.ternary_reads_its_target_twice,
        src.ternary_in_a_loop,
    ],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_ternary_that_reads_its_own_target(fn, sign):
    # `h = h if c else -h` once read the new version of h (UnboundLocalError, zero gradient)
    x = sign * A
    value, _ = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    check_grad(fn, x)
