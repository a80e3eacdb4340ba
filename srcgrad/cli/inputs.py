"""Inputs for running a function from the command line: the --shape/--arg/--seed/--domain
options and the random float64 arguments they describe."""

from __future__ import annotations

import argparse
import ast
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from srcgrad.cli.exits import UsageError


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    """The options that describe a function's inputs (show --residuals, check --grad,
    gradcheck)."""
    p.add_argument(
        "--shape",
        action="append",
        metavar="NAME=3x4",
        help="a random float64 input of that shape (() for 0-d, float for a Python float); repeatable",
    )
    p.add_argument(
        "--arg",
        action="append",
        metavar="NAME=VALUE",
        help="a non-array argument, as a Python literal (e.g. n=5); repeatable",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the random inputs (default 0)"
    )
    p.add_argument(
        "--domain",
        metavar="LO:HI",
        help="draw inputs uniformly from [LO, HI] instead of N(0, 1)",
    )


def _parse_shape(text: str) -> Any:
    text = text.strip()
    if text in ("float", "scalar"):
        return "float"
    if text in ("()", "0d", ""):
        return ()
    try:
        return tuple(
            int(p) for p in text.replace("*", "x").replace(",", "x").split("x") if p
        )
    except ValueError:
        raise UsageError(
            f"bad shape {text!r}: write it like 3x4 (or () or float)"
        ) from None


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        for piece in item.split():
            name, sep, value = piece.partition("=")
            if not sep or not name:
                raise UsageError(f"{what} expects NAME=VALUE, got {piece!r}")
            out[name] = value
    return out


def _domain(text: str | None) -> tuple[float | None, float | None]:
    if not text:
        return None, None
    lo, _sep, hi = text.partition(":")
    try:
        return float(lo), float(hi)
    except ValueError:
        raise UsageError(f"--domain expects LO:HI, got {text!r}") from None


def make_args(fn: Callable[..., Any], ns: argparse.Namespace) -> tuple[Any, ...]:
    """Random float64 inputs of the --shape shapes, --arg literals and defaults, in parameter
    order."""
    shapes = {k: _parse_shape(v) for k, v in _pairs(ns.shape, "--shape").items()}
    literals = {}
    for k, v in _pairs(getattr(ns, "arg", None), "--arg").items():
        try:
            literals[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            raise UsageError(f"--arg {k}={v}: not a Python literal") from None
    lo, hi = _domain(getattr(ns, "domain", None))
    rng = np.random.default_rng(ns.seed)
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    unknown = sorted((set(shapes) | set(literals)) - set(params))
    if unknown:
        raise UsageError(
            f"{fn.__qualname__} has no parameter {', '.join(map(repr, unknown))}"
        )
    sig = inspect.signature(fn)

    def draw(shape: Any) -> Any:
        if lo is None:
            return rng.standard_normal(shape)
        return rng.uniform(lo, hi, size=shape)

    args = []
    for p in params:
        if p in shapes:
            shape = shapes[p]
            args.append(
                float(draw(None))
                if shape == "float"
                else np.asarray(draw(shape), dtype=np.float64)
            )
        elif p in literals:
            args.append(literals[p])
        elif sig.parameters[p].default is not inspect.Parameter.empty:
            args.append(sig.parameters[p].default)
        else:
            raise UsageError(
                f"{fn.__qualname__}: give parameter {p!r} a shape (--shape {p}=3x4) or a value "
                f"(--arg {p}=5)"
            )
    return tuple(args)
