"""Stage 1: read a function's source.

A function of an emitted module (a higher order) is read with its loop stacks indexed
(:mod:`srcgrad.codegen.stacks`).

After this stage: a dedented ``libcst.FunctionDef`` whose srcgrad decorators are stripped, plus
a :class:`Positions` map from every node of that tree to the user's (file, line, col), 1-based.
"""

from __future__ import annotations

import builtins
import io
import textwrap
import tokenize
from dataclasses import dataclass, field
from typing import Any, Callable

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper, PositionProvider

from srcgrad.cache import UserGlobals, display_path, source_lines
from srcgrad.codegen.stacks import indexed
from srcgrad.errors import SourceNotFoundError, UnsupportedSyntaxError

# (a custom_vjp function's defvjp and defjvp return the rule itself)
_SRCGRAD_DECORATORS = {
    "grad",
    "value_and_grad",
    "vjp",
    "custom_vjp",
    "defvjp",
    "defjvp",
}


@dataclass
class Origin:
    """Where a statement came from in the user's file."""

    file: str
    line: int
    col: int
    text: str


@dataclass
class FunctionSource:
    """The parsed function and how to map its nodes back to the user's file."""

    fn: Callable[..., Any]
    text: str  # dedented source, as parsed
    module: cst.Module
    tree: cst.FunctionDef
    filename: str  # as shown to the user
    abs_filename: str
    first_line: int  # file line of the source's first line
    indent: int
    positions: Any  # node -> CodeRange (libcst, 1-based lines, 0-based cols)
    aliases: dict[int, Any] = field(default_factory=dict)  # rewritten node -> original
    _keep: list[Any] = field(default_factory=list)

    def alias(self, new: cst.CSTNode, original: cst.CSTNode) -> cst.CSTNode:
        """Map a rewritten node back to the node it was made from."""
        self._keep.append(new)  # ids stay valid while the source lives
        self.aliases[id(new)] = original
        return new

    def alias_tree(self, new: cst.CSTNode, original: cst.CSTNode) -> cst.CSTNode:
        """Map ``new`` and every node under it that has no position of its own (statements
        srcgrad writes: a comprehension's loop, a guard) to ``original``."""
        kinds = (
            cst.BaseSmallStatement,
            cst.BaseCompoundStatement,
            cst.SimpleStatementLine,
        )
        for node in [
            new,
            *m.findall(new, m.MatchIfTrue(lambda n: isinstance(n, kinds))),
        ]:
            if id(node) not in self.aliases and node not in self.positions:
                self.alias(node, original)
        return new

    def where(self, node: cst.CSTNode) -> tuple[str, int, int]:
        """(file, line, col) of ``node``, 1-based, in the user's file."""
        try:
            pos = self.positions[node].start
        except KeyError:
            original = self.aliases.get(id(node))
            if original is not None:
                return self.where(original)
            return self.filename, self.first_line, 1
        return (
            self.filename,
            self.first_line + pos.line - 1,
            pos.column + self.indent + 1,
        )

    def def_origin(self) -> Origin:
        """The origin of the ``def`` line itself."""
        return self.def_origin_of(self.tree)

    def def_origin_of(self, fdef: cst.FunctionDef) -> Origin:
        """The origin of a ``def`` line (this function's or a nested one's)."""
        file, line, col = self.where(fdef.name)
        first = (
            self.module.code_for_node(fdef.with_changes(decorators=()))
            .strip()
            .splitlines()[0]
        )
        return Origin(file, line, col, first + " ...")

    def origin(self, stmt: cst.CSTNode) -> Origin:
        """The origin of a (small) statement: its position and its first source line."""
        file, line, col = self.where(stmt)
        while id(stmt) in self.aliases:
            stmt = self.aliases[id(stmt)]
        code = self.module.code_for_node(stmt).strip()
        first = code.splitlines()[0] if code else ""
        if len(code.splitlines()) > 1:
            first += " ..."
        return Origin(file, line, col, first)


