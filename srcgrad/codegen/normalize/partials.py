"""Partials and bound methods called in the differentiated function: a
``functools.partial`` of a user function (made in the function, or reached through a global)
and a user function's bound method are inlined with the partial's arguments (or ``self``)
bound first.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import libcst as cst

from srcgrad.codegen.normalize.base import _PartialOf
from srcgrad.codegen.normalize.syntax import _assigned_in
from srcgrad.codegen.resolve import LIBRARIES


def _library_method(m: types.MethodType) -> bool:
    """A method of an array library's object (``scipy.stats.norm.logpdf``): never inlined (a
    rule differentiates it, or the call is refused at the user's line)."""
    mod = getattr(m.__func__, "__module__", None) or ""
    return mod.split(".", 1)[0] in LIBRARIES


def _user_call_method(obj: Any) -> types.FunctionType | None:
    """The ``__call__`` its class defines when ``obj`` is an instance of a user class with
    one (a callable object: inlined as the bound method would be), else None."""
    if isinstance(obj, (type, types.FunctionType, types.MethodType, functools.partial)):
        return None
    call = getattr(type(obj), "__call__", None)
    if not isinstance(call, types.FunctionType):
        return None  # a builtin's slot (functions, ufuncs, classes)
    mod = getattr(call, "__module__", None) or ""
    library = mod.split(".", 1)[0] in (*LIBRARIES, "srcgrad")
    return None if library else call  # (srcgrad's own objects have their own paths)


class Partials:
    """Partials and bound methods of user functions (a mixin of :class:`Normalizer`)."""

    def _call_partial(
        self,
        e: cst.Call,
        entry: _PartialOf,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        """A call of a partial made in the function: its function inlined with the partial's
        positional arguments first, then the call's, and its keywords unless the call gives
        them."""
        pos = [a for a in entry.args if a.keyword is None]
        given = {a.keyword.value for a in args if a.keyword is not None}
        kept = [
            a
            for a in entry.args
            if a.keyword is not None and a.keyword.value not in given
        ]
        merged = [*pos, *[a for a in args if a.keyword is None]]
        merged += kept + [a for a in args if a.keyword is not None]
        return self.inline_call(e, entry.fn, merged, hint, target)

    def local_partial(self, name: str, value: cst.BaseExpression) -> bool:
        """``g = functools.partial(f, a, k=v)`` of a user function ``f``, outside loops or
        as the only binding of ``g``: calls of ``g`` inline ``f`` (see :class:`_PartialOf`).
        False (nothing done) for any other assignment."""
        if not isinstance(value, cst.Call) or not value.args:
            return False
        chain = self._global_chain(value.func)
        first = value.args[0]
        if chain is None or chain[1] is not functools.partial or first.keyword:
            return False
        target = self._global_chain(first.value) if not first.star else None
        if target is None or not isinstance(target[1], types.FunctionType):
            return False
        if self.loops and _assigned_in(self.body_node).count(name) != 1:
            return False  # a partial made in another iteration may be the one called
        self.note_ref(value, first.value, target[0], target[1])
        args = tuple(
            a if self._function_chain(a.value) else self.lower_arg(a, name)
            for a in value.args[1:]
        )
        self.forget(name)
        self.local_funcs[name] = _PartialOf(target[1], args)
        return True

    def _partial_or_method_call(
        self,
        e: cst.Call,
        func: cst.BaseExpression,
        chain: tuple[list[str], Any] | None,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """A call of a ``functools.partial`` of a user function, or of a user function's
        bound method: the function inlined, with the partial's arguments (or ``self``) bound
        to the global expressions that read them (``super().m(x)``: ``Base.m(self, x)``);
        None for any other call."""
        based = self.super_as_base_call(e)
        if based is not None:
            return self.call(based, hint, target)
        if chain is not None and isinstance(chain[1], functools.partial):
            pobj = chain[1]
            if isinstance(pobj.func, types.FunctionType):
                self.note_ref(e, func, chain[0], pobj)
                args = [self.lower_arg(a, hint) for a in e.args]
                sig_names = list(inspect.signature(pobj.func).parameters)
                pre: dict[str, cst.BaseExpression] = {}
                ptext = cst.Module([]).code_for_node(self._xp_chain(func))
                for i, _ in enumerate(pobj.args):
                    pre[sig_names[i]] = cst.parse_expression(f"{ptext}.args[{i}]")
                for k in pobj.keywords:
                    pre[k] = cst.parse_expression(f"{ptext}.keywords[{k!r}]")
                return self.inline_call(e, pobj.func, args, hint, target, pre)
        if (
            chain is not None
            and isinstance(chain[1], types.MethodType)
            and isinstance(chain[1].__func__, types.FunctionType)
            and isinstance(func, cst.Attribute)
            and not _library_method(chain[1])
        ):
            m = chain[1]
            self.note_ref(e, func, [*chain[0], "__func__"], m.__func__)
            args = [self.lower_arg(a, hint) for a in e.args]
            first = next(iter(inspect.signature(m.__func__).parameters))
            return self.inline_call(
                e, m.__func__, args, hint, target, {first: self._xp_chain(func.value)}
            )
        call = _user_call_method(chain[1]) if chain is not None else None
        if call is not None:  # `MODEL(x)`, `self.cell(x, h)`: an object's own __call__
            self.note_ref(e, func, [*chain[0], "__call__", "__func__"], call)
            args = [self.lower_arg(a, hint) for a in e.args]
            first = next(iter(inspect.signature(call).parameters))
            return self.inline_call(
                e, call, args, hint, target, {first: self._xp_chain(func)}
            )
        return None

    def super_as_base_call(self: Any, e: cst.Call) -> cst.Call | None:
        """``super().m(args)`` in a method whose ``self`` is an object known here: the call
        ``Base.m(self, args)`` it makes, ``Base`` the class after the method's own in the
        object's MRO that defines ``m`` (reached by its module-level name, as a user would
        write it).  Only where that MRO is the method's class's own (no diamond), so the
        code depends on the method alone, as the cache assumes; None elsewhere (refused
        by the method-call path)."""
        func = e.func
        if not (
            isinstance(func, cst.Attribute)
            and self.builtin_call(func.value, ("super",)) is not None
            and not func.value.args  # type: ignore[attr-defined]
        ):
            return None
        owner = self.resolver.closure.get("__class__")  # the cell super() reads
        params = list(inspect.signature(self.resolver.fn).parameters)
        chain = self._global_chain(cst.Name(params[0])) if params else None
        if owner is None or chain is None:
            return None
        mro, method = type(chain[1]).__mro__, func.attr.value
        if owner not in mro or mro[mro.index(owner) + 1 :] != owner.__mro__[1:]:
            return None  # (a diamond: the next class depends on the object's type)
        later = owner.__mro__[1:]
        base = next((c for c in later if method in vars(c)), None)
        if base is None or not isinstance(vars(base)[method], types.FunctionType):
            return None
        if self.resolver.lookup(base.__name__) != (True, base):
            return None
        new = e.with_changes(
            func=cst.Attribute(cst.Name(base.__name__), cst.Name(method)),
            args=[cst.Arg(cst.Name(params[0])), *e.args],
        )
        self.src.alias_tree(new, e)
        return new
