"""The argument parser of the ``srcgrad`` command: the top-level options and one subparser per
subcommand, each contributed by its module's ``add_parser``."""

from __future__ import annotations

import argparse

from srcgrad import __version__
from srcgrad.cli import check, clean, gen, gradcheck, rules, show, train

# A subcommand is a module with ``add_parser(subparsers, common)``, which registers its
# subparser and sets ``func`` to the module's ``run(namespace) -> exit code``.  The order here
# is the order ``--help`` lists them in.
SUBCOMMANDS = (gen, show, check, gradcheck, rules, clean, train)


def _add_output_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="say more; show tracebacks of internal errors",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="only errors and the payload",
    )


def build_parser() -> argparse.ArgumentParser:
    # -v/-q are accepted before the subcommand (top) and after it (common); after it they
    # default to SUPPRESS so they do not overwrite what was given before it.
    top = argparse.ArgumentParser(add_help=False)
    common = argparse.ArgumentParser(add_help=False)
    _add_output_options(top, False)
    _add_output_options(common, argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="srcgrad",
        description="Reverse-mode AD by source transformation: generate, inspect and check "
        "readable gradient modules.",
        epilog="Exit codes: 0 clean, 1 findings, 2 usage error, 123 internal error.",
        parents=[top],
    )
    parser.add_argument("--version", action="version", version=f"srcgrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in SUBCOMMANDS:
        command.add_parser(sub, common)
    return parser
