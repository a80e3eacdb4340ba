"""Names a reader understands: the emitted module's temporaries and cotangents, renamed once
the passes are done.

After this step (run by :mod:`emit` on the module text before black):

- a temporary that normalisation made for one primitive of a line is named after the
  line's target and what it holds: ``_logp1 = xp.exp(shifted)`` in the line assigning
  ``logp`` becomes ``logp_exp``, ``_h1 = x @ W1`` becomes ``h_matmul`` (a second one of the
  same kind gets a number: ``h_add2``);
- another temporary (a flag, a loop index) is its hint: ``returned``, ``x_index``;
- a rule's own locals and gathered cotangents follow their statement's target
  (``shifted_max_hits``);
- the list a loop pushes its values to is ``stack_<name>`` (a residual field, which
  cannot start with an underscore, has the same name);
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
import keyword
import re
import sys
import tokenize
from collections import Counter
from typing import Any

import libcst as cst

from srcgrad import cache
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
        if not cand.isidentifier() or keyword.iskeyword(cand):
            return  # keep the old name
        keys[_squash(old)] -= 1
        base, k = cand, 1
        while cand in taken or keys[_squash(cand)] > 0:
            k += 1
            cand = f"{base}{k}"
        keys[_squash(cand)] += 1
        taken.add(cand)
        rename[old] = cand

    names = norm.names
    spans = _spans(norm.callees)
    flat = [st for st in ir.walk_stmts(norm.stmts) if isinstance(st, ir.Stmt)]
    for k, st in enumerate(flat):
        if len(st.targets) != 1:
            continue
        t = st.targets[0]
        found = _TEMP.fullmatch(t)
        if found is None or names.made.get(t) != "" or t in rename:
            continue
        item = _item_name(st) or _field_name(st, rename)
        if item:
            claim(t, item)
            continue
        word = _word(st)
        hint = found.group(1)
        if hint == "out":  # a callee's return: named after the caller's name for it
            hint = _caller_target(flat, k, names) or (
                f"{_callee_at(st.origin, spans)}_out".lstrip("_")
            )
        if word:
            claim(t, f"{hint}_{word}")
    for local, (target, what) in names.owners.items():
        t = rename.get(target, target).lstrip("_")
        if (
            target not in rename
            and not _TEMP.fullmatch(target)
            and target.startswith("_")
        ):
            continue  # a temporary without a hint (``_7``): its locals keep their names
        if not t[:1].isalpha():
            continue
        claim(local, _owned_name(t, what))
    for t, made in list(names.made.items()):  # flags, loop indices: their hint
        found = _TEMP.fullmatch(t)
        if made == "" and found is not None and t not in rename:
            claim(t, found.group(1))
    for globals_ in qualified_reads(norm, text).values():
        for g in globals_:  # the local that hides the global is renamed instead
            claim(g, f"{g}_local")
    for loop in ir.loops_in(norm.stmts):  # a residual field has no leading underscore
        base = loop.stack.lstrip("_")
        after = base.removeprefix("stack_")
        if "_" + after in rename:  # named after a temporary: after its new name
            base = "stack_" + rename["_" + after]
        claim(loop.stack, base)
    for name, adj in bwd.adjoints.items():
        new = rename.get(name, name)
        claim(adj, "d" + new if new.startswith("_") else "d_" + new)
    return rename


_OWNED = {
    "all": "{t}_cotangents",
    "seq": "{t}_cotangents_{part}",
    "steps": "{t}_steps",  # a loop's kept values (codegen/hoist.py)
    "dsteps": "d_{t}_steps",  # a loop's kept cotangents
    "every": "{t}_all",  # every step's value at once (hoisted before or after a loop)
    "devery": "d_{t}_all",
    "bystep": "{t}_by_step",  # every step's value stacked (codegen/step_batches.py)
    "factors": "{t}_factors",  # a step's part from forward values, every step at once
    "dfactors": "d_{t}_factors",
}


def _owned_name(t: str, what: str) -> str:
    """The name of a rule's local or a kept value of the statement assigning ``t``."""
    kind, _, part = what.partition(":")
    return _OWNED.get(kind, "{t}_{part}").format(t=t, part=part)


