"""The composed :class:`Normalizer` (one mixin per construct) with its state and the entry
point :func:`normalize`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import types
from typing import Any

import libcst as cst
import libcst.matchers as m
import numpy as np

import srcgrad.runtime as runtime
from srcgrad import cache
from srcgrad.backend import namespace
from srcgrad.codegen import ir
from srcgrad.codegen.check import _UNSUPPORTED, check_function
from srcgrad.codegen.ir import Names, Normalized, Stmt
from srcgrad.codegen.normalize.arguments import _rule_signature
from srcgrad.codegen.normalize.base import (
    _ATTRIBUTE_PRIMITIVES,
    _Bail,
    _canonical_key,
    _children,
    _display_of,
    _FuncChoice,
    _FuncFromLoop,
    _is_function_value,
    _LIST_GROWTH,
    _LITERALS,
    _MISSING,
    _same_shape,
    _Scope,
    _skeleton_child,
    _static_view_operand,
)
from srcgrad.codegen.normalize.calls import (
    _BUILTIN_HINTS,
    _is_numpy_obj,
    _is_rng,
    _numpy_export_name,
    _SINGLE_OUTPUT_WHEN,
    _user_object,
)
from srcgrad.codegen.normalize.exits import (
    _always_returns,
    _append_tail,
    _before_breaks,
    _has_exit,
    _has_loop_return,
    _may_exit,
    _push_rest,
    _returns_continue,
    _returns_from_a_loop,
)
from srcgrad.codegen.normalize.expressions import (
    _ARRAY_ATTRIBUTE_HINTS,
    _BINOPS,
    _BITOPS,
    _EXPRESSION_HINTS,
    _Renamer,
)
from srcgrad.codegen.normalize.inlining import _default_function
from srcgrad.codegen.normalize.methods import _method_hint
from srcgrad.codegen.normalize.statements import _AUG_TO_BIN
from srcgrad.codegen.normalize.syntax import (
    _all_names,
    _all_stmts,
    _assigned_in,
    _constant_key,
    _dotted_node,
    _extended_in_place,
    _free_reads,
    _functions_bound,
    _grown_lists,
    _ident_key,
    _NameMap,
    _paren,
    _range_len,
    _readable,
    _strip_parens,
    _subscript_written,
    _SwapNodes,
    _written_first,
)
from srcgrad.codegen.resolve import (
    ARRAY_ATTRIBUTES_STATIC,
    BUILTIN_NONDIFF,
    CONVERTING_METHODS,
    frame_reader,
    is_numpy_module,
    METHODS,
    MUTATING_FUNCTIONS,
    MUTATING_METHODS,
    nearest_rules,
    NONDIFF_METHODS,
    Resolver,
)
from srcgrad.codegen.source import FunctionSource, own_returns, read_function
from srcgrad.errors import AliasError, MissingRuleError, SrcgradError, UnsupportedSyntaxError
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule


class Normalizer:
    """Builds the normal form of one function (see the package docstring)."""

    def __init__(
        self,
        src: FunctionSource,
        wrt: list[str],
        containers: dict[str, Any],
        has_aux: bool = False,
    ) -> None:
        self.src = src
        self.fn = src.fn
        self.resolver = Resolver(src.fn)
        self.top_resolver = self.resolver
        self.rngs: set[str] = set()  # arguments that are random generator objects
        self.objects: set[str] = set()  # other non-array arguments not differentiated
        self.stopped: set[str] = set()  # results of srcgrad.stop_gradient
        self.out_items: dict[str, Any] = {}  # a callee's result -> its items' names (a tree)
        self.out_plain: set[str] = set()  # a callee's result returned as one value
        self.skipped = 0  # statements dropped as consequences of earlier findings
        self.prebind: set[str] = set()  # names emit binds to None at the top of fwd
        self.wrt = wrt
        self.containers = containers
        self.has_aux = has_aux
        taken = {n.value for n in _all_names(src.tree)}
        taken |= set(src.fn.__code__.co_names) | set(src.fn.__code__.co_varnames)
        self.names = Names(taken)
        self.env: dict[str, str] = {}
        self.locals: set[str] = set()
        self.static: set[str] = set()
        self.cont: dict[str, tuple[str, tuple[Any, ...], Any]] = {}
        self.stmts: list[Stmt] = []
        self.findings: list[SrcgradError] = []
        self.poisoned: set[str] = set()  # names bound by statements that were reported
        self.loops: list[dict[str, Any]] = []
        # loop-carried names with no binding before their loop: unbound in its first iteration
        self.maybe_unbound: set[str] = set()
        self.lit: dict[str, tuple[str, Any]] = {}  # name -> literal container of atoms
        self.ret_flag: str | None = None  # set when a loop returns
        self.const: dict[str, Any] = {}  # emitted name -> known constant value
        self.pending_displays: list[Any] = []
        # list displays bound to a name (constant ones too), in case they grow: such a list
        # becomes a list built with append (``grow_display``)
        self.lit_stmt: dict[str, Stmt] = {}
        self.display_loops: dict[str, int] = {}  # such a display -> loops around its binding
        self.display_read: dict[str, int] = {}  # such a display -> tick of its last read
        self.loop_ticks: list[int] = []  # tick at the start of each loop being lowered
        self.tick = 0  # counts reads of displays and starts of loops, in lowering order
        # a tuple or list display bound to a name -> ("tuple", "list" or None where that is
        # not known, its length), while its items are known here (for `a + b`)
        self.seq_displays: dict[str, tuple[str | None, int]] = {}
        self.carried_seqs: set[str] = set()  # such displays carried around a loop
        self.out_name: str | None = None  # where an inlined callee's result goes
        self.last_multi: list[str] | None = None
        self.multi_results: set[str] = set()  # multi-output results bound to one name
        self.in_branch = 0  # depth of if-branches being lowered
        self.params_set: set[str] = set()
        self.borrowed: set[str] = set()  # views or aliases of arguments (never written)
        self.view_root: dict[str, str] = {}  # view -> an array made here it looks into
        self.view_roots: dict[str, set[str]] = {}  # view -> every array made here it may see
        self.views: dict[str, set[str]] = {}
        self.stale: set[str] = set()  # views taken before their base was written
        self.maybe_views: set[str] = set()  # views by an index known only at run time
        self.maybe_stale: dict[str, str] = {}  # such a view -> the array written since
        self.inline_stack: list[Any] = [src.fn.__code__]
        # the scopes of the callers being inlined, parallel to inline_stack (the running
        # function's is self.env, self.galias, ...): a nested def reads its definer's
        self.frames: list[_Scope] = []
        self.local_funcs: dict[str, Any] = {}  # nested defs and lambdas, by name
        self.np_alias: set[str] = set()  # names bound to the array module (xp = namespace(..))
        self.galias: dict[str, Any] = {}  # name -> (global expression, its resolver)
        self.top_globals = src.fn.__globals__
        # the emitted module reads a bare free name the way the top function would: its closure
        # cells, then its module's globals, then builtins (cache.UserGlobals)
        self.top_cells: dict[str, Any] = dict(
            zip(src.fn.__code__.co_freevars, src.fn.__closure__ or ())
        )
        self.top_free = _free_reads(src.tree)  # names the top function reads from outside
        self.free_bare: set[str] = set()  # free names emitted bare: no local may take them
        self.arg_names: set[str] = set()  # a callee's arguments (the caller's objects)
        self.module_imports: dict[str, str] = {}  # module name -> alias in emitted code
        self.callees: list[Any] = []
        self.refs: list[cache.Ref] = []  # how each callee was reached (the cache key's)
        self.ref_funcs: list[Any] = []  # the function each ref inlines (an owner of later refs)
        self._call_node: cst.CSTNode | None = None
        self.dyn: set[str] = set()  # lists built with append
        self.all_names = _all_names(src.tree)
        self.n_returns = 1
        self.last_define: tuple[str, str] | None = None
        self.origin = src.def_origin()
        self.out: cst.BaseExpression | None = None
        self.aux: cst.BaseExpression | None = None
        self.xp = self.names.generated("xp")
        self.index_name = self.names.generated("index")
        self.runtime_imports: set[str] = set()
        self._node = src.tree

    def fail(
        self,
        node: cst.CSTNode,
        message: str,
        hint: str,
        construct: str,
        cls: type[SrcgradError] = UnsupportedSyntaxError,
        consequence: bool = True,
    ) -> None:
        """Raise the finding at ``node`` (as :class:`_Bail`); generated names in the message
        and hint become the user's.  A node that reads a name bound by a statement already
        reported raises no second finding (``consequence=False`` reports it anyway)."""
        if consequence and self._reads_poisoned(node):
            raise _Bail(None)  # a consequence of an earlier finding: not reported again
        file, line, col = self.src.where(node)
        if (file, line, col) == (self.src.filename, self.src.first_line, 1):
            file, line, col = self.origin.file, self.origin.line, self.origin.col
        raise _Bail(
            cls(
                self.user_text(message),
                filename=file,
                lineno=line,
                col=col,
                construct=construct,
                hint=self.user_text(hint),
            )
        )

    def _reads_poisoned(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` is about a name bound by a statement that was already reported:
        the name itself, its attribute, a call of it or an index into it (what that name
        holds is unknown, so such a finding would only echo the first)."""
        if not self.poisoned:
            return False
        while isinstance(node, (cst.Attribute, cst.Call, cst.Subscript)):
            node = node.func if isinstance(node, cst.Call) else node.value
        return (
            isinstance(node, cst.Name)
            and node.value in self.poisoned
            and node.value not in self.params_set
        )

    def user_text(self, text: str) -> str:
        """``text`` with generated names replaced by the user's (see ``Names.user_text``)."""
        return self.names.user_text(text)

    def _error(self, node: cst.CSTNode, message: str, hint: str, construct: str) -> SrcgradError:
        try:
            self.fail(node, message, hint, construct, consequence=False)
        except _Bail as b:
            assert b.err is not None
            return b.err
        raise AssertionError

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
        if user not in self.env and user not in self.locals and not self._reserved(user):
            name = user
            self.names.taken.add(user)
        else:
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
        self.galias.pop(user, None)
        self.np_alias.discard(user)
        self.local_funcs.pop(user, None)

    def scope(self) -> _Scope:
        return _Scope(self.env, self.galias, self.np_alias, self.local_funcs)

    def def_local_func(self, name: str, node: cst.FunctionDef | cst.Lambda) -> None:
        """A nested def or lambda: a call inlines it in the scope of the function that
        defines it (the running one), whichever function calls it."""
        self.forget(name)
        self.local_funcs[name] = (node, self.src, self.resolver, len(self.inline_stack) - 1)

    def _reserved(self, user: str) -> bool:
        """True when a local named ``user`` would shadow a free name the emitted code reads:
        one already emitted bare, or (for an inlined callee's local) one the top function
        reads from outside (it may come later in the flat emitted function)."""
        callee = len(self.inline_stack) > 1
        return (
            user in self.free_bare
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
            return node.attr.value in ARRAY_ATTRIBUTES_STATIC or self.is_static(node.value)
        if isinstance(node, (cst.Tuple, cst.List)):
            return all(
                isinstance(e, cst.Element) and self.is_static(e.value) for e in node.elements
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
        return all(p is None or self.is_static(p) for p in (sl.lower, sl.upper, sl.step))

    def emit(self, kind: str, target: str | None, hint: str, expr: Any, **kw: Any) -> str:
        name = self.define(target) if target is not None else self.names.temp(hint)
        self.locals.add(name)
        if kind == ir.STATIC:
            self.static.add(name)
            value = self.constant_value(expr) if not isinstance(expr, cst.List) else _MISSING
            if value is not _MISSING:  # (lists can grow: never constants)
                self.const[name] = value
        self.stmts.append(Stmt(kind, [name], expr, self.origin, **kw))
        if kind == ir.STATIC and isinstance(expr, cst.BaseExpression):
            bases = self._static_view_bases(expr)
            if bases:
                self.alias_of(name, bases)  # a constant array's view (A.T, A[0], np.ravel(A))
        return name

    def _view_sources(self, e: cst.BaseExpression, local: Any) -> list[cst.BaseExpression]:
        """The operands the value of ``e`` may be a numpy view of, by the rules' ``view`` fact:
        a call of a view primitive (``np.ravel(A)``, ``xp.flip(A)``): its arguments; an
        attribute, subscript or method of a view (``A.T``, ``A[1:]``, ``A.reshape(...)``): its
        receiver; anything else (a new array): none.  ``local``: the names that are locals
        (a call through one is a method, not a module function)."""
        if isinstance(e, cst.Call):
            parts = self.resolver.dotted(e.func)
            obj: Any = None
            if parts is not None and parts[0] == self.xp:  # numpy's function, called by xp
                obj = np
                for p in parts[1:]:
                    obj = getattr(obj, p, None)
            elif parts is not None and parts[0] not in local:
                chain = self._global_chain(e.func)
                obj = chain[1] if chain is not None else None
            if obj is not None:  # a function (not a method of a local)
                rule = registry.lookup(obj)
                return [a.value for a in e.args] if rule is not None and rule.view else []
        operand = _static_view_operand(e)
        return [operand] if operand is not None else []

    def _static_view_bases(self, expr: cst.BaseExpression) -> list[str]:
        """The locals an expression of constants may be a numpy view of, through any chain of
        views (:meth:`_view_sources`): ``np.squeeze(A[None])`` is a view of ``A``."""
        if isinstance(expr, cst.Name):
            return [expr.value] if expr.value in self.locals else []
        return [b for s in self._view_sources(expr, self.locals) for b in self._static_view_bases(s)]

    def constant_value(self, node: Any) -> Any:
        """The value of a literal (or of a name bound to one), else _MISSING."""
        if isinstance(node, cst.Name):
            if node.value in self.const:
                return self.const[node.value]
            if node.value in ("True", "False", "None") and node.value not in self.env:
                return {"True": True, "False": False, "None": None}[node.value]
            return _MISSING
        if isinstance(node, (cst.Tuple, cst.List)):
            vals = [self.constant_value(e.value) for e in node.elements]
            return _MISSING if any(v is _MISSING for v in vals) else tuple(vals)
        if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation)):
            try:
                return ast.literal_eval(cst.Module([]).code_for_node(node))
            except (ValueError, SyntaxError):
                return _MISSING
        return _MISSING

    def static_values(self, it: cst.BaseExpression) -> list[Any] | None:
        """The items of a loop's iterable when they are known constants (a tuple of names,
        the keys of a dict built here, ``enumerate``/``zip`` of such): such loops are
        unrolled."""
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value in (
            "enumerate",
            "zip",
        ) and it.func.value not in self.env:
            parts = [self.static_values(a.value) for a in it.args]
            if any(p is None for p in parts) or not parts:
                return None
            if it.func.value == "enumerate":
                return list(enumerate(parts[0])) if len(parts) == 1 else None
            return list(zip(*parts))
        if isinstance(it, cst.Name) and it.value in self.env:
            cur = self.env[it.value]
            if cur in self.lit and self.lit[cur][0] == "dict":
                return list(self.lit[cur][1])  # a dict built here: its keys are constants
            v = self.const.get(cur, _MISSING)
        else:
            v = self.constant_value(it)
        if isinstance(v, tuple) and len(v) <= 64:
            return list(v)
        return None

    def literal(self, value: Any) -> cst.BaseExpression:
        return cst.parse_expression(repr(value))

    def unrolled(self, target: cst.BaseExpression, values: list[Any], body: list[cst.BaseStatement]) -> bool:
        """Run the body once per constant item (a loop over a constant tuple)."""
        for v in values:
            self.assign(target, self.literal(v))
            if not self.block(body):
                return False
        return True

    def run(self) -> Normalized:
        fdef = self.src.tree
        params = []
        p = fdef.params
        for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
            name = param.name.value
            params.append(name)
            self.params_set.add(name)
            self.env[name] = name
            self.locals.add(name)
            if self.containers.get(name) == ("static",):
                self.static.add(name)  # a str/bool/None argument: configuration
            elif self.containers.get(name) == ("rng",):
                self.static.add(name)  # a random generator: its draws are constants
                self.rngs.add(name)
            elif self.containers.get(name) == ("object",) and name not in self.wrt:
                self.static.add(name)  # an object not differentiated (a config): constant
                self.objects.add(name)
            elif name in self.containers:
                self.cont[name] = (name, (), self.containers[name])
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):  # reported by check
                self.env[star.name.value] = star.name.value
                self.poisoned.add(star.name.value)
        body = fdef.body
        stmts = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
        self.n_returns = len(own_returns(fdef))
        if _returns_from_a_loop(fdef):
            # the result is first set inside a loop, where a push may read it before (in the
            # loop's first iteration): give it a value first, as for an inlined callee
            self.assign_exact(self.names.generated("out"), cst.Name("None"))  # type: ignore[arg-type]
        self.block(stmts)
        if self.findings:
            raise SrcgradError.bundle(self.findings)
        if self.n_returns and not _always_returns(stmts):
            # some path reaches the end of the body: Python returns None there
            try:
                self.fail(
                    stmts[-1],
                    f"{fdef.name.value} can reach the end of its body without a return "
                    "(it returns None there)",
                    "end the function with a return statement (return the loss on every path)",
                    "return",
                )
            except _Bail as bail:
                assert bail.err is not None
                raise bail.err from None
        assert self.out is not None
        return Normalized(
            name=fdef.name.value,
            qualname=getattr(self.fn, "__qualname__", fdef.name.value),
            params=params,
            stmts=self.stmts,
            out=self.out,
            aux=self.aux,
            wrt=self.wrt,
            names=self.names,
            containers=self.containers,
            src=self.src,
            runtime_imports=self.runtime_imports,
            lists=set(self.dyn),
            callees=list(self.callees),
            refs=list(self.refs),
            module_imports=dict(self.module_imports),
            skipped=self.skipped,
            prebind=set(self.prebind),
        )

    def block(self, stmts: list[cst.BaseStatement]) -> bool:
        """Lower a statement list into ``self.stmts``; False when it cannot fall through."""
        stmts = list(stmts)
        i = 0
        while i < len(stmts):
            st = stmts[i]
            if isinstance(st, (cst.For, cst.While)) and st.orelse is not None:
                stmts[i : i + 1] = self.split_loop_else(st)
                continue
            rest = stmts[i + 1 :]
            if rest and isinstance(st, cst.If) and _may_exit(st):
                # what follows an `if` that may leave goes into the branches that fall through
                st = _push_rest(st, rest, self.src)
                stmts = stmts[: i + 1]
                stmts[i] = st
            if isinstance(st, (cst.For, cst.While)) and own_returns(st):
                # a loop that may return: what follows runs only when it did not
                outer = self.ret_flag is None
                if outer:
                    self.ret_flag = self.names.temp("returned")
                    self.origin = self.src.origin(st)
                    self.assign_exact(self.ret_flag, cst.Name("False"))
                self.statement(st)
                self.origin = self.src.origin(st)
                leave: cst.BaseSmallStatement = cst.Break() if self.loops else cst.Pass()
                rest = stmts[i + 1 :] or [cst.SimpleStatementLine([cst.Pass()])]
                guard = cst.If(
                    test=cst.Name(self.flag_at_guard(rest)),
                    body=cst.IndentedBlock([cst.SimpleStatementLine([leave])]),
                    orelse=cst.Else(cst.IndentedBlock(list(rest))),
                )
                self.src.alias(guard, st)
                falls = self.statement(guard)
                if outer and not self.loops:
                    self.ret_flag = None
                return falls
            if not self.statement(st):
                return False
            i += 1
        return True

    def split_loop_else(self, loop: cst.For | cst.While) -> list[cst.BaseStatement]:
        """``for/while ... else: E`` as ``broke = False``, the loop with ``broke = True``
        before each of its breaks, and ``if not broke: E``: the else clause is an ``if``
        like any other, so a return, break or continue in it leaves as from any ``if``
        (what follows goes into its branches), and the loop's own exits are plain ones."""
        flag = self.names.temp("broke")

        def set_flag(value: str, at: cst.CSTNode) -> cst.Assign:
            node = cst.Assign([cst.AssignTarget(cst.Name(flag))], cst.Name(value))
            return self.src.alias_tree(node, at)  # type: ignore[return-value]

        assert loop.orelse is not None
        stmts = list(loop.body.body)  # type: ignore[union-attr]
        body = _before_breaks(stmts, lambda brk: set_flag("True", brk), self.src)
        plain = loop.with_changes(body=loop.body.with_changes(body=body), orelse=None)
        clause = cst.If(
            test=cst.UnaryOperation(operator=cst.Not(), expression=cst.Name(flag)),
            body=loop.orelse.body,
        )
        init = cst.SimpleStatementLine([set_flag("False", loop)])
        return [self.src.alias(n, loop) for n in (init, plain, clause)]  # type: ignore[misc]

    def flag_at_guard(self, rest: list[cst.BaseStatement]) -> str:
        """The name the guard after a loop that may return tests: the return flag itself,
        or, when ``rest`` (what runs only if the loop did not return) may set the flag too (a
        return inside a loop), a copy of it as it is here.  The backward evaluates
        the guard's test again, from the value that name has at the end of the forward pass
        (or of the iteration), and must see the value the forward's guard saw."""
        flag = self.ret_flag
        assert flag is not None
        self.env.setdefault(flag, flag)
        def sets_flag(s: cst.CSTNode) -> bool:
            return bool(own_returns(s)) if self.loops else _has_loop_return(s)

        if not any(sets_flag(s) for s in rest):
            return flag
        seen = self.names.temp("returned")
        self.assign_exact(seen, cst.Name(flag))
        self.env.setdefault(seen, seen)
        return seen

    def statement(self, stmt: cst.BaseStatement) -> bool:
        if isinstance(stmt, cst.SimpleStatementLine):
            comment = stmt.trailing_whitespace.comment
            recompute = comment is not None and "srcgrad: recompute" in comment.value
            n_before = len(self.stmts)
            try:
                return self._simple_line(stmt)
            finally:
                if recompute:
                    for st in self.stmts[n_before:]:
                        if (
                            isinstance(st, Stmt)
                            and st.kind not in (ir.EFFECT, ir.APPEND)
                            and st.label != "random draw"  # a second draw would differ
                        ):
                            st.recompute = True
        return self._compound(stmt)

    def _simple_line(self, stmt: cst.SimpleStatementLine) -> bool:
        if True:
            for small in stmt.body:
                self.origin = self.src.origin(small)
                if isinstance(small, cst.Break):
                    self.break_here(small)
                    return False
                if isinstance(small, cst.Continue):
                    return True  # restructured: nothing follows it in this iteration
                try:
                    self.small_statement(small)
                except _Bail as b:
                    self.bailed(b, small)
                if isinstance(small, cst.Return):
                    return False
            return True

    def _compound(self, stmt: cst.BaseStatement) -> bool:
        if isinstance(stmt, cst.FunctionDef):
            self.origin = self.src.def_origin_of(stmt)
            if stmt.decorators or stmt.asynchronous is not None:
                self.bailed(_Bail(self._error(stmt, "decorated or async nested function",
                                              "define a plain nested def", "def")), stmt)
                return True
            self.def_local_func(stmt.name.value, stmt)
            return True
        try:
            if isinstance(stmt, cst.If):
                return self.if_statement(stmt)
            if isinstance(stmt, cst.For):
                return self.for_statement(stmt)
            if isinstance(stmt, cst.While):
                return self.while_statement(stmt)
        except _Bail as b:
            self.bailed(b, stmt)
            return True
        # reported by check; bind what it assigns so later lines raise no spurious findings
        self.bailed(_Bail(None), stmt)
        return True

    def bailed(self, b: _Bail, node: cst.CSTNode) -> None:
        if b.err is not None:  # None: a consequence of an earlier finding
            self.findings.append(b.err)
        else:
            self.skipped += 1
        for t in _assigned_in(node):
            if t not in self.env:
                self.poisoned.add(t)
            self.env.setdefault(t, t)
            self.locals.add(t)

    def sub_block(self, stmts: list[cst.BaseStatement]) -> tuple[list[Any], bool]:
        saved = self.stmts
        self.stmts = []
        self.in_branch += 1
        try:
            falls = self.block(stmts)
            return self.stmts, falls
        finally:
            self.stmts = saved
            self.in_branch -= 1

    def assign_exact(self, name: str, atom: cst.BaseExpression, aux: bool = False) -> None:
        """Bind the emitted name ``name`` itself (branches of a join assign the same name);
        ``aux``: the auxiliary output, which carries no gradient and may be a container."""
        if not aux:
            self.refuse_container_join(atom)
        self.locals.add(name)
        self.names.taken.add(name)
        self.stmts.append(ir.Phi(name, atom, self.origin, self.is_static(atom)))

    def is_container(self, atom: Any) -> bool:
        """True for a tuple, list or dict value: a display, or a name bound to one built here
        (a display, a list built with append, several outputs bound to one name) or to a
        container argument or part of one."""
        if isinstance(atom, cst.Name):
            return atom.value in self.lit or atom.value in self.dyn or atom.value in self.cont
        return isinstance(atom, (cst.Tuple, cst.List, cst.Dict)) and not self.is_static(atom)

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
        self.fail(
            node,
            "appending a tuple, list or dict to a list built in the function (its items "
            "would carry no gradient)",
            "keep one list per part and loop over them together: As.append(a); "
            "Bs.append(b); ... for a, b in zip(As, Bs)",
            "list-of-containers",
            consequence=consequence,
        )

    def join(self, branches: list[tuple[list[Any], bool, dict[str, str]]]) -> None:
        """SSA join after a branch: names that differ get a fresh version bound in each
        branch that falls through."""
        live = [(items, env) for items, falls, env in branches if falls]
        if not live:
            self.env = branches[0][2]
            return
        if len(live) == 1:
            self.env = dict(live[0][1])
            return
        names = set().union(*(env.keys() for _, env in live))
        new_env = dict(live[0][1])
        for u in sorted(names):
            versions = [env.get(u) for _, env in live]
            if any(v is None for v in versions):
                continue  # bound on one path only: later use is the user's NameError
            if len(set(versions)) == 1:
                new_env[u] = versions[0]  # type: ignore[assignment]
                continue
            if any(v in self.lit or v in self.dyn or v in self.cont for v in versions):
                kinds = {self.lit[v][0] if v in self.lit else None for v in versions}
                keys = [
                    tuple(self.lit[v][1].keys()) if isinstance(self.lit[v][1], dict)
                    else len(self.lit[v][1])
                    for v in versions if v in self.lit
                ]
                if len(keys) != len(versions) or len(set(keys)) != 1 or None in kinds:
                    self.fail(
                        self._node,
                        f"{u} is bound to different containers on different branches",
                        "give each branch's container its own name, or bind arrays instead",
                        "container-join",
                    )
                kind = kinds.pop()
                first = self.lit[versions[0]][1]  # type: ignore[index]
                ckeys = list(first.keys()) if isinstance(first, dict) else list(range(len(first)))
                names = [self.names.fresh(f"{u}_{_ident_key(k)}") for k in ckeys]
                for (items, env), v in zip(live, versions):
                    saved, self.stmts = self.stmts, items
                    entries = self.lit[v][1]  # type: ignore[index]
                    for k, c in zip(ckeys, names):
                        self.assign_exact(c, entries[k])
                    self.stmts = saved
                self.pending_displays.append((u, kind, ckeys, names))
                continue
            fresh = self.names.fresh(u)
            for items, env in live:
                saved, self.stmts = self.stmts, []
                self.assign_exact(fresh, cst.Name(env[u]))
                self.inherit_view(fresh, env[u])
                # into the paths that fall through, past a trailing `if` that may break
                new, self.stmts = self.stmts, saved
                _append_tail(items, new)
            if all(v in self.static for v in versions):
                self.static.add(fresh)
            new_env[u] = fresh
        self.env = new_env

    def join_funcs(self, branches: list[tuple[list[Any], bool, dict[str, Any]]]) -> None:
        """The nested defs after an ``if``: a name the branches that fall through bind to
        different functions becomes a :class:`_FuncChoice` on a flag each branch sets (a name
        bound on one path only keeps that function: elsewhere a call is the user's error)."""
        live = [(items, funcs) for items, falls, funcs in branches if falls]
        if len(live) != 2:
            self.local_funcs = live[0][1] if live else branches[0][2]
            return
        (items1, funcs1), (items2, funcs2) = live
        joined: dict[str, Any] = {}
        flag = None
        for name in {**funcs1, **funcs2}:
            a, b = funcs1.get(name), funcs2.get(name)
            if a is None or b is None or a == b:
                joined[name] = b if a is None else a
                continue
            if flag is None:
                flag = self.names.temp("branch")
                self.locals.add(flag)
                self.static.add(flag)
                items1.insert(0, ir.Phi(flag, cst.Name("True"), self.origin, True))
                items2.insert(0, ir.Phi(flag, cst.Name("False"), self.origin, True))
            joined[name] = _FuncChoice(flag, a, b)
        self.local_funcs = joined

    def if_statement(self, node: cst.If) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        test = self.lower_test(node.test, "cond")
        env0 = dict(self.env)
        funcs0 = self.local_funcs
        self.local_funcs = dict(funcs0)
        body, falls1 = self.sub_block(list(node.body.body))  # type: ignore[union-attr]
        env1, funcs1 = self.env, self.local_funcs
        self.env, self.local_funcs = dict(env0), dict(funcs0)
        orelse_stmts: list[cst.BaseStatement] = []
        if isinstance(node.orelse, cst.Else):
            orelse_stmts = list(node.orelse.body.body)  # type: ignore[union-attr]
        elif isinstance(node.orelse, cst.If):
            orelse_stmts = [node.orelse]
        orelse, falls2 = self.sub_block(orelse_stmts)
        env2, funcs2 = self.env, self.local_funcs
        self.origin = origin
        self.join([(body, falls1, env1), (orelse, falls2, env2)])
        self.join_funcs([(body, falls1, funcs1), (orelse, falls2, funcs2)])
        self.stmts.append(
            ir.IfNode(test, body, orelse, origin, self.is_static(test), (falls1, falls2))
        )
        self.flush_displays()
        return falls1 or falls2

    def flush_displays(self) -> None:
        pending, self.pending_displays = self.pending_displays, []
        for u, kind, keys, names in pending:
            self.rebuild_display(u, kind, keys, names)

    def lower_test(self, e: cst.BaseExpression, hint: str) -> cst.BaseExpression:
        """Lower a condition; comparisons, `not`, `in` and short-circuit-free `and`/`or`
        stay inline (they carry no gradient)."""
        if isinstance(e, cst.Comparison):
            left = self.lower(e.left, hint)
            comps = [
                c.with_changes(comparator=self.lower(c.comparator, hint)) for c in e.comparisons
            ]
            return e.with_changes(left=left, comparisons=comps)
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Not):
            return e.with_changes(expression=self.lower_test(e.expression, hint))
        if isinstance(e, cst.BooleanOperation):
            return self.boolean(e, hint, None)
        return self.lower(e, hint)

    def boolean(
        self, e: cst.BooleanOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower_test(e.left, hint)
        saved = self.stmts
        self.stmts = []
        right = self.lower_test(e.right, hint)
        right_stmts, self.stmts = self.stmts, saved
        if not right_stmts and target is None:
            return e.with_changes(left=left, right=right)
        # the right side runs only when the left one does not decide: make it a branch
        name = self.names.temp(hint) if target is None else self.define(target)
        is_and = isinstance(e.operator, cst.And)
        taken = right_stmts
        saved, self.stmts = self.stmts, taken
        self.assign_exact(name, right)
        self.stmts = []
        self.assign_exact(name, left)
        other, self.stmts = self.stmts, saved
        body, orelse = (taken, other) if is_and else (other, taken)
        self.stmts.append(ir.IfNode(left, body, orelse, self.origin, self.is_static(left)))
        if self.is_static(left) and self.is_static(right):
            self.static.add(name)
        self.alias_of_either(name, [left, right])
        self.last_define = (target, name) if target is not None else None
        return cst.Name(name)

    def ternary(self, e: cst.IfExp, hint: str, target: str | None) -> cst.BaseExpression:
        test = self.lower_test(e.test, hint)
        saved = self.stmts
        self.stmts = []
        a = self.lower(e.body, hint)
        body = self.stmts
        self.stmts = []
        b = self.lower(e.orelse, hint)
        orelse = self.stmts
        # the target's new version exists only once both branches have read the old one
        # (`h = h if c else -h`)
        name = self.names.temp(hint) if target is None else self.define(target)
        self.stmts = body
        self.assign_exact(name, a)
        self.stmts = orelse
        self.assign_exact(name, b)
        self.stmts = saved
        self.stmts.append(ir.IfNode(test, body, orelse, self.origin, self.is_static(test)))
        if self.is_static(a) and self.is_static(b):
            self.static.add(name)
        self.alias_of_either(name, [a, b])
        self.last_define = (target, name) if target is not None else None
        return cst.Name(name)

    def alias_of_either(self, name: str, atoms: list[cst.BaseExpression]) -> None:
        """``name`` is one of ``atoms`` (``a if c else b``, ``a or b``): the same object as
        whichever was chosen, so a later write into a named array (or a view) it may be shows
        in ``name`` in numpy."""
        self.alias_of(name, [
            a for a in atoms
            if isinstance(a, cst.Name)
            and (a.value in self.env.values() or a.value in self.view_roots)
        ])

    def _carried(self, node: cst.CSTNode, extra: list[str]) -> list[str]:
        all_assigned = _assigned_in(node.body)  # type: ignore[attr-defined]
        assigned = [t for t in all_assigned if t not in self.poisoned]
        used_outside = self.used_outside(node)
        funcs = _functions_bound(node.body)  # type: ignore[attr-defined]
        extended = _extended_in_place(node.body)  # type: ignore[attr-defined]
        out: list[str] = []
        for u in [*assigned, *extra]:
            if u in out:
                continue
            if u in funcs and u not in self.env and all_assigned.count(u) == len(funcs[u]):
                continue  # only ever a nested function: calls see it by enter_loop_funcs
            if u in extended and self.grows_in_place(self.env.get(u)):
                continue  # `lst += items` grows the same list object: nothing to carry
            if u in self.env or u in used_outside:
                out.append(u)
            elif (
                u in assigned
                and self.resolver.value_of([u])[0]
                and not _written_first(list(node.body.body), u)  # type: ignore[attr-defined]
            ):
                # read in the loop before this iteration binds it: Python reads the local
                # (the last iteration's value), never the module global of that name
                self.fail(
                    node,
                    f"{u!r} is read in this loop before the loop assigns it, and nothing binds "
                    f"it before the loop (the global {u!r} is not what Python reads here: a "
                    "local of that name hides it)",
                    f"bind {u} before the loop (e.g. {u} = ... its first value), or rename it",
                    "loop-unbound",
                )
        return out

    def enter_loop_funcs(self, node: cst.For | cst.While) -> dict[str, _FuncFromLoop]:
        """Set the nested defs and lambdas the body of the loop ``node`` binds as a call at
        the top of an iteration sees them, and return them as a call after the loop does.

        At the top of an iteration, a name with no binding before the loop and one binding in
        the body, a def, is that def (every iteration that runs it makes the same function, its
        calls read the names they use when they run, and before it first runs the name is
        unbound); any other, and every one after the loop (what its calls read there is not
        known to be read after the loop), is refused."""
        assigned = _assigned_in(node.body)
        after: dict[str, _FuncFromLoop] = {}
        for u, bindings in _functions_bound(node.body).items():
            first = bindings[0]
            after[u] = _FuncFromLoop(self.src.where(first)[1])
            fresh = u not in self.local_funcs and u not in self.env
            if fresh and len(bindings) == 1 and assigned.count(u) == 1:
                fn = first if isinstance(first, cst.FunctionDef) else first.value  # type: ignore
                self.local_funcs[u] = (fn, self.src, self.resolver, len(self.inline_stack) - 1)
            else:
                self.local_funcs[u] = after[u]
        return after

    def _read_after(self, node: cst.CSTNode) -> set[str]:
        """Names read (not only assigned) after the statement ``node`` in the function being
        lowered."""
        tree = self.src.tree
        start = self.src.where(node)
        inside = {id(n) for n in _all_names(node)}
        targets = {
            id(n)
            for t in m.findall(tree, m.AssignTarget() | m.For())
            for n in m.findall(t.target, m.Name())  # type: ignore[union-attr]
        }
        return {
            n.value
            for n in _all_names(tree)
            if id(n) not in inside and id(n) not in targets and self.src.where(n) > start
        }

    def used_outside(self, node: cst.CSTNode) -> set[str]:
        inside = {id(n) for n in _all_names(node)}
        return {n.value for n in self.all_names if id(n) not in inside}

    def enter_loop(self, carried_users: list[str]) -> list[ir.Carried]:
        carried = []
        for u in carried_users:
            if u in self.env:
                c = self.names.fresh(u)
                self.assign_exact(c, cst.Name(self.env[u]))
                self.inherit_view(c, self.env[u])
                carried.append(ir.Carried(c, True))
            else:
                c = self.names.fresh(u) if (u in self.names.taken and u in self.locals) else u
                self.names.taken.add(c)
                carried.append(ir.Carried(c, False))
                self.maybe_unbound.add(c)
            self.env[u] = c
            self.locals.add(c)
        return carried

    def rebuild_display(self, u: str, kind: str, keys: list[Any], names: list[str]) -> None:
        """Bind ``u`` to a display of the carried items (``state = (state_0, state_1)``)."""
        if kind == "dict":
            node: cst.BaseExpression = cst.Dict(
                [cst.DictElement(cst.parse_expression(repr(k)), cst.Name(n)) for k, n in zip(keys, names)]
            )
        else:
            node = cst.Tuple([cst.Element(cst.Name(n)) for n in names])
        poisoned = u in self.poisoned
        self.bind_atom(u, node)
        if poisoned:
            self.poisoned.add(u)  # the same value, carried on: a finding already reported it
        if kind != "dict":
            self.seq_displays[self.env[u]] = (None, len(names))  # a tuple or a list

    def loop_phis(self, loop: dict[str, Any]) -> None:
        phis = []
        for u, (kind, keys, names) in loop.get("comps", {}).items():
            cur = self.env.get(u)
            if cur not in self.lit:
                self.fail(self._node, f"{u} is carried around the loop as a display but "
                          "rebound to something else", "keep it a tuple/list/dict display", "carry")
            items = self.lit[cur][1]
            vals = [items[k] for k in keys] if isinstance(items, dict) else list(items)
            if len(vals) != len(names):
                self.fail(
                    self._node,
                    f"{u} changes length around the loop",
                    f"grow a list in place instead: {u} = [...] before the loop, "
                    f"{u}.append(item) in it",
                    "carry",
                )
            for c, v in zip(names, vals):
                if not (isinstance(v, cst.Name) and v.value == c):
                    phis.append(ir.Phi(c, v, self.origin, self.is_static(v)))
        for u, c in loop["map"].items():
            cur = self.env.get(u)
            if cur is not None and cur != c.name:
                self.refuse_container_join(
                    cst.Name(cur),
                    f"compute in the loop the array you need of {u} (v = np.stack({u}), "
                    f"v = {u}[0], ...) and use that after the loop, or build {u} once, before it",
                )
                phis.append(ir.Phi(c.name, cst.Name(cur), self.origin))
        _append_tail(self.stmts, phis)

    def break_here(self, node: cst.CSTNode) -> None:
        if not self.loops:
            self.fail(node, "break outside a loop", "remove it", "break")
        loop = self.loops[-1]
        loop["has_break"] = True
        self.loop_phis(loop)
        self.stmts.append(ir.BreakNode(self.origin))

    def for_statement(self, node: cst.For) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        if node.asynchronous is not None:
            self.fail(node, "async for", "use a plain for loop", "async-for")
        self._refuse_iterating_what_the_loop_writes(node)
        values = self.static_values(node.iter)
        if values is not None and node.orelse is None and not _has_exit(node.body):
            return self.unrolled(node.target, values, list(node.body.body))  # type: ignore[union-attr]
        if self._reads_poisoned(node.iter):
            raise _Bail(None)  # a loop over a list already reported
        node = self._bind_iterated_displays(node)
        exprs = self.container_values(node.iter)
        if exprs is not None and node.orelse is None and not _has_exit(node.body):
            for v in exprs:  # a loop over a list/tuple argument: one copy of the body per item
                for n in _all_names(v):
                    if n.value in self.locals and n.value not in self.env:
                        self.env[n.value] = n.value  # an emitted item: readable by its name
                self.assign(node.target, v)
                if not self.block(list(node.body.body)):  # type: ignore[union-attr]
                    return False
            return True
        plan = self.iteration_plan(node)
        header_target, header_iter, prelude, reversible = plan
        return self.loop(node, "for", header_target, header_iter, prelude, reversible, origin)

    def _bind_iterated_displays(self, node: cst.For) -> cst.For:
        """``for v in [a, b]`` (also inside enumerate/zip/reversed) runs as
        ``items = [a, b]; for v in items``: the display is evaluated once, before the loop,
        as Python does, and the loop is one over a list built here."""

        def bind(e: cst.BaseExpression) -> cst.BaseExpression:
            if not isinstance(e, (cst.List, cst.Tuple)) or not e.elements:
                return e
            if any(isinstance(el, cst.StarredElement) for el in e.elements):
                return e
            if self.constant_value(e) is not _MISSING:
                return e  # a tuple of constants: unrolled as it is
            tmp = self.names.temp("items")
            self.assign(cst.Name(tmp), e)
            return self.src.alias(cst.Name(tmp), e)  # type: ignore[return-value]

        it = node.iter
        new_it: cst.BaseExpression = bind(it)
        if (
            new_it is it
            and isinstance(it, cst.Call)
            and isinstance(it.func, cst.Name)
            and it.func.value in ("enumerate", "zip", "reversed")
            and it.func.value not in self.env
        ):
            args = [
                a.with_changes(value=bind(a.value)) if a.keyword is None else a for a in it.args
            ]
            if any(a is not b for a, b in zip(args, it.args)):
                new_it = it.with_changes(args=args)
                self.src.alias(new_it, it)
        if new_it is it:
            return node
        out = node.with_changes(iter=new_it)
        self.src.alias(out, node)
        return out

    def while_statement(self, node: cst.While) -> bool:
        self.origin = self.src.origin(node)
        origin = self.origin
        return self.loop(node, "while", None, node.test, [], False, origin)

    def loop(
        self,
        node: cst.For | cst.While,
        kind: str,
        header_target: str | None,
        header_iter: cst.BaseExpression | None,
        prelude: list[tuple[str, Any]],
        reversible: bool,
        origin: Any,
    ) -> bool:
        self.grow_before_loop(node)
        extra = [t for t, _ in prelude]
        for u in _subscript_written(node.body):
            if u in self.env:
                self.mark_stale(self.env[u])  # a later iteration reads after the write
        before = set(self.env.values())
        funcs = self.enter_loop_funcs(node)
        carried_users = self._carried(node, extra)
        # a tuple/list/dict display carried around the loop is carried item by item
        comps: dict[str, tuple[str, list[Any], list[str]]] = {}
        plain_users = []
        for u in carried_users:
            cur = self.env.get(u)
            if cur is not None and cur in self.lit:
                ckind, items = self.lit[cur]
                keys = list(items.keys()) if ckind == "dict" else list(range(len(items)))
                vals = list(items.values()) if ckind == "dict" else list(items)
                names = []
                for k, v in zip(keys, vals):
                    c = self.names.fresh(f"{u}_{_ident_key(k)}")
                    self.assign_exact(c, v)
                    names.append(c)
                comps[u] = (ckind, keys, names)
            else:
                plain_users.append(u)
        bound_by_header = (
            {n.value for n in _all_names(node.target)} if isinstance(node, cst.For) else set()
        )
        for u in plain_users:
            if self.env.get(u) in self.maybe_unbound and u not in bound_by_header:
                # bound only by an enclosing or earlier loop, nowhere before it: on the first
                # iteration there is no value to carry in, so this loop starts it unbound too
                if not _written_first(list(node.body.body), u):  # type: ignore[union-attr]
                    self.fail(
                        node,
                        f"{u!r} is read in this loop, but only a loop binds it, nowhere before "
                        "it: on the first pass it has no value to carry in",
                        f"bind {u} before the first loop that assigns it (e.g. {u} = 0.0)",
                        "loop-unbound",
                    )
                self.env.pop(u)
        sequences = {u for u in plain_users if self.env.get(u) in self.seq_displays}
        carried = self.enter_loop(plain_users)
        for u in sequences:
            self.carried_seqs.add(self.env[u])  # `t = t + (v,)` would change its length
        for u, (_, keys, names) in comps.items():
            carried += [ir.Carried(c, True) for c in names]
        cmap = {u: c for u, c in zip(plain_users, carried)}
        loop: dict[str, Any] = {"map": cmap, "has_break": False, "comps": comps}
        self.loops.append(loop)
        self.tick += 1
        self.loop_ticks.append(self.tick)
        saved = self.stmts
        self.stmts = []
        target_name = None
        test: cst.BaseExpression | None = None
        body_stmts = list(node.body.body)  # type: ignore[union-attr]
        for u, (ckind, keys, names) in comps.items():
            self.rebuild_display(u, ckind, keys, names)
            if ckind == "seq":
                self.carried_seqs.add(self.env[u])  # `t = t + (v,)` would change its length
        prior_target = self.env.get(header_target) if header_target is not None else None
        try:
            if kind == "for":
                assert header_target is not None
                target_name = self.define(header_target)
                if header_iter is not None and self.is_static(header_iter):
                    self.static.add(target_name)
                for user, source in prelude:
                    self.origin = origin
                    if source is None:
                        continue
                    arr, = source
                    self.lower_subscript_of(arr, cst.Name(target_name), user, target=user)
            else:
                # while: evaluate the test at the top of each iteration
                self.origin = origin
                n_before = len(self.stmts)
                t = self.lower_test(node.test, "cond")  # type: ignore[union-attr]
                if len(self.stmts) > n_before:
                    # the test needs statements: `while True:` with `if not test: break`,
                    # and the body in the else branch (it does not run in the last round)
                    neg = cst.UnaryOperation(operator=cst.Not(), expression=_paren(t))
                    brk, _ = self._break_block()
                    rest, falls = self.sub_block(body_stmts)
                    self.stmts.append(
                        ir.IfNode(neg, brk, rest, origin, self.is_static(t), (False, falls))
                    )
                    body_stmts = []
                    test = None
                else:
                    test = t
            falls = self.block(body_stmts) if body_stmts else (kind == "for" or test is not None or falls)
            self._refuse_carried_views(node, before)
            if falls:
                self.origin = origin
                self.loop_phis(loop)
            body = self.stmts
        finally:
            self.stmts = saved
            self.loops.pop()
            self.loop_ticks.pop()
        stack = self.names.fresh(f"_stack_{(carried[0].name if carried else target_name or 'loop').lstrip('_')}")
        ln = ir.LoopNode(
            kind,
            target_name,
            header_iter if kind == "for" else test,
            body,
            origin,
            carried,
            stack,
            has_break=loop["has_break"],
            reversible_range=reversible and not loop["has_break"],
        )
        if kind == "for" and header_iter is not None:
            ln.iter = header_iter
        outer_maps = [lp["map"] for lp in self.loops]
        if (
            kind == "for"
            and target_name is not None
            and isinstance(header_iter, cst.Call)
            and isinstance(header_iter.func, cst.Name)
            and header_iter.func.value == "range"  # an int target: no gradient to route
            and (
                any(header_target in mp for mp in outer_maps)
                or prior_target is not None and header_target in self._read_after(node)
            )
        ):
            # an enclosing loop carries the target's name: after a loop that ran no round it
            # holds what it held before (Python's semantics), never an unbound name
            if prior_target is None or any(
                c.name == prior_target and not c.before for mp in outer_maps for c in mp.values()
            ):
                if prior_target is not None:
                    self.prebind.add(prior_target)  # unbound before the enclosing loop
            source = cst.Name(prior_target) if prior_target is not None else cst.Name("None")
            self.stmts.append(ir.Phi(target_name, source, origin, True))
        self.stmts.append(ln)
        for u, c in cmap.items():
            self.env[u] = c.name
        self.local_funcs.update(funcs)
        for u, (ckind, keys, names) in comps.items():
            self.origin = origin
            self.rebuild_display(u, ckind, keys, names)
        return True

    def _break_block(self) -> tuple[list[Any], bool]:
        saved = self.stmts
        self.stmts = []
        self.break_here(self._node)
        out = self.stmts
        self.stmts = saved
        return out, False

    def iterable(self, seq: cst.BaseExpression) -> cst.BaseExpression:
        """A list/tuple argument iterated over becomes a list whose items carry gradients."""
        if isinstance(seq, cst.Name) and seq.value in self.cont:
            param, path, skel = self.cont[seq.value]
            if skel[0] not in ("seq", "nt") or any(c is not None for c in _children(skel)):
                self.fail(seq, "iterating a nested container argument", "index it with constants", "iterate")
            name = self.names.temp(f"{seq.value}_items")
            expr = cst.Call(func=cst.Name("list"), args=[cst.Arg(seq)])
            self.locals.add(name)
            self.stmts.append(
                Stmt(ir.LISTFROM, [name], expr, self.origin, operands=[param], label="items",
                     read=(param, path), bound={"n": len(_children(skel))})
            )
            self.dyn.add(name)
            return cst.Name(name)
        if isinstance(seq, cst.Name) and seq.value in self.lit:
            kind, items = self.lit[seq.value]
            if kind == "seq" and any(self._is_container_atom(item) for item in items):
                self.fail(
                    seq,
                    "a loop over a list or tuple of tuples built in the function (the parts "
                    "would carry no gradient)",
                    "keep one list per part and loop over them together: "
                    "for a, b in zip(As, Bs), with As = [...] and Bs = [...]",
                    "list-of-containers",
                )
            if kind == "seq":
                name = self.names.temp(f"{seq.value}_items")
                self.bind_atom(name, cst.List([]))
                name = self.env[name]
                for item in items:
                    if self.is_container(item):
                        self.fail(
                            seq,
                            "a loop with break, return or else over a tuple/list whose items "
                            "are tuples, lists or dicts",
                            "loop without break/return/else (such a loop runs once per item), "
                            "or read the items with constant indices",
                            "iterate",
                        )
                    self.append_item(seq, name, item)
                return cst.Name(name)
        return seq

    def range_len(self, seqs: list[cst.BaseExpression]) -> cst.BaseExpression:
        """``range(len(seq))``; the length of a list that grows is taken now, once."""
        fixed = []
        for sq in seqs:
            if isinstance(sq, cst.Name) and sq.value in self.dyn:
                n = self.names.temp(f"{sq.value}_len")
                self.stmts.append(
                    Stmt(ir.NONDIFF, [n], cst.parse_expression(f"len({sq.value})"), self.origin)
                )
                self.locals.add(n)
                fixed.append(cst.Name(n))
            else:
                fixed.append(None)
        header = _range_len(seqs)
        if all(f is None for f in fixed):
            return header
        lens = [
            cst.Module([]).code_for_node(f) if f is not None else f"len({cst.Module([]).code_for_node(sq)})"
            for f, sq in zip(fixed, seqs)
        ]
        inner = lens[0] if len(lens) == 1 else f"min({', '.join(lens)})"
        return cst.parse_expression(f"range({inner})")

    def iteration_plan(
        self, node: cst.For
    ) -> tuple[str, cst.BaseExpression, list[tuple[str, Any]], bool]:
        """How to run ``for target in iter``: the header target and iterable, the names the
        body binds from an index (rows of arrays), and whether ``reversed(range(...))`` can
        replay it backwards."""
        it = node.iter
        target = node.target

        def names_of(t: cst.BaseExpression) -> list[str]:
            if isinstance(t, cst.Name):
                return [t.value]
            if isinstance(t, (cst.Tuple, cst.List)):
                out = []
                for el in t.elements:
                    if not isinstance(el.value, cst.Name):
                        self.fail(el.value, "nested loop target", "unpack inside the body", "for-target")
                    out.append(el.value.value)  # type: ignore[union-attr]
                return out
            self.fail(t, "unsupported loop target", "use a name", "for-target")
            raise AssertionError

        call = it if isinstance(it, cst.Call) else None
        fname = None
        if call is not None and isinstance(call.func, cst.Name) and call.func.value in ("range", "enumerate", "zip", "reversed") and call.func.value not in self.env:
            fname = call.func.value
        if fname == "range":
            args = [self.lower_arg(a, "n") for a in call.args]  # type: ignore[union-attr]
            tnames = names_of(target)
            if len(tnames) != 1:
                self.fail(target, "unpacking a range", "use one loop variable", "for-target")
            return tnames[0], call.with_changes(args=args), [], True  # type: ignore[union-attr]
        if fname == "enumerate":
            tnames = names_of(target)
            if len(tnames) != 2 or len(call.args) != 1:  # type: ignore[union-attr]
                self.fail(target, "enumerate(...) needs `i, x` as its target", "write `for i, x in enumerate(xs)`", "for-target")
            seq = self.iterable(self.lower(call.args[0].value, tnames[1]))  # type: ignore[union-attr]
            if self.is_static(seq):
                return tnames[0] + "__pair", call.with_changes(args=[cst.Arg(seq)]), [], False  # type: ignore[union-attr]
            header = self.range_len([seq])
            return tnames[0], header, [(tnames[1], (seq,))], True
        if fname == "zip":
            tnames = names_of(target)
            seqs = [self.iterable(self.lower(a.value, n)) for a, n in zip(call.args, tnames)]  # type: ignore[union-attr]
            if len(seqs) != len(tnames):
                self.fail(target, "zip(...) target count", "one name per sequence", "for-target")
            index = self.names.temp("i")
            prelude = []
            lens = []
            for n, sq in zip(tnames, seqs):
                prelude.append((n, (sq,)))
                lens.append(sq)
            return index, self.range_len(lens), prelude, True
        # a plain sequence: rows of an array (or a constant sequence)
        seq = self.iterable(self.lower(it, "seq"))
        tnames = names_of(target)
        if self.is_static(seq):
            if len(tnames) != 1:
                self.fail(target, "unpacking in a loop over a constant", "index inside the body", "for-target")
            return tnames[0], seq, [], False
        if len(tnames) != 1:
            self.fail(target, "unpacking rows in a loop target", "index the row inside the body", "for-target")
        index = self.names.temp(f"{tnames[0]}_index")
        return index, self.range_len([seq]), [(tnames[0], (seq,))], True

    def small_statement(self, small: cst.BaseSmallStatement) -> None:
        if isinstance(small, cst.Assign):
            first = small.targets[0].target
            self.assign(first, small.value)
            for t in small.targets[1:]:
                self.assign(t.target, first)
        elif isinstance(small, cst.AnnAssign):
            if small.value is None:
                return  # `y: T` alone declares, binds nothing
            self.assign(small.target, small.value)
        elif isinstance(small, cst.AugAssign):
            if (
                isinstance(small.operator, cst.AddAssign)
                and isinstance(small.target, cst.Name)
                and self.grows_in_place(self.env.get(small.target.value))
            ):
                # `lst += items` on a list extends it in place (the same list object)
                call = cst.Call(
                    func=cst.Attribute(small.target, cst.Name("extend")),
                    args=[cst.Arg(small.value)],
                )
                self.src.alias(call, small)  # (a finding points at the statement)
                self.small_statement(cst.Expr(call))
                return
            # `y op= v` is `y = y op v`; `y[k] op= v` is `y[k] = y[k] op v` (numpy's own
            # semantics, repeated keys too)
            value = small.value
            if isinstance(value, (cst.BinaryOperation, cst.BooleanOperation)) and not value.lpar:
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            op = _AUG_TO_BIN[type(small.operator)]()
            expr = cst.BinaryOperation(left=small.target, operator=op, right=value)
            if isinstance(small.target, cst.Subscript):
                self.subscript_write(small.target, expr)
            else:
                self.aug_assign_name(cst.ensure_type(small.target, cst.Name))
                self.assign(cst.ensure_type(small.target, cst.Name), expr)
        elif isinstance(small, cst.Expr):
            v = small.value
            if isinstance(v, (*_LITERALS,)):
                return  # docstring or ...
            node = self.lower(v, "_")
            if isinstance(v, cst.Call):
                last = self.stmts[-1] if self.stmts else None
                if last is not None and last.targets == [getattr(node, "value", None)]:
                    # keep the call as a statement of its own, result unused
                    last.kind = ir.EFFECT if last.kind not in ir.DIFF_KINDS else last.kind
        elif isinstance(small, cst.Assert):
            test = self.lower(small.test, "assert")
            msg = self.lower(small.msg, "assert") if small.msg is not None else None
            self.stmts.append(
                Stmt(
                    ir.EFFECT,
                    [],
                    None,
                    self.origin,
                    node=small.with_changes(test=test, msg=msg),
                )
            )
        elif isinstance(small, cst.Raise):
            exc = self.lower(small.exc, "exc") if small.exc is not None else None
            self.stmts.append(
                Stmt(ir.EFFECT, [], None, self.origin, node=small.with_changes(exc=exc))
            )
        elif isinstance(small, cst.Pass):
            return
        elif isinstance(small, cst.Return):
            assert small.value is not None
            value = small.value
            if self.has_aux:
                if not (isinstance(value, cst.Tuple) and len(value.elements) == 2):
                    self.fail(
                        small,
                        "has_aux=True but the return value is not a (loss, aux) pair",
                        "return loss, aux",
                        "has_aux",
                    )
                loss, aux = (e.value for e in value.elements)  # type: ignore[union-attr]
                self.out = self.output(loss)
                aux_atom = self.lower(aux, "aux")
                if self.n_returns > 1:
                    name = self.names.generated("aux")
                    self.assign_exact(name, aux_atom, aux=True)
                    aux_atom = cst.Name(name)
                self.aux = aux_atom
            else:
                self.out = self.output(value)
            if self.loops:
                # a return from inside a loop (its value bound): set the flag and leave the
                # loop; each enclosing loop leaves too (see `block`)
                self.assign_exact(self.ret_flag, cst.Name("True"))  # type: ignore[arg-type]
                self.break_here(small)
        else:
            if type(small) in _UNSUPPORTED:
                raise _Bail(None)  # reported by check, with its own hint
            what = _readable(type(small).__name__)
            self.fail(small, f"unsupported statement: {what}", "rewrite it as an assignment", what)

    def output(self, value: cst.BaseExpression) -> cst.BaseExpression:
        node = self._output(value)
        if len(self.inline_stack) == 1 and isinstance(node, cst.Name) and node.value not in self.multi_results and (
            node.value in self.lit or node.value in self.dyn or node.value in self.cont
        ):
            self.fail(
                value,
                "the differentiated output is a tuple, list or dict",
                "return one array (np.stack the parts), or return (loss, aux) with has_aux=True",
                "container-output",
            )
        return node

    def _output(self, value: cst.BaseExpression) -> cst.BaseExpression:
        name = self.out_name or self.names.generated("out")
        if self.out_name is not None and (self.loops or self.n_returns > 1):
            tree = self._result_tree(value, False)
            mixed = (tree[0] == "leaf") == (name in self.out_items)
            if mixed and (name in self.out_items or name in self.out_plain):
                self.fail(
                    value,
                    "returns a tuple, list or dict on one path and another kind of value on "
                    "another",
                    "return the same kind of value on every path",
                    "return",
                )
            if tree[0] != "leaf":
                return self._output_items(name, value, tree)
            self.out_plain.add(name)
        if self.loops or self.n_returns > 1:
            self.assign_exact(name, self.lower(value, "out"))
            return cst.Name(name)
        if isinstance(value, cst.Name) and value.value in self.env:
            return cst.Name(self.env[value.value])
        node = self.lower(value, "out", target=name)
        return node

    def _result_tree(self, value: Any, lowered: bool) -> tuple[Any, ...]:
        """The shape of a returned value: ``("seq", [trees])`` for a tuple/list display (or a
        name bound to one), ``("dict", keys, [trees])`` for a dict display with constant keys,
        else ``("leaf", value, lowered)``."""
        if not lowered and isinstance(value, (cst.Tuple, cst.List)) and not any(
            isinstance(el, cst.StarredElement) for el in value.elements
        ):
            return ("seq", [self._result_tree(el.value, False) for el in value.elements])
        if not lowered and isinstance(value, cst.Dict):
            keys = [
                _constant_key(el.key) if isinstance(el, cst.DictElement) else _MISSING
                for el in value.elements
            ]
            if all(k is not _MISSING for k in keys):
                return (
                    "dict",
                    keys,
                    [
                        self._result_tree(el.value, False)  # type: ignore[union-attr]
                        for el in value.elements
                    ],
                )
        name = None
        if isinstance(value, cst.Name):
            name = value.value if lowered else self.env.get(value.value)
        entry = self.lit.get(name) if name is not None else None
        if entry is not None and isinstance(entry[1], list):
            return ("seq", [self._result_tree(a, True) for a in entry[1]])
        if entry is not None and isinstance(entry[1], dict):
            return (
                "dict", list(entry[1]), [self._result_tree(a, True) for a in entry[1].values()]
            )
        return ("leaf", value, lowered)

    def _names_tree(self, base: str, tree: tuple[Any, ...]) -> tuple[Any, ...]:
        """A fresh name for every leaf of ``tree`` (same shape, leaves are names)."""
        if tree[0] == "seq":
            return ("seq", [self._names_tree(f"{base}_{k}", t) for k, t in enumerate(tree[1])])
        if tree[0] == "dict":
            return (
                "dict",
                tree[1],
                [self._names_tree(f"{base}_{_ident_key(k)}", t) for k, t in zip(*tree[1:])],
            )
        return ("leaf", self.names.fresh(base))

    def _bind_tree(
        self, names: tuple[Any, ...], tree: tuple[Any, ...], value: cst.CSTNode
    ) -> None:
        """Bind each leaf name of ``names`` (see :meth:`_names_tree`) to the matching leaf of
        the result tree ``tree`` (one path's value; ``value``: where it is written)."""
        if tree[0] == "leaf":
            atom = tree[1] if tree[2] else self.lower(tree[1], "out")
            if self._is_container_atom(atom):
                self.fail(
                    value,
                    "returns a container built in different ways on different paths",
                    "return a display of the items, e.g. return a, b, on every path",
                    "return",
                )
            self.assign_exact(names[1], atom)
            return
        for sub_n, sub_t in zip(names[-1], tree[-1]):
            self._bind_tree(sub_n, sub_t, value)

    def _output_items(
        self, name: str, value: cst.BaseExpression, tree: tuple[Any, ...]
    ) -> cst.BaseExpression:
        """``return a, b`` in an inlined callee that returns from several places (or from a
        loop): each item is bound to a name of its own, shared by every return, and the call's
        result is the display of those names (binding the display as one value would hide
        what flows through its items)."""
        names = self.out_items.get(name)
        if names is None:
            names = self.out_items[name] = self._names_tree(name.lstrip("_"), tree)
        elif not _same_shape(names, tree):
            self.fail(
                value,
                "returns values of different shapes on different paths (tuples or dicts of "
                "different lengths or keys)",
                "return the same kind of value, with the same number of items, on every path",
                "return",
            )
        self._bind_tree(names, tree, value)
        return _display_of(names)

    def track_alias(self, user: str) -> None:
        """Record that the name just bound is the array it was copied or read from (``v = y``,
        ``v = params["W"]``, an item of a list of views); views made by primitives are recorded
        where they are emitted (:meth:`note_view`)."""
        name = self.env.get(user)
        if name is None or not self.stmts or not isinstance(self.stmts[-1], Stmt):
            return
        st = self.stmts[-1]
        if name not in st.targets or st.kind not in (ir.COPY, ir.READ, ir.LISTGET):
            return
        src = st.operands[0] if st.operands else None
        if src is None:
            return
        if st.kind == ir.READ:
            self.borrowed.add(name)
        else:
            self.alias_of(name, [src])

    def inherit_view(self, new: str, old: str) -> None:
        """``new`` is another version of ``old`` (a loop-carried or joined name): when ``old``
        is a view, or holds one, so is ``new`` (a write into it would be a write into the
        base, which the functional rewrite cannot follow)."""
        if old in self.view_root:
            self.view_root.setdefault(new, self.view_root[old])
        if old in self.borrowed:
            self.borrowed.add(new)
        roots = self.view_roots.get(old)
        if roots and old in self.view_root:
            self.view_roots.setdefault(new, set()).update(roots)
            for root in roots:
                self.views.setdefault(root, set()).add(new)

    def note_view(self, st: Stmt) -> None:
        """A primitive whose rule says it may return a view (``Rule.view``): every name it
        binds may share memory with every array operand."""
        rule = st.rule
        if rule is None or not rule.view:
            return
        if rule.name == "getitem":
            kind = self._key_kind(st.bound.get("key"))
            if kind == "copy":
                return  # indexing with a list copies
            if kind == "maybe":
                self.maybe_views.update(st.targets)
        srcs = [o for o in st.operands if o in self.locals]
        for name in st.targets:
            self.alias_of(name, srcs)

    def alias_of(self, name: str, srcs: list[Any], container: bool = False) -> None:
        """``name`` may share memory with each array in ``srcs`` (emitted names; other atoms
        are skipped).  A write into one of them, in place as numpy does it, makes ``name``
        stale.  ``container``: ``name`` is a tuple, list or dict holding them (it is not
        itself a view, so writing into it is not a write into them)."""
        for src in srcs:
            if isinstance(src, cst.Name):
                src = src.value
            if not isinstance(src, str) or src == name or src not in self.locals:
                continue
            # (constants too: `A = np.zeros(...); rows = A.T; rows[i] = v` writes into A)
            roots = self.view_roots.get(src, {src})
            if not container:
                if src in self.params_set or src in self.borrowed:
                    self.borrowed.add(name)
                else:
                    self.view_root.setdefault(name, sorted(roots)[0])
            self.view_roots.setdefault(name, set()).update(roots)
            for root in roots:
                self.views.setdefault(root, set()).add(name)

    def _refuse_iterating_what_the_loop_writes(self, node: cst.For) -> None:
        """``for r in x:`` whose body writes ``x`` (or an array sharing its memory) in place:
        numpy's iterator hands out rows of the array as it is then, so a later row shows the
        writes of earlier iterations, which the functional rewrite does not."""
        def arrays_under(e: cst.BaseExpression) -> list[str]:
            # the local names an iterable reads its items from (through views, enumerate, zip)
            if isinstance(e, cst.Name):
                return [e.value] if e.value in self.env else []
            if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value in (
                "enumerate", "zip", "reversed"
            ):
                return [n for a in e.args for n in arrays_under(a.value)]
            return [n for s in self._view_sources(e, self.env) for n in arrays_under(s)]

        for name in arrays_under(node.iter):
            cur = self.env[name]
            roots = self.view_roots.get(cur, {cur})
            written = [
                w for w in sorted(_subscript_written(node.body))
                if w in self.env and self.view_roots.get(self.env[w], {self.env[w]}) & roots
            ]
            if not written:
                continue
            w, under = written[0], cst.Name(name)
            self.fail(
                node,
                f"the loop iterates over {under.value!r} and its body writes {w!r} in place: "
                "numpy's later rows see the earlier iterations' writes",
                f"iterate over a copy (for ... in {under.value}.copy():), or write {w} "
                f"functionally ({w} = ...)",
                "loop-over-written",
                AliasError,
            )

    def _refuse_carried_views(self, node: cst.For | cst.While, before: set[str]) -> None:
        """A name written in place in a loop body while a view of it, or a list holding it,
        lives across iterations (made before the loop): a later iteration's write changes
        what the earlier one kept in numpy, never in the functional rewrite."""
        for u in sorted(_subscript_written(node.body)):
            cur = self.env.get(u)
            if cur is None:
                continue
            for root in sorted(self.view_roots.get(cur, {cur})):
                for v in sorted(self.views.get(root, ())):
                    if v not in before or v == cur:
                        continue
                    user = next((k for k, e in self.env.items() if e == v), v)
                    self.fail(
                        node,
                        f"{u!r} is written in place in the loop while {user!r}, made before "
                        f"the loop, holds it or a view of it: a later iteration's write would "
                        f"change what an earlier one kept",
                        f"keep a copy ({user}.append({u}.copy())) or write {u} functionally "
                        f"({u} = {u} + ...)",
                        "loop-carried-view",
                        AliasError,
                    )

    def aug_assign_name(self, target: cst.Name) -> None:
        """``y op= v`` on a name: numpy writes an array in place, so views of ``y`` (and lists
        holding it) are stale after it, and when ``y`` may itself be a view, an argument's
        entry or a caller's value, a run-time check refuses an array (scalars rebind)."""
        user = target.value
        cur = self.env.get(user)
        if cur is None:
            return
        if (
            cur in self.borrowed
            or cur in self.view_root
            or cur in self.arg_names
            or cur in self.maybe_views
        ):
            self.runtime_imports.add("require_not_array")  # an array here is a view
            o = self.origin
            call = cst.Call(
                func=cst.Name(self.names.generated("require_not_array")),
                args=[
                    cst.Arg(cst.Name(cur)),
                    cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {user}"))),
                ],
            )
            self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
        self.mark_stale(cur)
        self.stale.discard(cur)  # `y` itself is read (and checked above), not stale
        self.maybe_stale.pop(cur, None)

    def mark_stale(self, array: str) -> None:
        """Views of ``array`` (taken so far) may not be read after a write into it."""
        for root in self.view_roots.get(array, {array}):
            self._stale_views_of(root, array)

    def _stale_views_of(self, root: str, array: str) -> None:
        for v in self.views.pop(root, set()):
            if v in self.maybe_views:
                self.maybe_stale[v] = array  # checked at run time: int index or array index?
            else:
                self.stale.add(v)

    def _key_kind(self, key: Any) -> str:
        """"copy" for a literal list index, "maybe" when an index is only known at run time
        (an int is a view, an array a copy), else "view"."""
        if not isinstance(key, cst.Subscript):
            return "view"
        kind = "view"
        for el in key.slice:
            sl = el.slice
            if isinstance(sl, cst.Index) and isinstance(sl.value, (cst.List, cst.Tuple)):
                return "copy"
            if isinstance(sl, cst.Index) and not self.is_static(sl.value):
                kind = "maybe"
        return kind

    def lower_slices(self, slices: Any, hint: str) -> list[cst.SubscriptElement]:
        """The elements of a subscript with every index and bound lowered to an atom."""
        elements = []
        for el in slices:
            sl = el.slice
            if isinstance(sl, cst.Index):
                sl = sl.with_changes(value=self.lower(sl.value, hint))
            else:
                sl = sl.with_changes(
                    lower=None if sl.lower is None else self.lower(sl.lower, hint),
                    upper=None if sl.upper is None else self.lower(sl.upper, hint),
                    step=None if sl.step is None else self.lower(sl.step, hint),
                )
            elements.append(el.with_changes(slice=sl))
        return elements

    def subscript_write(self, target: cst.Subscript, value: cst.BaseExpression) -> None:
        """``y[key] = v`` becomes ``y_1 = y.copy(); y_1[key] = v``: a new version of ``y``
        (DESIGN §5).  Only arrays made in this call may be written."""
        if not isinstance(target.value, cst.Name):  # K.flat[...] = v, a.T[0] = v, f(x)[i] = v
            written = self.src.module.code_for_node(target.value).strip()
            self.fail(
                target,
                f"in-place write into {written}[...]: srcgrad writes only into arrays bound to "
                "a name",
                "index the array itself, e.g. K[i, j] = v; for a diagonal write "
                "K = K + v * np.eye(len(K))",
                "write-expression",
            )
        user = target.value.value
        cur = self.env.get(user)
        hint = f"{user} = {user}.copy()  before writing into it"
        if cur is None:
            self.fail(target, f"write into {user!r}, an array captured from outside the function",
                      hint, "write-captured", AliasError)
        if cur in self.params_set or cur in self.arg_names:
            self.fail(target, f"write into the argument {user!r}", hint, "write-argument", AliasError)
        if cur in self.borrowed:
            self.fail(target, f"write into {user!r}, a view of an argument", hint, "write-view",
                      AliasError)
        if cur in self.lit and self.lit[cur][0] in ("dict", "seq") and len(target.slice) == 1 \
                and isinstance(target.slice[0].slice, cst.Index):
            key = self.key_of(self.lower(target.slice[0].slice.value, user))
            entries = self.lit[cur][1]
            if self.loops or self.in_branch:
                try:
                    self.fail(target, f"item assignment into {user!r} inside a branch or loop",
                              "build the dict or list after the branch, or use separate names",
                              "container-write")
                finally:
                    self.poisoned.add(user)  # what is read from it later would echo this
            if key is not _MISSING and (isinstance(entries, dict) or (
                isinstance(key, int) and -len(entries) <= key < len(entries)
            )):
                # d[k] = v on a dict/list display built here: the display's entry changes
                v = self.lower(value, user)
                if isinstance(v, (cst.Tuple, cst.List, cst.Dict)):
                    tmp = self.names.temp(user)
                    self.bind_atom(tmp, v)
                    v = cst.Name(self.env[tmp])
                entries[key] = v  # shared with any alias, as the Python object is
                node = cst.Assign(
                    targets=[cst.AssignTarget(
                        cst.Subscript(value=cst.Name(cur), slice=[cst.SubscriptElement(cst.Index(self.literal(key)))])
                    )],
                    value=v,
                )
                self.stmts.append(Stmt(ir.EFFECT, [], None, self.origin, node=node))
                return
        if cur in self.lit or cur in self.dyn or cur in self.cont:
            self.fail(target, f"item assignment into the container {user!r}",
                      "build a new tuple/list/dict, or stack arrays and write into the array",
                      "container-write")
        if cur in self.view_root:
            base = self.user_name(self.view_root[cur], self.view_root[cur])
            self.fail(target, f"write into {user!r}, a view of {base!r}: numpy writes into "
                      f"{base!r} too, which the gradient cannot follow",
                      f"index {base} itself (e.g. {base}[:, i] = v for {base}.T[i] = v); a copy "
                      f"({user} = {user}.copy()) would leave {base} unchanged",
                      "write-view", AliasError)
        elements = self.lower_slices(target.slice, user)
        v = self.lower(value, user)
        rule = registry.lookup_name("assign_at")
        assert rule is not None
        key = cst.Subscript(value=cst.Name(self.index_name), slice=elements)
        self.runtime_imports.add("index")
        old = self.env[user]
        # the old version's views would see the write in Python: they may not be used after it
        self.mark_stale(old)
        expr = cst.Subscript(value=cst.Name(old), slice=elements)
        self.prim(rule, user, user, expr, {"x": cst.Name(old), "key": key, "v": v})
        st = self.stmts[-1]
        st.label = "assign_at"
        st.node = cst.Assign(  # the forward writes into its own copy: y_1[key] = v
            targets=[cst.AssignTarget(cst.Subscript(value=cst.Name(st.targets[0]), slice=elements))],
            value=v,
        )

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
        small callees are inlined); its lines keep their own file:line in the comments."""
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
            self.fail(e, f"cannot inline {callee.__qualname__}: {err.message}", hint, "user-call")
        if code not in self.inline_stack:
            findings = check_function(src, top_level=False)
            if findings:
                raise _Bail(SrcgradError.bundle(findings))
        self.callees.append(callee)
        return self.inline_body(
            e, code, src.tree, src, Resolver(callee), args, hint, target, None,
            callee.__qualname__, pre_bound or {},
        )

    def recursive_call(
        self,
        e: cst.Call,
        callee: Any,
        args: list[cst.Arg],
        hint: str,
        target: str | None,
        pre_bound: dict[str, cst.BaseExpression],
    ) -> cst.BaseExpression:
        """``r, r_pullback = call_vjp(f, wrt, *args)``: the callee's own forward pass, whose
        pullback runs in the backward pass (its wrt is filled in after activity analysis)."""
        if pre_bound:
            self.fail(e, "recursion through a partial or a bound method (not supported yet)",
                      "call the function directly", "recursion")
        sig = inspect.signature(callee)
        pos = [a.value for a in args if a.keyword is None]
        kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            ba = sig.bind(*pos, **kw)
        except TypeError as exc:
            self.fail(e, f"arguments of {callee.__qualname__}: {exc}", "match its signature", "recursion")
        ba.apply_defaults()
        bound: dict[str, Any] = {}
        for name, value in ba.arguments.items():
            if isinstance(value, cst.BaseExpression):
                bound[name] = value
            elif self.constant_value(self.literal(value)) is not _MISSING:
                bound[name] = self.literal(value)
            else:
                self.fail(e, f"the default of {callee.__qualname__}'s {name!r} is not a literal",
                          f"pass {name} explicitly", "recursion")
        for name, v in bound.items():
            if isinstance(v, cst.Name) and v.value in self.cont and not self.is_static(v):
                self.fail(
                    e,
                    f"a container argument ({self.user_name(v.value)}) passed to the recursive "
                    f"call {callee.__qualname__} (not supported yet)",
                    "pass the arrays the recursion needs as separate arguments, e.g. "
                    f"{callee.__name__}(W, b, ...) instead of {callee.__name__}(params, ...)",
                    "recursion",
                )
            if isinstance(v, cst.Name) and (v.value in self.lit or v.value in self.dyn):
                self.fail(e, f"a tuple/list built here passed to the recursive call {callee.__qualname__}",
                          "pass arrays", "recursion")
        operands = [
            v.value for v in bound.values()
            if isinstance(v, cst.Name) and v.value in self.locals and not self.is_static(v)
        ]
        self.callees.append(callee)
        self.runtime_imports.add("call_vjp")
        r = self.define(target) if target is not None else self.names.temp(hint)
        stem = r.lstrip("_")
        if not stem[:1].isalpha():  # a temporary with no hint (`_2`): name it after the callee
            stem = f"{callee.__name__}{stem}"
        pb = self.names.fresh(f"{stem}_pullback")
        self.locals.update({r, pb})
        func = self._xp_chain(e.func) if self.resolver.dotted(e.func) is not None else e.func
        st = Stmt(ir.CALLVJP, [r, pb], func, self.origin, operands=operands,
                  label=f"call {callee.__qualname__}", bound=bound)
        self.stmts.append(st)
        self.last_define = (target, r) if target is not None else None
        return cst.Name(r)

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
            self.fail(e, f"{display} takes {len(free_pos)} positional arguments", "check the call", "user-call")
        bound.update(zip(free_pos, pos))
        if star is not None:  # *args: a tuple of the extra atoms
            bound[star] = cst.Tuple([cst.Element(v) for v in pos[len(free_pos):]])
        extra_kw: list[cst.DictElement] = []
        for a in args:
            if a.keyword is None:
                continue
            k = a.keyword.value
            if k not in names or k in bound:
                if starstar is not None and k not in bound:
                    extra_kw.append(cst.DictElement(cst.SimpleString(repr(k)), a.value))
                    continue
                self.fail(a, f"{display} got an unexpected or repeated argument {k!r}", "check the call", "user-call")
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
            if d is None or self.constant_value(d) is _MISSING:
                msg = "is missing" if d is None else "has a default that is not a literal"
                self.fail(e, f"argument {n!r} of {display} {msg}", f"pass {n} explicitly", "user-call")
            bound[n] = d  # type: ignore[assignment]
        saved = (
            self.src, self.resolver, self.env, self.all_names, self.n_returns, self.ret_flag,
            self.out_name, self.loops, self.out, self.origin, self.has_aux, self.local_funcs,
            self.np_alias, self.galias, self.arg_names,
        )
        self.frames.append(self.scope())
        self.inline_stack.append(key)
        n_findings = len(self.findings)
        out_name: str | None = None
        try:
            self.out_name = self.names.temp(f"{display.rsplit('.', 1)[-1].replace('<', '').replace('>', '')}_out")
            out_name = self.out_name
            self.src = src
            self.resolver = resolver
            self.all_names = _all_names(fdef)
            self.n_returns = len(own_returns(fdef)) if isinstance(fdef, cst.FunctionDef) else 1
            self.has_aux = False
            self.ret_flag = None
            self.loops = []
            self.out = None
            outer = definer or _Scope({}, {}, set(), {})
            self.env = dict(outer.env)
            self.local_funcs = dict(outer.local_funcs)
            self.np_alias = set(outer.np_alias)
            self.galias = dict(outer.galias)
            self.origin = src.origin(fdef) if isinstance(fdef, cst.Lambda) else src.def_origin_of(fdef)
            self.arg_names = set()
            for name in [*bound, *default_chains]:
                self.forget(name)  # a parameter hides the enclosing function's name
            for name, atom in bound.items():
                if isinstance(atom, cst.Name) and atom.value in self.locals:
                    self.env[name] = atom.value  # an alias: rebinding it makes a new version
                    self.arg_names.add(atom.value)  # the caller's object: never written here
                elif (passed := self._global_argument(e, atom, saved[1])) is not None:
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
                    if name in self.galias and name in rebound and not self._function_chain(cst.Name(name)):
                        atom = self.lower(cst.Name(name), name)
                        del self.galias[name]
                        self.bind_atom(name, atom)
            if isinstance(fdef, cst.Lambda):
                result: cst.BaseExpression | None = self.lower(fdef.body, hint)
            else:
                body = fdef.body
                start = len(self.stmts)
                if _returns_from_a_loop(fdef):
                    # its result is first set inside a loop, where a push may read it before
                    # (in the loop's first iteration): give it a value first
                    self.assign_exact(self.out_name, cst.Name("None"))  # type: ignore[arg-type]
                self.block(list(body.body) if isinstance(body, cst.IndentedBlock) else [body])
                _returns_continue(self.stmts[start:])
                tree = self.out_items.get(self.out_name)  # type: ignore[arg-type]
                if tree is not None and _returns_from_a_loop(fdef):
                    for n in _all_names(_display_of(tree)):  # the items too, as the result
                        self.locals.add(n.value)
                        phi = ir.Phi(n.value, cst.Name("None"), self.origin, True)
                        self.stmts.insert(start, phi)
                result = self.out
        finally:
            self.inline_stack.pop()
            self.frames.pop()
            (
                self.src, self.resolver, self.env, self.all_names, self.n_returns,
                self.ret_flag, self.out_name, self.loops, self.out, self.origin, self.has_aux,
                self.local_funcs, self.np_alias, self.galias, self.arg_names,
            ) = saved
        items = self.out_items.pop(out_name, None) if out_name is not None else None
        if items is not None and result is not None:
            # several `return a, b`: the result is the display of the items' names
            display = _display_of(items)
            for n in _all_names(display):
                self.env[n.value] = n.value
            result = self.lower(display, hint, target=out_name)  # as a single return does
        if result is None:
            if len(self.findings) > n_findings:
                raise _Bail(None)  # a consequence of the findings in its body
            shown = display.replace(".<locals>.", ".")
            self.fail(e, f"{shown} returns nothing", f"return a value from {shown}", "user-call")
        assert result is not None
        if target is not None:
            self.bind_atom(target, result)
            return cst.Name(self.env[target])
        return result

    def call_local(
        self, e: cst.Call, entry: Any, args: list[cst.Arg], hint: str, target: str | None,
        display: str,
    ) -> cst.BaseExpression:
        """Inline a call of a nested def or lambda; a :class:`_FuncChoice` becomes an ``if`` on
        its flag with one inlined body per branch, as a conditional expression is lowered."""
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
        if not isinstance(entry, _FuncChoice):
            node, fsrc, fres, depth = entry
            definer = self.scope() if depth == len(self.inline_stack) - 1 else self.frames[depth]
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
        items = _display_of(names)  # a tuple or dict: built of its items, as inline_body does
        for n in _all_names(items):
            self.env[n.value] = n.value
        return self.lower(items, hint, target=target or self.names.temp(f"{display}_out"))

    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name) and self._is_namespace_call(value):
            self.forget(target.value)
            self.np_alias.add(target.value)  # `xp = namespace(...)`: xp is the array module
            return
        if isinstance(target, cst.Name) and isinstance(value, cst.Lambda):
            self.def_local_func(target.value, value)
            return
        if isinstance(target, cst.Name):
            self.lower(value, target.value, target=target.value)
            self.track_alias(target.value)
            return
        if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self.subscript_write(target, value)
            return
        if not isinstance(target, (cst.Tuple, cst.List)):
            self.fail(
                target,
                "assignment to a subscript or attribute",
                "build the array functionally (np.where, np.concatenate)",
                "assign-target",
            )
        assert isinstance(target, (cst.Tuple, cst.List))
        if any(isinstance(el.value, (cst.Tuple, cst.List)) for el in target.elements):
            self.nested_assign(target, value)
            return
        names = []
        for el in target.elements:
            if not isinstance(el.value, cst.Name):
                self.fail(
                    el.value,
                    "unpacking into a subscript or attribute",
                    "unpack into names first",
                    "nested-unpack",
                )
            names.append(el.value.value)  # type: ignore[union-attr]
        if isinstance(value, (cst.Tuple, cst.List)) and all(
            isinstance(e, cst.Element) for e in value.elements
        ):
            if len(value.elements) != len(names):
                self.fail(value, "tuple unpacking of the wrong length", "match the counts", "unpack")
            atoms = [self.lower(e.value, n) for e, n in zip(value.elements, names)]
            for n, a in zip(names, atoms):
                self.bind_atom(n, a)
            return
        # multi-output primitive?
        if isinstance(value, cst.Call):
            self.last_multi = None
            res = self.call(value, hint=names[0], multi=names)
            if res is None:
                return
            if self.last_multi is not None:
                return  # a multi-output primitive bound every name
            atom = res
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
        for i, n in enumerate(names):
            key = cst.Integer(str(i))
            self.lower_subscript_of(atom, key, n, target=n)

    def nested_assign(self, target: cst.Tuple | cst.List, value: cst.BaseExpression) -> None:
        """``a, (b, c) = value``: each part is bound through a temporary, then unpacked."""
        elements = [el.value for el in target.elements]
        if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elements):
            parts = [
                v.value
                if isinstance(t, (cst.Tuple, cst.List)) and isinstance(v.value, (cst.Tuple, cst.List))
                else self.lower(v.value, "part")
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
                self.env.setdefault(part.value, part.value)  # readable as a user-level name
            self.assign(t, part)

    def container_values(self, it: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The items of a loop over a list/tuple argument (or enumerate/zip of them), as
        expressions: their number is known from the argument, so such loops unroll."""
        def items(e: cst.BaseExpression) -> list[cst.BaseExpression] | None:
            if isinstance(e, cst.Name) and e.value in self.env and self.env[e.value] in self.cont:
                skel = self.cont[self.env[e.value]][2]
                if skel[0] in ("seq", "nt"):
                    n = len(_children(skel))
                    return [
                        cst.Subscript(value=e, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))])
                        for k in range(n)
                    ]
            if isinstance(e, cst.Name) and e.value in self.env and self.env[e.value] in self.lit:
                # a tuple/list display built here whose items are containers (the layers of
                # `params[:-1]`, say): one copy of the body per item
                kind, entries = self.lit[self.env[e.value]]
                if kind == "seq" and any(self.is_container(a) for a in entries):
                    return list(entries)
            if (
                isinstance(e, cst.Subscript)
                and len(e.slice) == 1
                and isinstance(e.slice[0].slice, cst.Slice)
            ):
                whole = items(e.value)
                sl = e.slice[0].slice
                bounds = [
                    None if b is None else self.key_of(b) for b in (sl.lower, sl.upper, sl.step)
                ]
                if whole is None or any(b is _MISSING or isinstance(b, str) for b in bounds):
                    return None
                if bounds[2] == 0:
                    self.fail(e, "a slice with step 0", "use a nonzero step", "slice")
                return whole[slice(*bounds)]
            if (
                isinstance(e, cst.Call)
                and isinstance(e.func, cst.Name)
                and e.func.value == "reversed"
                and e.func.value not in self.env
                and len(e.args) == 1
                and e.args[0].keyword is None
                and not e.args[0].star
            ):
                whole = items(e.args[0].value)
                return None if whole is None else whole[::-1]
            return None

        direct = items(it)
        if direct is not None:
            return direct
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value in (
            "enumerate",
            "zip",
        ) and it.func.value not in self.env and all(a.keyword is None for a in it.args):
            seqs = [items(a.value) for a in it.args]
            if any(q is None for q in seqs) or not seqs:
                return None
            if it.func.value == "enumerate":
                if len(seqs) != 1:
                    return None
                return [
                    cst.Tuple([cst.Element(cst.Integer(str(k))), cst.Element(v)])
                    for k, v in enumerate(seqs[0])  # type: ignore[arg-type]
                ]
            return [cst.Tuple([cst.Element(v) for v in row]) for row in zip(*seqs)]  # type: ignore[misc]
        return None

    def bind_atom(self, name: str, atom: cst.BaseExpression) -> None:
        if isinstance(atom, cst.List) and not atom.elements:
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.dyn.add(emitted)
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
            copied = self.emit(ir.COPY, name, name, atom, operands=[atom.value], label="copy")
            self.alias_of(copied, [atom])
        elif isinstance(atom, cst.List) and not atom.elements:
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.dyn.add(emitted)
        elif isinstance(atom, (cst.Tuple, cst.List)):
            emitted = self.emit(ir.STATIC, name, name, atom)
            self.static.discard(emitted)
            self.lit[emitted] = ("seq", [e.value for e in atom.elements])
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
            self.alias_of(emitted, list(entries.values()), container=True)
        else:
            self.fail(
                atom,
                "this expression cannot be assigned to a name",
                "split it into simpler statements",
                "container",
            )

    def lower(
        self, e: cst.BaseExpression, hint: str, target: str | None = None
    ) -> cst.BaseExpression:
        """Lower ``e`` to an atom, emitting statements; with ``target``, bind it there."""
        self.last_define = None
        node = self._lower(e, hint, target)
        if target is not None and not (
            isinstance(node, cst.Name) and self.last_define == (target, node.value)
        ):
            self.bind_atom(target, node)
            return cst.Name(self.env[target])
        return node

    def _lower(
        self, e: cst.BaseExpression, hint: str, target: str | None
    ) -> cst.BaseExpression:
        if isinstance(e, cst.Name):
            return self.name(e)
        if isinstance(e, _LITERALS):
            return e
        if isinstance(e, cst.FormattedString):
            return _Renamer(self).rename(e)
        if isinstance(e, cst.Attribute):
            return self.attribute(e, hint, target)
        if isinstance(e, cst.Subscript):
            return self.subscript(e, hint, target)
        if isinstance(e, cst.BinaryOperation):
            return self.binop(e, hint, target)
        if isinstance(e, cst.UnaryOperation):
            return self.unop(e, hint, target)
        if isinstance(e, cst.Comparison):
            return self.compare(e, hint, target)
        if isinstance(e, cst.IfExp):
            return self.ternary(e, hint, target)
        if isinstance(e, cst.BooleanOperation):
            return self.boolean(e, hint, target)
        if isinstance(e, cst.Call):
            out = self.call(e, hint, target=target)
            assert out is not None
            return out
        if isinstance(e, cst.Dict):
            elements = []
            for el in e.elements:
                if not isinstance(el, cst.DictElement) or self.key_of(self.lower(el.key, hint)) is _MISSING:
                    self.fail(el, "dict display with a non-constant key", "use literal keys", "dict")
                elements.append(
                    el.with_changes(  # type: ignore[union-attr]
                        key=self.literal(self.key_of(self.lower(el.key, hint))),  # type: ignore[union-attr]
                        value=self.lower(el.value, hint),  # type: ignore[union-attr]
                    )
                )
            return e.with_changes(elements=elements)
        if isinstance(e, (cst.ListComp, cst.GeneratorExp)):
            return self.comprehension(e, hint, target)
        if isinstance(e, cst.DictComp):
            return self.dict_comprehension(e, hint)
        if isinstance(e, (cst.Tuple, cst.List)):
            elements = []
            for el in e.elements:
                if not isinstance(el, cst.Element):
                    self.fail(el, "starred element", "list the elements", "starred")
                elements.append(el.with_changes(value=self.lower(el.value, hint)))
            return e.with_changes(elements=elements)
        if type(e) in _UNSUPPORTED:
            raise _Bail(None)  # reported by check, with its own hint
        what, how = _EXPRESSION_HINTS.get(
            type(e), (_readable(type(e).__name__), "split it into simpler statements")
        )
        self.fail(e, f"unsupported expression: {what}", how, _readable(type(e).__name__))
        raise AssertionError  # unreachable

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
                    args=[cst.Arg(cst.Name(cur)), cst.Arg(cst.Name(base)),
                          cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {v}")))],
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
        found, obj = self.resolver.lookup(v)
        if not found:
            self.fail(e, f"name {v!r} is not defined", "define it before use", "name")
        if is_numpy_module(obj):
            return cst.Name(self.xp)
        return self._foreign(e, v)

    def _foreign(self, e: cst.BaseExpression, root: str) -> cst.BaseExpression:
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
        clash = root in self.locals or root in self.params_set or root in self.names.fixed.values()
        if root in self.resolver.closure:
            fn = self.resolver.fn
            cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
            if not clash and (top or self.top_cells.get(root) is cells.get(root)):
                return self._bare(e, root)
            if clash:
                self.fail(
                    e,
                    f"{root!r} is read from a closure, and an inlined function has a local "
                    "of that name",
                    f"rename the local {root!r} or the closure variable",
                    "name-clash",
                )
            callee = self.resolver.fn
            who = getattr(callee, "__qualname__", "the callee").replace(".<locals>.", ".")
            short = getattr(callee, "__name__", "g")
            self.fail(
                e,
                f"{who} reads {root!r} from an enclosing function (a closure variable); "
                "srcgrad cannot read a called function's closure variables yet",
                f"pass {root} to {short} as an argument (def {short}(..., {root}) and "
                f"{short}(..., {root}) at the call), or make {root} a module-level global",
                "closure",
            )
        if root in g:
            mod = g.get("__name__")
            if not clash and g is self.top_globals and (top or root not in self.top_cells):
                return self._bare(e, root)
        else:
            mod = "builtins"
            if not clash and (top or (root not in self.top_cells and root not in self.top_globals)):
                return self._bare(e, root)
        if not mod or mod not in sys.modules or not all(p.isidentifier() for p in mod.split(".")):
            self.fail(
                e,
                f"{root!r} cannot be read from the module of {self.resolver.fn.__qualname__} "
                "by emitted code",
                f"rename the other {root!r} (a local or global of the same name)",
                "name-clash",
            )
        alias = self.module_imports.get(mod)
        if alias is None:
            alias = self.names.generated(mod.rsplit(".", 1)[-1])
            while alias in self.locals:  # pragma: no cover - a local named like the module
                alias = self.names.fresh(alias + "_")
            self.module_imports[mod] = alias
            self.free_bare.add(alias)
        parts = []
        node = e
        while isinstance(node, cst.Attribute):
            parts.append(node.attr)
            node = node.value
        out: cst.BaseExpression = cst.Attribute(value=cst.Name(alias), attr=cst.Name(root))
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

    def _global_argument(self, call: cst.CSTNode, atom: Any, resolver: Any) -> tuple[Any, Any] | None:
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
        if parts is not None and parts[0] not in caller.env and resolver.value_of(parts)[0]:
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

    def note_ref(self, e: cst.CSTNode, func: cst.BaseExpression, path: list[str], obj: Any) -> None:
        """Record how the callee ``obj`` of ``func`` was reached (a :class:`cache.Ref`): the
        cache key hashes what it reaches, and every call checks it still reaches ``obj``."""
        parts = self.resolver.dotted(func)
        res = self.galias[parts[0]][1] if parts and parts[0] in self.galias else self.resolver
        owner = res.fn
        if owner is self.fn:
            index = 0
        else:
            index = next((i + 1 for i, f in enumerate(self.ref_funcs) if f is owner), -1)
        if index < 0 or not all(p.isidentifier() for p in path):
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
        res = self.galias[first[0]][1] if first and first[0] in self.galias else self.resolver
        if parts[0] not in res.closure and parts[0] not in res.globals:
            return False  # a builtin
        return not isinstance(res.lookup(parts[0])[1], types.ModuleType)

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

    def _xp_chain(self, e: cst.BaseExpression) -> cst.BaseExpression:
        """``np.linalg.norm`` -> ``xp.linalg.norm``; other global chains unchanged."""
        e = self._unalias(e)
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
        if found:
            return self._foreign(e, parts[0])
        return e

    def attribute(
        self, e: cst.Attribute, hint: str, target: str | None
    ) -> cst.BaseExpression:
        chain = self._global_chain(e)
        if chain is not None:
            return self._xp_chain(e)
        attr = e.attr.value
        base = self.lower(e.value, hint)
        if isinstance(base, cst.Name) and base.value in self.cont:
            return self.read(base.value, attr, e.with_changes(value=base), hint, target)
        if attr in ARRAY_ATTRIBUTES_STATIC or self.is_static(base):
            return e.with_changes(value=base)
        if attr in _ATTRIBUTE_PRIMITIVES:
            rule = registry.lookup(_ATTRIBUTE_PRIMITIVES[attr])
            if rule is not None:
                return self.prim(
                    rule, target, hint, e.with_changes(value=base), {rule.params[0]: base}
                )
        if self._untyped_argument(base) and not hasattr(np.ndarray, attr):
            # an argument not differentiated, of a type known only at the call (generating
            # ahead of time): not an array attribute, so an object's, and a constant
            return cst.Name(self.emit(ir.STATIC, target, hint, e.with_changes(value=base)))
        if hasattr(np.ndarray, attr):
            self.fail(
                e,
                f"array attribute .{attr} on a value that carries a gradient has no rule",
                _ARRAY_ATTRIBUTE_HINTS.get(
                    attr, "rewrite it with numpy functions (`srcgrad rules` lists them)"
                ),
                "attribute",
            )
        self.fail(
            e,
            f"attribute .{attr} of a value that carries a gradient (srcgrad differentiates "
            "arrays and containers of them, not other objects)",
            "read plain settings from an argument that is not differentiated or from a "
            "module-level global, and pass arrays as arguments (or in a dict/list/tuple)",
            "attribute",
        )
        raise AssertionError

    def read(
        self,
        base: str,
        key: Any,
        expr: cst.BaseExpression,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        param, path, skel = self.cont[base]
        key = _canonical_key(skel, key)
        sub = _skeleton_child(skel, key)
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
            return cst.Name(name)
        name = self.emit(ir.STATIC, target, hint, expr)
        self.static.discard(name)
        self.cont[name] = (param, path + (key,), sub)
        return cst.Name(name)

    def subscript(
        self, e: cst.Subscript, hint: str, target: str | None
    ) -> cst.BaseExpression:
        base = self.lower(e.value, hint)
        if isinstance(base, cst.Name) and (base.value in self.lit or base.value in self.dyn):
            if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
                self.fail(
                    e,
                    "slice of a list built in the function",
                    "index its items one by one, or stack it first and slice the array: "
                    "np.stack(items)[1:]",
                    "list-slice",
                )
            key = self.lower(e.slice[0].slice.value, hint)  # type: ignore[union-attr]
            return self.container_item(base.value, key, hint, target, e)
        if (
            isinstance(base, cst.Name)
            and base.value in self.cont
            and len(e.slice) == 1
            and isinstance(e.slice[0].slice, cst.Slice)
            and self.cont[base.value][2][0] == "seq"
        ):
            sl = e.slice[0].slice
            bounds = [None if b is None else self.key_of(self.lower(b, hint)) for b in (sl.lower, sl.upper, sl.step)]
            if any(b is _MISSING for b in bounds):
                self.fail(e, "slice of a container argument with bounds not known before the call",
                          "use constant bounds", "read")
            n = len(self.cont[base.value][2][1])
            items = []
            for i in range(n)[slice(*bounds)]:
                expr = cst.Subscript(value=base, slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))])
                items.append(cst.Element(self.read(base.value, i, expr, hint, None)))
            name = target if target is not None else self.names.temp(hint)
            self.bind_atom(name, cst.List(items))
            self.last_define = (name, self.env[name])
            return cst.Name(self.env[name])
        if isinstance(base, cst.Name) and base.value in self.cont:
            if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
                self.fail(e, "slice of a container argument", "index with a constant", "read")
            key_node = e.slice[0].slice.value  # type: ignore[union-attr]
            key = self.key_of(key_node)
            if key is _MISSING:
                self.fail(
                    key_node,
                    "a container argument read with a key that is not a constant",
                    'use a literal key, e.g. params["W"] or params[0]',
                    "dynamic-key",
                )
            return self.read(base.value, key, e.with_changes(value=base), hint, target)
        return self.lower_subscript(e, base, hint, target)

    def lower_subscript(
        self,
        e: cst.Subscript,
        base: cst.BaseExpression,
        hint: str,
        target: str | None,
    ) -> cst.BaseExpression:
        elements = self.lower_slices(e.slice, hint)
        node = e.with_changes(value=base, slice=elements)
        if self.is_static(node):
            return node
        if not isinstance(base, cst.Name):
            self.fail(e, "subscript of an expression", "assign it to a name first", "subscript")
        rule = registry.lookup_name("getitem")
        assert rule is not None, "getitem rule missing"
        key = cst.Subscript(value=cst.Name(self.index_name), slice=elements)
        self.runtime_imports.add("index")
        return self.prim(rule, target, hint, node, {"x": base, "key": key})

    def key_of(self, node: cst.BaseExpression) -> Any:
        k = _constant_key(node)
        if k is _MISSING and isinstance(node, cst.Name):
            name = self.env.get(node.value, node.value)
            k = self.const.get(name, _MISSING)
            if isinstance(k, tuple) or (k is not _MISSING and not isinstance(k, (int, str))):
                return _MISSING
        return k

    def container_item(
        self,
        base: str,
        key: cst.BaseExpression,
        hint: str,
        target: str | None,
        e: cst.CSTNode,
    ) -> cst.BaseExpression:
        expr = cst.Subscript(value=cst.Name(base), slice=[cst.SubscriptElement(cst.Index(key))])
        if base in self.dyn:
            self.runtime_imports.add("index")
            name = self.emit(
                ir.LISTGET, target, hint, expr, operands=[base], label="list item",
                container=base, bound={"key": key},
            )
            self.alias_of(name, [base])  # the item the list holds
            return cst.Name(name)
        kind, entries = self.lit[base]
        k = self.key_of(key)
        try:
            item = entries[k]
        except (KeyError, IndexError, TypeError):
            self.fail(e, f"{base} has no constant entry {cst.Module([]).code_for_node(key)}",
                      "index a tuple, list or dict built in the function with a constant",
                      "container-read")
            raise AssertionError from None
        if isinstance(item, (cst.Tuple, cst.List, cst.Dict)) and not self.is_static(item):
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
        # the item itself, not `base[key]`: a display carried around a loop lives item by item
        name = self.emit(
            ir.COPY, target, hint, item, operands=[item.value], label="copy"  # type: ignore[union-attr]
        )
        self.alias_of(name, [item])  # the very array the display holds
        return cst.Name(name)

    def lower_subscript_of(
        self, atom: cst.BaseExpression, key: cst.BaseExpression, hint: str, target: str
    ) -> None:
        if isinstance(atom, cst.Name) and (atom.value in self.lit or atom.value in self.dyn):
            self.last_define = None
            node = self.container_item(atom.value, key, hint, target, atom)
            if not (isinstance(node, cst.Name) and self.last_define == (target, node.value)):
                self.bind_atom(target, node)
            return
        if isinstance(atom, cst.Name) and atom.value in self.cont:
            k = _constant_key(key)
            expr = cst.Subscript(value=atom, slice=[cst.SubscriptElement(cst.Index(key))])
            self.read(atom.value, k, expr, hint, target)
            return
        e = cst.Subscript(value=atom, slice=[cst.SubscriptElement(cst.Index(key))])
        self.last_define = None
        node = self.lower_subscript(e, atom, hint, target)
        if not (isinstance(node, cst.Name) and self.last_define == (target, node.value)):
            self.bind_atom(target, node)

    def binop(
        self, e: cst.BinaryOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower(e.left, hint)
        right = self.lower(e.right, hint)
        node = e.with_changes(left=left, right=right)
        if self.is_static(left) and self.is_static(right):
            return node
        if isinstance(e.operator, cst.Add):
            joined = self.concatenation(e, left, right)
            if joined is not None:
                return joined
        node = _strip_parens(node)
        if isinstance(e.operator, _BITOPS):
            return self.emit_nondiff(target, hint, node, [left, right])
        symbol = _BINOPS[type(e.operator)]
        rule = self.resolver.operator_rule(symbol)
        if rule is None:
            self.fail(
                e,
                f"no adjoint rule for the operator {symbol}",
                "use a differentiable numpy function",
                symbol,
                MissingRuleError,
            )
        assert rule is not None
        self._call_node = e  # where an operand's error points
        return self.prim(
            rule, target, hint, node, {rule.params[0]: left, rule.params[1]: right}
        )

    def unop(
        self, e: cst.UnaryOperation, hint: str, target: str | None
    ) -> cst.BaseExpression:
        operand = self.lower(e.expression, hint)
        node = e.with_changes(expression=operand)
        if self.is_static(operand):
            return node
        node = _strip_parens(node)
        if isinstance(e.operator, (cst.Minus, cst.Plus)):
            symbol = "unary -" if isinstance(e.operator, cst.Minus) else "unary +"
            rule = self.resolver.operator_rule(symbol)
            if rule is None:
                rule = registry.lookup(np.negative if symbol == "unary -" else np.positive)
            if rule is None:
                self.fail(
                    e,
                    f"no rule for {symbol}",
                    "register one with @srcgrad.rules.adjoint(np.negative) / (np.positive)",
                    symbol,
                    MissingRuleError,
                )
            assert rule is not None
            self._call_node = e
            return self.prim(rule, target, hint, node, {rule.params[0]: operand})
        return self.emit_nondiff(target, hint, node, [operand])

    def compare(
        self, e: cst.Comparison, hint: str, target: str | None
    ) -> cst.BaseExpression:
        left = self.lower(e.left, hint)
        comps = [c.with_changes(comparator=self.lower(c.comparator, hint)) for c in e.comparisons]
        node = e.with_changes(left=left, comparisons=comps)
        if self.is_static(node):
            return node
        return self.emit_nondiff(target, hint, _strip_parens(node), [])

    def _is_container_atom(self, node: cst.BaseExpression) -> bool:
        """A lowered value that is a tuple/list/dict display or a list built here."""
        if isinstance(node, (cst.Tuple, cst.List, cst.Dict)):
            return True
        return isinstance(node, cst.Name) and (node.value in self.lit or node.value in self.dyn)

    def _untyped_argument(self, node: cst.BaseExpression) -> bool:
        """``node`` is a parameter of the differentiated function, not in ``wrt``, whose type
        the generator was not told (code generated ahead of time, without arguments)."""
        return (
            isinstance(node, cst.Name)
            and len(self.inline_stack) == 1
            and node.value in self.params_set
            and node.value not in self.wrt
            and node.value not in self.containers
            and node.value not in self.cont
        )

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

    def emit_nondiff(
        self, target: str | None, hint: str, node: cst.BaseExpression, _: list[Any]
    ) -> cst.BaseExpression:
        return cst.Name(self.emit(ir.NONDIFF, target, hint, node, label="nondiff"))

    def prim(
        self,
        rule: Rule,
        target: str | None,
        hint: str,
        expr: cst.BaseExpression,
        bound: dict[str, Any],
        multi: list[str] | None = None,
    ) -> cst.BaseExpression:
        operands: list[str] = []
        for p in rule.operands + ((rule.varargs,) if rule.varargs and rule.varargs not in rule.operands else ()):
            v = bound.get(p)
            if v is None:
                continue
            if p not in rule.sequence and p != rule.varargs and self.is_container(v):
                what = repr(v.value) if isinstance(v, cst.Name) else "display"
                text = v.value if isinstance(v, cst.Name) else "[...]"
                lists = [o for o in bound.values() if self.is_container(o)]
                ints = [o for o in bound.values() if isinstance(o, cst.Integer)]
                if isinstance(expr, cst.BinaryOperation) and (
                    isinstance(expr.operator, cst.Add) and len(lists) == 2
                    or isinstance(expr.operator, cst.Multiply) and len(lists) == 1 and ints
                ):
                    op = "+" if isinstance(expr.operator, cst.Add) else "*"
                    shown = (
                        self.user_name(v.value, "the list") if isinstance(v, cst.Name) else "the list"
                    )
                    self.fail(
                        self._call_node or v,
                        f"`{op}` on the list/tuple {shown!r}: list "
                        f"{'concatenation' if op == '+' else 'repetition'}, not arithmetic",
                        f"grow the list with {shown}.append(item) and join the arrays at the end "
                        f"with np.concatenate({shown}) or np.stack({shown})",
                        "list-arithmetic",
                    )
                self.fail(
                    self._call_node or v,
                    f"the tuple/list/dict {what} is passed to {rule.name} as one array",
                    f"make it an array first: np.array({text}) (np.stack for arrays)",
                    "list-as-array",
                )
            if isinstance(v, cst.Name) and p in rule.sequence:
                if v.value in self.lit and self.lit[v.value][0] == "seq":
                    v = bound[p] = cst.List([cst.Element(a) for a in self.lit[v.value][1]])
                elif v.value in self.cont and self.cont[v.value][2][0] == "seq":
                    v = bound[p] = self.expand_container(v.value)
                elif v.value in self.dyn:
                    operands.append(v.value)
                    continue
            vals = [e.value for e in v.elements] if isinstance(v, (cst.Tuple, cst.List)) and (
                p in rule.sequence or p == rule.varargs
            ) else [v]
            if p in rule.sequence or p == rule.varargs:
                for a in vals:
                    if self.is_container(a):  # its items would not get their gradients
                        self.fail(
                            self._call_node or v,
                            f"a tuple, list or dict as one operand of {rule.name}",
                            "pass arrays or numbers (np.array([...]) makes one array of "
                            "equally shaped items)",
                            "list-as-array",
                        )
            for a in vals:
                if isinstance(a, cst.Name) and a.value in self.locals and a.value not in self.static:
                    operands.append(a.value)
        if multi is not None:
            names = [self.define(n) for n in multi]
            self.last_multi = names
            self.locals.update(names)
            self.stmts.append(
                Stmt(ir.PRIM, names, expr, self.origin, rule=rule, bound=bound,
                     operands=operands, label=rule.name)
            )
            self.note_view(self.stmts[-1])
            return cst.Name(names[0])
        out = cst.Name(
            self.emit(ir.PRIM, target, hint, expr, rule=rule, bound=bound,
                      operands=operands, label=rule.name)
        )
        self.note_view(self.stmts[-1])
        return out

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

    def stack_operands(
        self, rule: Rule, node: cst.BaseExpression, bound: dict[str, Any]
    ) -> tuple[cst.BaseExpression, dict[str, Any]]:
        """A tuple/list (a display, or a name bound to one built here, or a list/tuple
        argument) passed to a numpy function where it takes an array is the array of its
        items, as numpy itself makes it: ``np.sum([a, b])`` is ``np.sum(np.array([a, b]))``.
        The array is built in the inputs' namespace (``xp.array``), then the rule applies;
        numpy refuses items of different shapes, in the forward pass, as it does in ``f``."""
        swap: dict[int, cst.BaseExpression] = {}
        for p in rule.operands:
            v = bound.get(p)
            if v is None:
                continue
            if p in rule.sequence or p == rule.varargs:
                if isinstance(v, cst.Name) and self.lit.get(v.value, ("",))[0] == "seq":
                    v = bound[p] = cst.List([cst.Element(a) for a in self.lit[v.value][1]])
                if not isinstance(v, (cst.Tuple, cst.List)):
                    continue
                elements = []
                for el in v.elements:
                    new = self.as_array(el.value)
                    if new is not el.value:
                        swap[id(el.value)] = new
                    elements.append(el.with_changes(value=new))
                bound[p] = v.with_changes(elements=elements)
                continue
            new = self.as_array(v)
            if new is not v:
                swap[id(v)] = new
                bound[p] = new
        if swap:
            node = node.visit(_SwapNodes(swap))
        return node, bound

    def as_array(self, v: Any) -> Any:
        """``v`` itself, or, for a tuple/list value, the name of ``xp.array`` of its items
        (nested displays become arrays first, row by row)."""
        if not self.is_container(v):
            return v
        obj: cst.BaseExpression
        if isinstance(v, (cst.Tuple, cst.List)):
            items = [el.value for el in v.elements]
        elif isinstance(v, cst.Name) and v.value in self.lit and self.lit[v.value][0] == "seq":
            items = list(self.lit[v.value][1])
        elif isinstance(v, cst.Name) and v.value in self.cont and self.cont[v.value][2][0] in (
            "seq",
            "nt",
        ):
            listed = cst.ensure_type(self.expand_container(v.value), cst.List)
            items = [el.value for el in listed.elements]
        elif isinstance(v, cst.Name) and v.value in self.dyn:
            items = None
        else:
            self.fail(
                self._call_node or v,
                "a dict passed where an array is expected",
                "pass an array (np.array of the values you mean, in a fixed order)",
                "list-as-array",
            )
            raise AssertionError
        if items is None:
            obj = v
        else:
            parts = [self.as_array(it) for it in items]
            if not all(self.is_static(p) for p in parts):
                # a device namespace stacks device arrays only: constants join as arrays
                # (numpy gives the same values and dtype either way)
                parts = [
                    cst.Call(
                        func=cst.Attribute(value=cst.Name(self.xp), attr=cst.Name("asarray")),
                        args=[cst.Arg(p)],
                    )
                    if self.is_static(p)
                    else p
                    for p in parts
                ]
            obj = cst.List([cst.Element(p) for p in parts])
        rule = registry.lookup_name("array")
        assert rule is not None
        expr = cst.Call(
            func=cst.Attribute(value=cst.Name(self.xp), attr=cst.Name("array")),
            args=[cst.Arg(obj)],
        )
        return self.prim(rule, None, "stacked", expr, {"object": obj})

    def integer_dtype(self, node: cst.BaseExpression, e: cst.CSTNode, display: str) -> bool:
        """Whether a ``dtype=`` argument names an integer or boolean dtype (the result is then
        a constant).  A dtype srcgrad cannot read from the source gets a check at run time
        that refuses a non-float one."""
        if isinstance(node, cst.Name) and node.value == "None":
            return False
        value: Any = _MISSING
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
        else:
            parts = self.resolver.dotted(node)
            if parts is not None and (parts[0] in self.np_alias or parts[0] == self.xp):
                obj: Any = np  # xp.int32: the array module's dtype, as numpy spells it
                for p in parts[1:]:
                    obj = getattr(obj, p, _MISSING)
                value = obj
            elif parts is not None and parts[0] not in self.locals:
                # only names that cannot change between calls: numpy's dtypes, builtin types
                found, root = self.resolver.lookup(parts[0])
                found, obj = self.resolver.value_of(parts)
                if found and (
                    is_numpy_module(root)
                    or (len(parts) == 1 and obj in (int, float, bool, complex))
                ):
                    value = obj
        if value is not _MISSING:
            try:
                kind = np.dtype(value).kind
            except TypeError:
                kind = ""
            if kind:
                return kind not in "fc"
        self.runtime_imports.add("require_float_dtype")
        o = self.origin
        call = cst.Call(
            func=cst.Name(self.names.generated("require_float_dtype")),
            args=[cst.Arg(node), cst.Arg(cst.SimpleString(repr(f"{o.file}:{o.line}: {display}")))],
        )
        self.stmts.append(Stmt(ir.EFFECT, [], call, self.origin))
        return False

    def inlined_args(self, e: cst.Call, hint: str) -> list[cst.Arg]:
        """The arguments of a call of a function that is inlined: a function passed by its
        global name (np.tanh, relu) stays that name, so the callee's calls of the parameter
        resolve to it (never a call of a local value); the others are lowered."""
        return [a if self._function_chain(a.value) else self.lower_arg(a, hint) for a in e.args]

    def lower_arg(self, a: cst.Arg, hint: str) -> cst.Arg:
        if a.star:
            raise _Bail(None)  # `f(*args)`: reported by check; binding it would only mislead
        return a.with_changes(value=self.lower(a.value, hint))

    def bind_signature(self, fn: Any, args: list[cst.Arg], e: cst.CSTNode, display: str) -> dict[str, Any]:
        pos = [a.value for a in args if a.keyword is None]
        kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            ba = inspect.signature(fn).bind(*pos, **kw)
        except TypeError as exc:
            self.fail(e, f"arguments of {display}: {exc}", "match its signature", display)
        return dict(ba.arguments)

    def bind(self, rule: Rule, args: list[cst.Arg], e: cst.CSTNode, display: str) -> dict[str, Any]:
        pos = [a.value for a in args if a.keyword is None]
        kw = {a.keyword.value: a.value for a in args if a.keyword is not None}
        try:
            ba = _rule_signature(rule).bind(*pos, **kw)
        except TypeError as exc:
            self.fail(
                e,
                f"arguments of {display} not supported: {exc}",
                f"call {display} with the parameters: {', '.join(rule.params)}",
                display,
            )
        bound = dict(ba.arguments)
        if rule.varargs and rule.varargs in bound:
            bound[rule.varargs] = cst.Tuple(
                elements=[cst.Element(v) for v in bound[rule.varargs]]
            )
        return bound

    def expand_container(self, name: str) -> cst.BaseExpression:
        """A list display of reads of every item of a list/tuple argument."""
        param, path, skel = self.cont[name]
        atoms = []
        for i in range(len(skel[1])):
            expr = cst.Subscript(
                value=cst.Name(name), slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(i))))]
            )
            atoms.append(cst.Element(self.read(name, i, expr, name, None)))
        return cst.List(atoms)

    def dict_comprehension(self, e: cst.DictComp, hint: str) -> cst.BaseExpression:
        """``{k: f(k) for k in CONSTANTS}`` becomes a dict display, one entry per item."""
        comp = e.for_in
        values = self.static_values(comp.iter) if comp.inner_for_in is None else None
        if values is None or comp.ifs:
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
        for v in values:  # type: ignore[union-attr]
            self.assign(ctarget, self.literal(v))
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

    def comprehension(
        self, e: cst.ListComp | cst.GeneratorExp, hint: str, target: str | None = None
    ) -> cst.BaseExpression:
        """``[f(x) for x in xs if c]`` becomes a loop that appends to a fresh list."""
        comp = e.for_in
        if comp.asynchronous is not None:
            self.fail(e, "async comprehension", "use a loop", "comprehension")
        fors = []
        while comp is not None:
            fors.append(comp)
            comp = comp.inner_for_in
        # the comprehension's own names are local to it: give them fresh names
        own = [n.value for c in fors for n in _all_names(c.target) if isinstance(n, cst.Name)]
        rename = {u: self.names.temp(u) for u in own}
        ren = _NameMap(rename)
        name = target if target is not None else self.names.temp(hint)
        body: cst.BaseStatement = cst.SimpleStatementLine(
            [cst.Expr(cst.Call(func=cst.Attribute(cst.Name(name), cst.Name("append")),
                               args=[cst.Arg(e.elt.visit(ren))]))]
        )
        for c in reversed(fors):
            for cond in reversed(c.ifs):
                body = cst.If(test=cond.test.visit(ren), body=cst.IndentedBlock([body]))
            body = cst.For(target=c.target.visit(ren), iter=c.iter.visit(ren) if c is not fors[0] else c.iter,
                           body=cst.IndentedBlock([body]))
            self.src.alias(body, e)
        init = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], cst.List([]))])
        self.src.alias_tree(init, e)
        for node in _all_stmts(body):
            self.src.alias(node, e)
        self.src.alias_tree(body, e)
        saved_origin = self.origin
        self.block([init, body])
        self.origin = saved_origin
        if target is not None:
            self.last_define = (target, self.env[name])
        return cst.Name(self.env[name])

    def grows_in_place(self, name: str | None) -> bool:
        """``name`` (emitted) is a list built with append, or a list display that may grow:
        one list object, whatever names it goes by."""
        return name in self.dyn or name in self.lit_stmt

    def note_sequence(self, name: str, atom: cst.BaseExpression) -> None:
        """``name`` was just bound to ``atom``: a tuple or list display's kind and length."""
        if isinstance(atom, (cst.Tuple, cst.List)) and all(
            isinstance(el, cst.Element) for el in atom.elements
        ):
            kind = "list" if isinstance(atom, cst.List) else "tuple"
            self.seq_displays[name] = (kind, len(atom.elements))

    def sequence_items(self, atom: cst.BaseExpression) -> tuple[str | None, list[Any]] | None:
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

    def concatenation(
        self, e: cst.BinaryOperation, left: cst.BaseExpression, right: cst.BaseExpression
    ) -> cst.BaseExpression | None:
        """``a + b`` of two tuples or two lists: the display of their items (a new tuple or
        list, as in Python) when both are known here; None when neither is a tuple or list."""
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
        if all(q is None for q in seqs) and not any(self.is_container(v) for v in (left, right)):
            return None
        if seqs[0] is not None and seqs[1] is not None:
            kinds = {seqs[0][0], seqs[1][0]} - {None}  # (a program Python runs has one kind)
            if len(kinds) <= 1:
                items = [cst.Element(v) for v in seqs[0][1] + seqs[1][1]]
                return cst.List(items) if kinds == {"list"} else cst.Tuple(items)
        unknown = next(
            (v for v, q in zip((left, right), seqs) if q is None and isinstance(v, cst.Name)), None
        )
        if unknown is None or unknown.value not in self.dyn and unknown.value not in self.cont:
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
            hint = f"write a display of all the items: ({shown}[0], {shown}[1], ..., item)"
        self.fail(
            e,
            f"`+` on {shown!r}: concatenation of a list or tuple whose items srcgrad does not "
            "list here (one built with append, or an argument)",
            hint,
            "list-arithmetic",
        )
        raise AssertionError

    def note_display(self, name: str) -> None:
        """``name`` was just bound to a list display: it may grow (see ``grow_display``)."""
        self.lit_stmt[name] = self.stmts[-1]
        self.display_loops[name] = len(self.loop_ticks)

    def read_display(self, name: str) -> None:
        """The list display ``name`` is read (or changed in place) here."""
        self.tick += 1
        self.display_read[name] = self.tick

    def grow_display(self, name: str, node: cst.CSTNode) -> None:
        """A list display that grows (at ``node``): from here on it is a list built in the
        function, its first items those of the display (constants too), as Python has it."""
        st = self.lit_stmt[name]
        user = self.user_name(name, "the list")
        shown = [el.value for el in cst.ensure_type(st.expr, cst.List).elements]
        items = self.lit[name][1] if name in self.lit else shown
        if len(items) != len(shown) or any(a is not b for a, b in zip(items, shown)):
            self.fail(
                node,
                f"the list {user!r} grows after an assignment into one of its items",
                f"build {user} with its final items, then grow it with {user}.append(...)",
                "list-method",
            )
        depth = self.display_loops[name]
        if len(self.loop_ticks) > depth and self.display_read.get(name, 0) > self.loop_ticks[depth]:
            # lowered once, the loop's earlier reads took the display for what it held
            # before the loop: a later iteration reads what this one appends
            self.fail(
                node,
                f"the list {user!r} is read in this loop before a value that carries a "
                "gradient is appended to it",
                f"start it before the loop as an empty list: {user} = [] and "
                f"{user}.append(...) for each first item",
                "list-append",
            )
        for item in items:
            self.refuse_nested_item(node, item)
        del self.lit_stmt[name]
        self.lit.pop(name, None)
        self.static.discard(name)
        st.kind = ir.LISTNEW
        st.container = name
        st.bound = {"items": items}
        st.operands = [
            a.value for a in items
            if isinstance(a, cst.Name) and a.value in self.locals and not self.is_static(a)
        ]
        st.label = "list"
        self.dyn.add(name)

    def grow_before_loop(self, node: cst.For | cst.While) -> None:
        """A list display that the loop ``node`` grows and also reads (or grows in two
        places) becomes a list built with append before the loop: the body is lowered once,
        and a later iteration reads what an earlier one appended."""
        grown = _grown_lists(node)
        if not grown:
            return
        parts: list[cst.CSTNode] = [node.body]
        if isinstance(node, cst.While):
            parts.append(node.test)  # evaluated in every iteration
        mentions: dict[str, int] = {}
        for part in parts:
            for n in _all_names(part):
                cur = self.env.get(n.value)
                if cur in self.lit_stmt:
                    mentions[cur] = mentions.get(cur, 0) + 1  # through any of its names
        assigned = set(_assigned_in(node.body))
        if isinstance(node, cst.For) and self._may_carry_gradient(node.iter, set()):
            assigned.update(n.value for n in _all_names(node.target))  # (an array's rows)
        for user, values in grown.items():
            cur = self.env.get(user)
            if cur not in self.lit_stmt or mentions.get(cur, 0) < 2:
                continue  # grown once and not read: it grows where it is appended to
            if cur in self.lit or any(self._may_carry_gradient(v, assigned) for v in values):
                self.grow_display(cur, values[0])

    def _may_carry_gradient(self, value: cst.CSTNode, assigned: set[str]) -> bool:
        """Whether ``value``, in a loop that binds ``assigned``, may carry a gradient: it
        reads a local that is not a constant, a name the loop binds, or a nested function."""
        for n in _all_names(value):
            cur = self.env.get(n.value)
            if n.value in assigned or n.value in self.local_funcs:
                return True
            if cur is not None and cur in self.locals and cur not in self.static:
                return True
        return False

    def method_call(
        self, e: cst.Call, hint: str, target: str | None, multi: list[str] | None
    ) -> cst.BaseExpression:
        func = cst.ensure_type(e.func, cst.Attribute)
        method = func.attr.value
        was_read = self.display_read.get(self.env.get(func.value.value, ""), 0) if isinstance(
            func.value, cst.Name
        ) else 0
        receiver = self.lower(func.value, hint)
        cur = receiver.value if isinstance(receiver, cst.Name) else None
        if cur in self.lit_stmt:
            self.display_read[cur] = was_read  # the receiver: a read unless it grows (below)
        args = [self.lower_arg(a, hint) for a in e.args]
        node = e.with_changes(func=func.with_changes(value=receiver), args=args)
        if cur in self.lit_stmt:
            if method in _LIST_GROWTH and (
                cur in self.lit or not all(self.is_static(a.value) for a in args)
            ):
                self.grow_display(cur, e)  # a display that grows: a list built with append
            else:
                self.read_display(cur)  # read, or changed by constants (a constant still)
                self.seq_displays.pop(cur, None)  # (its items may have changed)
        if cur in self.dyn:
            if cur in self.arg_names:
                self.fail(
                    e,
                    "a called function appends to the list passed to it",
                    "return a new list from the helper instead of mutating its argument",
                    "mutate-argument",
                )
            one = len(args) == 1 and args[0].keyword is None and not args[0].star
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
        if cur in self.lit:
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
                    self.poisoned.add(func.value.value)  # (`d.update(...)`: entries unknown)
        if isinstance(receiver, cst.Name) and receiver.value in self.cont:
            self.fail(
                e,
                f"method .{method}() of a container argument",
                'read entries with constant keys, e.g. params["W"]',
                "container-method",
            )
        if isinstance(receiver, cst.Name) and receiver.value in self.rngs:
            display = f"{self.user_name(receiver.value, 'rng')}.{method}"
            return self.random_draw(e, node, args, target, hint, display)
        if self.is_static(receiver) and all(self.is_static(a.value) for a in args):
            return cst.Name(self.emit(ir.STATIC, target, hint, node))
        if method in METHODS:
            prim, varparam = METHODS[method]
            rule = registry.lookup(prim) if prim is not None else registry.lookup_name(method)
            if rule is not None:
                pos = [a for a in args if a.keyword is None]
                kws = [a for a in args if a.keyword is not None]
                if varparam is not None and len(pos) > 1:
                    tup = cst.Tuple(elements=[cst.Element(a.value) for a in pos])
                    pos = [cst.Arg(tup)]
                bargs = [cst.Arg(receiver), *pos, *kws]
                bound = self.bind(rule, bargs, e, f".{method}()")
                dtype_arg = bound.get("dtype")
                if dtype_arg is not None and self.integer_dtype(dtype_arg, e, f".{method}()"):
                    return self.emit_nondiff(target, hint, node, [])  # an integer result
                return self.prim(rule, target, hint, node, bound, multi)
        if method in NONDIFF_METHODS:
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
            return cst.Name(self.emit(ir.STATIC, target, hint, node))  # as for an attribute
        if isinstance(receiver, cst.Name) and (
            receiver.value in self.objects
            or self._untyped_argument(receiver) and not hasattr(np.ndarray, method)
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
        if method in _LIST_GROWTH and not hasattr(np.ndarray, method):
            outside = isinstance(receiver, cst.Name) and receiver.value not in self.locals
            self.refuse_untracked_growth(e, method, outside)
        self.fail(
            e,
            f"method .{method}() has no adjoint rule",
            _method_hint(method),
            f".{method}()",
            MissingRuleError,
        )
        raise AssertionError

    def append_item(self, e: cst.CSTNode, lst: str, v: cst.BaseExpression) -> None:
        """``lst.append(v)`` on the list ``lst`` built in the function (``v`` an atom)."""
        # (the list is poisoned first: this finding is reported, not taken as an echo)
        self.refuse_nested_item(e, v, self.user_name(lst, ""), consequence=False)
        call = cst.Call(func=cst.Attribute(cst.Name(lst), cst.Name("append")), args=[cst.Arg(v)])
        varies = isinstance(v, cst.Name) and v.value in self.locals and not self.is_static(v)
        ops = [v.value] if varies else []  # type: ignore[union-attr]
        self.stmts.append(
            Stmt(ir.APPEND, [], call, self.origin, operands=ops, label="append", container=lst)
        )
        self.alias_of(lst, ops, container=True)

    def extend_list(self, e: cst.Call, lst: str, v: cst.BaseExpression) -> None:
        """``lst.extend(v)`` (or ``lst += v``) on a list built in the function: one append per
        item where the items are known here, else (constants) one extend whose entries the
        backward pass drops again."""
        known = self.sequence_items(v)
        if known is not None:
            for item in known[1]:
                self.append_item(e, lst, item)
            return
        if self.is_static(v):
            # its items as they are now (an iterator is read once, a list may change later)
            snap = self.emit(ir.STATIC, None, "items", cst.Call(cst.Name("tuple"), [cst.Arg(v)]))
            call = cst.Call(
                func=cst.Attribute(cst.Name(lst), cst.Name("extend")),
                args=[cst.Arg(cst.Name(snap))],
            )
            self.stmts.append(Stmt(ir.APPEND, [], call, self.origin, label="extend", container=lst))
            return
        user = self.user_name(lst, "lst")
        arg = e.args[0].value
        shown = self.src.module.code_for_node(arg).strip()
        text = f"({shown})" if isinstance(arg, cst.GeneratorExp) and not arg.lpar else shown
        self.fail(
            e,
            f"{user}.extend({shown}): srcgrad lists the items of an extend only for a tuple "
            "or list display or constants",
            f"append them one by one: for item in {text}: {user}.append(item)",
            "list-method",
        )

    def refuse_untracked_growth(self, e: cst.Call, method: str, outside: bool) -> None:
        """``lst.append(v)`` on a list srcgrad does not follow as one built in the function:
        one from ``outside`` it, or one made by a call, on branches, or with an item
        assigned."""
        text = self.src.module.code_for_node(cst.ensure_type(e.func, cst.Attribute).value).strip()
        where = (
            "a list from outside the function (appending changes it for every later call)"
            if outside
            else "which srcgrad does not follow as a list: it follows one made in one place "
            "of the function by a list display or [], then grown with .append or .extend"
        )
        hint = (
            f"build a new list: lst = [] then lst.extend({text}) and lst.append(...)"
            if outside
            else f"build it as a new list in one place (not on each branch), with no item "
            f"assignment before it grows: {text} = [] (or a list display), "
            f"{text}.extend(...) with the items it starts with, then {text}.append(...)"
        )
        self.fail(e, f"list method .{method}() on {text!r}, {where}", hint, f".{method}()")


def normalize(
    src: FunctionSource, wrt: list[str], containers: dict[str, Any], has_aux: bool = False
) -> Normalized:
    """Build the normal form of ``src`` (see the package docstring)."""
    return Normalizer(src, wrt, containers, has_aux).run()
