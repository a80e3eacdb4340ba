"""Run one generated program and say what srcgrad did with it.

Outcomes: ``right`` (value bit-identical to Python; gradient equal to central differences in
float64, to the generic code's and to the device-namespace run's), ``refused`` (a SrcgradError
at the program's own file and a line in it), or a failure: ``wrong`` (a wrong gradient or
value), ``internal`` (any other exception), ``badrefusal`` (a SrcgradError that does not point
into the program), ``hang``.  ``invalid`` (Python itself fails, or the program writes into its
inputs: a generator bug), ``overflow`` and ``kink`` (central differences disagree with
themselves at three input draws) are skipped and counted.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import json
import os
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import numpy as np

FAILURES = ("wrong", "internal", "badrefusal", "hang")
SKIPS = ("invalid", "overflow", "kink")


@dataclass
class Outcome:
    kind: str
    detail: str = ""
    autograd: str = ""  # "agrees" / "disagrees" / "" (could not run it)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def make_args(spec: list[dict[str, Any]], seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)

    def arr(shape: list[int]) -> np.ndarray:
        return rng.uniform(-1.2, 1.2, size=tuple(shape))

    out: list[Any] = []
    for a in spec:
        if a["kind"] == "array":
            out.append(arr(a["shape"]))
        elif a["kind"] == "float":
            out.append(float(rng.uniform(0.3, 1.2)))
        elif a["kind"] == "list":
            out.append([arr(s) for s in a["shapes"]])
        elif a["kind"] == "pairs":
            out.append([tuple(arr(s) * 0.6 for s in pair) for pair in a["shapes"]])
        else:
            raise ValueError(a)
    return out


def leaves(x: Any) -> list[Any]:
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in leaves(item)]
    return [x]


def flat(x: Any) -> np.ndarray:
    parts = [np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves(x)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _set(args: list[Any], k: int, delta: float) -> list[Any]:
    """A copy of ``args`` with flat element k moved by delta."""
    out = copy.deepcopy(args)
    for i, a in enumerate(out):
        n = len(flat(a))
        if k >= n:
            k -= n
            continue
        if isinstance(a, float):
            out[i] = a + delta
            return out
        for leaf in leaves(a):
            if k < leaf.size:
                leaf.reshape(-1)[k] += delta
                return out
            k -= leaf.size
    raise IndexError(k)


def central(
    f: Any, args: list[Any], eps: float, ks: list[int] | None = None
) -> np.ndarray:
    n = len(flat(args))
    ks = list(range(n)) if ks is None else ks
    out = np.zeros(len(ks))
    x = flat(args)
    for j, k in enumerate(ks):
        h = eps * max(1.0, abs(x[k]))
        out[j] = (float(f(*_set(args, k, h))) - float(f(*_set(args, k, -h)))) / (2 * h)
    return out


def load(text: str, directory: Path) -> tuple[ModuleType, Path]:
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    path = directory / f"prog_{digest}.py"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"fuzzprog_{digest}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod, path


def _same(a: Any, b: Any) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))


def _structure_problem(grads: Any, args: Any) -> str:
    if isinstance(args, (list, tuple)):
        if not isinstance(grads, type(args)) or len(grads) != len(args):
            return f"gradient {type(grads).__name__} for a {type(args).__name__} of {len(args)}"
        for g, a in zip(grads, args):
            p = _structure_problem(g, a)
            if p:
                return p
        return ""
    if isinstance(args, float):
        return (
            ""
            if isinstance(grads, float)
            else f"gradient {type(grads).__name__} for a float"
        )
    if (
        not hasattr(grads, "shape")
        or grads.shape != args.shape
        or grads.dtype != args.dtype
    ):
        return (
            f"gradient {getattr(grads, 'shape', type(grads))} for an array {args.shape}"
        )
    return ""


def judge(
    text: str, spec: list[dict[str, Any]], seed: int, directory: Path, **kw: Any
) -> Outcome:
    """What srcgrad does with one program (see the module docstring)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # zero-gradient warnings and the like: not outcomes
        return _judge(text, spec, seed, directory, **kw)


