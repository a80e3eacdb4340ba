"""Gradient diagnostics (srcgrad.diagnose): the localised rule check names the forward line
of a broken rule, and NaN/Inf provenance names the forward line that produced the value.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import diagnose
from srcgrad.rules import registry
from tests.engine import diagnose_src as S

SRC = Path(S.__file__)
LINES = SRC.read_text().splitlines()


def _line(tag: str) -> int:
    return next(i + 1 for i, ln in enumerate(LINES) if ln.rstrip().endswith(f"# {tag}"))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))


# --------------------------------------------------------------------------- localised check

TEN = [
    "matmul",
    "add",
    "tanh",
    "multiply",
    "subtract",
    "exp",
    "sin",
    "divide",
    "log",
    "maximum",
    "sum",
    "mean",
]


def _args():
    rng = np.random.default_rng(3)
    return (
        rng.normal(size=(4, 3)) * 0.5,
        rng.normal(size=(3, 3)) * 0.5,
        rng.normal(size=3) * 0.5,
    )


def _broken(rule, tmp_path: Path):
    """A copy of ``rule``'s adjoint whose first cotangent is scaled by 1.5, loaded from a file
    (codegen inlines a rule from its source)."""
    src = textwrap.dedent(inspect.getsource(rule.adjoint))
    tree = ast.parse(src)
    fn = tree.body[0]
    fn.decorator_list = []
    ret = fn.body[-1]
    assert isinstance(ret, ast.Return)
    scale = lambda e: ast.BinOp(ast.Constant(1.5), ast.Mult(), e)
    if isinstance(ret.value, ast.Tuple):
        ret.value.elts[0] = scale(ret.value.elts[0])
    else:
        ret.value = scale(ret.value)
    module_src = Path(inspect.getsourcefile(rule.adjoint)).read_text()
    imports = [
        ast.unparse(n)
        for n in ast.parse(module_src).body
        if isinstance(n, (ast.Import, ast.ImportFrom))
    ]
    name = f"broken_{rule.name.replace('.', '_')}"
    path = tmp_path / f"{name}.py"
    path.write_text(
        "\n".join(imports)
        + "\n\n\n"
        + ast.unparse(ast.fix_missing_locations(tree))
        + "\n"
    )
    ns: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), ns)  # noqa: S102
    return ns[fn.name]


@pytest.fixture
def restore_registry():
    rules = dict(registry._RULES)
    names = dict(registry._BY_NAME)
    yield
    registry._RULES.clear()
    registry._RULES.update(rules)
    registry._BY_NAME.clear()
    registry._BY_NAME.update(names)


def test_intact_rules_pass_the_localised_check():
    df = srcgrad.grad(S.ten_primitives, wrt=(0, 1, 2))
    srcgrad.testing.check_grad(S.ten_primitives, *_args(), wrt=(0, 1, 2))
    assert diagnose.localise(df, *_args()) == []
    assert set(TEN) <= set(diagnose.iter_rules_used(df))


@pytest.mark.parametrize("name", TEN)
def test_a_broken_rule_is_pinpointed(name, tmp_path, restore_registry):
    rule = registry.lookup_name(name)
    broken = _broken(rule, tmp_path)
    registry.adjoint(
        rule.primitive,
        operator=rule.operator,
        nondiff=rule.nondiff,
        sequence=rule.sequence,
        multi_output=rule.multi_output,
        name=rule.name,
    )(broken)
    df = srcgrad.grad(S.ten_primitives, wrt=(0, 1, 2))
    assert "1.5 *" in df.source  # the broken rule went into the emitted code
    with pytest.raises(AssertionError):
        srcgrad.testing.check_grad(S.ten_primitives, *_args(), wrt=(0, 1, 2))
    found = diagnose.localise(df, *_args())
    assert found, "no rule flagged"
    first = found[0]
    assert (first.file, first.line, first.rule) == (
        (
            str(SRC.relative_to(Path.cwd()))
            if SRC.is_relative_to(Path.cwd())
            else str(SRC)
        ),
        _line(name),
        name,
    ), [str(m) for m in found]
    assert [m.rule for m in found] == [name]
    assert first.backward_lines and first.error and first.error > 0
    emitted = df.source.splitlines()
    assert any("1.5 *" in emitted[ln - 1] for ln in first.backward_lines)


# --------------------------------------------------------------------------- NaN / Inf provenance

NAN_CASES = [
    ("log_of_zero", np.array([1.0, 0.0]), "log", "forward", "logaddexp"),
    ("sqrt_at_zero", np.array([1.0, 0.0]), "sqrt", "backward", "np.sqrt(x + eps)"),
    (
        "where_trap",
        np.array([1.0, -2.0]),
        "where",
        "backward",
        "np.where evaluates both branches",
    ),
    ("exp_overflow", np.array([1.0, 1000.0]), "exp", "forward", "np.logaddexp(0, x)"),
    ("norm_at_zero", np.array([1.0, 1.0]), "norm", "backward", "np.sqrt(x + eps)"),
    ("arccos_at_one", np.array([0.5, 1.0]), "arccos", "backward", "clip the argument"),
]


@pytest.mark.parametrize(
    "fname,x,tag,phase,hint", NAN_CASES, ids=[c[0] for c in NAN_CASES]
)
def test_nan_provenance_names_the_forward_line(fname, x, tag, phase, hint):
    df = srcgrad.grad(getattr(S, fname))
    with pytest.raises(diagnose.NonFiniteError) as info, np.errstate(all="ignore"):
        diagnose.call_checked(df, x.copy())
    err = info.value
    assert Path(err.filename).resolve() == SRC.resolve()
    assert err.lineno == _line(f"nan:{tag}"), str(err)
    assert hint in err.hint
    origin = diagnose.find_nonfinite(df, x.copy())
    assert origin is not None and origin.phase == phase
    assert isinstance(err, srcgrad.SrcgradError) and isinstance(err, FloatingPointError)
    assert re.match(rf".*diagnose_src\.py:{err.lineno}:1: error: ", str(err))


def test_finite_results_pass_through():
    df = srcgrad.grad(S.finite)
    x = np.array([0.0, 2.0])
    np.testing.assert_allclose(diagnose.call_checked(df, x), df(x))
    assert diagnose.find_nonfinite(df, x) is None


def test_check_names_the_broken_rule(tmp_path, restore_registry):
    rule = registry.lookup_name("sin")
    registry.adjoint(rule.primitive, name=rule.name)(_broken(rule, tmp_path))
    df = srcgrad.grad(S.ten_primitives, wrt=(0, 1, 2))
    with pytest.raises(AssertionError, match=rf"first wrong: .*diagnose_src\.py:{_line('sin')}: "
                       r"the adjoint of sin is wrong here"):  # fmt: skip
        diagnose.check(df, *_args())
    registry.reinstate(rule)
    diagnose.check(srcgrad.grad(S.ten_primitives, wrt=(0, 1, 2)), *_args())
