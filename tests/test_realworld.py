"""The "real world" corpus (issue 15, Done when): whole numpy scripts, differentiated.

Each file of ``tests/realworld/`` is a script in the style of published numpy code (see its
README): a loss with its helpers, a ``make_inputs(seed)`` giving small concrete arguments,
and a ``srcgrad.grad`` / ``value_and_grad`` request somewhere in it (module level, under
``if __name__ == "__main__":`` or inside ``main()``).  The function differentiated and its
``wrt`` are read from that request the way ``srcgrad gen`` reads them
(:func:`srcgrad.cli.requests.read_requests`).  For each program:

* ``test_program``: the gradient through the API is judged as in
  ``tests/test_real_programs.py``: the value is bit-identical to the plain call, inputs are
  not mutated, the gradient has the arguments' structure and matches central differences in
  float64 on every element (a random subset and random directions for large leaves) and,
  where HIPS autograd is installed and can run the program, matches autograd (the file is
  re-executed with ``autograd.numpy`` and ``autograd.scipy`` swapped in);
* ``test_command_line`` (slow): ``srcgrad gen FILE`` generates the requested gradient into a
  temporary cache and ``srcgrad check FILE`` passes, through the CLI's ``main`` in process.

A refusal (a :class:`srcgrad.SrcgradError` whose every finding is at a line of the program)
is an expected outcome only when listed in ``FINDINGS`` (``xfail(strict=True)``, so a fix
flips it); a wrong gradient or an internal error always fails.  ``python -m
tests.test_realworld`` prints the outcome table (program, lines, outcome, detail).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import inspect
import io
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.cli import main as cli_main
from srcgrad.cli.requests import read_requests
from srcgrad.errors import InternalError, SrcgradError

try:
    from tests import test_real_programs as judge
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ on sys.path
    import test_real_programs as judge  # type: ignore[no-redef]

PROGRAM_DIR = Path(__file__).resolve().parent / "realworld"
PROGRAM_FILES = sorted(
    p for p in PROGRAM_DIR.glob("*.py") if not p.name.startswith("_")
)

#: Programs srcgrad does not differentiate right today: file stem -> "<class>: <message>".
#: Each is ``xfail(strict=True)``: when the engine is fixed the test passes and the entry
#: must go.  Refusals must still be at the program's own line (checked).
FINDINGS: dict[str, str] = {
    "gray_scott_neumann": "refused: a helper writes boundary rows into the array passed "
    "to it (neumann(Z): Z[0, :] = Z[1, :]); srcgrad writes only into arrays the function "
    "itself made (the hint, Z = Z.copy() in the helper, works)",
    "keras_style_sequential": "refused: call(fn, *args, **kwargs) forwards **kwargs; "
    "**-unpacking is refused before the call is bound (pass the arguments explicitly)",
    "structured_svm_viterbi": "refused: the Viterbi path is rebuilt with "
    "best.insert(0, ...) on a list whose first item depends on the arguments; list "
    "methods other than append/extend are refused (append, then reverse, works)",
    "config_lambda_reduce": "refused: a `global` call counter (hint: pass the value in), "
    "functools.reduce over a closure a call returns (hint: write the fold as a loop) and "
    "a lambda passed to map (hint: bind it to a name and call it)",
    "kv_cache_decoder": "refused: the KV cache is a dict of lists grown in a helper "
    "(cache['k'].append(k)); a list inside a container is not followed as it grows "
    "(hint: keep it in a name of its own; the helper must then return k and v for the "
    "caller to append, since a helper appending to a list argument is refused too)",
    "mlp_out_buffers": "refused: softmax_inplace(z) does `z -= ...` on the caller's "
    "buffer: a helper writing into the array passed to it, as gray_scott_neumann (the "
    "hint, z = z.copy() in the helper, works); its out= writes themselves are supported",
    "nonlocal_accumulators": "refused: closures that rebind the enclosing function's "
    "names with `nonlocal` and write into its dict (hint: pass the value in and return "
    "it, which the other two findings then also ask for)",
    "word_lstm_layers": "refused: the LSTM caches hs = [None] * (T + 1) are written by "
    "index (hs[0], cs[0] = ...; cs[t + 1] = ...); writes into a Python list are refused "
    "(the hint, build them with append, works); its super().__call__(p, xs) is followed",
}

#: ``srcgrad gen FILE`` does not generate what the API differentiates right: file stem ->
#: finding.  (Programs in FINDINGS fail there too, for the same reason.)
CLI_FINDINGS: dict[str, str] = {}

#: Refusals whose message is at fault (``refusal_problems``): file stem -> finding.
MESSAGE_FINDINGS: dict[str, str] = {}

#: Programs whose differentiation costs more than a second or two: ``slow`` only.
SLOW: set[str] = set()


# --------------------------------------------------------------------------- programs


@dataclass(frozen=True)
class Script:
    """One corpus file: its module, the differentiated function and its wrt positions."""

    name: str
    path: Path
    module: types.ModuleType
    fn_name: str
    wrt: int | tuple[int, ...]
    line_count: int

    @property
    def fn(self) -> Any:
        return getattr(self.module, self.fn_name)

    def make_args(self) -> tuple:
        return tuple(self.module.make_inputs(0))


def _load(path: Path, package: str = "realworld_programs") -> types.ModuleType:
    """Import ``path`` as ``<package>.<stem>`` (a fresh module, not run as __main__)."""
    name = f"{package}.{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    if package not in sys.modules:
        pkg = types.ModuleType(package)
        pkg.__path__ = []
        sys.modules[package] = pkg
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _positions(fn: Any, wrt: Any) -> int | tuple[int, ...]:
    params = list(inspect.signature(fn).parameters)
    one = not isinstance(wrt, (tuple, list))
    items = [0 if wrt is None else wrt] if one else list(wrt)
    pos = tuple(params.index(w) if isinstance(w, str) else int(w) for w in items)
    return pos[0] if one else pos


def request_of(path: Path) -> tuple[str, Any]:
    """(function name, wrt) of the file's first gradient request, as ``srcgrad gen`` reads it."""
    found = read_requests(path)
    assert found is not None, f"{path.name} does not parse"
    if found.calls:
        return found.calls[0].name, found.calls[0].wrt
    assert found.decorated, f"{path.name} asks for no gradient srcgrad gen can find"
    return found.decorated[0], None


