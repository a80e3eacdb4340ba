"""The adjoint variables of a backward pass, and how contributions accumulate into them.

Each forward name that carries a gradient gets one adjoint name ``d_<name>`` (and each leaf of a
container argument one ``d_<param>_<path>``).  While the backward pass is built, ``assigned``
holds the adjoints that currently have a value: the first contribution assigns an adjoint,
later ones rebind it with ``d = d + v`` (never ``+=``: identity rules return the very array
they were given), and an adjoint with no value where one is needed gets a zero fill.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.ir import Block, Normalized
from srcgrad.codegen.templates import parenthesize


class Adjoints:
    """Adjoint names, which of them hold a value, and the runtime helpers the backward calls."""

    def __init__(self, norm: Normalized) -> None:
        self.norm = norm
        self.names = norm.names
        self.xp = self.names.generated("xp")
        self.d_out = self.names.generated("d_out")
        self.adjoints: dict[str, str] = {}  # forward name -> adjoint
        self.assigned: set[str] = set()  # adjoints that hold a value here
        self.helpers: set[str] = set(norm.runtime_imports)
        self.path_adjoints: dict[tuple[str, tuple[Any, ...]], str] = {}
        self.adj_var: dict[str, cst.BaseExpression] = (
            {}
        )  # adjoint -> what it is shaped like
        self.owned: set[str] = set()  # loop accumulators the backward allocated itself
        # names the loops around here bind without a value before them: their zeros are
        # shaped like their value where the forward step pushed it (step_zeros), not like
        # their value after the loop (the last step's, another shape where it changes)
        self.carried_out: set[str] = set()
        # adjoints of values that are lists without being built here (a helper's result
        # passed whole to a rule's sequence operand): they add entry by entry too
        self.list_adjoints: set[str] = set()
        # list -> the zeros its entries' cotangents add into, in a loop that only reads it
        self.list_reads: dict[str, str] = {}
        self._reads: dict[str, cst.BaseExpression] | None = None  # see rooted()

    def adj(self, name: str) -> str:
        """The adjoint of the forward name ``name``."""
        a = self.adjoints.get(name)
        if a is None:
            a = self.adjoints[name] = self.names.fresh("d_" + name.lstrip("_"))
            self.adj_var[a] = cst.Name(name)
        return a

    def path_adj(self, param: str, path: tuple[Any, ...]) -> str:
        """The adjoint of the leaf at ``path`` of the container argument ``param``."""
        key = (param, path)
        a = self.path_adjoints.get(key)
        if a is None:
            parts = [param] + [_ident(p) for p in path]
            a = self.path_adjoints[key] = self.names.fresh("d_" + "_".join(parts))
        return a

    def primal_name(self, adj: str) -> str | None:
        """The forward name whose adjoint ``adj`` is, if it is a plain name."""
        var = self.adj_var.get(adj)
        return var.value if isinstance(var, cst.Name) else None

    def consume(self, targets: list[str]) -> None:
        """After a definition is reversed, its adjoint belongs to an older value (if any)."""
        for t in targets:
            a = self.adjoints.get(t)
            if a is not None:
                self.assigned.discard(a)

    def helper_name(self, name: str) -> str:
        """The emitted module's name for the runtime helper ``name`` (which it then imports)."""
        self.helpers.add(name)
        return self.names.generated(name)

    def helper_call(self, name: str, *args: cst.BaseExpression) -> cst.Call:
        """A call of the runtime helper ``name`` (imported into the emitted module)."""
        self.helpers.add(name)
        return cst.Call(
            func=cst.Name(self.names.generated(name)), args=[cst.Arg(a) for a in args]
        )

    def index_key(self, key: cst.BaseExpression) -> cst.Subscript:
        """``index[key]``: a key the backward computes (a loop's counter), read as a key
        (no gradient flows through it) when the backward is differentiated again."""
        return cst.Subscript(
            cst.Name(self.helper_name("index")),
            [cst.SubscriptElement(cst.Index(key))],
        )

    def contribute(self, block: Block, adj: str, expr: cst.BaseExpression) -> None:
        """Add ``expr`` to the adjoint ``adj``: the first contribution assigns it, later
        ones add with ``+``, except for the adjoint of a list (a list of cotangents), which
        adds entry by entry through ``add_cotangents``: ``+`` would concatenate."""
        var = self.adj_var.get(adj)
        if adj not in self.assigned:
            self.assigned.add(adj)
            value = expr
        elif (
            isinstance(var, cst.Name) and var.value in self.norm.lists
        ) or adj in self.list_adjoints:
            value = self.helper_call("add_cotangents", cst.Name(adj), expr)
        else:
            if isinstance(expr, cst.BinaryOperation) and isinstance(
                expr.operator, (cst.Add, cst.Subtract)
            ):
                expr = parenthesize(expr.with_changes(lpar=[], rpar=[]))
            else:
                expr = parenthesize(expr)
            value = cst.BinaryOperation(
                left=cst.Name(adj), operator=cst.Add(), right=expr
            )
        if getattr(value, "lpar", None) and not isinstance(value, cst.Tuple):
            value = value.with_changes(lpar=[], rpar=[])
        block.stmts.append(
            cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value)
        )

    def contribute_list(self, block: Block, adj: str, expr: cst.BaseExpression) -> None:
        """Add the list of cotangents ``expr`` to the list adjoint ``adj``, entry by entry."""
        if adj not in self.assigned:
            self.assigned.add(adj)
            value: cst.BaseExpression = cst.Call(
                func=cst.Name("list"), args=[cst.Arg(expr)]
            )
        else:
            self.helpers.add("add_list_cotangents")
            value = cst.Call(
                func=cst.Name(self.names.generated("add_list_cotangents")),
                args=[cst.Arg(cst.Name(adj)), cst.Arg(expr)],
            )
        block.stmts.append(
            cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value)
        )

    def rooted(self, expr: cst.BaseExpression) -> cst.BaseExpression:
        """``expr``, a read of a part of a container argument, read from the argument
        itself: a name an earlier read bound (``params_0`` of ``params[0]``) is replaced by
        that read, so a zero fill never names a value that one branch alone bound."""
        if self._reads is None:
            # the reads of argument parts (a leaf: READ; a container part: STATIC),
            # each the one definition of its name
            counts = ir.def_counts(self.norm.stmts)
            self._reads = {
                st.targets[0]: st.expr
                for st in ir.walk_stmts(self.norm.stmts)
                if isinstance(st, ir.Stmt)
                and st.kind in (ir.READ, ir.STATIC)
                and len(st.targets) == 1
                and counts.get(st.targets[0]) == 1
                and isinstance(st.expr, (cst.Subscript, cst.Attribute))
            }
        if isinstance(expr, cst.Name) and expr.value in self._reads:
            return self.rooted(self._reads[expr.value])
        if isinstance(expr, (cst.Subscript, cst.Attribute)):
            return expr.with_changes(value=self.rooted(expr.value))
        return expr

    def zero_fill(self, adj: str, origin: Any) -> Block:
        """A block that sets ``adj`` to zeros shaped like its primal (for a leaf of a
        container argument: read from the argument itself, bound on every path; for a name
        a loop around here alone binds, ``step_zeros`` of its shape and dtype there)."""
        var = self.adj_var[adj]
        helper = "zeros_cotangent"
        if adj in self.path_adjoints.values():
            var = self.rooted(var)
        elif isinstance(var, cst.Name) and var.value in self.carried_out:
            helper = "step_zeros"
        self.helpers.add(helper)
        value = cst.Call(func=cst.Name(self.names.generated(helper)), args=[cst.Arg(var)])
        block = Block(origin, "zeros")
        block.stmts.append(
            cst.Assign(targets=[cst.AssignTarget(cst.Name(adj))], value=value)
        )
        self.assigned.add(adj)
        return block


def nth(name: str, k: int) -> cst.Subscript:
    """``name[k]``."""
    return cst.Subscript(
        value=cst.Name(name),
        slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
    )


def _ident(p: Any) -> str:
    s = str(p)
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in s)
    return out or "k"
