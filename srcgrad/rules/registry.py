"""The rule registry: one adjoint rule per primitive (DESIGN §6).

A rule is a plain numpy function ``<name>_adjoint(g, ans, *operands, **params)`` that returns
one cotangent per differentiable operand.  It is at once the test oracle, the template that
codegen inlines into emitted code, and documentation.

Contract a rule body follows so that codegen can inline it:

* Signature: ``g``, ``ans``, then numpy's own parameters under numpy's own names and in numpy's
  positional order (``a``, ``axis``, ``keepdims`` for ``np.sum``).  Parameters without a default
  are operands; the ones listed in ``nondiff`` and the ones with defaults are never
  differentiated, except the ones listed in ``optional_operands`` (operands with a default,
  differentiated when a call passes them: ``norm.logpdf``'s ``loc`` and ``scale``).  A
  ``*operands`` parameter (``np.einsum``) or a name in ``sequence``
  (``np.concatenate``'s ``arrays``) is a sequence of operands whose cotangent is a sequence.
* Body: straight-line assignments to plain names, then one ``return``.  No branches, loops,
  comprehensions, lambdas or nested functions: conditional logic lives in
  :mod:`srcgrad.runtime` helpers.
* Return: one expression per differentiable operand, in signature order (a bare expression when
  there is one operand).  ``None`` means "no gradient".
* Free names: ``np``, names imported from :mod:`srcgrad.runtime`, and builtins.  Nothing else.
* Never mutate an argument and never write in place.  The returned cotangent has the operand's
  shape and dtype (use ``unbroadcast``).
* An operand may be a Python float wherever numpy accepts one (``np.dot(x, 0.5)``,
  ``np.max(s)``), and its cotangent is then a 0-d value.  A body never reads an operand's
  ``shape``/``ndim``/``dtype``/``size`` (a float has none): it reads those of ``g``/``ans``,
  or calls a helper (``reshape_like``, ``unbroadcast``, ``cast_like``) that reads them after
  :func:`srcgrad.runtime.as_array`.
* ``multi_output=True``: ``g`` and ``ans`` are sequences, one entry per output; entries of ``g``
  may be ``None`` (output not used).
* ``view=True``: the primitive's result (or, for a sequence result, any of its items) may share
  memory with an operand (``np.flip``, ``np.reshape``, ``np.split``).  "May" counts: a primitive
  that returns a view for some arguments only (``np.reshape``, ``np.real``) is a view.  The
  alias analysis in normalize reads this flag (a write into the base after the view was taken
  makes the view stale); ``tests/rules/test_rule_facts.py`` checks it against
  ``np.shares_memory`` for every rule.

Facts codegen reads from the rule (each checked against numpy in ``tests/rules/test_rule_facts.py``;
the defaults fit most rules):

* ``kind``: what shape and dtype inference may assume of the result.  ``"unary"``: an
  elementwise function of one operand (the result has its shape, and a float operand's
  dtype); ``"binary"``: an elementwise function of ``x1`` and ``x2`` (their broadcast shape,
  their promoted dtype for float operands); ``"reduce"``: a reduction of ``a`` over ``axis``
  with ``keepdims``, taking after ``a`` the parameters of its ndarray method in the same order.
  ``None``: nothing is assumed.
* ``integer_result``: a ``"unary"``/``"binary"`` primitive whose integer operands give an
  integer result of their promoted dtype (``np.add``, ``np.copy``); otherwise only float
  operands are modelled.
* ``same_as``: the name of a rule this primitive computes the same as (``np.amax`` is
  ``np.max`` under another name: its ndarray method is ``max``).
* ``methods``: the ndarray methods that stand for the primitive with the array as its first
  operand (``x.sum(...)`` is ``np.sum(x, ...)``): a tuple of names, or a dict whose value names
  the parameter that collects positional arguments (``x.reshape(2, 3)`` is
  ``np.reshape(x, (2, 3))``: ``{"reshape": "shape"}``).  A method stands for one rule.
* ``attributes``: ndarray attributes that stand for the primitive of the array (``x.T``).
* ``math`` / ``builtins``: the ``math`` functions and Python builtins differentiated with this
  rule (``math.asin`` and ``np.arcsin``; ``abs`` and ``np.absolute``).  The forward keeps the
  call as written.
* ``single_output_when``: ``(parameter, value)`` for a ``multi_output`` primitive that returns
  one array when that parameter has that constant value (``svd``'s ``compute_uv=False``).
* ``accepts``: ``{parameter: (values, hint)}``, the only values of a parameter that the rule
  differentiates (``scipy.linalg.solve``'s ``overwrite_a``: ``(False,)``); a call that passes
  another value, or one that is not a literal, is refused at its line with the hint.
* ``constant_hints``: ``{parameter: text}``, how to write the call when a differentiated
  value reaches a parameter the rule treats as a constant (``logsumexp``'s ``b``); the
  refusal's hint (else it suggests ``stop_gradient``).
* ``array_operands``: calling the primitive makes an array of a list or tuple operand, as
  numpy and scipy functions do (``np.sum([a, b])``); by default true for a ufunc or a function
  of numpy or scipy.

The tangent rule (JVP, for forward mode) is declared with the adjoint, by what the primitive
is (:mod:`srcgrad.rules.tangents` interprets the declaration):

* ``jvp="elementwise"``: an elementwise function of its broadcast operands (the default for
  a single-output rule of kind ``"unary"`` or ``"binary"``);
* ``jvp="linear"``: linear in its operands (reshape, sum, indexing, the FFTs);
* ``jvp="multilinear"``: linear in each operand separately (matmul, einsum);
* ``jvp="reduction"``: each input element feeds one output element, over ``axis`` (over
  the last two axes for a matrix function without one: det, matrix norms);
* or a function ``jvp(ans, dots, b)`` written right after the adjoint and attached with
  :func:`jvp_of`.

A rule without one has no forward mode (it refuses, naming the primitive); a rule with
``same_as`` takes the JVP of the rule it names unless it declares its own.

Test specs (read by ``tests/rules``, which builds every rule's test cases from them):

* ``shapes``: the input cases.  A dict ``{case id: case}`` (the id appears in test names) or a
  list of cases.  A case is a string with one comma-separated entry per positional parameter
  without a default or in ``optional_operands`` (every case passes those), in signature
  order (``*operands`` take one entry each):

  - ``(3,4)``: an array of that shape (``()`` is a 0-d array);
  - ``[(2,3),(2,3)]``: a sequence operand (``concatenate``'s ``arrays``);
  - ``s`` (or ``float``): a Python float;
  - ``-``: the value comes from ``params`` (``swapaxes``'s ``axis1``, ``full``'s ``shape``);
    such an entry may also be left out;
  - a ``->...`` suffix, gufunc style, is ignored.

  Example: ``shapes={"same": "(3,4),(3,4)", "broadcast": "(3,4),(4,)"}``.  A case may also be
  a pair ``(case, {name: value})`` whose params only fit that case (``einsum``'s
  subscripts), or a tuple of Python entries (``((3, 4), float)``).  Default (``None``), by
  the number of entries: one: ``matrix`` (3,4); two: ``same`` (3,4),(3,4), ``broadcast``
  (3,4),(4,), ``outer`` (3,1),(1,4), ``float`` (3,4),s, ``float-first`` s,(3,4); three:
  ``same`` and ``broadcast`` (3,4),(4,),(3,1).  Every case is also run with non-contiguous
  copies of its arrays, in float32, and on the fake device.
* ``params``: the grid swept over every case: ``{name: [values]}`` (full product), or a list
  of such grids (their union, for mutually exclusive keywords like ``clip``'s ``a_min`` /
  ``min``).  Positional parameters without a default (``swapaxes``'s ``axis1``) may be given
  here; they are passed positionally.
* ``domain``: where test inputs are drawn: ``(lo, hi)`` (uniform; default ``(-2, 2)``), a
  callable ``(rng, shape) -> array``, or a dict ``{parameter name: (lo, hi) | callable}``
  (others get the default).  Callables also make non-float inputs (``where``'s condition).
* ``check={"eps": ..., "rtol": ..., "atol": ...}`` (an ``extra`` keyword) overrides
  ``srcgrad.testing.check_adjoint``'s defaults (1e-6 each), e.g. for a float32 cast;
  ``"rtol32"`` / ``"atol32"`` loosen the float32-agreement test (default 1e-4 / 1e-4).
* ``keep_layout=(names)`` (an ``extra`` keyword): operands whose memory layout the rule
  reads (``strided_cotangent``'s ``x``: strides in bytes); the non-contiguous twin of a
  case keeps their layout.
* ``python_floats=(names)`` (an ``extra`` keyword): the operands that the Python-float
  sweep (``tests/rules/test_rule_python_scalars.py``) replaces by a Python float (default:
  every one).  A runtime helper's operands give each other's shapes (the cotangent has the
  shape of the forward result of the others): a Python float in one of them alone makes
  inputs that no forward call produces.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy

__all__ = [
    "Rule",
    "adjoint",
    "jvp_of",
    "nondifferentiable",
    "lookup",
    "is_nondiff",
    "all_rules",
    "describe",
    "RuleRow",
    "NONDIFF",
    "nondiff_reason",
    "numpy_function",
    "numpy_at_least",
]


@dataclass(frozen=True)
class Rule:
    """A registered adjoint rule."""

    primitive: Callable[..., Any]
    name: str  # numpy-style name, e.g. "tanh", "linalg.inv"
    adjoint: Callable[..., Any]
    params: tuple[str, ...]  # every parameter after (g, ans), in order
    operands: tuple[str, ...]  # the differentiable ones, in order (a *varargs name too)
    nondiff: tuple[str, ...]
    sequence: tuple[str, ...]  # operands that are sequences of arrays
    varargs: str | None  # name of a *operands parameter, if any
    defaults: dict[str, Any]
    operator: str | None = None
    domain: Any = None
    shapes: Any = None
    param_grid: dict[str, list[Any]] | None = None
    multi_output: bool = False
    view: bool = (
        False  # the result may share memory with an operand (see the module docstring)
    )
    module: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # facts codegen reads (see the module docstring)
    kind: str | None = None  # "unary" | "binary" | "reduce"
    integer_result: bool = False
    same_as: str | None = None
    methods: dict[str, str | None] = field(
        default_factory=dict
    )  # method -> varargs parameter
    attributes: tuple[str, ...] = ()
    math: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    single_output_when: tuple[str, Any] | None = None
    array_operands: bool = False
    # the tangent rule: one of JVP_KINDS, or a function (ans, dots, b) -> tangent
    jvp: str | Callable[..., Any] | None = None


KINDS = ("unary", "binary", "reduce")
JVP_KINDS = ("elementwise", "linear", "multilinear", "reduction")


_RULES: dict[Any, Rule] = {}  # _key(primitive) -> its rule
_BY_NAME: dict[str, Rule] = {}
NONDIFF: dict[int, str] = {}  # id(function) -> name
GENERATION = (
    0  # bumped by every registration: a cheap "did the rules change?" for callers
)
NONDIFF_FUNCS: dict[int, Callable[..., Any]] = {}  # id(function) -> the function


def _prim_name(prim: Callable[..., Any]) -> str:
    name = getattr(prim, "__name__", None) or repr(prim)
    mod = getattr(prim, "__module__", "") or ""
    if mod.startswith("numpy.linalg"):
        return "linalg." + name
    if mod.startswith("numpy.fft"):
        return "fft." + name
    return name


def numpy_at_least(version: str) -> bool:
    """Whether the installed numpy is ``version`` or newer (test specs that use keywords a
    newer numpy added, such as ``np.clip``'s ``min=`` in 2.1, depend on it)."""
    return numpy.lib.NumpyVersion(numpy.__version__) >= version


def numpy_function(path: str) -> Callable[..., Any] | None:
    """``numpy.<path>`` (``"linalg.svdvals"``), or ``None`` where the installed numpy lacks it
    (numpy 1.26 has no ``np.linalg.svdvals``, ``np.vecdot``, ``np.unstack`` ...): rules for
    such functions are registered only on a numpy that has them."""
    obj: Any = numpy
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _parameters(
    fn: Callable[..., Any], nondiff: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], tuple[str, ...], str | None, dict[str, Any]]:
    """A rule's parameters after ``(g, ans)``, its operands (``optional`` ones included),
    its ``*varargs`` name and its defaults, read from its signature."""
    sig = inspect.signature(fn)
    if list(sig.parameters)[:2] != ["g", "ans"]:
        raise TypeError(f"{fn.__name__}: a rule's first parameters are (g, ans)")
    ps = list(sig.parameters.values())[2:]
    varargs = next((p.name for p in ps if p.kind is p.VAR_POSITIONAL), None)
    defaults = {p.name: p.default for p in ps if p.default is not p.empty}
    stray = set(optional) - set(defaults)
    if stray:
        raise TypeError(
            f"{fn.__name__}: optional_operands {sorted(stray)} are not parameters "
            "with a default"
        )
    operands = tuple(
        p.name
        for p in ps
        if (p.default is p.empty or p.name in optional)
        and p.kind is not p.VAR_KEYWORD
        and p.name not in nondiff
    )
    return tuple(p.name for p in ps), operands, varargs, defaults


