"""Rule templates: an adjoint rule's body, parsed once, ready to inline at a call site.

A rule body is straight-line numpy code ending in one ``return`` of the cotangents, one per
operand slot (DESIGN §6).  :func:`template` parses it into a :class:`Template`: the body's
assignments, one cotangent expression per slot, the names it assigns (renamed at each call
site) and the runtime helpers it calls.  :func:`bindings` maps the template's names to a call
site's expressions, and :func:`substitute` applies that mapping, adding parentheses where an
expression replaces a name inside a larger one.
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

import libcst as cst
import libcst.matchers as m

import srcgrad.runtime as runtime

from srcgrad.errors import InternalError, SourceNotFoundError, UnsupportedSyntaxError
from srcgrad.rules.registry import Rule


@dataclass
class Template:
    """A rule body ready to inline."""

    rule: Rule
    body: list[cst.BaseSmallStatement]
    slots: list[cst.BaseExpression]  # one cotangent expression per operand slot
    whole: cst.BaseExpression | None  # the return value when it is not a tuple literal
    locals: set[str]
    helpers: dict[str, str]  # name in rule body -> name in srcgrad.runtime


_TEMPLATES: dict[int, tuple[Any, Template]] = {}  # id(adjoint) -> (adjoint, template)


def template(rule: Rule) -> Template:
    """Parse (once) the body of ``rule`` into an inlinable template."""
    hit = _TEMPLATES.get(id(rule.adjoint))
    if (
        hit is None or hit[0] is not rule.adjoint
    ):  # the id of a freed function is reused
        hit = _TEMPLATES[id(rule.adjoint)] = (rule.adjoint, _parse_template(rule))
    return hit[1]


def slot_params(rule: Rule) -> list[str]:
    """The operands a rule returns cotangents for, in order (``*varargs`` included)."""
    slots = list(rule.operands)
    if rule.varargs and rule.varargs not in slots:
        slots.append(rule.varargs)
    return slots


def bindings(
    tpl: Template,
    bound: dict[str, cst.BaseExpression],
    g: cst.BaseExpression,
    ans: cst.BaseExpression,
    xp: str,
    helper: Callable[[str], str],
    local: Callable[[str], str],
) -> dict[str, cst.BaseExpression]:
    """What each name of ``tpl`` stands for at a call site: ``g`` the result's cotangent,
    ``ans`` the result, ``np`` the namespace ``xp``, each parameter its argument (or default),
    each helper its name in the emitted module (``helper(runtime name)``) and each local a
    fresh name (``local(name)``)."""
    rule = tpl.rule
    mapping: dict[str, cst.BaseExpression] = {"g": g, "ans": ans, "np": cst.Name(xp)}
    for p in rule.params:
        if p in bound:
            mapping[p] = bound[p]
        elif p in rule.defaults:
            mapping[p] = cst.parse_expression(repr(rule.defaults[p]))
        elif p == rule.varargs:
            mapping[p] = cst.Tuple([])
    for n, rt in tpl.helpers.items():
        mapping[n] = cst.Name(helper(rt))
    for loc in sorted(tpl.locals):
        mapping[loc] = cst.Name(local(loc))
    return mapping


# -- parsing ------------------------------------------------------------------------------------


def _parse_template(rule: Rule) -> Template:
    fn = rule.adjoint
    code = getattr(fn, "__code__", None)
    where = {
        "filename": getattr(code, "co_filename", None),
        "lineno": getattr(code, "co_firstlineno", None),
        "col": 1,
    }
    mod = cst.parse_module(_rule_source(fn, where))
    fdef = next(s for s in mod.body if isinstance(s, cst.FunctionDef))
    # a body written over several lines (black's layout) is inlined as one line per
    # statement: the parentheses that held the lines together are dropped at call sites
    fdef = fdef.visit(_OneLine())
    stmts = list(cst.ensure_type(fdef.body, cst.IndentedBlock).body)
    body, ret, local_names = _body_and_return(stmts, fn.__qualname__, where)
    slots, whole = _slots(ret, len(slot_params(rule)))
    helpers = _helpers(fn, stmts, set(rule.params) | {"g", "ans"} | local_names)
    return Template(rule, body, slots, whole, local_names, helpers)


class _OneLine(cst.CSTTransformer):
    """Whitespace inside brackets that spans lines (comments included) becomes one space."""

    def leave_ParenthesizedWhitespace(
        self,
        original: cst.ParenthesizedWhitespace,
        updated: cst.ParenthesizedWhitespace,
    ) -> cst.SimpleWhitespace:
        return cst.SimpleWhitespace(" ")


def _rule_source(fn: Any, where: dict[str, Any]) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise SourceNotFoundError(
            f"cannot read the source of the adjoint rule {fn.__qualname__}: {exc}",
            construct="rule",
            hint="define the rule with def in a .py file (srcgrad inlines its body)",
            **where,
        ) from None


def _body_and_return(
    stmts: list[Any], name: str, where: dict[str, Any]
) -> tuple[list[cst.BaseSmallStatement], cst.BaseExpression, set[str]]:
    """The assignments of a rule body, its returned expression and the names it assigns."""

    def bad_rule(what: str, hint: str) -> UnsupportedSyntaxError:
        # a rule registered by the user: its body is a template srcgrad inlines
        return UnsupportedSyntaxError(
            f"the adjoint rule {name}: {what}", construct="rule", hint=hint, **where
        )

    body: list[cst.BaseSmallStatement] = []
    ret: cst.BaseExpression | None = None
    local_names: set[str] = set()
    for i, st in enumerate(stmts):
        if not isinstance(st, cst.SimpleStatementLine):
            raise bad_rule(
                "only straight-line bodies can be inlined",
                "write the body as straight-line numpy code (np.where instead of if)",
            )
        for small in st.body:
            if isinstance(small, cst.Expr) and isinstance(
                small.value, cst.SimpleString
            ):
                continue  # docstring
            if isinstance(small, cst.Return):
                if i != len(stmts) - 1 or small.value is None:
                    raise bad_rule(
                        "one return, at the end",
                        "bind the cotangents to names and return them once, at the end",
                    )
                ret = small.value
            elif isinstance(small, cst.Assign):
                for t in small.targets:
                    local_names.update(_target_names(t.target, name))
                body.append(small)
            else:
                raise bad_rule(
                    "a statement a rule body cannot hold",
                    "use assignments to plain names and one return",
                )
    if ret is None:
        raise bad_rule("no return", "return the cotangents, one per operand")
    return body, ret, local_names


def _slots(
    ret: cst.BaseExpression, nslots: int
) -> tuple[list[cst.BaseExpression], cst.BaseExpression | None]:
    """One cotangent expression per slot; when the return is not a tuple literal of them,
    ``(__whole__[k] for each slot, the returned expression)``."""
    if nslots == 1:
        return [ret], None
    if isinstance(ret, cst.Tuple) and len(ret.elements) == nslots:
        return [e.value for e in ret.elements], None
    slots: list[cst.BaseExpression] = [
        cst.Subscript(
            value=cst.Name("__whole__"),
            slice=[cst.SubscriptElement(cst.Index(cst.Integer(str(k))))],
        )
        for k in range(nslots)
    ]
    return slots, ret


def _helpers(fn: Any, stmts: list[Any], own: set[str]) -> dict[str, str]:
    """The free names of a rule body that are runtime helpers -> their runtime names."""
    helpers: dict[str, str] = {}
    for node in m.findall(cst.Module(body=list(stmts)), m.Name()):
        n = cst.ensure_type(node, cst.Name).value
        if n in own or n == "np" or hasattr(builtins, n):
            continue
        obj = fn.__globals__.get(n)
        rt_name = getattr(obj, "__name__", n)
        if obj is not None and getattr(runtime, rt_name, None) is obj:
            helpers[n] = rt_name
    # names that are attributes or keywords were collected too; keep only real free names
    return helpers


def _target_names(t: cst.BaseExpression, rule_name: str) -> list[str]:
    if isinstance(t, cst.Name):
        return [t.value]
    if isinstance(t, (cst.Tuple, cst.List)):
        return [n for e in t.elements for n in _target_names(e.value, rule_name)]
    raise InternalError(f"rule {rule_name}: assign to plain names only")


# -- substitution -------------------------------------------------------------------------------

_ATOMS = (
    cst.Name,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.SimpleString,
    cst.Call,
    cst.Attribute,
    cst.Subscript,
    cst.Tuple,
    cst.List,
    cst.Ellipsis,
)


def parenthesize(node: cst.BaseExpression) -> cst.BaseExpression:
    """Wrap a non-atomic expression in parentheses (templates never add them)."""
    if isinstance(node, _ATOMS) or getattr(node, "lpar", None):
        return node
    return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


class _Substitute(cst.CSTTransformer):
    """Replace names by expressions, leaving attribute names and keywords alone."""

    def __init__(self, mapping: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.mapping = mapping

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        rep = self.mapping.get(original.value)
        if rep is None:
            return updated
        return parenthesize(rep)

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.Attribute:
        return updated.with_changes(attr=original.attr)

    def leave_Subscript(
        self, original: cst.Subscript, updated: cst.Subscript
    ) -> cst.BaseExpression:
        """``ct[1]`` of a sequence parameter given as a list (``[d_w, d_v]``) is that entry
        (``d_v``): emitted code never indexes a literal (a higher order refuses it)."""
        rep = (
            self.mapping.get(original.value.value)
            if isinstance(original.value, cst.Name)
            else None
        )
        if not isinstance(rep, (cst.List, cst.Tuple)) or len(original.slice) != 1:
            return updated
        index = original.slice[0].slice
        items = rep.elements
        if (
            isinstance(index, cst.Index)
            and isinstance(index.value, cst.Integer)
            and int(index.value.value) < len(items)
            and all(isinstance(e, cst.Element) for e in items)
        ):
            return parenthesize(items[int(index.value.value)].value)
        return updated

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        value = updated.value
        if not isinstance(value, cst.Tuple) and getattr(value, "lpar", None):
            value = value.with_changes(lpar=[], rpar=[])
        return updated.with_changes(keyword=original.keyword, value=value)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """``power_slope(x, 2)`` is ``2 * x``: the helper computes ``2 * x ** 1``, and
        ``x ** 1`` is ``x`` exactly, in every dtype (other exponents keep the helper, whose
        guard at 0 and treatment of Python floats differ from the plain formula)."""
        func, args = original.func, updated.args
        if (
            isinstance(func, cst.Name)
            and func.value in self.mapping
            and getattr(runtime, func.value, None) is runtime.power_slope
            and len(args) == 2
            and not any(a.keyword or a.star for a in args)
            and isinstance(args[1].value, (cst.Integer, cst.Float))
            and args[1].value.evaluated_value == 2  # type: ignore[union-attr]
        ):
            return cst.BinaryOperation(
                left=args[1].value,
                operator=cst.Multiply(),
                right=parenthesize(args[0].value),
                lpar=[cst.LeftParen()],
                rpar=[cst.RightParen()],
            )
        return updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        value = updated.value
        if not isinstance(value, cst.Tuple) and getattr(value, "lpar", None):
            value = value.with_changes(lpar=[], rpar=[])
        return updated.with_changes(value=value)


def substitute(node: Any, mapping: dict[str, cst.BaseExpression]) -> Any:
    """``node`` with each name in ``mapping`` replaced by its expression."""
    return node.visit(_Substitute(mapping))
