"""Gradient diagnostics that read the emitted module (DESIGN §3), without changing it.

* :func:`residual_report`: what the forward pass keeps for the backward pass (the fields of
  ``Residuals_<f>``), with the forward line each comes from and its shape and bytes.
* :func:`localise`: when a gradient disagrees with central differences, check the adjoint rule
  of every primitive the forward pass ran, at the operand values it actually ran on, and name
  the forward line and rule whose local VJP is wrong.
* :func:`find_nonfinite` / :func:`call_checked`: NaN/Inf provenance.  Run the emitted forward
  and backward pass statement by statement and name the forward line and primitive that first
  produced a non-finite value, with a stable rewrite where one is known.

All three work on the emitted ``fwd_<f>`` / ``bwd_<f>`` and its ``SRCGRAD_LINES`` table (emitted
line -> (user file, user line, rule)); they step through it with :func:`sys.settrace`, so they
are slow and meant for diagnosis, never for the fast path.  None of them imports libcst or black.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from srcgrad import lengths, tree
from srcgrad.backend import namespace
from srcgrad.cache import parse_header
from srcgrad.errors import NonFiniteError
from srcgrad.finite_differences import check_adjoint, compare_gradient
from srcgrad.rules import registry

__all__ = [
    "NonFiniteError",
    "NonFiniteOrigin",
    "ResidualField",
    "RuleMismatch",
    "call_checked",
    "check",
    "find_nonfinite",
    "format_residuals",
    "localise",
    "raise_if_nonfinite",
    "residual_report",
]


# --------------------------------------------------------------------------- the emitted module


def _loaded(
    df: Any, args: tuple[Any, ...], generic: bool = False
) -> tuple[tuple[Any, ...], Any]:
    """Bind ``args`` and make sure the emitted module for them is loaded: (args, state).

    ``generic``: the code not specialised to the arguments, whose forward pass writes no
    temporary in place, so each statement can be replayed on the operands it saw.
    """
    if generic:
        df = df._generic()
    return df._run_forward(tuple(args), {})


@dataclass
class _Emitted:
    """The parsed emitted module: its fwd/bwd function nodes and statement spans."""

    text: str
    tree: ast.Module
    fwd: ast.FunctionDef
    bwd: ast.FunctionDef
    lines: dict[int, tuple[str, int, str]]

    @classmethod
    def of(cls, st: Any) -> _Emitted:
        tree = ast.parse(st.text)
        funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        return cls(
            st.text, tree, funcs[st.fwd.__name__], funcs[st.bwd.__name__], st.lines
        )


def _stmt_spans(fn: ast.FunctionDef) -> dict[int, ast.stmt]:
    """emitted line -> the statement it belongs to (a compound statement: its header only)."""
    out: dict[int, ast.stmt] = {}

    def visit(body: list[ast.stmt]) -> None:
        for s in body:
            children = [getattr(s, f, None) for f in ("body", "orelse", "finalbody")]
            children = [c for c in children if isinstance(c, list) and c]
            if children:  # compound: the header runs up to the first child statement
                first = min(c[0].lineno for c in children)
                for ln in range(s.lineno, max(first, s.lineno + 1)):
                    out.setdefault(ln, s)
                for c in children:
                    visit(c)
            else:
                for ln in range(s.lineno, (s.end_lineno or s.lineno) + 1):
                    out[ln] = s

    visit(fn.body)
    return out


def _targets(s: ast.stmt) -> list[str]:
    """The plain names a statement assigns."""
    if isinstance(s, ast.Assign):
        nodes: list[ast.AST] = list(s.targets)
    elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
        nodes = [s.target]
    else:
        return []
    names = []
    for n in nodes:
        for sub in ast.walk(n):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.append(sub.id)
    return names


def _reads(s: ast.stmt) -> list[str]:
    if isinstance(s, (ast.For, ast.While, ast.If)):
        node: ast.AST = s.iter if isinstance(s, ast.For) else s.test
    else:
        node = s
    return [
        n.id
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    ]


class _Tracer:
    """Call ``done(stmt, before_locals, after_locals)`` after each statement of the frames
    running ``code``."""

    def __init__(
        self,
        code: Any,
        spans: dict[int, ast.stmt],
        done: Callable[[ast.stmt, dict[str, Any], dict[str, Any]], None],
    ) -> None:
        self.code = code
        self.spans = spans
        self.done = done
        self.current: ast.stmt | None = None
        self.before: dict[str, Any] = {}

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code is self.code:
            self.current = None
            return self._local
        return None

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            s = self.spans.get(frame.f_lineno)
            if s is not None and s is not self.current:
                self._finish(frame)
                self.current = s
                self.before = dict(frame.f_locals)
        elif event == "return":
            self._finish(frame)
            self.current = None
        return self._local

    def _finish(self, frame: Any) -> None:
        if self.current is not None:
            self.done(self.current, self.before, dict(frame.f_locals))

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        old = sys.gettrace()
        sys.settrace(self._global)
        try:
            return fn(*args)
        finally:
            sys.settrace(old)


# --------------------------------------------------------------------------- residual report


@dataclass
class ResidualField:
    """One field of ``Residuals_<f>``."""

    name: str  # the field name
    var: str  # the emitted variable it is built from
    kind: (
        str  # "input" (an argument, kept by reference), "saved", "shape" (its shape and
    )
    # dtype only) or "stack" (one per iteration)
    origin: str  # "file:line" of the forward line that computes it
    rule: str  # the primitive (or "parameter", "push", ...)
    shape: str
    dtype: str
    nbytes: int  # the memory it keeps alive that no argument and no earlier field holds
    shared_with: str | None = None  # the argument or earlier field holding its memory


def _buffers(v: Any) -> list[Any]:
    """The arrays owning the memory of ``v``'s arrays (a view's base), containers included."""
    if isinstance(v, np.ndarray):
        while isinstance(v.base, np.ndarray):
            v = v.base
        return [v]
    if isinstance(v, (list, tuple)) and not hasattr(v, "_fields"):
        return [b for x in v for b in _buffers(x)]
    if tree.is_node(v):
        return [b for x in tree.leaves(v) for b in _buffers(x)]
    return []


def _nbytes(v: Any) -> int:
    if isinstance(v, np.ndarray):
        return int(v.nbytes)
    if isinstance(v, np.generic):
        return int(v.itemsize)
    if isinstance(v, (bool, int, float, complex)):
        return 8 if not isinstance(v, complex) else 16
    if tree.is_node(v):
        return sum(_nbytes(x) for x in tree.leaves(v))
    if v is None:
        return 0
    nb = getattr(v, "nbytes", None)
    return int(nb) if isinstance(nb, (int, np.integer)) else sys.getsizeof(v)


def _describe(v: Any) -> tuple[str, str]:
    """(shape, dtype) text of a residual value."""
    if isinstance(v, (np.ndarray, np.generic)) or (
        hasattr(v, "shape") and hasattr(v, "dtype")
    ):
        return "x".join(map(str, v.shape)) or "()", str(v.dtype)
    if isinstance(v, (bool, int, float, complex)):
        return "scalar", type(v).__name__
    if v is None:
        return "-", "None"
    if isinstance(v, (list, tuple)):
        if not v:
            return f"{type(v).__name__}[0]", "-"
        first_shape, first_dtype = _describe(v[0])
        if isinstance(v[0], (list, tuple)) and first_shape.endswith("mixed"):
            return f"{len(v)} x ({len(v[0])} values)", first_dtype
        kinds = {_describe(x) for x in v[:50]}
        if len(kinds) == 1:
            inner = (
                first_shape
                if not isinstance(v[0], (list, tuple))
                else f"({first_shape})"
            )
            return f"{len(v)} x {inner}", first_dtype
        dtypes = {d for _, d in kinds}
        return f"{len(v)} x mixed", dtypes.pop() if len(dtypes) == 1 else "mixed"
    return type(v).__name__, "-"


def residual_report(df: Any, *args: Any) -> list[ResidualField]:
    """Run the forward pass on ``args`` and describe every field of its ``Residuals_<f>``."""
    args, st = _loaded(df, args)
    with np.errstate(all="ignore"):
        st, (_out, res) = lengths.forward(df, st, args)
    em = _Emitted.of(st)
    fields = list(getattr(res, "_fields", ())) or [f"res{i}" for i in range(len(res))]
    ret = next(
        (
            n
            for n in ast.walk(em.fwd)
            if isinstance(n, ast.Return) and n.value is not None
        ),
        None,
    )
    vars_: list[str] = []
    if (
        ret is not None
        and isinstance(ret.value, ast.Tuple)
        and len(ret.value.elts) == 2
    ):
        call = ret.value.elts[1]
        if isinstance(call, ast.Call):
            vars_ = [ast.unparse(a) for a in call.args]
    if len(vars_) != len(fields):
        vars_ = list(fields)
    assigned: dict[str, list[int]] = {}
    pushed: dict[str, list[int]] = {}
    for node in ast.walk(em.fwd):
        if isinstance(node, ast.stmt):
            for t in _targets(node):
                assigned.setdefault(t, []).append(node.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
        ):
            pushed.setdefault(node.func.value.id, []).append(node.lineno)
    params = [a.arg for a in em.fwd.args.args + em.fwd.args.kwonlyargs]
    fn = df.forward
    def_file = _display(fn.__code__.co_filename)
    def_line = _def_line(fn)
    out = []
    owner = {id(b): f"argument {p}" for p, a in zip(params, args) for b in _buffers(a)}
    for name, var, value in zip(fields, vars_, res):
        shape, dtype = _describe(value)
        wrapped = re.fullmatch(r"shape_dtype_*\((\w+)\)", var)
        shape_only = wrapped is not None
        if wrapped is not None:
            var = wrapped.group(1)
        if var in pushed:
            line = max(pushed[var])
            kind = "stack"
        elif var in params and var not in assigned:
            line = None
            kind = "input"
        else:
            line = max(assigned.get(var, [0])) or None
            kind = "saved"
        if line is None:
            origin, rule = f"{def_file}:{def_line}", "parameter"
        else:
            file, uline, rule = em.lines.get(line, (def_file, 0, "?"))
            origin = f"{file}:{uline}"
        if shape_only:
            kind = "shape"
        nbytes, shared = _new_bytes(name, value, kind, owner)
        out.append(
            ResidualField(name, var, kind, origin, rule, shape, dtype, nbytes, shared)
        )
    return out


def _new_bytes(
    name: str, value: Any, kind: str, owner: dict[int, str]
) -> tuple[int, str | None]:
    """(bytes, shared_with) of a residual field: the memory of the buffers it keeps alive
    that ``owner`` (id(buffer) -> the argument or earlier field holding it) lacks, which
    it then records; the holder of its first buffer when it keeps nothing new alive."""
    buffers = _buffers(value)
    if kind == "input" or not buffers:
        return _nbytes(value), None
    new = {id(b): b for b in buffers if id(b) not in owner}
    for k in new:
        owner[k] = name
    if not new:
        return 0, owner[id(buffers[0])]
    return sum(int(b.nbytes) for b in new.values()), None


def _def_line(fn: Callable[..., Any]) -> int:
    """The line of ``def`` (``co_firstlineno`` is the first decorator's)."""
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return fn.__code__.co_firstlineno
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith(("def ", "async def ")):
            return start + i
    return start


def _display(path: str) -> str:
    try:
        rel = Path(path).resolve().relative_to(Path.cwd().resolve())
        return str(rel)
    except ValueError:
        return path


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"  # pragma: no cover


def format_residuals(fields: list[ResidualField]) -> str:
    """A table of the residual fields plus totals."""
    head = ("field", "kind", "forward line", "rule", "shape", "dtype", "bytes", "")
    rows = [
        (
            f.name,
            f.kind,
            f.origin,
            f.rule,
            f.shape,
            f.dtype,
            str(f.nbytes),
            f"(memory of {f.shared_with})" if f.shared_with else "",
        )
        for f in fields
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    right = {6}

    def fmt(r: tuple[str, ...]) -> str:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        ]
        return "  ".join(cells).rstrip()

    lines = [fmt(head), fmt(tuple("-" * w for w in widths))]
    lines += [fmt(r) for r in rows]
    total = sum(f.nbytes for f in fields)
    kept = sum(f.nbytes for f in fields if f.kind != "input")
    lines.append(
        f"total: {total} bytes ({_human(total)}) in {len(fields)} fields; "
        f"{kept} bytes ({_human(kept)}) computed by the forward pass, "
        f"{total - kept} bytes are arguments kept by reference"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- localised check


@dataclass
class RuleMismatch:
    """A primitive whose adjoint rule disagrees with central differences where it ran."""

    file: str
    line: int
    rule: str
    emitted_line: int  # the forward statement in the emitted module
    backward_lines: list[int]  # the emitted backward statements of this rule and line
    error: float | None  # |<cotangent, v> - numeric| of the first failing direction
    message: str

    def __str__(self) -> str:
        err = "" if self.error is None else f"; max error {self.error:.3g}"
        bwd = ",".join(map(str, self.backward_lines)) or "?"
        return (
            f"{self.file}:{self.line}: the adjoint of {self.rule} is wrong here{err} "
            f"(emitted backward line {bwd}): {self.message}"
        )


@dataclass
class _Site:
    stmt: ast.stmt
    rule: Any
    inputs: list[Any]
    params: dict[str, Any]


_ERR_RE = re.compile(r"= (\S+) but .*?= (\S+) \(eps")


def _operands(
    value: ast.expr, env: dict[str, Any], glb: Any
) -> tuple[list[Any], dict[str, Any]] | None:
    def ev(node: ast.expr) -> Any:
        return eval(
            compile(ast.Expression(node), "<srcgrad operand>", "eval"), glb, env
        )

    if isinstance(value, ast.BinOp):
        return [ev(value.left), ev(value.right)], {}
    if isinstance(value, ast.UnaryOp):
        return [ev(value.operand)], {}
    if isinstance(value, ast.Subscript):
        return [ev(value.value), ev(value.slice)], {}
    if isinstance(value, ast.Call):
        inputs: list[Any] = []
        if isinstance(
            value.func, ast.Attribute
        ):  # a method: a.sum(axis=1) is np.sum(a, ...)
            receiver = ev(value.func.value)
            if isinstance(getattr(receiver, "shape", None), tuple):  # an array, not xp
                inputs.append(receiver)
        for a in value.args:
            if isinstance(a, ast.Starred):
                inputs.extend(ev(a.value))
            else:
                inputs.append(ev(a))
        params = {k.arg: ev(k.value) for k in value.keywords if k.arg is not None}
        return inputs, params
    return None


def localise(
    df: Any,
    *args: Any,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    per_line: int = 2,
    seed: int = 0,
) -> list[RuleMismatch]:
    """Check the adjoint rule of each primitive the forward pass ran, where it ran.

    Returns the mismatches in the order the backward pass meets them (its first entry is the
    first emitted backward statement that is wrong).  Each forward statement is checked at its
    first ``per_line`` executions (loops run it many times).
    """
    args, st = _loaded(df, args, generic=True)
    em = _Emitted.of(st)
    sites = _primitive_sites(em, st, args, per_line)
    bwd_lines: dict[tuple[str, int, str], list[int]] = {}
    bwd_start, bwd_end = em.bwd.lineno, em.bwd.end_lineno or em.bwd.lineno
    for ln, origin in sorted(em.lines.items()):
        if bwd_start <= ln <= bwd_end:
            bwd_lines.setdefault(tuple(origin), []).append(ln)  # type: ignore[arg-type]
    out: list[RuleMismatch] = []
    done_lines: set[int] = set()
    rng = np.random.default_rng(seed)
    for site in sites:
        if site.stmt.lineno in done_lines:
            continue
        msg = _site_mismatch(site, rng, rtol, atol)
        if msg is None:
            continue
        m = _ERR_RE.search(msg)
        error = abs(float(m.group(1)) - float(m.group(2))) if m else None
        file, line, rule = em.lines[site.stmt.lineno]
        done_lines.add(site.stmt.lineno)
        out.append(
            RuleMismatch(
                file,
                line,
                rule,
                site.stmt.lineno,
                bwd_lines.get((file, line, rule), []),
                error,
                msg,
            )
        )
    # the backward pass meets the forward statements in reverse order
    out.sort(key=lambda m: -m.emitted_line)
    return out


def _primitive_sites(em: Any, st: Any, args: Any, per_line: int) -> list[_Site]:
    """The primitive calls the forward pass ran, with their operands, each forward statement
    at its first ``per_line`` executions."""
    spans = _stmt_spans(em.fwd)
    sites: list[_Site] = []
    seen: dict[int, int] = {}
    glb = st.fwd.__globals__

    def done(s: ast.stmt, before: dict[str, Any], _after: dict[str, Any]) -> None:
        if not isinstance(s, ast.Assign) or seen.get(s.lineno, 0) >= per_line:
            return
        origin = em.lines.get(s.lineno)
        rule = registry.lookup_name(origin[2]) if origin else None
        if rule is None:
            return
        try:
            ops = _operands(s.value, before, glb)
        except Exception:  # noqa: BLE001  (not a primitive call we can replay)
            return
        if ops is None:
            return
        seen[s.lineno] = seen.get(s.lineno, 0) + 1
        sites.append(_Site(s, rule, *ops))

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _Tracer(st.fwd.__code__, spans, done).run(st.fwd, *args)
    return sites


def _site_mismatch(site: _Site, rng: Any, rtol: float, atol: float) -> str | None:
    """The rule check's message where the adjoint at ``site`` disagrees with central
    differences; None where it agrees or the operands cannot be replayed."""
    try:
        with np.errstate(all="ignore"):
            check_adjoint(
                site.rule.primitive,
                site.rule.adjoint,
                site.inputs,
                site.params,
                rng,
                rule=site.rule,
                rtol=rtol,
                atol=atol,
            )
    except AssertionError as exc:
        return str(exc)
    except Exception:  # noqa: BLE001  (operands the rule check cannot replay)
        return None
    return None


# --------------------------------------------------------------------------- NaN / Inf provenance


@dataclass
class NonFiniteOrigin:
    """Where a non-finite value first appeared."""

    phase: str  # "forward" or "backward"
    file: str
    line: int
    rule: str
    emitted_line: int
    name: str  # the emitted variable
    kind: str  # "nan", "inf" or "nan and inf"
    hint: str
    masked: list[tuple[str, int, str]] = field(
        default_factory=list
    )  # forward non-finite
    # intermediates that did not reach the output (the np.where trap)

    def message(self) -> str:
        if self.phase == "forward":
            return f"{self.rule} produced {self.kind} in the forward pass"
        return f"the adjoint of {self.rule} produced {self.kind} in the backward pass"


def _nonfinite(v: Any) -> str | None:
    """'nan', 'inf', 'nan and inf' or None."""
    if tree.is_node(v):
        kinds = {k for k in map(_nonfinite, tree.leaves(v)) if k}
        if not kinds:
            return None
        return kinds.pop() if len(kinds) == 1 else "nan and inf"
    try:
        a = np.asarray(v)
    except Exception:  # noqa: BLE001
        return None
    if a.dtype.kind not in "fc":
        return None
    nan = bool(np.isnan(a).any())
    inf = bool(np.isinf(a).any())
    if nan and inf:
        return "nan and inf"
    return "nan" if nan else "inf" if inf else None


_HINTS = {
    "log": "log of 0 (or of a negative number); for log(1 + exp(x)) write np.logaddexp(0, x), "
    "for log(sum(exp(x))) use a log-sum-exp (subtract the max first); otherwise keep the "
    "argument positive, e.g. np.log(np.maximum(x, tiny))",
    "log1p": "log1p of -1; keep the argument above -1",
    "exp": "exp overflowed; for log(1 + exp(x)) write np.logaddexp(0, x), for "
    "log(sum(exp(x))) subtract the max first (log-sum-exp)",
    "sqrt": "the derivative of sqrt is infinite at 0; use np.sqrt(x + eps), or keep 0 out of "
    "the argument with np.where before the sqrt",
    "power": "a fractional power's derivative is infinite at 0; add a small constant to the "
    "base",
    "linalg.norm": "the gradient of a norm is undefined at 0; use np.sqrt(np.sum(x * x) + eps)",
    "arccos": "the derivative of arccos is infinite at -1 and 1; clip the argument to "
    "[-1 + eps, 1 - eps]",
    "arcsin": "the derivative of arcsin is infinite at -1 and 1; clip the argument to "
    "[-1 + eps, 1 - eps]",
    "arctanh": "arctanh is infinite at -1 and 1; clip the argument",
    "divide": "division by zero; keep the denominator away from 0",
    "reciprocal": "division by zero; keep the argument away from 0",
}
_WHERE_HINT = (
    "np.where evaluates both branches: the branch it discards is non-finite at {lines}, and "
    "the backward pass multiplies that by 0, which gives nan; make the discarded branch safe "
    "too: np.where(c, f(np.where(c, x, safe)), other)"
)


def _hint(rule: str, masked: list[tuple[str, int, str]]) -> str:
    if masked:
        lines = ", ".join(f"{f}:{ln} ({r})" for f, ln, r in masked[:3])
        return _WHERE_HINT.format(lines=lines)
    return _HINTS.get(rule, "check the inputs of this primitive where it ran")


def _trace_first(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    node: ast.FunctionDef,
    lines: dict[int, tuple[str, int, str]],
    phase: str,
) -> tuple[Any, list[tuple[ast.stmt, str, str, list[str]]]]:
    """Run ``fn`` statement by statement: (its result, the statements that produced a
    non-finite value as (stmt, name, kind, non-finite forward values it read)).

    Forward: a statement produces a non-finite value when its target is non-finite and
    everything it reads is finite.  Backward: when its target is non-finite, it belongs to a
    rule, and it reads no adjoint that an earlier backward statement made non-finite (forward
    values restored from the residuals may be non-finite: that is the ``np.where`` trap, and
    they are returned with the hit); only the first hit is kept.
    """
    spans = _stmt_spans(node)
    hits: list[tuple[ast.stmt, str, str, list[str]]] = []
    tainted: set[str] = set()

    def done(s: ast.stmt, before: dict[str, Any], after: dict[str, Any]) -> None:
        if phase == "backward" and hits:
            return
        for name in _targets(s):
            if name not in after:
                continue
            kind = _nonfinite(after[name])
            if kind is None:
                if phase == "backward":
                    tainted.discard(name)
                continue
            reads = [
                r
                for r in _reads(s)
                if r in before and _nonfinite(before[r]) is not None
            ]
            if phase == "forward":
                if not reads:
                    hits.append((s, name, kind, []))
                return
            if any(r in tainted for r in reads):
                tainted.add(name)
                return
            origin = lines.get(s.lineno)
            if origin is None or registry.lookup_name(origin[2]) is None:
                return  # a forward value restored from the residuals
            tainted.add(name)
            hits.append((s, name, kind, reads))
            return

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _Tracer(fn.__code__, spans, done).run(fn, *args)
    return result, hits


def find_nonfinite(df: Any, *args: Any, d_out: Any = None) -> NonFiniteOrigin | None:
    """The first forward line whose primitive produced NaN/Inf in the value or the gradient.

    Returns ``None`` when the value and the gradient are finite.
    """
    args, st = _loaded(df, args, generic=True)
    em = _Emitted.of(st)
    (out, res), fwd_hits = _trace_first(st.fwd, args, em.fwd, em.lines, "forward")
    value = out[0] if df._has_aux else out
    made_by: dict[str, tuple[str, int, str]] = {}
    for s, name, _kind, _reads_ in fwd_hits:
        made_by.setdefault(name, em.lines.get(s.lineno, ("?", 0, "?")))
    if _nonfinite(value):
        if not fwd_hits:
            return None
        s, name, kind, _ = fwd_hits[0]
        file, line, rule = em.lines.get(s.lineno, ("?", 0, "?"))
        return NonFiniteOrigin(
            "forward", file, line, rule, s.lineno, name, kind, _hint(rule, [])
        )
    if d_out is None:
        if isinstance(value, (float, int)):
            d_out = np.ones_like(value, dtype=float)
        else:
            d_out = namespace(value).ones_like(value)
    _, bwd_hits = _trace_first(st.bwd, (res, d_out), em.bwd, em.lines, "backward")
    if not bwd_hits:
        return None
    s, name, kind, reads = bwd_hits[0]
    file, line, rule = em.lines.get(s.lineno, ("?", 0, "?"))
    masked = [made_by.get(r, (file, line, rule)) for r in reads]
    return NonFiniteOrigin(
        "backward", file, line, rule, s.lineno, name, kind, _hint(rule, masked), masked
    )


def _error(origin: NonFiniteOrigin, fn: Callable[..., Any]) -> NonFiniteError:
    return NonFiniteError(
        f"{origin.message()} (in {fn.__qualname__})",
        filename=origin.file,
        lineno=origin.line,
        col=1,
        construct=origin.rule,
        hint=origin.hint,
    )


def _finite_result(x: Any) -> bool:
    return all(
        v is None or callable(v) or _nonfinite(v) is None for v in tree.leaves(x)
    )


def raise_if_nonfinite(
    df: Any, saved: tuple[tuple[Any, ...], dict[str, Any]], result: Any
) -> None:
    """The ``debug_nans`` hook: if ``result`` (what ``df(*args, **kwargs)`` returned) holds NaN
    or Inf, replay the call on ``saved`` (a deep copy of ``(args, kwargs)`` taken before it)
    statement by statement and raise :class:`NonFiniteError` naming the forward line and
    primitive that first produced it.  Returns quietly when ``result`` is finite.
    """
    if _finite_result(result):
        return
    a, kw = saved
    bound = df._bind(a, kw) if kw or len(a) != len(df._params) else a
    if df._kind == "vjp":
        with np.errstate(all="ignore"):
            value = df.forward(*copy.deepcopy(bound))
        if df._has_aux:
            value = value[0]
        if _nonfinite(value) is None:
            return
    origin = find_nonfinite(df, *bound)
    if origin is not None:
        raise _error(origin, df.forward)


def call_checked(df: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``df`` like ``df(*args, **kwargs)``; if the value or the gradient holds NaN or Inf,
    replay the call statement by statement and raise :class:`NonFiniteError` naming the forward
    line and primitive that first produced it.  The fast path runs unchanged; only a
    non-finite result pays for the replay (on copies of the arguments taken before the call,
    so random generators replay the same stream).
    """
    saved = copy.deepcopy((args, kwargs))
    result = df(*args, **kwargs)
    raise_if_nonfinite(df, saved, result)
    return result


def _plain_grad(df: Any) -> Callable[..., Any]:
    """``srcgrad.grad`` made from ``df``'s own class: ``srcgrad.grad(f, wrt=w)`` is
    ``GradFunction(f, w)``, and this module sits below the API, so it does not import it.
    """
    return lambda f, wrt: type(df)(f, wrt)


def check(
    df: Any,
    *args: Any,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
) -> None:
    """``df.check(*args)``: compare the gradient with central differences
    (:func:`srcgrad.testing.check_grad`); on a mismatch, raise ``AssertionError`` naming the
    first emitted backward statement whose rule is wrong (:func:`localise`)."""
    try:
        with np.errstate(all="ignore"):
            compare_gradient(
                _plain_grad(df),
                df.forward,
                *args,
                wrt=df.wrt if not df._single else df.wrt[0],
                rtol=rtol,
                atol=atol,
                seed=seed,
            )
    except AssertionError as exc:
        found = localise(df, *args, seed=seed)
        if not found:
            raise AssertionError(
                f"{exc}\nevery rule agrees with central differences at the operands it ran "
                "on; the mismatch is in how the emitted code combines them"
            ) from None
        lines = "\n".join(str(m) for m in found)
        raise AssertionError(f"{exc}\nfirst wrong: {found[0]}\n{lines}") from None


def iter_rules_used(df: Any) -> Iterator[str]:
    """The rules the emitted module of ``df`` inlines (its header's ``# rules:`` line)."""
    parsed = parse_header(df.source)
    if parsed is not None:
        yield from parsed[1]