def _check_kinds(kind: str | None, jvp: str | None) -> None:
    if kind not in (None, *KINDS):
        raise ValueError(f"kind {kind!r}: one of {KINDS} or None")
    if jvp not in (None, *JVP_KINDS):
        raise ValueError(f"jvp {jvp!r}: one of {JVP_KINDS}, or a function (jvp_of)")


def adjoint(
    prim: Callable[..., Any] | None,
    *,
    operator: str | None = None,
    nondiff: tuple[str, ...] = (),
    sequence: tuple[str, ...] = (),
    domain: Any = None,
    shapes: Any = None,
    params: dict[str, list[Any]] | None = None,
    multi_output: bool = False,
    view: bool = False,
    name: str | None = None,
    kind: str | None = None,
    integer_result: bool = False,
    same_as: str | None = None,
    methods: tuple[str, ...] | dict[str, str | None] = (),
    attributes: tuple[str, ...] = (),
    math: tuple[str, ...] = (),
    builtins: tuple[str, ...] = (),
    single_output_when: tuple[str, Any] | None = None,
    array_operands: bool | None = None,
    optional_operands: tuple[str, ...] = (),
    jvp: str | None = None,
    **extra: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as the adjoint rule of ``prim`` (see the module docstring); a ``None``
    primitive (:func:`numpy_function` on an older numpy) registers nothing."""

    _check_kinds(kind, jvp)

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if prim is None:  # a numpy function this numpy lacks (numpy_function)
            return fn
        names, operands, varargs, defaults = _parameters(fn, nondiff, optional_operands)
        rule = Rule(
            primitive=prim,
            name=name or _prim_name(prim),
            adjoint=fn,
            params=names,
            operands=operands,
            nondiff=tuple(nondiff),
            sequence=tuple(sequence),
            varargs=varargs,
            defaults=defaults,
            operator=operator,
            domain=domain,
            shapes=shapes,
            param_grid=params,
            multi_output=multi_output,
            view=view,
            module=fn.__module__,
            extra=dict(extra),
            kind=kind,
            integer_result=integer_result,
            same_as=same_as,
            methods=(
                dict(methods) if isinstance(methods, dict) else dict.fromkeys(methods)
            ),
            attributes=tuple(attributes),
            math=tuple(math),
            builtins=tuple(builtins),
            single_output_when=single_output_when,
            array_operands=(
                _makes_arrays(prim) if array_operands is None else array_operands
            ),
            jvp=jvp,
        )
        global GENERATION
        _RULES[_key(prim)] = rule
        _BY_NAME[rule.name] = rule
        GENERATION += 1
        fn.rule = rule  # type: ignore[attr-defined]
        return fn

    return register


def jvp_of(
    *adjoints: Callable[..., Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach ``fn(ans, dots, b)`` as the tangent rule (JVP) of the rules registered with the
    adjoint functions ``adjoints`` (every primitive each was registered for); see
    :mod:`srcgrad.rules.tangents` for what a JVP takes and returns.  Written right after the
    adjoint::

        @jvp_of(inv_adjoint)
        def inv_jvp(ans, dots, b):
            return -(ans @ dots[0] @ ans)
    """

    def attach(fn: Callable[..., Any]) -> Callable[..., Any]:
        global GENERATION
        for adj in adjoints:
            for old in [r for r in _BY_NAME.values() if r.adjoint is adj]:
                if old.jvp is not None:
                    raise TypeError(f"{old.name}: a JVP is declared twice")
                new = dataclasses.replace(old, jvp=fn)
                for key, rule in list(_RULES.items()):
                    if rule is old:
                        _RULES[key] = new
                _BY_NAME[new.name] = new
                adj.rule = new  # type: ignore[attr-defined]
                GENERATION += 1
        return fn  # a primitive this numpy lacks registered nothing: nothing to attach

    return attach


def reinstate(rule: Rule) -> None:
    """Put a rule taken from the registry back as it was, facts and all (a tool or test that
    swapped in another rule for its primitive restores the original with this)."""
    global GENERATION
    _RULES[_key(rule.primitive)] = rule
    _BY_NAME[rule.name] = rule
    GENERATION += 1


def _key(prim: Any) -> Any:
    """The registry's key for a primitive: its identity, or for a method bound to an object
    (``scipy.stats.norm.logpdf``: every attribute access makes a new bound method) the
    identities of the object and the function."""
    owner = getattr(prim, "__self__", None)
    func = getattr(prim, "__func__", None)
    if isinstance(prim, types.MethodType) and owner is not None and func is not None:
        return (id(owner), id(func))
    if isinstance(owner, numpy.ufunc) and isinstance(prim, types.BuiltinMethodType):
        return (id(owner), prim.__name__)  # np.add.reduceat: a new object every access
    return id(prim)


def _makes_arrays(prim: Any) -> bool:
    """Whether calling ``prim`` makes an array of a list or tuple operand: a ufunc, or a
    function of numpy or scipy (never a method bound to an object)."""
    if isinstance(prim, numpy.ufunc):
        return True
    owner = getattr(prim, "__self__", None)
    if owner is not None and not inspect.ismodule(owner):
        return False
    return (getattr(prim, "__module__", None) or "").split(".")[0] in ("numpy", "scipy")


# id(function) -> a check ``(active positional flags, active keyword flags) -> the name of the
# argument that would carry a gradient, or None``: the function is non-differentiable only
# when no such argument is active (``np.arange``'s start and step, ``fftfreq``'s spacing)
NONDIFF_UNLESS: dict[int, Callable[[list[bool], dict[str, bool]], str | None]] = {}


# ndarray method -> the non-differentiable function it stands for (``x.argmax()``)
NONDIFF_METHODS: dict[str, Callable[..., Any]] = {}


# id(function) -> why its output carries no gradient (srcgrad's runtime helpers say why)
NONDIFF_REASONS: dict[int, str] = {}


def nondifferentiable(
    *prims: Callable[..., Any],
    unless: Callable[[list[bool], dict[str, bool]], str | None] | None = None,
    methods: tuple[str, ...] = (),
    reason: str | None = None,
) -> None:
    """Declare functions whose output carries no gradient (argmax, floor, zeros_like, ...).

    ``unless``: for a function whose float output moves with some arguments, a check that
    names the argument carrying a gradient (given which positional and keyword arguments are
    active); codegen refuses such a call instead of treating it as a constant.
    ``methods``: the ndarray methods that stand for some of these functions, each named as
    its function (``x.argmax(...)`` is ``np.argmax(x, ...)``).
    ``reason``: why the output carries no gradient (:func:`nondiff_reason`).
    """
    global GENERATION
    for p in prims:
        NONDIFF[id(p)] = _prim_name(p)
        NONDIFF_FUNCS[id(p)] = p
        if reason is not None:
            NONDIFF_REASONS[id(p)] = reason
        if unless is not None:
            NONDIFF_UNLESS[id(p)] = unless
    for m in methods:
        same = [p for p in prims if getattr(p, "__name__", None) == m]
        if not same:
            raise ValueError(
                f"method {m!r} names none of the functions declared with it"
            )
        NONDIFF_METHODS[m] = same[0]
    GENERATION += 1


def nondiff_active_argument(
    prim: Any, pos: list[bool], kw: dict[str, bool]
) -> str | None:
    """The argument of a call of the non-differentiable ``prim`` whose gradient would be lost
    (``pos``/``kw``: which arguments carry a gradient), or ``None`` when the output is
    constant in every active argument."""
    check = NONDIFF_UNLESS.get(id(prim))
    return None if check is None else check(pos, kw)


def alias(fn: Any, rule: Rule) -> None:
    """Let ``fn``, a stand-in that computes what ``rule``'s primitive computes (the
    runtime's ``scipy_special.erf`` for ``scipy.special.erf``), be differentiated by
    ``rule``.  The rule keeps its name and primitive."""
    _RULES[_key(fn)] = rule


def nondiff_reason(prim: Any) -> str | None:
    """Why ``prim`` was declared non-differentiable, when its declaration says."""
    return NONDIFF_REASONS.get(id(prim))


def lookup(prim: Any) -> Rule | None:
    """The rule registered for ``prim`` (a function object), or ``None``."""
    return _RULES.get(_key(prim))


def lookup_name(name: str) -> Rule | None:
    """The rule registered under a numpy-style name (``"tanh"``, ``"linalg.inv"``)."""
    return _BY_NAME.get(name)


def generation() -> int:
    """The registry's generation (bumped by every registration), with every rule loaded."""
    return GENERATION


def is_nondiff(prim: Any) -> bool:
    return id(prim) in NONDIFF


class _Index(NamedTuple):
    """Lookups over the rules' facts, built once per state of the registry."""

    state: tuple[int, ...]
    methods: dict[str, Rule]
    attributes: dict[str, Rule]
    math: dict[str, Rule]
    builtins: dict[str, Rule]
    operators: dict[str, Rule]
    kinds: dict[str, frozenset[str]]


_INDEX: _Index | None = None


def _unique(pairs: list[tuple[str, Rule]], what: str) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    for key, rule in pairs:
        if key in out and out[key].name != rule.name:
            raise ValueError(
                f"{what} {key!r} stands for both {out[key].name} and {rule.name}"
            )
        out[key] = rule
    return out


def _index() -> _Index:
    global _INDEX
    # the rule objects themselves, not only the generation: a registry restored in place (a
    # test putting back the rules it replaced) leaves the generation as it was
    state = (GENERATION, *map(id, _BY_NAME.values()))
    if _INDEX is None or _INDEX.state != state:
        rules = all_rules()
        _INDEX = _Index(
            state,
            _unique([(m, r) for r in rules for m in r.methods], "method"),
            _unique([(a, r) for r in rules for a in r.attributes], "attribute"),
            _unique([(f, r) for r in rules for f in r.math], "math function"),
            _unique([(b, r) for r in rules for b in r.builtins], "builtin"),
            _unique(
                [(r.operator, r) for r in rules if r.operator is not None], "operator"
            ),
            {k: frozenset(r.name for r in rules if r.kind == k) for k in KINDS},
        )
    return _INDEX


def by_method(name: str) -> Rule | None:
    """The rule the ndarray method ``name`` stands for (``"sum"``: ``np.sum``'s), or None."""
    return _index().methods.get(name)


def by_attribute(name: str) -> Rule | None:
    """The rule the ndarray attribute ``name`` stands for (``"T"``: ``np.transpose``'s)."""
    return _index().attributes.get(name)


def by_math(name: str) -> Rule | None:
    """The rule that differentiates ``math.<name>`` (``"asin"``: ``np.arcsin``'s), or None."""
    return _index().math.get(name)


def by_builtin(name: str) -> Rule | None:
    """The rule that differentiates the builtin ``name`` (``"abs"``: ``np.absolute``'s)."""
    return _index().builtins.get(name)


def by_operator(symbol: str) -> Rule | None:
    """The rule of a Python operator (``"+"``, ``"unary -"``, ``"@"``), or None."""
    return _index().operators.get(symbol)


# The primitives the backward pass may compute again from their operands instead of keeping
# their result (see srcgrad/codegen/saving.py): one pass over memory or none, and the same
# bits as in the forward pass.  Transcendental functions are left out: their pass costs time.
CHEAP = frozenset(
    {
        "add",
        "subtract",
        "multiply",
        "divide",
        "negative",
        "positive",
        "maximum",
        "minimum",
        "absolute",
        "square",
        "transpose",
        "swapaxes",
        "moveaxis",
        "expand_dims",
        "squeeze",
        "reshape",
        "ravel",
    }
)


def is_cheap(rule: Rule) -> bool:
    """Whether ``rule``'s primitive is cheap enough to compute again in the backward pass
    rather than keep its result (:data:`CHEAP`)."""
    return rule.name in CHEAP


def names_of_kind(kind: str) -> frozenset[str]:
    """The names of the rules of a ``kind`` (``"unary"``, ``"binary"``, ``"reduce"``)."""
    return _index().kinds[kind]


def method_of(rule: Rule) -> str | None:
    """The ndarray method that computes ``rule``'s primitive (``np.amax``: ``max``), or None."""
    if rule.same_as is not None:
        same = lookup_name(rule.same_as)
        rule = same if same is not None else rule
    return next(iter(rule.methods), None)


def all_rules() -> list[Rule]:
    return sorted(_BY_NAME.values(), key=lambda r: r.name)


class RuleRow(NamedTuple):
    """One line of ``srcgrad rules``: a primitive, where its rule lives, its tested domains."""

    primitive: str  # numpy-style name: "tanh", "linalg.inv", "special.logsumexp"
    module: (
        str  # the module of the rule ("srcgrad.rules.linalg"), or "non-differentiable"
    )
    domains: str  # where its tests draw inputs, e.g. "(-2, 2)", "a: positive_definite"

    def __str__(self) -> str:
        """The row as ``srcgrad rules`` prints it: primitive, module, domains."""
        module = self.module.replace("srcgrad.rules.", "")
        return f"{self.primitive:<40} {module:<20} {self.domains}"


def _describe_domain(domain: Any) -> str:
    """A short text for a rule's ``domain`` spec (see the module docstring)."""
    if domain is None:
        return "(-2, 2)"
    if isinstance(domain, dict):
        parts = [f"{name}: {_describe_domain(d)}" for name, d in domain.items()]
        return "; ".join(parts + ["others: (-2, 2)"])
    if callable(domain):
        name = getattr(domain, "__name__", "custom")
        name = "custom" if name == "<lambda>" else name.lstrip("_").replace("_", " ")
        doc = (getattr(domain, "__doc__", None) or "").strip().splitlines()
        return f"{name} ({doc[0].rstrip('.').replace('``', '')})" if doc else name
    lo, hi = domain
    return f"({lo:g}, {hi:g})"


def describe(include_nondiff: bool = False) -> list[RuleRow]:
    """Every registered primitive with the module of its rule and its tested domains.

    Args:
        include_nondiff: also list the functions declared non-differentiable (their module
            column reads ``"non-differentiable"`` and they have no domain).

    Returns:
        Rows sorted by primitive name (``srcgrad rules`` prints them).
    """
    rows = [RuleRow(r.name, r.module, _describe_domain(r.domain)) for r in all_rules()]
    if include_nondiff:
        known = {r.primitive for r in rows}
        rows += [
            RuleRow(name, "non-differentiable", "-")
            for name in sorted(set(NONDIFF.values()))
            if name not in known
        ]
    return sorted(rows, key=lambda r: r.primitive)