def read_function(fn: Callable[..., Any]) -> FunctionSource:
    """Read, dedent and parse ``fn``'s source.

    Raises:
        SourceNotFoundError: the source is unavailable (REPL, exec, ``python -c``).
        UnsupportedSyntaxError: a decorator other than srcgrad's, a lambda, or a parse error.
    """
    code = getattr(fn, "__code__", None)
    name = getattr(fn, "__qualname__", repr(fn))
    if code is None:
        raise SourceNotFoundError(
            f"{name} is not a Python function",
            construct="callable",
            hint="pass a function defined with def in a .py file",
        )
    abs_filename = code.co_filename
    filename = display_path(abs_filename)
    try:
        lines, first_line = source_lines(fn)
    except (OSError, TypeError) as exc:
        raise SourceNotFoundError(
            f"cannot read the source of {name} (defined in {abs_filename}): {exc}",
            filename=filename,
            lineno=code.co_firstlineno,
            col=1,
            construct="source",
            hint="define the function in a .py file; code typed at the REPL or run "
            "through exec/python -c has no source srcgrad can read",
        ) from None
    emitted = _emitted_text(fn)
    if emitted is not None:  # its loop stacks read by index, line for line
        lines = indexed(emitted).splitlines(True)[first_line - 1 :][: len(lines)]
    raw = "".join(lines)
    text = dedent_code(raw)
    indent = _indent_of(raw) - _indent_of(text)
    if code.co_name == "<lambda>":
        return _read_lambda(fn, text, filename, abs_filename, first_line, indent, name)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise UnsupportedSyntaxError(
            f"cannot parse the source of {name}: {exc.message}",
            filename=filename,
            lineno=first_line + exc.raw_line - 1,
            col=exc.raw_column + indent + 1,
            construct="syntax",
            hint="srcgrad reads the function's own source lines; make sure they parse "
            "on their own",
        ) from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    fdefs = [s for s in module.body if isinstance(s, cst.FunctionDef)]
    if not fdefs:
        raise UnsupportedSyntaxError(
            f"{name}: no def found in its source",
            filename=filename,
            lineno=first_line,
            col=1,
            construct="source",
            hint="srcgrad differentiates functions defined with def",
        )
    src = FunctionSource(
        fn=fn,
        text=text,
        module=module,
        tree=fdefs[0],
        filename=filename,
        abs_filename=abs_filename,
        first_line=first_line,
        indent=indent,
        positions=positions,
    )
    src.tree = _canonical(src, _strip_decorators(src))
    return src


class _Canonical(cst.CSTTransformer):
    """Puts the user's layout into one canonical form that any later rewrite can print:

    - every one-line body (``def f(x): return x``, ``if c: y = 1``) becomes an indented block;
    - whitespace inside brackets that spans lines (black's split expressions, trailing-comma
      layouts, comments between arguments) and backslash continuations become one space, so
      an expression stays valid wherever a later stage moves it (out of its parentheses, into
      a call).

    Each rebuilt node is aliased to the node it was made from, so positions still resolve.
    """

    def __init__(self, src: FunctionSource) -> None:
        super().__init__()
        self.src = src

    def leave_SimpleStatementSuite(
        self,
        original_node: cst.SimpleStatementSuite,
        updated_node: cst.SimpleStatementSuite,
    ) -> cst.BaseSuite:
        line = cst.SimpleStatementLine(
            body=updated_node.body, trailing_whitespace=updated_node.trailing_whitespace
        )
        self.src.alias(line, original_node.body[0])
        block = cst.IndentedBlock(body=[line])
        self.src.alias(block, original_node)
        return block

    def leave_ParenthesizedWhitespace(
        self,
        original_node: cst.ParenthesizedWhitespace,
        updated_node: cst.ParenthesizedWhitespace,
    ) -> cst.SimpleWhitespace:
        return cst.SimpleWhitespace(" ")

    def leave_SimpleWhitespace(
        self, original_node: cst.SimpleWhitespace, updated_node: cst.SimpleWhitespace
    ) -> cst.SimpleWhitespace:
        if "\\" in updated_node.value or "\n" in updated_node.value:
            return cst.SimpleWhitespace(" ")
        return updated_node

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        result = super().on_leave(original_node, updated_node)
        if isinstance(result, cst.CSTNode) and result is not original_node:
            if id(result) not in self.src.aliases and not isinstance(
                result, (cst.SimpleWhitespace, cst.ParenthesizedWhitespace)
            ):
                self.src.alias(result, original_node)
        return result


