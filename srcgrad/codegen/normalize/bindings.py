"""Names and SSA versions: binding a user name to a fresh emitted name, the constants and
static expressions known here, and assignment (plain, tuple unpacking, nested) of an
atom to a name, each kind of value recorded as what it is (array, display, container
argument part, list built with append).
"""

from __future__ import annotations

import ast
from typing import Any

import libcst as cst

from srcgrad import cache
from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _LITERALS, _MISSING, _Scope
from srcgrad.codegen.normalize.syntax import _constant_arithmetic
from srcgrad.codegen.resolve import ARRAY_ATTRIBUTES_STATIC


class Bindings:
    """Binding names to SSA versions and assigning values (a mixin of :class:`Normalizer`)."""

    def user_name(self, emitted: str, default: str = "a value") -> str:
        """The user's name for the emitted name ``emitted`` (``default`` for a temporary):
        messages never show generated names."""
        for user, name in self.env.items():
            if name == emitted and not user.startswith("_") or name == emitted == user:
                return user
        for user, name in self.env.items():
            if name == emitted:
                return user
        return default

    def define(self, user: str) -> str:
        if (
            user not in self.env
            and user not in self.locals
            and not self._reserved(user)
        ):
            name = user
            self.names.taken.add(user)
        else:
            if user in cache.EMITTED_BUILTINS:
                self.names.taken.add(user)  # never the name itself
            name = self.names.fresh(user)
        self.forget(user)
        self.env[user] = name
        self.locals.add(name)
        self.poisoned.discard(user)
        self.last_define = (user, name)
        return name

    def forget(self, user: str) -> None:
        """``user`` is bound anew here: drop what it meant before (a value, a global, the
        array module, a nested def), in this function or, for a nested def, in its
        enclosing one."""
        self.env.pop(user, None)
        self.unbound_rest.discard(user)
        self.galias.pop(user, None)
        self.np_alias.discard(user)
        self.local_funcs.pop(user, None)

    def scope(self) -> _Scope:
        return _Scope(self.env, self.galias, self.np_alias, self.local_funcs)

    def def_local_func(self, name: str, node: cst.FunctionDef | cst.Lambda) -> None:
        """A nested def or lambda: a call inlines it in the scope of the function that
        defines it (the running one), whichever function calls it."""
        self.forget(name)
        self.local_funcs[name] = (
            node,
            self.src,
            self.resolver,
            len(self.inline_stack) - 1,
        )

    def _reserved(self, user: str) -> bool:
        """True when a local named ``user`` would shadow a free name the emitted code reads:
        one already emitted bare, or (for an inlined callee's local) one the top function
        reads from outside (it may come later in the flat emitted function)."""
        callee = len(self.inline_stack) > 1
        return (
            user in self.free_bare
            or user in cache.EMITTED_BUILTINS  # emitted code calls the builtin
            # a generated name (xp, index, ...) avoids the top function's names, not a callee's
            or (callee and user in self.names.fixed.values())
            or (callee and user in self.top_free)
        )

    def is_static(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return node.value not in self.locals or node.value in self.static
        if isinstance(node, _LITERALS):
            return True
        if isinstance(node, cst.Attribute):
            return node.attr.value in ARRAY_ATTRIBUTES_STATIC or self.is_static(
                node.value
            )
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(
                isinstance(e, (cst.Element, cst.StarredElement))
                and self.is_static(e.value)
                for e in node.elements
            )
        if isinstance(node, cst.UnaryOperation):
            return self.is_static(node.expression)
        if isinstance(node, cst.BinaryOperation):
            return self.is_static(node.left) and self.is_static(node.right)
        if isinstance(node, cst.Comparison):
            return self.is_static(node.left) and all(
                self.is_static(c.comparator) for c in node.comparisons
            )
        if isinstance(node, cst.Subscript):
            return self.is_static(node.value) and all(
                self._static_slice(s.slice) for s in node.slice
            )
        if isinstance(node, cst.FormattedString):
            return True
        return False

    def _static_slice(self, sl: cst.BaseSlice) -> bool:
        if isinstance(sl, cst.Index):
            return self.is_static(sl.value)
        assert isinstance(sl, cst.Slice)
        return all(
            p is None or self.is_static(p) for p in (sl.lower, sl.upper, sl.step)
        )

    def emit(
        self, kind: str, target: str | None, hint: str, expr: Any, **kw: Any
    ) -> str:
        name = self.define(target) if target is not None else self.names.temp(hint)
        self.locals.add(name)
        if kind == ir.STATIC:
            self.static.add(name)
            value = (
                self.constant_value(expr)
                if not isinstance(expr, cst.List)
                else _MISSING
            )
            if value is not _MISSING:  # (lists can grow: never constants)
                self.const[name] = value
        if kind in (ir.STATIC, ir.NONDIFF):
            length = self.length_of(expr)  # len(...) of a container known here
            if length is not _MISSING:
                self.const[name] = length
        self.stmts.append(Stmt(kind, [name], expr, self.origin, **kw))
        if kind == ir.STATIC and isinstance(expr, cst.BaseExpression):
            bases = self._static_view_bases(expr)
            if bases:
                self.alias_of(
                    name, bases
                )  # a constant array's view (A.T, A[0], np.ravel(A))
        return name

    def constant_value(self, node: Any) -> Any:
        """The value of a literal (or of a name bound to one), else _MISSING."""
        if isinstance(node, cst.Name):
            if node.value in self.const:
                return self.const[node.value]
            if node.value in ("True", "False", "None") and node.value not in self.env:
                return {"True": True, "False": False, "None": None}[node.value]
            return _MISSING
        if isinstance(node, (cst.Tuple, cst.List)):
            if not all(isinstance(e, cst.Element) for e in node.elements):
                return _MISSING  # (*a, b): its items are known when it runs
            vals = [self.constant_value(e.value) for e in node.elements]
            return _MISSING if any(v is _MISSING for v in vals) else tuple(vals)
        if isinstance(node, cst.BinaryOperation):
            return _constant_arithmetic(
                node, self.constant_value(node.left), self.constant_value(node.right)
            )
        if isinstance(
            node, (cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation)
        ):
            try:
                return ast.literal_eval(cst.Module([]).code_for_node(node))
            except (ValueError, SyntaxError):
                return _MISSING
        return _MISSING

    def literal(self, value: Any) -> cst.BaseExpression:
        return cst.parse_expression(repr(value))

    def assign_exact(
        self, name: str, atom: cst.BaseExpression, aux: bool = False
    ) -> None:
        """Bind the emitted name ``name`` itself (branches of a join assign the same name);
        ``aux``: the auxiliary output, which carries no gradient and may be a container.
        """
        if not aux:
            self.refuse_container_join(atom)
        self.locals.add(name)
        self.names.taken.add(name)
        self.stmts.append(ir.Phi(name, atom, self.origin, self.is_static(atom)))

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and self._is_namespace_call(value):
            self.forget(target.value)
            # `xp = namespace(...)`: xp is the array module
            self.np_alias.add(target.value)
            return
        if isinstance(target, cst.Name) and isinstance(value, cst.Lambda):
            self.def_local_func(target.value, value)
            return
        if isinstance(target, cst.Name) and self.concatenated_in_place(target, value):
            return
        if isinstance(target, cst.Name) and (
            self.function_alias(target.value, value)
            or self.local_partial(target.value, value)
        ):
            return
        if isinstance(target, cst.Name):
            self.lower(value, target.value, target=target.value)
            self.track_alias(target.value)
            return
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.subscript_write(target, value)
            return
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            self.attribute_write(target, value)
            return
        if (
            isinstance(target, cst.Subscript)
            and isinstance(target.value, cst.Subscript)
            and isinstance(target.value.value, cst.Name)
        ):
            self.item_write(target, value)
            return
        if not isinstance(target, (cst.Tuple, cst.List)):
            self.fail(
                target,
                "assignment to a subscript or attribute",
                "build the array functionally (np.where, np.concatenate)",
                "assign-target",
            )
        assert isinstance(target, (cst.Tuple, cst.List))
        if any(isinstance(el, cst.StarredElement) for el in target.elements):
            self.starred_unpack(target, value)
            return
        if any(
            isinstance(el.value, (cst.Tuple, cst.List, cst.Subscript, cst.Attribute))
            for el in target.elements
        ):
            # `a, (b, c) = v` and `hs[0], cs[0] = h0, c0`: every item is evaluated first,
            # then the targets are assigned left to right, as Python assigns them
            self.nested_assign(target, value)
            return
        self._flat_unpack(target, value)

    def element_names(
        self, target: cst.Tuple | cst.List, problem: str, hint: str, construct: str
    ) -> list[str]:
        """The names a flat tuple/list target binds (``a, b``), one per element; an
        element that is not a name fails with ``problem``, ``hint``, ``construct``."""
        for el in target.elements:
            if not isinstance(el.value, cst.Name):
                self.fail(el.value, problem, hint, construct)
        return [el.value.value for el in target.elements]  # type: ignore[union-attr]

    def _flat_unpack(
        self, target: cst.Tuple | cst.List, value: cst.BaseExpression
    ) -> None:
        """``a, b = value`` (names only): a display bound item by item, a multi-output
        primitive binding every name, a static value unpacked as is, or each name bound to
        its item of the value."""
        names = self.element_names(
            target,
            "unpacking into a subscript or attribute",
            "unpack into names first",
            "nested-unpack",
        )
        if isinstance(value, (cst.Tuple, cst.List)) and all(
            isinstance(e, cst.Element) for e in value.elements
        ):
            if len(value.elements) != len(names):
                self.fail(
                    value,
                    "tuple unpacking of the wrong length",
                    "match the counts",
                    "unpack",
                )
            before = set(self.locals)
            atoms = [self.lower(e.value, n) for e, n in zip(value.elements, names)]
            for n, a in zip(names, atoms):
                self.bind_atom(n, a, fresh=self._fresh_temporary(a, before))
            return
        # multi-output primitive?
        if isinstance(value, cst.Call):
            self.last_multi = None
            res = self.call(value, hint=names[0], multi=names)
            if res is None:
                return
            if self.last_multi is names:
                return  # a multi-output primitive bound every name
            # (one inside an inlined callee bound the callee's names, not these)
            atom = res
            if not isinstance(atom, (cst.Name, cst.Tuple, cst.List)):
                # a constant call: bound to a name, then unpacked as Python unpacks it
                atom = cst.Name(self.emit(ir.STATIC, None, names[0], atom))
        else:
            atom = self.lower(value, names[0])
        if self.is_static(atom):
            tnode = cst.Tuple(
                elements=[cst.Element(cst.Name(self.define(n))) for n in names]
            )
            for el in tnode.elements:
                self.static.add(el.value.value)  # type: ignore[union-attr]
            self.stmts.append(
                Stmt(
                    ir.STATIC,
                    [e.value.value for e in tnode.elements],  # type: ignore[union-attr]
                    atom,
                    self.origin,
                    target_node=tnode,
                )
            )
            return
        if isinstance(atom, cst.Name) and not (
            self.is_container(atom) or self._is_container_atom(atom)
        ):
            # an array's rows: Python refuses a count other than the array's length
            self.runtime_imports.add("require_length")
            call = cst.Call(
                func=cst.Name(self.names.generated("require_length")),
                args=[cst.Arg(atom), cst.Arg(cst.Integer(str(len(names))))],
            )
            self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
        for i, n in enumerate(names):
            key = cst.Integer(str(i))
            self.lower_subscript_of(atom, key, n, target=n)

    def nested_assign(
        self, target: cst.Tuple | cst.List, value: cst.BaseExpression
    ) -> None:
        """``a, (b, c) = value`` or ``x[0], obj.y = value``: each part is bound through a
        temporary, then assigned to its target."""
        elements = [el.value for el in target.elements]
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(
            elements
        ):
            parts = [
                (
                    v.value
                    if isinstance(t, (cst.Tuple, cst.List))
                    and isinstance(v.value, (cst.Tuple, cst.List))
                    else self.lower(v.value, "part")
                )
                for t, v in zip(elements, value.elements)
            ]
        else:
            atom = self.lower(value, "part")
            parts = []
            for i in range(len(elements)):
                tmp = self.names.temp("part")
                self.lower_subscript_of(atom, cst.Integer(str(i)), tmp, target=tmp)
                parts.append(cst.Name(self.env[tmp]))
        for t, part in zip(elements, parts):
            if isinstance(part, cst.Name) and part.value in self.locals:
                self.env.setdefault(
                    part.value, part.value
                )  # readable as a user-level name
            self.assign(t, part)

    def _fresh_temporary(self, atom: cst.BaseExpression, before: set[str]) -> bool:
        """``atom`` names a new array made since ``before`` (the locals then) that nothing
        else holds and that is no view: ``q, p = np.copy(q), np.copy(p)`` binds ``p`` to
        that very array, so a later ``p -= v`` writes into nothing anyone else sees."""
        if not isinstance(atom, cst.Name):
            return False
        a = atom.value
        return (
            a in self.locals
            and a not in before
            and a not in self.env.values()
            and a not in self.view_root
            and a not in self.borrowed
            and a not in self.maybe_views
            and a not in self.cont
            and a not in self.lit
            and self.view_roots.get(a, {a}) == {a}
        )

    def bind_atom(
        self, name: str, atom: cst.BaseExpression, fresh: bool = False
    ) -> None:
        """Bind the user name ``name`` to ``atom``; ``fresh``: ``atom`` is a new array no
        other name holds (:meth:`_fresh_temporary`), so ``name`` is no view of it."""
        if isinstance(atom, cst.List) and not atom.elements:
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.dyn.add(emitted)
            self.note_new_list(emitted, [])
            return
        if isinstance(atom, cst.Name) and self.grows_in_place(atom.value):
            # a second name for a list built with append (one a callee returned, say), or for
            # a list display that may grow: the same list object, as in Python; appends
            # through either name are seen through both
            self.env[name] = atom.value
            self.last_define = (name, atom.value)
            return
        if self.is_static(atom):
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.note_sequence(emitted, atom)
            if isinstance(atom, cst.List):
                self.note_display(emitted)  # constant items, until it grows
        elif isinstance(atom, cst.Name):
            if atom.value in self.lit:
                emitted = self.emit(ir.STATIC, name, name, atom)
                self.static.discard(emitted)
                if atom.value in self.lit:
                    self.lit[emitted] = self.lit[atom.value]
                else:
                    self.fail(
                        atom,
                        "a second name for a list built with append",
                        "use one name for the list",
                        "list-alias",
                    )
                return
            if atom.value in self.cont:
                # a second name for a part of a container argument: a container too, never a
                # static value (its leaves are read, with gradients, where they are used)
                emitted = self.emit(ir.STATIC, name, name, atom)
                self.static.discard(emitted)
                self.cont[emitted] = self.cont[atom.value]
                return
            copied = self.emit(
                ir.COPY, name, name, atom, operands=[atom.value], label="copy"
            )
            if not fresh:
                self.alias_of(copied, [atom])
        elif isinstance(atom, cst.List) and not atom.elements:
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.dyn.add(emitted)
            self.note_new_list(emitted, [])
        elif isinstance(atom, (cst.Tuple, cst.List)):
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.lit[emitted] = ("seq", [e.value for e in atom.elements])
            self.display_depth[emitted] = len(self.loops)
            self.alias_of(emitted, [e.value for e in atom.elements], container=True)
            self.note_sequence(emitted, atom)
            if isinstance(atom, cst.List):
                self.note_display(emitted)
        elif isinstance(atom, cst.Dict):
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            entries = {}
            for el in atom.elements:
                key = self.key_of(el.key)  # type: ignore[union-attr]
                entries[key] = el.value
            self.lit[emitted] = ("dict", entries)
            self.display_depth[emitted] = len(self.loops)
            self.alias_of(emitted, list(entries.values()), container=True)
        else:
            self.fail(
                atom,
                "this expression cannot be assigned to a name",
                "split it into simpler statements",
                "container",
            )
