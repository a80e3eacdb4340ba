"""Keys known before the call: the value of a key or a ``range`` that constants, lengths of
container arguments and formatting give (``params[i]``, ``params[f"W{i}"]``,
``range(len(params))``), and the loops that run once per such key because their body reads a
container by it (a tuple, list or dict whose items are known only by key here).
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad import tree
from srcgrad.codegen.normalize.base import _MISSING
from srcgrad.codegen.normalize.exits import _may_exit
from srcgrad.codegen.normalize.syntax import _all_names, _constant_arithmetic

#: how many times a loop is written out at most (a longer one stays a loop, and a key read
#: in it is refused as before)
UNROLL_LIMIT = 64


class Keys:
    """Keys and ranges known before the call (a mixin of :class:`Normalizer`)."""

    def folded(self, node: cst.BaseExpression) -> Any:
        """The value of the user's expression ``node`` when constants give it (literals,
        names bound to constants, ``len`` of a container argument or display, ``range``,
        ``+ - * // %`` and f-strings of such), else ``_MISSING``.  Never runs user code.
        """
        if isinstance(node, (cst.Integer, cst.SimpleString)):
            return _literal(node)
        if isinstance(node, cst.UnaryOperation) and isinstance(
            node.operator, cst.Minus
        ):
            v = self.folded(node.expression)
            return -v if type(v) is int else _MISSING
        if isinstance(node, cst.Name):
            cur = self.env.get(node.value)
            v = self.const.get(cur, _MISSING) if cur is not None else _MISSING
            return v if type(v) in (int, str, bool) else _MISSING
        if isinstance(node, cst.BinaryOperation):
            return _constant_arithmetic(
                node, self.folded(node.left), self.folded(node.right)
            )
        if isinstance(node, cst.FormattedString):
            return self._folded_format(node)
        if isinstance(node, cst.Call):
            return self._folded_call(node)
        if isinstance(node, cst.Attribute):
            return self.folded_field(node)  # a model's static field: self.act
        return _MISSING

    def _folded_format(self, node: cst.FormattedString) -> Any:
        """An f-string whose fields are constants (no conversion, a plain format spec)."""
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
                continue
            if part.conversion is not None:
                return _MISSING
            v = self.folded(part.expression)
            spec = "".join(
                p.value
                for p in part.format_spec or ()
                if isinstance(p, cst.FormattedStringText)
            )
            if v is _MISSING or len(spec) != len(part.format_spec or ()):
                return _MISSING
            try:
                out.append(format(v, spec))
            except (TypeError, ValueError):
                return _MISSING
        return "".join(out)

    def _folded_call(self, node: cst.Call) -> Any:
        """``len(c)`` of a container whose length is known here, ``range(...)`` and
        ``str(...)`` of constants."""
        fname = self.builtin_call(node, ("len", "range", "str"))
        if fname is None or any(a.keyword is not None or a.star for a in node.args):
            return _MISSING
        if fname in ("len", "str") and len(node.args) != 1:
            return _MISSING
        if fname == "len":
            arg = node.args[0].value
            if not isinstance(arg, cst.Name) or arg.value not in self.env:
                return _MISSING
            return self._length_here(self.env[arg.value])
        if fname == "str":
            v = self.folded(node.args[0].value)
            return str(v) if type(v) in (int, str) else _MISSING
        vals = [self.folded(a.value) for a in node.args]
        if not 1 <= len(vals) <= 3 or any(type(v) is not int for v in vals):
            return _MISSING
        try:
            return range(*vals)
        except ValueError:
            return _MISSING

    def _length_here(self, cur: str) -> Any:
        """The length of ``cur`` (an emitted name) when it is a container argument (or a
        part of one) or a display built here that does not grow."""
        if cur in self.cont:
            return len(tree.skeleton_children(self.cont[cur][2]))
        if cur in self.lit and not self.grows_in_place(cur):
            return len(self.lit[cur][1])
        return _MISSING

    def length_of(self, expr: Any) -> Any:
        """The value of the emitted ``len(c)`` when ``c`` (an emitted name) is a container
        argument or part of one, or a display built here that does not grow."""
        if not (
            isinstance(expr, cst.Call)
            and isinstance(expr.func, cst.Name)
            and expr.func.value == "len"
            and "len" not in self.env
            and len(expr.args) == 1
            and isinstance(expr.args[0].value, cst.Name)
        ):
            return _MISSING
        return self._length_here(expr.args[0].value.value)

    def argument_as_display(self, user: str, cur: str) -> str:
        """Bind ``user`` (now the container argument part ``cur``) to a display of reads of
        its items, when it is a tuple, list or dict of arrays: a loop that rebinds it
        (``state = (h, c)``) then carries it item by item.  Returns what ``user`` is bound to
        now."""
        skel = self.cont[cur][2]
        kids = tree.skeleton_children(skel)
        if skel[2] not in ("tuple", "list", "dict") or any(k is not None for k in kids):
            return cur
        keys = list(skel[1]) if isinstance(skel[1], dict) else list(range(len(kids)))
        reads = []
        for k in keys:
            expr = cst.Subscript(
                value=cst.Name(cur),
                slice=[cst.SubscriptElement(cst.Index(cst.parse_expression(repr(k))))],
            )
            reads.append(self.read(cur, k, expr, user, None))
        if isinstance(skel[1], dict):
            display: cst.BaseExpression = cst.Dict(
                [
                    cst.DictElement(cst.parse_expression(repr(k)), v)
                    for k, v in zip(keys, reads)
                ]
            )
        elif skel[2] == "list":
            display = cst.List([cst.Element(v) for v in reads])
        else:
            display = cst.Tuple([cst.Element(v) for v in reads])
        self.bind_atom(user, display)
        return self.env[user]

    def unroll_values(self, node: cst.For) -> list[Any] | None:
        """The values a ``for`` loop's target takes when the loop must run once per value
        (else None: a plain loop).  It has no ``break``/``return``/``else``, and either its
        body reads a container argument (or a tuple/list/dict built here) with a key that
        mentions the loop's names (``params[i]``, ``params[f"b{i}"]``) and it iterates over
        a ``range`` known here, or its body needs the items one by one (such a read, or an
        append of a tuple, list or dict display) and it iterates over a free name bound to
        constants (``for m, n in shapes``)."""
        if node.orelse is not None or _may_exit(node.body):
            return None
        own = {n.value for n in _all_names(node.target)}
        reads = self._reads_by(node.body, own)
        if reads and isinstance(node.target, cst.Name):
            values = self.folded(node.iter)
            if isinstance(values, range) and 0 < len(values) <= UNROLL_LIMIT:
                return list(values)
        appends_displays = any(
            isinstance(call.args[0].value, (cst.Tuple, cst.List, cst.Dict))  # type: ignore[attr-defined]
            for call in m.findall(
                node.body,
                m.Call(func=m.Attribute(attr=m.Name("append")), args=[m.Arg()]),
            )
        )
        if not (reads or appends_displays):
            return None
        return self.free_constant_sequence(node.iter)

    def _reads_by(self, body: cst.CSTNode, own: set[str]) -> bool:
        """Whether ``body`` subscripts a container known here by key with an index that
        reads one of the names ``own``."""
        for sub in m.findall(body, m.Subscript()):
            root = sub.value  # type: ignore[attr-defined]
            while isinstance(root, cst.Subscript):
                root = root.value
            if not isinstance(root, cst.Name) or root.value not in self.env:
                continue
            cur = self.env[root.value]
            if cur not in self.cont and (
                cur not in self.lit or self.grows_in_place(cur)
            ):
                continue
            for el in sub.slice:  # type: ignore[attr-defined]
                if any(n.value in own for n in _all_names(el)):
                    return True
        return False


def _literal(node: cst.BaseExpression) -> Any:
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    try:
        return node.evaluated_value  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001  (a byte string or an odd literal: not a key)
        return _MISSING


def _only_rebound(loop: cst.CSTNode, user: str) -> bool:
    """Whether the loop only rebinds ``user`` as a whole (``state = (h, c)``): it writes no
    item of it and calls no method on it, which would change the caller's object."""
    for node in m.findall(loop, m.AssignTarget() | m.AugAssign() | m.AnnAssign()):
        target = node.target  # type: ignore[attr-defined]
        while isinstance(target, (cst.Subscript, cst.Attribute)):
            target = target.value
            if isinstance(target, cst.Name) and target.value == user:
                return False
    for call in m.findall(loop, m.Call(func=m.Attribute(value=m.Name(user)))):
        return False
    return True
