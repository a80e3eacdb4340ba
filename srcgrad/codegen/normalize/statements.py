"""Statements: dispatch of simple and compound statements, and the lowering of the small
statements (assignments, augmented assignments, expression statements, assert, raise,
return).
"""

from __future__ import annotations

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.check import _UNSUPPORTED
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _Bail, _LITERALS
from srcgrad.codegen.normalize.syntax import _readable

_AUG_TO_BIN = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
    cst.MatrixMultiplyAssign: cst.MatrixMultiply,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitOrAssign: cst.BitOr,
    cst.BitXorAssign: cst.BitXor,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
}


class Statements:
    """Lowering statements (a mixin of :class:`Normalizer`)."""

    def statement(self, stmt: cst.BaseStatement) -> bool:
        if isinstance(stmt, cst.SimpleStatementLine):
            comment = stmt.trailing_whitespace.comment
            recompute = comment is not None and "srcgrad: recompute" in comment.value
            n_before = len(self.stmts)
            try:
                return self._simple_line(stmt)
            finally:
                if recompute:
                    for st in self.stmts[n_before:]:
                        if (
                            isinstance(st, Stmt)
                            and st.kind not in (ir.EFFECT, ir.APPEND)
                            and st.label != "random draw"  # a second draw would differ
                        ):
                            st.recompute = True
        return self._compound(stmt)

    def _simple_line(self, stmt: cst.SimpleStatementLine) -> bool:
        if True:
            for small in stmt.body:
                self.origin = self.src.origin(small)
                if isinstance(small, cst.Break):
                    self.break_here(small)
                    return False
                if isinstance(small, cst.Continue):
                    return True  # restructured: nothing follows it in this iteration
                try:
                    self.small_statement(small)
                except _Bail as b:
                    self.bailed(b, small)
                if isinstance(small, cst.Return):
                    return False
            return True

    def _compound(self, stmt: cst.BaseStatement) -> bool:
        if isinstance(stmt, cst.FunctionDef):
            self.origin = self.src.def_origin_of(stmt)
            if stmt.decorators or stmt.asynchronous is not None:
                self.bailed(
                    _Bail(
                        self._error(
                            stmt,
                            "decorated or async nested function",
                            "define a plain nested def",
                            "def",
                        )
                    ),
                    stmt,
                )
                return True
            self.def_local_func(stmt.name.value, stmt)
            return True
        try:
            if isinstance(stmt, cst.If):
                return self.if_statement(stmt)
            if isinstance(stmt, cst.For):
                return self.for_statement(stmt)
            if isinstance(stmt, cst.While):
                return self.while_statement(stmt)
        except _Bail as b:
            self.bailed(b, stmt)
            return True
        # reported by check; bind what it assigns so later lines raise no spurious findings
        self.bailed(_Bail(None), stmt)
        return True

    def small_statement(self, small: cst.BaseSmallStatement) -> None:
        """Lower one small statement: an assignment (plain, annotated or augmented), an
        expression, ``assert``, ``raise``, ``pass`` or ``return``; any other is refused.
        """
        if isinstance(small, cst.Assign):
            first = small.targets[0].target
            value = small.value
            if isinstance(
                value, cst.Call
            ):  # y = np.exp(x, out=buf): buf written, y is buf
                value = self.out_argument_write(value) or value
            self.assign(first, value)
            for t in small.targets[1:]:
                self.assign(t.target, first)
        elif isinstance(small, cst.AnnAssign):
            if small.value is None:
                return  # `y: T` alone declares, binds nothing
            self.assign(small.target, small.value)
        elif isinstance(small, cst.AugAssign):
            self.aug_assign(small)
        elif isinstance(small, cst.Expr):
            self.expression_statement(small)
        elif isinstance(small, cst.Assert):
            test = self.lower(small.test, "assert")
            msg = self.lower(small.msg, "assert") if small.msg is not None else None
            self.stmts.append(
                Stmt(
                    ir.EFFECT,
                    [],
                    None,
                    self.origin,
                    node=small.with_changes(test=test, msg=msg),
                )
            )
        elif isinstance(small, cst.Raise):
            exc = self.lower(small.exc, "exc") if small.exc is not None else None
            self.stmts.append(
                Stmt(ir.EFFECT, [], None, self.origin, node=small.with_changes(exc=exc))
            )
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Return):
            self.return_statement(small)
        else:
            if type(small) in _UNSUPPORTED:
                raise _Bail(None)  # reported by check, with its own hint
            what = _readable(type(small).__name__)
            self.fail(
                small,
                f"unsupported statement: {what}",
                "rewrite it as an assignment",
                what,
            )

    def aug_assign(self, small: cst.AugAssign) -> None:
        """``y op= v``: ``y = y op v`` after ``y``'s views go stale (a write in place), a
        subscript write for ``y[k] op= v``, and ``lst += items`` an extend of a list."""
        if (
            isinstance(small.operator, cst.AddAssign)
            and isinstance(small.target, cst.Name)
            and self.grows_in_place(self.env.get(small.target.value))
        ):
            # `lst += items` on a list extends it in place (the same list object)
            call = cst.Call(
                func=cst.Attribute(small.target, cst.Name("extend")),
                args=[cst.Arg(small.value)],
            )
            self.src.alias(call, small)  # (a finding points at the statement)
            self.small_statement(cst.Expr(call))
            return
        # `y op= v` is `y = y op v`; `y[k] op= v` is `y[k] = y[k] op v` (numpy's own
        # semantics, repeated keys too)
        value = small.value
        if (
            isinstance(value, (cst.BinaryOperation, cst.BooleanOperation))
            and not value.lpar
        ):
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        op = _AUG_TO_BIN[type(small.operator)]()
        expr = cst.BinaryOperation(left=small.target, operator=op, right=value)
        if isinstance(small.target, cst.Subscript):
            self.assign(small.target, expr)  # (xs[t][i] += v: a write into an item)
        else:
            self.aug_assign_name(cst.ensure_type(small.target, cst.Name))
            self.assign(cst.ensure_type(small.target, cst.Name), expr)

    def expression_statement(self, small: cst.Expr) -> None:
        """An expression statement: lowered for its effects (a docstring or ``...`` is
        skipped); a call's result is unused."""
        v = small.value
        if isinstance(v, (*_LITERALS,)):
            return  # docstring or ...
        if isinstance(v, cst.Call) and (
            self.ufunc_at_write(v) or self.fill_diagonal_write(v)
        ):
            return  # np.add.at(y, key, v), np.fill_diagonal(y, v): a write into y
        if isinstance(v, cst.Call) and self.out_argument_write(v) is not None:
            return  # np.exp(z, out=z): a write into z
        node = self.lower(v, "_")
        if isinstance(v, cst.Call):
            last = self.stmts[-1] if self.stmts else None
            if last is not None and last.targets == [getattr(node, "value", None)]:
                # keep the call as a statement of its own, result unused
                last.kind = ir.EFFECT if last.kind not in ir.DIFF_KINDS else last.kind
