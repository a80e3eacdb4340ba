"""Coverage of numpy's public callables by srcgrad's rules, and by HIPS autograd's VJPs.

Both sides are counted the same way: a registered primitive counts when it *is* (by identity)
a public callable of ``numpy``, ``numpy.linalg`` or ``numpy.fft``.  For autograd the
registered primitives are the keys of ``autograd.core.primitive_vjps``; each wraps the numpy
function it differentiates (``primitive.fun``).  Autograd's internal helpers
(``concatenate_args``, ``untake``, ...) are no numpy callables and are not counted.

``tools/count_primitives.py`` prints the report.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from srcgrad.rules import registry

__all__ = [
    "Comparison",
    "Coverage",
    "autograd_coverage",
    "compare",
    "numpy_public_callables",
    "srcgrad_coverage",
    "srcgrad_nondiff",
]

_MODULES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft))


def numpy_public_callables() -> dict[int, str]:
    """``id(callable) -> name`` for the public callables of numpy, numpy.linalg, numpy.fft.

    An object reachable under several names (``np.abs`` is ``np.absolute``) gets its own
    ``__name__`` when that is one of them, else the alphabetically first.  Submodules,
    exception classes and the ``test`` runners are left out; scalar types (``np.float32``)
    are callables and count.
    """
    names: dict[int, list[str]] = {}
    objects: dict[int, Any] = {}
    for prefix, module in _MODULES:
        for attr in dir(module):
            if attr.startswith("_") or attr == "test":
                continue
            try:
                obj = getattr(module, attr)
            except AttributeError:
                continue
            if not callable(obj) or isinstance(obj, type(np)):
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            names.setdefault(id(obj), []).append(f"{prefix}.{attr}")
            objects[id(obj)] = obj
    out = {}
    for key, found in names.items():
        own = getattr(objects[key], "__name__", None)
        preferred = [n for n in found if n.rsplit(".", 1)[-1] == own]
        out[key] = min(preferred or found)
    return out


@dataclass
class Coverage:
    """Which numpy public callables a registry covers."""

    covered: dict[int, str] = field(default_factory=dict)  # id -> name
    other: list[str] = field(
        default_factory=list
    )  # registered, but not a numpy callable

    @property
    def names(self) -> set[str]:
        return set(self.covered.values())

    def count(self, prefix: str | None = None) -> int:
        """How many are covered, optionally only under ``np``, ``np.linalg`` or ``np.fft``."""
        if prefix is None:
            return len(self.covered)
        return sum(1 for n in self.covered.values() if n.rsplit(".", 1)[0] == prefix)


def _cover(objects: Iterable[Any], labels: Iterable[str]) -> Coverage:
    public = numpy_public_callables()
    cov = Coverage()
    for obj, label in zip(objects, labels):
        if id(obj) in public:
            cov.covered[id(obj)] = public[id(obj)]
        else:
            cov.other.append(label)
    cov.other.sort()
    return cov


def srcgrad_coverage() -> Coverage:
    """The numpy public callables that have a registered srcgrad rule."""
    rules = registry.all_rules()
    return _cover([r.primitive for r in rules], [r.name for r in rules])


def srcgrad_nondiff() -> Coverage:
    """The numpy public callables declared non-differentiable."""
    public = numpy_public_callables()
    cov = Coverage()
    for key, name in registry.NONDIFF.items():
        if key in public:
            cov.covered[key] = public[key]
        else:
            cov.other.append(name)
    return cov


def autograd_coverage() -> Coverage | None:
    """The numpy public callables with a VJP in HIPS autograd, or ``None`` without autograd."""
    try:
        for module in ("autograd.numpy", "autograd.numpy.linalg", "autograd.numpy.fft"):
            importlib.import_module(module)  # importing registers the VJPs
        from autograd.core import primitive_vjps
    except ImportError:
        return None
    prims = list(primitive_vjps)
    funs = [getattr(p, "fun", p) for p in prims]
    labels = [
        f"{getattr(f, '__module__', '?')}.{getattr(f, '__name__', repr(f))}"
        for f in funs
    ]
    return _cover(funs, labels)


@dataclass
class Comparison:
    """srcgrad against autograd, counted the same way."""

    srcgrad: Coverage
    autograd: Coverage | None
    nondiff: Coverage

    @property
    def missing(self) -> list[str]:
        """What autograd covers and srcgrad does not (the target is none)."""
        if self.autograd is None:
            return []
        return sorted(self.autograd.names - self.srcgrad.names)

    @property
    def extra(self) -> list[str]:
        """What srcgrad covers and autograd does not."""
        if self.autograd is None:
            return sorted(self.srcgrad.names)
        return sorted(self.srcgrad.names - self.autograd.names)


def compare() -> Comparison:
    """Count both registries (autograd only if it is installed)."""
    return Comparison(srcgrad_coverage(), autograd_coverage(), srcgrad_nondiff())
