"""Names a reader understands: the emitted module's temporaries and cotangents, renamed once
the passes are done.

After this step (run by :mod:`emit` on the module text before black):

- a temporary that normalisation made for one primitive of a line is named after the
  line's target and what it holds: ``_logp1 = xp.exp(shifted)`` in the line assigning
  ``logp`` becomes ``logp_exp``, ``_h1 = x @ W1`` becomes ``h_matmul`` (a second one of the
  same kind gets a number: ``h_add2``);
- a rule's own locals and gathered cotangents follow their statement's target
  (``shifted_max_hits``);
- the cotangent of every name ``v`` is ``d_v``, exactly: ``d_h_matmul``, ``d_x_1`` for the
  SSA version ``x_1``;
- no two names of the module differ only by underscores (``d_output2`` and ``d_output_2``):
  a new name that would look like an existing one gets a number.

User names, SSA versions (``x_1``), parameters and the fixed generated names (``xp``,
``res``, ``d_out``) are never renamed.  Renaming only replaces whole identifiers that are not
attribute names, so it cannot change what the code computes.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from typing import Any

import libcst as cst

from srcgrad.codegen import ir

_TEMP = re.compile(r"_([A-Za-z][A-Za-z0-9_]*?)(\d+)$")


def readable_names(norm: ir.Normalized, bwd: ir.Backward, text: str) -> dict[str, str]:
    """The renaming (old name -> new name) of ``text``, the emitted module's code."""
    taken = identifiers(text)
    keys = Counter(_squash(n) for n in taken)
    rename: dict[str, str] = {}

    def claim(old: str, cand: str) -> None:
        if cand == old or old not in taken:
            return
        keys[_squash(old)] -= 1
        base, k = cand, 1
        while cand in taken or keys[_squash(cand)] > 0:
            k += 1
            cand = f"{base}{k}"
        keys[_squash(cand)] += 1
        taken.add(cand)
        rename[old] = cand

    names = norm.names
    for st in ir.walk_stmts(norm.stmts):
        if not isinstance(st, ir.Stmt) or len(st.targets) != 1:
            continue
        t = st.targets[0]
        found = _TEMP.fullmatch(t)
        if found is None or names.made.get(t) != "" or t in rename:
            continue
        word = _word(st)
        if word:
            claim(t, f"{found.group(1)}_{word}")
    for local, (target, what) in names.owners.items():
        t = rename.get(target, target).lstrip("_") or "value"
        kind, _, part = what.partition(":")
        if kind == "all":
            claim(local, f"{t}_cotangents")
        elif kind == "seq":
            claim(local, f"{t}_cotangents_{part}")
        else:
            claim(local, f"{t}_{part}")
    for name, adj in bwd.adjoints.items():
        new = rename.get(name, name)
        claim(adj, "d" + new if new.startswith("_") else "d_" + new)
    return rename


def identifiers(text: str) -> set[str]:
    """Every identifier token of ``text``."""
    return {
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.NAME
    }


def apply(text: str, rename: dict[str, str]) -> str:
    """``text`` with the identifiers in ``rename`` replaced (never an attribute name)."""
    if not rename:
        return text
    lines = text.split("\n")
    edits: list[tuple[int, int, int, str]] = []
    prev = None
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string in rename:
            if not (
                prev is not None and prev.type == tokenize.OP and prev.string == "."
            ):
                edits.append(
                    (tok.start[0], tok.start[1], tok.end[1], rename[tok.string])
                )
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            prev = tok
    for row, start, end, new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "\n".join(lines)


def _squash(name: str) -> str:
    return name.replace("_", "")


def _word(st: ir.Stmt) -> str | None:
    """What a temporary's statement computes, as a word: the rule's name (``matmul``,
    ``exp``), else the name of the function it calls, else its label."""
    word: Any = None
    if st.rule is not None:
        word = st.rule.name
    elif isinstance(st.expr, cst.Call):
        f = st.expr.func
        while isinstance(f, cst.Attribute):
            word = word or f.attr.value
            break
        if isinstance(f, cst.Name):
            word = f.value
    elif isinstance(st.expr, cst.Subscript):
        word = "item"
    if not word:
        word = st.label
    if not word:
        return None
    word = re.sub(r"\W+", "_", str(word).rsplit(".", 1)[-1]).strip("_")
    return word if word and word[0].isalpha() else None
