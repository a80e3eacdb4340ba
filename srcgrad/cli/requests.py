"""What a script asks to differentiate, read from its syntax tree without running it: the
functions it decorates with ``@srcgrad.grad`` / ``value_and_grad`` / ``vjp``, and the calls
``grad(f, wrt=..., has_aux=...)`` (or ``grad(wrt=...)(f)``) anywhere in it, at module level,
under ``if __name__ == "__main__":`` or inside functions.

A call is a request when ``f`` names a module-level function of the file and ``wrt`` and
``has_aux`` are literals; any other call (a lambda, an attribute, a variable, a function
defined inside another) is an :class:`Unnamed` one, reported with how to name it instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from srcgrad.cli.output import display

TRANSFORMS = {"grad", "value_and_grad", "vjp", "elementwise_grad"}
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True)
class Request:
    """``transform(name, wrt=wrt, has_aux=has_aux)`` found at ``line``:``col``; ``wrt`` is
    None where the call leaves it to its default."""

    name: str
    wrt: Any
    has_aux: bool
    line: int
    col: int
    example: str | None = None  # example=<name>: the function that builds arguments


@dataclass(frozen=True)
class Unnamed:
    """A call whose function (or ``wrt``/``has_aux``) cannot be read statically."""

    line: int
    col: int
    transform: str
    what: str  # "a lambda", "the attribute `model.loss`", ...
    hint: str

    def diagnostic(self, path: Path) -> str:
        return (
            f"{display(path)}:{self.line}:{self.col}: warning: srcgrad.{self.transform} of "
            f"{self.what} cannot be generated ahead of time; hint: {self.hint}"
        )


@dataclass
class Requests:
    """Everything a file asks to differentiate."""

    functions: list[str]  # the module-level functions, in the order they are defined
    decorated: list[str] = field(default_factory=list)  # module-level, decorated
    calls: list[Request] = field(default_factory=list)
    unnamed: list[Unnamed] = field(default_factory=list)
    nested_decorated: bool = False  # a decorated function that is not at module level

    @property
    def differentiates(self) -> bool:
        return bool(
            self.decorated or self.calls or self.unnamed or self.nested_decorated
        )

    def names(self) -> list[str]:
        """The module-level functions the file differentiates, in definition order."""
        asked = set(self.decorated) | {r.name for r in self.calls}
        return [n for n in self.functions if n in asked]


def read_requests(path: Path) -> Requests | None:
    """The requests of the file at ``path``, or None when it does not parse."""
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    finder = _Finder(tree, source.splitlines())
    finder.visit(tree)
    return finder.found


def _transform_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """(names bound to a transform by ``from srcgrad import grad as g``: {"g": "grad"},
    names bound to the srcgrad package or one of its modules by ``import``)."""
    names: dict[str, str] = {}
    modules = {"srcgrad"}
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.ImportFrom)
            and (n.module or "").split(".")[0] == "srcgrad"
        ):
            for a in n.names:
                if a.name in TRANSFORMS:
                    names[a.asname or a.name] = a.name
                elif a.name == "api":
                    modules.add(a.asname or a.name)
        elif isinstance(n, ast.Import):
            for a in n.names:
                if a.name.split(".")[0] == "srcgrad":
                    modules.add(a.asname or a.name.split(".")[0])
    return names, modules


def _bound_names(node: ast.AST) -> set[str]:
    """The names a function (or lambda, class body, comprehension) binds in its own scope,
    less those it declares ``global``."""
    bound: set[str] = set()
    declared_global: set[str] = set()
    if isinstance(node, _FUNCTIONS):
        a = node.args
        params = a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]
        bound |= {p.arg for p in params if p is not None}
    if isinstance(node, _COMPREHENSIONS):
        roots: list[ast.AST] = [g.target for g in node.generators]
    elif isinstance(node, ast.Lambda):
        roots = []
    else:
        roots = list(node.body)  # type: ignore[attr-defined]
    stack = roots
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            bound.add(n.id)
        elif isinstance(n, (*_FUNCTIONS[:2], ast.ClassDef)):
            bound.add(n.name)
            continue  # its body is its own scope
        elif isinstance(n, (ast.Lambda, *_COMPREHENSIONS)):
            continue
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            declared_global |= set(n.names)
        stack.extend(ast.iter_child_nodes(n))
    return bound - declared_global


class _Finder(ast.NodeVisitor):
    """Walks a module, keeping the scopes a name could be bound in, and collects requests."""

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.lines = lines
        self.aliases, self.modules = _transform_names(tree)
        defs = [n for n in tree.body if isinstance(n, _FUNCTIONS[:2])]
        self.found = Requests(functions=list(dict.fromkeys(n.name for n in defs)))
        self.scopes: list[tuple[ast.AST, set[str]]] = []  # innermost last
        # names bound by imports (``models.loss`` names another module's function)
        self.imported = {
            (a.asname or a.name).split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        # module-level names bound to a gradient (``d = srcgrad.grad(f)``): a transform of
        # one is a higher order, found from the module's variables (srcgrad.higher)
        self.gradients = {
            t.id
            for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            for t in n.targets
            if isinstance(t, ast.Name)
            and (
                self.transform(n.value.func) is not None
                or (
                    isinstance(n.value.func, ast.Call)
                    and self.transform(n.value.func.func) is not None
                )
            )
        }

    # -- what a node is ----------------------------------------------------------------
    def transform(self, node: ast.expr) -> str | None:
        """ "grad" / "value_and_grad" / "vjp" where ``node`` names a srcgrad transform."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute) and node.attr in TRANSFORMS:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in self.modules:
                return node.attr
        return None

    def local(self, name: str) -> bool:
        """Is ``name`` bound by a scope enclosing the current node (not the module)?"""
        for i, (node, bound) in enumerate(self.scopes):
            visible = not isinstance(node, ast.ClassDef) or i == len(self.scopes) - 1
            if visible and name in bound:
                return True
        return False

    def col(self, node: ast.AST) -> int:
        """The 1-based column (in characters) of ``node``."""
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        return (
            len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace")) + 1
        )

    # -- scopes --------------------------------------------------------------------------
    def scoped(self, node: ast.AST) -> None:
        self.scopes.append((node, _bound_names(node)))
        self.generic_visit(node)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for d in node.decorator_list:
            if self.transform(d.func if isinstance(d, ast.Call) else d) is not None:
                if self.scopes:
                    self.found.nested_decorated = True
                else:
                    self.found.decorated.append(node.name)
        for d in node.decorator_list:
            self.visit(d)  # a decorator's arguments are in the enclosing scope
        for default in node.args.defaults + node.args.kw_defaults:
            if default is not None:
                self.visit(default)
        self.scopes.append((node, _bound_names(node)))
        for st in node.body:
            self.visit(st)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815
    visit_Lambda = visit_ClassDef = scoped  # noqa: N815
    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = (
        scoped  # noqa: N815
    )

    # -- calls ---------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        kind = self.transform(node.func)
        if kind is not None:
            fn = _fn_argument(node)
            if fn is not None:
                self.request(kind, fn, node)
        elif isinstance(node.func, ast.Call):  # grad(wrt=...)(f)
            kind = self.transform(node.func.func)
            if kind is not None and _fn_argument(node.func) is None and node.args:
                self.request(kind, node.args[0], node.func)

    def request(self, kind: str, fn: ast.expr, call: ast.Call) -> None:
        """Record ``kind(fn, ...)`` (the options read from ``call``)."""
        if (
            isinstance(fn, ast.Name)
            and fn.id in self.gradients
            and not self.local(fn.id)
        ):
            return  # a higher order: generated from the variable it is bound to
        line, col = fn.lineno, self.col(fn)
        what, hint = self.unnamed(fn)
        options = None
        if what is None:
            assert isinstance(fn, ast.Name)
            options = _literal_options(call)
            if options is None:
                what = f"`{fn.id}` with a wrt= or has_aux= that is not a literal"
                hint = (
                    "write them as literals, or generate it with "
                    f"srcgrad gen FILE::{fn.id} --wrt ..."
                )
        if what is not None:
            self.found.unnamed.append(Unnamed(line, col, kind, what, hint))
            return
        assert isinstance(fn, ast.Name) and options is not None
        example = next((k.value for k in call.keywords if k.arg == "example"), None)
        self.found.calls.append(
            Request(
                fn.id,
                *options,
                line,
                col,
                example.id if isinstance(example, ast.Name) else None,
            )
        )

    def unnamed(self, fn: ast.expr) -> tuple[str | None, str]:
        """(what ``fn`` is, how to name it) where it is not a module-level function of
        this file; (None, "") where it is."""
        name_it = (
            "define it with def at module level and pass it by name, or generate it "
        )
        if isinstance(fn, ast.Lambda):
            return "a lambda", name_it + "with srcgrad gen FILE::func"
        if isinstance(fn, ast.Name):
            if fn.id in self.found.functions and not self.local(fn.id):
                return None, ""
            if self.local(fn.id):
                return (
                    f"the local name `{fn.id}`",
                    name_it + f"with srcgrad gen FILE::{fn.id}",
                )
            return (
                f"the name `{fn.id}` (not a function defined at module level in this file)",
                f"generate the function it names with srcgrad gen FILE::{fn.id} (FILE "
                "being the file that defines it)",
            )
        text = ast.unparse(fn)
        if isinstance(fn, ast.Attribute) and not (
            isinstance(fn.value, ast.Name)
            and fn.value.id in self.imported
            and not self.local(fn.value.id)
        ):  # a method of an object: generated when first called
            return (
                f"the method `{text}` of an object",
                "it is generated when first called; to generate it ahead of time, call "
                "it from a function defined at module level (def "
                f"{fn.attr}_of(...): return {text}(...)) and generate that with srcgrad "
                f"gen FILE::{fn.attr}_of",
            )
        if isinstance(fn, ast.Attribute):
            return (
                f"the attribute `{text}`",
                f"generate it with srcgrad gen FILE::{fn.attr}, FILE being the file that "
                "defines it",
            )
        return f"`{text}`", name_it + "with srcgrad gen FILE::func"


