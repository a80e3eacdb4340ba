"""Every unsupported construct gets a SrcgradError at the user's file:line:col with a hint."""

import re
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from tests.engine import unsupported

SRC = Path(unsupported.__file__)
LINES = SRC.read_text().splitlines()


CALLEES = {"callee_mutates_list": "_append_to", "callee_writes_argument": "_zero_first"}


def _markers(fn_name: str) -> list[tuple[int, int]]:
    """(line, col) of every `# !token` marker inside fn_name's body, 1-based (for a
    function whose error lies in a callee, inside that callee)."""
    fn_name = CALLEES.get(fn_name, fn_name)
    start = next(i for i, ln in enumerate(LINES) if re.match(rf"def {fn_name}\(", ln))
    out = []
    for i in range(start, len(LINES)):
        if i > start and LINES[i].startswith("def "):
            break
        m = re.search(r"!(\S.*)$", LINES[i])
        if m:
            token = m.group(1).strip()
            col = LINES[i].index(token) + 1
            out.append((i + 1, col))
    return out


CASES = [
    ("uses_list_as_array", "list-as-array"),
    ("write_into_argument", "write-argument"),
    ("write_into_view", "write-view"),
    ("write_into_captured", "write-captured"),
    ("stale_view", "stale-view"),
    ("uses_missing_rule", "np.unwrap"),
    ("uses_lambda_value", "lambda"),
    ("uses_try", "try"),
    ("uses_with", "with"),
    ("uses_builtin_sorted", "sorted"),
    ("uses_attr_write", "attribute-assign"),
    ("uses_recursive_nested", "recursion"),
    ("uses_star_args", "*args"),
    ("uses_undefined", "name"),
    ("uses_out_kwarg", "out"),
    ("uses_global_stmt", "global"),
    ("no_return", "no-return"),
    ("uses_walrus", "walrus"),
    ("uses_del", "del"),
    ("uses_active_constant_parameter", "special.logsumexp:b"),
    ("callee_mutates_list", "mutate-argument"),
    ("callee_writes_argument", "write-argument"),
]


def _args(fn):
    n = fn.__code__.co_argcount or 1
    return [np.ones(3) for _ in range(n)]


@pytest.mark.parametrize("name,construct", CASES, ids=[c[0] for c in CASES])
def test_unsupported_construct_is_reported_at_its_position(
    name, construct, tmp_path, monkeypatch
):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    fn = getattr(unsupported, name)
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(*_args(fn))
    err = info.value
    ((line, col),) = _markers(name)
    assert Path(err.filename).resolve() == SRC.resolve()
    assert (err.lineno, err.col) == (line, col), str(err)
    assert err.construct == construct
    assert err.hint
    text = str(err)
    assert text.startswith(f"{err.filename}:{line}:{col}: error: ")
    assert "hint:" in text
    assert "libcst" not in text


def test_all_findings_are_reported_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(unsupported.many_problems)(np.ones(3))
    err = info.value
    got = [(e.lineno, e.col) for e in err.errors]
    assert got == _markers("many_problems")
    assert (err.lineno, err.col) == got[0]
    assert str(err).count("error:") == 2


def test_missing_rule_names_the_nearest_alternatives(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    with pytest.raises(srcgrad.MissingRuleError, match="np.unwrap"):
        srcgrad.grad(unsupported.uses_missing_rule)(np.ones(3))


def test_source_that_cannot_be_read_gets_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    ns: dict = {"np": np}
    exec("def typed_at_repl(x):\n    return np.sum(x * x)\n", ns)
    with pytest.raises(srcgrad.SourceNotFoundError, match="cannot read the source"):
        srcgrad.grad(ns["typed_at_repl"])(np.ones(3))


def test_a_failed_generation_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    with pytest.raises(srcgrad.SrcgradError):
        srcgrad.grad(unsupported.uses_list_as_array)(np.ones(3))
    assert not list(tmp_path.rglob("*.py"))
