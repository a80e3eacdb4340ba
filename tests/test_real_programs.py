"""The held-out "real programs" suite (issue 12): published-style numpy models, differentiated.

Every program of ``tests/realprograms/cases.py`` is run through ``srcgrad.value_and_grad``. The
outcome must be one of

* **right**: the value is bit-identical to the plain call, the inputs are not mutated, the
  gradient has the arguments' structure, matches central differences in float64 on every
  element (a random subset plus random directions for larger arguments) and, where HIPS
  autograd can run the program, matches autograd;
* **refused**: a :class:`srcgrad.SrcgradError` (not an ``InternalError``) whose every finding
  points at a line of the user program (a file under ``tests/realprograms/``).

Anything else (a wrong value or gradient, an internal error, any other exception, an error
pointing elsewhere) fails. Known findings are marked ``xfail(strict=True)`` in ``FINDINGS``
with their class, so the suite stays green while each one stays visible and is noticed the
moment it is fixed. ``python -m tests.test_real_programs`` prints the outcome table.
"""

from __future__ import annotations

import copy
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad import tree as pytree
from srcgrad.errors import InternalError, SrcgradError

try:
    from tests.realprograms.cases import PROGRAMS, Program
except ModuleNotFoundError:  # tests/ is not a package: pytest put tests/ on sys.path
    from realprograms.cases import PROGRAMS, Program  # type: ignore[no-redef]

PROGRAM_DIR = Path(__file__).resolve().parent / "realprograms"

#: Findings on the current engine: program name -> "<class>: <one line>". Each is an
#: ``xfail(strict=True)``: when the engine is fixed the test passes and the mark must go.
_LOOP_TUPLES = (
    "WRONG loop over a list of (W, b) tuples: iterating a slice of a list argument or a list "
    "built in the function by one name, then unpacking or indexing the tuple, drops the "
    "gradient of those entries (issue 12 item 3)"
)
_REBOUND_TUPLE = (
    "WRONG a container argument (tuple, list, dict) rebound to a new container inside a loop "
    "(state = (h, c); params = (W2, b2)): zero gradients, often no warning"
)
_SIBLING_CLOSURE = (
    "internal error closure calling a sibling closure that reads the factory's variable: "
    "NameError from generated code (issue 12 item 9)"
)
_HINT_CHAIN = (
    "hint fails: the program written as an earlier refusal's hint said is refused again "
    "(clear error, no wrong gradient; closures and lists of tuples are the issue 'Real programs')"
)
FINDINGS: dict[str, str] = {}

#: Refusals whose message is at fault (see ``refusal_problems``): program name -> finding.
MESSAGE_FINDINGS: dict[str, str] = {
    "char_rnn": (
        "message: tuple concatenation args + (ones,) called 'passed to add as one array', with "
        "internal names args_1, args_2 and a hint (np.stack) that changes the meaning"
    ),
    "lstm": "message: as char_rnn (internal names args_1 ... args_5)",
    "inline_listcomp_sum": "message: names the internal '_out1' in message and hint",
}

_MAX_ELEMENTS = (
    160  # per argument leaf set: more than this and a random subset is checked
)
_RTOL = 1e-5
_ATOL = 1e-6


# --------------------------------------------------------------------------- float leaves


def _is_float_leaf(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, float):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind == "f"


def _wrt_tuple(wrt: int | tuple[int, ...]) -> tuple[int, ...]:
    return wrt if isinstance(wrt, tuple) else (wrt,)


_GENERATORS = (np.random.Generator, np.random.RandomState)


def _generator_state(g: Any) -> str:
    """A random generator's state, comparable with ``==``."""
    state = (
        g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()
    )
    return repr(state)


def _same_memory_values(a: Any, b: Any) -> bool:
    """Deep equality of two argument trees (arrays compared exactly, NaNs equal; random
    generators by their state)."""
    la, lb = list(pytree.leaves_with_paths(a)), list(pytree.leaves_with_paths(b))
    if [p for p, _ in la] != [p for p, _ in lb]:
        return False
    for (_, u), (_, v) in zip(la, lb):
        if isinstance(u, _GENERATORS) or isinstance(v, _GENERATORS):
            if type(u) is not type(v) or _generator_state(u) != _generator_state(v):
                return False
        elif isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
            if not np.array_equal(np.asarray(u), np.asarray(v), equal_nan=True):
                return False
        elif u != v and not (u != u and v != v):
            return False
    return True


