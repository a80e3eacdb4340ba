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

_HINT = "pass the arguments explicitly"


class Starred:
    """``*``-unpacking of constants (a mixin of :class:`Normalizer`)."""

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