def _canonical(src: FunctionSource, tree: cst.FunctionDef) -> cst.FunctionDef:
    """``tree`` in the canonical layout of :class:`_Canonical` (the same object when it
    already is)."""
    if not m.findall(
        tree,
        m.SimpleStatementSuite()
        | m.ParenthesizedWhitespace()
        | m.SimpleWhitespace(value=m.MatchIfTrue(lambda v: "\\" in v or "\n" in v)),
    ):
        return tree
    out = tree.visit(_Canonical(src))
    assert isinstance(out, cst.FunctionDef)
    return out


def string_interior_lines(text: str) -> set[int]:
    """0-based indices of the lines of ``text`` that lie inside a multi-line string literal
    (every line of it but its first): changing their leading whitespace changes a value.
    """
    inside: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tok.type
            if kind == tokenize.STRING or kind == getattr(
                tokenize, "FSTRING_MIDDLE", -1
            ):
                inside.update(range(tok.start[0], tok.end[0]))  # rows are 1-based
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return inside


def dedent_code(text: str) -> str:
    """``textwrap.dedent`` for code: lines inside a multi-line string keep their text."""
    keep = string_interior_lines(text)
    lines = text.splitlines(keepends=True)
    code = [ln for i, ln in enumerate(lines) if i not in keep and ln.strip()]
    if not code:
        return text
    common = min(len(ln) - len(ln.lstrip(" \t")) for ln in code)
    prefix = code[0][:common]
    if not all(ln.startswith(prefix) for ln in code):
        return textwrap.dedent(text)  # mixed tabs and spaces: leave it to textwrap
    return "".join(
        ln if i in keep else (ln[common:] if ln.strip() else ln.lstrip(" \t"))
        for i, ln in enumerate(lines)
    )


def indent_code(text: str, pad: str) -> list[str]:
    """The lines of the code ``text`` indented by ``pad``, except lines inside a multi-line
    string literal (indenting those would change the string)."""
    quoted = '"""' in text or "'''" in text or "\\\n" in text
    keep = string_interior_lines(text) if quoted else set()
    return [
        ln if i in keep else (pad + ln if ln else "")
        for i, ln in enumerate(text.splitlines())
    ]