def script(path: Path) -> Script:
    module = _load(path)
    fn_name, wrt = request_of(path)
    lines = len(path.read_text().splitlines())
    return Script(
        path.stem,
        path,
        module,
        fn_name,
        _positions(getattr(module, fn_name), wrt),
        lines,
    )


# --------------------------------------------------------------------------- judging


def check_refusal(err: SrcgradError) -> judge.Outcome:
    """A refusal is acceptable when every finding is at a line of a corpus program."""
    if isinstance(err, InternalError):
        return judge.Outcome("internal error", str(err).splitlines()[0][:300])
    for e in err.errors:
        fname = Path(e.filename).resolve() if e.filename else None
        if fname is None or PROGRAM_DIR not in fname.parents:
            return judge.Outcome(
                "internal error",
                f"error not at a program line ({e.filename}): {e.line()}",
            )
        if not (e.lineno and 1 <= e.lineno <= len(fname.read_text().splitlines())):
            return judge.Outcome(
                "internal error", f"error outside the file: {e.line()}"
            )
    return judge.Outcome("refused", str(err), err)


def _rng_state(v: Any) -> Any:
    if isinstance(v, np.random.RandomState):
        state = v.get_state()
        return (state[0], state[1].tobytes(), *state[2:])
    if isinstance(v, np.random.Generator):
        return repr(v.bit_generator.state)
    return None


def same_effects(got: Any, want: Any) -> bool:
    """The arguments after the gradient call equal those after a plain call: unchanged
    arrays, and random generators advanced exactly as the program itself advances them.
    """
    from srcgrad import tree as pytree

    a, b = list(pytree.leaves_with_paths(got)), list(pytree.leaves_with_paths(want))
    if [p for p, _ in a] != [p for p, _ in b]:
        return False
    for (_, u), (_, v) in zip(a, b):
        if _rng_state(u) is not None or _rng_state(v) is not None:
            if _rng_state(u) != _rng_state(v):
                return False
        elif not judge._same_memory_values(u, v):
            return False
    return True


def _as_program(s: Script) -> Any:
    return judge.Program(name=s.name, fn=s.fn, make_args=s.make_args, wrt=s.wrt)


def run_script(s: Script) -> judge.Outcome:
    """Differentiate one program and judge the result (see the module docstring)."""
    prog = _as_program(s)
    args = prog.make_args()
    pristine = copy.deepcopy(args)  # random generators in args advance on every call
    after_plain = copy.deepcopy(args)
    plain = prog.fn(*after_plain)
    try:
        value, grads = srcgrad.value_and_grad(prog.fn, wrt=prog.wrt)(*args)
    except SrcgradError as err:
        return check_refusal(err)
    except Exception as exc:  # anything but a SrcgradError is an internal failure
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return judge.Outcome("internal error", text)
    if not same_effects(args, after_plain):
        return judge.Outcome(
            "WRONG", "the gradient call changed an input unlike the plain call"
        )
    if not judge._bit_identical(value, plain):
        return judge.Outcome(
            "WRONG", f"value {value!r} is not bit-identical to the plain call {plain!r}"
        )
    grads = grads if isinstance(prog.wrt, tuple) else (grads,)
    msg = judge._structure_check(prog, pristine, grads) or judge._fd_check(
        prog, pristine, grads, value
    )
    if msg:
        return judge.Outcome("WRONG", msg)
    msg, oracle = oracle_check(s, pristine, grads)
    if msg:
        return judge.Outcome("WRONG", msg)
    return judge.Outcome("right", oracle)


