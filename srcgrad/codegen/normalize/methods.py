"""Method calls: array methods bound to their rules, list methods on lists built here,
random draws of a generator argument, and the refusals for methods with no rule.
"""

from __future__ import annotations

import inspect
from typing import Any

import libcst as cst
import numpy as np

from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _LIST_GROWTH
from srcgrad.codegen.normalize.randomness import SAMPLER_METHODS
from srcgrad.codegen.resolve import CONVERTING_METHODS, MUTATING_METHODS
from srcgrad.errors import MissingRuleError
from srcgrad.rules import registry

# in-place array methods with no functional rule: what to write instead
_INPLACE_METHOD_HINTS = {
    "fill": "build a new array instead: y = np.full_like(y, value)",
    "sort": "sort into a new array: y = np.sort(y)",
    "resize": "reshape into a new array: y = np.reshape(y, shape)",
    "put": "build a new array with np.where, or write y[idx] = v into an array made here",
    "itemset": "write y[idx] = v into an array made in the function",
    "setfield": "build a new array instead",
    "partition": "use np.sort(y) (partition order is not defined)",
}


def _super_hint(norm: Any, method: str) -> str:
    """``Base.method(self, ...)``: the call that ``super().method(...)`` makes in the
    method being read, with the next class of the object's MRO (else of the method's
    class's) that defines ``method`` (``Base`` when no class is known)."""
    fn = norm.resolver.fn
    owner = norm.resolver.closure.get("__class__")  # the cell super() itself reads
    params = list(inspect.signature(fn).parameters) if callable(fn) else []
    chain = norm._global_chain(cst.Name(params[0])) if params else None
    mro = type(chain[1]).__mro__ if chain is not None else ()  # the object's, if known
    mro = mro if owner in mro else getattr(owner, "__mro__", ())
    bases = mro[mro.index(owner) + 1 :] if owner in mro else ()
    base = next((c.__name__ for c in bases if method in vars(c)), "Base")
    return f"{base}.{method}({params[0] if params else 'self'}, ...)"


def _method_hint(method: str) -> str:
    """What to write instead of the array method ``method``, which has no rule."""
    if method in _INPLACE_METHOD_HINTS:
        return _INPLACE_METHOD_HINTS[method]
    fn = getattr(np, method, None)
    if fn is not None and registry.lookup(fn) is not None:
        return f"call np.{method}(x, ...) instead: it has a rule"
    return (
        "rewrite it with numpy functions that have rules (`srcgrad rules` lists them), or "
        "register one with @srcgrad.rules.adjoint"
    )


