"""A lint for emitted gradient modules (DESIGN §10.3)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

_COMMENT = re.compile(r"^\s*# (?P<file>.+?):(?P<line>\d+): (?P<text>.*)$")


def lint_emitted(text: str) -> list[str]:
    """Problems in one emitted module: any `np.`, any `+=`, and backward statements that do
    not sit under a `# file:line: statement` comment matching the user's source line."""
    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if re.search(r"\bnp\.", code):
            problems.append(f"line {i}: names np: {line.strip()}")
        if "+=" in code:
            problems.append(f"line {i}: augmented assignment: {line.strip()}")
    tree = ast.parse(text)
    lines = text.splitlines()
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("bwd_")):
            continue
        current = None
        stmts = node.body
        for st in stmts:
            # comments between the previous statement and this one
            for ln in range(st.lineno - 2, -1, -1):
                m = _COMMENT.match(lines[ln])
                if m:
                    current = m
                    break
                if lines[ln].strip() and not lines[ln].strip().startswith("#"):
                    break
            is_scaffold = (
                isinstance(st, ast.Expr)
                or isinstance(st, ast.Return)
                or (isinstance(st, ast.Assign) and ast.unparse(st.value) in ("res",))
                or (isinstance(st, ast.Assign) and "namespace(" in ast.unparse(st.value))
            )
            if is_scaffold:
                continue
            if current is None:
                problems.append(f"line {st.lineno}: backward statement without a file:line comment")
                continue
            src = Path(current["file"])
            if not src.exists():
                problems.append(f"line {st.lineno}: comment names a missing file {src}")
                continue
            user_line = src.read_text().splitlines()[int(current["line"]) - 1].strip()
            want = current["text"].removesuffix(" ...")
            if not user_line.startswith(want):
                problems.append(
                    f"line {st.lineno}: comment says {want!r} but line {current['line']} "
                    f"is {user_line!r}"
                )
    return problems