# --------------------------------------------------------------------------- autograd

_AG_PACKAGE = "_realworld_on_autograd"
_SWAPS = [
    (r"^import numpy as np$", "import autograd.numpy as np"),
    (r"^from scipy\.special import", "from autograd.scipy.special import"),
    (r"^from scipy\.stats import", "from autograd.scipy.stats import"),
    (
        r"^import scipy\.linalg$",
        "import autograd.scipy.linalg\nimport autograd.scipy as scipy",
    ),
    (
        r"^import scipy\.stats$",
        "import autograd.scipy.stats\nimport autograd.scipy as scipy",
    ),
]


def autograd_module(s: Script) -> types.ModuleType:
    """A copy of the program that imports autograd's numpy and scipy."""
    src = s.path.read_text()
    for old, new in _SWAPS:
        src = re.sub(old, new, src, flags=re.M)
    return judge.autograd_copy(_AG_PACKAGE, s.name, s.path, src)


def oracle_check(s: Script, args: tuple, grads: tuple) -> tuple[str | None, str]:
    """(a disagreement or None, what the oracle did), as ``judge._oracle_check``."""
    try:
        import autograd
    except ImportError:
        return None, "autograd not installed"
    try:
        fn = getattr(autograd_module(s), s.fn_name)
        with judge._BoxMethods():
            want = autograd.grad(fn, argnum=s.wrt)(*copy.deepcopy(args))
    except (
        Exception
    ) as exc:  # autograd cannot trace it (item assignment, a missing vjp)
        return None, f"autograd cannot run it ({type(exc).__name__}: {exc})"[:160]
    want = want if isinstance(s.wrt, tuple) else (want,)
    from srcgrad import tree as pytree

    for pos, g, w in zip(judge._wrt_tuple(s.wrt), grads, want):
        for path, leaf in pytree.leaves_with_paths(args[pos]):
            if not judge._is_float_leaf(leaf):
                continue
            a = np.asarray(pytree.get(g, path), dtype=np.float64)
            b = np.asarray(pytree.get(w, path), dtype=np.float64)
            if not np.allclose(a, b, rtol=1e-6, atol=1e-8):
                worst = np.max(np.abs(a - b))
                if (
                    s.name in judge.AUTOGRAD_WRONG
                ):  # (srcgrad passed central differences)
                    return None, f"autograd is wrong ({judge.AUTOGRAD_WRONG[s.name]})"
                return (
                    f"argument {pos} leaf {list(path)} differs from autograd by {worst:.3g}",
                    "autograd disagrees",
                )
    if s.name in judge.AUTOGRAD_WRONG:
        return f"autograd agrees now: drop {s.name} from AUTOGRAD_WRONG", "agrees"
    return None, "agrees with autograd"


# --------------------------------------------------------------------------- command line


