"""The shape of the srcgrad package itself: no import cycles between its modules (function-local
imports included: a cycle hidden inside a function is still a cycle), and the size limits of
the issue "Architecture: one concept per file, per-primitive facts on the rule, one pytree"
(modules up to ~900 lines, classes ~500, functions ~80; tables and argument parsers excepted).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "srcgrad"

MAX_MODULE_LINES = 900
MAX_CLASS_LINES = 500
MAX_FUNCTION_LINES = 80

# Functions allowed over MAX_FUNCTION_LINES because they are tables or argument parsers: one
# entry per line is what makes them readable, and splitting them would only scatter the table.
# Each entry: (module, qualified name of the function).
SIZE_EXEMPT_FUNCTIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never executed, so no
    import there can take part in a cycle)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _known(name: str, modules: Collection[str]) -> str | None:
    """The srcgrad module ``name`` refers to: itself, else its longest known prefix."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(
    name: str, is_package: bool, source: str, modules: Collection[str]
) -> set[str]:
    """The srcgrad modules that module ``name`` imports, anywhere in its body. ``from a import
    b`` counts as importing ``a.b`` when that is a module, else ``a``."""
    package = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] != PACKAGE.name:
                continue
            module = _known(target, modules)
            if module is not None and module != name:
                out.add(module)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _imports(
            name, path.name == "__init__.py", path.read_text(encoding="utf-8"), modules
        )
        for name, path in modules.items()
    }


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that ends where it starts) per strongly connected component that
    has one (Tarjan's algorithm, then a shortest cycle through the component's first node).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_through(c[0], set(c), graph) for c in components]


def _cycle_through(
    start: str, members: set[str], graph: dict[str, set[str]]
) -> list[str]:
    """A shortest path start -> ... -> start inside ``members`` (breadth first)."""
    parent: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    path = [v]
                    while (p := parent[path[-1]]) is not None:
                        path.append(p)
                    return [*reversed(path), start]
                if w not in parent:
                    parent[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(
        f"{start} is in a component but on no cycle"
    )  # pragma: no cover


def test_the_graph_sees_local_relative_and_submodule_imports():
    modules = {"srcgrad", "srcgrad.a", "srcgrad.pkg", "srcgrad.pkg.b", "srcgrad.pkg.c"}
    source = """
import os
from typing import TYPE_CHECKING
from srcgrad import a, version
from . import c
from .c import helper
if TYPE_CHECKING:
    from srcgrad.never import Seen
def f():
    import srcgrad.pkg.b.inner
"""
    found = _imports("srcgrad.pkg.b", False, source, modules)
    # a is a submodule, version an attribute of the package; the import inside f counts, the
    # TYPE_CHECKING one does not; srcgrad.pkg.b.inner is no module: its longest known prefix
    # is b itself (no self-edge)
    assert found == {"srcgrad.a", "srcgrad", "srcgrad.pkg.c"}
    assert _imports(
        "srcgrad.pkg", True, "from .b import x\nfrom .. import a", modules
    ) == {
        "srcgrad.pkg.b",
        "srcgrad.a",
    }
    graph = import_graph()
    assert "srcgrad.api" in graph["srcgrad"]
    assert "srcgrad.cli.gradcheck" in graph["srcgrad.cli.check"]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [
        ["a", "b", "c", "a"]
    ]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_srcgrad_modules():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles between srcgrad modules:\n" + "\n".join(
        "  " + " -> ".join(c) for c in cycles
    )


def _oversized() -> list[str]:
    found = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        n_lines = len(text.splitlines())
        if n_lines > MAX_MODULE_LINES:
            found.append(f"module {name}: {n_lines} lines")
        found.extend(_oversized_definitions(name, ast.parse(text)))
    return found


def _oversized_definitions(module: str, tree: ast.Module) -> Iterator[str]:
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                stack.append((child, prefix))
                continue
            qualname = f"{prefix}{child.name}"
            n_lines = (child.end_lineno or child.lineno) - child.lineno + 1
            if isinstance(child, ast.ClassDef):
                if n_lines > MAX_CLASS_LINES:
                    yield f"class {module}.{qualname}: {n_lines} lines"
            elif (
                n_lines > MAX_FUNCTION_LINES
                and (module, qualname) not in SIZE_EXEMPT_FUNCTIONS
            ):
                yield f"function {module}.{qualname}: {n_lines} lines"
            stack.append((child, f"{qualname}."))


def test_modules_classes_and_functions_within_the_size_limits():
    found = _oversized()
    assert not found, "over the size limits:\n" + "\n".join(
        "  " + f for f in sorted(found)
    )
