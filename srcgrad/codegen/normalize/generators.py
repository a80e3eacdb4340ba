"""Generator functions called by the differentiated function: ``def unpack_layers(w): ...
yield W, b`` runs to its end where it is called and gives the list of what it yields, so
``for W, b in unpack_layers(w)`` is a loop over a list of tuples built here.  Running a
finite generator at once gives the items a lazy one would; what could tell them apart is
refused: a ``while True`` loop (it may never end), ``yield`` used as a value, ``return`` of a
value, and a caller that writes into an array it passed to the generator while reading it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen.normalize.base import _Bail
from srcgrad.codegen.normalize.syntax import _subscript_written
from srcgrad.errors import SrcgradError, UnsupportedSyntaxError


class Generators:
    """Generator functions run where they are called (a mixin of :class:`Normalizer`)."""

    def generator_source(self, e: cst.CSTNode, src: Any, display: str) -> Any:
        """``src`` of a callee, its tree run at once when it is a generator function."""
        tree = self.run_at_once(e, src.tree, src, display)
        return src if tree is src.tree else dataclasses.replace(src, tree=tree)

    def run_at_once(self, e: cst.CSTNode, fdef: Any, src: Any, display: str) -> Any:
        """``fdef`` itself, or, for a generator function called at ``e``, the function
        that returns its items (refused where running it at once could differ)."""
        if not is_generator(fdef):
            return fdef
        self.refuse_interleaving(e, display)
        return self.eager(e, fdef, src)

    def eager(self, e: cst.CSTNode, fdef: cst.FunctionDef, src: Any) -> cst.FunctionDef:
        """``fdef``, a generator function called at ``e``, as one returning its items."""
        try:
            return eager_generator(fdef, src)
        except SrcgradError as err:
            raise _Bail(err) from None

    def refuse_interleaving(self, e: cst.CSTNode, display: str) -> None:
        """A generator reads its arguments each time it resumes: one the caller writes into
        in place could give a lazy run other items than a run at once, so it is refused.
        """
        written = set(_subscript_written(self.src.tree.body))
        for arg in getattr(e, "args", ()):
            names = [n.value for n in m.findall(arg.value, m.Name())]
            hit = next((n for n in names if n in written), None)
            if hit is not None:
                self.fail(
                    e,
                    f"{hit!r} is passed to the generator {display} and written into in "
                    "place in this function (a generator reads it each time it resumes)",
                    f"pass a copy: {display}({hit}.copy(), ...), or write into a new array",
                    "yield",
                )


def is_generator(fdef: cst.CSTNode) -> bool:
    """Whether ``fdef`` is a generator function (a ``yield`` outside its nested defs)."""
    return isinstance(fdef, cst.FunctionDef) and bool(_own(fdef, m.Yield()))


def _own(fdef: cst.FunctionDef, matcher: Any) -> list[cst.CSTNode]:
    """The nodes under ``fdef``'s body that match, outside nested defs and lambdas."""
    found: list[cst.CSTNode] = []

    class _Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return False
            if m.matches(node, matcher):
                found.append(node)
            return True

    for stmt in fdef.body.body:  # type: ignore[union-attr]
        stmt.visit(_Find())
    return found


