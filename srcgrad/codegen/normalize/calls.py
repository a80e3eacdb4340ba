"""Calls: what a call resolves to (a nested def, a partial or bound method, a user
function, a rule, a non-differentiable function, a random draw, stop_gradient) and how
it is lowered or refused.
"""

from __future__ import annotations

import functools

import types
from typing import Any, NamedTuple

import libcst as cst
import numpy as np

from srcgrad import cache
from srcgrad.codegen import ir
from srcgrad.codegen.check import transposing_zip
from srcgrad.codegen.check import unpacking_allowed
from srcgrad.codegen.normalize.base import _Bail, _LIST_GROWTH, emitted_function
from srcgrad.codegen.normalize.randomness import is_generator, makes_generator
from srcgrad.codegen.normalize.syntax import _dotted_node
from srcgrad.codegen.resolve import (
    BUILTIN_NONDIFF,
    frame_reader,
    is_numpy_module,
    library_hint,
    library_name,
    MUTATING_FUNCTIONS,
    nearest_rules,
    spelled_library_name,
)
from srcgrad.errors import MissingRuleError
from srcgrad.rules import registry

# builtins that have no rule on values that carry a gradient: what to write instead
_BUILTIN_HINTS = {
    "sorted": "sort the array with np.sort(x)",
    "reversed": "reverse the array with x[::-1]",
    "list": "use the value itself (index it, slice it or loop over it), or build a new list "
    "with [a, b] or .append",
    "tuple": "use the value itself (index it, slice it or loop over it), or build a tuple "
    "display (a, b)",
    "round": "use np.round(x)",
    "map": "write a loop or a comprehension: [f(v) for v in xs]",
    "filter": "select with a boolean mask, x[mask], or np.where",
    "int": "convert only constants; for values that carry a gradient use np.floor(x)",
    "divmod": "use np.floor_divide and np.mod (or // and %)",
    "any": "use np.any(x)",
    "all": "use np.all(x)",
}


# functions that read only a value's shape: their result is a constant, as ``x.shape`` is
_SHAPE_READS = (len, np.shape, np.ndim, np.size)

_LIBRARIES = ("numpy", "scipy", "srcgrad", "builtins", "math", "functools", "operator")


def _user_object(obj: Any) -> bool:
    """A callable the user defined (or an emitted module's): its rule or non-differentiable
    declaration is the user's too, so the cache key records it."""
    fn = cache.inlined_function(obj)
    mod = getattr(fn, "__module__", None) or ""
    return mod.startswith("srcgrad.generated") or mod.split(".")[0] not in _LIBRARIES


