#!/usr/bin/env python
"""Count the numpy primitives srcgrad differentiates, and HIPS autograd's the same way.

A registered primitive counts when it is (by identity) a public callable of ``numpy``,
``numpy.linalg`` or ``numpy.fft``; see ``srcgrad/rules/_coverage.py``.  Prints both counts,
what autograd covers that srcgrad does not (the target is none), and with ``--extra`` what
srcgrad covers beyond autograd.  ``--json`` prints the same as JSON.  Exits with status 1 when
autograd covers something srcgrad does not.

Usage: python tools/count_primitives.py [--extra] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from srcgrad.rules._coverage import compare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--extra", action="store_true", help="list what only srcgrad covers"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    cmp = compare()
    prefixes = ("np", "np.linalg", "np.fft")
    report = {
        "srcgrad": {p: cmp.srcgrad.count(p) for p in prefixes}
        | {"total": cmp.srcgrad.count()},
        "srcgrad_nondifferentiable": cmp.nondiff.count(),
        "srcgrad_other_primitives": cmp.srcgrad.other,
        "autograd": (
            None
            if cmp.autograd is None
            else {p: cmp.autograd.count(p) for p in prefixes}
            | {"total": cmp.autograd.count()}
        ),
        "autograd_only": cmp.missing,
        "srcgrad_only": cmp.extra,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        s = report["srcgrad"]
        print(
            f"srcgrad:  {s['total']} numpy primitives with a rule "
            f"({s['np']} numpy, {s['np.linalg']} numpy.linalg, {s['np.fft']} numpy.fft); "
            f"{report['srcgrad_nondifferentiable']} declared non-differentiable; "
            f"{len(cmp.srcgrad.other)} other primitives ({', '.join(cmp.srcgrad.other)})"
        )
        a = report["autograd"]
        if a is None:
            print("autograd: not installed")
        else:
            print(
                f"autograd: {a['total']} numpy primitives with a VJP "
                f"({a['np']} numpy, {a['np.linalg']} numpy.linalg, {a['np.fft']} numpy.fft)"
            )
            missing = report["autograd_only"]
            print(
                f"covered by autograd, not by srcgrad: {', '.join(missing) if missing else 'none'}"
            )
        if args.extra:
            print(f"covered by srcgrad only ({len(cmp.extra)}): {', '.join(cmp.extra)}")
    return 1 if cmp.missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
