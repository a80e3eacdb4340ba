"""``srcgrad check``: a pre-flight lint that runs the generator in check mode over every
module-level function of the given files and lists every construct it cannot differentiate.
"""

from __future__ import annotations

import argparse
import inspect
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
from srcgrad.cli.loading import (
    iter_py,
    load_module,
    module_functions,
    parse_file,
    resolve_attr,
    split_spec,
)
from srcgrad.cli.output import (
    Out,
    display,
    plural,
    report_internal,
    report_load_failure,
)
from srcgrad.cli.targets import parse_wrt
from srcgrad.codegen.pipeline import generate
from srcgrad.errors import SrcgradError


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    check = sub.add_parser(
        "check",
        parents=[common],
        help="list every construct srcgrad cannot differentiate (a pre-flight lint)",
        description="Run the generator in check mode over every module-level function of "
        "each FILE (or FILE::func, or the *.py files under DIR) and list every unsupported "
        "construct at file:line:col with a hint.  Undecorated functions are checked as if "
        "every parameter were differentiated.  The module is imported; no function is called.",
    )
    check.add_argument("src", nargs="+", metavar="FILE|DIR|FILE::func")
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


def _check_function(
    fn: Callable[..., Any], wrt: list[str], has_aux: bool, label: str
) -> list[Any] | None:
    """Every finding of the generator on ``fn`` (no user code runs), or None on an internal
    error."""
    try:
        generate(fn, list(wrt), {}, has_aux)
    except SrcgradError as err:
        return list(err.errors)
    except Exception as exc:  # noqa: BLE001
        report_internal(f"{label}: {type(exc).__name__}: {exc}", exc)
        return None
    return []


def _override_wrt(wrt_override: Any, params: list[str], label: str) -> list[str] | None:
    """--wrt's names and positions as parameter names of this function; None (and a note)
    when one does not exist."""
    items = wrt_override if isinstance(wrt_override, tuple) else (wrt_override,)
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


def _what_to_check(
    obj: Any, wrt_override: Any, label: str
) -> tuple[Any, list[str], bool] | None:
    """(function, wrt, has_aux) to check ``obj`` with, or None (and a note) to skip it."""
    if isinstance(obj, GradFunction):
        fn = obj.forward
        wrt = list(obj.wrt) if wrt_override is None else None
        has_aux = bool(obj._has_aux)
    else:
        fn = inspect.unwrap(obj) if callable(obj) else obj
        wrt, has_aux = None, False
    if not inspect.isfunction(fn):
        Out.info(f"skipped {label}: not a Python function")
        return None
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    if wrt is None:
        if wrt_override is None:
            wrt = params  # undecorated: as if every parameter were differentiated
        else:
            wrt = _override_wrt(wrt_override, params, label)
            if wrt is None:
                return None
    if not wrt and not (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)):
        Out.info(f"skipped {label}: no parameters to differentiate")
        return None
    return fn, wrt, has_aux


def _check_file(f: Path, func: str | None, wrt_override: Any, tally: _Tally) -> None:
    """Check the functions of one file (or the one named), printing findings into ``tally``."""
    tree = parse_file(f)
    if tree is None:
        Out.err(f"error: cannot parse {display(f)}")
        tally.status = EXIT_INTERNAL
        return
    names = [func] if func else [n.name for n in module_functions(tree)]
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
        what = _what_to_check(obj, wrt_override, label)
        if what is None:
            continue
        tally.functions += 1
        findings = _check_function(*what, label)
        if findings is None:
            tally.status = EXIT_INTERNAL
            continue
        if findings:
            tally.bad += 1
            tally.findings += len(findings)
            for e in findings:
                print(e.line() if isinstance(e, SrcgradError) else str(e))
        elif Out.verbose:
            Out.info(f"ok {label}")


def run(ns: argparse.Namespace) -> int:
    if getattr(ns, "grad", False):
        if len(ns.src) != 1 or "::" not in ns.src[0]:
            raise UsageError("check --grad takes one FILE::func")
        ns.target = ns.src[0]
        return gradcheck.run(ns)
    wrt_override = parse_wrt(ns.wrt)
    tally = _Tally()
    for spec in ns.src:
        path, func = split_spec(spec)
        if not path.exists():
            raise UsageError(f"no such file or directory: {path}")
        for f in iter_py(path):
            _check_file(f, func, wrt_override, tally)
    if tally.findings:
        Out.info(
            f"Oh no! {plural(tally.findings, 'problem')} in {tally.bad} of "
            f"{plural(tally.functions, 'function')}."
        )
        return max(tally.status, EXIT_FINDINGS)
    Out.info(f"All done! {plural(tally.functions, 'function')} can be differentiated.")
    return tally.status