def _fn_argument(call: ast.Call) -> ast.expr | None:
    """The function a transform call differentiates: its first argument, or ``fn=``."""
    if call.args and not isinstance(call.args[0], ast.Starred):
        first = call.args[0]
        return (
            None if isinstance(first, ast.Constant) and first.value is None else first
        )
    return next((k.value for k in call.keywords if k.arg == "fn"), None)


def _literal_options(call: ast.Call) -> tuple[Any, bool] | None:
    """(wrt, has_aux) of a transform call when both are literals (wrt None where it is left
    to its default), else None."""
    wrt_node = next((k.value for k in call.keywords if k.arg == "wrt"), None)
    if wrt_node is None and len(call.args) > 1:
        wrt_node = call.args[1]
    aux_node = next((k.value for k in call.keywords if k.arg == "has_aux"), None)
    if any(k.arg is None for k in call.keywords) or any(
        isinstance(a, ast.Starred) for a in call.args
    ):
        return None
    try:
        wrt = None if wrt_node is None else ast.literal_eval(wrt_node)
        has_aux = False if aux_node is None else ast.literal_eval(aux_node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(wrt, list):
        wrt = tuple(wrt)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    if wrt is not None and not all(
        isinstance(w, (int, str)) and not isinstance(w, bool) for w in items
    ):
        return None
    if not isinstance(has_aux, bool):
        return None
    return wrt, has_aux
