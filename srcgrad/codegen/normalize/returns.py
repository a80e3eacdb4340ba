"""Returns: the output of the function, and of an inlined callee that returns from several
places or from a loop (result trees whose items get names of their own, shared by every
return).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad.codegen.normalize.base import _display_of, _MISSING, _same_shape
from srcgrad.codegen.normalize.syntax import _constant_key, _ident_key


class Returns:
    """Return values and result trees (a mixin of :class:`Normalizer`)."""

    def return_statement(self, small: cst.Return) -> None:
        """``return value`` (``return loss, aux`` with ``has_aux``): the output is bound; from
        inside a loop the return flag is set and the loop left."""
        assert small.value is not None
        value = small.value
        if self.has_aux:
            if not (isinstance(value, cst.Tuple) and len(value.elements) == 2):
                self.fail(
                    small,
                    "has_aux=True but the return value is not a (loss, aux) pair",
                    "return loss, aux",
                    "has_aux",
                )
            loss, aux = (e.value for e in value.elements)  # type: ignore[union-attr]
            self.out = self.output(loss)
            aux_atom = self.lower(aux, "aux")
            if self.n_returns > 1:
                name = self.names.generated("aux")
                self.assign_exact(name, aux_atom, aux=True)
                aux_atom = cst.Name(name)
            self.aux = aux_atom
        else:
            self.out = self.output(value)
        if self.loops:
            # a return from inside a loop (its value bound): set the flag and leave the
            # loop; each enclosing loop leaves too (see `block`)
            self.assign_exact(self.ret_flag, cst.Name("True"))  # type: ignore[arg-type]
            self.break_here(small)

    def output(self, value: cst.BaseExpression) -> cst.BaseExpression:
        node = self._output(value)
        if (
            len(self.inline_stack) == 1
            and isinstance(node, cst.Name)
            and node.value not in self.multi_results
            and (
                node.value in self.lit
                or node.value in self.dyn
                or node.value in self.cont
            )
        ):
            self.fail(
                value,
                "the differentiated output is a tuple, list or dict",
                "return one array (np.stack the parts), or return (loss, aux) with has_aux=True",
                "container-output",
            )
        return node

    def _output(self, value: cst.BaseExpression) -> cst.BaseExpression:
        name = self.out_name or self.names.generated("out")
        if self.out_name is not None and (self.loops or self.n_returns > 1):
            tree = self._result_tree(value, False)
            mixed = (tree[0] == "leaf") == (name in self.out_items)
            if mixed and (name in self.out_items or name in self.out_plain):
                self.fail(
                    value,
                    "returns a tuple, list or dict on one path and another kind of value on "
                    "another",
                    "return the same kind of value on every path",
                    "return",
                )
            if tree[0] != "leaf":
                return self._output_items(name, value, tree)
            self.out_plain.add(name)
        if self.loops or self.n_returns > 1:
            self.assign_exact(name, self.lower(value, "out"))
            return cst.Name(name)
        if isinstance(value, cst.Name) and value.value in self.env:
            return cst.Name(self.env[value.value])
        node = self.lower(value, "out", target=name)
        return node

    def _result_tree(self, value: Any, lowered: bool) -> tuple[Any, ...]:
        """The shape of a returned value: ``("seq", [trees])`` for a tuple/list display (or a
        name bound to one), ``("dict", keys, [trees])`` for a dict display with constant keys,
        else ``("leaf", value, lowered)``."""
        if (
            not lowered
            and isinstance(value, (cst.Tuple, cst.List))
            and not any(isinstance(el, cst.StarredElement) for el in value.elements)
        ):
            return (
                "seq",
                [self._result_tree(el.value, False) for el in value.elements],
            )
        if not lowered and isinstance(value, cst.Dict):
            keys = [
                _constant_key(el.key) if isinstance(el, cst.DictElement) else _MISSING
                for el in value.elements
            ]
            if all(k is not _MISSING for k in keys):
                return (
                    "dict",
                    keys,
                    [
                        self._result_tree(el.value, False)  # type: ignore[union-attr]
                        for el in value.elements
                    ],
                )
        name = None
        if isinstance(value, cst.Name):
            name = value.value if lowered else self.env.get(value.value)
        entry = self.lit.get(name) if name is not None else None
        if entry is not None and isinstance(entry[1], list):
            return ("seq", [self._result_tree(a, True) for a in entry[1]])
        if entry is not None and isinstance(entry[1], dict):
            return (
                "dict",
                list(entry[1]),
                [self._result_tree(a, True) for a in entry[1].values()],
            )
        return ("leaf", value, lowered)

    def _names_tree(self, base: str, tree: tuple[Any, ...]) -> tuple[Any, ...]:
        """A fresh name for every leaf of ``tree`` (same shape, leaves are names)."""
        if tree[0] == "seq":
            return (
                "seq",
                [self._names_tree(f"{base}_{k}", t) for k, t in enumerate(tree[1])],
            )
        if tree[0] == "dict":
            return (
                "dict",
                tree[1],
                [
                    self._names_tree(f"{base}_{_ident_key(k)}", t)
                    for k, t in zip(*tree[1:])
                ],
            )
        return ("leaf", self.names.fresh(base))

    def _bind_tree(
        self, names: tuple[Any, ...], tree: tuple[Any, ...], value: cst.CSTNode
    ) -> None:
        """Bind each leaf name of ``names`` (see :meth:`_names_tree`) to the matching leaf of
        the result tree ``tree`` (one path's value; ``value``: where it is written)."""
        if tree[0] == "leaf":
            atom = tree[1] if tree[2] else self.lower(tree[1], "out")
            if self._is_container_atom(atom):
                self.fail(
                    value,
                    "returns a container built in different ways on different paths",
                    "return a display of the items, e.g. return a, b, on every path",
                    "return",
                )
            self.assign_exact(names[1], atom)
            return
        for sub_n, sub_t in zip(names[-1], tree[-1]):
            self._bind_tree(sub_n, sub_t, value)

    def _output_items(
        self, name: str, value: cst.BaseExpression, tree: tuple[Any, ...]
    ) -> cst.BaseExpression:
        """``return a, b`` in an inlined callee that returns from several places (or from a
        loop): each item is bound to a name of its own, shared by every return, and the call's
        result is the display of those names (binding the display as one value would hide
        what flows through its items)."""
        names = self.out_items.get(name)
        if names is None:
            names = self.out_items[name] = self._names_tree(name.lstrip("_"), tree)
        elif not _same_shape(names, tree):
            self.fail(
                value,
                "returns values of different shapes on different paths (tuples or dicts of "
                "different lengths or keys)",
                "return the same kind of value, with the same number of items, on every path",
                "return",
            )
        self._bind_tree(names, tree, value)
        return _display_of(names)
