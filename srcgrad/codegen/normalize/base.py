"""What every construct of the normal form shares: the internal exceptions and records
(:class:`_Bail`, a function's :class:`_Scope`, nested-def choices), the sentinel for
values not known here, result trees, and the primitive facts that several constructs read
(list growth, attribute primitives, views).  Container arguments' skeletons are
:mod:`srcgrad.tree`'s.
"""

from __future__ import annotations

import types
from typing import Any, NamedTuple

import libcst as cst
import numpy as np

from srcgrad import cache
from srcgrad.errors import SrcgradError
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule

_LITERALS = (
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.Ellipsis,
)


_MISSING = object()


class _Scope(NamedTuple):
    """What a function body's names mean beyond its module's globals and the builtins: the
    bindings of one function being inlined (a nested def sees its enclosing function's).
    """

    env: dict[str, str]  # user name -> emitted name
    galias: dict[str, Any]  # user name -> (global expression, its resolver)
    np_alias: set[str]  # names bound to the array module
    local_funcs: dict[
        str, Any
    ]  # nested defs and lambdas -> (node, source, resolver, depth)


class _Bail(Exception):
    def __init__(self, err: SrcgradError | None) -> None:
        self.err = err


class _FuncChoice(NamedTuple):
    """A nested function's name after an ``if`` whose branches bound it to different defs
    (or lambdas): ``flag``, True on the first branch and False on the other, picks the one
    each call runs.  ``then``/``other`` are entries of ``Normalizer.local_funcs``."""

    flag: str
    then: Any
    other: Any


class _PartialOf(NamedTuple):
    """A name bound in the function to ``functools.partial(fn, *args, **kwargs)`` of a user
    function: a call inlines ``fn`` with the partial's (lowered) arguments first and its
    keywords unless the call gives them.  An entry of ``Normalizer.local_funcs``."""

    fn: Any
    args: tuple[Any, ...]  # cst.Arg, lowered where the partial was made


class _TableEntry(NamedTuple):
    """One branch of a call through a table of functions (see ``normalize.tables``): the
    call of the entry, written with its constant key and the call's lowered arguments.
    """

    call: Any  # cst.Call


class _TableAlias(NamedTuple):
    """A name bound to an entry of a module-level table of functions by a constant key
    (``act = ACTIVATIONS["relu"]``): a call of it is a call through the table, read in
    ``resolver``'s module.  An entry of ``Normalizer.local_funcs``."""

    node: Any  # cst.Subscript: the table read with its constant key
    resolver: Any


class _FuncFromLoop(NamedTuple):
    """A nested function's name at the top of a loop's iteration, or after the loop, where
    the def that runs may be one made in another iteration or before the loop (``line``: the
    first def of the name in the loop's body): a call of it is refused."""

    line: int


def _display_of(names: tuple[Any, ...]) -> cst.BaseExpression:
    """The display a names tree stands for (see ``Returns._names_tree``)."""
    if names[0] == "leaf":
        return cst.Name(names[1])
    if names[0] == "seq":
        return cst.Tuple([cst.Element(_display_of(t)) for t in names[1]])
    return cst.Dict(
        [
            cst.DictElement(cst.parse_expression(repr(k)), _display_of(t))
            for k, t in zip(names[1], names[2])
        ]
    )


def _same_shape(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two result trees (see ``Returns._result_tree``) have the same kinds, lengths
    and keys all the way down."""
    if a[0] != b[0]:
        return False
    if a[0] == "seq":
        return len(a[1]) == len(b[1]) and all(map(_same_shape, a[1], b[1]))
    if a[0] == "dict":
        return a[1] == b[1] and all(map(_same_shape, a[2], b[2]))
    return True


# list methods that grow a list: a display they grow with a value that carries a gradient
# becomes a list built with append
_LIST_GROWTH = ("append", "extend", "insert")


def _static_view_operand(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """The expression an attribute, subscript or method call of constants may be a numpy view
    of (``A.T``, ``A[0]``, ``A[1:]``, ``A.reshape(...)``), else None, by the same rule facts
    (``Rule.view``) as the active path.  Indexing with a list literal copies."""
    rule: Rule | None = None
    if isinstance(expr, cst.Attribute):
        operand, rule = expr.value, registry.by_attribute(expr.attr.value)
    elif isinstance(expr, cst.Subscript):
        for el in expr.slice:
            if isinstance(el.slice, cst.Index) and isinstance(
                el.slice.value, (cst.List, cst.Tuple)
            ):
                return None
        return expr.value
    elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        operand, rule = expr.func.value, registry.by_method(expr.func.attr.value)
    return operand if rule is not None and rule.view else None


def _is_function_value(obj: Any) -> bool:
    """A function srcgrad can call by name (a user's, a builtin, a ufunc, a primitive with a
    rule or a declared non-differentiable one): what a parameter bound to it stands for.
    """
    return (
        isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, np.ufunc))
        or registry.lookup(obj) is not None
        or registry.is_nondiff(obj)
    )


def emitted_function(fn: Any) -> bool:
    """Whether ``fn`` is a function of a module srcgrad emitted (differentiated again)."""
    g = getattr(fn, "__globals__", None)
    return (
        isinstance(g, cache.UserGlobals) and dict.get(g, "__srcgrad_text__") is not None
    )


LOOP_STACK = (
    "a loop's stack of saved values ({name} in srcgrad's emitted code): a higher-order "
    "gradient through a loop whose backward pass pops values saved per iteration is not "
    "supported yet",
    "differentiate again a loop that saves nothing per iteration (a sum accumulated over "
    "a constant tuple or range, a step linear in the carried value), or unroll the loop",
)


def loop_stack_name(fn: Any, node: cst.CSTNode) -> str | None:
    """The loop stack (``stack_<name>``, a list the emitted forward pushes onto and the
    backward pops) that ``node`` of the emitted function ``fn`` reads, else None."""
    if not emitted_function(fn):
        return None
    if isinstance(node, cst.Name) and node.value.startswith("stack_"):
        return node.value
    for child in node.children:
        found = loop_stack_name(fn, child)
        if found is not None:
            return found
    return None
