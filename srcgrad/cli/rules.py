"""``srcgrad rules``: list the registered primitives and their rules (or, with --nondiff, the
functions srcgrad treats as non-differentiable)."""

from __future__ import annotations

import argparse
from typing import Any

from srcgrad.cli.exits import EXIT_CLEAN
from srcgrad.cli.output import Out, plural
from srcgrad.rules import registry

_HEAD = ("primitive", "operator", "module", "operands", "nondiff", "domain", "shapes")


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    rules = sub.add_parser(
        "rules",
        parents=[common],
        help="list the registered primitives and their rules",
        description="List every primitive with an adjoint rule: its operator, rule module, "
        "differentiable and non-differentiable parameters, and test domain and shapes.",
    )
    rules.add_argument(
        "--nondiff",
        action="store_true",
        help="list the non-differentiable functions instead",
    )
    rules.set_defaults(func=run)


def _short(x: Any) -> str:
    if x is None:
        return "-"
    if callable(x):
        return getattr(x, "__name__", type(x).__name__)
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        if all(isinstance(v, str) for v in x):
            return ", ".join(x)
        return plural(len(x), "case")
    return str(x)


def _described() -> bool:
    """Print the registry's own description when it has one; False when it has none."""
    describe = getattr(registry, "describe", None)
    if not callable(describe):
        return False
    try:
        text = describe()
    except TypeError:
        text = None
    if isinstance(text, str):
        print(text.rstrip("\n"))
        return True
    if text is not None and not isinstance(text, (bytes, dict)):
        print("\n".join(map(str, text)))
        return True
    return False


def _print_table(rules: list[Any]) -> None:
    rows = [
        (
            r.name,
            r.operator or "-",
            r.module.replace("srcgrad.rules.", ""),
            ", ".join(r.operands) or "-",
            ", ".join(r.nondiff) or "-",
            _short(r.domain),
            _short(list(r.shapes) if isinstance(r.shapes, dict) else r.shapes),
        )
        for r in rules
    ]
    rows = [tuple(c if len(c) <= 40 else c[:39] + "…" for c in row) for row in rows]
    widths = [max(len(row[i]) for row in [_HEAD, *rows]) for i in range(len(_HEAD))]
    for row in [_HEAD, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def run(ns: argparse.Namespace) -> int:
    if not ns.nondiff and _described():
        return EXIT_CLEAN
    if ns.nondiff:
        registry.all_rules()  # loads every rule module
        names = sorted(set(registry.NONDIFF.values()))
        for n in names:
            print(n)
        Out.info(f"{plural(len(names), 'non-differentiable function')}.")
        return EXIT_CLEAN
    rules = registry.all_rules()
    _print_table(rules)
    Out.info(f"{plural(len(rules), 'rule')} registered.")
    return EXIT_CLEAN
