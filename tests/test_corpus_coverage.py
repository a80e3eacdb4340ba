"""Feature coverage of the corpus, computed from its syntax tree (DESIGN §10.4; issues 4 and 5).

Each family (``straight``, ``control``, ``calls``) has an analysis in
``tests/corpus/<family>_syntax.py`` that lists, for every feature the family must cover, the
corpus functions that use it. For every family this module asserts at least 40 functions, at
least three per feature, exactly one case per function and a finite scalar from every case in
float64 and float32. Then, per family:

* straight: the corpus is straight-line code within the core rule set;
* control: nothing of other issues, every function uses control flow or containers, and the
  float32 build takes the float64 path;
* calls: every function uses a feature of issue 5 and calls only helpers, index arguments are
  what their annotation says, the autograd and device skips are exactly the functions that
  write or call a ``@custom_vjp``, the float32 build picks the same entries, and the emitted
  backward calls the custom rules.

``coverage_table()`` renders the tables; ``pytest -s`` prints them, and so does running this file.
"""

from __future__ import annotations

import ast
import types
from typing import Any

import numpy as np
import pytest

import srcgrad
from tests.corpus import calls_syntax, control_syntax, straight_syntax
from tests.corpus.calls_cases import CASES_BY_NAME, CUSTOM, WRITES, WRITES_CALLEE
from tests.corpus.harness import (
    CALLS,
    CONTROL,
    FAMILIES,
    Family,
    family_params,
    fresh_cache_dir,
)
from tests.corpus.syntax import lines_run, locals_at_return

MIN_FUNCTIONS = 40
MIN_FUNCTIONS_PER_FEATURE = 3

SYNTAX: dict[str, types.ModuleType] = {
    "straight": straight_syntax,
    "control": control_syntax,
    "calls": calls_syntax,
}
EACH_FAMILY = pytest.mark.parametrize(
    "family", FAMILIES, ids=[f.name for f in FAMILIES]
)
FEATURES = [
    pytest.param(family, item, id=f"{family.name}-{item}")
    for family in FAMILIES
    for item in SYNTAX[family.name].FEATURES
]


