"""``srcgrad check``: a pre-flight lint that runs the generator in check mode over what the
given files differentiate (decorated, or passed to ``grad(f, ...)``; every module-level
function of a file that differentiates nothing, or with ``--all``) and lists every construct
it cannot differentiate, and the generator's warnings, at ``file:line:col``.
"""

from __future__ import annotations

import argparse
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from srcgrad.api import GradFunction
from srcgrad.cli import gradcheck
from srcgrad.cli.exits import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    LoadError,
    UsageError,
)
from srcgrad.cli.inputs import add_input_arguments
from srcgrad.cli.loading import iter_py, load_module, resolve_attr, split_spec
from srcgrad.cli.output import (
    Out,
    display,
    plural,
    report_internal,
    report_load_failure,
)
from srcgrad.cli.requests import Request, read_requests
from srcgrad.cli.targets import container_note, parse_wrt
from srcgrad.codegen.pipeline import generate
from srcgrad.errors import SrcgradError


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    check = sub.add_parser(
        "check",
        parents=[common],
        help="list every construct srcgrad cannot differentiate (a pre-flight lint)",
        description="Run the generator in check mode over what each FILE (or FILE::func, "
        "or each *.py file under DIR) differentiates (its @srcgrad.grad functions and the "
        "module-level functions it passes to grad(f, ...)), or over every module-level "
        "function of a file that differentiates nothing, and list every unsupported "
        "construct at file:line:col with a hint.  Functions nothing differentiates are "
        "checked as if every parameter were.  The module is imported; no function is called "
        "and no main block runs.",
    )
    check.add_argument("src", nargs="+", metavar="FILE|DIR|FILE::func")
    check.add_argument(
        "--all",
        action="store_true",
        help="check every module-level function, even in a file that differentiates some",
    )
    check.add_argument(
        "--wrt", help="check with these parameters differentiated instead"
    )
    check.add_argument(
        "--grad",
        action="store_true",
        help="for one FILE::func, also compare its gradient with central differences on "
        "random inputs and name the first wrong rule (as gradcheck)",
    )
    check.add_argument("--rtol", type=float, default=1e-5)
    check.add_argument("--atol", type=float, default=1e-6)
    add_input_arguments(check)
    check.set_defaults(func=run)


@dataclass
class _Tally:
    """What the check found so far, and the exit status it implies."""

    status: int = EXIT_CLEAN
    functions: int = 0
    bad: int = 0
    findings: int = 0
    warnings: int = 0


