"""Findings: how the normalizer reports what it refuses (:meth:`Findings.fail`, raised as
:class:`_Bail` and collected per statement), and how consequences of an earlier finding
are recognised and not reported again.
"""

from __future__ import annotations

import libcst as cst

from srcgrad.codegen.normalize.base import LOOP_STACK, _Bail, loop_stack_name
from srcgrad.codegen.normalize.syntax import _assigned_in
from srcgrad.errors import SrcgradError, UnsupportedSyntaxError


class Findings:
    """Reporting findings (a mixin of :class:`Normalizer`)."""

    def fail(
        self,
        node: cst.CSTNode,
        message: str,
        hint: str,
        construct: str,
        cls: type[SrcgradError] = UnsupportedSyntaxError,
        consequence: bool = True,
    ) -> None:
        """Raise the finding at ``node`` (as :class:`_Bail`); generated names in the message
        and hint become the user's.  A node that reads a name bound by a statement already
        reported raises no second finding (``consequence=False`` reports it anyway)."""
        if consequence and self._reads_poisoned(node):
            raise _Bail(None)  # a consequence of an earlier finding: not reported again
        stack = loop_stack_name(self.resolver.fn, node)
        if stack is not None and construct != "loop-stack":
            (message, hint), construct = LOOP_STACK, "loop-stack"
            message = message.format(name=stack)
        file, line, col = self.src.where(node)
        if (file, line, col) == (self.src.filename, self.src.first_line, 1):
            file, line, col = self.origin.file, self.origin.line, self.origin.col
        self.fail_at((file, line, col), message, hint, construct, cls)

    def fail_at(
        self,
        where: tuple[str, int, int],
        message: str,
        hint: str,
        construct: str,
        cls: type[SrcgradError] = UnsupportedSyntaxError,
    ) -> None:
        """Raise the finding at ``where`` (file, line, column), as :meth:`fail` does."""
        file, line, col = where
        raise _Bail(
            cls(
                self.user_text(message),
                filename=file,
                lineno=line,
                col=col,
                construct=construct,
                hint=self.user_text(hint),
            )
        )

    def _reads_poisoned(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` is about a name bound by a statement that was already reported:
        the name itself, its attribute, a call of it or an index into it (what that name
        holds is unknown, so such a finding would only echo the first)."""
        if not self.poisoned:
            return False
        while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
            node = node.func if isinstance(node, cst.Call) else node.value
        return (
            isinstance(node, cst.Name)
            and node.value in self.poisoned
            and node.value not in self.params_set
        )

    def user_text(self, text: str) -> str:
        """``text`` with generated names replaced by the user's (see ``Names.user_text``)."""
        return self.names.user_text(text)

    def _error(
        self, node: cst.CSTNode, message: str, hint: str, construct: str
    ) -> SrcgradError:
        try:
            self.fail(node, message, hint, construct, consequence=False)
        except _Bail as b:
            assert b.err is not None
            return b.err
        raise AssertionError

    def bailed(self, b: _Bail, node: cst.CSTNode) -> None:
        if b.err is not None:  # None: a consequence of an earlier finding
            self.findings.append(b.err)
        else:
            self.skipped += 1
        for t in _assigned_in(node):
            if t not in self.env:
                self.poisoned.add(t)
            self.env.setdefault(t, t)
            self.locals.add(t)