def run_cli(*argv: str) -> tuple[int, str]:
    """``srcgrad ARGV`` in process: (exit status, stdout and stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main(list(argv))
    return rc, out.getvalue() + err.getvalue()


def command_line_problem(s: Script, cache_dir: Path) -> str | None:
    """What is wrong with ``srcgrad gen FILE`` and ``srcgrad check FILE``, or None."""
    rc, text = run_cli("gen", "--out", str(cache_dir), str(s.path))
    if rc != 0:
        return f"srcgrad gen exited {rc}: {text.strip()[-600:]}"
    made = [p.name for p in cache_dir.rglob(f"{s.fn_name}__wrt-*.py")]
    later = re.search(
        rf"skipped \S+::{re.escape(s.fn_name)}: .* specialised on .* first call", text
    )
    if not made and not later:
        return f"srcgrad gen wrote no gradient of {s.fn_name}: {text.strip()[-300:]}"
    rc, text = run_cli("check", str(s.path))
    if rc != 0:
        return f"srcgrad check exited {rc}: {text.strip()[-600:]}"
    return None


# --------------------------------------------------------------------------- tests


@pytest.fixture(autouse=True)
def _own_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "realworld")
    )
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


def _params(findings: dict[str, str], slow_for_all: bool = False) -> list[Any]:
    out = []
    for path in PROGRAM_FILES:
        marks = []
        if slow_for_all or path.stem in SLOW:
            marks.append(pytest.mark.slow)
        if path.stem in findings:
            marks.append(pytest.mark.xfail(strict=True, reason=findings[path.stem]))
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


_OUTCOMES: dict[str, judge.Outcome] = {}


def outcome_of(s: Script) -> judge.Outcome:
    """``run_script``, once per program and process (two tests read each outcome)."""
    if s.name not in _OUTCOMES:
        _OUTCOMES[s.name] = run_script(s)
    return _OUTCOMES[s.name]


@pytest.mark.parametrize("path", _params(FINDINGS))
def test_program(path: Path) -> None:
    s = script(path)
    outcome = outcome_of(s)
    # a refusal is tolerated only as a listed finding, and even then it must be at the
    # program's own line (check_refusal turns any other error into an internal error)
    assert outcome.kind in (
        "right",
        "refused",
    ), f"{s.name}: {outcome.kind}: {outcome.detail}"
    assert outcome.kind == "right", f"{s.name}: refused: {outcome.detail}"


def message_problems(err: SrcgradError) -> list[str]:
    """``judge.refusal_problems`` plus a claim that a name the program binds is undefined."""
    problems = judge.refusal_problems(err)
    for e in err.errors:
        source = Path(e.filename).read_text() if e.filename else ""
        for name in re.findall(r"name '(\w+)' is not defined", e.message):
            target = rf"^\s*[\w\s,()\[\]]*\b{re.escape(name)}\b[\w\s,()\[\]]*=(?!=)"
            if re.search(target, source, flags=re.M):
                problems.append(f"says {name!r} is not defined; the program binds it")
    return problems


@pytest.mark.parametrize("path", _params(MESSAGE_FINDINGS))
def test_refusal_message(path: Path) -> None:
    """A refusal says what to do, once, in the program's names, and says it truly."""
    s = script(path)
    outcome = outcome_of(s)
    if outcome.kind != "refused":
        pytest.skip(f"not refused ({outcome.kind})")
    assert outcome.error is not None
    problems = message_problems(outcome.error)
    assert not problems, f"{s.name}: " + "; ".join(problems)


@pytest.mark.parametrize("path", _params(CLI_FINDINGS, slow_for_all=True))
def test_command_line(path: Path, tmp_path: Path) -> None:
    s = script(path)
    problem = command_line_problem(s, tmp_path / "cache")
    if path.stem in FINDINGS:
        # refused through the API: the command line may refuse it too, at its own line
        assert problem is None or (
            f"{path.name}:" in problem and "Traceback" not in problem
        ), f"{s.name}: {problem}"
        return
    assert problem is None, f"{s.name}: {problem}"


def test_corpus_is_the_size_the_issue_asks() -> None:
    """At least 30 programs, each 20-150 lines, each with a gradient request and inputs."""
    assert len(PROGRAM_FILES) >= 30
    for path in PROGRAM_FILES:
        n = len(path.read_text().splitlines())
        assert 20 <= n <= 150, f"{path.name} has {n} lines"
        request_of(path)
        assert re.search(r"^def make_inputs\(seed\b", path.read_text(), re.M), path.name
    names = {p.stem for p in PROGRAM_FILES}
    assert set(FINDINGS) | set(CLI_FINDINGS) | set(MESSAGE_FINDINGS) | SLOW <= names
    assert not set(FINDINGS) & set(CLI_FINDINGS)


def test_judge_rejects_an_error_outside_the_corpus() -> None:
    err = SrcgradError("boom", filename=__file__, lineno=1, col=0)
    assert check_refusal(err).kind == "internal error"
    assert check_refusal(InternalError("bug")).kind == "internal error"


def main() -> None:
    """Print the outcome table: program, lines, outcome, detail (``--cli`` adds gen/check)."""
    import os
    import tempfile

    os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp())
    argv = sys.argv[1:]
    with_cli = "--cli" in argv
    only = {a for a in argv if not a.startswith("--")}
    counts: dict[str, int] = {}
    print(f"{'program':28} {'lines':>5}  {'outcome':15} detail")
    for path in PROGRAM_FILES:
        if only and path.stem not in only:
            continue
        s = script(path)
        out = run_script(s)
        detail = out.detail.replace("\n", " | ")
        if out.error is not None and message_problems(out.error):
            detail += " || MESSAGE: " + "; ".join(
                sorted(set(message_problems(out.error)))
            )
        if with_cli and out.kind == "right":
            problem = command_line_problem(s, Path(tempfile.mkdtemp()))
            cli = "gen+check ok" if problem is None else f"CLI: {problem}"
            detail += "; " + cli.replace("\n", " | ")
        counts[out.kind] = counts.get(out.kind, 0) + 1
        print(f"{s.name:28} {s.line_count:5}  {out.kind:15} {detail[:400]}", flush=True)
    print(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