def _check_function(
    fn: Callable[..., Any],
    wrt: list[str],
    has_aux: bool,
    label: str,
    containers: dict[str, Any] | None = None,
) -> tuple[list[str], list[str]] | None:
    """(the generator's findings on ``fn``, its warnings), each a ``file:line:col:`` line (no
    user code runs), or None on an internal error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            generate(fn, list(wrt), containers or {}, has_aux)
        except SrcgradError as err:
            errors = [
                e.line() if isinstance(e, SrcgradError) else str(e) for e in err.errors
            ]
        except Exception as exc:  # noqa: BLE001
            report_internal(f"{label}: {type(exc).__name__}: {exc}", exc)
            return None
        else:
            errors = []
    return errors, [_warning_line(w.message, fn) for w in caught]


def _warning_line(message: Warning | str, fn: Callable[..., Any]) -> str:
    """A warning as a ``file:line:col: warning:`` line (at ``fn``'s def where it names no
    place itself)."""
    text = str(message)
    if ": warning: " in text:
        return text
    code = fn.__code__
    return f"{display(code.co_filename)}:{code.co_firstlineno}:1: warning: {text}"


def _wrt_params(wrt: Any, params: list[str], label: str) -> list[str] | None:
    """A ``wrt`` (names and positions) as parameter names of this function; None (and a
    note) when one does not exist."""
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    bad = [
        w
        for w in items
        if (
            w not in params
            if isinstance(w, str)
            else not -len(params) <= w < len(params)
        )
    ]
    if bad:
        Out.info(f"skipped {label}: no parameter {bad[0]!r}")
        return None
    return [w if isinstance(w, str) else params[w] for w in items]


@dataclass(frozen=True)
class _Way:
    """One way to check a function: the parameters differentiated, has_aux, and whether the
    script asked for them (its warnings are then reported) or every parameter is assumed.
    """

    wrt: tuple[str, ...]
    has_aux: bool
    asked: bool


def _ways_to_check(
    obj: Any, calls: list[Request], wrt_override: Any, label: str
) -> tuple[Any, list[_Way]]:
    """(function, the ways to check it) for ``obj``, decorated or passed to ``calls``; no
    ways (and a note) to skip it."""
    fn = obj.forward if isinstance(obj, GradFunction) else obj
    fn = inspect.unwrap(fn) if callable(fn) else fn
    if not inspect.isfunction(fn):
        Out.info(f"skipped {label}: not a Python function")
        return fn, []
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    asked: list[tuple[Any, bool]] = [
        (0 if r.wrt is None else r.wrt, r.has_aux) for r in calls
    ]
    if isinstance(obj, GradFunction):
        asked.insert(0, (list(obj.wrt), bool(obj._has_aux)))
    if not asked:  # undecorated: as if every parameter were differentiated
        asked_here = False
        asked = [(params if wrt_override is None else wrt_override, False)]
    else:
        asked_here = True
    ways: list[_Way] = []
    for wrt, has_aux in asked:
        names = _wrt_params(
            wrt if wrt_override is None else wrt_override, params, label
        )
        way = None if names is None else _Way(tuple(names), has_aux, asked_here)
        if way is not None and way not in ways:
            ways.append(way)
    if ways == [_Way((), False, False)] and not (
        code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
    ):
        Out.info(f"skipped {label}: no parameters to differentiate")
        return fn, []
    return fn, ways


def _what_file_asks(
    f: Path, func: str | None, all_functions: bool
) -> tuple[list[str], list[Request], list[str]] | None:
    """(the functions of ``f`` to check, the grad(f) calls asking for them, diagnostics of
    the calls that name no function), or None when it does not parse."""
    requests = read_requests(f)
    if requests is None:
        return None
    diagnostics = [u.diagnostic(f) for u in requests.unnamed]
    if func is not None:
        names = [func]
    elif requests.differentiates and not all_functions:
        names = requests.names()
    else:
        names = requests.functions
    return names, requests.calls, diagnostics


def _check_file(
    f: Path, ns: argparse.Namespace, func: str | None, tally: _Tally
) -> None:
    """Check the functions of one file (or the one named), printing findings into ``tally``."""
    asks = _what_file_asks(f, func, ns.all)
    if asks is None:
        Out.err(f"error: cannot parse {display(f)}")
        tally.status = EXIT_INTERNAL
        return
    names, calls, diagnostics = asks
    for line in diagnostics:
        print(line)
    tally.warnings += len(diagnostics)
    if not names:
        return
    try:
        mod = load_module(f)
    except LoadError as exc:
        report_load_failure(exc)
        tally.status = EXIT_INTERNAL
        return
    for name in names:
        label = f"{display(f)}::{name}"
        if func is not None:
            obj = resolve_attr(mod, name, f)
        else:
            obj = getattr(mod, name, None)
            if obj is None:
                Out.info(f"skipped {label}: not in the module after import")
                continue
        mine = [r for r in calls if r.name == name]
        fn, ways = _ways_to_check(obj, mine, ns.wrt_override, label)
        if ways:
            _check_ways(fn, ways, label, tally, _example_of(obj, mine, mod))


def _example_of(obj: Any, calls: list[Request], mod: Any) -> Callable[[], Any] | None:
    """The example-argument builder a gradient of ``obj`` names (``example=``), if any."""
    if isinstance(obj, GradFunction) and obj.example is not None:
        return obj.example
    name = next((r.example for r in calls if r.example), None)
    found = getattr(mod, name, None) if name else None
    return found if callable(found) else None


def _check_ways(
    fn: Any,
    ways: list[_Way],
    label: str,
    tally: _Tally,
    example: Callable[[], Any] | None = None,
) -> None:
    """Check ``fn`` each way (with the container layouts of its example's arguments, when
    it names an example builder), printing each distinct finding and warning once."""
    tally.functions += 1
    containers = None
    if example is not None:
        containers = GradFunction(fn).containers_for(example())
    wrt = sorted({w for way in ways for w in way.wrt})
    note = None if example is not None else container_note(fn, label, wrt)
    if note is not None:
        # what it may do with a list or dict depends on the one passed: never guessed here
        Out.info(note)
        return
    errors: list[str] = []
    warned: list[str] = []
    for way in ways:
        found = _check_function(fn, list(way.wrt), way.has_aux, label, containers)
        if found is None:
            tally.status = EXIT_INTERNAL
            return
        errors += [e for e in found[0] if e not in errors]
        if way.asked:
            warned += [w for w in found[1] if w not in warned]
    for line in errors + warned:
        print(line)
    tally.warnings += len(warned)
    if errors:
        tally.bad += 1
        tally.findings += len(errors)
    elif Out.verbose:
        Out.info(f"ok {label}")


def run(ns: argparse.Namespace) -> int:
    if getattr(ns, "grad", False):
        if len(ns.src) != 1 or "::" not in ns.src[0]:
            raise UsageError("check --grad takes one FILE::func")
        ns.target = ns.src[0]
        return gradcheck.run(ns)
    ns.wrt_override = parse_wrt(ns.wrt)
    tally = _Tally()
    for spec in ns.src:
        path, func = split_spec(spec)
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
        for f in iter_py(path):
            _check_file(f, ns, func, tally)
    if tally.findings:
        Out.info(
            f"Oh no! {plural(tally.findings, 'problem')} in {tally.bad} of "
            f"{plural(tally.functions, 'function')}."
        )
        return max(tally.status, EXIT_FINDINGS)
    warned = f"; {plural(tally.warnings, 'warning')}" if tally.warnings else ""
    Out.info(
        f"All done! {plural(tally.functions, 'function')} can be differentiated{warned}."
    )
    return tally.status
