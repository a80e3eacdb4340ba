"""Loops over a sequence in another order than its own (a mixin of the Normalizer):
``for W in reversed(layers)`` over a list or an array's rows, read by index from the last,
and ``for k in sorted(params)`` over a dict whose keys are known, visited in sorted key
order (the keys are constants, so the order is known when srcgrad reads the loop)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen.normalize.iteration import _items_of


class Orders:
    """``reversed(seq)`` and ``sorted(d)`` as loop iterables."""

    def reversed_plan(
        self: Any, call: cst.Call, target: cst.BaseExpression
    ) -> tuple[str, cst.BaseExpression, list[tuple[str, Any]], bool] | None:
        """The plan of ``for v in reversed(seq)`` over a list or an array's rows: an index
        running ``range(len(seq) - 1, -1, -1)`` (a range the backward pass replays
        forwards) and ``v`` bound to ``seq[index]``; None for a range or a constant
        sequence (read as before)."""
        if not (
            len(call.args) == 1
            and call.args[0].keyword is None
            and not call.args[0].star
            and not self.builtin_call(call.args[0].value, ("range",))
        ):
            return None
        tnames = self._loop_target_names(target)
        seq = self.iterable(self.lower(call.args[0].value, tnames[0]))
        if self.is_static(seq) or len(tnames) != 1:
            return None
        index = self.names.temp(f"{tnames[0]}_index")
        n = self.range_len([seq]).args[0].value
        minus_one = cst.UnaryOperation(cst.Minus(), cst.Integer("1"))
        header = cst.Call(
            func=cst.Name("range"),
            args=[
                cst.Arg(cst.BinaryOperation(n, cst.Subtract(), cst.Integer("1"))),
                cst.Arg(minus_one),
                cst.Arg(minus_one),
            ],
        )
        return index, header, [(tnames[0], (seq,))], True

    def sorted_keys(
        self: Any, e: cst.BaseExpression
    ) -> list[cst.BaseExpression] | None:
        """``sorted(d)``, ``sorted(d.keys())`` or ``sorted(d.items())`` of a dict known
        here: its constant keys (with their reads) in sorted order; None otherwise (a
        dict's values, or a list: sorted by value, refused as before)."""
        view = self._dict_view(e)
        if view is None:
            part = self._argument_part(e)
            is_dict = part is not None and isinstance(part[1], dict) and len(part) == 3
            view = _items_of(e, part) if is_dict else None
            keys = self._display_keys(e) if view is None else None
            if keys is not None:
                view = [cst.parse_expression(repr(k)) for k in keys]
        if view is None:
            return None
        if isinstance(e, cst.Call) and e.func.attr.value == "values":
            return None
        keyed = [
            (
                self.constant_value(
                    v.elements[0].value if isinstance(v, cst.Tuple) else v
                ),
                v,
            )
            for v in view
        ]
        try:
            keyed.sort(key=lambda kv: kv[0])
        except TypeError:  # keys of mixed types: Python refuses to sort them too
            return None
        return [v for _, v in keyed]
