"""Calls: what a call resolves to (a nested def, a partial or bound method, a user
function, a rule, a non-differentiable function, a random draw, stop_gradient) and how
it is lowered or refused.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

import libcst as cst
import numpy as np

from srcgrad import cache
from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _Bail, _LIST_GROWTH
from srcgrad.codegen.normalize.syntax import _dotted_node
from srcgrad.codegen.resolve import (
    BUILTIN_NONDIFF,
    frame_reader,
    is_numpy_module,
    MUTATING_FUNCTIONS,
    nearest_rules,
)
from srcgrad.errors import MissingRuleError
from srcgrad.rules import registry


# multi-output primitives that return one array for some arguments
_SINGLE_OUTPUT_WHEN = {"linalg.svd": ("compute_uv", False), "linalg.qr": ("mode", "r")}


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


_LIBRARIES = ("numpy", "scipy", "srcgrad", "builtins", "math", "functools", "operator")


def _user_object(obj: Any) -> bool:
    """A callable the user defined (or an emitted module's): its rule or non-differentiable
    declaration is the user's too, so the cache key records it."""
    fn = cache.inlined_function(obj)
    mod = getattr(fn, "__module__", None) or ""
    return mod.startswith("srcgrad.generated") or mod.split(".")[0] not in _LIBRARIES


def _is_rng(obj: Any) -> bool:
    """A random generator object: its methods are draws (non-differentiable, stateful)."""
    return isinstance(obj, (np.random.Generator, np.random.RandomState))


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
    for prefix, mod in (("", np), ("linalg.", np.linalg), ("fft.", np.fft), ("random.", np.random)):
        if getattr(mod, name, None) is obj:
            return prefix + name
    return None


class Calls:
    """Resolving and lowering calls (a mixin of :class:`Normalizer`)."""

    def call(
        self,
        e: cst.Call,
        hint: str,
        target: str | None = None,
        multi: list[str] | None = None,
    ) -> cst.BaseExpression | None:
        self._call_node = e
        if isinstance(e.func, cst.Attribute) and self._is_namespace_call(e.func.value):
            # namespace(x).ones_like(x), as emitted code writes it: the array module
            self.np_alias.add("__xp__")
            e = e.with_changes(func=e.func.with_changes(value=cst.Name("__xp__")))
        elif self._is_namespace_call(e):
            self.np_alias.add("__xp__")
            return cst.Name(self.xp)
        for a in e.args:
            if a.keyword is not None and a.keyword.value in ("out", "where"):
                self.fail(
                    a,
                    f"{a.keyword.value}= argument",
                    f"drop {a.keyword.value}=: srcgrad needs the functional form",
                    a.keyword.value,
                )
        func = e.func
        if isinstance(func, cst.Name) and func.value in self.local_funcs and func.value not in self.env:
            args = self.inlined_args(e, hint)
            return self.call_local(e, self.local_funcs[func.value], args, hint, target, func.value)
        chain = self._global_chain(func)
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
        ):
            m = chain[1]
            self.note_ref(e, func, [*chain[0], "__func__"], m.__func__)
            args = [self.lower_arg(a, hint) for a in e.args]
            first = next(iter(inspect.signature(m.__func__).parameters))
            return self.inline_call(e, m.__func__, args, hint, target, {first: self._xp_chain(func.value)})
        if chain is None and isinstance(func, cst.Attribute):
            return self.method_call(e, hint, target, multi)
        if chain is None:
            if isinstance(func, cst.Name) and func.value in self.poisoned:
                raise _Bail(None)
            if isinstance(func, cst.Name) and func.value in self.params_set and len(
                self.inline_stack
            ) == 1:
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
        parts, obj = chain  # type: ignore[misc]
        display = ".".join(parts)
        if _is_rng(getattr(obj, "__self__", None)):  # rng.normal, np.random.normal
            args = [self.lower_arg(a, hint) for a in e.args]
            node = e.with_changes(func=self._xp_chain(func), args=args)
            return self.random_draw(e, node, args, target, hint, display)
        if (
            obj in (max, min)
            and len(e.args) == 1
            and e.args[0].keyword is None
            and not e.args[0].star
        ):
            rule = registry.lookup_name("max_of" if obj is max else "min_of")
            seq = self.lower(e.args[0].value, hint)
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
            return self._lower(cst.Tuple([cst.Element(a.value) for a in e.args]), hint, target)
        if obj is dict and e.args and all(a.keyword is not None for a in e.args):
            as_dict = cst.Dict(
                [
                    cst.DictElement(cst.SimpleString(repr(a.keyword.value)), a.value)  # type: ignore[union-attr]
                    for a in e.args
                ]
            )
            return self._lower(as_dict, hint, target)
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
        if (
            res.kind in ("user", "custom")
            or (res.kind in ("rule", "nondiff") and _user_object(obj))
            or self._bound_by_user(func, parts)
        ):
            self.note_ref(e, func, parts, obj)
        if res.kind == "user" and isinstance(obj, types.FunctionType):
            args = self.inlined_args(e, hint)
        else:
            args = [self.lower_arg(a, hint) for a in e.args]
        all_static = all(
            self.is_static(a.value) or self._function_chain(a.value) for a in args
        )
        if res.kind == "user" and isinstance(obj, types.FunctionType) and not all_static:
            # inlined: the emitted code never reads the function itself
            return self.inline_call(e, obj, args, hint, None if multi is not None else target)
        in_place = MUTATING_FUNCTIONS.get(".".join(parts[1:]))
        if (
            in_place is not None
            and is_numpy_module(self.resolver.lookup(parts[0])[1])
            and not all_static
        ):
            self.fail(
                e,
                f"{display}() writes into its argument in place, which the gradient cannot "
                "follow",
                in_place,
                display,
            )
        node = e.with_changes(func=self._xp_chain(func), args=args)
        if res.kind == "rule" and res.emit_name and not is_numpy_module(
            self.resolver.lookup(parts[0])[1]
        ) and _is_numpy_obj(obj):
            node = node.with_changes(func=_dotted_node(self.xp, res.emit_name))
        if res.kind == "stop_gradient":
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
        if all_static:
            if multi is not None:
                return node
            if not is_numpy_module(self.resolver.lookup(parts[0])[1]) and _is_numpy_obj(obj):
                name = res.emit_name or getattr(obj, "__name__", display)
                node = node.with_changes(func=_dotted_node(self.xp, name))
            return cst.Name(self.emit(ir.STATIC, target, hint, node))
        if res.kind == "custom":
            assert res.rule is not None
            if obj.vjp is None:
                self.fail(e, f"{display} is a custom_vjp function with no rule attached",
                          f"attach one with @{display}.defvjp", "custom_vjp", MissingRuleError)
            bound = self.bind_signature(obj.fn, args, e, display)
            st_expr = node
            out = self.prim(res.rule, target, hint, st_expr, bound, multi)
            self.stmts[-1].bound["__callee__"] = self._xp_chain(func)
            return out
        if res.kind == "rule":
            assert res.rule is not None
            bound = self.bind(res.rule, args, e, display)
            dtype_arg = bound.get("dtype")
            if dtype_arg is not None and self.integer_dtype(dtype_arg, e, display):
                # an integer or boolean result: piecewise constant, no gradient
                if multi is not None:
                    self.fail(e, f"unpacking the result of {display}", "index the result", "unpack")
                return self.emit_nondiff(target, hint, node, [])
            if _is_numpy_obj(obj) or res.rule.module == "srcgrad.rules.scipy_special":
                # numpy and scipy functions make an array of a tuple/list operand
                node, bound = self.stack_operands(res.rule, node, bound)
            if multi is not None and not res.rule.multi_output:
                self.fail(e, f"unpacking the result of {display}", "index the result", "unpack")
            out = self.prim(res.rule, target, hint, node, bound, multi)
            single = _SINGLE_OUTPUT_WHEN.get(res.rule.name)
            if single is not None and self.constant_value(bound.get(single[0], cst.Name("_"))) == single[1]:
                return out  # e.g. svd(a, compute_uv=False): one array after all
            if res.rule.multi_output and multi is None:
                # several outputs bound to one name: a list whose items are read later
                self.dyn.add(cst.ensure_type(out, cst.Name).value)
                self.multi_results.add(cst.ensure_type(out, cst.Name).value)
            return out
        if res.kind == "nondiff":
            pos = [not self.is_static(a.value) for a in args if a.keyword is None]
            kw = {a.keyword.value: not self.is_static(a.value) for a in args if a.keyword}
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
        if res.kind == "nondiff" or (res.kind == "builtin" and obj.__name__ in BUILTIN_NONDIFF):
            if _is_numpy_obj(obj) and not is_numpy_module(self.resolver.lookup(parts[0])[1]):
                node = node.with_changes(func=_dotted_node(self.xp, res.emit_name or obj.__name__))
            if multi is not None:
                self.fail(e, f"unpacking the result of {display}", "index the result", "unpack")
            return self.emit_nondiff(target, hint, node, [])
        if res.kind == "builtin":
            self.fail(
                e,
                f"builtin {display}() on values that carry a gradient",
                "write the attribute itself (x.T, cfg.scale)"
                if obj is getattr
                else _BUILTIN_HINTS.get(
                    display,
                    "rewrite it with numpy functions on arrays (`srcgrad rules` lists the "
                    "supported ones)",
                ),
                display,
            )
        if res.kind == "user" and isinstance(obj, types.FunctionType):
            if multi is not None:
                result = self.inline_call(e, obj, args, hint, None)
                return result
            return self.inline_call(e, obj, args, hint, target)
        if res.kind == "user":
            self.fail(
                e,
                f"call to {display}, a bound method or callable object (not supported yet)",
                "call a plain module-level function",
                "user-call",
            )
        if res.kind in ("unknown-numpy", "unknown") and all(
            self.is_static(a.value)
            or isinstance(a.value, cst.Name) and a.value.value in self.stopped
            for a in args
        ):
            # every input is a constant or wrapped in stop_gradient: a constant result
            return self.emit_nondiff(target, hint, node, [])
        if res.kind == "unknown-numpy":
            if isinstance(obj, np.vectorize) or (
                isinstance(obj, np.ufunc) and _numpy_export_name(obj) is None
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
                f"no adjoint rule for {display}{alt}",
                "use a supported function, register a rule with "
                "@srcgrad.rules.adjoint, or wrap a constant input in srcgrad.stop_gradient",
                display,
                MissingRuleError,
            )
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, list) and getattr(obj, "__name__", "") in _LIST_GROWTH:
            self.refuse_untracked_growth(e, obj.__name__, outside=True)  # GL.append(v)
        self.fail(
            e,
            f"call to {display}, which srcgrad cannot differentiate",
            "use numpy functions, compute it outside the function and pass it in, or wrap "
            "its inputs in srcgrad.stop_gradient when no gradient should flow through it",
            display,
            MissingRuleError,
        )
        return None

    def random_draw(
        self,
        e: cst.Call,
        node: cst.Call,
        args: list[cst.Arg],
        target: str | None,
        hint: str,
        display: str,
    ) -> cst.BaseExpression:
        """A method of a random generator object (``rng.normal(size=n)``): a draw, made once
        in the forward pass on the user's own object and kept as a constant.  Its arguments
        must not carry a gradient (the draw would depend on them)."""
        for a in args:
            if not self.is_static(a.value):
                name = a.keyword.value if a.keyword is not None else "an argument"
                self.fail(
                    e,
                    f"random draw {display}() with {name} that carries a gradient "
                    "(the sample would depend on it)",
                    "draw noise that does not depend on the inputs and transform it, e.g. "
                    "mu + sigma * rng.standard_normal(mu.shape) instead of "
                    "rng.normal(mu, sigma)",
                    "random",
                )
        return cst.Name(self.emit(ir.STATIC, target, hint, node, label="random draw"))
