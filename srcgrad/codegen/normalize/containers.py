"""Tuples, lists and dicts known here: reading container arguments and displays item by
item, their items and lengths, ``+`` of two sequences, dict comprehensions, and the
refusals where a container would lose its items' gradients.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from srcgrad import tree
from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import LOOP_STACK, _Bail, _MISSING, emitted_function
from srcgrad.codegen.normalize.modules import _is_model
from srcgrad.codegen.normalize.syntax import _all_names, _constant_key, _NameMap
from srcgrad.errors import UnsupportedSyntaxError


class Containers:
    """Tuples, lists and dicts known here (a mixin of :class:`Normalizer`)."""

    def is_container(self, atom: Any) -> bool:
        """True for a tuple, list or dict value: a display, or a name bound to one built here
        (a display, a list built with append, several outputs bound to one name) or to a
        container argument or part of one."""
        if isinstance(atom, cst.Name):
            return (
                atom.value in self.lit
                or atom.value in self.dyn
                or atom.value in self.cont
            )
        return isinstance(atom, (cst.Tuple, cst.List, cst.Dict)) and not self.is_static(
            atom
        )

    def _is_container_atom(self, node: cst.BaseExpression) -> bool:
        """A lowered value that is a tuple/list/dict display or a list built here."""
        if isinstance(node, (cst.Tuple, cst.List, cst.Dict)):
            return True
        return isinstance(node, cst.Name) and (
            node.value in self.lit or node.value in self.dyn
        )

    def refuse_container_join(
        self,
        atom: Any,
        hint: str = "bind it in an if statement with the same items on every branch, and "
        "return it once, at the end of the function",
    ) -> None:
        """A name that holds one of several values (after a branch, a ternary, ``and``/``or``,
        several ``return``s or a loop) is an array or a number: a container would lose the
        items' gradients there, so it is refused, with ``hint``."""
        if not self.is_container(atom):
            return
        o = self.origin
        raise _Bail(
            UnsupportedSyntaxError(
                "a tuple, list or dict that is one of several values (returned from more than "
                "one place or from inside a loop, chosen by a conditional expression or "
                "`and`/`or`, or rebound in a loop)",
                filename=o.file,
                lineno=o.line,
                col=o.col,
                construct="container-join",
                hint=hint,
            )
        )

    def refuse_nested_item(
        self, node: cst.CSTNode, item: Any, owner: str = "", consequence: bool = True
    ) -> None:
        """A list built with append holds arrays and numbers: its items are read back as
        arrays, so a tuple, list or dict item is refused.  ``owner``: the user's name of the
        list, poisoned so that what is later read from it does not echo this finding."""
        if not (self.is_container(item) or self._is_container_atom(item)):
            return
        if owner:
            self.poisoned.add(owner)
        if emitted_function(self.resolver.fn):
            message, hint = LOOP_STACK
            self.fail(
                node,
                message.format(name=owner or "a list"),
                hint,
                "loop-stack",
                consequence=consequence,
            )
            return
        self.fail(
            node,
            "appending a tuple, list or dict to a list built in the function (its items "
            "would carry no gradient)",
            "keep one list per part and loop over them together: As.append(a); "
            "Bs.append(b); ... for a, b in zip(As, Bs)",
            "list-of-containers",
            consequence=consequence,
        )

    def read(
        self,
        base: str,
        key: Any,
        expr: cst.BaseExpression,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        param, path, skel = self.cont[base]
        key = tree.canonical_key(skel, key)
        field = self.model_field(base, key, expr, hint, target)
        if field is not None:  # a model's static field, buffer or float
            return field
        sub = tree.skeleton_child(skel, key, _MISSING)
        if sub is _MISSING:
            self.fail(
                expr,
                f"{base} has no entry {key!r} in the argument passed",
                "read only keys, indices and fields the argument has",
                "container-read",
            )
        if sub is None:  # a leaf
            name = self.emit(
                ir.READ,
                target,
                hint,
                expr,
                read=(param, path + (key,)),
                operands=[param],
                label="read",
            )
            if _is_model(skel):  # a model's leaves are its arrays (None is static)
                self.model_leaves.add(name)
            return cst.Name(name)
        name = self.emit(ir.STATIC, target, hint, expr)
        self.static.discard(name)
        self.cont[name] = (param, path + (key,), sub)
        return cst.Name(name)

    def argument_item(
        self,
        base: cst.Name,
        e: cst.Subscript,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        """``params[k]`` of a container argument (or a part of one)."""
        key_node = e.slice[0].slice.value  # type: ignore[union-attr]
        key = self.folded(key_node)  # (the user's expression: its names by env)
        if key is _MISSING and self.cont[base.value][0] not in self.wrt:
            # an argument not differentiated (a table of ints, a list of data arrays):
            # its items are constants of the gradient, read when the code runs
            node = cst.Subscript(
                value=base,
                slice=[cst.SubscriptElement(cst.Index(self.lower(key_node, hint)))],
            )
            return cst.Name(self.emit(ir.STATIC, target, hint, node))
        if key is _MISSING:
            self.fail(
                key_node,
                "a container argument read with a key known only when the code runs",
                'use a literal key (params["W"], params[0]) or the index of a loop '
                "over range(len(params)) (or any range known before the call) that "
                "has no break, return or else: such a loop runs once per index",
                "dynamic-key",
            )
        # the key as the constant it is now (a name may be rebound or renamed later)
        read = e.with_changes(
            value=base,
            slice=[cst.SubscriptElement(cst.Index(self.literal(key)))],
        )
        return self.read(base.value, key, read, hint, target)

    def container_item(
        self,
        base: str,
        key: cst.BaseExpression,
        hint: str,
        target: str | None,
        e: cst.CSTNode,
    ) -> cst.BaseExpression:
        expr = cst.Subscript(
            value=cst.Name(base), slice=[cst.SubscriptElement(cst.Index(key))]
        )
        if base in self.dyn:
            self.runtime_imports.add("index")
            name = self.emit(
                ir.LISTGET,
                target,
                hint,
                expr,
                operands=[base],
                label="list item",
                container=base,
                bound={"key": key},
            )
            self.alias_of(name, [base])  # the item the list holds
            return cst.Name(name)
        kind, entries = self.lit[base]
        k = self.key_of(key)
        try:
            item = entries[k]
        except (KeyError, IndexError, TypeError):
            what = (
                f"{base} is indexed by a value that is no constant (a loop variable "
                "or an integer computed from the arguments)"
                if k is _MISSING
                else f"{base} has no constant entry {cst.Module([]).code_for_node(key)}"
            )
            self.fail(
                e,
                what,
                "index a tuple, list or dict built in the function with a constant",
                "container-read",
            )
            raise AssertionError from None
        if isinstance(item, (cst.Tuple, cst.List, cst.Dict)) and not self.is_static(
            item
        ):
            name = target if target is not None else self.names.temp(hint)
            self.bind_atom(name, item)
            self.last_define = (name, self.env[name])
            return cst.Name(self.env[name])
        if self.is_static(item):
            return cst.Name(self.emit(ir.STATIC, target, hint, expr))
        if isinstance(item, cst.Name) and item.value in self.lit:
            name = self.emit(ir.STATIC, target, hint, expr)
            self.static.discard(name)
            self.lit[name] = self.lit[item.value]
            return cst.Name(name)
        if isinstance(item, cst.Name) and item.value in self.cont:
            # a part of a container argument (a layer of `params[:-1]`): a container still,
            # its leaves read with their gradients where they are used (never one array)
            name = self.emit(ir.STATIC, target, hint, item)
            self.static.discard(name)
            self.cont[name] = self.cont[item.value]
            return cst.Name(name)
        # the item itself, not `base[key]`: a display carried around a loop lives item by item
        name = self.emit(
            ir.COPY, target, hint, item, operands=[item.value], label="copy"  # type: ignore[union-attr]
        )
        self.alias_of(name, [item])  # the very array the display holds
        return cst.Name(name)

    def lower_subscript_of(
        self, atom: cst.BaseExpression, key: cst.BaseExpression, hint: str, target: str
    ) -> None:
        if isinstance(atom, cst.Name) and (
            atom.value in self.lit or atom.value in self.dyn
        ):
            self.last_define = None
            node = self.container_item(atom.value, key, hint, target, atom)
            if not (
                isinstance(node, cst.Name) and self.last_define == (target, node.value)
            ):
                self.bind_atom(target, node)
            return
        if isinstance(atom, cst.Name) and atom.value in self.cont:
            k = _constant_key(key)
            expr = cst.Subscript(
                value=atom, slice=[cst.SubscriptElement(cst.Index(key))]
            )
            self.read(atom.value, k, expr, hint, target)
            return
        e = cst.Subscript(value=atom, slice=[cst.SubscriptElement(cst.Index(key))])
        self.last_define = None
        node = self.lower_subscript(e, atom, hint, target)
        if not (
            isinstance(node, cst.Name) and self.last_define == (target, node.value)
        ):
            self.bind_atom(target, node)

    def expand_container(self, name: str) -> cst.BaseExpression:
        """A list display of reads of every item of a list/tuple argument."""
        param, path, skel = self.cont[name]
        atoms = []
        for i in range(len(skel[1])):
            expr = cst.Subscript(
                value=cst.Name(name),
                slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))],
            )
            atoms.append(cst.Element(self.read(name, i, expr, name, None)))
        return cst.List(atoms)

    def sequence_items(
        self, atom: cst.BaseExpression
    ) -> tuple[str | None, list[Any]] | None:
        """("tuple", "list" or None where not known; the items) of a tuple or list whose
        items are known here: a display, or a name bound to one (constant items are read
        through the name)."""
        if isinstance(atom, (cst.Tuple, cst.List)) and all(
            isinstance(el, cst.Element) for el in atom.elements
        ):
            kind = "list" if isinstance(atom, cst.List) else "tuple"
            return kind, [el.value for el in atom.elements]
        if not isinstance(atom, cst.Name):
            return None
        known = self.seq_displays.get(atom.value)
        if atom.value in self.lit and self.lit[atom.value][0] == "seq":
            return (known[0] if known else None), list(self.lit[atom.value][1])
        if known is None or atom.value in self.dyn:
            return None  # (grown since: its items are known only at run time)
        kind, n = known
        return kind, [
            cst.Subscript(atom, [cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])
            for i in range(n)
        ]

    def note_sequence(self, name: str, atom: cst.BaseExpression) -> None:
        """``name`` was just bound to ``atom``: a tuple or list display's kind and length."""
        if isinstance(atom, (cst.Tuple, cst.List)) and all(
            isinstance(el, cst.Element) for el in atom.elements
        ):
            kind = "list" if isinstance(atom, cst.List) else "tuple"
            self.seq_displays[name] = (kind, len(atom.elements))

    def concatenation(
        self,
        e: cst.BinaryOperation,
        left: cst.BaseExpression,
        right: cst.BaseExpression,
    ) -> cst.BaseExpression | None:
        """``a + b`` of two tuples or two lists: the display of their items (a new tuple or
        list, as in Python) when both are known here; None when neither is a tuple or list.
        """
        seqs = [self.sequence_items(v) for v in (left, right)]
        for v in (left, right):
            if isinstance(v, cst.Name) and v.value in self.carried_seqs:
                shown = self.user_name(v.value, "the tuple")
                self.fail(
                    e,
                    f"`+` on {shown!r}, a tuple or list carried around a loop (srcgrad "
                    "carries a loop's tuples and lists with a fixed length)",
                    f"grow a list in place instead: {shown} = [...] before the loop, "
                    f"{shown}.append(item) in it",
                    "list-arithmetic",
                )
        if all(q is None for q in seqs) and not any(
            self.is_container(v) for v in (left, right)
        ):
            return None
        if seqs[0] is not None and seqs[1] is not None:
            kinds = {seqs[0][0], seqs[1][0]} - {
                None
            }  # (a program Python runs has one kind)
            if len(kinds) <= 1:
                items = [cst.Element(v) for v in seqs[0][1] + seqs[1][1]]
                return cst.List(items) if kinds == {"list"} else cst.Tuple(items)
        unknown = next(
            (
                v
                for v, q in zip((left, right), seqs)
                if q is None and isinstance(v, cst.Name)
            ),
            None,
        )
        if (
            unknown is None
            or unknown.value not in self.dyn
            and unknown.value not in self.cont
        ):
            if seqs[0] is not None and seqs[1] is not None:  # (Python raises TypeError)
                self.fail(
                    e,
                    f"`+` of a {seqs[0][0]} and a {seqs[1][0]}",
                    "write one display of all the items, e.g. (a, b, c)",
                    "list-arithmetic",
                )
            return None  # a display and an array: arithmetic, refused where it is bound
        shown = self.user_name(unknown.value, "the list")
        if unknown.value in self.dyn:
            hint = (
                f"grow it in place with {shown}.append(item) or {shown}.extend([...]), or "
                f"join arrays with np.concatenate({shown}) or np.stack({shown})"
            )
        else:
            hint = (
                f"write a display of all the items: ({shown}[0], {shown}[1], ..., item)"
            )
        self.fail(
            e,
            f"`+` on {shown!r}: concatenation of a list or tuple whose items srcgrad does not "
            "list here (one built with append, or an argument)",
            hint,
            "list-arithmetic",
        )
        raise AssertionError

    def dict_comprehension(self, e: cst.DictComp, hint: str) -> cst.BaseExpression:
        """``{k: f(k) for k in CONSTANTS}`` becomes a dict display, one entry per item."""
        comp = e.for_in
        values = self.static_values(comp.iter) if comp.inner_for_in is None else None
        items = None if values is None else [self.literal(v) for v in values]
        if items is None and comp.inner_for_in is None and not comp.ifs:
            # over a dict's items or a container argument: one entry per item
            items = self.container_values(comp.iter)
        if items is None or comp.ifs:
            self.fail(
                e,
                "dict comprehension over values not known before the call",
                "build the dict with explicit keys, or iterate over a constant tuple of keys",
                "dict-comprehension",
            )
        own = [n.value for n in _all_names(comp.target) if isinstance(n, cst.Name)]
        ren = _NameMap({u: self.names.temp(u) for u in own})
        ctarget = comp.target.visit(ren)
        elements = []
        for v in items:
            self.assign(ctarget, v)
            key = self.key_of(self.lower(e.key.visit(ren), hint))
            if key is _MISSING:
                self.fail(
                    e.key,
                    "dict comprehension key that is not a constant int or str",
                    "key the dict by ints or strings known before the call, e.g. "
                    "{k: ... for k in (0, 1)} or {k: ... for k in ('a', 'b')}",
                    "dict-comprehension",
                )
            value = self.lower(e.value.visit(ren), hint)
            elements.append(cst.DictElement(self.literal(key), value))
        return cst.Dict(elements)
