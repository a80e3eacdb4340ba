"""The differential fuzzer (tests/fuzz): a small run of generated programs, the saved minimal
failures replayed, and checks that the generator and the oracle do what they claim.

``SRCGRAD_FUZZ_PROGRAMS`` sets how many programs the small run judges (the long run is
``python -m tests.fuzz --minutes N --seed S``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from srcgrad.rules import registry
from tests.fuzz import gen, oracle

N_PROGRAMS = int(os.environ.get("SRCGRAD_FUZZ_PROGRAMS", "200"))
REGRESSIONS = sorted((Path(__file__).parent / "fuzz" / "regressions").glob("*.py"))
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.slow
def test_small_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(workdir / "cache"))
    seen: list[str] = []

    @settings(
        max_examples=N_PROGRAMS,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(gen.programs(max_statements=6))
    def run(prog: gen.Program) -> None:
        out = oracle.judge(prog.text, prog.args, prog.seed, workdir)
        seen.append(out.kind)
        assert not out.failed, f"{out.kind}: {out.detail}\n{prog.header()}\n{prog.text}"

    run()
    # a program Python itself cannot run is a generator bug
    assert "invalid" not in seen, {k: seen.count(k) for k in set(seen)}
    right = seen.count("right")
    # a generator that only produces refused or skipped programs would test nothing
    assert right >= len(seen) // 2, {k: seen.count(k) for k in set(seen)}


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_saved_failure_is_now_right_or_refused(
    path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(workdir / "cache"))
    out = oracle.replay(path, workdir)
    # a program once found wrong may become right or refused; one marked `# expect: right`
    # (made right by its fix) must stay right
    expected = (
        ("right",)
        if "\n# expect: right\n" in path.read_text()
        else ("right", "refused")
    )
    assert out.kind in expected, f"{out.kind}: {out.detail}"


def test_every_construct_is_generated() -> None:
    tags: set[str] = set()

    @settings(
        max_examples=600,  # (more constructs, each drawn less often)
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(gen.programs())
    def run(prog: gen.Program) -> None:
        compile(prog.text, "<fuzz>", "exec")
        tags.update(prog.tags)

    run()
    assert set(gen.TAGS) - tags == set()
    assert tags - set(gen.TAGS) == set(), "tags the report does not list"


# view=True rules that user code cannot name (the engine's own helpers) or that need arguments
# the generator does not draw
_INTERNAL_VIEWS = {
    "expand_like",
    "unbroadcast",
    "expand_to",  # the runtime helpers' own rules (higher orders)
    "cast_like",
    "max_of",
    "min_of",
    "float32",
    "float64",
    "linalg.matrix_power",
    "diff",
    "imag",
}


def test_every_view_rule_is_generated() -> None:
    """Views are where aliasing bugs live: every rule flagged view=True is in the table."""
    names = {
        name
        for s in [(4,), (4, 4), (2, 4, 4), (4, 3)]
        for name, *_ in gen.Ctx.view_forms(s)
    }
    from srcgrad.rules.tangents import is_helper_rule

    # the runtime helpers' own rules (higher orders) are called by emitted code only
    views = {r.name for r in registry.all_rules() if r.view and not is_helper_rule(r)}
    assert views - names - _INTERNAL_VIEWS == set()


@given(st.data())
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_view_table_shapes_are_numpys(data: st.DataObject) -> None:
    import numpy as np

    shape = data.draw(st.sampled_from(gen.ARG_SHAPES + ((2, 4, 4), (1, 4))))
    a = np.zeros(shape)
    for name, form, out in gen.Ctx.view_forms(shape):
        got = eval(form.format(a="a"), {"np": np, "a": a})  # noqa: S307
        assert np.shape(got) == out, (name, form, shape)


_WRONG_RULE = """import numpy as np

import srcgrad


@srcgrad.custom_vjp
def twice(u):
    return 2.0 * u


