"""Inlining: a user function's body (or a nested def's, or a lambda's) run at its call
site with its parameters bound to the call's atoms (also through a ``functools.partial`` or
a bound method), and a nested def chosen on a branch flag (recursion through ``call_vjp``
lives in :mod:`srcgrad.codegen.normalize.recursion`).
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad.codegen.naming import callee_word
from srcgrad.codegen import ir
from srcgrad.codegen.check import check_function
from srcgrad.codegen.normalize.base import (
    _Bail,
    _display_of,
    _FuncChoice,
    _FuncFromLoop,
    _is_function_value,
    _MISSING,
    _PartialOf,
    _same_shape,
    _TableAlias,
    _TableEntry,
    _Scope,
)
from srcgrad.codegen.normalize.function_values import _Closure
from srcgrad.codegen.normalize.exits import _returns_continue, _returns_from_a_loop
from srcgrad.codegen.normalize.syntax import _all_names, _assigned_in
from srcgrad.codegen.normalize.libraries import constant_inputs, inline_library_call
from srcgrad.codegen.resolve import library_function, Resolver
from srcgrad.codegen.source import own_returns, read_function
from srcgrad.errors import SrcgradError
from srcgrad.rules import registry

# the normalizer's attributes that :meth:`Inlining.inline_body` changes while a callee
# runs, saved before it and restored after it
_CALLER_STATE = (
    "src",
    "resolver",
    "env",
    "all_names",
    "n_returns",
    "ret_flag",
    "out_name",
    "loops",
    "grown_outside",
    "out",
    "origin",
    "has_aux",
    "local_funcs",
    "np_alias",
    "galias",
    "arg_names",
    "body_node",
)


def _default_function(d: cst.BaseExpression, resolver: Any) -> bool:
    """Is a parameter default a global name chain of a function (``act=np.tanh``)?"""
    parts = resolver.dotted(d)
    if parts is None:
        return False
    found, obj = resolver.value_of(parts)
    return found and _is_function_value(obj)


class Inlining:
    """Inlining user functions, nested defs and lambdas (a mixin of :class:`Normalizer`)."""

    def inline_call(
        self,
        e: cst.Call,
        callee: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        pre_bound: dict[str, cst.BaseExpression] | None = None,
    ) -> cst.BaseExpression:
        """Inline the body of a module-level user function at its call site (DESIGN §5:
        small callees are inlined); its lines keep their own file:line in the comments.
        A library function's problems are reported at this call (``libraries.py``).
        """
        library = library_function(callee, self.fn)
        if library is not None:
            if constant_inputs(self, args):  # stop_gradient on every input: a constant
                node = e.with_changes(func=self._xp_chain(e.func), args=args)
                return self.emit_nondiff(target, hint, node, [])
            return inline_library_call(
                self,
                e,
                library,
                lambda: self._inline_function(e, callee, args, hint, target, pre_bound),
                registry.lookup(callee) is not None,
            )
        return self._inline_function(e, callee, args, hint, target, pre_bound)

    def _inline_function(
        self,
        e: cst.Call,
        callee: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        pre_bound: dict[str, cst.BaseExpression] | None,
    ) -> cst.BaseExpression:
        """:meth:`inline_call` for any function (the program's own, or a library's)."""
        code = callee.__code__
        if any(k is code for k in self.inline_stack):
            # recursion: call the callee's own generated pair (memoised per activity pattern)
            return self.recursive_call(e, callee, args, hint, target, pre_bound or {})
        try:
            src = read_function(callee)
        except SrcgradError as err:
            hint = err.hint or ""
            if err.construct == "decorator":
                hint = (
                    f"call the undecorated function and do the decorator's work at the call, "
                    f"or give {callee.__name__} its own rule with @srcgrad.custom_vjp"
                )
            self.fail(
                e,
                f"cannot inline {callee.__qualname__}: {err.message}",
                hint,
                "user-call",
            )
        src = self.generator_source(e, src, callee.__name__)
        if code not in self.inline_stack:
            findings = check_function(src, top_level=False)
            if findings:
                raise _Bail(SrcgradError.bundle(findings))
        self.callees.append(callee)
        return self.inline_body(
            e,
            code,
            src.tree,
            src,
            Resolver(callee),
            args,
            hint,
            target,
            None,
            callee.__qualname__,
            pre_bound or {},
        )

    def inline_body(
        self,
        e: cst.CSTNode,
        key: Any,
        fdef: cst.FunctionDef | cst.Lambda,
        src: Any,
        resolver: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        definer: _Scope | None,
        display: str,
        pre_bound: dict[str, cst.BaseExpression],
    ) -> cst.BaseExpression:
        """Run a function body (or a lambda's expression) at a call site, with its
        parameters bound to the call's atoms, its own names, and its own source lines.

        A nested def or lambda starts from ``definer``, the scope of the function that defines
        it (its enclosing variables as they are now), whichever function calls it; a
        module-level function starts from nothing.  Its parameters hide those names."""
        if any(k is key for k in self.inline_stack):
            self.fail(
                e,
                f"recursive call to {display}, a nested function (not supported yet)",
                f"define {display} at module level (recursion between module-level functions "
                "is supported), or write the recursion as a loop",
                "recursion",
            )
        if len(self.inline_stack) > 17:
            self.fail(e, "calls nested too deeply", "flatten the helpers", "user-call")
        fdef = self.run_at_once(e, fdef, src, display)
        bound, default_chains = self._bind_parameters(
            e, fdef, resolver, args, display, pre_bound
        )
        saved = self._caller_state()
        self.frames.append(self.scope())
        self.inline_stack.append(key)
        n_findings = len(self.findings)
        out_name: str | None = None
        try:
            self.out_name = self.names.temp(f"{callee_word(display)}_out")
            out_name = self.out_name
            self._enter_callee(fdef, src, resolver, definer)
            self._bind_callee_parameters(
                e, fdef, resolver, bound, default_chains, saved[1]
            )
            result = self._run_callee(fdef, hint)
        finally:
            self.inline_stack.pop()
            self.frames.pop()
            self._restore_caller_state(saved)
        if result is None and m.findall(fdef, m.Nonlocal() | m.Global()):
            raise _Bail(None)  # it works by nonlocal/global, reported where they are
        return self._inlined_result(
            e, result, out_name, n_findings, hint, target, display
        )

    def _bind_parameters(
        self,
        e: cst.CSTNode,
        fdef: cst.FunctionDef | cst.Lambda,
        resolver: Any,
        args: list[cst.Arg],
        display: str,
        pre_bound: dict[str, cst.BaseExpression],
    ) -> tuple[dict[str, cst.BaseExpression], dict[str, cst.BaseExpression]]:
        """The callee's parameters bound to the call's atoms (``*args`` to a tuple,
        ``**kwargs`` to a dict, literal defaults), and the parameters whose default is a
        global function (``act=np.tanh``), each to that default."""
        ps = fdef.params
        star = ps.star_arg.name.value if isinstance(ps.star_arg, cst.Param) else None
        starstar = ps.star_kwarg.name.value if ps.star_kwarg is not None else None
        positional = [p.name.value for p in [*ps.posonly_params, *ps.params]]
        names = positional + [p.name.value for p in ps.kwonly_params]
        defaults = {
            p.name.value: p.default
            for p in [*ps.posonly_params, *ps.params, *ps.kwonly_params]
            if p.default is not None
        }
        bound: dict[str, cst.BaseExpression] = dict(pre_bound)
        free_pos = [n for n in positional if n not in bound]
        pos = [a.value for a in args if a.keyword is None]
        if len(pos) > len(free_pos) and star is None:
            self.fail(
                e,
                f"{display} takes {len(free_pos)} positional arguments",
                "check the call",
                "user-call",
            )
        bound.update(zip(free_pos, pos))
        if star is not None:  # *args: a tuple of the extra atoms
            bound[star] = cst.Tuple([cst.Element(v) for v in pos[len(free_pos) :]])
        extra_kw: list[cst.DictElement] = []
        for a in args:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if k not in names or k in bound:
                if starstar is not None and k not in bound:
                    extra_kw.append(cst.DictElement(cst.SimpleString(repr(k)), a.value))
                    continue
                self.fail(
                    a,
                    f"{display} got an unexpected or repeated argument {k!r}",
                    "check the call",
                    "user-call",
                )
            bound[k] = a.value
        if starstar is not None:  # **kwargs: a dict of the extra keyword atoms
            bound[starstar] = cst.Dict(extra_kw)
        default_chains: dict[str, cst.BaseExpression] = {}
        for n in names:
            if n in bound:
                continue
            d = defaults.get(n)
            if d is not None and _default_function(d, resolver):
                default_chains[n] = d  # act=np.tanh: calls of act are calls of np.tanh
                continue
            d = self._fixed_default(d, resolver, fdef, n)  # nt=NT: what the def fixed
            if d is None or self.constant_value(d) is _MISSING:
                msg = (
                    "is missing" if d is None else "has a default that is not a literal"
                )
                self.fail(
                    e,
                    f"argument {n!r} of {display} {msg}",
                    f"pass {n} explicitly",
                    "user-call",
                )
            bound[n] = d  # type: ignore[assignment]
        return bound, default_chains

    def _caller_state(self) -> tuple[Any, ...]:
        """What :meth:`inline_body` changes while the callee runs, to restore after it."""
        return tuple(getattr(self, name) for name in _CALLER_STATE)

    def _restore_caller_state(self, saved: tuple[Any, ...]) -> None:
        for name, value in zip(_CALLER_STATE, saved, strict=True):
            setattr(self, name, value)

    def _enter_callee(
        self,
        fdef: cst.FunctionDef | cst.Lambda,
        src: Any,
        resolver: Any,
        definer: _Scope | None,
    ) -> None:
        """Start the callee's own scope: its source, resolver and names, the definer's
        bindings (a nested def's), no loops and no result yet."""
        self.src = src
        self.resolver = resolver
        self.body_node = fdef
        self.all_names = _all_names(fdef)
        self.n_returns = (
            len(own_returns(fdef)) if isinstance(fdef, cst.FunctionDef) else 1
        )
        self.has_aux = False
        self.ret_flag = None
        self.grown_outside = self.grown_outside | {
            cur
            for k, lp in enumerate(self.loops)
            for cur in lp.get("grown", ())
            if self.list_made_at(cur) <= k
        }  # the caller's loops go on growing them
        self.loops = []
        self.out = None
        outer = definer or _Scope({}, {}, set(), {})
        self.env = dict(outer.env)
        self.local_funcs = dict(outer.local_funcs)
        self.np_alias = set(outer.np_alias)
        self.galias = dict(outer.galias)
        self.origin = (
            src.origin(fdef)
            if isinstance(fdef, cst.Lambda)
            else src.def_origin_of(fdef)
        )
        self.arg_names = set()

    def _bind_callee_parameters(
        self,
        e: cst.CSTNode,
        fdef: cst.FunctionDef | cst.Lambda,
        resolver: Any,
        bound: dict[str, cst.BaseExpression],
        default_chains: dict[str, cst.BaseExpression],
        caller_resolver: Any,
    ) -> None:
        """Bind the parameters in the callee's scope: an alias of the caller's local, a
        global read through its name, or a new binding of the atom."""
        for name in [*bound, *default_chains]:
            self.forget(name)  # a parameter hides the enclosing function's name
        for name, atom in bound.items():
            if self.bind_function_value(name, atom):
                continue  # a function passed in: calls of the parameter inline it
            if isinstance(atom, cst.Name) and atom.value in self.locals:
                self.env[name] = (
                    atom.value
                )  # an alias: rebinding it makes a new version
                self.arg_names.add(
                    atom.value
                )  # the caller's object: never written here
            elif (
                passed := self._global_argument(e, atom, caller_resolver)
            ) is not None:
                self.galias[name] = passed  # read through the global's name
            else:
                self.bind_atom(name, atom)
        for name, d in default_chains.items():
            self.galias[name] = (d, resolver)  # resolved where the default was written
        if isinstance(fdef, cst.FunctionDef):
            # a parameter read through a global's name but rebound in the body (in a loop
            # it is carried, which needs a local): its value, read once, as a local
            rebound = set(_assigned_in(fdef.body))
            for name in [*bound, *default_chains]:
                if (
                    name in self.galias
                    and name in rebound
                    and not self._function_chain(cst.Name(name))
                ):
                    atom = self.lower(cst.Name(name), name)
                    del self.galias[name]
                    self.bind_atom(name, atom)

    def _run_callee(
        self, fdef: cst.FunctionDef | cst.Lambda, hint: str
    ) -> cst.BaseExpression | None:
        """Lower the callee's body (or a lambda's expression): its result, None when it
        returns nothing."""
        if isinstance(fdef, cst.Lambda):
            result: cst.BaseExpression | None = self.lower(fdef.body, hint)
        elif (made := self.returned_function(fdef, hint)) is not None:
            result = made  # a factory: the function it returns, closed over its locals
        else:
            body = fdef.body
            start = len(self.stmts)
            if _returns_from_a_loop(fdef):
                # its result is first set inside a loop, where a push may read it before
                # (in the loop's first iteration): give it a value first
                self.assign_exact(self.out_name, cst.Name("None"))  # type: ignore[arg-type]
            self.block(
                list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
            )
            _returns_continue(self.stmts[start:])
            tree = self.out_items.get(self.out_name)  # type: ignore[arg-type]
            if tree is not None and _returns_from_a_loop(fdef):
                for n in _all_names(_display_of(tree)):  # the items too, as the result
                    self.locals.add(n.value)
                    phi = ir.Phi(n.value, cst.Name("None"), self.origin, True)
                    self.stmts.insert(start, phi)
            result = self.out
        return result

    def _inlined_result(
        self,
        e: cst.CSTNode,
        result: cst.BaseExpression | None,
        out_name: str | None,
        n_findings: int,
        hint: str,
        target: str | None,
        display: str,
    ) -> cst.BaseExpression:
        """The call's value: the display of the items' names for a callee that returns a
        tuple or dict from several places, bound to ``target`` when there is one."""
        items = self.out_items.pop(out_name, None) if out_name is not None else None
        if items is not None and result is not None:
            # several `return a, b`: the result is the display of the items' names
            display = _display_of(items)
            for n in _all_names(display):
                self.env[n.value] = n.value
            result = self.lower(
                display, hint, target=out_name
            )  # as a single return does
        if result is None:
            if len(self.findings) > n_findings:
                raise _Bail(None)  # a consequence of the findings in its body
            shown = display.replace(".<locals>.", ".")
            self.fail(
                e,
                f"{shown} returns nothing",
                f"return a value from {shown}",
                "user-call",
            )
        assert result is not None
        if target is not None and self.bind_function_value(target, result):
            return result  # `dynamics = make_dynamics(params)`: a function
        if target is not None:
            self.bind_atom(target, result)
            return cst.Name(self.env[target])
        return result

    def call_local(
        self,
        e: cst.Call,
        entry: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        display: str,
    ) -> cst.BaseExpression:
        """Inline a call of a nested def or lambda; a :class:`_FuncChoice` becomes an ``if`` on
        its flag with one inlined body per branch, as a conditional expression is lowered.
        """
        if isinstance(entry, _FuncFromLoop):
            self.fail(
                e,
                f"call of {display!r}, a function defined inside a loop (line {entry.line}), "
                "where the def that runs may be one made in another iteration of the loop or "
                "before it",
                f"define {display} once, before the loop (its calls read the loop's names when "
                f"they run), or give each def of {display} a name of its own",
                "def",
            )
        if isinstance(entry, _TableAlias):
            return self.call_table_alias(e, entry, hint, target)
        if isinstance(entry, _TableEntry):
            return self.call(entry.call, hint, target)  # type: ignore[return-value]
        if isinstance(entry, _PartialOf):
            return self._call_partial(e, entry, args, hint, target)
        if isinstance(entry, _Closure):
            return self.call_closure(e, entry, args, hint, target, display)
        if not isinstance(entry, _FuncChoice):
            node, fsrc, fres, depth = entry
            definer = (
                self.scope()
                if depth == len(self.inline_stack) - 1
                else self.frames[depth]
            )
            return self.inline_body(
                e, node, node, fsrc, fres, args, hint, target, definer, display, {}
            )
        saved = self.stmts
        branches, results = [], []
        for sub in (entry.then, entry.other):
            self.stmts = []
            results.append(self.call_local(e, sub, args, hint, None, display))
            branches.append(self.stmts)
        self.stmts = saved
        trees = [self._result_tree(r, True) for r in results]
        if not _same_shape(*trees):
            self.fail(
                e,
                f"{display} is defined on several paths, and the definitions return values of "
                "different shapes (tuples or dicts of different lengths or keys)",
                f"make every definition of {display} return the same kind of value",
                "def",
            )
        base = hint if target is None else target
        names = self._names_tree(base, trees[0])
        for items, tree in zip(branches, trees):
            self.stmts = items
            self._bind_tree(names, tree, e)
        self.stmts = saved
        self.stmts.append(ir.IfNode(cst.Name(entry.flag), *branches, self.origin, True))
        if names[0] == "leaf":
            if target is None:
                return cst.Name(names[1])
            self.bind_atom(target, cst.Name(names[1]))
            return cst.Name(self.env[target])
        items = _display_of(
            names
        )  # a tuple or dict: built of its items, as inline_body does
        for n in _all_names(items):
            self.env[n.value] = n.value
        return self.lower(
            items, hint, target=target or self.names.temp(f"{display}_out")
        )
