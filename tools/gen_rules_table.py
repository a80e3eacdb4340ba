#!/usr/bin/env python
"""Regenerate the "Covered primitives" section of README.md from the rule registry.

The section lies between the markers ``<!-- rules:start -->`` and ``<!-- rules:end -->``
(appended to the end of README.md when absent); nothing outside them is touched.  It lists
every primitive with a rule, grouped by the module its rule lives in, the restricted test
domains, the functions declared non-differentiable, and the comparison with HIPS autograd
(counted as ``tools/count_primitives.py`` does, when autograd is installed).

Usage: python tools/gen_rules_table.py [--check]   (--check: exit 1 if README.md is stale)
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from srcgrad.rules._coverage import compare
from srcgrad.rules.registry import describe

START = "<!-- rules:start -->"
END = "<!-- rules:end -->"

_GROUPS = {
    "elementwise": "Elementwise",
    "binary": "Binary and ternary elementwise",
    "special": "Special elementwise (complex parts, sinc, fmax, ...)",
    "reductions": "Reductions",
    "statistics": "NaN-aware reductions, averages and order statistics",
    "scans": "Scans, differences and integrals",
    "grids": "Ranges, grids and interpolation",
    "broadcasting": "Broadcasting",
    "shape": "Shape",
    "indexing": "Subscripts, gathers, diagonals, sorting",
    "containers": "Python containers",
    "products": "Products",
    "linalg": "numpy.linalg",
    "fft": "numpy.fft",
    "scipy_special": "scipy.special (when scipy is installed)",
    "scipy_linalg": "scipy.linalg (when scipy is installed)",
    "scipy_spatial": "scipy.spatial.distance (when scipy is installed)",
    "stats": "scipy.stats distributions (when scipy is installed)",
}


def _spell(name: str, module: str) -> str:
    """How a user writes the primitive: ``np.linalg.inv``, ``scipy.special.logsumexp``, ..."""
    if module.endswith(("scipy_special", ".stats")):
        # scipy's own functions are registered as special.<f> / stats.<f>; the rest of
        # the family (digamma, trigamma, polygamma_of) are srcgrad's runtime functions
        return f"`scipy.{name}`" if name.startswith(("special.", "stats.")) else f"`{name}`"
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return f"`np.{name}`" if obj is not None else f"`{name}`"


def section() -> str:
    """The generated Markdown between the markers (markers excluded)."""
    rows = describe()
    by_module: dict[str, list] = defaultdict(list)
    for row in rows:
        by_module[row.module.rsplit(".", 1)[-1]].append(row)
    lines = [
        "## Covered primitives",
        "",
        "Generated from the rule registry by `tools/gen_rules_table.py`; do not edit by hand.",
        f"{len(rows)} primitives have an adjoint rule. Every rule is tested against central",
        "differences in float64 over the shapes and parameter grid it declares (with",
        "non-contiguous inputs, in float32 and on a fake device), and inlined into emitted code.",
        "`srcgrad rules` prints the same list with each rule's module and test domains.",
        "",
    ]
    cmp = compare()
    s = cmp.srcgrad
    lines.append(
        f"Counted by `tools/count_primitives.py` (public callables of `numpy`, `numpy.linalg` and"
        f" `numpy.fft`): srcgrad {s.count()} ({s.count('np')} + {s.count('np.linalg')} linalg +"
        f" {s.count('np.fft')} fft)"
        + (
            ""
            if cmp.autograd is None
            else f", HIPS autograd {cmp.autograd.count()} ({cmp.autograd.count('np')} +"
            f" {cmp.autograd.count('np.linalg')} linalg + {cmp.autograd.count('np.fft')} fft);"
            f" covered by autograd but not by srcgrad: {', '.join(cmp.missing) or 'none'}"
        )
        + "."
    )
    lines.append("")
    order = list(_GROUPS) + sorted(set(by_module) - set(_GROUPS))
    for key in order:
        group = by_module.get(key)
        if not group:
            continue
        title = _GROUPS.get(key, key)
        names = ", ".join(_spell(r.primitive, r.module) for r in group)
        lines.append(f"- **{title}** ({len(group)}): {names}")
    restricted = [r for r in rows if r.domains != "(-2, 2)"]
    lines += [
        "",
        "<details><summary>Test domains other than the default (-2, 2)</summary>",
        "",
        "| primitive | domain |",
        "|---|---|",
    ]
    lines += [
        f"| `{r.primitive}` | {r.domains.replace('|', '/')} |" for r in restricted
    ]
    lines += ["", "</details>", ""]
    nondiff = [
        r.primitive
        for r in describe(include_nondiff=True)
        if r.module == "non-differentiable"
    ]
    lines.append(
        f"Declared non-differentiable ({len(nondiff)}; using one is never an error and never a"
        " silent zero for a differentiable value): "
        + ", ".join(f"`{n}`" for n in nondiff)
        + "."
    )
    return "\n".join(lines)


def render(readme: str) -> str:
    """``readme`` with the section between the markers replaced (markers added if absent)."""
    body = f"{START}\n{section()}\n{END}"
    if START in readme and END in readme:
        head, rest = readme.split(START, 1)
        _, tail = rest.split(END, 1)
        return head + body + tail
    return readme.rstrip("\n") + "\n\n" + body + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if README.md is stale"
    )
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args(argv)
    path = Path(args.readme)
    old = path.read_text()
    new = render(old)
    if args.check:
        if new != old:
            print(
                f"{path} is stale: run python tools/gen_rules_table.py", file=sys.stderr
            )
            return 1
        return 0
    if new != old:
        path.write_text(new)
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
