"""The ``SRCGRAD_LINES`` table of an emitted module, written compactly and read back.

The table maps each emitted line to ``(user file, user line, rule)`` (DESIGN §3).  Written one
entry per emitted line it took about a third of a file, so the module holds it as runs: one
string per user file, a ``;``-separated list of runs ``<first emitted line>:<user line>
<rule> <rule>*<n> ...``, where the rules name the emitted lines from the first one on, in
order, and ``rule*n`` stands for ``n`` lines of that rule.  For example
``"44:14 matmul add maximum; 120:16 max*7"`` maps lines 44, 45 and 46 to line 14 (rules
matmul, add and maximum) and lines 120 to 126 to line 16 (max).  A rule name with other
characters than letters, digits, ``_ . < >`` is written %-quoted.

:func:`encode` writes the table's text (the emitter calls it), :func:`decode` reads a module's
table back into the per-line dict every reader uses (debug_nans, ``df.check``, traceback
notes, the residual report).  Only the standard library: a cache hit imports this.
"""

from __future__ import annotations

from itertools import groupby
from urllib.parse import quote, unquote

Origin = tuple[str, int, str]

NAME = "SRCGRAD_LINES"
_WIDTH = 77  # a literal's longest piece: 88 columns less indent, quotes and a space
_SAFE = "_.<>"


def runs(lines: dict[int, Origin]) -> dict[str, list[str]]:
    """The runs of each user file, in emitted order (see the module docstring)."""
    out: dict[str, list[str]] = {}
    items = sorted(lines.items())
    i = 0
    while i < len(items):
        start, (file, line, _rule) = items[i]
        j = i
        while (
            j + 1 < len(items)
            and items[j + 1][0] == items[j][0] + 1
            and items[j + 1][1][:2] == (file, line)
        ):
            j += 1
        rules = [quote(o[2], safe=_SAFE) for _, o in items[i : j + 1]]
        words = []
        for rule, same in groupby(rules):
            n = len(list(same))
            words.append(rule if n == 1 else f"{rule}*{n}")
        out.setdefault(file, []).append(f"{start}:{line} {' '.join(words)}")
        i = j + 1
    return out


def encode(lines: dict[int, Origin]) -> str:
    """The table as module text (already in black's style: no line over 88 columns)."""
    body = []
    for file, file_runs in runs(lines).items():
        key = quote_str(file)
        text = "; ".join(file_runs)  # on one line when it fits
        if 4 + len(key) + 2 + len(quote_str(text)) + 1 <= 88:
            body.append(f"    {key}: {quote_str(text)},")
            continue
        # implicitly joined literals, broken after a run's ";" (inside a run only when
        # it is longer than a line); each piece keeps the space that follows it
        pieces, cur = [], ""
        for k, run in enumerate(file_runs):
            words = (run + (";" if k < len(file_runs) - 1 else "")).split(" ")
            if cur and len(cur) + 1 + len(run) + 1 > _WIDTH:
                pieces.append(cur + " ")
                cur = ""
            for word in words:
                if cur and len(cur) + 1 + len(word) > _WIDTH:
                    pieces.append(cur + " ")
                    cur = word
                else:
                    cur = f"{cur} {word}" if cur else word
        pieces.append(cur)
        body.append(f"    {key}: (")
        body += [f"        {quote_str(piece)}" for piece in pieces]
        body.append("    ),")
    comment = "# emitted line -> user line and rule, as runs (srcgrad/linetable.py)"
    return f"{NAME} = {{  {comment}\n" + "".join(b + "\n" for b in body) + "}\n"


def quote_str(text: str) -> str:
    """``text`` as a double-quoted Python literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decode(table: object) -> dict[int, Origin]:
    """The per-line dict of a module's ``SRCGRAD_LINES`` value (empty when it has none or it
    is malformed: the table only ever informs messages)."""
    out: dict[int, Origin] = {}
    if not isinstance(table, dict):
        return out
    for file, text in table.items():
        if not isinstance(text, str):
            continue
        for run in text.split(";"):
            head, _, rest = run.strip().partition(" ")
            first, _, line = head.partition(":")
            if not (first.isdigit() and line.isdigit()):
                continue
            ln = int(first)
            for word in rest.split():
                rule, _, count = word.partition("*")
                for _ in range(int(count) if count.isdigit() else 1):
                    out[ln] = (file, int(line), unquote(rule))
                    ln += 1
    return out
