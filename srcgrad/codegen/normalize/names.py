"""How a name read in the body is spelled in emitted code: a local's current SSA version
(refused when stale), the array module as ``xp``, and free names (globals, closure
cells, builtins) read bare or through their module; also the global name chains that
calls resolve and the cache references they record.
"""

from __future__ import annotations

import builtins

import sys
import types
from typing import Any

import libcst as cst
import numpy as np

import srcgrad.runtime as runtime
from srcgrad import cache
from srcgrad.backend import namespace
from srcgrad.codegen import ir
from srcgrad.codegen.ir import Stmt
from srcgrad.codegen.normalize.base import _is_function_value
from srcgrad.codegen.normalize.syntax import _assigned_in
from srcgrad.codegen.resolve import is_numpy_module
from srcgrad.errors import AliasError

_MISSING_VALUE = object()


class NameReads:
    """Reading names: locals, the array module and free names (a mixin of :class:`Normalizer`)."""

    def name(self, e: cst.Name) -> cst.BaseExpression:
        v = e.value
        if v in self.np_alias:
            return cst.Name(self.xp)
        if v in self.galias and v not in self.env:
            return self.galias[v][0]
        if v in self.env:
            cur = self.env[v]
            if cur in self.stale and (cur in self.lit or cur in self.dyn):
                self.fail(
                    e,
                    f"{v!r} holds an array that was written in place after it was put there",
                    f"put a copy in ({v}.append(y.copy()), [y.copy(), ...]), or build {v} "
                    "after the write",
                    "stale-view",
                    AliasError,
                )
            if cur in self.stale and cur in self.written_through:
                self.refuse_read_after_view_write(cur, self.src.where(e)[1])
            if cur in self.stale:
                self.fail(
                    e,
                    f"{v!r} is a view of an array that was written after the view was taken",
                    f"take a copy when you make it ({v} = ....copy()), or read it again "
                    "after the write",
                    "stale-view",
                    AliasError,
                )
            cur = self.env[v]
            if cur in self.lit_stmt:
                self.read_display(cur)
            if cur in self.maybe_stale:
                base = self.maybe_stale.pop(cur)
                self.runtime_imports.add("require_unshared")
                o = self.origin
                call = cst.Call(
                    func=cst.Name(self.names.generated("require_unshared")),
                    args=[
                        cst.Arg(cst.Name(cur)),
                        cst.Arg(cst.Name(base)),
                        cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {v}"))),
                    ],
                )
                self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
            return cst.Name(cur)
        if v in ("True", "False", "None"):
            return e
        if v in self.local_funcs:
            self.fail(
                e,
                f"the nested function {v!r} used as a value (stored, passed or returned)",
                f"call {v} directly where it is needed: {v}(...)",
                "def",
            )
        if v in self.unbound_rest:
            self.refuse_unbound_rest(e)
        found, obj = self.resolver.lookup(v)
        if not found:
            self.fail(e, f"name {v!r} is not defined", "define it before use", "name")
        if is_numpy_module(obj):
            return cst.Name(self.xp)
        return self._foreign(e, v)

    def _foreign(self, e: cst.BaseExpression, root: str) -> cst.BaseExpression:
        """A free name read as emitted code spells it (:meth:`_foreign_read`); an array or
        number it holds is recorded for specialisation (:meth:`_note_free_value`)."""
        out = self._foreign_read(e, root)
        self._note_free_value(e, out)
        return out

    def _note_free_value(self, e: cst.BaseExpression, out: cst.BaseExpression) -> None:
        """Record the array or Python number a free name chain ``e`` (emitted as ``out``)
        holds, with the :class:`cache.Ref` that finds it again: specialised code knows its
        shape and dtype, and the cache keys the code by them (``norm.free_values``)."""
        parts = self.resolver.dotted(e)
        if parts is None or not all(p.isidentifier() for p in parts):
            return
        found, obj = self.resolver.value_of(parts)
        if not found or cache.value_spec(obj) is None:
            return
        callee = self.resolver.fn
        owner = 0 if callee is self.fn else None
        if owner is None:
            owner = next(
                (i + 1 for i, f in enumerate(self.ref_funcs) if f is callee), None
            )
        if owner is None:
            return
        code = cst.Module([]).code_for_node(out)
        self.free_values.setdefault(code, (cache.Ref(owner, tuple(parts)), obj))

    def _foreign_read(self, e: cst.BaseExpression, root: str) -> cst.BaseExpression:
        """A free name (global, closure cell or builtin) as emitted code must spell it so that
        it reads the object the function reading it sees (DESIGN §3).

        Emitted code reads a bare name through the top function's closure cells, module
        globals and builtins, in that order; a bare name is used only where that gives the
        reader's own object and no local of the flat emitted function has that name.  Other
        module globals (and builtins shadowed there) are read through their module, imported
        at the top of the emitted file: ``helpers.GAIN``.
        """
        g = self.resolver.globals
        found, obj = self.resolver.lookup(root)
        if found and (getattr(obj, "__module__", None) or "").startswith("srcgrad."):
            if getattr(runtime, root, None) is obj:
                self.runtime_imports.add(root)  # a runtime helper: imported by name
                return e
        top = self.resolver.fn is self.fn
        clash = (
            root in self.locals
            or root in self.params_set
            or root in self.names.fixed.values()
            or root in self.closure_reads
            # emitted code's own calls of a builtin of that name must find the builtin
            or (root in cache.EMITTED_BUILTINS and obj is not getattr(builtins, root))
        )
        if root in self.resolver.closure:
            fn = self.resolver.fn
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            if not clash and (top or self.top_cells.get(root) is cells.get(root)):
                return self._bare(e, root)
            return self._closure_read(e, root)
        g = self._owning_globals(g, root, e, clash)
        if g is None:  # a closure variable the emitted module reads through its chain
            return self._bare(e, root)
        if isinstance(g, cache.UserGlobals) and isinstance(obj, types.ModuleType):
            # a module an emitted module imported (``import helpers``): imported again
            if obj.__name__ in sys.modules:
                return self._replace_root(e, cst.Name(self._module_alias(obj.__name__)))
        if root in g:
            mod = g.get("__name__")
            if (
                not clash
                and g is self.top_globals
                and (top or root not in self.top_cells)
            ):
                return self._bare(e, root)
        else:
            mod = "builtins"
            if not clash and (
                top or (root not in self.top_cells and root not in self.top_globals)
            ):
                return self._bare(e, root)
        if isinstance(g, cache.UserGlobals) and mod not in sys.modules:
            # a name an emitted module binds itself (a recursive call's recomputing
            # gradient, srcgrad/recompute.py): read through the chain of callee refs
            return self._closure_read(e, root)
        return self._module_read(e, root, mod)

    def _owning_globals(
        self, g: Any, root: str, e: cst.BaseExpression, clash: bool
    ) -> Any:
        """The globals that hold ``root`` for a function of an emitted module (differentiated
        again): its module reads a name it does not define through the function it was
        emitted for (:class:`cache.UserGlobals`), so the name lives in that function's
        module.  None for a closure variable of that function that the new module reads
        bare through the same chain (the top function's globals give the same object).
        """
        while isinstance(g, cache.UserGlobals) and not dict.__contains__(g, root):
            reads = dict.get(g, cache.CLOSURE_READS) or {}
            fn = g._fn
            if root in reads or root in fn.__code__.co_freevars:
                top = self.top_globals
                value = g.get(root, _MISSING_VALUE)
                if (
                    not clash
                    and value is not _MISSING_VALUE
                    and isinstance(top, cache.UserGlobals)
                    and top.get(root, _MISSING_VALUE) is value
                ):
                    return None
                self.fail(
                    e,
                    f"emitted code of {fn.__qualname__} reads {root!r}, a closure "
                    "variable that the next order's module cannot read by that name",
                    f"pass {root} to {fn.__name__} as an argument",
                    "closure",
                )
                return g
            g = g._fn_globals
        return g

    def _closure_read(self, e: cst.BaseExpression, root: str) -> cst.BaseExpression:
        """``e``, whose root is a closure variable of a called function, read through the
        emitted module's table of such reads (``SRCGRAD_CLOSURE_READS``): the module's
        globals follow the chain of callee refs to the function's cell at call time
        (:class:`cache.UserGlobals`).  Bare where no other name is read that way, else a
        qualified name: ``unpack_params_D``."""
        callee = self.resolver.fn
        owner = 0 if callee is self.fn else None
        if owner is None:
            owner = next(
                (i + 1 for i, f in enumerate(self.ref_funcs) if f is callee), None
            )
        if owner is None:
            who = getattr(callee, "__qualname__", "the callee").replace(
                ".<locals>.", "."
            )
            short = getattr(callee, "__name__", "g")
            self.fail(
                e,
                f"{who} reads {root!r} from an enclosing function (a closure variable), "
                "and srcgrad cannot find that function again when the gradient runs (it "
                "was not called by a name)",
                f"pass {root} to {short} as an argument (def {short}(..., {root}) and "
                f"{short}(..., {root}) at the call), or call {short} by its name",
                "closure",
            )
        ref = cache.Ref(owner, (root,))
        name = next((n for n, r in self.closure_reads.items() if r == ref), None)
        if name is None:
            free = not (
                root in self.names.taken
                or root in self.free_bare
                or root in self.top_cells
                or root in self.top_globals
                or root in self.top_free
            )
            if free:
                name = root
                self.names.taken.add(name)
            else:
                short = getattr(callee, "__name__", "f").strip("<>")
                name = self.names.fresh(f"{short}_{root}")
            self.closure_reads[name] = ref
        self.free_bare.add(name)
        node = e
        parts = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr)
            node = node.value
        out: cst.BaseExpression = cst.Name(name)
        for attr in reversed(parts):
            out = cst.Attribute(value=out, attr=attr)
        return out

    def _module_read(
        self, e: cst.BaseExpression, root: str, mod: str | None
    ) -> cst.BaseExpression:
        """``e`` read through the module ``mod`` that holds ``root``, imported at the top of
        the emitted file under an alias of its own: ``helpers.GAIN``."""
        if (
            not mod
            or mod not in sys.modules
            or not all(p.isidentifier() for p in mod.split("."))
        ):
            self.fail(
                e,
                f"{root!r} cannot be read from the module of {self.resolver.fn.__qualname__} "
                "by emitted code",
                f"rename the other {root!r} (a local or global of the same name)",
                "name-clash",
            )
        alias = self._module_alias(mod)
        return self._replace_root(
            e, cst.Attribute(value=cst.Name(alias), attr=cst.Name(root))
        )

    def _module_alias(self, mod: str) -> str:
        """The alias the emitted file imports the module ``mod`` under."""
        alias = self.module_imports.get(mod)
        if alias is None:
            alias = self.names.generated(mod.rsplit(".", 1)[-1])
            while (
                alias in self.locals
            ):  # pragma: no cover - a local named like the module
                alias = self.names.fresh(alias + "_")
            self.module_imports[mod] = alias
            self.free_bare.add(alias)
        return alias

    @staticmethod
    def _replace_root(
        e: cst.BaseExpression, root: cst.BaseExpression
    ) -> cst.BaseExpression:
        """``e`` (a name or dotted name) with its root name replaced by ``root``."""
        parts = []
        node = e
        while isinstance(node, cst.Attribute):
            parts.append(node.attr)
            node = node.value
        out = root
        for attr in reversed(parts):
            out = cst.Attribute(value=out, attr=attr)
        return out

    def _bare(self, e: cst.BaseExpression, root: str) -> cst.BaseExpression:
        """``e`` as written: its root is read bare, so no local may take that name."""
        self.free_bare.add(root)
        self.names.taken.add(root)
        return e

    def _is_namespace_call(self, node: cst.BaseExpression) -> bool:
        """``namespace(...)`` (the runtime's array-module lookup, as in emitted code)."""
        if not isinstance(node, cst.Call):
            return False
        parts = self.resolver.dotted(node.func)
        if parts is None or parts[0] in self.env:
            return False
        found, obj = self.resolver.value_of(parts)
        return found and obj is namespace

    def _global_argument(
        self, call: cst.CSTNode, atom: Any, resolver: Any
    ) -> tuple[Any, Any] | None:
        """The (global expression, its resolver) an argument of ``call``, lowered in the
        caller (the last of self.frames, read by ``resolver``), stands for: a module-level
        object the callee reads through its name (a function passed on, ``self`` of a bound
        method, an array), or None."""
        caller = self.frames[-1]
        for node, res in caller.galias.values():
            if atom is node:  # the caller's read of its own such parameter
                return node, res
        written = isinstance(call, cst.Call) and any(atom is a.value for a in call.args)
        if (
            written
            and isinstance(atom, cst.Name)
            and atom.value in caller.galias
            and atom.value not in caller.env
        ):
            return caller.galias[atom.value]  # a function the caller passes on by name
        parts = resolver.dotted(atom) if isinstance(atom, cst.BaseExpression) else None
        if (
            parts is not None
            and parts[0] not in caller.env
            and resolver.value_of(parts)[0]
        ):
            return atom, resolver  # a global name chain
        return None

    def _unalias(self, e: cst.BaseExpression) -> cst.BaseExpression:
        """Replace a leading bound-method ``self`` by the global expression it stands for."""
        if isinstance(e, cst.Name) and e.value in self.galias:
            return self.galias[e.value][0]
        if isinstance(e, cst.Attribute):
            value = self._unalias(e.value)
            return e if value is e.value else e.with_changes(value=value)
        return e

    def note_ref(
        self, e: cst.CSTNode, func: cst.BaseExpression, path: list[str], obj: Any
    ) -> None:
        """Record how the callee ``obj`` of ``func`` was reached (a :class:`cache.Ref`): the
        cache key hashes what it reaches, and every call checks it still reaches ``obj``.
        """
        parts = self.resolver.dotted(func)
        res = (
            self.galias[parts[0]][1]
            if parts and parts[0] in self.galias
            else self.resolver
        )
        owner = res.fn
        if owner is self.fn:
            index = 0
        else:
            index = next(
                (i + 1 for i, f in enumerate(self.ref_funcs) if f is owner), -1
            )
        if index < 0 or not (
            path and path[0].isidentifier() and all(map(cache.is_step, path[1:]))
        ):
            self.fail(
                e,
                f"call to {'.'.join(path)}, reached in a way the gradient cache cannot track",
                "call it through a module-level name",
                "user-call",
            )
        ref = cache.Ref(index, tuple(path))
        if ref not in self.refs:
            self.refs.append(ref)
            self.ref_funcs.append(cache.inlined_function(obj))

    def _bound_by_user(self, func: cst.BaseExpression, parts: list[str]) -> bool:
        """Whether a call's first name is a closure cell or global the user bound to an object
        other than a module (``from math import exp``, ``act = np.tanh``, ``model.forward``):
        rebinding it changes the emitted code, so the cache records it."""
        first = self.resolver.dotted(func)
        res = (
            self.galias[first[0]][1]
            if first and first[0] in self.galias
            else self.resolver
        )
        if (
            first
            and first[0] in self.galias
            and self._argument_root(self._unalias(func))
        ):
            return True  # a function passed in: found again from the arguments
        if parts[0] not in res.closure and parts[0] not in res.globals:
            return False  # a builtin
        return not isinstance(res.lookup(parts[0])[1], types.ModuleType)

    def function_alias(self, name: str, value: cst.BaseExpression) -> bool:
        """``g = np.tanh``, ``g = relu``, ``g = act`` (a function passed in), outside
        branches and loops or as the only binding of ``g`` in the function: ``g`` names that
        function (calls of it are its calls), as a parameter bound to it does.  False
        (nothing done) for any other assignment."""
        if (self.in_branch or self.loops) and _assigned_in(self.body_node).count(
            name
        ) != 1:
            return False  # bound to other values on other paths
        if isinstance(value, cst.Subscript):
            return self.table_alias(name, value)
        if not isinstance(value, (cst.Name, cst.Attribute)):
            return False
        chain = self._global_chain(value)
        if chain is None or not (
            _is_function_value(chain[1]) or cache.is_function_argument(chain[1])
        ):
            return False
        parts = self.resolver.dotted(value)
        assert parts is not None
        if parts[0] in self.np_alias:
            return False  # xp.tanh: read through the array module, as a value
        if parts[0] in self.galias:
            node, res = self.galias[parts[0]]
            alias = node
            for p in parts[1:]:
                alias = cst.Attribute(value=alias, attr=cst.Name(p))
            entry = (alias, res)
        else:
            entry = (value, self.resolver)
        self.forget(name)
        self.galias[name] = entry
        return True

    def _function_chain(self, e: cst.BaseExpression) -> bool:
        """Is ``e`` a global name chain (``np.tanh``, ``relu``, a passed-on parameter bound to
        one) of a function?"""
        if not isinstance(e, (cst.Name, cst.Attribute)):
            return False
        chain = self._global_chain(e)
        if chain is None:
            return False
        return _is_function_value(chain[1])

    def _global_chain(self, e: cst.BaseExpression) -> tuple[list[str], Any] | None:
        parts = self.resolver.dotted(e)
        if parts is not None and parts[0] in self.galias:
            node, res = self.galias[parts[0]]
            base = res.dotted(node)
            found, obj = res.value_of(base + parts[1:])
            return (base + parts[1:], obj) if found else None
        if parts is not None and parts[0] in self.np_alias:
            obj: Any = np
            for p in parts[1:]:
                if not hasattr(obj, p):
                    return None
                obj = getattr(obj, p)
            return parts, obj
        if parts is None or parts[0] in self.env:
            return None
        found, obj = self.resolver.value_of(parts)
        if not found:
            return None
        return parts, obj

    def _argument_root(self, e: cst.BaseExpression) -> bool:
        """Is ``e`` (unaliased) read through a parameter bound to a function passed in?"""
        while isinstance(e, cst.Attribute):
            e = e.value
        return id(e) in self.argument_nodes

    def _xp_chain(self, e: cst.BaseExpression) -> cst.BaseExpression:
        """``np.linalg.norm`` -> ``xp.linalg.norm``; other global chains unchanged."""
        if isinstance(e, cst.Subscript):  # an entry of a table of functions
            return e.with_changes(value=self._xp_chain(e.value))
        e = self._unalias(e)
        if self._argument_root(e):
            return e  # the parameter of the emitted fwd itself
        parts = self.resolver.dotted(e)
        assert parts is not None
        found, root = self.resolver.lookup(parts[0])
        if parts[0] in self.np_alias:
            found, root = True, np
        if found and is_numpy_module(root):
            node: cst.BaseExpression = cst.Name(self.xp)
            if root.__name__ != "numpy":  # e.g. `import numpy.linalg as la`
                for sub in root.__name__.split(".")[1:]:
                    node = cst.Attribute(value=node, attr=cst.Name(sub))
            for p in parts[1:]:
                node = cst.Attribute(value=node, attr=cst.Name(p))
            return node
        special = _special_name(self.resolver, parts) if found else None
        if special is not None:
            # scipy.special.erf -> scipy_special.erf: scipy's erf in the namespace of its
            # arguments (cupyx.scipy.special's on cupy arrays), never a host copy
            self.runtime_imports.add("scipy_special")
            return cst.Attribute(
                value=cst.Name("scipy_special"), attr=cst.Name(special)
            )
        if found:
            return self._foreign(e, parts[0])
        return e


def _special_name(resolver: Any, parts: list[str]) -> str | None:
    """The name in ``scipy.special`` of the function the chain ``parts`` reads, if it is
    one of that module's functions."""
    special = sys.modules.get("scipy.special")
    if special is None:
        return None
    found, obj = resolver.value_of(parts)
    if not found or not callable(obj):
        return None
    name = getattr(obj, "__name__", None)
    if name is None or getattr(special, name, None) is not obj:
        return None
    return name
