"""How the command line talks: messages to stderr (quiet/verbose aware), paths shown relative
to the cwd, counted nouns, and the reports of import failures and internal errors."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from srcgrad.cli.exits import LoadError


class Out:
    """Where messages about files go (stderr); ``main`` sets ``quiet`` and ``verbose``."""

    quiet = False
    verbose = False

    @classmethod
    def err(cls, msg: str) -> None:
        print(msg, file=sys.stderr)

    @classmethod
    def info(cls, msg: str) -> None:
        if not cls.quiet:
            print(msg, file=sys.stderr)


def display(path: Path | str) -> str:
    """``path`` relative to the cwd when it is under it, else as given."""
    p = Path(path)
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return str(p)
    return str(p) if rel.startswith("..") else rel


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def report_load_failure(exc: LoadError) -> None:
    """Say that a user module failed to import (its traceback with --verbose)."""
    Out.err(f"error: {exc}")
    if Out.verbose and exc.__cause__ is not None:
        traceback.print_exception(exc.__cause__, file=sys.stderr)


def report_internal(msg: str, exc: BaseException | None = None) -> None:
    """Say that srcgrad itself failed (its traceback with --verbose)."""
    if Out.verbose and exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    Out.err(
        f"error: internal error: {msg}"
        + ("" if Out.verbose else " (--verbose for the traceback)")
    )