# --------------------------------------------------------------------------- outcome


@dataclass
class Outcome:
    """What running one program gave: ``kind`` is right, refused, WRONG or internal error."""

    kind: str
    detail: str = ""
    error: SrcgradError | None = None


def _bit_identical(a: Any, b: Any) -> bool:
    a_arr, b_arr = np.asarray(a), np.asarray(b)
    return (
        type(a) is type(b)
        and a_arr.dtype == b_arr.dtype
        and a_arr.shape == b_arr.shape
        and a_arr.tobytes() == b_arr.tobytes()
    )


def _check_refusal(err: SrcgradError) -> Outcome:
    """A SrcgradError is an acceptable refusal when every finding is at a user-program line."""
    if isinstance(err, InternalError):
        return Outcome("internal error", str(err).splitlines()[0][:300])
    for e in err.errors:
        fname = Path(e.filename).resolve() if e.filename else None
        if fname is None or PROGRAM_DIR not in fname.parents:
            return Outcome(
                "internal error", f"error not at a user line ({e.filename}): {e.line()}"
            )
        n_lines = len(fname.read_text().splitlines())
        if not (e.lineno and 1 <= e.lineno <= n_lines):
            return Outcome(
                "internal error", f"error at a line outside the file: {e.line()}"
            )
    return Outcome("refused", str(err), err)


def _numeric_derivative(f: Callable[[Any], float], x0: float) -> list[float]:
    """Central differences of a scalar function of one scalar at several step sizes."""
    out = []
    for eps in (1e-5, 1e-4, 1e-6, 1e-3):
        out.append((f(x0 + eps) - f(x0 - eps)) / (2 * eps))
    return out


def _agrees(analytic: float, numerics: list[float], scale: float) -> bool:
    atol = _ATOL * max(1.0, scale)
    return any(
        abs(analytic - n) <= atol + _RTOL * max(abs(analytic), abs(n)) for n in numerics
    )


def _fd_check(prog: Program, args: tuple, grads: tuple, value: float) -> str | None:
    """Compare the gradient with central differences; a message for the first disagreement."""
    rng = np.random.default_rng(0)
    scale = abs(float(value))

    def call(new_args: tuple) -> float:
        return float(prog.fn(*copy.deepcopy(new_args)))

    for pos, grad in zip(_wrt_tuple(prog.wrt), grads):
        arg = args[pos]
        for path, leaf in pytree.leaves_with_paths(arg):
            if not _is_float_leaf(leaf):
                continue
            g = pytree.get(grad, path)
            where = f"argument {pos} leaf {list(path)}"
            if isinstance(leaf, float):

                def at(t: float) -> float:
                    new = list(args)
                    new[pos] = pytree.replace(arg, path, float(t))
                    return call(tuple(new))

                if not _agrees(float(g), _numeric_derivative(at, leaf), scale):
                    num = _numeric_derivative(at, leaf)[0]
                    return f"{where}: gradient {float(g)!r}, central difference {num!r}"
                continue
            flat_idx = np.arange(leaf.size)
            if leaf.size > _MAX_ELEMENTS:
                flat_idx = rng.choice(leaf.size, _MAX_ELEMENTS, replace=False)
            g_arr = np.asarray(g, dtype=np.float64)
            for j in flat_idx:
                idx = np.unravel_index(j, leaf.shape)

                def at(t: float, idx: tuple = idx) -> float:
                    moved = leaf.copy()
                    moved[idx] = t
                    new = list(args)
                    new[pos] = pytree.replace(arg, path, moved)
                    return call(tuple(new))

                nums = _numeric_derivative(at, float(leaf[idx]))
                if not _agrees(float(g_arr[idx]), nums, scale):
                    return (
                        f"{where}{list(map(int, idx))}: gradient {float(g_arr[idx])!r}, "
                        f"central difference {nums[0]!r}"
                    )
            for _ in range(2):  # random directions over the whole leaf
                d = rng.standard_normal(leaf.shape)

                def along(t: float, d: np.ndarray = d) -> float:
                    new = list(args)
                    new[pos] = pytree.replace(arg, path, leaf + t * d)
                    return call(tuple(new))

                nums = _numeric_derivative(along, 0.0)
                if not _agrees(float(np.sum(g_arr * d)), nums, scale * np.abs(d).sum()):
                    return f"{where}: directional derivative disagrees with central differences"
    return None


