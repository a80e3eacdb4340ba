"""Function tables: a call of an entry of a module-level dict, list or tuple of functions
(``ACTIVATIONS[name](h)``).  A constant key calls that entry as a call of it by name would;
a key known only when the code runs (a configuration argument, a loop over a tuple of
names) becomes an ``if`` over the table's keys, one inlined call per entry, after a read of
the entry that raises Python's own ``KeyError`` for a key the table lacks.  The cache
records the table (its keys) and every entry called (see :func:`cache.table_step`).
"""

from __future__ import annotations

import functools
from typing import Any

import libcst as cst

from srcgrad import cache
from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import (
    _FuncChoice,
    _is_function_value,
    _MISSING,
    _TableAlias,
    _TableEntry,
)

_TABLES = (dict, list, tuple)


def _is_table(obj: Any) -> bool:
    return (
        type(obj) in _TABLES
        and len(obj) > 0
        and all(
            _is_function_value(v) or cache.is_function_argument(v)
            for v in (obj.values() if type(obj) is dict else obj)
        )
    )


class Tables:
    """Calls through tables of functions (a mixin of :class:`Normalizer`)."""

    def table_alias(self, name: str, value: cst.Subscript) -> bool:
        """``act = ACTIVATIONS["relu"]``, a function read from a module-level table by a
        constant key: ``act`` names that entry (calls of it, and calls of the parameter it
        is passed to, call through the table).  False (nothing done) for anything else.
        """
        alias = self.table_entry(value)
        if alias is None:
            alias = self._table_entry_by_value(value)
        if alias is None:
            return False
        self.forget(name)
        self.local_funcs[name] = alias
        return True

    def _indexed_table(self, value: cst.BaseExpression) -> Any:
        """The module-level table of functions that ``value``, ``TABLE[key]`` with one
        plain index, reads; None for anything else."""
        if not isinstance(value, cst.Subscript) or len(value.slice) != 1:
            return None
        if not isinstance(value.slice[0].slice, cst.Index):
            return None
        chain = self._global_chain(value.value)
        return chain[1] if chain is not None and _is_table(chain[1]) else None

    def table_entry(self, value: cst.BaseExpression) -> _TableAlias | None:
        """``TABLE[key]`` of a module-level table of functions and a key known here, as
        the entry a name bound to it (or a parameter passed it) stands for; else None.
        """
        table = self._indexed_table(value)
        if table is None:
            return None
        key = self.folded(value.slice[0].slice.value)  # type: ignore[attr-defined]
        if key is _MISSING:
            return None
        try:
            entry = table[key]
        except (KeyError, IndexError, TypeError):
            return None
        if not (_is_function_value(entry) or isinstance(entry, functools.partial)):
            return None
        node = value.with_changes(
            slice=[cst.SubscriptElement(cst.Index(cst.parse_expression(repr(key))))]
        )
        return _TableAlias(node, self.resolver)

    def _table_entry_by_value(self, value: cst.Subscript) -> _TableAlias | None:
        """``act = ACTIVATIONS[name]`` with a key known only when the code runs (an
        argument): the key is read now, into a name of its own, and a call of ``act``
        is the call ``ACTIVATIONS[<that key>](...)`` (an ``if`` over the table's keys).
        """
        if self._indexed_table(value) is None:
            return None
        key_atom = self.lower(value.slice[0].slice.value, "key")
        if self.constant_value(key_atom) is not _MISSING:
            return None  # (a constant key the table lacks: refused as before)
        if not (isinstance(key_atom, cst.Name) and key_atom.value in self.locals):
            # a free name (a closure's cell, a global): its value now, in a local
            key_atom = cst.Name(self.emit(ir.STATIC, None, "key", key_atom))
        held = self.names.temp("key")
        self.env[held] = key_atom.value  # read by name where the alias is called
        node = value.with_changes(
            slice=[cst.SubscriptElement(cst.Index(cst.Name(held)))]
        )
        return _TableAlias(node, self.resolver)

    def call_table_alias(
        self, e: cst.Call, entry: _TableAlias, hint: str, target: str | None
    ) -> cst.BaseExpression:
        """A call of a name bound to a table's entry: the call through the table."""
        if entry.resolver.globals is not self.resolver.globals:
            self.fail(
                e,
                "a function read from a table in another module, called here",
                "pass the function itself, or call it through its table in its module",
                "call",
            )
        return self.call(e.with_changes(func=entry.node), hint, target)  # type: ignore[return-value]

    def table_call(
        self, e: cst.Call, hint: str, target: str | None
    ) -> tuple[bool, cst.BaseExpression | None]:
        """Lower ``TABLE[key](...)``: (True, the call's value), or (False, None) when ``e``
        is no call of a table's entry."""
        func = e.func
        if not isinstance(func, cst.Subscript) or len(func.slice) != 1:
            return False, None
        index = func.slice[0].slice
        if not isinstance(index, cst.Index) or index.star is not None:
            return False, None
        chain = self._global_chain(func.value)
        if chain is None or not _is_table(chain[1]):
            return False, None
        parts, table = chain
        key_atom = self.lower(index.value, hint)
        key = self.constant_value(key_atom)
        base = ".".join(parts)
        if key is not _MISSING:
            out = self._table_entry_call(e, func, parts, table, key, hint, target)
            return True, out
        out = self._table_dispatch(e, func, parts, table, key_atom, base, hint, target)
        return True, out

    def _table_entry_call(
        self,
        e: cst.Call,
        func: cst.Subscript,
        parts: list[str],
        table: Any,
        key: Any,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """The call of the entry ``key`` of ``table``, as a call of it by name."""
        step = cache.table_step(key)
        try:
            obj = table[key]
        except (KeyError, IndexError, TypeError):
            obj = None
        if step is None or obj is None:
            self.fail(
                e,
                f"call of the entry {key!r} of {'.'.join(parts)}, which srcgrad cannot "
                "look up when it generates the code",
                f"key the table by names or positions it holds (e.g. {'.'.join(parts)}"
                "['tanh'])",
                "call",
            )
        key_node = cst.parse_expression(repr(key))
        entry = func.with_changes(
            slice=[cst.SubscriptElement(cst.Index(key_node))]  # type: ignore[list-item]
        )
        e = e.with_changes(func=entry)
        path = [*parts, step]  # type: ignore[list-item]
        display = f"{'.'.join(parts)}[{key!r}]"
        inlined = self._partial_or_method_call(e, entry, (path, obj), hint, target)
        if inlined is not None:
            return inlined
        special = self._special_call(e, entry, obj, display, hint, target)
        if special is not None:
            return special
        return self._resolved_call(e, entry, path, obj, display, hint, target, None)

    def _table_dispatch(
        self,
        e: cst.Call,
        func: cst.Subscript,
        parts: list[str],
        table: Any,
        key_atom: cst.BaseExpression,
        base: str,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        """``TABLE[key](...)`` with a key known when the code runs: an ``if`` over the
        table's keys, each branch the call of one entry."""
        keys = list(table) if type(table) is dict else list(range(len(table)))
        if any(cache.table_step(k) is None for k in keys):
            self.fail(
                e,
                f"call through the table {'.'.join(parts)} with a key known only when the "
                "code runs, and keys srcgrad cannot track (only names and ints)",
                "look the function up outside the differentiated function and pass it in "
                "as an argument",
                "call",
            )
        self.note_ref(e, func.value, parts, table)  # its keys: a new key regenerates
        read = func.with_changes(value=self._xp_chain(func.value))
        read = read.with_changes(
            slice=[cst.SubscriptElement(cst.Index(key_atom))]  # type: ignore[list-item]
        )
        self.stmts.append(Stmt(ir.EFFECT, [], read, self.origin))  # Python's KeyError
        args = []
        synthetic = []
        for a in self.inlined_args(e, hint):
            if isinstance(a.value, cst.Name) and a.value.value in self.locals:
                name = self.names.temp("arg")
                self.env[name] = a.value.value  # read as a name in each branch
                synthetic.append(name)
                a = a.with_changes(value=cst.Name(name))
            args.append(a)
        entries = []
        for k in keys:
            key_node = cst.parse_expression(repr(k))
            call = cst.Call(
                func=func.with_changes(
                    slice=[cst.SubscriptElement(cst.Index(key_node))]  # type: ignore[list-item]
                ),
                args=args,
            )
            entries.append((k, _TableEntry(call)))
        choice: Any = entries[-1][1]
        for k, entry in reversed(entries[:-1]):
            left: cst.BaseExpression = key_atom
            if type(table) is not dict:  # a position: negative ones count from the end
                left = cst.BinaryOperation(
                    key_atom, cst.Modulo(), cst.Integer(str(len(table)))
                )
            test = cst.Comparison(
                left=left,
                comparisons=[
                    cst.ComparisonTarget(cst.Equal(), cst.parse_expression(repr(k)))
                ],
            )
            flag = self.emit(ir.STATIC, None, "is_entry", test)
            choice = _FuncChoice(flag, entry, choice)
        try:
            return self.call_local(e, choice, [], hint, target, base)
        finally:
            for name in synthetic:
                self.env.pop(name, None)
