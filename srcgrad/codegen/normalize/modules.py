"""Models (``srcgrad.nn.Module`` and any other pytree node with a type and aux data):
``model(x)``, ``self.layer(x)``, ``block(x)`` for a block of ``self.blocks``, and helper
methods ``self.encode(x)`` inline the class's method with ``self`` bound to the model's part
of the container argument; static fields read as the constants they are (the code is
specialised on them), buffers and floats as constants read when the code runs.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import libcst as cst
import numpy as np

from srcgrad import cache, tree
from srcgrad.codegen import ir
from srcgrad.codegen.normalize.base import _MISSING

_GENERATORS = (np.random.Generator, np.random.RandomState)


def _is_model(skel: Any) -> bool:
    return (
        isinstance(skel, tuple)
        and len(skel) == 4
        and isinstance(skel[3], dict)
        and "type" in skel[3]
    )


def _statics(skel: Any) -> dict[str, Any]:
    aux = skel[3].get("aux")
    try:
        return dict(aux) if aux is not None else {}
    except (TypeError, ValueError):
        return {}


class Modules:
    """Calls and field reads of models (a mixin of :class:`Normalizer`)."""

    def model_name(self, node: cst.BaseExpression) -> str | None:
        """The emitted name of a model (a container whose skeleton has a type) ``node``
        names, else None."""
        if not isinstance(node, cst.Name):
            return None
        name = self.env.get(node.value, node.value)
        entry = self.cont.get(name)
        return name if entry is not None and _is_model(entry[2]) else None

    def model_call(
        self, e: cst.Call, hint: str, target: str | None
    ) -> cst.BaseExpression | None:
        """``model(x)``, ``self.layer(x)``, ``self.blocks[i](x)``, ``self.helper(x)``: the
        method inlined with ``self`` bound to the model; None for any other call."""
        func = e.func
        if isinstance(func, cst.Name):
            model = self.model_name(func)
            return (
                None
                if model is None
                else self._method(e, model, "__call__", hint, target)
            )
        if not isinstance(func, (cst.Attribute, cst.Subscript)):
            return None
        # decided from the skeletons before anything is lowered (`cfg["rng"].normal(...)`
        # is no model's call and must be lowered once, by the usual path)
        owner_part = self._argument_part(func.value)
        if not _is_model(owner_part) and not _is_model(self._argument_part(func)):
            return None
        if isinstance(func, cst.Attribute):
            base = self.lower(func.value, hint)
            owner = self.model_name(base)
            attr = func.attr.value
            if owner is not None and attr not in self.cont[owner][2][1]:
                statics = _statics(self.cont[owner][2])
                if attr in statics:  # self.act(h) of a function the model holds
                    return self._static_function_call(
                        e, statics[attr], attr, hint, target
                    )
                return self._method(e, owner, attr, hint, target)
        called = self.lower(func, hint)
        model = self.model_name(called)
        if model is None:
            return None
        return self._method(e, model, "__call__", hint, target)

    def _static_function_call(
        self, e: cst.Call, fn: Any, attr: str, hint: str, target: str | None
    ) -> cst.BaseExpression | None:
        """``self.act(h)`` where the model holds a function as a static field: the call of
        that function by a global name that reaches it here (``np.tanh``, a module-level
        function of the user's), so that its rule or body is used."""
        func = self._global_name_of(fn)
        if func is None:
            self.fail(
                e,
                f"call of the model's static field {attr!r} ({getattr(fn, '__name__', fn)!r}), "
                "which no global name of this module reaches",
                "store a numpy function or a module-level function of this file (import it "
                "here), or call the function by its name",
                "model-call",
            )
        return self.call(e.with_changes(func=func), hint, target)

    def _global_name_of(self, fn: Any) -> cst.BaseExpression | None:
        name = getattr(fn, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            return None
        found, obj = self.resolver.lookup(name)
        if found and obj is fn and name not in self.env:
            return cst.Name(name)
        if getattr(np, name, None) is fn:
            for alias in ("np", "numpy"):
                found, obj = self.resolver.lookup(alias)
                if found and obj is np and alias not in self.env:
                    return cst.Attribute(value=cst.Name(alias), attr=cst.Name(name))
        return None

    def _method(
        self, e: cst.Call, model: str, method: str, hint: str, target: str | None
    ) -> cst.BaseExpression:
        param, path, skel = self.cont[model]
        cls = skel[3]["type"]
        fn = inspect.getattr_static(cls, method, None)
        if not isinstance(fn, types.FunctionType):
            what = (
                "has no method"
                if fn is None
                else "has a method that is not a function:"
            )
            self.fail(
                e,
                f"{cls.__qualname__} {what} {method!r} written in Python",
                f"define {method} as a plain method (def {method}(self, ...)) of the "
                "class",
                "model-call",
            )
        steps = self._path_steps(param, path)
        if steps is None:
            self.fail(
                e,
                f"a model at a place the gradient cache cannot track ({param}{path})",
                "keep models under attribute names, list positions or identifier keys",
                "model-call",
            )
        ref = cache.Ref(0, (param, *steps, "__class__", method))
        if ref not in self.refs:
            self.refs.append(ref)
            self.ref_funcs.append(fn)
        args = [cst.Arg(cst.Name(model)), *[self.lower_arg(a, hint) for a in e.args]]
        return self.inline_call(e, fn, args, hint, target)

    def _path_steps(self, param: str, path: tuple[Any, ...]) -> list[str] | None:
        """The :class:`cache.Ref` steps that reach ``path`` in the argument ``param``."""
        skel = self.containers.get(param)
        steps = []
        for key in path:
            if skel is None:
                return None
            if _is_model(skel) or skel[0] == "nt":
                if not isinstance(key, str) or not key.isidentifier():
                    return None
                steps.append(key)
            else:
                step = cache.table_step(key)
                if step is None:
                    return None
                steps.append(step)
            skel = tree.skeleton_child(skel, key, None)
        return steps

    def attribute_write(self, target: cst.Attribute, value: cst.BaseExpression) -> None:
        """``self.running_mean = v`` in the forward pass: a model's buffer (or float
        setting) is set on the model when the code runs, to a copy of ``v``; no gradient
        flows through it.  Any other attribute assignment is refused."""
        model = self.model_name(target.value)
        attr = target.attr.value
        if model is None:
            self.fail(
                target,
                "assignment to an attribute",
                "return the new value instead of storing it on an object",
                "attribute-assign",
            )
        extra = self.cont[model][2][3]
        if attr not in extra["constants"]:
            kind = "parameter" if attr in self.cont[model][2][1] else "static field"
            if attr not in self.cont[model][2][1] and attr not in _statics(
                self.cont[model][2]
            ):
                kind = "new attribute"
            self.fail(
                target,
                f"assignment to the {kind} {attr!r} of a model in the differentiated code",
                "only buffers are updated in the forward pass (declare it with "
                f"self.{attr} = nn.buffer(value)); return other new values instead",
                "attribute-assign",
            )
        val = self.lower(value, attr)
        copy = cst.Call(
            func=cst.Attribute(value=cst.Name(self.xp), attr=cst.Name("copy")),
            args=[cst.Arg(val)],
        )
        node = cst.Assign(
            targets=[
                cst.AssignTarget(
                    cst.Attribute(value=cst.Name(model), attr=cst.Name(attr))
                )
            ],
            value=copy,
        )
        self.np_alias.add("__xp__")
        self.stmts.append(ir.Stmt(ir.EFFECT, [], None, self.origin, node=node))

    def folded_field(self, node: cst.Attribute) -> Any:
        """The value of ``self.act``, a static field of a model that a literal spells, else
        _MISSING."""
        if not isinstance(node.value, cst.Name):
            return _MISSING
        model = self.model_name(node.value)
        if model is None or node.attr.value in self.cont[model][2][1]:
            return _MISSING
        value = _statics(self.cont[model][2]).get(node.attr.value, _MISSING)
        return value if cache.is_constant(value, literal=True) else _MISSING

    def is_part(self, node: cst.Attribute) -> bool:
        """Whether ``self.layer`` names a part of a model: a sub-model or an array (a
        child of its tree, which a static field holding None never is)."""
        if not isinstance(node.value, cst.Name):
            return False
        model = self.model_name(node.value)
        return model is not None and node.attr.value in self.cont[model][2][1]

    def model_field(
        self,
        base: str,
        key: Any,
        expr: cst.BaseExpression,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression | None:
        """A static field (the constant it is, or read when the code runs when no literal
        spells it) or a constant child (a buffer, a float: read when the code runs) of a
        model; None for a parameter or a part."""
        skel = self.cont[base][2]
        if not _is_model(skel):
            return None
        if key in skel[3]["constants"]:
            name = self.emit(ir.STATIC, target, hint, expr)
            kind = skel[3].get("constant_types", {}).get(key)
            if isinstance(kind, type) and issubclass(kind, _GENERATORS):
                self.rngs.add(name)  # a generator the model holds: draws are constants
            return cst.Name(name)
        if key in skel[1]:
            return None
        statics = _statics(skel)
        value = statics.get(key, _MISSING)
        if value is _MISSING:
            return None
        if cache.is_constant(value, literal=True):
            return cst.Name(
                self.emit(ir.STATIC, target, hint, cst.parse_expression(repr(value)))
            )
        return cst.Name(self.emit(ir.STATIC, target, hint, expr))
