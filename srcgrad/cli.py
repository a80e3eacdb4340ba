"""The ``srcgrad`` command line (DESIGN §2): exit codes 0 clean, 1 findings, 2 usage,
123 internal error."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any


def _load_module(path: Path) -> Any:
    name = path.stem
    sys.path.insert(0, str(path.parent.resolve()))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _targets(spec: str) -> list[tuple[Any, Any]]:
    """``FILE`` or ``FILE::func`` -> [(function or GradFunction, owning module)]."""
    from srcgrad.api import GradFunction

    file, _, func = spec.partition("::")
    mod = _load_module(Path(file))
    if func:
        obj = mod
        for part in func.split("."):
            obj = getattr(obj, part)
        return [(obj, mod)]
    return [(v, mod) for v in vars(mod).values() if isinstance(v, GradFunction)]


def _as_grad(obj: Any, wrt: str | None) -> Any:
    import srcgrad
    from srcgrad.api import GradFunction

    if isinstance(obj, GradFunction) and wrt is None:
        return obj
    fn = obj.forward if isinstance(obj, GradFunction) else obj
    w: Any = 0
    if wrt:
        items = [int(x) if x.lstrip("-").isdigit() else x for x in wrt.split(",")]
        w = items[0] if len(items) == 1 else tuple(items)
    return srcgrad.grad(fn, wrt=w)


def cmd_gen(ns: argparse.Namespace) -> int:
    from srcgrad.errors import SrcgradError

    status = 0
    for spec in ns.targets:
        try:
            found = _targets(spec)
        except (OSError, AttributeError, ImportError) as exc:
            print(f"error: cannot load {spec}: {exc}", file=sys.stderr)
            return 2
        for obj, _ in found:
            df = _as_grad(obj, ns.wrt)
            try:
                source = df.source
            except SrcgradError as err:
                print(str(err), file=sys.stderr)
                status = 1
                continue
            if ns.show:
                print(source)
            else:
                print(f"generated {df.path}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="srcgrad",
        description="Generate readable reverse-mode gradient modules from numpy source.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("gen", help="generate gradients for FILE or FILE::func")
    gen.add_argument("targets", nargs="+", help="FILE (its @srcgrad.grad functions) or FILE::func")
    gen.add_argument("--wrt", default=None, help="comma-separated parameter names or positions")
    gen.add_argument("--show", action="store_true", help="print the emitted module")
    gen.set_defaults(func=cmd_gen)
    show = sub.add_parser("show", help="print the emitted gradient of FILE::func")
    show.add_argument("targets", nargs="+")
    show.add_argument("--wrt", default=None)
    show.set_defaults(func=cmd_gen, show=True)
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        return int(ns.func(ns))
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except Exception as exc:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print(f"srcgrad: internal error: {exc}", file=sys.stderr)
        return 123


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