@twice.defvjp
def twice_vjp(g, ans, u):
    return 3.0 * g


def f(x):
    return np.sum(np.sin(twice(x)))
"""


def test_oracle_reports_a_wrong_gradient(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(workdir / "cache"))
    spec = [{"name": "x", "kind": "array", "shape": [3]}]
    out = oracle.judge(_WRONG_RULE, spec, 0, workdir)
    assert out.kind == "wrong" and "central differences" in out.detail
    right = _WRONG_RULE.replace("3.0 * g", "2.0 * g")
    assert oracle.judge(right, spec, 0, workdir).kind == "right"


def test_oracle_tells_kinks_from_wrong_gradients(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(workdir / "cache"))
    # not smooth at the scale of central differences: their three step sizes disagree
    text = (
        "import numpy as np\n\n\ndef f(x):\n    return np.sum(np.sin(x * 3e6)) * 1e-6\n"
    )
    spec = [{"name": "x", "kind": "array", "shape": [3]}]
    assert oracle.judge(text, spec, 0, workdir).kind == "kink"


def test_oracle_refusal_must_point_into_the_program(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(workdir / "cache"))
    text = "import numpy as np\n\n\ndef f(x):\n    return np.sum(np.unwrap(x))\n"
    spec = [{"name": "x", "kind": "array", "shape": [3]}]
    out = oracle.judge(text, spec, 0, workdir)
    assert out.kind == "refused" and ":5:" in out.detail, out


def test_oracle_skips_programs_that_write_into_their_inputs(workdir: Path) -> None:
    text = "import numpy as np\n\n\ndef f(x):\n    x[0] = 1.0\n    return np.sum(x)\n"
    spec = [{"name": "x", "kind": "array", "shape": [3]}]
    assert oracle.judge(text, spec, 0, workdir).kind == "invalid"


def test_statement_deletion_keeps_the_failure() -> None:
    text = (
        "def f(x):\n    a = 1\n    if x:\n        b = 2\n        c = 3\n    return a\n"
    )
    out = oracle.minimise_lines(text, lambda t: "a = 1" in t and "return a" in t)
    assert out == "def f(x):\n    a = 1\n    return a\n"


@pytest.mark.slow
def test_long_run_command(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz",
            "--minutes",
            "0.3",
            "--seed",
            "3",
            "--save",
            str(tmp_path / "found"),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "| **all programs** |" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_reduced_program_keeps_only_the_constructs_of_its_lines() -> None:
    @settings(
        max_examples=60,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(gen.programs())
    def run(prog: gen.Program) -> None:
        assert prog.tags_of(prog.text) <= prog.tags
        ret = prog.text.splitlines()[-1]
        # tags are kept per line text: a last line written twice (an early return of the
        # same expression inside a branch) carries the branch's tags too
        assume(prog.text.splitlines().count(ret) == 1)
        reduced = prog.tags_of("import numpy as np\n\n\ndef f():\n" + ret + "\n")
        assert reduced <= prog.tags
        assert "loop-range" not in reduced and "if" not in reduced

    run()


def test_long_run_keeps_right_programs_autograd_disagrees_on(tmp_path, monkeypatch):
    """A program right by central differences that autograd differentiates otherwise is
    saved for a look (one of the two references is wrong), without failing the run."""
    from tests.fuzz import __main__ as long_run
    from tests.fuzz import oracle

    def judged(*args: object, **kw: object) -> oracle.Outcome:
        return oracle.Outcome("right", "", "disagrees", {})

    monkeypatch.setattr(oracle, "judge", judged)
    code = long_run.main(
        ["--minutes", "0.01", "--seed", "1", "--batch", "2", "--quiet"]
        + ["--save", str(tmp_path / "found")]
    )
    assert code == 0
    kept = list((tmp_path / "found").glob("autograd_disagrees_*.py"))
    assert kept and all("# found: autograd disagrees" in p.read_text() for p in kept)
