"""The ``srcgrad`` command line: every subcommand run as ``python -m srcgrad`` in a subprocess,
checking exit codes (0 clean, 1 findings, 2 usage, 123 internal), output and files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNSUPPORTED = REPO / "tests" / "engine" / "cli_unsupported.py"


def run(*args: str, cwd: Path, cache: Path | None = None, script: str | None = None):
    """``python -m srcgrad ARGS`` (or ``python -c SCRIPT ARGS``) in ``cwd``."""
    env = dict(os.environ)
    env.pop("SRCGRAD_CACHE", None)
    if cache is None:
        env.pop("SRCGRAD_CACHE_DIR", None)
    else:
        env["SRCGRAD_CACHE_DIR"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    env["PYTHONWARNINGS"] = "ignore"
    cmd = (
        [sys.executable, "-c", script, *args]
        if script
        else [sys.executable, "-m", "srcgrad", *args]
    )
    return subprocess.run(
        cmd, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project directory holding a copy of the examples package (without the
    model-sized functions of examples/models, which test_committed_examples_are_current
    covers)."""
    shutil.copytree(
        REPO / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "models"),
    )
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


# --------------------------------------------------------------------------- usage


@pytest.mark.slow
def test_help_and_usage_errors(tmp_path, capsys):
    r = run("--help", cwd=tmp_path)
    assert r.returncode == 0
    for cmd in ("gen", "show", "check", "gradcheck", "rules", "clean"):
        assert cmd in r.stdout
    assert "123 internal error" in r.stdout
    from srcgrad.cli import main

    for cmd in ("gen", "show", "check", "gradcheck", "rules", "clean"):
        assert main([cmd, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: srcgrad {cmd} ")
    assert run(cwd=tmp_path).returncode == 2  # no subcommand
    assert run("frobnicate", cwd=tmp_path).returncode == 2
    r = run("gen", "missing.py", cwd=tmp_path)
    assert r.returncode == 2 and "no such file" in r.stderr


# --------------------------------------------------------------------------- gen


@pytest.mark.slow
def test_gen_writes_the_files_the_api_writes(proj):
    cache = proj / "out"
    r = run("gen", "examples/", "--out", str(cache), cwd=proj)
    assert r.returncode == 0, r.stderr
    written = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*.py"))
    committed = sorted(  # (proj holds no examples/models)
        p.relative_to(REPO / "generated").as_posix()
        for p in (REPO / "generated").glob("examples.*/*.py")
        if not p.parent.name.startswith("examples.models.")
    )
    assert written == committed
    # every example is specialised on its example's arguments (a suffix for the spec)
    for stem in (
        "examples.mlp/mlp_loss__wrt-W1-b1-W2-b2__",
        "examples.newton/sqrt_newton__wrt-a__",
        "examples.regression/mse_tanh__wrt-W-b__",
        "examples.rnn/rnn_loss__wrt-Wh-Wx-b__",
    ):
        assert any(
            re.fullmatch(re.escape(stem) + "[0-9a-f]{8}[.]py", w) for w in written
        )
    # a model's loss is specialised on its example's arguments (a suffix for the spec)
    assert any(w.startswith("examples.modules/cnn_loss__wrt-model__") for w in written)
    # a higher order builds its lower orders first: those are then left unchanged
    made = re.search(
        r"(\d+) files? generated(?:, (\d+) files? left unchanged)?", r.stderr
    )
    assert made is not None, r.stderr
    assert int(made.group(1)) + int(made.group(2) or 0) == len(committed), r.stderr
    # quickstart.py is a script: gen imports only files that mark functions for srcgrad
    assert "mse_tanh" not in r.stdout
    # the API, run from the same directory into another cache, writes identical bytes
    api = proj / "api"
    script = textwrap.dedent("""
        import numpy as np
        from examples.regression import mse_tanh
        from examples.rnn import rnn_loss
        print(mse_tanh.path); print(rnn_loss.path)
        rng = np.random.default_rng(0)
        mse_tanh(rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(8, 4)),
                 rng.normal(size=(8, 3)))
        """)
    r2 = run(cwd=proj, cache=api, script=script)
    assert r2.returncode == 0, r2.stderr
    by_api = sorted(p.relative_to(api).as_posix() for p in api.rglob("*.py"))
    assert any(r.startswith("examples.regression/mse_tanh__wrt-W-b__") for r in by_api)
    for rel in by_api:
        assert (api / rel).read_bytes() == (cache / rel).read_bytes()
    # a second run leaves everything alone
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*.py")}
    r = run("gen", "examples/", cwd=proj, cache=cache)
    assert r.returncode == 0 and f"{len(committed)} files left unchanged" in r.stderr
    assert before == {p: p.stat().st_mtime_ns for p in cache.rglob("*.py")}


@pytest.mark.slow
def test_gen_check_and_diff(proj):
    cache = proj / "generated"
    assert run("gen", "examples/", cwd=proj).returncode == 0  # default: ./generated
    r = run("gen", "--check", "examples/", cwd=proj)
    n = len(list(cache.glob("examples.*/*.py")))
    assert (
        r.returncode == 0 and f"{n} files would be left unchanged" in r.stderr
    ), r.stderr
    target = cache / "examples.mlp" / "mlp_loss__wrt-W1-b1-W2-b2__764571d4.py"
    old = target.read_bytes()
    src = proj / "examples" / "mlp.py"
    src.write_text(
        src.read_text().replace("np.maximum(x @ W1 + b1, 0.0)", "np.tanh(x @ W1 + b1)")
    )
    r = run("gen", "--check", "examples/", cwd=proj)
    assert r.returncode == 1
    assert (
        "would regenerate generated/examples.mlp/mlp_loss__wrt-W1-b1-W2-b2__764571d4.py"
        in r.stderr
    )
    assert f"1 file would be regenerated, {n - 1} files would be left unchanged" in (
        r.stderr
    )
    assert target.read_bytes() == old  # --check writes nothing
    r = run("gen", "--diff", "examples/mlp.py", cwd=proj)
    assert r.returncode == 0  # like black: --diff alone is not a failure
    assert (
        "--- a/generated/examples.mlp/mlp_loss__wrt-W1-b1-W2-b2__764571d4.py"
        in r.stdout
    )
    assert "+    h = xp.tanh(" in r.stdout and re.search(
        r"^-    h = xp\.maximum\(", r.stdout, re.MULTILINE
    )
    assert target.read_bytes() == old
    assert run("gen", "--check", "--diff", "examples/mlp.py", cwd=proj).returncode == 1
    # a missing file is stale too
    (cache / "examples.rnn" / "rnn_loss__wrt-Wh-Wx-b__522a18e0.py").unlink()
    r = run("gen", "--check", "examples/", cwd=proj)
    assert (
        r.returncode == 1
        and "would generate (missing) generated/examples.rnn/" in r.stderr
    )
    r = run("gen", "examples/", cwd=proj)
    assert r.returncode == 0
    assert f"2 files generated, {n - 2} files left unchanged" in r.stderr
    assert b"xp.tanh(" in target.read_bytes()
    assert run("gen", "--check", "--exact", "examples/mlp.py", cwd=proj).returncode == 0
    mtime = target.stat().st_mtime_ns
    time.sleep(0.01)
    r = run("gen", "--force", "examples/mlp.py", cwd=proj)
    assert r.returncode == 0 and "1 file generated" in r.stderr
    assert target.stat().st_mtime_ns != mtime and b"xp.tanh(" in target.read_bytes()


@pytest.mark.slow
def test_gen_file_func_wrt_skips_and_errors(tmp_path):
    write(
        tmp_path / "mod.py",
        """
        import numpy as np
        import srcgrad


        def plain(x, w):
            return np.sum(np.sin(x * w))


        @srcgrad.grad
        def params_dict(p, x):
            return np.sum(np.tanh(x @ p["W"]))


        @srcgrad.value_and_grad(wrt=(0, 1))
        def broken(x, w):
            y = np.unwrap(x)
            return np.sum(y * w)
        """,
    )
    cache = tmp_path / "c"
    r = run("gen", "mod.py::plain", "--wrt", "w", cwd=tmp_path, cache=cache)
    assert r.returncode == 0, r.stderr
    assert (cache / "mod" / "plain__wrt-w.py").is_file()
    r = run("gen", "mod.py", cwd=tmp_path, cache=cache)
    assert r.returncode == 1
    assert (
        "skipped mod.py::params_dict: parameter 'p' (indexed by the key 'W')"
        in r.stderr
    )
    line = 1 + (tmp_path / "mod.py").read_text().splitlines().index(
        "    y = np.unwrap(x)"
    )
    assert f"mod.py:{line}:9: error: no adjoint rule for np.unwrap" in r.stdout
    assert "1 function failed to generate" in r.stderr
    assert not (cache / "mod" / "broken__wrt-x-w.py").exists()


@pytest.mark.slow
def test_gen_import_failure_is_exit_123(tmp_path):
    write(
        tmp_path / "boom.py", "import srcgrad\nraise RuntimeError('boom at import')\n"
    )
    r = run("gen", "boom.py", cwd=tmp_path, cache=tmp_path / "c")
    assert r.returncode == 123
    assert "cannot import boom.py: RuntimeError: boom at import" in r.stderr
    assert "Traceback" not in r.stderr and "1 file failed to import" in r.stderr
    r = run("gen", "--verbose", "boom.py", cwd=tmp_path, cache=tmp_path / "c")
    assert r.returncode == 123 and "Traceback" in r.stderr


@pytest.mark.slow
def test_committed_examples_are_current():
    """What CI runs before the tests (DESIGN §7): the repo's committed generated/ is current."""
    r = run("gen", "--check", "examples/", cwd=REPO)
    assert r.returncode == 0, (
        r.stderr + "\nrun `srcgrad gen examples/` and commit generated/"
    )
    n = len(list((REPO / "generated").glob("examples.*/*.py")))
    assert f"{n} files would be left unchanged" in r.stderr


BROKEN_TANH = """
import numpy as np
from srcgrad.rules import registry

registry.all_rules()


@registry.adjoint(np.tanh)
def tanh_adjoint(g, ans, x):
    return g * (1 - ans * ans) * 1.0001
"""


@pytest.mark.slow
def test_editing_a_rule_makes_gen_check_fail(tmp_path):
    """A rule an example uses changes: the committed files it went into are stale."""
    write(tmp_path / "edited_rule.py", BROKEN_TANH)
    committed = {
        p: p.read_bytes() for p in (REPO / "generated").glob("examples.*/*.py")
    }
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import edited_rule\n"
        "from srcgrad.cli import main; sys.exit(main(['gen', '--check', 'examples/']))"
    )
    r = run(cwd=REPO, script=script)
    assert r.returncode == 1, r.stderr
    assert (
        "would regenerate generated/examples.regression/mse_tanh__wrt-W-b__a4cd850c.py"
        in r.stderr
    )
    assert (
        "would regenerate generated/examples.rnn/rnn_loss__wrt-Wh-Wx-b__522a18e0.py"
        in r.stderr
    )
    assert "examples.mlp/" not in r.stderr  # mlp uses no tanh
    uses_tanh = sum(
        bool(re.search(r"^# rules: .*\btanh\b", text.decode(), re.MULTILINE))
        for text in committed.values()
    )
    assert 2 <= uses_tanh < len(committed)
    assert (
        f"{uses_tanh} files would be regenerated, "
        f"{len(committed) - uses_tanh} files would be left unchanged" in r.stderr
    )
    assert committed == {
        p: p.read_bytes() for p in (REPO / "generated").glob("examples.*/*.py")
    }


# --------------------------------------------------------------------------- show


@pytest.mark.slow
def test_show_prints_the_emitted_module(proj):
    cache = proj / "c"
    r = run("show", "examples/regression.py::mse_tanh", cwd=proj, cache=cache)
    assert r.returncode == 0, r.stderr
    path = cache / "examples.regression" / "mse_tanh__wrt-W-b__a4cd850c.py"
    assert r.stdout == path.read_text()
    assert "\x1b[" not in r.stdout  # no colours when stdout is not a terminal
    assert "def bwd_mse_tanh(res, d_out):" in r.stdout
    r = run(
        "show", "examples/regression.py::mse_tanh", "--wrt", "b", cwd=proj, cache=cache
    )
    assert r.returncode == 0 and "def bwd_mse_tanh" in r.stdout
    assert list((cache / "examples.regression").glob("mse_tanh__wrt-b__*.py"))
    r = run("show", "examples/regression.py::nope", cwd=proj, cache=cache)
    assert r.returncode == 2 and "has no function 'nope'" in r.stderr


def test_show_residuals(proj):
    r = run(
        "show", "--residuals", "examples/regression.py::mse_tanh",
        "--shape", "W=5x3", "--shape", "b=3", "--shape", "x=8x5", "--shape", "t=8x3",
        cwd=proj, cache=proj / "c",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = (proj / "examples" / "regression.py").read_text().splitlines()
    at = {
        s: i + 1
        for i, ln in enumerate(lines)
        for s in ("def mse_tanh", "h = ", "err = ", "return ")
        if s in ln
    }
    rows = {
        ln.split()[0]: ln.split()
        for ln in r.stdout.splitlines()[4:]
        if ln and not ln.startswith("total")
    }
    # W and b are read by the backward pass for their shapes only: specialised to the
    # arguments' kinds, it keeps neither them nor x @ W (h_matmul); err = h - t is computed
    # again from h and the argument t, and err * err (out_multiply) is read for its shape
    assert list(rows) == ["x", "t", "h", "out_multiply"]
    assert rows["x"][1:] == [
        "input",
        f"examples/regression.py:{at['def mse_tanh']}",
        "parameter",
        "8x5",
        "float64",
        "320",
    ]
    assert rows["h"][1:] == [
        "saved",
        f"examples/regression.py:{at['h = ']}",
        "tanh",
        "8x3",
        "float64",
        "192",
    ]
    assert rows["out_multiply"][1:6] == [
        "shape",
        f"examples/regression.py:{at['return ']}",
        "multiply",
        "8x3",
        "float64",
    ]
    shape_bytes = int(rows["out_multiply"][6])
    assert 0 < shape_bytes < 192
    kept = 192 + shape_bytes
    assert (
        f"total: {320 + 192 + kept} bytes" in r.stdout
        and f"{kept} bytes ({kept} B) computed by the forward pass" in r.stdout
    )
    # a loop keeps one entry per iteration
    r = run(
        "show", "--residuals", "examples/rnn.py::rnn_loss", "--shape", "Wh=3x3",
        "--shape", "Wx=2x3", "--shape", "b=3", "--shape", "xs=7x5x2", "--shape", "target=5x3",
        cwd=proj, cache=proj / "c",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert re.search(
        r"^stack_h_1\s+stack\s+examples/rnn\.py:\d+\s+push\s+7 x ",
        r.stdout,
        re.MULTILINE,
    )
    r = run(
        "show",
        "--residuals",
        "examples/regression.py::mse_tanh",
        "--shape",
        "W=5x3",
        cwd=proj,
        cache=proj / "c",
    )
    assert r.returncode == 2 and "give parameter 'b' a shape" in r.stderr


# --------------------------------------------------------------------------- check


def _markers(path: Path) -> list[tuple[int, int]]:
    out = []
    for i, ln in enumerate(path.read_text().splitlines()):
        m = re.search(r"!(\S.*)$", ln)
        if m and ln.lstrip()[:1] != "`":
            token = m.group(1).strip()
            out.append((i + 1, ln.index(token) + 1))
    return out


def test_check_reports_every_unsupported_construct(tmp_path):
    marks = _markers(UNSUPPORTED)
    assert len(marks) >= 10
    r = run("check", str(UNSUPPORTED), cwd=REPO)
    assert r.returncode == 1, r.stderr
    found = re.findall(
        r"^tests/engine/cli_unsupported\.py:(\d+):(\d+): error: (.*); hint: (.+)$",
        r.stdout,
        re.MULTILINE,
    )
    positions = {(int(a), int(b)) for a, b, _, _ in found}
    assert set(marks) <= positions, sorted(set(marks) - positions)
    constructs = {(int(a), int(b)): what for a, b, what, _ in found}
    assert len({constructs[m] for m in marks}) == len(marks)  # all different
    fine = next(
        i + 1
        for i, ln in enumerate(UNSUPPORTED.read_text().splitlines())
        if "def fine" in ln
    )
    assert all(int(a) < fine for a, _, _, _ in found)
    n_funcs = len(re.findall(r"^def ", UNSUPPORTED.read_text(), re.MULTILINE))
    assert f"problems in {n_funcs - 1} of {n_funcs} functions" in r.stderr


@pytest.mark.slow
def test_check_is_clean_and_calls_nothing(tmp_path):
    sentinel = tmp_path / "called"
    write(
        tmp_path / "ok.py",
        f"""
        import numpy as np


        def loss(W, x):
            open({str(sentinel)!r}, "w").close()  # noqa: SIM115
            return np.sum(np.tanh(x @ W))


        def steps(x, n):
            for _ in range(n):
                x = np.sin(x)
            return np.sum(x)
        """,
    )
    r = run("check", "ok.py", "missing/", cwd=tmp_path)
    assert r.returncode == 2 and "no such file or directory: missing" in r.stderr
    r = run("check", "-v", "ok.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok ok.py::loss" in r.stderr and "ok ok.py::steps" in r.stderr
    assert "All done! 2 functions can be differentiated." in r.stderr
    assert not sentinel.exists()


# --------------------------------------------------------------------------- gradcheck


BAD_RULE = """
import numpy as np

import srcgrad
from srcgrad.rules import adjoint


def softplus(x):
    return np.logaddexp(0.0, x)


@adjoint(softplus)
def softplus_adjoint(g, ans, x):
    return g * np.exp(x - ans) * 2.0  # wrong: the factor 2


@srcgrad.grad(wrt="w")
def loss(w, x):
    z = x @ w
    s = softplus(z)
    return np.sum(s * s)
"""


@pytest.mark.slow
def test_gradcheck_pass_and_fail(proj):
    r = run(
        "gradcheck", "examples/mlp.py::mlp_loss", "--shape", "W1=4x5", "--shape", "b1=5",
        "--shape", "W2=5x3", "--shape", "b2=3", "--shape", "x=6x4", "--shape", "y=6x3",
        cwd=proj, cache=proj / "c",
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.match(
        r"PASS examples/mlp\.py::mlp_loss w\.r\.t\. \(W1, b1, W2, b2\): max error (\S+)",
        r.stdout,
    )
    assert m and float(m.group(1)) < 1e-6
    write(proj / "badrule.py", BAD_RULE)
    r = run(
        "gradcheck",
        "badrule.py::loss",
        "--shape",
        "w=3",
        "--shape",
        "x=5x3",
        cwd=proj,
        cache=proj / "c",
    )
    assert r.returncode == 1
    assert r.stdout.startswith("FAIL badrule.py::loss w.r.t. (w): max error ")
    line = next(
        i + 1
        for i, ln in enumerate(BAD_RULE.lstrip().splitlines())
        if "s = softplus(z)" in ln
    )
    assert f"badrule.py:{line}: the adjoint of softplus is wrong here" in r.stdout
    assert re.search(
        r"first wrong backward statement: c/badrule/loss__wrt-w__[0-9a-f]{8}\.py:",
        r.stdout,
    )


# --------------------------------------------------------------------------- rules


def test_rules_lists_the_registry(tmp_path):
    r = run("rules", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from srcgrad.rules import registry

    names = {ln.split()[0] for ln in r.stdout.splitlines() if ln.strip()}
    assert {rule.name for rule in registry.all_rules()} <= names
    if not hasattr(registry, "describe"):
        assert re.search(r"^matmul\s+@\s+linalg\s+x1, x2", r.stdout, re.MULTILINE)
        assert f"{len(registry.all_rules())} rules registered." in r.stderr


# --------------------------------------------------------------------------- clean


@pytest.mark.slow
def test_clean_removes_stale_orphaned_and_temporaries(tmp_path):
    write(
        tmp_path / "pkg_a.py",
        """
        import numpy as np
        import srcgrad


        @srcgrad.grad
        def keep(x):
            return np.sum(np.sin(x))


        @srcgrad.grad
        def edit(x):
            return np.sum(np.cos(x))


        @srcgrad.grad
        def drop(x):
            return np.sum(np.exp(x))
        """,
    )
    write(
        tmp_path / "gone.py",
        "import numpy as np\nimport srcgrad\n\n\n@srcgrad.grad\ndef f(x):\n    return np.sum(x * x)\n",
    )
    cache = tmp_path / "generated"
    assert run("gen", "pkg_a.py", "gone.py", cwd=tmp_path).returncode == 0
    src = (tmp_path / "pkg_a.py").read_text()
    src = src.replace("np.cos(x)", "np.cos(2.0 * x)")
    src = src[: src.index("@srcgrad.grad\ndef drop")]
    (tmp_path / "pkg_a.py").write_text(src)
    (tmp_path / "gone.py").unlink()
    tmp = cache / "pkg_a" / ".keep__wrt-x.py.abc123.tmp"
    tmp.write_text("partial")
    os.utime(tmp, (time.time() - 3600, time.time() - 3600))
    fresh_tmp = cache / "pkg_a" / ".edit__wrt-x.py.def456.tmp"
    fresh_tmp.write_text("being written")
    foreign = cache / "pkg_a" / "notes.py"
    foreign.write_text("# my own file\n")
    before = sorted(p.name for p in cache.rglob("*") if p.is_file())
    r = run("clean", "--dry-run", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == before
    assert "would remove generated/pkg_a/edit__wrt-x.py (stale" in r.stderr
    assert "would remove generated/pkg_a/drop__wrt-x.py (orphaned" in r.stderr
    assert (
        "would remove generated/gone/f__wrt-x.py (orphaned: gone.py no longer exists)"
        in r.stderr
    )
    assert (
        "would remove generated/pkg_a/.keep__wrt-x.py.abc123.tmp (leftover temporary)"
        in r.stderr
    )
    r = run("clean", str(cache), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    left = sorted(
        p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()
    )
    assert left == [
        "pkg_a/.edit__wrt-x.py.def456.tmp",
        "pkg_a/keep__wrt-x.py",
        "pkg_a/notes.py",
    ]
    assert not (cache / "gone").exists()
    assert "removed 4 files, kept 2" in r.stderr


def test_show_highlights_only_on_a_terminal(monkeypatch):
    pytest.importorskip("pygments")
    from srcgrad import cli

    text = "def f(x):\n    return x\n"
    assert cli._highlight(text) == text  # pytest captures stdout: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert "\x1b[" in cli._highlight(text)


@pytest.mark.slow
def test_check_grad_compares_one_function_with_central_differences(
    proj: Path, tmp_path: Path
) -> None:
    shapes = [
        "--shape",
        "W=4x3",
        "--shape",
        "b=3",
        "--shape",
        "x=5x4",
        "--shape",
        "t=5x3",
    ]
    r = run(
        "check",
        "--grad",
        "examples/regression.py::mse_tanh",
        *shapes,
        cwd=proj,
        cache=tmp_path / "c",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("PASS examples/regression.py::mse_tanh")
    r = run("check", "--grad", "examples/regression.py", cwd=proj, cache=tmp_path / "c")
    assert r.returncode == 2  # --grad needs one FILE::func
