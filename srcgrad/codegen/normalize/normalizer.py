"""The composed :class:`Normalizer` (one mixin per construct) with its state and the entry
point :func:`normalize`.
"""

from __future__ import annotations

from typing import Any

import libcst as cst
import libcst.matchers as m

from srcgrad import cache
from srcgrad.codegen.ir import Names, Normalized, Stmt
from srcgrad.codegen.normalize.arguments import Arguments
from srcgrad.codegen.normalize.base import _Bail, _Scope
from srcgrad.codegen.normalize.bindings import Bindings
from srcgrad.codegen.normalize.accumulations import Accumulations
from srcgrad.codegen.normalize.calls import Calls
from srcgrad.codegen.normalize.containers import Containers
from srcgrad.codegen.normalize.control import ControlFlow
from srcgrad.codegen.normalize.exits import _always_returns, _returns_from_a_loop
from srcgrad.codegen.normalize.expressions import Expressions
from srcgrad.codegen.normalize.findings import Findings
from srcgrad.codegen.normalize.inlining import Inlining
from srcgrad.codegen.normalize.function_values import FunctionValues
from srcgrad.codegen.normalize.partials import Partials
from srcgrad.codegen.normalize.generators import Generators
from srcgrad.codegen.normalize.growth import Growth
from srcgrad.codegen.normalize.iteration import Iteration
from srcgrad.codegen.normalize.keys import Keys
from srcgrad.codegen.normalize.lists import Lists
from srcgrad.codegen.normalize.loops import Loops
from srcgrad.codegen.normalize.methods import Methods
from srcgrad.codegen.normalize.modules import Modules
from srcgrad.codegen.normalize.orders import Orders
from srcgrad.codegen.normalize.names import NameReads
from srcgrad.codegen.normalize.randomness import Randomness
from srcgrad.codegen.normalize.recursion import Recursion
from srcgrad.codegen.normalize.returns import Returns
from srcgrad.codegen.normalize.starred import Starred
from srcgrad.codegen.normalize.statements import Statements
from srcgrad.codegen.normalize.tables import Tables
from srcgrad.codegen.normalize.syntax import _all_names, _free_reads
from srcgrad.codegen.normalize.in_place import InPlace
from srcgrad.codegen.normalize.writes import Writes
from srcgrad.codegen.resolve import ArgumentResolver, Resolver
from srcgrad.codegen.source import FunctionSource, own_returns
from srcgrad.errors import SrcgradError