class _Eager(cst.CSTTransformer):
    """``yield v`` -> ``<items>.append(v)``, ``yield from vs`` -> ``<items>.extend(vs)``,
    a bare ``return`` -> ``return <items>``; rebuilt nodes map back to the user's."""

    def __init__(self, src: Any, items: str) -> None:
        super().__init__()
        self.src = src
        self.items = items

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return node is self.top
        return True

    def on_leave(self, original: Any, updated: Any) -> Any:
        out = super().on_leave(original, updated)
        if out is not original and isinstance(out, cst.CSTNode):
            self.src.alias(out, original)
        return out

    def leave_Expr(
        self, original: cst.Expr, updated: cst.Expr
    ) -> cst.BaseSmallStatement:
        y = updated.value
        if not isinstance(y, cst.Yield):
            return updated
        value = y.value
        if isinstance(value, cst.From):
            return updated  # a statement line of its own becomes a loop (below)
        call = cst.Call(
            func=cst.Attribute(cst.Name(self.items), cst.Name("append")),
            args=[cst.Arg(value if value is not None else cst.Name("None"))],
        )
        self.src.alias(call, original)
        return cst.Expr(call)

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement:
        """``yield from xs`` on a line of its own: one append per item, as a loop."""
        if not (
            len(updated.body) == 1
            and isinstance(updated.body[0], cst.Expr)
            and isinstance(updated.body[0].value, cst.Yield)
            and isinstance(updated.body[0].value.value, cst.From)
        ):
            return updated
        item = f"{self.items}_item"
        loop = cst.ensure_type(
            cst.parse_statement(f"for {item} in _:\n    {self.items}.append({item})\n"),
            cst.For,
        ).with_changes(iter=updated.body[0].value.value.item)
        self.src.alias_tree(loop, original)
        return loop

    def leave_Return(
        self, original: cst.Return, updated: cst.Return
    ) -> cst.BaseSmallStatement:
        if updated.value is not None:
            return updated  # refused before the rewrite
        return updated.with_changes(
            value=cst.Name(self.items),
            whitespace_after_return=cst.SimpleWhitespace(" "),
        )


def eager_generator(fdef: cst.FunctionDef, src: Any) -> cst.FunctionDef:
    """The generator function ``fdef`` as a function that returns the list of what it
    yields; an :class:`UnsupportedSyntaxError` where running it at once could differ."""
    for node in _own(fdef, m.Return(value=m.DoNotCare())):
        if node.value is not None:  # type: ignore[attr-defined]
            _refuse(
                src,
                node,
                "return of a value in a generator function",
                "end the generator with a bare return (or none); yield the value instead",
            )
    last = fdef.body.body[-1]  # type: ignore[union-attr]
    for node in _own(fdef, m.Return(value=None)):
        if not (isinstance(last, cst.SimpleStatementLine) and node in last.body):
            _refuse(
                src,
                node,
                "return before the end of a generator function",
                "leave its loop with break (and let the function end there)",
            )
    for node in _own(fdef, m.While()):
        test = node.test  # type: ignore[attr-defined]
        if (
            isinstance(test, cst.Name)
            and test.value == "True"
            or (isinstance(test, cst.Integer) and test.value != "0")
        ):
            _refuse(
                src,
                node,
                "a `while True` loop in a generator function called here (srcgrad runs "
                "the generator to its end where it is called, and this one may not end)",
                "loop over a range or a list in the generator, or return a list",
            )
    taken = {n.value for n in m.findall(fdef, m.Name()) if isinstance(n, cst.Name)}
    items = "yielded"
    k = 1
    while items in taken:
        items, k = f"yielded_{k}", k + 1
    rewriter = _Eager(src, items)
    rewriter.top = fdef  # type: ignore[attr-defined]
    new = fdef.visit(rewriter)
    assert isinstance(new, cst.FunctionDef)
    for node in _own(new, m.Yield()):
        _refuse(
            src,
            node,
            "yield used as a value (or yield from sharing a line)",
            "write `yield v` and `yield from vs` as statements of their own",
        )
    start = cst.SimpleStatementLine(
        [cst.Assign([cst.AssignTarget(cst.Name(items))], cst.List([]))]
    )
    end = cst.SimpleStatementLine([cst.Return(cst.Name(items))])
    first = fdef.body.body[0]  # type: ignore[union-attr]
    src.alias_tree(start, first)
    src.alias_tree(end, fdef.body.body[-1])  # type: ignore[union-attr]
    ends = isinstance(last, cst.SimpleStatementLine) and any(
        isinstance(x, cst.Return) for x in last.body
    )
    stmts = [start, *new.body.body] + ([] if ends else [end])  # type: ignore[union-attr]
    body = new.body.with_changes(body=stmts)  # type: ignore[union-attr]
    out = new.with_changes(body=body)
    src.alias(out, fdef)
    src.alias(body, fdef.body)
    return out


def _refuse(src: Any, node: cst.CSTNode, message: str, hint: str) -> None:
    file, line, col = src.where(node)
    raise UnsupportedSyntaxError(
        message, filename=file, lineno=line, col=col, construct="yield", hint=hint
    )
