"""``srcgrad gradcheck`` (and ``check --grad``): compare the gradient of FILE::func with
central differences on random inputs and, on a mismatch, name the first wrong rule."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from srcgrad import diagnose
from srcgrad.cli.exits import EXIT_CLEAN, EXIT_FINDINGS, UsageError
from srcgrad.cli.inputs import add_input_arguments, make_args
from srcgrad.cli.output import display
from srcgrad.cli.targets import one_target
from srcgrad.errors import SrcgradError
from srcgrad.testing import check_grad


def add_parser(
    sub: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    gc = sub.add_parser(
        "gradcheck",
        parents=[common],
        help="compare the gradient of FILE::func with central differences on random inputs",
        description="Check the gradient against central differences (float64) on random "
        "inputs.  On a mismatch, check every rule where it ran and name the forward line "
        "whose adjoint is wrong.",
    )
    gc.add_argument("target", metavar="FILE::func")
    gc.add_argument("--wrt", help="parameter names or positions, comma-separated")
    gc.add_argument("--rtol", type=float, default=1e-5)
    gc.add_argument("--atol", type=float, default=1e-6)
    add_input_arguments(gc)
    gc.set_defaults(func=run)


def _max_error(
    df: Any, fn: Callable[..., Any], args: tuple[Any, ...], seed: int
) -> tuple[float, float]:
    """(max absolute, max relative) error of <grad, v> against central differences over a few
    random directions per wrt argument (the best of three steps, as check_grad does)."""
    grads = df(*args)
    grads = grads if isinstance(grads, tuple) and not df._single else (grads,)
    rng = np.random.default_rng(seed + 1)
    worst_abs = worst_rel = 0.0
    for pos, g in zip(df._wrt_pos, grads):
        x = args[pos]
        if not isinstance(x, (np.ndarray, float)):
            continue
        for _ in range(3):
            v = rng.standard_normal(np.shape(x))
            v = float(v) if isinstance(x, float) else v
            analytic = float(np.sum(np.asarray(g, dtype=np.float64) * v))
            best = None
            for eps in (1e-4, 1e-5, 1e-6):
                plus = list(args)
                minus = list(args)
                plus[pos] = x + eps * v
                minus[pos] = x - eps * v
                num = (float(np.sum(fn(*plus))) - float(np.sum(fn(*minus)))) / (2 * eps)
                err = abs(analytic - num)
                rel = err / max(abs(analytic), abs(num), 1e-12)
                if best is None or err < best[0]:
                    best = (err, rel)
            assert best is not None
            worst_abs = max(worst_abs, best[0])
            worst_rel = max(worst_rel, best[1])
    return worst_abs, worst_rel


def _explain_failure(df: Any, args: tuple[Any, ...], max_abs: float, seed: int) -> None:
    """Print where a failing gradient goes wrong: the first non-finite value, else the rules
    that disagree with central differences."""
    if not np.isfinite(max_abs):
        origin = diagnose.find_nonfinite(df, *args)
        if origin is not None:
            print(
                f"  {origin.file}:{origin.line}: {origin.message()}; hint: {origin.hint}"
            )
            return
    mismatches = diagnose.localise(df, *args, seed=seed)
    if mismatches:
        first = mismatches[0]
        print(
            f"  first wrong backward statement: {display(df.path)}:{','.join(map(str, first.backward_lines)) or '?'}"
        )
        for m in mismatches:
            print(f"  {m}")
    else:
        print(
            "  every rule agrees with central differences at the operands it ran on; the "
            "mismatch is in how the emitted code combines them"
        )


def run(ns: argparse.Namespace) -> int:
    t = one_target(ns.target, ns.wrt)
    args = make_args(t.fn, ns)
    if t.has_aux:
        raise UsageError(
            f"{t.label} has has_aux=True; gradcheck needs a scalar-valued function"
        )
    df = t.grad_function()
    label = f"{t.label} w.r.t. ({', '.join(df.wrt)})"
    try:
        with np.errstate(all="ignore"):
            max_abs, max_rel = _max_error(df, t.fn, args, ns.seed)
    except SrcgradError as err:
        print(str(err))
        return EXIT_FINDINGS
    ok = True
    reason = ""
    try:
        with np.errstate(all="ignore"):
            check_grad(t.fn, *args, wrt=t.wrt, rtol=ns.rtol, atol=ns.atol, seed=ns.seed)
    except AssertionError as exc:
        ok = False
        reason = str(exc)
    if ok:
        print(f"PASS {label}: max error {max_abs:.3g} (relative {max_rel:.3g})")
        return EXIT_CLEAN
    print(f"FAIL {label}: max error {max_abs:.3g} (relative {max_rel:.3g})")
    print(f"  {reason}")
    _explain_failure(df, args, max_abs, ns.seed)
    return EXIT_FINDINGS
