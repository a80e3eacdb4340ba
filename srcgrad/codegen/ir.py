"""The normal form the later stages work on.

A function body becomes a list of :class:`Stmt`, each ``targets = expr`` where ``expr`` is one
primitive applied to atoms (names or constant expressions).  Each statement keeps its libcst
expression for emission and its :class:`Origin` in the user's file.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from srcgrad.codegen.source import Origin
from srcgrad.rules.registry import Rule

# Statement kinds.
PRIM = "prim"  # a primitive with an adjoint rule
READ = "read"  # a constant-key read from a container argument (dict, list, tuple, NamedTuple)
COPY = "copy"  # a = b
NONDIFF = "nondiff"  # result carries no gradient (argmax, comparisons, ...)
STATIC = "static"  # constant expression (shapes, literals, config)
EFFECT = "effect"  # print / assert / raise: kept in the forward pass as written
STOP = "stop"  # stop_gradient(x)
APPEND = "append"  # lst.append(v) on a list built in the function
LISTGET = "listget"  # x = lst[i] on a list built in the function
LISTFROM = "listfrom"  # items = list(arg) for a list/tuple argument iterated over
LISTNEW = "listnew"  # lst = [a, b] for a list that later grows
CALLVJP = "callvjp"  # r, r_pullback = call_vjp(f, wrt, *args): a recursive call

DIFF_KINDS = (PRIM, READ, COPY, LISTGET, LISTFROM, LISTNEW, CALLVJP)


@dataclass
class Stmt:
    """One normal-form statement ``targets = expr``."""

    kind: str
    targets: list[str]
    expr: cst.BaseExpression | None
    origin: Origin
    rule: Rule | None = None
    bound: dict[str, Any] = field(default_factory=dict)  # rule param -> cst expression
    operands: list[str] = field(default_factory=list)  # names the adjoint may flow to
    label: str = ""  # rule name for the line table
    read: tuple[str, tuple[Any, ...]] | None = None  # (container param, key path)
    node: cst.BaseSmallStatement | None = None  # EFFECT: the statement as written
    target_node: cst.BaseExpression | None = None  # STATIC tuple unpacking target
    container: str | None = None  # APPEND / LISTGET: the list
    recompute: bool = False  # `# srcgrad: recompute`: the backward recomputes, not keeps

@dataclass
class Normalized:
    """A function in normal form."""

    name: str
    qualname: str
    params: list[str]
    stmts: list[Stmt]
    out: cst.BaseExpression  # a Name, or a constant expression
    aux: cst.BaseExpression | None
    wrt: list[str]
    names: "Names"
    containers: dict[str, Any]  # param -> skeleton, for container arguments
    src: Any  # FunctionSource
    runtime_imports: set[str] = field(default_factory=set)
    lists: set[str] = field(default_factory=set)  # lists built with append
    callees: list[Any] = field(default_factory=list)  # inlined user functions
    refs: list[Any] = field(default_factory=list)  # cache.Ref: how each callee is reached
    module_imports: dict[str, str] = field(default_factory=dict)  # module -> alias
    skipped: int = 0  # statements dropped as consequences of findings (check's or normalize's)
    prebind: set[str] = field(default_factory=set)  # bound to None at the top of fwd


class Names:
    """Allocates generated names that never shadow a user name."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        self.user = set(taken)
        self.counters: dict[str, int] = {}
        self.fixed: dict[str, str] = {}
        self.made: dict[str, str] = {}  # generated name -> the name it renames ("": a temporary)

    def user_name(self, name: str) -> str | None:
        """The user's name that the generated ``name`` renames (``y_2`` -> ``y``); ``name``
        itself when it was not generated; None for a temporary."""
        base = name
        while base in self.made and self.made[base]:
            base = self.made[base]
        if base in self.made or base.startswith("_") or not base:
            return None
        return base

    def user_text(self, text: str) -> str:
        """``text`` with every generated name replaced by the user's name it stands for,
        or by a description when it stands for none: messages never show generated names."""
        if not self.made or not text:
            return text

        def repl(mt: Any) -> str:
            word = mt.group(2)
            if word not in self.made:
                return mt.group(0)
            user = self.user_name(word)
            if user is None:
                return "an intermediate value"
            return f"{mt.group(1)}{user}{mt.group(3)}"

        return re.sub(r"('?)\b([A-Za-z_][A-Za-z_0-9]*)\b('?)", repl, text)

    def fresh(self, base: str) -> str:
        """``base`` if free, else ``base`` with a numeric suffix."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        k = self.counters.get(base, 0)
        while True:
            k += 1
            cand = f"{base}_{k}" if not base.endswith("_") else f"{base}{k}"
            if cand not in self.taken:
                self.counters[base] = k
                self.taken.add(cand)
                self.made[cand] = base
                return cand

    def temp(self, hint: str) -> str:
        """An ANF temporary ``_<hint><k>``: ``_h1``, ``_h2`` belong to the line assigning h."""
        base = f"_{hint.lstrip('_')}"
        k = self.counters.get(base, 0)
        while True:
            k += 1
            cand = f"{base}{k}"
            if cand not in self.taken:
                self.counters[base] = k
                self.taken.add(cand)
                self.made[cand] = ""
                return cand

    def generated(self, name: str) -> str:
        """A fixed generated name (``xp``, ``res``, ``d_out``), suffixed if the user has it."""
        if name not in self.fixed:
            cand = name
            while cand in self.user or (cand in self.taken and cand not in self.fixed.values()):
                cand += "_"
            self.taken.add(cand)
            self.fixed[name] = cand
            if cand != name:
                self.made[cand] = ""
        return self.fixed[name]


@dataclass
class IfNode:
    """``if test: body else: orelse``; a static test stays a plain ``if`` on both sides."""

    test: cst.BaseExpression
    body: list[Any]
    orelse: list[Any]
    origin: Origin
    static: bool = False
    falls: tuple[bool, bool] = (True, True)  # can each branch fall through?


@dataclass
class Carried:
    """A loop-carried name: ``name`` holds its value across iterations.

    ``before`` is True when the name had a value before the loop (its value at the start of
    an iteration is then read by the body); otherwise it only carries the last value out.
    """

    name: str
    before: bool


@dataclass
class LoopNode:
    """A ``for`` or ``while`` loop; the body is straight-line SSA per iteration, and carried
    names are rebound at the end of each iteration (and before each ``break``)."""

    kind: str  # "for" | "while"
    target: str | None  # for: the loop variable (emitted name)
    iter: cst.BaseExpression | None  # for: the iterable; while: the test, or None for True
    body: list[Any]
    origin: Origin
    carried: list[Carried]
    stack: str  # the list that holds per-iteration values for the backward pass
    has_break: bool = False
    reversible_range: bool = False  # for over range(...) without break: reversed(range(...))


@dataclass
class BreakNode:
    origin: Origin


@dataclass
class Phi:
    """``target = source`` where a value joins (end of a branch or of a loop iteration)."""

    target: str
    source: cst.BaseExpression
    origin: Origin
    static: bool = False


def walk_stmts(items: list[Any]):  # noqa: ANN201
    """Every Stmt and Phi in a nested item list."""
    for it in items:
        if isinstance(it, IfNode):
            yield from walk_stmts(it.body)
            yield from walk_stmts(it.orelse)
        elif isinstance(it, LoopNode):
            yield from walk_stmts(it.body)
        elif isinstance(it, (Stmt, Phi)):
            yield it
        elif isinstance(getattr(it, "stmts", None), list):  # a Segment
            yield from walk_stmts(it.stmts)
