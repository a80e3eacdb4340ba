"""The intermediate forms the stages pass along, and the queries on them.

Forward: a function body becomes a list of :class:`Stmt`, each ``targets = expr`` where
``expr`` is one primitive applied to atoms (names or constant expressions), nested in
:class:`IfNode` and :class:`LoopNode`, with :class:`Phi` joins; ``segment`` groups straight-line
runs into :class:`Segment`.  Each statement keeps its libcst expression for emission and its
:class:`Origin` in the user's file.

Backward: :class:`Backward` holds items in backward order (:class:`Block`, :class:`BSeg`,
:class:`BIf`, :class:`BLoop`), each block a list of libcst statements under the origin of the
forward statement it differentiates.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen.source import Origin
from srcgrad.recompute import name_of
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
    recompute: bool = (
        False  # `# srcgrad: recompute`: the backward recomputes, not keeps
    )


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
    refs: list[Any] = field(
        default_factory=list
    )  # cache.Ref: how each callee is reached
    module_imports: dict[str, str] = field(default_factory=dict)  # module -> alias
    # free arrays and numbers read: emitted expression -> (cache.Ref, the value now)
    free_values: dict[str, Any] = field(default_factory=dict)
    # closure variables of called functions: emitted name -> cache.Ref of the cell
    closure_reads: dict[str, Any] = field(default_factory=dict)
    skipped: int = (
        0  # statements dropped as consequences of findings (check's or normalize's)
    )
    prebind: set[str] = field(default_factory=set)  # bound to None at the top of fwd
    # a module a higher order differentiates: a recursive call is a plain call and its
    # backward calls the callee's recomputing gradient (srcgrad/recompute.py)
    recompute_calls: bool = False


def recomputed_name(st: Stmt, wrt: list[str]) -> str:
    """The function the backward of a recursive call ``st`` (CALLVJP) calls when the
    module is emitted for a higher order: ``vjp_<callee>__<wrt>`` (srcgrad/recompute.py
    binds it), which recomputes the callee's forward and returns the cotangents of ``wrt``.
    """
    return name_of(st.label.removeprefix("call ").rpartition(".")[2], wrt)


class Names:
    """Allocates generated names that never shadow a user name."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)
        self.user = set(taken)
        self.counters: dict[str, int] = {}
        self.fixed: dict[str, str] = {}
        self.made: dict[str, str] = (
            {}
        )  # generated name -> the name it renames ("": a temporary)
        # a rule's local or gathered cotangents -> (the forward target, what it is)
        self.owners: dict[str, tuple[str, str]] = {}

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
        or by a description when it stands for none: messages never show generated names.
        """
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

    def of_target(self, base: str, target: str, what: str) -> str:
        """A fresh name for ``what`` (a rule's local, ``d`` for the cotangents of all of a
        call's operands, ``d_<param>`` for those of one sequence operand) that belongs to
        the statement assigning ``target`` (:mod:`naming` renames it with the target).
        """
        name = self.fresh(base)
        self.owners[name] = (target, what)
        return name

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
            while cand in self.user or (
                cand in self.taken and cand not in self.fixed.values()
            ):
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
    iter: (
        cst.BaseExpression | None
    )  # for: the iterable; while: the test, or None for True
    body: list[Any]
    origin: Origin
    carried: list[Carried]
    stack: str  # the list that holds per-iteration values for the backward pass
    has_break: bool = False
    reversible_range: bool = (
        False  # for over range(...) without break: reversed(range(...))
    )


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


@dataclass
class Segment:
    """A run of forward statements (inside a loop it pushes what its backward reads)."""

    stmts: list[Stmt]
    head: bool = False  # the empty segment at the start of a loop body


# -- queries on the forward items --------------------------------------------------------------


def targets_of(it: Any) -> list[str]:
    """The names a Stmt or Phi defines (an effect's unused result included)."""
    if isinstance(it, Phi):
        return [it.target]
    return list(it.targets)


def bound_names(it: Any) -> list[str]:
    """The names the emitted forward statement of a Stmt or Phi binds (an effect: none)."""
    if isinstance(it, Phi):
        return [it.target]
    if it.kind == EFFECT:
        return []
    return list(it.targets)


def flow_of(it: Any) -> tuple[list[str], list[str]] | None:
    """(targets, operands) of a statement through which a gradient can flow, else None."""
    if isinstance(it, Phi):
        return [it.target], [it.source.value] if isinstance(it.source, cst.Name) else []
    if not isinstance(it, Stmt):
        return None
    if it.kind == APPEND:
        return [it.container], it.operands  # type: ignore[list-item]
    if it.kind == CALLVJP:
        return it.targets[:1], it.operands
    if it.kind in DIFF_KINDS:
        return it.targets, it.operands
    return None


def control_expressions(items: list[Any]):  # noqa: ANN201
    """The tests of every if and the iterables of every loop in a nested item list."""
    for it in items:
        if isinstance(it, IfNode):
            yield it.test
            yield from control_expressions(it.body)
            yield from control_expressions(it.orelse)
        elif isinstance(it, LoopNode):
            yield it.iter
            yield from control_expressions(it.body)


def read_counts(norm: "Normalized") -> dict[str, int]:
    """How often the forward pass reads each name: statements, control, the result."""
    reads: dict[str, int] = {}

    def count(node: Any) -> None:
        if node is None:
            return
        for n in name_nodes(node):
            reads[n.value] = reads.get(n.value, 0) + 1

    for it in walk_stmts(norm.stmts):
        if isinstance(it, Phi):
            count(it.source)
        else:
            count(it.expr)
            count(it.node)
    for node in control_expressions(norm.stmts):
        count(node)
    count(norm.out)
    count(norm.aux)
    return reads


def loops_in(items: list[Any]) -> list[LoopNode]:
    """Every loop in a nested item list, outer ones first."""
    out: list[LoopNode] = []
    for it in items:
        if isinstance(it, LoopNode):
            out.append(it)
            out += loops_in(it.body)
        elif isinstance(it, IfNode):
            out += loops_in(it.body) + loops_in(it.orelse)
    return out


def def_counts(items: list[Any]) -> dict[str, int]:
    """How many statements (and loop heads) define each name in ``items``, nested included."""
    counts: dict[str, int] = {}
    for it in walk_stmts(items):
        for t in targets_of(it):
            counts[t] = counts.get(t, 0) + 1
    for loop in loops_in(items):
        if loop.target:
            counts[loop.target] = counts.get(loop.target, 0) + 1
    return counts


def loop_names(items: list[Any]) -> list[str]:
    """The stacks and loop variables of the loops in ``items`` (nested), in order."""
    out: list[str] = []
    for loop in loops_in(items):
        out += [n for n in (loop.stack, loop.target) if n]
    return out


def forward_names(norm: Normalized) -> set[str]:
    """Every name the emitted forward pass binds: parameters, statements, loop names."""
    names = set(norm.params)
    for it in walk_stmts(norm.stmts):
        names |= set(bound_names(it))
    return names | set(loop_names(norm.stmts))


def ordered_defs(norm: Normalized) -> list[str]:
    """The names of the forward pass in definition order (parameters first, loop stacks and
    variables after every statement)."""
    seen: list[str] = list(norm.params)
    for it in walk_stmts(norm.stmts):
        for t in bound_names(it):
            if t not in seen:
                seen.append(t)
    for n in loop_names(norm.stmts):
        if n not in seen:
            seen.append(n)
    return seen


# -- the backward pass ---------------------------------------------------------------------------


@dataclass
class Block:
    """The backward statements of one forward statement."""

    origin: Origin
    label: str
    stmts: list[cst.BaseSmallStatement] = field(default_factory=list)


@dataclass
class BSeg:
    """The backward of one forward segment."""

    seg: Segment
    blocks: list[Block]


@dataclass
class BIf:
    """The backward of an ``if``: each branch's backward, then the zero fills of the adjoints
    only the other branch assigns."""

    node: IfNode
    body: list[Any]
    orelse: list[Any]
    fills_body: list[Block] = field(default_factory=list)
    fills_orelse: list[Block] = field(default_factory=list)


@dataclass
class BLoop:
    """The backward of a loop: the zero fills before it, and the body's backward."""

    node: LoopNode
    pre: list[Block]
    body: list[Any]


@dataclass
class Backward:
    """The backward pass of a function."""

    blocks: list[Any]  # backward items, in backward order: BSeg, BIf, BLoop, Block
    grads: list[cst.BaseExpression]  # returned by bwd, in wrt order
    adjoints: dict[str, str]  # forward name -> its adjoint's name
    d_out: str  # the output cotangent parameter
    xp: str  # the array namespace
    helpers: set[str]  # runtime helpers the backward may call
    rules_used: dict[str, Rule]


# -- queries on the backward items ---------------------------------------------------------------


def all_blocks(items: list[Any]) -> list[Block]:
    """Every Block in a nested backward item list."""
    out: list[Block] = []
    for it in items:
        if isinstance(it, Block):
            out.append(it)
        elif isinstance(it, BSeg):
            out += it.blocks
        elif isinstance(it, BIf):
            out += (
                all_blocks(it.body)
                + it.fills_body
                + all_blocks(it.orelse)
                + it.fills_orelse
            )
        elif isinstance(it, BLoop):
            out += it.pre + all_blocks(it.body)
    return out


def has_code(items: list[Any]) -> bool:
    """Whether any block under ``items`` still holds a statement."""
    return any(b.stmts for b in all_blocks(items))


def calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """Every call under ``node``, nested ones included."""
    out: list[cst.Call] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Call):
            out.append(n)
        stack += list(n.children)
    return out


def step_slice(expr: Any, target: str | None) -> str | None:
    """``xs`` for ``xs[t]`` (``t`` the loop variable ``target``), else None."""
    if (
        target is not None
        and isinstance(expr, cst.Subscript)
        and isinstance(expr.value, cst.Name)
        and len(expr.slice) == 1
        and isinstance(expr.slice[0].slice, cst.Index)
        and isinstance(expr.slice[0].slice.value, cst.Name)
        and expr.slice[0].slice.value.value == target
    ):
        return expr.value.value
    return None


def names_in(node: cst.CSTNode) -> set[str]:
    """Names read under ``node``: not attribute names nor keyword names (a plain walk)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            names.add(n.value)
        elif isinstance(n, (cst.Attribute, cst.Arg)):
            stack.append(n.value)
        else:
            stack.extend(n.children)
    return names


def name_nodes(node: cst.CSTNode) -> list[cst.Name]:
    """Every Name node under ``node``, attribute and keyword names included (a plain walk:
    libcst matchers are slow here)."""
    out: list[cst.Name] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n)
        else:
            stack.extend(n.children)
    return out


def assigned_names(st: cst.BaseSmallStatement) -> list[str]:
    """The names a backward statement assigns."""
    out: list[str] = []
    if isinstance(st, cst.Assign):
        for t in st.targets:
            for n in m.findall(t.target, m.Name()):
                out.append(cst.ensure_type(n, cst.Name).value)
    return out


_READS: dict[int, tuple[Any, frozenset[str]]] = {}


def read_names(st: cst.BaseSmallStatement) -> set[str]:
    """Names a backward statement reads (memoised per node: nodes are immutable)."""
    hit = _READS.get(id(st))
    if hit is None or hit[0] is not st:
        if len(_READS) > 20000:
            _READS.clear()
        hit = _READS[id(st)] = (
            st,
            frozenset(names_in(st.value if isinstance(st, cst.Assign) else st)),
        )
    return set(hit[1])


def block_reads(items: list[Any]) -> set[str]:
    """Names the statements of every block under ``items`` read."""
    out: set[str] = set()
    for b in all_blocks(items):
        for st in b.stmts:
            out |= read_names(st)
    return out


def control_reads(items: list[Any]) -> set[str]:
    """Names read by the control structure of the backward pass (tests, loop headers)."""
    out: set[str] = set()
    for it in items:
        if isinstance(it, BIf):
            out |= (
                names_in(it.node.test)
                | control_reads(it.body)
                | control_reads(it.orelse)
            )
        elif isinstance(it, BLoop):
            if it.node.iter is not None:
                out |= names_in(it.node.iter)
            out |= control_reads(it.body)
    return out


def backward_reads(bwd: Backward) -> set[str]:
    """Every name the backward pass reads: its statements, its control and its results."""
    out = control_reads(bwd.blocks) | block_reads(bwd.blocks)
    for g in bwd.grads:
        out |= names_in(g)
    return out
