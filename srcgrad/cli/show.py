"""``srcgrad show``: print the emitted gradient module of FILE::func, or with --residuals
what its forward pass keeps for the backward pass."""

from __future__ import annotations

import argparse
import sys

from srcgrad import diagnose
from srcgrad.cli.exits import EXIT_CLEAN, EXIT_FINDINGS
from srcgrad.cli.inputs import add_input_arguments, make_args
from srcgrad.cli.output import Out, display
from srcgrad.cli.targets import one_target
from srcgrad.errors import SrcgradError


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    show = sub.add_parser(
        "show",
        parents=[common],
        help="print the emitted gradient module of FILE::func",
        description="Print the emitted gradient module (syntax-highlighted on a terminal), or "
        "with --residuals what its forward pass keeps for the backward pass.",
    )
    show.add_argument("target", metavar="FILE::func")
    show.add_argument("--wrt", help="parameter names or positions, comma-separated")
    show.add_argument(
        "--residuals",
        action="store_true",
        help="run the forward pass on random inputs and list the saved residuals",
    )
    add_input_arguments(show)
    show.add_argument(
        "--mode",
        choices=("rev", "fwd"),
        default="rev",
        help="rev: the gradient module (default); fwd: the forward-mode module (srcgrad.jvp)",
    )
    show.set_defaults(func=run)


def highlight(text: str) -> str:
    """``text`` highlighted as Python when stdout is a terminal and pygments is installed."""
    if not sys.stdout.isatty():
        return text
    try:  # optional dependency: plain text without it
        from pygments import highlight as pygmentize
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return pygmentize(text, PythonLexer(), TerminalFormatter())


def run(ns: argparse.Namespace) -> int:
    t = one_target(ns.target, ns.wrt)
    t.mode = ns.mode
    if not ns.residuals:
        if ns.shape or ns.arg:
            Out.info("note: --shape and --arg are used with --residuals")
        try:
            text = t.grad_function().source
        except SrcgradError as err:
            print(str(err))
            return EXIT_FINDINGS
        sys.stdout.write(highlight(text))
        return EXIT_CLEAN
    args = make_args(t.fn, ns)
    df = t.grad_function()
    try:
        fields = diagnose.residual_report(df, *args)
    except SrcgradError as err:
        print(str(err))
        return EXIT_FINDINGS
    given = " ".join(
        f"{p}={'x'.join(map(str, a.shape)) or '()'}"
        for p, a in zip(df._params, args)
        if hasattr(a, "shape")
    )
    print(f"residuals of {t.label} w.r.t. ({', '.join(df.wrt)}) for {given}")
    print(f"(the fields of Residuals_{t.fn.__name__} in {display(df.path)})")
    print(diagnose.format_residuals(fields))
    return EXIT_CLEAN
