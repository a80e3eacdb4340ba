"""Statement-level profiles: where a gradient's time goes, line by line.

:func:`profile_pair` runs srcgrad's emitted ``fwd_<f>``/``bwd_<f>`` and the hand-written
reference with a timer around every statement (loop bodies statement by statement, the loop
header for the whole loop), and returns the mean time per call of each statement.  The timers
add about 0.1 µs per statement executed, so the totals run above the uninstrumented medians;
the profile is for comparing statements, the ratios in RESULTS.md come from
:mod:`benchmarks.harness`.
"""

from __future__ import annotations

import ast
import gc
import inspect
import textwrap
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Line", "instrument", "profile_pair"]


@dataclass(frozen=True)
class Line:
    """One profiled statement: where it is, its text, mean µs per call."""

    where: str  # "fwd", "bwd" or "hand"
    lineno: int
    text: str
    micros: float


def instrument(
    source: str, name: str, globals_: dict[str, Any]
) -> tuple[Callable[..., Any], dict[int, float], list[str]]:
    """Compile ``source`` (one function ``name``) with a timer around every statement.

    Returns the instrumented function, the accumulator (line -> seconds) and the lines.
    """
    text = textwrap.dedent(source)
    tree = ast.parse(text)
    acc: dict[int, float] = defaultdict(float)

    def wrap(body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for st in body:
            if isinstance(st, (ast.For, ast.While, ast.If)):
                st.body = wrap(st.body)
                st.orelse = wrap(st.orelse)
            if isinstance(st, ast.Return) or (
                isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)
            ):
                out.append(st)
                continue
            ln = st.lineno
            out.append(ast.parse(f"_t0_{ln} = _pc()").body[0])
            out.append(st)
            out.append(ast.parse(f"_acc[{ln}] += _pc() - _t0_{ln}").body[0])
        return out

    fdef = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name
    )
    fdef.body = wrap(fdef.body)
    ast.fix_missing_locations(tree)
    ns = dict(globals_)
    ns["_pc"] = time.perf_counter
    ns["_acc"] = acc
    exec(compile(tree, f"<profiled {name}>", "exec"), ns)  # noqa: S102
    return ns[name], acc, text.splitlines()


def _function_source(module_text: str, name: str) -> str:
    mod = ast.parse(module_text)
    node = next(
        n for n in mod.body if isinstance(n, ast.FunctionDef) and n.name == name
    )
    return ast.get_source_segment(module_text, node) or ""


def profile_pair(
    df: Any,
    hand: Callable[..., Any],
    args: tuple[Any, ...],
    calls: int = 100,
    user_globals: dict[str, Any] | None = None,
) -> list[Line]:
    """Per-statement mean times of srcgrad's fwd and bwd and of ``hand``, on ``args``.

    Args:
        df: a called ``srcgrad.value_and_grad`` object (its emitted module is loaded).
        hand: the hand-written value-and-gradient function.
        args: the arguments both take.
        calls: profiled calls (after 3 unprofiled ones).
        user_globals: the differentiated function's module globals, for emitted code that
            reads the user's module-level constants.
    """
    st = df._state
    fname = st.fwd.__name__[len("fwd_") :]
    text = st.text
    ns = {**(user_globals or {}), **st.ns}
    fwd, acc_f, lines_f = instrument(
        _function_source(text, f"fwd_{fname}"), f"fwd_{fname}", ns
    )
    bwd, acc_b, lines_b = instrument(
        _function_source(text, f"bwd_{fname}"), f"bwd_{fname}", ns
    )
    hand_f, acc_h, lines_h = instrument(
        inspect.getsource(hand), hand.__name__, vars(inspect.getmodule(hand))
    )
    from srcgrad.api import _ones_like

    def run() -> None:
        out, res = fwd(*args)
        bwd(res, _ones_like(out))
        hand_f(*args)

    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            run()
        for acc in (acc_f, acc_b, acc_h):
            acc.clear()
        for _ in range(calls):
            run()
    finally:
        if enabled:
            gc.enable()
    out: list[Line] = []
    for where, acc, lines in (
        ("fwd", acc_f, lines_f),
        ("bwd", acc_b, lines_b),
        ("hand", acc_h, lines_h),
    ):
        for ln, total in sorted(acc.items()):
            out.append(Line(where, ln, lines[ln - 1].strip(), total / calls * 1e6))
    return out