def identifiers(text: str) -> set[str]:
    """Every identifier token of ``text``."""
    return {
        tok.string
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type == tokenize.NAME
    }


def apply(
    text: str, rename: dict[str, str], bare: dict[str, set[str]] | None = None
) -> str:
    """``text`` with the identifiers in ``rename`` replaced (never an attribute name), and
    the reads ``alias.name`` of ``bare`` (:func:`qualified_reads`) written ``name``."""
    bare = bare or {}
    if not rename and not bare:
        return text
    lines = text.split("\n")
    edits: list[tuple[int, int, int, str]] = []
    toks = _tokens(text)
    for k, tok in enumerate(toks):
        if tok.type != tokenize.NAME:
            continue
        if k > 0 and toks[k - 1].string == ".":
            owner = toks[k - 2] if k > 1 else None
            if (
                owner is not None
                and tok.string in bare.get(owner.string, ())
                and owner.start[0] == tok.end[0]
                and not (k > 2 and toks[k - 3].string == ".")  # not a.alias.name
            ):
                edits.append((owner.start[0], owner.start[1], tok.end[1], tok.string))
        elif tok.string in rename:
            edits.append((tok.start[0], tok.start[1], tok.end[1], rename[tok.string]))
    for row, start, end, new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "\n".join(lines)


def reads_through(text: str, alias: str) -> bool:
    """Whether the code of ``text`` reads an attribute of the name ``alias``."""
    toks = _tokens(text)
    return any(
        a.type == tokenize.NAME and a.string == alias and b.string == "."
        for a, b in zip(toks, toks[1:])
    )


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    """The tokens of ``text`` that are code (no comments, no line breaks)."""
    skip = (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)
    return [
        t
        for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type not in skip
    ]


def qualified_reads(norm: ir.Normalized, text: str) -> dict[str, set[str]]:
    """The globals of the differentiated function's own module that ``text`` reads through
    that module (``__main__.scale``, because a local of an inlined function is also called
    ``scale``) and that a bare name reaches once that local is renamed: alias -> names.

    Emitted code reads a bare name from its own globals, then the function's closure cells,
    then the function's module (:class:`srcgrad.cache.UserGlobals`), so such a global is
    read bare unless a cell, a parameter or a generated name has its name."""
    fn = getattr(norm.src, "fn", None)
    mod = getattr(fn, "__module__", None)
    alias = norm.module_imports.get(mod or "")
    module = sys.modules.get(mod or "")
    if (
        fn is None
        or alias is None
        or getattr(module, "__dict__", None) is not fn.__globals__
    ):
        return {}
    cells = set(getattr(getattr(fn, "__code__", None), "co_freevars", ()))
    hidden = cells | set(norm.params) | set(norm.names.fixed.values())
    hidden |= set(norm.closure_reads) | set(norm.module_imports.values())
    hidden |= {"NamedTuple", "__builtins__", "__name__", "__file__"}
    hidden |= cache.EMITTED_BUILTINS  # emitted code calls the builtins by those names
    found: set[str] = set()
    toks = _tokens(text)
    for a, dot, name in zip(toks, toks[1:], toks[2:]):
        if (
            a.type == tokenize.NAME
            and a.string == alias
            and dot.string == "."
            and name.type == tokenize.NAME
            and name.string in fn.__globals__
            and name.string not in hidden
        ):
            found.add(name.string)
    return {alias: found} if found else {}


def _item_name(st: ir.Stmt) -> str | None:
    """``xs_t`` for a temporary holding ``xs[t]`` (a name indexed by a name or a small
    integer), else None."""
    e = st.expr
    if not (isinstance(e, cst.Subscript) and isinstance(e.value, cst.Name)):
        return None
    if st.rule is not None and st.rule.name != "getitem":
        return None  # a step of a hoisted product: named for the product
    if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
        return None
    index = e.slice[0].slice.value
    if isinstance(index, cst.Name):
        return f"{e.value.value}_{index.value}"
    if isinstance(index, cst.Integer) and len(index.value) <= 2:
        return f"{e.value.value}_{index.value}"
    return None


