"""The generated/ cache (DESIGN §7).

A generated module lives at ``<cache>/<module>/<qualname>__wrt-<names>[__<mode>][__<spec8>].py``.
Its header holds a key over everything the text depends on (the function's source, the rules
it uses, ``CODEGEN_FORMAT``, black's version and mode) and a digest of the body.  A file is
read once, checked, and only then compiled and executed: no importlib, no ``.pyc``.  Writes
go to a temporary file in the same directory and are moved into place with ``os.replace``.
This module must not import libcst or black: a cache hit needs neither.
"""

from __future__ import annotations

import builtins
import hashlib
import inspect
import linecache
import os
import tempfile
import textwrap
import warnings
from pathlib import Path
from typing import Any, Callable

CODEGEN_FORMAT = 4
HEADER_LINES = 5
_warned_fallback = False
_rule_prints: dict[int, tuple[Any, str]] = {}  # id(adjoint) -> (adjoint, print)


def cache_enabled() -> bool:
    return os.environ.get("SRCGRAD_CACHE", "on").lower() not in ("off", "0", "false", "no")


def cache_dir() -> Path:
    """``$SRCGRAD_CACHE_DIR``, else ``./generated``; the user cache if that is not writable."""
    global _warned_fallback
    env = os.environ.get("SRCGRAD_CACHE_DIR")
    base = Path(env) if env else Path.cwd() / "generated"
    if _writable(base):
        return base
    fallback = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "srcgrad"
    if not _warned_fallback:
        _warned_fallback = True
        warnings.warn(
            f"srcgrad: {base} is not writable; caching generated code in {fallback}",
            stacklevel=3,
        )
    return fallback


def _writable(path: Path) -> bool:
    p = path
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return os.access(p, os.W_OK)


def module_dirname(fn: Callable[..., Any]) -> str:
    mod = getattr(fn, "__module__", None) or "unknown"
    if mod == "__main__":
        file = getattr(getattr(fn, "__code__", None), "co_filename", "main")
        mod = Path(file).stem or "main"
    return mod


def file_name(
    fn: Callable[..., Any], wrt: list[str], mode: str | None = None, spec: str | None = None
) -> str:
    qual = getattr(fn, "__qualname__", fn.__name__).replace("<locals>", "locals")
    if getattr(fn, "__name__", "") == "<lambda>":  # several lambdas share a qualname
        qual = qual.replace("<lambda>", f"lambda_L{fn.__code__.co_firstlineno}")
    qual = "".join(c if c.isalnum() or c in "._-" else "_" for c in qual)
    name = f"{qual}__wrt-{'-'.join(wrt)}"
    if mode:
        name += f"__{mode}"
    if spec:
        name += f"__{hashlib.sha256(spec.encode()).hexdigest()[:8]}"
    return name + ".py"


def cache_path(
    fn: Callable[..., Any], wrt: list[str], mode: str | None = None, spec: str | None = None
) -> Path:
    return cache_dir() / module_dirname(fn) / file_name(fn, wrt, mode, spec)


def function_source(fn: Callable[..., Any]) -> str:
    """The function's source text (no parsing: cheap enough for a cache hit)."""
    lines, _ = inspect.getsourcelines(fn)
    return textwrap.dedent("".join(lines))


def rule_fingerprint(name: str) -> str:
    """A hash of the source of the rule registered under ``name`` (memoised per function)."""
    from srcgrad.rules import registry

    rule = registry.lookup_name(name)
    if rule is None:
        return "missing"
    hit = _rule_prints.get(id(rule.adjoint))
    if hit is None or hit[0] is not rule.adjoint:  # the id of a freed function is reused
        text = inspect.getsource(rule.adjoint)
        hit = _rule_prints[id(rule.adjoint)] = (
            rule.adjoint,
            hashlib.sha256(text.encode()).hexdigest()[:16],
        )
    return hit[1]


def black_fingerprint() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("black")
    except PackageNotFoundError:  # pragma: no cover
        v = "none"
    return f"black={v};line_length=88;target=py311"


def compute_key(
    source: str, parts: dict[str, Any], rules: list[str], calls: list[str] | None = None
) -> str:
    h = hashlib.sha256()
    h.update(f"format={CODEGEN_FORMAT}\n{black_fingerprint()}\n".encode())
    for k in sorted(parts):
        h.update(f"{k}={parts[k]!r}\n".encode())
    h.update(source.encode())
    for r in rules:
        h.update(f"\nrule {r} {rule_fingerprint(r)}".encode())
    for c in calls or []:
        fn = resolve_ref(c)
        text = function_source(fn) if fn is not None else "missing"
        h.update(f"\ncall {c}\n{text}".encode())
    return h.hexdigest()[:32]


def resolve_ref(ref: str) -> Any:
    """The function named by ``module:qualname`` (as imported now), or None."""
    import sys

    mod_name, _, qual = ref.partition(":")
    obj: Any = sys.modules.get(mod_name)
    for part in qual.split("."):
        if obj is None or part == "<locals>":
            return None
        obj = getattr(obj, part, None)
    return (
        getattr(obj, "__wrapped__", obj)
        if obj is not None and not hasattr(obj, "__code__")
        else obj
    )


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def parse_header(text: str) -> tuple[str, list[str], str, str, list[str]] | None:
    """(key, rules, digest, body) of a cached file, or None when it is malformed."""
    head = text.split("\n", HEADER_LINES)
    if len(head) <= HEADER_LINES:
        return None
    key_line, rules_line, digest_line = head[2], head[3], head[4]
    if not (
        key_line.startswith("# key: ")
        and rules_line.startswith("# rules: ")
        and digest_line.startswith("# digest: ")
    ):
        return None
    rules_text = rules_line[len("# rules: ") :].strip()
    rules_text, _, calls_text = rules_text.partition("; calls: ")
    rules = [] if rules_text == "-" else [r.strip() for r in rules_text.split(",")]
    calls = [c.strip() for c in calls_text.split(",")] if calls_text else []
    return key_line[7:].strip(), rules, digest_line[10:].strip(), head[HEADER_LINES], calls


def read_valid(path: Path, source: str, parts: dict[str, Any]) -> str | None:
    """The file's text if its key and digest check out against the current inputs."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    parsed = parse_header(text)
    if parsed is None:
        return None
    key, rules, digest, body, calls = parsed
    if key != compute_key(source, parts, rules, calls):
        return None
    if digest != body_digest(body):
        return None
    return text


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class UserGlobals(dict):  # type: ignore[type-arg]
    """Globals of an emitted module: its own names first, then the user's closure cells and
    module globals, read at call time (never folded into the file)."""

    __slots__ = ("_fn_globals", "_cells")

    def __init__(self, fn: Callable[..., Any]) -> None:
        super().__init__()
        self._fn_globals = fn.__globals__
        code = fn.__code__
        self._cells = dict(zip(code.co_freevars, fn.__closure__ or ()))

    def __missing__(self, key: str) -> Any:
        cell = self._cells.get(key)
        if cell is not None:
            return cell.cell_contents
        return self._fn_globals[key]


def load_module(text: str, filename: str, fn: Callable[..., Any]) -> dict[str, Any]:
    """Compile and execute verified module text; register it with linecache."""
    ns = UserGlobals(fn)
    ns["__builtins__"] = builtins
    ns["__name__"] = f"srcgrad.generated.{Path(filename).stem}"
    ns["__file__"] = filename
    code = compile(text, filename, "exec", dont_inherit=True)
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(code, ns)
    return ns
