"""``*``-unpacking of constants: ``rs.randn(*x.shape)``, ``np.zeros(*shape)``,
``x.reshape(*shape)`` and ``(*x.shape, 1)``.  Which argument a starred value fills is known
only when the call runs, so a starred call is kept as written, and only where that is
exact: a call whose arguments are all constants (its result is a constant: a draw, a
shape, an array of constants), or an array method whose rule collects its positional
arguments into one (``x.reshape(*shape)`` is ``np.reshape(x, (*shape,))``).  Anything else
(a starred value that carries a gradient, a function inlined or with a rule) is refused.
"""

from __future__ import annotations

import libcst as cst

from srcgrad.codegen import ir
from srcgrad.codegen.check import unpacking_allowed
from srcgrad.codegen.normalize.syntax import _all_names

_HINT = "pass the arguments explicitly"


class Starred:
    """``*``-unpacking of constants (a mixin of :class:`Normalizer`)."""

    def zip_columns(
        self, e: cst.Call, hint: str, target: str | None
    ) -> cst.BaseExpression:
        """``zip(*rows)`` of rows whose items are known here (a list of ``(centre, width)``
        pairs, say): the display of its columns, as many as the shortest row has."""
        rows_atom = self.lower(e.args[0].value, hint)
        if self.is_static(rows_atom):  # constants: their columns, a constant
            star = e.with_changes(args=[e.args[0].with_changes(value=rows_atom)])
            columns = cst.Call(cst.Name("tuple"), [cst.Arg(star)])
            return cst.Name(self.emit(ir.STATIC, target, hint, columns))
        rows = self._known_items(rows_atom)
        cells = None if rows is None else [self._known_items(r) for r in rows]
        if cells is None or any(c is None for c in cells):
            self.fail(
                e,
                "zip(*rows) of rows whose items are known only when the code runs",
                "index the rows instead: for i in range(len(rows)): a, b = rows[i]",
                "star-args",
            )
        n = min((len(c) for c in cells), default=0)  # type: ignore[union-attr]
        columns = cst.Tuple(
            [
                cst.Element(cst.Tuple([cst.Element(c[i]) for c in cells]))  # type: ignore[index]
                for i in range(n)
            ]
        )
        name = target if target is not None else self.names.temp(f"{hint}_columns")
        self.bind_atom(name, columns)
        self.last_define = (name, self.env[name])
        return cst.Name(self.env[name])

    def expand_known_star_args(self, e: cst.Call, hint: str) -> cst.Call:
        """``f(y, *args)`` where ``args`` holds items known here (a tuple or list display
        built in the function, a callee's ``*args``, a container argument): the call with
        one positional argument per item, as Python binds it.  Other ``*`` arguments stay
        (constants are kept as written; the rest is refused where the call is lowered).
        """
        if not any(a.star == "*" for a in e.args):
            return e
        args: list[cst.Arg] = []
        for a in e.args:
            if a.star != "*":
                args.append(a)
                continue
            atom = self.lower(a.value, hint)
            items = None if self.is_static(atom) else self._known_items(atom)
            for item in [atom] if items is None else items:
                self.readable_by_name(item)
            if items is None:
                args.append(a.with_changes(value=atom))
            else:
                args.extend(cst.Arg(item) for item in items)
        expanded = e.with_changes(args=args)
        if any(a.star for a in args) and not unpacking_allowed(expanded):
            self.refuse_unpacked_arguments(e, cst.Module([]).code_for_node(e.func))
        return expanded

    def readable_by_name(self, e: cst.BaseExpression) -> None:
        """Make the emitted names ``e`` reads readable as user names (an item already
        lowered, passed on to code that lowers it again)."""
        for n in _all_names(e):
            if n.value in self.locals and n.value not in self.env:
                self.env[n.value] = n.value

    def refuse_unpacked_arguments(self, e: cst.Call, display: str) -> None:
        """``f(*args)`` where some argument carries a gradient (or ``f`` is inlined, or has a
        rule that binds each argument): which parameter each value fills is not known.
        """
        self.fail(
            e,
            f"*-unpacking in a call of {display} whose arguments carry a gradient (srcgrad "
            "binds each argument to its parameter when it generates the code)",
            _HINT,
            "star-args",
        )

    def unpacked_method_arguments(
        self, e: cst.Call, method: str, args: list[cst.Arg], varparam: str | None
    ) -> list[cst.Arg]:
        """The positional arguments of ``x.method(..., *s)``, an array method with a rule:
        one tuple ``(..., *s)`` for a method whose rule collects them (``reshape``,
        ``transpose``), when every one is a constant; refused otherwise."""
        pos = [a for a in args if a.keyword is None]
        if varparam is None or not all(self.is_static(a.value) for a in pos):
            self.refuse_unpacked_arguments(e, f".{method}()")
        elements: list[cst.BaseElement] = [
            cst.StarredElement(a.value) if a.star else cst.Element(a.value) for a in pos
        ]
        return [cst.Arg(cst.Tuple(elements=elements))]

    def starred_display(self, e: cst.Tuple | cst.List, hint: str) -> cst.BaseExpression:
        """``(*x.shape, 1)``: a tuple or list display with starred items, all of them
        constants, is a constant (kept as written, behind one name: its length is known only
        when it runs)."""
        elements: list[cst.BaseElement] = []
        for el in e.elements:
            value = self.lower(el.value, hint)
            if not self.is_static(value):
                self.fail(
                    el,
                    "starred element in a display, of a value that carries a gradient",
                    "list the elements explicitly, or join arrays with np.concatenate",
                    "starred",
                )
            elements.append(el.with_changes(value=value))
        display = e.with_changes(elements=elements)
        return cst.Name(self.emit(ir.STATIC, None, hint, display))
