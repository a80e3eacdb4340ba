"""Which language items each function of the straight-line corpus uses, from its syntax tree.

DESIGN §10.4 asks for at least three corpus functions per language feature, with coverage
*computed*, not claimed. :func:`coverage` parses ``tests/corpus/straight.py`` with :mod:`ast`
and lists the functions that use each item of :data:`FEATURES`. Two items need the inputs
rather than the source: Python float parameters (an argument of a case that is a ``float``) and
``@`` with a 1-D operand (found by running each case once on a recording ndarray subclass).
:func:`straight_line_violations` lists what the straight-line corpus must not contain.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from srcgrad import tree as pytree

from . import straight
from .cases import CASES
from .syntax import forbidden_constructs, is_module_name, tabulate, top_level_functions

TITLE = "straight-line corpus"
LABEL = "item"

OPERATORS: dict[str, type[ast.operator]] = {
    "a + b": ast.Add,
    "a - b": ast.Sub,
    "a * b": ast.Mult,
    "a / b": ast.Div,
    "a // b": ast.FloorDiv,
    "a % b": ast.Mod,
    "a ** b": ast.Pow,
    "a @ b": ast.MatMult,
}
ATTRIBUTES = ("T", "shape")
METHODS = ("sum", "reshape", "astype", "dot", "mean", "max", "transpose", "copy")
SUBSCRIPT_KINDS = ("int", "slice", "None", "Ellipsis")

# The numpy functions the corpus may call (the core rule set and its non-differentiable helpers).
ALLOWED_NUMPY = frozenset(
    (
        "exp",
        "log",
        "log1p",
        "expm1",
        "sqrt",
        "square",
        "abs",
        "sin",
        "cos",
        "tan",
        "tanh",
        "sinh",
        "cosh",
        "arcsin",
        "arccos",
        "arctan",
        "negative",
        "reciprocal",
        "add",
        "subtract",
        "multiply",
        "divide",
        "power",
        "maximum",
        "minimum",
        "arctan2",
        "hypot",
        "logaddexp",
        "where",
        "clip",
        "sum",
        "mean",
        "max",
        "min",
        "prod",
        "var",
        "std",
        "reshape",
        "transpose",
        "swapaxes",
        "moveaxis",
        "expand_dims",
        "squeeze",
        "broadcast_to",
        "ravel",
        "concatenate",
        "stack",
        "split",
        "tile",
        "repeat",
        "matmul",
        "dot",
        "outer",
        "inner",
        "einsum",
        "argmax",
        "floor",
        "zeros_like",
        "ones_like",
        "arange",
        "eye",
        "sign",
    )
)
# Non-callable numpy names the corpus may read.
ALLOWED_NUMPY_ATTRIBUTES = frozenset({"newaxis", "float64", "float32", "ndarray", "pi"})
FORBIDDEN_NODES: dict[type[ast.AST], str] = {
    ast.If: "if",
    ast.IfExp: "ternary",
    ast.For: "for",
    ast.While: "while",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Lambda: "lambda",
    ast.Try: "try",
    ast.With: "with",
    ast.FunctionDef: "nested def",
}


# --------------------------------------------------------------------------- syntax tree


def corpus_functions() -> list[ast.FunctionDef]:
    """The top-level function definitions of the corpus module, in source order."""
    return top_level_functions(straight)


def _is_int_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
    )


def _subscript_kinds(node: ast.Subscript) -> set[str]:
    """The index kinds of one subscript read: int, slice, None, Ellipsis."""
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    kinds = set()
    for part in parts:
        if isinstance(part, ast.Slice):
            kinds.add("slice")
        elif _is_int_constant(part):
            kinds.add("int")
        elif isinstance(part, ast.Constant) and part.value is None:
            kinds.add("None")
        elif isinstance(part, ast.Constant) and part.value is Ellipsis:
            kinds.add("Ellipsis")
    return kinds


def syntax_items(fn: ast.FunctionDef) -> set[str]:
    """The language items one corpus function uses, read from its syntax tree."""
    items: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.BinOp):
            items.update(k for k, op in OPERATORS.items() if isinstance(node.op, op))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if not isinstance(node.operand, ast.Constant):  # -1 is a literal, not an op
                items.add("unary minus")
        elif isinstance(node, ast.Compare):
            items.add("comparison")
        elif isinstance(node, ast.Assign):
            if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
                items.add("tuple unpacking")
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            items.add("augmented assignment")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, attr = node.func.value, node.func.attr
            if is_module_name(owner, "math"):
                items.add("math.* call")
            elif not is_module_name(owner, "np") and attr in METHODS:
                items.add(f"x.{attr}()")
        elif isinstance(node, ast.Attribute):
            if is_module_name(node.value, "np") and node.attr == "newaxis":
                items.add("np.newaxis")
            elif not is_module_name(node.value, "np") and node.attr in ATTRIBUTES:
                items.add(f"x.{node.attr}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            items.update(f"x[{kind}]" for kind in _subscript_kinds(node))
    return items


def straight_line_violations(fn: ast.FunctionDef) -> list[str]:
    """Everything in ``fn`` that the straight-line corpus must not contain."""
    found = forbidden_constructs(fn, FORBIDDEN_NODES, {f.name for f in corpus_functions()})
    allowed = ALLOWED_NUMPY | ALLOWED_NUMPY_ATTRIBUTES
    for node in ast.walk(fn):
        if isinstance(node, ast.Attribute) and is_module_name(node.value, "np"):
            if node.attr not in allowed:
                found.append(
                    f"{fn.name}:{node.lineno}: np.{node.attr} is outside the core rule set"
                )
    return found


# --------------------------------------------------------------------------- inputs


class _MatmulProbe(np.ndarray):
    """An ndarray that records whether any ``@``/``matmul`` it meets has a 1-D operand."""

    seen_1d = False

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc is np.matmul and any(np.ndim(x) == 1 for x in inputs):
            _MatmulProbe.seen_1d = True
        plain = [x.view(np.ndarray) if isinstance(x, _MatmulProbe) else x for x in inputs]
        if "out" in kwargs:  # in-place operators (`total *= 2`) pass the probe as `out`
            kwargs["out"] = tuple(o.view(np.ndarray) for o in kwargs["out"])
        out = getattr(ufunc, method)(*plain, **kwargs)
        return out.view(_MatmulProbe) if isinstance(out, np.ndarray) else out


def _probe(tree: Any) -> Any:
    return pytree.map(lambda v: v.view(_MatmulProbe) if isinstance(v, np.ndarray) else v, tree)


def _uses_1d_matmul(fn: Callable[..., Any], args: tuple) -> bool:
    _MatmulProbe.seen_1d = False
    fn(*_probe(args))
    return _MatmulProbe.seen_1d


def input_items() -> dict[str, set[str]]:
    """Items read from the cases' inputs: float parameters and ``@`` with a 1-D operand."""
    found: dict[str, set[str]] = {}
    for case in CASES:
        args = case.args(np.float64)
        items = found.setdefault(case.name, set())
        if any(type(a) is float for a in args):
            items.add("Python float param")
        if _uses_1d_matmul(case.fn, args):
            items.add("a @ b, 1-D operand")
    return found


# --------------------------------------------------------------------------- the table

FEATURES: tuple[str, ...] = (
    *OPERATORS,
    "a @ b, 1-D operand",
    "unary minus",
    "comparison",
    "tuple unpacking",
    "augmented assignment",
    "Python float param",
    "math.* call",
    *(f"x.{a}" for a in ATTRIBUTES),
    *(f"x.{m}()" for m in METHODS),
    *(f"x[{k}]" for k in SUBSCRIPT_KINDS),
    "np.newaxis",
)


@functools.lru_cache(maxsize=1)
def coverage() -> dict[str, list[str]]:
    """For every language item, the names of the corpus functions that use it."""
    per_function = {fn.name: syntax_items(fn) for fn in corpus_functions()}
    for name, items in input_items().items():
        per_function.setdefault(name, set()).update(items)
    return tabulate(per_function, FEATURES)