def _structure_check(prog: Program, args: tuple, grads: tuple) -> str | None:
    """Each gradient has its argument's structure; array leaves same shape and dtype."""
    for pos, grad in zip(_wrt_tuple(prog.wrt), grads):
        arg_leaves = list(pytree.leaves_with_paths(args[pos]))
        try:
            got = [pytree.get(grad, p) for p, _ in arg_leaves]
        except (KeyError, IndexError, TypeError) as exc:
            return f"gradient of argument {pos} lacks the argument's structure: {exc!r}"
        for (path, leaf), g in zip(arg_leaves, got):
            if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
                if (
                    not isinstance(g, np.ndarray)
                    or g.shape != leaf.shape
                    or g.dtype != leaf.dtype
                ):
                    return f"gradient leaf {pos}{list(path)} is {type(g).__name__} {np.shape(g)}"
            elif isinstance(leaf, float) and not isinstance(g, float):
                return (
                    f"gradient leaf {pos}{list(path)} of a float is {type(g).__name__}"
                )
    return None


_OUTCOMES: dict[str, Outcome] = {}


def outcome_of(prog: Program) -> Outcome:
    """``run_program``, once per program and process (two tests read each outcome)."""
    if prog.name not in _OUTCOMES:
        _OUTCOMES[prog.name] = run_program(prog)
    return _OUTCOMES[prog.name]