def _judge(
    text: str,
    spec: list[dict[str, Any]],
    seed: int,
    directory: Path,
    *,
    generic: bool = True,
    device: bool = True,
    use_autograd: bool = True,
    timeout: float = 60.0,
) -> Outcome:
    import srcgrad

    try:
        mod, path = load(text, directory)
    except Exception as exc:  # noqa: BLE001
        return Outcome("invalid", f"import: {type(exc).__name__}: {exc}")
    nlines = len(text.splitlines())
    last: Outcome | None = None
    for attempt in range(3):
        args = make_args(spec, seed + 1000003 * attempt)
        kept = copy.deepcopy(args)
        try:
            with np.errstate(all="ignore"), time_limit(timeout):
                v0 = mod.f(*copy.deepcopy(args))
                mod.f(*args)
        except Hang:
            return Outcome("invalid", "Python itself runs too long")
        except Exception as exc:  # noqa: BLE001
            return Outcome("invalid", f"python: {type(exc).__name__}: {exc}")
        if not _same(args, kept):
            return Outcome("invalid", "the program writes into its inputs")
        if not isinstance(v0, (float, np.floating)):
            return Outcome("invalid", f"f returns {type(v0).__name__}, not a float")
        if not np.isfinite(v0) or abs(v0) > 1e8:
            return Outcome("overflow", repr(v0))
        wrt = tuple(range(len(spec)))
        try:
            with np.errstate(all="ignore"), time_limit(timeout):
                value, grads = srcgrad.value_and_grad(mod.f, wrt=wrt)(*args)
        except srcgrad.SrcgradError as err:
            first = err.line().splitlines()[0] if hasattr(err, "line") else str(err)
            fn = getattr(err, "filename", None) or ""
            ln = getattr(err, "lineno", None) or 0
            if Path(fn).name == path.name and 1 <= ln <= nlines:
                return Outcome("refused", first.replace(str(path.parent) + os.sep, ""))
            return Outcome("badrefusal", f"{type(err).__name__} at {fn}:{ln}: {first}")
        except Hang as exc:
            return Outcome("hang", str(exc))
        except Exception as exc:  # noqa: BLE001
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
            return Outcome(
                "internal", f"{type(exc).__name__} at {where}: {str(exc)[:300]}"
            )
        if not _same(args, kept):
            return Outcome("wrong", "srcgrad's run changed the inputs")
        if not (value == v0):
            return Outcome("wrong", f"value {value!r} where Python gives {v0!r}")
        problem = _structure_problem(grads, tuple(args))
        if problem:
            return Outcome("wrong", problem)
        g = flat(grads)
        with np.errstate(all="ignore"):
            fd = central(mod.f, args, 1e-6)
        tol = 1e-6 * (1.0 + abs(v0)) + 1e-5 * np.abs(fd)
        bad = [int(k) for k in np.nonzero(~(np.abs(g - fd) <= tol))[0]]
        if bad:
            with np.errstate(all="ignore"):
                fd5 = central(mod.f, args, 1e-5, bad)
                fd7 = central(mod.f, args, 1e-7, bad)
            smooth = np.all(np.abs(fd5 - fd[bad]) <= 10 * tol[bad]) and np.all(
                np.abs(fd7 - fd[bad]) <= 100 * tol[bad]
            )
            if not smooth:
                last = Outcome(
                    "kink", f"central differences disagree at element {bad[0]}"
                )
                continue
            k = bad[0]
            return Outcome(
                "wrong",
                f"gradient element {k} (of {len(g)}) is {g[k]!r}, central differences give "
                f"{fd[k]!r} ({len(bad)} wrong)",
            )
        out = Outcome("right")
        if generic:
            os.environ["SRCGRAD_SPECIALISE"] = "0"
            try:
                with np.errstate(all="ignore"), time_limit(timeout):
                    _, g0 = srcgrad.value_and_grad(mod.f, wrt=wrt)(*args)
            except Exception as exc:  # noqa: BLE001
                return Outcome(
                    "internal", f"generic code: {type(exc).__name__}: {exc}"[:400]
                )
            finally:
                del os.environ["SRCGRAD_SPECIALISE"]
            if not np.allclose(flat(g0), g, rtol=1e-9, atol=1e-11):
                return Outcome("wrong", "the generic (unspecialised) gradient differs")
        # host constants (module arrays, np.array/np.ones) cannot meet device inputs
        on_device = device and not any(
            c in text
            for c in ("np.linspace", "np.array(", "np.ones(", "custom_vjp", "np.random")
        )
        if on_device:
            from tests.fakexp import to_device, to_host

            try:  # the function itself must run on the device (cupy has no
                # np.maximum.accumulate, for one): else there is nothing to compare
                with np.errstate(all="ignore"), time_limit(timeout):
                    mod.f(*[_map(to_device, a) for a in args])
            except Exception:  # noqa: BLE001
                on_device = False
        if on_device:
            dargs = [_map(to_device, a) for a in args]
            try:
                with np.errstate(all="ignore"), time_limit(timeout):
                    _, gd = srcgrad.value_and_grad(mod.f, wrt=wrt)(*dargs)
            except srcgrad.SrcgradError as err:
                return Outcome(
                    "internal", f"device run refused what the host ran: {err}"[:400]
                )
            except Exception as exc:  # noqa: BLE001
                tb = traceback.extract_tb(exc.__traceback__)
                where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
                return Outcome(
                    "internal",
                    f"device run: {type(exc).__name__} at {where}: {exc}"[:400],
                )
            if not np.allclose(flat(_map(to_host, gd)), g, rtol=1e-9, atol=1e-11):
                return Outcome("wrong", "the device-namespace gradient differs")
        if use_autograd:
            out.autograd = _autograd(text, args, g)
        return out
    assert last is not None
    return last