def _indent_of(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _decorator_name(dec: cst.Decorator) -> str:
    node = dec.decorator
    if isinstance(node, cst.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
    return ".".join(reversed(parts))


def _strip_decorators(src: FunctionSource) -> cst.FunctionDef:
    """Drop srcgrad's own decorators; any other decorator is an error."""
    tree = src.tree
    keep_out = []
    for dec in tree.decorators:
        dotted = _decorator_name(dec)
        last = dotted.rsplit(".", 1)[-1]
        resolved = _resolve_dotted(src.fn, dotted)
        is_ours = getattr(resolved, "__module__", "") or ""
        if last in _SRCGRAD_DECORATORS and (
            is_ours.startswith("srcgrad") or dotted.startswith("srcgrad.")
        ):
            continue
        if resolved is staticmethod:
            continue  # reached as a plain function: the body is what runs
        keep_out.append(dec)
    if keep_out:
        file, line, col = src.where(keep_out[0])
        raise UnsupportedSyntaxError(
            f"decorator @{_decorator_name(keep_out[0])} on a differentiated function",
            filename=file,
            lineno=line,
            col=col,
            construct="decorator",
            hint="apply srcgrad to the undecorated function, or move the decorator's "
            "work into the function body",
        )
    return tree.with_changes(decorators=())


def _resolve_dotted(fn: Callable[..., Any], dotted: str) -> Any:
    g = getattr(fn, "__globals__", {})
    parts = dotted.split(".")
    obj = g.get(parts[0], getattr(builtins, parts[0], None))
    for p in parts[1:]:
        obj = getattr(obj, p, None)
    return obj


def _code_key(code: Any) -> tuple[Any, ...]:
    """What tells one lambda's code from another's on the same line: its bytecode's
    constants and the names it reads (a global compiled alone may be a closure's cell in
    place; both count as a name)."""
    consts = tuple(c for c in code.co_consts if not hasattr(c, "co_code"))
    inner = tuple(_code_key(c) for c in code.co_consts if hasattr(c, "co_code"))
    names = frozenset(code.co_names) | frozenset(code.co_freevars)
    return consts, inner, names, code.co_varnames


def _same_code(
    module: cst.Module, lambdas: list[cst.Lambda], code: Any
) -> list[cst.Lambda]:
    """Of several lambdas on one line, the ones whose code is ``code``'s (compiled on
    their own); several of the same text are one (any of them computes the same)."""
    found: dict[str, cst.Lambda] = {}
    for lam in lambdas:
        text = module.code_for_node(lam)
        try:
            made = compile(f"({text})", "<lambda>", "eval")
        except SyntaxError:
            continue
        inner = [c for c in made.co_consts if hasattr(c, "co_code")]
        if inner and _code_key(inner[0]) == _code_key(code):
            found.setdefault(text, lam)
    return list(found.values())


def _read_lambda(
    fn: Callable[..., Any],
    text: str,
    filename: str,
    abs_filename: str,
    first_line: int,
    indent: int,
    name: str,
) -> FunctionSource:
    """A lambda is read from its source line(s) when they hold exactly one lambda whose
    parameters match it; it becomes ``def <lambda>(params): return body``."""

    def fail(why: str) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(
            f"{name} is a lambda srcgrad cannot read: {why}",
            filename=filename,
            lineno=fn.__code__.co_firstlineno,
            col=indent + 1,
            construct="lambda",
            hint="define the function with def",
        )

    module = None
    # the line as written, or an item of a call's arguments, a dict display or a list
    for candidate in (text, f"(\n{text}\n)", f"{{\n{text}\n}}", f"[\n{text}\n]"):
        try:
            module = cst.parse_module(candidate)
            break
        except cst.ParserSyntaxError:
            continue
    if module is None:
        raise fail("its line does not parse on its own")
    if module.code != text:  # wrapped in parentheses: one line more above
        first_line -= 1
    lambdas = [n for n in m.findall(module, m.Lambda()) if isinstance(n, cst.Lambda)]
    argnames = fn.__code__.co_varnames[
        : fn.__code__.co_argcount + fn.__code__.co_kwonlyargcount
    ]
    matching = [
        lam
        for lam in lambdas
        if tuple(
            p.name.value
            for p in [
                *lam.params.posonly_params,
                *lam.params.params,
                *lam.params.kwonly_params,
            ]
        )
        == tuple(argnames)
    ]
    if len(matching) > 1:  # several on one line ({"relu": lambda z: ..., ...})
        matching = _same_code(module, matching, fn.__code__)
    if len(matching) != 1:
        raise fail(f"its line holds {len(lambdas)} lambdas it cannot tell apart")
    lam = matching[0]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    tree = cst.FunctionDef(
        name=cst.Name("_lambda"),
        params=lam.params,
        body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Return(value=lam.body)])]),
    )
    src = FunctionSource(
        fn=fn,
        text=text,
        module=module,
        tree=tree,
        filename=filename,
        abs_filename=abs_filename,
        first_line=first_line,
        indent=indent,
        positions=positions,
    )
    src.alias(tree.body.body[0].body[0], lam.body)  # type: ignore[attr-defined]
    src.alias(tree.name, lam)
    src.alias(tree, lam)
    return src


def own_returns(node: cst.CSTNode) -> list[cst.Return]:
    """The ``return`` statements in ``node`` that return from the function it is in (or from
    ``node`` itself, a def): those of nested defs and lambdas return from those."""
    out: list[cst.Return] = []

    def visit(n: cst.CSTNode) -> None:
        if isinstance(n, cst.Return):
            out.append(n)
        elif (
            not isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) or n is node
        ):
            for c in n.children:
                visit(c)

    visit(node)
    return out


def _emitted_text(fn: Any) -> str | None:
    """The text of the emitted module ``fn`` belongs to (differentiated again), else None."""
    g = getattr(fn, "__globals__", None)
    return dict.get(g, "__srcgrad_text__") if isinstance(g, UserGlobals) else None