class Normalizer(
    Findings,
    Bindings,
    NameReads,
    Statements,
    ControlFlow,
    Returns,
    Loops,
    Iteration,
    Orders,
    Keys,
    Writes,
    InPlace,
    Containers,
    Lists,
    Growth,
    Generators,
    FunctionValues,
    Partials,
    Expressions,
    Calls,
    Accumulations,
    Arguments,
    Inlining,
    Recursion,
    Methods,
    Modules,
    Tables,
    Randomness,
    Starred,
):
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
        self.body_node: cst.FunctionDef | cst.Lambda = src.tree  # the function lowered
        self.resolver = Resolver(src.fn)
        self.top_resolver = self.resolver
        self.wrt = wrt
        self.containers = containers
        self.has_aux = has_aux
        taken = {n.value for n in _all_names(src.tree)}
        taken |= set(src.fn.__code__.co_names) | set(src.fn.__code__.co_varnames)
        self.names = Names(taken)
        self.xp = self.names.generated("xp")
        self.index_name = self.names.generated("index")
        self._init_bindings(src)
        self._init_control()
        self._init_displays()
        self._init_aliases()
        self._init_scopes(src)

    def _init_bindings(self, src: FunctionSource) -> None:
        """Names and their values: SSA versions, constants, containers, the statements emitted
        and the findings."""
        self.env: dict[str, str] = {}
        self.locals: set[str] = set()
        self.static: set[str] = set()
        self.model_leaves: set[str] = set()  # reads of a model's arrays: never None
        self.const: dict[str, Any] = {}  # emitted name -> known constant value
        self.cont: dict[str, tuple[str, tuple[Any, ...], Any]] = {}
        self.lit: dict[str, tuple[str, Any]] = {}  # name -> literal container of atoms
        self.iterated_dicts: list[str] = []  # dicts an unrolled loop iterates over
        self.dyn: set[str] = set()  # lists built with append
        # markers of functions passed to or returned by inlined calls -> the function
        self.function_values: dict[str, Any] = {}
        # lists made and grown in straight-line code: emitted name -> (loop depth, items)
        self.list_history: dict[str, tuple[int, list[Any]]] = {}
        self.params_set: set[str] = set()
        self.rngs: set[str] = set()  # arguments that are random generator objects
        self.objects: set[str] = set()  # other non-array arguments not differentiated
        self.stopped: set[str] = set()  # results of srcgrad.stop_gradient
        self.prebind: set[str] = set()  # names emit binds to None at the top of fwd
        self.last_define: tuple[str, str] | None = None
        self.last_multi: list[str] | None = None
        self.multi_results: set[str] = set()  # multi-output results bound to one name
        self.all_names = _all_names(src.tree)
        self.stmts: list[Stmt] = []
        self.runtime_imports: set[str] = set()
        self.origin = src.def_origin()
        self._node = src.tree
        self.findings: list[SrcgradError] = []
        self.unbound_rest: set[str] = set()  # `*_` of `x, *_ = f(...)`: never bound
        self.poisoned: set[str] = set()  # names bound by statements that were reported
        self.skipped = 0  # statements dropped as consequences of earlier findings

    def _init_control(self) -> None:
        """Loops, branches and returns being lowered."""
        self.loops: list[dict[str, Any]] = []
        # loop-carried names with no binding before their loop: unbound in its first iteration
        self.maybe_unbound: set[str] = set()
        self.ret_flag: str | None = None  # set when a loop returns
        self.in_branch = 0  # depth of if-branches being lowered
        # displays bound here -> how many loops were being lowered (item writes at that depth
        # change this iteration's display)
        self.display_depth: dict[str, int] = {}
        self.list_depth: dict[str, int] = {}  # empty list -> the loops around its `[]`
        self.grown_outside: set[str] = set()  # lists a caller's loop appends to
        self.loop_ticks: list[int] = []  # tick at the start of each loop being lowered
        self.tick = 0  # counts reads of displays and starts of loops, in lowering order
        self.pending_displays: list[Any] = []
        self.n_returns = 1
        self.out_name: str | None = None  # where an inlined callee's result goes
        self.out_items: dict[str, Any] = (
            {}
        )  # a callee's result -> its items' names (a tree)
        self.out_plain: set[str] = set()  # a callee's result returned as one value
        self.out: cst.BaseExpression | None = None
        self.aux: cst.BaseExpression | None = None

    def _init_displays(self) -> None:
        """Tuple and list displays bound to names (they may grow or be concatenated)."""
        # list displays bound to a name (constant ones too), in case they grow: such a list
        # becomes a list built with append (``grow_display``)
        self.lit_stmt: dict[str, Stmt] = {}
        self.display_loops: dict[str, int] = (
            {}
        )  # such a display -> loops around its binding
        self.display_read: dict[str, int] = (
            {}
        )  # such a display -> tick of its last read
        # a tuple or list display bound to a name -> ("tuple", "list" or None where that is
        # not known, its length), while its items are known here (for `a + b`)
        self.seq_displays: dict[str, tuple[str | None, int]] = {}
        self.carried_seqs: set[str] = set()  # such displays carried around a loop

    def _init_aliases(self) -> None:
        """Which names may share memory (views, aliases) and which are stale."""
        self.borrowed: set[str] = set()  # views or aliases of arguments (never written)
        self.view_root: dict[str, str] = {}  # view -> an array made here it looks into
        self.list_versions: set[str] = set()  # loop/join versions of a Python list
        self.view_roots: dict[str, set[str]] = (
            {}
        )  # view -> every array made here it may see
        self.views: dict[str, set[str]] = {}
        self.stale: set[str] = set()  # views taken before their base was written
        # arrays written in place through a view -> (the view's name, emitted name, where)
        self.written_through: dict[str, tuple[str, str, tuple[str, int, int]]] = {}
        self.maybe_views: set[str] = set()  # views by an index known only at run time
        self.maybe_stale: dict[str, str] = {}  # such a view -> the array written since

    def _init_scopes(self, src: FunctionSource) -> None:
        """The functions being inlined, their scopes, and the free names and callees reached."""
        self.inline_stack: list[Any] = [src.fn.__code__]
        # the scopes of the callers being inlined, parallel to inline_stack (the running
        # function's is self.env, self.galias, ...): a nested def reads its definer's
        self.frames: list[_Scope] = []
        self.local_funcs: dict[str, Any] = {}  # nested defs and lambdas, by name
        self.np_alias: set[str] = (
            set()
        )  # names bound to the array module (xp = namespace(..))
        self.galias: dict[str, Any] = {}  # name -> (global expression, its resolver)
        self.top_globals = src.fn.__globals__
        # the emitted module reads a bare free name the way the top function would: its closure
        # cells, then its module's globals, then builtins (cache.UserGlobals)
        self.top_cells: dict[str, Any] = dict(
            zip(src.fn.__code__.co_freevars, src.fn.__closure__ or ())
        )
        self.top_free = _free_reads(
            src.tree
        )  # names the top function reads from outside
        self.free_bare: set[str] = (
            set()
        )  # free names emitted bare: no local may take them
        self.arg_names: set[str] = set()  # a callee's arguments (the caller's objects)
        self.module_imports: dict[str, str] = {}  # module name -> alias in emitted code
        # called functions' closure variables: emitted name -> how the module reads it
        self.closure_reads: dict[str, cache.Ref] = {}
        # the nodes that read functions passed in through their parameters (galias)
        self.argument_nodes: set[int] = set()
        self.callees: list[Any] = []
        self.library_depth = 0  # library calls being inlined (see libraries.py)
        self.refs: list[cache.Ref] = []  # how each callee was reached (the cache key's)
        # free arrays and numbers read (emitted expression -> (ref, value)): see names.py
        self.free_values: dict[str, tuple[cache.Ref, Any]] = {}
        self.ref_funcs: list[Any] = (
            []
        )  # the function each ref inlines (an owner of later refs)
        self._call_node: cst.CSTNode | None = None

    def _parameters(self, p: cst.Parameters) -> list[str]:
        """Bind the parameters: arrays and containers by name, configuration (str, bool,
        None, random generators, other objects) as constants, functions passed in as the
        functions they name (read through the parameter)."""
        params = []
        functions = {
            k: v[1]
            for k, v in self.containers.items()
            if type(v) is tuple and v[:1] == ("function",) and k not in self.wrt
        }
        arg_resolver = ArgumentResolver(self.fn, functions)
        loops = m.findall(
            self.src.tree.body,
            m.For() | m.While() | m.ListComp() | m.GeneratorExp() | m.DictComp(),
        )
        for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
            name = param.name.value
            if name in cache.EMITTED_BUILTINS and loops:  # loops emit len, range, ...
                self.findings.append(
                    self._error(
                        param.name,
                        f"a parameter named {name!r}: the emitted gradient calls the "
                        f"builtin {name}() in the same function",
                        f"rename the parameter (e.g. {name}_) in the function",
                        "parameter-name",
                    )
                )
            params.append(name)
            self.params_set.add(name)
            if name in functions:
                # a function passed in: calls of it are calls of that function (inlined,
                # or its rule), and it is read through its parameter in emitted code
                node = cst.Name(name)
                self.galias[name] = (node, arg_resolver)
                self.argument_nodes.add(id(node))
                continue
            self.env[name] = name
            self.locals.add(name)
            if self.containers.get(name) == ("static",):
                self.static.add(name)  # a str/bool/None argument: configuration
            elif self.containers.get(name) == ("rng",):
                self.static.add(name)  # a random generator: its draws are constants
                self.rngs.add(name)
            elif self.containers.get(name) == ("object",) and name not in self.wrt:
                self.static.add(
                    name
                )  # an object not differentiated (a config): constant
                self.objects.add(name)
            elif name in self.containers:
                self.cont[name] = (name, (), self.containers[name])
        return params

    def run(self) -> Normalized:
        fdef = self.src.tree
        p = fdef.params
        params = self._parameters(p)
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
        self.refuse_leaked_functions()
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
            free_values=dict(self.free_values),
            module_imports=dict(self.module_imports),
            closure_reads=dict(self.closure_reads),
            skipped=self.skipped,
            prebind=set(self.prebind),
        )


def normalize(
    src: FunctionSource,
    wrt: list[str],
    containers: dict[str, Any],
    has_aux: bool = False,
) -> Normalized:
    """Build the normal form of ``src`` (see the package docstring)."""
    return Normalizer(src, wrt, containers, has_aux).run()