def _field_name(st: ir.Stmt, rename: dict[str, str]) -> str | None:
    """``model_fc1_weight`` for a temporary holding a field ``a.weight`` or a string item
    ``a["weight"]`` of a name ``a`` (``model_fc1``, as renamed), else None: the reader
    sees which parameter it holds rather than ``linear_out_read3``."""
    e = st.expr
    if isinstance(e, cst.Attribute) and isinstance(e.value, cst.Name):
        base, field = e.value.value, e.attr.value
    elif (
        isinstance(e, cst.Subscript)
        and isinstance(e.value, cst.Name)
        and len(e.slice) == 1
        and isinstance(e.slice[0].slice, cst.Index)
        and isinstance(e.slice[0].slice.value, cst.SimpleString)
    ):
        base = e.value.value
        field = e.slice[0].slice.value.evaluated_value
        if not isinstance(field, str) or not field.isidentifier():
            return None
    else:
        return None
    if field.startswith("_") or (st.rule is not None and st.rule.name == "getattr"):
        return None
    base = rename.get(base, base).lstrip("_")
    return f"{base}_{field}" if base[:1].isalpha() else None


def _spans(callees: list[Any]) -> list[tuple[str, int, int, str]]:
    """(file, first line, last line, name) of each inlined function."""
    out = []
    for fn in callees:
        code = getattr(fn, "__code__", None)
        if code is None:
            continue
        lines = [ln for _, _, ln in code.co_lines() if ln is not None]
        last = max(lines, default=code.co_firstlineno)
        file = cache.display_path(code.co_filename)
        out.append((file, code.co_firstlineno, last, callee_word(fn.__qualname__)))
    return out


def callee_word(qualname: str) -> str:
    """The word a callee's values are named after: its name, or for a special method of a
    class (a model's ``Dense.__call__``) the class's name in lower case (``dense``)."""
    parts = qualname.replace("<", "").replace(">", "").split(".")
    last = parts[-1]
    if last.startswith("__") and last.endswith("__") and len(parts) > 1:
        return parts[-2].lower()
    return last


def _is_out_temp(t: str, names: ir.Names) -> bool:
    found = _TEMP.fullmatch(t)
    return found is not None and found.group(1) == "out" and names.made.get(t) == ""


def _caller_target(flat: list[ir.Stmt], k: int, names: ir.Names) -> str | None:
    """The caller's name for the value that the callee's return line holding ``flat[k]``
    computes (``a`` for ``a = layer_norm(x, g, 0.0)``, whose temporaries are then
    ``a_sqrt``, ``a_divide`` rather than ``layer_norm_out_sqrt2``): following the first
    reader of each temporary along the same line, the name of the program that the line's
    last statement binds; else None."""
    origin = (flat[k].origin.file, flat[k].origin.line)
    cur = flat[k].targets[0]
    for st in flat[k + 1 : k + 64]:
        if st.kind == ir.EFFECT or st.expr is None:
            continue
        if cur not in {n.value for n in ir.name_nodes(st.expr)}:
            continue
        if (st.origin.file, st.origin.line) != origin or len(st.targets) != 1:
            return None
        t = st.targets[0]
        if _is_out_temp(t, names):
            cur = t
            continue
        user = names.made.get(t) != "" and _TEMP.fullmatch(t) is None
        return t.lstrip("_") if user and t[:1].isalpha() else None
    return None


def _callee_at(origin: Any, spans: list[tuple[str, int, int, str]]) -> str:
    """The name of the innermost inlined function whose lines hold ``origin`` ("" for the
    differentiated function's own lines)."""
    best = ""
    size = None
    for file, first, last, name in spans:
        if file == origin.file and first <= origin.line <= last:
            if (size is None or last - first < size) and name.isidentifier():
                best, size = name, last - first
    return best


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
