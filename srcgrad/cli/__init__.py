"""The ``srcgrad`` command line (DESIGN §2): ``main`` parses, dispatches to a subcommand and
turns what happened into an exit code.

Subcommands follow black's conventions: messages about files go to stderr, the payload (a
gradient module, a diff, findings, a table) to stdout, and the exit code says what happened:

* 0: clean (nothing to report, nothing stale, the check passed);
* 1: findings (unsupported constructs, stale or missing generated files, a gradient mismatch);
* 2: usage (bad arguments, a file or function that does not exist);
* 123: internal error (a module that fails to import, a bug in srcgrad); the traceback is
  shown with ``--verbose``.

Every subcommand generates through the API (:class:`srcgrad.api.GradFunction` and its cache),
so the files it writes are byte-identical to the ones ``srcgrad.grad`` writes.

The package: ``parser`` (the argument parser, built from each subcommand module's
``add_parser``), one module per subcommand (``gen``, ``show``, ``check``, ``gradcheck``,
``rules``, ``clean``; each has ``add_parser`` and ``run``), and what they share: ``exits``
(exit codes and the exceptions that choose them), ``output`` (messages), ``loading`` (finding
and importing user files), ``targets`` (which functions to generate for, and their cache
entries) and ``inputs`` (random arguments from --shape/--arg).
"""

from __future__ import annotations

import contextlib
import os
import sys

from srcgrad.cli.exits import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    LoadError,
    UsageError,
)
from srcgrad.cli.inputs import make_args
from srcgrad.cli.loading import load_module
from srcgrad.cli.output import Out, report_internal, report_load_failure
from srcgrad.cli.parser import build_parser
from srcgrad.cli.show import (
    highlight as _highlight,
)  # noqa: F401  (tests use this name)
from srcgrad.cli.targets import Target, cache_entry, fresh_text

__all__ = [
    "EXIT_CLEAN",
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_USAGE",
    "LoadError",
    "Target",
    "UsageError",
    "build_parser",
    "cache_entry",
    "fresh_text",
    "load_module",
    "main",
    "make_args",
]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else EXIT_USAGE
    Out.quiet = bool(ns.quiet)
    Out.verbose = bool(ns.verbose)
    try:
        return int(ns.func(ns))
    except UsageError as exc:
        Out.err(f"error: {exc}")
        return EXIT_USAGE
    except LoadError as exc:
        report_load_failure(exc)
        return EXIT_INTERNAL
    except BrokenPipeError:  # the reader went away (srcgrad rules | head): not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLEAN
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as exc:  # noqa: BLE001
        report_internal(f"{type(exc).__name__}: {exc}", exc)
        return EXIT_INTERNAL