def _is_numpy_obj(obj: Any) -> bool:
    """A function numpy exports (so that ``xp.<its name>`` is the same function on numpy);
    never a method bound to an object (``rng.normal``), which lives on that object."""
    owner = getattr(obj, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return False
    if isinstance(obj, np.ufunc):  # scipy.special's ufuncs are ufuncs too
        return getattr(np, obj.__name__, None) is obj
    mod = getattr(obj, "__module__", None) or ""
    return mod == "numpy" or mod.startswith("numpy.")


def _numpy_export_name(obj: Any) -> str | None:
    """The dotted name numpy exports ``obj`` under (``"linalg.matrix_power"``), or None."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    for prefix, mod in (
        ("", np),
        ("linalg.", np.linalg),
        ("fft.", np.fft),
        ("random.", np.random),
    ):
        if getattr(mod, name, None) is obj:
            return prefix + name
    return None


class _Site(NamedTuple):
    """A resolved call being lowered: the call ``e`` and its callee (the expression ``func``,
    the global name chain ``parts`` it spells, the object ``obj`` that resolves to, and what
    kind of callee ``res`` says that is), the lowered call ``node`` and its lowered ``args``,
    the name in messages, and where the result goes (``hint``, ``target``, the names
    ``multi`` unpacks it into)."""

    e: cst.Call
    func: cst.BaseExpression
    parts: list[str]
    obj: Any
    res: Any
    node: cst.Call
    args: list[cst.Arg]
    display: str
    hint: str
    target: str | None
    multi: list[str] | None


# what a primitive reads of a list a loop grows is the list as it is now (lower_arg)
_PRIMITIVE = ("rule", "custom")


class Calls:
    """Resolving and lowering calls (a mixin of :class:`Normalizer`)."""

    def call(
        self,
        e: cst.Call,
        hint: str,
        target: str | None = None,
        multi: list[str] | None = None,
    ) -> cst.BaseExpression | None:
        """Lower the call ``e``: of a nested def (inlined), of a partial or bound method of a
        user function (inlined), a method of a value (no global chain), or of a global name
        chain, by what that chain resolves to (:meth:`_resolved_call`)."""
        self._call_node = e
        if transposing_zip(e) and "zip" not in self.env:
            return self.zip_columns(e, hint, target)
        if isinstance(e.func, cst.Attribute) and self._is_namespace_call(e.func.value):
            # namespace(x).ones_like(x), as emitted code writes it: the array module
            self.np_alias.add("__xp__")
            e = e.with_changes(func=e.func.with_changes(value=cst.Name("__xp__")))
        elif self._is_namespace_call(e):
            self.np_alias.add("__xp__")
            return cst.Name(self.xp)
        e = self.out_keywords(e)
        e = self.expand_known_star_args(e, hint)
        func = e.func
        if not unpacking_allowed(e):
            raise _Bail(None)  # `f(*args)`: reported by check; binding it would mislead
        if (
            isinstance(func, cst.Name)
            and func.value in self.local_funcs
            and func.value not in self.env
        ):
            args = self.inlined_args(e, hint)
            return self.call_local(
                e, self.local_funcs[func.value], args, hint, target, func.value
            )
        called = self.model_call(e, hint, target)
        if called is not None:
            return called
        handled, value = self.table_call(e, hint, target)
        if handled:
            return value
        chain = self._global_chain(func)
        inlined = (
            None  # `*`-unpacked constants: a constant call, or refused
            if any(a.star for a in e.args)
            else self._partial_or_method_call(e, func, chain, hint, target)
        )
        if inlined is not None:
            return inlined
        if chain is None and isinstance(func, cst.Attribute):
            return self.method_call(e, hint, target, multi)
        if chain is None:
            self._refuse_call_of_value(e, func)
        parts, obj = chain  # type: ignore[misc]
        display = ".".join(parts)
        special = self._special_call(e, func, obj, display, hint, target)
        if special is not None:
            return special
        return self._resolved_call(e, func, parts, obj, display, hint, target, multi)

    def _refuse_call_of_value(self, e: cst.Call, func: cst.BaseExpression) -> None:
        """A call of something that is no global name chain: an argument, a local value, an
        undefined name or an expression (refused; a poisoned name raises no second
        finding)."""
        if isinstance(func, cst.Name) and func.value in self.poisoned:
            raise _Bail(None)
        if (
            isinstance(func, cst.Name)
            and func.value in self.params_set
            and len(self.inline_stack) == 1
        ):
            self.fail(
                e,
                f"call of the argument {func.value!r} (a function passed in): srcgrad "
                "resolves every call when it generates the code, from names it can see",
                f"call the function by its name inside the function, or capture it in a "
                f"closure: def make({func.value}): def f(...): ... {func.value}(...) ...; "
                f"return f, then differentiate make(np.tanh)",
                "call",
            )
        if isinstance(func, cst.Name) and func.value in self.env:
            self.fail(
                e,
                f"call of a local value {func.value!r} (a function stored in a variable)",
                "call the function by the name it was defined or imported under, e.g. "
                "np.log(x) rather than g = np.log; g(x)",
                "call",
            )
        parts = self.resolver.dotted(func)
        if parts is not None and not self.resolver.lookup(parts[0])[0]:
            self.fail(func, f"name {parts[0]!r} is not defined", "define it", "name")
        self.fail(
            e,
            "call of an expression (a function returned by a call, or a lambda called "
            "where it is written)",
            "call a function by its name: define it with def (or bind the lambda to a "
            "name) and call that name, passing what it captured as arguments",
            "call",
        )

    def _special_call(
        self,
        e: cst.Call,
        func: cst.BaseExpression,
        obj: Any,
        display: str,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """Calls lowered as something else: a random generator's draw, ``max``/``min`` of one
        sequence, a NamedTuple (a tuple display) and ``dict(k=v)`` (a dict display); None
        for any other call."""
        accumulated = self.accumulate_call(e, func, obj, hint, target)
        if accumulated is None:
            accumulated = self.reduce_call(e, func, obj, hint, target)
        if accumulated is None:
            accumulated = self.positions_call(e, func, obj, hint, target)
        if accumulated is not None:
            return accumulated
        if is_generator(getattr(obj, "__self__", None)) or makes_generator(obj):
            # rng.normal, np.random.normal, np.random.default_rng(seed)
            args = [self.lower_arg(a, hint) for a in e.args]
            node = e.with_changes(func=self.numpy_random_callee(func), args=args)
            return self.random_draw(node, args, target, hint)
        if (
            obj in (max, min)
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            rule = registry.lookup_name("max_of" if obj is max else "min_of")
            seq = self.lower_arg(e.args[0], hint, snapshot=True).value
            if rule is not None and not self.is_static(seq):
                node = e.with_changes(args=[e.args[0].with_changes(value=seq)])
                return self.prim(rule, target, hint, node, {"iterable": seq})
        if (
            isinstance(obj, type)
            and issubclass(obj, tuple)
            and hasattr(obj, "_fields")
            and all(a.keyword is None and not a.star for a in e.args)
        ):
            # a NamedTuple built here (the residuals of emitted code): a tuple display
            return self._lower(
                cst.Tuple([cst.Element(a.value) for a in e.args]), hint, target
            )
        if obj is dict and e.args and all(a.keyword is not None for a in e.args):
            as_dict = cst.Dict(
                [
                    cst.DictElement(cst.SimpleString(repr(a.keyword.value)), a.value)  # type: ignore[union-attr]
                    for a in e.args
                ]
            )
            return self._lower(as_dict, hint, target)
        return None

    def _resolved_call(
        self,
        e: cst.Call,
        func: cst.BaseExpression,
        parts: list[str],
        obj: Any,
        display: str,
        hint: str,
        target: str | None,
        multi: list[str] | None,
    ) -> cst.BaseExpression | None:
        """A call of the object ``obj`` a global name chain ``parts`` resolves to: inlined (a
        user function), a constant (constant arguments), a primitive (a rule or a
        custom_vjp), stop_gradient, or a non-differentiable call, else refused."""
        frame_hint = frame_reader(obj)
        if frame_hint is not None:
            self.fail(
                e,
                f"{display}() reads or changes names by string or the calling frame; srcgrad "
                "cannot see what it does to values that carry a gradient",
                frame_hint,
                display,
            )
        res = self.resolver.classify(obj, display)
        if res.kind == "builtin" and (obj is tuple or obj is list):
            made = self.sequence_of_comprehension(e, obj, hint, target)
            if made is not None:
                return made
        if (
            res.kind in ("user", "custom")
            or (res.kind in ("rule", "nondiff") and _user_object(obj))
            or self._bound_by_user(func, parts)
        ):
            self.note_ref(e, func, parts, obj)
        if obj is functools.reduce:
            folded = self.fold_as_loop(e, hint, target)
            if folded is not None:
                return folded
        if res.kind == "user" and isinstance(obj, types.FunctionType):
            args = self.inlined_args(e, hint)
        else:
            args = [self.lower_arg(a, hint, res.kind in _PRIMITIVE) for a in e.args]
        all_static = all(
            self.is_static(a.value) or self._function_chain(a.value) for a in args
        )
        if not all_static and any(a.star for a in args):
            self.refuse_unpacked_arguments(e, display)
        if (
            res.kind == "user"
            and isinstance(obj, types.FunctionType)
            and not all_static
        ):
            # inlined: the emitted code never reads the function itself
            _refuse_runtime_helper(self, e, obj, display)
            return self.inline_call(
                e, obj, args, hint, None if multi is not None else target
            )
        self._refuse_in_place_function(e, parts, display, all_static)
        node = e.with_changes(func=self.numpy_random_callee(func), args=args)
        if (
            res.kind == "rule"
            and res.emit_name
            and not self._spelled_through_numpy(parts)
            and _is_numpy_obj(obj)
        ):
            node = node.with_changes(func=_dotted_node(self.xp, res.emit_name))
        if res.kind == "stop_gradient":
            return self._stop_gradient_call(e, node, args, hint, target)
        site = _Site(e, func, parts, obj, res, node, args, display, hint, target, multi)
        if all_static:
            return self._constant_call(site)
        if res.kind == "custom":
            return self._custom_vjp_call(site)
        if res.kind == "rule":
            return self._rule_call(site)
        nondiff = self._nondiff_call(site)
        if nondiff is not None:
            return nondiff
        return self._unruled_call(site)

    def _refuse_in_place_function(
        self, e: cst.Call, parts: list[str], display: str, all_static: bool
    ) -> None:
        """A numpy function that writes into its argument (``np.copyto``, ``np.put``, ...),
        called on values that carry a gradient, is refused."""
        in_place = MUTATING_FUNCTIONS.get(".".join(parts[1:]))
        if (
            in_place is not None
            and self._spelled_through_numpy(parts)
            and not all_static
        ):
            self.fail(
                e,
                f"{display}() writes into its argument in place, which the gradient cannot "
                "follow",
                in_place,
                display,
            )

    def _stop_gradient_call(
        self,
        e: cst.Call,
        node: cst.Call,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        """``srcgrad.stop_gradient(v)``: the runtime's own, its result carries no gradient."""
        if len(args) != 1:
            self.fail(
                e,
                "stop_gradient takes one argument",
                "wrap each value on its own: srcgrad.stop_gradient(a), "
                "srcgrad.stop_gradient(b)",
                "stop_gradient",
            )
        self.runtime_imports.add("stop_gradient")
        node = node.with_changes(func=cst.Name(self.names.generated("stop_gradient")))
        out = self.emit(ir.STOP, target, hint, node, label="stop_gradient")
        self.stopped.add(out)
        return cst.Name(out)

    def _constant_call(self, site: _Site) -> cst.BaseExpression:
        """A call whose arguments are all constants: a constant (numpy's functions called
        through ``xp``)."""
        node, obj = site.node, site.obj
        if site.multi is not None:
            return node
        exported = _numpy_export_name(obj) or ""
        if (
            not self._spelled_through_numpy(site.parts)
            and _is_numpy_obj(obj)
            and not exported.startswith("random.")  # (read as the function reads it)
        ):
            name = site.res.emit_name or getattr(obj, "__name__", site.display)
            node = node.with_changes(func=_dotted_node(self.xp, name))
        return cst.Name(self.emit(ir.STATIC, site.target, site.hint, node))

    def _custom_vjp_call(self, site: _Site) -> cst.BaseExpression:
        """A call of a ``srcgrad.custom_vjp`` function: a primitive whose rule is the user's."""
        e, obj, rule, display = site.e, site.obj, site.res.rule, site.display
        assert rule is not None
        returns = getattr(obj, "returns", None)
        if returns is not None and site.multi is None:
            # a check that returns its argument: called for its effect; the value is
            # the argument itself
            bound = self.bind_signature(obj.fn, site.args, e, display)
            value = bound.get(returns)
            if isinstance(value, cst.BaseExpression):
                call = site.node.with_changes(func=self._xp_chain(site.func))
                self.stmts.append(ir.Stmt(ir.EFFECT, [], call, self.origin))
                return value
        if obj.vjp is None:
            self.fail(
                e,
                f"{display} is a custom_vjp function with no rule attached",
                f"attach one with @{display}.defvjp",
                "custom_vjp",
                MissingRuleError,
            )
        bound = self.bind_signature(obj.fn, site.args, e, display)
        out = self.prim(rule, site.target, site.hint, site.node, bound, site.multi)
        self.stmts[-1].bound["__callee__"] = self._xp_chain(site.func)
        return out

    def _rule_call(self, site: _Site) -> cst.BaseExpression:
        """A call of a function with an adjoint rule: a primitive (non-differentiable for an
        integer ``dtype=``; several outputs bound to one name are a list)."""
        e, node, rule, display, multi = (
            site.e,
            site.node,
            site.res.rule,
            site.display,
            site.multi,
        )
        assert rule is not None
        bound = self.bind(rule, site.args, e, display)
        self.refuse_unaccepted(rule, e, bound)
        dtype_arg = bound.get("dtype")
        if dtype_arg is not None and self.integer_dtype(dtype_arg, e, display):
            # an integer or boolean result: piecewise constant, no gradient
            return self._constant_result(site, node)
        if site.obj is rule.primitive and rule.array_operands:
            # numpy and scipy functions make an array of a tuple/list operand
            node, bound = self.stack_operands(rule, node, bound)
        if multi is not None and not rule.multi_output:
            multi = None  # one array: its rows are unpacked where it is bound
        out = self.prim(rule, site.target, site.hint, node, bound, multi)
        single = rule.single_output_when
        if (
            single is not None
            and self.constant_value(bound.get(single[0], cst.Name("_"))) == single[1]
        ):
            return out  # e.g. svd(a, compute_uv=False): one array after all
        if rule.multi_output and multi is None:
            # several outputs bound to one name: a list whose items are read later
            self.dyn.add(cst.ensure_type(out, cst.Name).value)
            self.multi_results.add(cst.ensure_type(out, cst.Name).value)
        return out

    def _nondiff_call(self, site: _Site) -> cst.BaseExpression | None:
        """A call of a function declared non-differentiable (or such a builtin): a constant
        result, refused where it would drop an argument's gradient; None for other calls.
        """
        e, obj, res, args, display = site.e, site.obj, site.res, site.args, site.display
        node = site.node
        if res.kind == "nondiff":
            pos = [not self.is_static(a.value) for a in args if a.keyword is None]
            kw = {
                a.keyword.value: not self.is_static(a.value) for a in args if a.keyword
            }
            lost = registry.nondiff_active_argument(obj, pos, kw)
            if lost is not None:
                self.fail(
                    e,
                    f"{display}'s {lost!r} carries a gradient, which {display} would drop",
                    f"pass a constant {lost} (wrap it in srcgrad.stop_gradient if it is one), "
                    "or build the values with differentiable operations (np.linspace, "
                    "start + step * np.arange(n))",
                    display,
                    MissingRuleError,
                )
        if res.kind == "nondiff" or (
            res.kind == "builtin" and obj.__name__ in BUILTIN_NONDIFF
        ):
            if _is_numpy_obj(obj) and not self._spelled_through_numpy(site.parts):
                node = node.with_changes(
                    func=_dotted_node(self.xp, res.emit_name or obj.__name__)
                )
            if any(obj is f for f in _SHAPE_READS):
                # the shape of a value, never its entries: a constant, as x.shape is
                hint = site.hint if site.multi is None else site.multi[0]
                target = site.target if site.multi is None else None
                return cst.Name(self.emit(ir.STATIC, target, hint, node))
            return self._constant_result(site, node)
        return None

    def _constant_result(self, site: _Site, node: cst.Call) -> cst.BaseExpression:
        """The call ``node`` (lowered from ``site``) as a value with no gradient (unpacked
        where it is bound, as Python unpacks it)."""
        return self.emit_nondiff(site.target, site.hint, node, [])

    def _spelled_through_numpy(self, parts: list[str]) -> bool:
        """Whether the name chain starts at a numpy module (``np.sum``), so that it runs on
        any array module already; else a numpy function is re-spelled through ``xp``."""
        return is_numpy_module(self.resolver.lookup(parts[0])[1])

    def _unruled_call(self, site: _Site) -> cst.BaseExpression | None:
        """A call with no rule: a builtin (refused), a user function (inlined), a callable
        object (refused), or an unknown function (a constant when no input carries a
        gradient, else refused)."""
        e, obj, res, args, display = site.e, site.obj, site.res, site.args, site.display
        hint, target = site.hint, site.target
        if res.kind == "builtin":
            self.fail(
                e,
                f"builtin {display}() on values that carry a gradient",
                (
                    "write the attribute itself (x.T, cfg.scale)"
                    if obj is getattr
                    else _BUILTIN_HINTS.get(
                        display,
                        "rewrite it with numpy functions on arrays (`srcgrad rules` lists the "
                        "supported ones)",
                    )
                ),
                display,
            )
        if res.kind == "user" and isinstance(obj, types.FunctionType):
            _refuse_runtime_helper(self, e, obj, display)
            return self.inline_call(
                e, obj, args, hint, None if site.multi is not None else target
            )
        if res.kind == "user":
            self.fail(
                e,
                f"call to {display}, a bound method or callable object (not supported yet)",
                "call a plain module-level function",
                "user-call",
            )
        if res.kind in ("unknown-numpy", "unknown") and all(
            self.is_static(a.value)
            or isinstance(a.value, cst.Name)
            and a.value.value in self.stopped
            for a in args
        ):
            # every input is a constant or wrapped in stop_gradient: a constant result
            return self.emit_nondiff(target, hint, site.node, [])
        self._refuse_unknown_call(e, obj, res, display)
        return None

    def _refuse_unknown_call(
        self, e: cst.Call, obj: Any, res: Any, display: str
    ) -> None:
        """A call srcgrad cannot differentiate: an object numpy made, a numpy function with
        no rule (with the nearest that have one), a list's growth method, anything else.
        """
        if res.kind == "unknown-numpy":
            full = library_name(obj)
            if isinstance(obj, np.vectorize) or (
                isinstance(obj, np.ufunc)
                and _numpy_export_name(obj) is None
                and not full.startswith("scipy.")
            ):
                # np.vectorize(...), a ufunc made by np.frompyfunc, ...
                self.fail(
                    e,
                    f"{display} is a {type(obj).__name__} object made by numpy, which srcgrad "
                    "cannot differentiate through",
                    "write the computation with numpy functions that have rules on whole "
                    "arrays (`srcgrad rules` lists them)",
                    display,
                    MissingRuleError,
                )
            near = [n for n in nearest_rules(display) if n != f"np.{display}"]
            alt = f"; nearest supported: {', '.join(near)}" if near else ""
            self.fail(
                e,
                f"no adjoint rule for {spelled_library_name(display, obj)}{alt}",
                library_hint(obj)
                or "use a supported function, register a rule with "
                f"@srcgrad.rules.adjoint({full}), or wrap a constant input in "
                "srcgrad.stop_gradient",
                display,
                MissingRuleError,
            )
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, list) and getattr(obj, "__name__", "") in _LIST_GROWTH:
            self.refuse_untracked_growth(e, obj.__name__, outside=True)  # GL.append(v)
        self.fail(
            e,
            f"call to {display}, which srcgrad cannot differentiate",
            (
                "write the fold as a loop: acc = initial, then for item in items: acc = "
                "f(acc, item)"
                if obj is functools.reduce
                else "use numpy functions, compute it outside the function and pass it in, or "
                "wrap its inputs in srcgrad.stop_gradient when no gradient should flow through "
                "it"
            ),
            display,
            MissingRuleError,
        )


def _refuse_runtime_helper(norm: Any, e: cst.Call, obj: Any, display: str) -> None:
    """A runtime helper without a rule, called with values that carry a gradient by
    srcgrad's emitted code (a higher order): refused by name, its source (srcgrad's
    own, not the user's) is never inlined."""
    if not emitted_function(norm.resolver.fn):
        return
    if not (getattr(obj, "__module__", None) or "").startswith("srcgrad.runtime"):
        return
    norm.fail(
        e,
        f"{display}, a runtime helper that srcgrad's emitted code calls, has no rule "
        "yet: a gradient of this order through it is not supported",
        "stop at the order below for this function, or write the step it stands "
        "for without it",
        "runtime-helper",
    )