def _map(fn: Any, x: Any) -> Any:
    if isinstance(x, list):
        return [_map(fn, i) for i in x]
    if isinstance(x, tuple):
        return tuple(_map(fn, i) for i in x)
    if isinstance(x, float):
        return x
    return fn(x)


def _autograd(text: str, args: list[Any], g: np.ndarray) -> str:
    """autograd's gradient of the same program, where autograd can run it."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return ""
    ns: dict[str, Any] = {"__name__": "fuzz_autograd"}
    try:
        src = text.replace("import numpy as np\n", "import autograd.numpy as np\n", 1)
        exec(compile(src, "<fuzz-autograd>", "exec"), ns)  # noqa: S102
        with np.errstate(all="ignore"), time_limit(30):
            ga = autograd.grad(lambda a: ns["f"](*a))(tuple(copy.deepcopy(args)))
        ga_flat = flat(list(ga))
    except (
        Exception
    ):  # noqa: BLE001 - autograd cannot run many programs (in-place writes)
        return ""
    del anp
    if ga_flat.shape == g.shape and np.allclose(ga_flat, g, rtol=1e-7, atol=1e-9):
        return "agrees"
    return "disagrees"


def spec_of(header_line: str) -> dict[str, Any]:
    assert header_line.startswith("# fuzz: ")
    return json.loads(header_line[len("# fuzz: ") :])


def replay(path: str | Path, directory: Path | None = None, **kw: Any) -> Outcome:
    """Judge a saved program (its first line is the ``# fuzz:`` header)."""
    import tempfile

    text = Path(path).read_text()
    spec = spec_of(text.splitlines()[0])
    d = (
        Path(tempfile.mkdtemp(prefix="srcgrad-replay-"))
        if directory is None
        else directory
    )
    return judge(text, spec["args"], spec["seed"], d, **kw)


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Deletable spans ``[i, j)``: one simple statement, or a compound one with its body."""

    def indent(s: str) -> int:
        return len(s) - len(s.lstrip())

    spans = []
    for i, line in enumerate(lines):
        s = line.strip()
        if (
            not s
            or s.startswith("#")
            or s.startswith("import ")
            or line.startswith("def f(")
        ):
            continue
        j = i + 1
        if s.startswith("@"):
            while j < len(lines) and lines[j].strip().startswith("@"):
                j += 1
            j += 1  # the def line
        if lines[j - 1].rstrip().endswith(":"):
            while j < len(lines) and (
                not lines[j].strip() or indent(lines[j]) > indent(line)
            ):
                j += 1
        spans.append((i, j))
    return spans


def minimise_lines(text: str, still_fails: Any) -> str:
    """Delete statements (and whole compound statements) while ``still_fails(text)`` holds."""
    changed = True
    while changed:
        changed = False
        lines = text.split("\n")
        for i, j in sorted(_blocks(lines), key=lambda s: s[0] - s[1]):
            if j - i == len(lines):
                continue
            cand = "\n".join(lines[:i] + lines[j:])
            if still_fails(cand):
                text, changed = cand, True
                break
    return text
