#!/usr/bin/env python
"""Count the generic runtime helpers the emitted gradients call, subject by subject.

``unbroadcast`` and ``expand_like`` are what specialised code drops where shapes and dtypes
are known; the other generic helpers counted (``reshape_like``, ``matmul_cotangent_x1``/
``x2``, ``inverse_permutation``, ...) are listed in ``GENERIC``.  The subjects are the
examples, the golden functions (``tests/test_golden.py``) and the model-sized functions of
``benchmarks/shape_models.py``; each is generated specialised to its arguments, into a
temporary cache (nothing is written under ``generated/``).  Prints one row per subject and
the totals; ``--json`` prints the same as JSON.

Usage: python tools/generic_calls.py [--json] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BROADCASTS = ("unbroadcast", "expand_like")
GENERIC = (
    "reshape_like",
    "inverse_permutation",
    "matmul_cotangent_x1",
    "matmul_cotangent_x2",
    "unstack_like",
    "split_concatenated",
    "scatter_to",
    "zeros_cotangent",
)


def helper_calls(source: str) -> dict[str, int]:
    """How often each function named in ``BROADCASTS + GENERIC`` is called in ``source``."""
    counts = dict.fromkeys(BROADCASTS + GENERIC, 0)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in counts:
                counts[node.func.id] += 1
    return counts


def _examples() -> dict[str, Callable[[], tuple[Any, Any, tuple[Any, ...]]]]:
    import numpy as np

    from examples import mlp, newton, regression, rnn

    rng = np.random.default_rng(0)

    def r(*shape: int) -> Any:
        return rng.normal(size=shape)

    def bare(f: Any) -> Any:
        return getattr(f, "forward", f)

    return {
        "examples/mlp": lambda: (
            bare(mlp.mlp_loss),
            (0, 1, 2, 3),
            (r(4, 8), r(8), r(8, 3), r(3), r(5, 4), np.eye(3)[[0, 1, 2, 0, 1]]),
        ),
        "examples/newton": lambda: (bare(newton.sqrt_newton), (0,), (2.0,)),
        "examples/regression": lambda: (
            bare(regression.mse_tanh),
            (0, 1),
            (r(4, 3), r(3), r(8, 4), r(8, 3)),
        ),
        "examples/rnn": lambda: (
            bare(rnn.rnn_loss),
            (0, 1, 2),
            (r(4, 4) / 2, r(3, 4), r(4), r(5, 2, 3), r(2, 4)),
        ),
    }


def _goldens() -> dict[str, Callable[[], tuple[Any, Any, tuple[Any, ...]]]]:
    from tests.test_golden import CASES

    return {
        f"golden/{name}": (lambda c=case: (c[0], c[1], c[2]()))
        for name, case in CASES.items()
    }


def _models() -> dict[str, Callable[[], tuple[Any, Any, tuple[Any, ...]]]]:
    from benchmarks.shape_models import CASES

    return {f"models/{name}": case for name, case in CASES.items()}


def subjects() -> dict[str, Callable[[], tuple[Any, Any, tuple[Any, ...]]]]:
    return {**_examples(), **_goldens(), **_models()}


def measure(only: list[str] | None = None) -> dict[str, dict[str, int]]:
    import srcgrad

    rows: dict[str, dict[str, int]] = {}
    for name, make in subjects().items():
        if only and not any(o in name for o in only):
            continue
        fn, wrt, args = make()
        g = srcgrad.grad(fn, wrt=wrt, has_aux=name == "golden/aux_stats")
        g(*args)
        rows[name] = helper_calls(g.source)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--only", nargs="*", help="subjects whose name holds one of these"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["SRCGRAD_CACHE_DIR"] = cache
        rows = measure(args.only)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    head = f"{'subject':32} {'unbroadcast':>11} {'expand_like':>11} {'other':>6}"
    print(head)
    totals = [0, 0, 0]
    for name, c in rows.items():
        other = sum(c[h] for h in GENERIC)
        vals = [c["unbroadcast"], c["expand_like"], other]
        totals = [t + v for t, v in zip(totals, vals)]
        print(f"{name:32} {vals[0]:>11} {vals[1]:>11} {vals[2]:>6}")
    print(f"{'total':32} {totals[0]:>11} {totals[1]:>11} {totals[2]:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