def run_program(prog: Program) -> Outcome:
    """Differentiate one program and judge the result (see the module docstring)."""
    args = prog.make_args()
    pristine = copy.deepcopy(args)  # a generator argument in its state before the calls
    after_plain = copy.deepcopy(args)
    plain = prog.fn(*after_plain)
    try:
        value, grads = srcgrad.value_and_grad(prog.fn, wrt=prog.wrt)(*args)
    except SrcgradError as err:
        return _check_refusal(err)
    except Exception as exc:  # anything but a SrcgradError is an internal failure
        return Outcome(
            "internal error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        )
    if not _same_memory_values(args, after_plain):
        return Outcome(
            "WRONG",
            "computing the gradient mutated an input (or left a generator argument in "
            "another state than the plain call does)",
        )
    if not _bit_identical(value, plain):
        return Outcome(
            "WRONG", f"value {value!r} is not bit-identical to the plain call {plain!r}"
        )
    grads = grads if isinstance(prog.wrt, tuple) else (grads,)
    msg = _structure_check(prog, args, grads)
    if msg:
        return Outcome("WRONG", msg)
    # the gradient is the function's at the noise the call drew: start from that state
    msg = _fd_check(prog, pristine, grads, value)
    if msg:
        return Outcome("WRONG", msg)
    msg, oracle = _oracle_check(prog, pristine, grads)
    if msg:
        return Outcome("WRONG", msg)
    return Outcome("right", oracle)


# --------------------------------------------------------------------------- autograd oracle

_AG_PACKAGE = "_realprograms_on_autograd"
_SWAPS = [
    ("import numpy as np", "import autograd.numpy as np"),
    ("from scipy.special import", "from autograd.scipy.special import"),
    (
        "import scipy.linalg",
        "import autograd.scipy.linalg\nimport autograd.scipy as scipy",
    ),
]


def autograd_copy(package: str, name: str, path: Path, src: str) -> types.ModuleType:
    """Run ``src`` (a program whose imports were swapped for autograd's) as the module
    ``<package>.<name>`` once per process, its file still ``path``."""
    full = f"{package}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    if package not in sys.modules:
        pkg = types.ModuleType(package)
        pkg.__path__ = []
        sys.modules[package] = pkg
    mod = types.ModuleType(full)
    mod.__package__ = package
    mod.__file__ = str(path)
    sys.modules[full] = mod
    exec(compile(src, str(path), "exec"), mod.__dict__)
    return mod


def _autograd_module(name: str) -> types.ModuleType:
    """A copy of ``tests/realprograms/<name>.py`` that imports autograd's numpy and scipy."""
    full = f"{_AG_PACKAGE}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    path = PROGRAM_DIR / f"{name}.py"
    src = path.read_text()
    for dep in re.findall(r"^from \.(\w+) import", src, flags=re.M):
        _autograd_module(dep)
    for old, new in _SWAPS:
        src = src.replace(old, new)
    return autograd_copy(_AG_PACKAGE, name, path, src)


class _BoxMethods:
    """Give autograd's ArrayBox the ndarray methods the programs use and it lacks."""

    def __enter__(self) -> None:
        import autograd.numpy as anp
        from autograd.numpy.numpy_boxes import ArrayBox

        def transpose(self: Any, *axes: Any) -> Any:
            if len(axes) == 1 and (
                axes[0] is None or isinstance(axes[0], (tuple, list))
            ):
                axes = axes[0]
            return anp.transpose(self, axes or None)

        self.patches = {
            "dot": lambda self, other: anp.dot(self, other),
            "copy": lambda self: anp.array(self),
            "transpose": transpose,
        }
        self.saved = {n: vars(ArrayBox)[n] for n in self.patches if n in vars(ArrayBox)}
        for n, fn in self.patches.items():
            setattr(ArrayBox, n, fn)

    def __exit__(self, *exc: Any) -> None:
        from autograd.numpy.numpy_boxes import ArrayBox

        for n in self.patches:
            if n in self.saved:
                setattr(ArrayBox, n, self.saved[n])
            else:
                delattr(ArrayBox, n)


#: Programs where HIPS autograd's own gradient is wrong (shown against central
#: differences by ``test_autograd_bugs_are_real``): program -> autograd's fault.
AUTOGRAD_WRONG: dict[str, str] = {
    "contrastive_infonce": "np.linalg.norm(z, axis=1, keepdims=True)'s vjp",
}


def _oracle_check(prog: Program, args: tuple, grads: tuple) -> tuple[str | None, str]:
    """Compare with HIPS autograd where it is installed and can run the program.

    Returns (a message for a disagreement or None, what the oracle did).
    """
    try:
        import autograd
    except ImportError:
        return None, "autograd not installed"
    mod = _autograd_module(prog.fn.__module__.rsplit(".", 1)[-1])
    fn = prog.build(mod) if prog.build else getattr(mod, prog.fn.__name__)
    try:
        with _BoxMethods():
            want = autograd.grad(fn, argnum=prog.wrt)(*copy.deepcopy(args))
    except (
        Exception
    ) as exc:  # autograd cannot trace it (item assignment, a missing vjp)
        return None, f"autograd cannot run it ({type(exc).__name__})"
    want = want if isinstance(prog.wrt, tuple) else (want,)
    for pos, g, w in zip(_wrt_tuple(prog.wrt), grads, want):
        for path, leaf in pytree.leaves_with_paths(args[pos]):
            if not _is_float_leaf(leaf):
                continue
            a = np.asarray(pytree.get(g, path), dtype=np.float64)
            b = np.asarray(pytree.get(w, path), dtype=np.float64)
            if not np.allclose(a, b, rtol=1e-6, atol=1e-8):
                worst = np.max(np.abs(a - b))
                msg = f"argument {pos} leaf {list(path)} differs from autograd by {worst:.3g}"
                if prog.name in AUTOGRAD_WRONG:  # (srcgrad passed central differences)
                    return None, f"autograd is wrong here ({AUTOGRAD_WRONG[prog.name]})"
                return msg, "autograd disagrees"
    if prog.name in AUTOGRAD_WRONG:
        return f"autograd agrees now: drop {prog.name} from AUTOGRAD_WRONG", "agrees"
    return None, "agrees with autograd"


def test_autograd_bugs_are_real() -> None:
    """The autograd faults AUTOGRAD_WRONG excuses, against central differences."""
    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp

    rs = np.random.RandomState(0)
    W, x, c = rs.randn(6, 3), rs.randn(4, 6), rs.randn(4, 1)

    def norm_keepdims(W: Any, xp: Any) -> Any:
        return xp.sum(xp.linalg.norm(x @ W, axis=1, keepdims=True) * c)

    got = autograd.grad(lambda W: norm_keepdims(W, anp))(W)
    want = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        e = np.zeros_like(W)
        e[i] = 1e-6
        want[i] = (norm_keepdims(W + e, np) - norm_keepdims(W - e, np)) / 2e-6
    assert not np.allclose(got, want, rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------- tests


@pytest.fixture(autouse=True)
def _own_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "SRCGRAD_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "realprograms")
    )
    monkeypatch.delenv("SRCGRAD_CACHE", raising=False)


def _params(findings: dict[str, str] | None = None) -> list[Any]:
    findings = FINDINGS if findings is None else findings
    out = []
    for prog in PROGRAMS:
        marks = list(prog.marks)
        if prog.name in findings:
            marks.append(pytest.mark.xfail(strict=True, reason=findings[prog.name]))
        out.append(pytest.param(prog, id=prog.name, marks=marks))
    return out


@pytest.mark.parametrize("prog", _params())
def test_real_program(prog: Program) -> None:
    outcome = outcome_of(prog)
    assert outcome.kind in (
        "right",
        "refused",
    ), f"{prog.name}: {outcome.kind}: {outcome.detail}"
    if prog.must_work:
        assert (
            outcome.kind == "right"
        ), f"{prog.name}: the hint, followed, is refused again: " + (outcome.detail)


def refusal_problems(err: SrcgradError) -> list[str]:
    """What is wrong with a refusal's message (DESIGN §2, issue 12 item 10).

    * the same finding listed twice;
    * a follow-on "returns nothing" finding next to the real one;
    * a hint naming a numpy function that does not exist (``np.rand``);
    * a quoted name that is not in the user's source (an internal name such as ``args_1``).
    """
    problems = []
    lines = [e.line() for e in err.errors]
    if len(set(lines)) < len(lines):
        problems.append("the same finding is listed more than once")
    follow_on = [
        e
        for e in err.errors
        if re.search(r"returns nothing|no return statement", e.message)
    ]
    if follow_on and len(follow_on) < len(err.errors):
        problems.append(f"a follow-on finding: {follow_on[0].message!r}")
    for e in err.errors:
        for dotted in re.findall(r"\bnp\.([A-Za-z_][\w.]*)\(", e.hint or ""):
            obj: Any = np
            for part in dotted.split("."):
                obj = getattr(obj, part, None)
            if obj is None:
                problems.append(
                    f"the hint names np.{dotted}, which numpy does not have"
                )
        source = Path(e.filename).read_text() if e.filename else ""
        for name in re.findall(r"'([A-Za-z_]\w*)'", e.message + " " + (e.hint or "")):
            if not re.search(rf"\b{re.escape(name)}\b", source):
                problems.append(
                    f"the message names {name!r}, which is not in the program"
                )
    return problems


@pytest.mark.parametrize("prog", _params(MESSAGE_FINDINGS))
def test_refusal_message(prog: Program) -> None:
    """A refusal says what to do, once, in the user's names."""
    outcome = outcome_of(prog)
    if outcome.kind != "refused":
        pytest.skip(f"not refused ({outcome.kind})")
    assert outcome.error is not None
    problems = refusal_problems(outcome.error)
    assert not problems, f"{prog.name}: " + "; ".join(problems)


def test_program_names_are_unique_and_findings_are_known() -> None:
    names = [p.name for p in PROGRAMS]
    assert len(names) == len(set(names))
    assert set(FINDINGS) <= set(names)
    assert set(MESSAGE_FINDINGS) <= set(names)


def test_judge_catches_a_wrong_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: a gradient off by a factor is reported WRONG, not right."""
    prog = next(p for p in PROGRAMS if p.name == "logistic_nll")
    real = srcgrad.value_and_grad

    def skewed(fn: Callable[..., Any], wrt: Any = 0) -> Callable[..., Any]:
        inner = real(fn, wrt=wrt)

        def call(*a: Any) -> Any:
            v, g = inner(*a)
            return v, g * 1.01

        return call

    monkeypatch.setattr(srcgrad, "value_and_grad", skewed)
    assert run_program(prog).kind == "WRONG"


def test_judge_rejects_an_error_outside_the_program() -> None:
    err = SrcgradError("boom", filename=__file__, lineno=1, col=0)
    assert _check_refusal(err).kind == "internal error"
    assert _check_refusal(InternalError("bug")).kind == "internal error"


def main() -> None:
    """Print the outcome table: program, outcome, detail."""
    import os
    import tempfile

    os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp())
    only = set(sys.argv[1:])
    for prog in PROGRAMS:
        if only and prog.name not in only:
            continue
        out = run_program(prog)
        kind = out.kind
        if prog.must_work and kind == "refused":
            kind = "hint fails"
        detail = out.detail.replace("\n", " | ")
        if out.error is not None and refusal_problems(out.error):
            detail += " || MESSAGE: " + "; ".join(refusal_problems(out.error))
        print(f"{prog.name:26} {kind:15} {detail}", flush=True)


if __name__ == "__main__":
    main()
