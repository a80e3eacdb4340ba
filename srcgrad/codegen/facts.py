"""Shape and dtype facts: what specialisation knows of a value.

A gradient called with arguments is specialised to their *abstract signature*: for every
array leaf its dtype and which axes have length 1; other lengths stay symbolic
(:class:`Sym`), so one generated file serves every batch size except 1.  A :class:`Fact` is a
value's axes (``1``, a symbol, or ``None`` when unknown) and its dtype (a numpy dtype, a weak
Python scalar kind, or ``None``).  Which symbols are equal is a :class:`UF`, one per scope.

This module is the lattice and its algebra (promotion, broadcasting, joins); :mod:`inference`
computes the facts of a function's names, and :mod:`specialise` and :mod:`specialise_forward`
rewrite code where they prove the result identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from srcgrad import tree

WEAK = ("weak-int", "weak-float", "weak-complex")
_WEAK_VALUE = {"weak-int": 1, "weak-float": 1.0, "weak-complex": 1j}


class Sym:
    """A length other than 1, known only symbolically.  Which symbols are equal is a
    :class:`UF` (one per scope: a loop body or a branch may prove more than the code around
    it, and what it proves holds only where it runs)."""

    __slots__ = ("label", "maybe_one", "size")

    def __init__(
        self, label: str = "", maybe_one: bool = False, size: int | None = None
    ) -> None:
        self.label = label
        # a length computed by the program (a slice's, ``d // heads``): it may be 1, so it
        # is never assumed to broadcast like one that is not; equal symbols are still equal
        self.maybe_one = maybe_one
        self.size = size  # the length itself, where a literal spells it

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Sym({self.label or hex(id(self))})"


class UF:
    """Union-find over symbols; ``child()`` starts a scope that may learn more."""

    def __init__(self, parent: dict[Sym, Sym] | None = None) -> None:
        self.parent: dict[Sym, Sym] = dict(parent or {})

    def find(self, s: Sym) -> Sym:
        while s in self.parent:
            s = self.parent[s]
        return s

    def union(self, a: Sym, b: Sym) -> None:
        ra, rb = self.find(a), self.find(b)
        if (
            ra.maybe_one and not rb.maybe_one
        ):  # the class is what its best member proves
            ra, rb = rb, ra
        if ra is not rb:
            self.parent[rb] = ra

    def child(self) -> "UF":
        return UF(self.parent)

    def same_dim(self, a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        if isinstance(a, Sym) and isinstance(b, Sym):
            return self.find(a) is self.find(b)
        return a == 1 and b == 1 and not isinstance(a, Sym) and not isinstance(b, Sym)


@dataclass(frozen=True)
class Fact:
    """What is known of a value: ``dims`` (``None``: rank unknown) and ``dtype``."""

    dims: tuple[Any, ...] | None
    dtype: Any  # np.dtype, one of WEAK, or None
    # an integer's value as a length (``n`` of ``n, d = x.shape``): 1, a Sym, or None
    value: Any = None

    @property
    def is_array(self) -> bool:
        return isinstance(self.dtype, np.dtype) and self.dims is not None

    @property
    def weak(self) -> bool:
        return isinstance(self.dtype, str)

    @property
    def known(self) -> bool:
        return self.dims is not None and all(d is not None for d in self.dims)


def same_shape(a: Fact | None, b: Fact | None, uf: UF) -> bool:
    if a is None or b is None or a.dims is None or b.dims is None:
        return False
    return len(a.dims) == len(b.dims) and all(
        uf.same_dim(x, y) for x, y in zip(a.dims, b.dims)
    )


def same_fact(a: Fact | None, b: Fact | None, uf: UF) -> bool:
    """Provably the same shape and the same numpy dtype (both arrays)."""
    return (
        a is not None
        and b is not None
        and a.is_array
        and b.is_array
        and a.dtype == b.dtype
        and same_shape(a, b, uf)
    )


# -- abstract signatures of call arguments ---------------------------------------------------


def leaf_fact(spec: Any, literals: dict[int, Sym] | None = None) -> Fact | None:
    """The fact of one argument leaf from its signature entry (see ``api._arg_facts``)."""
    if spec == "f":
        return Fact((), "weak-float")
    if spec == "i":
        return Fact((), "weak-int")
    if spec == "c":
        return Fact((), "weak-complex")
    if (
        isinstance(spec, tuple)
        and len(spec) == 2
        and isinstance(spec[0], (str, np.dtype))
        and spec[0] != "function"  # a function passed in (api._arg_spec)
    ):
        dtype, units = spec
        try:
            dt = np.dtype(dtype)
        except TypeError:
            return None
        return Fact(tuple(1 if u else Sym() for u in units), dt)
    return None


# -- dtype and shape algebra -----------------------------------------------------------------


def promote(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    for x, y in ((a, b), (b, a)):
        if isinstance(x, tuple):  # ("either", p, q, ...): a join of dtypes
            results = {promote(m, y) for m in x[1:]}
            r = results.pop()
            return r if not results and not isinstance(r, tuple) else None
    if isinstance(a, str) and isinstance(b, str):
        return WEAK[max(WEAK.index(a), WEAK.index(b))]
    try:
        if isinstance(a, str):
            return np.result_type(b, _WEAK_VALUE[a])
        if isinstance(b, str):
            return np.result_type(a, _WEAK_VALUE[b])
        return np.result_type(a, b)
    except TypeError:
        return None


def broadcast(a: Fact | None, b: Fact | None, uf: UF | None) -> tuple[Any, ...] | None:
    """The broadcast shape; with ``uf``, two non-unit lengths are recorded as equal."""
    if a is None or b is None or a.dims is None or b.dims is None:
        return None
    n = max(len(a.dims), len(b.dims))
    da = (1,) * (n - len(a.dims)) + a.dims
    db = (1,) * (n - len(b.dims)) + b.dims
    out: list[Any] = []
    for x, y in zip(da, db):
        if x == 1 and not isinstance(x, Sym):
            out.append(y)
        elif y == 1 and not isinstance(y, Sym):
            out.append(x)
        elif x is y or (uf is not None and uf.same_dim(x, y)):
            out.append(x)
        elif maybe_one(x, uf) or maybe_one(y, uf):
            # one side may be 1: the result is the other, when that one is not 1
            out.append(
                None
                if maybe_one(x, uf) and maybe_one(y, uf)
                else (y if maybe_one(x, uf) else x)
            )
        else:
            if uf is not None:
                uf.union(x, y)
            out.append(x)
    return tuple(out)


def maybe_one(d: Any, uf: UF | None) -> bool:
    """Whether the length ``d`` may be 1 (unknown, or a symbol the program computed)."""
    if d is None:
        return True
    if not isinstance(d, Sym):
        return d == 1
    return (uf.find(d) if uf is not None else d).maybe_one


def float_like(dt: Any) -> Any:
    """dtype of a float-valued elementwise function of an operand of dtype ``dt``."""
    if isinstance(dt, tuple):
        results = {float_like(m) for m in dt[1:]}
        r = results.pop()
        return r if not results else None
    if isinstance(dt, np.dtype):
        return dt if dt.kind in "fc" else None
    if dt in ("weak-float", "weak-complex"):
        return dt
    return None


def join(a: Fact | None, b: Fact | None, uf: UF) -> Fact | None:
    if a is None or b is None:
        return None
    if a == b:
        return a
    dt = a.dtype if a.dtype == b.dtype else None
    if (
        dt is None
        and a.dims == b.dims == ()
        and a.dtype is not None
        and b.dtype is not None
    ):
        # a scalar that starts as a Python number and becomes a numpy scalar (a loss
        # accumulator): either dtype; what combines the same with all of them is known
        members = {
            m
            for d in (a.dtype, b.dtype)
            for m in (d[1:] if isinstance(d, tuple) else (d,))
        }
        if len(members) <= 3:
            dt = ("either", *sorted(members, key=str))
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims):
        return Fact(None, dt) if dt is not None else None
    dims = tuple(x if uf.same_dim(x, y) else None for x, y in zip(a.dims, b.dims))
    return Fact(dims, dt)


def describe(params: list[str], arg_specs: dict[str, Any]) -> str:
    """The signature in words: ``x: float64[*, 1], lr: float`` (``*``: any length but 1)."""

    def leaf(spec: Any) -> str:
        if spec in ("f", "i", "c"):
            return {"f": "float", "i": "int", "c": "complex"}[spec]
        if spec == "static":
            return "constant"
        node = tree.signature_node(spec)
        if node is not None:
            kind, typ, keys, items = node
            if kind is tree.SEQUENCE:
                inner = ", ".join(leaf(v) for v in items)
                return (
                    f"[{inner}]"
                    if typ is list
                    else f"({inner}{',' if len(items) == 1 else ''})"
                )
            inner = ", ".join(
                f"{k}: {leaf(v)}" if kind is tree.DICT else f"{k}={leaf(v)}"
                for k, v in zip(keys, items)
            )
            return (
                "{" + inner + "}" if kind is tree.DICT else f"{typ.__name__}({inner})"
            )
        if isinstance(spec, tuple) and spec[:1] == ("function",):
            return str(spec[1])
        if isinstance(spec, tuple) and len(spec) == 2:
            dims = ", ".join("1" if u else "*" for u in spec[1])
            return f"{np.dtype(spec[0]).name}[{dims}]"
        return "any"

    return ", ".join(f"{p}: {leaf(arg_specs.get(p))}" for p in params)