class Methods:
    """Method calls (a mixin of :class:`Normalizer`)."""

    def method_call(
        self, e: cst.Call, hint: str, target: str | None, multi: list[str] | None
    ) -> cst.BaseExpression:
        """Lower ``receiver.method(args)``: a list display's growth, a list method on a list
        built here, a random draw, a constant, an array method with a rule (a primitive) or
        without one (refused)."""
        func = cst.ensure_type(e.func, cst.Attribute)
        method = func.attr.value
        was_read = (
            self.display_read.get(self.env.get(func.value.value, ""), 0)
            if isinstance(func.value, cst.Name)
            else 0
        )
        receiver = self.lower(func.value, hint)
        cur = receiver.value if isinstance(receiver, cst.Name) else None
        if cur in self.lit_stmt:
            self.display_read[cur] = (
                was_read  # the receiver: a read unless it grows (below)
            )
        args = [self.lower_arg(a, hint) for a in e.args]
        if any(a.star for a in args) and (
            cur in self.lit_stmt
            or cur in self.dyn
            or cur in self.lit
            or cur in self.cont
        ):
            self.refuse_unpacked_arguments(e, f".{method}()")  # a container's method
        node = e.with_changes(func=func.with_changes(value=receiver), args=args)
        if method == "append" and cur in self.lit and self.append_as_display(cur, args):
            return cst.Name("None")  # a display of tuples grown in straight-line code
        if cur in self.lit_stmt:
            if method in _LIST_GROWTH and (
                cur in self.lit or not all(self.is_static(a.value) for a in args)
            ):
                self.grow_display(
                    cur, e
                )  # a display that grows: a list built with append
            else:
                self.read_display(
                    cur
                )  # read, or changed by constants (a constant still)
                self.seq_displays.pop(cur, None)  # (its items may have changed)
        if cur in self.dyn:
            return self._list_method(e, cur, method, args)
        if cur in self.lit:
            self._refuse_display_method(e, func, cur, method)
        if isinstance(receiver, cst.Name) and receiver.value in self.cont:
            self.fail(
                e,
                f"method .{method}() of a container argument",
                'read entries with constant keys, e.g. params["W"]',
                "container-method",
            )
        if (
            isinstance(receiver, cst.Name)
            and receiver.value in self.rngs
            or method in SAMPLER_METHODS
            and (self.is_static(receiver) or self._untyped_argument(receiver))
        ):
            # a generator: an argument, or a constant object's (cfg.rng), or an argument
            # whose type is not known yet (generated ahead of time) called as one
            return self.random_draw(node, args, target, hint)
        if self.is_static(receiver) and all(self.is_static(a.value) for a in args):
            return cst.Name(self.emit(ir.STATIC, target, hint, node))
        if registry.by_method(method) is not None:
            rule, bound = self._method_rule(e, receiver, method, args)
            dtype_arg = bound.get("dtype")
            if dtype_arg is not None and self.integer_dtype(
                dtype_arg, e, f".{method}()"
            ):
                return self.emit_nondiff(target, hint, node, [])  # an integer result
            return self.prim(rule, target, hint, node, bound, multi)
        return self._method_without_rule(e, receiver, method, args, node, hint, target)

    def _list_method(
        self, e: cst.Call, cur: str, method: str, args: list[cst.Arg]
    ) -> cst.BaseExpression:
        """``.append(v)`` or ``.extend(vs)`` on the list ``cur`` built with append (its value
        is None); any other list method, or a callee growing its caller's list, is refused.
        """
        if cur in self.arg_names:
            self.fail(
                e,
                "a called function appends to the list passed to it",
                "return a new list from the helper instead of mutating its argument",
                "mutate-argument",
            )
        one = len(args) == 1 and args[0].keyword is None and not args[0].star
        if method == "append" and one and self.append_as_display(cur, args):
            return cst.Name("None")  # a list of tuples grown in straight-line code
        if method == "append" and one:
            self.append_item(e, cur, args[0].value)
            return cst.Name("None")
        if method == "extend" and one:
            self.extend_list(e, cur, args[0].value)
            return cst.Name("None")
        self.fail(
            e,
            f"list method .{method}() on a list built in the function",
            "build the list with .append(...) and .extend(...) only",
            "list-method",
        )
        raise AssertionError

    def _refuse_display_method(
        self, e: cst.Call, func: cst.Attribute, cur: str, method: str
    ) -> None:
        """A method of a tuple, list or dict display built here is refused (its user name is
        poisoned: what it holds after ``d.update(...)`` is unknown)."""
        user = self.user_name(cur, "the display")
        try:
            if self.lit[cur][0] == "dict":
                self.fail(
                    e,
                    f"method .{method}() of the dict {user!r} built in the function",
                    f'read and assign its entries with constant keys: {user}["k"], '
                    f'{user}["k"] = v',
                    "container-method",
                )
            self.fail(
                e,
                f"method .{method}() of the tuple or list {user!r} built in the function",
                "build lists that grow with `lst = []` and `lst.append(...)`",
                "container-method",
            )
        finally:
            if isinstance(func.value, cst.Name):
                self.poisoned.add(
                    func.value.value
                )  # (`d.update(...)`: entries unknown)

    def _method_rule(
        self,
        e: cst.Call,
        receiver: cst.BaseExpression,
        method: str,
        args: list[cst.Arg],
    ) -> tuple[Any, dict[str, Any]]:
        """The rule of the primitive an array method stands for (``x.sum()``,
        ``x.reshape(a, b)``: the rule's ``methods``) and the method's arguments bound to it,
        the receiver as the first operand."""
        rule = registry.by_method(method)
        assert rule is not None
        varparam = rule.methods[method]
        pos = [a for a in args if a.keyword is None]
        kws = [a for a in args if a.keyword is not None]
        if any(a.star for a in pos):  # x.reshape(*shape)
            pos = self.unpacked_method_arguments(e, method, pos, varparam)
        elif varparam is not None and len(pos) > 1:
            tup = cst.Tuple(elements=[cst.Element(a.value) for a in pos])
            pos = [cst.Arg(tup)]
        bargs = [cst.Arg(receiver), *pos, *kws]
        return rule, self.bind(rule, bargs, e, f".{method}()")

    def _method_without_rule(
        self,
        e: cst.Call,
        receiver: cst.BaseExpression,
        method: str,
        args: list[cst.Arg],
        node: cst.Call,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        """A method with no rule: a non-differentiable array method, a constant method of an
        argument of unknown type, else refused with what to write instead."""
        if method in registry.NONDIFF_METHODS:
            return self.emit_nondiff(target, hint, node, [])
        if method in MUTATING_METHODS:
            self.fail(
                e,
                f"array method .{method}() writes into the array in place, which the gradient "
                "cannot follow",
                MUTATING_METHODS[method],
                f".{method}()",
            )
        if method in CONVERTING_METHODS:
            self.fail(
                e,
                f"array method .{method}() turns the values into Python objects, which the "
                "gradient cannot follow",
                CONVERTING_METHODS[method],
                f".{method}()",
            )
        if (
            self._untyped_argument(receiver)
            and not hasattr(np.ndarray, method)
            and all(self.is_static(a.value) for a in args)
        ):
            return cst.Name(
                self.emit(ir.STATIC, target, hint, node)
            )  # as for an attribute
        if isinstance(receiver, cst.Name) and (
            receiver.value in self.objects
            or self._untyped_argument(receiver)
            and not hasattr(np.ndarray, method)
        ):
            who = self.user_name(receiver.value, "an argument")
            self.fail(
                e,
                f"method .{method}() of {who}, called with a value that carries a gradient "
                "(srcgrad cannot see into an object's methods)",
                f"call a module-level function instead (def {method}(...): ... and "
                f"{method}(...)), or give it a rule with @srcgrad.custom_vjp",
                f".{method}()",
                MissingRuleError,
            )
        if self.builtin_call(cst.ensure_type(e.func, cst.Attribute).value, ("super",)):
            self.fail(
                e,
                f"super().{method}(...): a method reached through super() is not followed",
                f"call the base class's method by name: {_super_hint(self, method)}",
                "super-call",
                MissingRuleError,
            )
        if method in SAMPLER_METHODS:
            self.refuse_unseen_generator(e, method)
        if method in _LIST_GROWTH and not hasattr(np.ndarray, method):
            outside = (
                isinstance(receiver, cst.Name) and receiver.value not in self.locals
            )
            self.refuse_untracked_growth(e, method, outside)
        self.fail(
            e,
            f"method .{method}() has no adjoint rule",
            _method_hint(method),
            f".{method}()",
            MissingRuleError,
        )
        raise AssertionError