def coverage_table(family: Family) -> str:
    """One family's table as text: feature, number of functions, the first few of them."""
    syntax = SYNTAX[family.name]
    table = syntax.coverage()
    width = max(len(item) for item in syntax.FEATURES)
    lines = [
        f"{syntax.TITLE}: {len(syntax.corpus_functions())} functions, {len(family.cases)} cases",
        f"{syntax.LABEL:<{width}}  {'n':>3}  functions",
        f"{'-' * width}  {'-' * 3}  {'-' * 40}",
    ]
    for item in syntax.FEATURES:
        names = table[item]
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        lines.append(f"{item:<{width}}  {len(names):>3}  {shown}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- every family


@EACH_FAMILY
def test_print_coverage_table(family: Family) -> None:
    print("\n" + coverage_table(family))


@EACH_FAMILY
def test_corpus_has_enough_functions(family: Family) -> None:
    assert len(SYNTAX[family.name].corpus_functions()) >= MIN_FUNCTIONS


@pytest.mark.parametrize("family,item", FEATURES)
def test_each_feature_is_used_by_three_functions(family: Family, item: str) -> None:
    users = SYNTAX[family.name].coverage()[item]
    assert len(users) >= MIN_FUNCTIONS_PER_FEATURE, f"{item!r} is used only by {users}"


@EACH_FAMILY
def test_every_corpus_function_has_exactly_one_case(family: Family) -> None:
    defined = [fn.name for fn in SYNTAX[family.name].corpus_functions()]
    cased = [case.name for case in family.cases]
    assert sorted(cased) == sorted(set(cased)), "a function has two cases"
    assert set(defined) == set(cased), (
        f"no case: {sorted(set(defined) - set(cased))}; "
        f"no function: {sorted(set(cased) - set(defined))}"
    )


@pytest.mark.parametrize("family,case", family_params())
def test_corpus_function_returns_a_scalar(family: Family, case: Any) -> None:
    for dtype in (np.float64, np.float32):
        value = case.fn(*case.args(dtype))
        assert isinstance(value, (float, np.floating, np.ndarray)), type(value)
        assert np.size(value) == 1 and np.isfinite(value)


# --------------------------------------------------------------------------- straight


def test_corpus_is_straight_line_code() -> None:
    found = [
        v
        for fn in straight_syntax.corpus_functions()
        for v in straight_syntax.straight_line_violations(fn)
    ]
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- control flow


def test_corpus_stays_within_issue_4() -> None:
    found = [
        v
        for fn in control_syntax.corpus_functions()
        for v in control_syntax.out_of_scope(fn)
    ]
    assert not found, "\n".join(found)


def test_every_function_uses_control_flow_or_containers() -> None:
    bare = [
        fn.name
        for fn in control_syntax.corpus_functions()
        if not control_syntax.features(fn) - {"len()", "abs()"}
    ]
    assert not bare, f"straight-line functions in the control-flow corpus: {bare}"


@pytest.mark.parametrize("family,case", family_params([CONTROL]))
def test_float32_build_takes_the_float64_path(family: Family, case: Any) -> None:
    """The float32 build runs the same lines as the float64 one (same branches and exits).

    Newton-type loops that stop on a float64-only tolerance may run more iterations in float32;
    for those only the lines outside the loop must match, which the gradient comparison in
    ``test_corpus.py`` then covers.
    """
    a64, a32 = case.args(np.float64), case.args(np.float32)
    if case.name in {"newton_sqrt", "newton_log"}:
        pytest.skip("stops on a float64 tolerance; float32 runs the iteration cap")
    same = lines_run(case.fn, a64) == lines_run(case.fn, a32)
    assert same, f"{case.name}: float32 and float64 take different paths"


# --------------------------------------------------------------------------- calls


def test_every_function_uses_a_feature_of_issue_5() -> None:
    bare = [
        fn.name
        for fn in calls_syntax.corpus_functions()
        if not calls_syntax.features(fn)
    ]
    assert not bare, f"functions that use no feature of issue 5: {bare}"


def test_corpus_functions_call_only_helpers() -> None:
    """No corpus function calls another: each one's features are its own."""
    functions = calls_syntax.corpus_functions()
    public = {fn.name for fn in functions}
    found = [
        f"{fn.name}:{node.lineno}: {node.func.id}"
        for fn in functions
        for node in ast.walk(fn)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in public
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("family,case", family_params([CALLS]))
def test_annotated_index_arguments_are_what_they_say(family: Family, case: Any) -> None:
    """``IntArray`` arguments are integer arrays that repeat an entry; ``BoolArray`` ones are
    masks that select some entries and drop others (in both the float64 and float32 builds).
    """
    fn = next(f for f in calls_syntax.corpus_functions() if f.name == case.name)
    loc = calls_syntax.locals_of(fn)
    for dtype in (np.float64, np.float32):
        args = case.args(dtype)
        for pos, param in enumerate(fn.args.args):
            kind = loc.annotations.get(param.arg)
            value = args[pos]
            if kind == "IntArray":
                assert (
                    isinstance(value, np.ndarray) and value.dtype == np.int64
                ), param.arg
                assert (
                    np.unique(value).size < value.size
                ), f"{param.arg} repeats no entry"
            elif kind == "BoolArray":
                assert (
                    isinstance(value, np.ndarray) and value.dtype == np.bool_
                ), param.arg
                assert (
                    value.any() and not value.all()
                ), f"{param.arg} selects all or nothing"


def test_autograd_skips_are_the_functions_that_write() -> None:
    """A function that writes into an array skips autograd with the reason, and only those
    skip for that reason (other skips must give another reason)."""
    problems = []
    for fn in calls_syntax.corpus_functions():
        reason = CASES_BY_NAME[fn.name].autograd_skip
        if calls_syntax.writes(fn):
            want = WRITES
        else:
            want = WRITES_CALLEE if calls_syntax.writes_in_callees(fn) else None
        if want is not None and reason != want:
            problems.append(
                f"{fn.name}: writes, autograd_skip={reason!r}, expected {want!r}"
            )
        if want is None and reason in (WRITES, WRITES_CALLEE):
            problems.append(f"{fn.name}: writes nothing, yet autograd_skip={reason!r}")
    assert not problems, "\n".join(problems)


def test_device_skips_are_the_custom_vjp_functions() -> None:
    problems = []
    for fn in calls_syntax.corpus_functions():
        reason = CASES_BY_NAME[fn.name].device_skip
        custom = calls_syntax.calls_custom(fn)
        if custom != (reason == CUSTOM):
            problems.append(f"{fn.name}: calls a custom_vjp: {custom}; {reason!r}")
        elif reason not in (None, CUSTOM):
            problems.append(f"{fn.name}: unexpected device_skip {reason!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family,case", family_params([CALLS]))
def test_float32_build_picks_the_same_entries(family: Family, case: Any) -> None:
    """Masks, floors and buckets computed inside the function agree between the builds."""
    loc64 = locals_at_return(case.fn, case.args(np.float64))
    loc32 = locals_at_return(case.fn, case.args(np.float32))
    for name, v64 in loc64.items():
        if isinstance(v64, np.ndarray) and (
            v64.dtype == np.bool_ or np.issubdtype(v64.dtype, np.integer)
        ):
            assert np.array_equal(
                v64, loc32[name]
            ), f"{case.name}: {name} differs in float32"


def _calls_custom_vjp(case: Any) -> bool:
    return case.name in calls_syntax.coverage()[calls_syntax.CUSTOM_VJP]


@pytest.mark.usefixtures(fresh_cache_dir.__name__)
@pytest.mark.parametrize("family,case", family_params([CALLS], keep=_calls_custom_vjp))
def test_custom_vjp_rules_are_called_in_the_backward(family: Family, case: Any) -> None:
    """The emitted backward calls the user's rule instead of differentiating the primal."""
    df = srcgrad.grad(case.fn, wrt=case.wrt)
    df(*case.args(np.float64))
    assert ".vjp(" in df.source, f"{case.name}: the backward never calls a custom rule"


if __name__ == "__main__":
    print("\n\n".join(coverage_table(family) for family in FAMILIES))
