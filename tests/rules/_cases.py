"""Test cases built from the rule registry (the spec format is in srcgrad/rules/registry.py).

Every registered rule contributes one :class:`RuleCase` per input case (its ``shapes``, or the
defaults for its number of operands) times every combination of its ``params`` grid.  A case
builds its inputs from the rule's ``domain`` with a seed derived from its id, so a failure
reproduces exactly.  Adding a rule with ``@adjoint`` adds its tests; nothing here names a rule.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import types
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from srcgrad.rules.registry import Rule, all_rules
from tests.fakexp import fakexp, to_device

DEFAULT_DOMAIN = (-2.0, 2.0)

DEFAULT_SHAPES: dict[int, dict[str, str]] = {
    1: {"matrix": "(3,4)"},
    2: {
        "same": "(3,4),(3,4)",
        "broadcast": "(3,4),(4,)",
        "outer": "(3,1),(1,4)",
        "float": "(3,4),s",
        "float-first": "s,(3,4)",
    },
    3: {"same": "(3,4),(3,4),(3,4)", "broadcast": "(3,4),(4,),(3,1)"},
}


# --------------------------------------------------------------------------- spec parsing


def positional_parameters(rule: Rule) -> list[inspect.Parameter]:
    """The rule's parameters after ``(g, ans)`` that a call passes positionally (operands
    with a default, ``optional_operands``, too: every case gives them)."""
    ps = list(inspect.signature(rule.adjoint).parameters.values())[2:]
    return [
        p
        for p in ps
        if p.kind is p.VAR_POSITIONAL
        or (
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and (p.default is p.empty or p.name in rule.operands)
        )
    ]


def param_grid(rule: Rule) -> list[dict[str, Any]]:
    """Every combination of the rule's ``params`` grid (a dict, or a list of dicts)."""
    grids = rule.param_grid
    if grids is None:
        return [{}]
    if isinstance(grids, dict):
        grids = [grids]
    combos = []
    for grid in grids:
        names = list(grid)
        for values in itertools.product(*(grid[n] for n in names)):
            combos.append(dict(zip(names, values)))
    return combos


class _FromParams:
    """The ``-`` entry: this positional parameter's value comes from ``params``."""

    def __repr__(self) -> str:
        return "-"


FROM_PARAMS = _FromParams()


def parse_entries(spec: str) -> tuple:
    """Entries from the compact string form ``"(3,4),[(2,3),(2,3)],s,-"``.

    ``(d, ...)`` is an array shape (``()`` a 0-d array), ``[...]`` a sequence operand, ``s``
    or ``float`` a Python float, ``-`` a value taken from ``params``; a ``->...`` suffix
    (gufunc style) is ignored.
    """
    text = spec.split("->")[0].strip()
    text = re.sub(r"(?<![\w.])(s|float)(?![\w.])", "'float'", text)
    text = re.sub(r"(?<![\w.>])-(?![\w.\d])", "'-'", text)
    try:
        raw = ast.literal_eval("(" + text + ",)") if text else ()
    except (ValueError, SyntaxError) as err:
        raise ValueError(f"cannot parse shape spec {spec!r}") from err

    def convert(e: Any) -> Any:
        if e == "float":
            return float
        if e == "-":
            return FROM_PARAMS
        if isinstance(e, list):
            return [convert(x) for x in e]
        return tuple(e)

    return tuple(convert(e) for e in raw)


def _split_case(case: Any) -> tuple[tuple, dict[str, Any]]:
    """A case is ``entries``, a spec string, or ``(entries or string, params)``."""
    params: dict[str, Any] = {}
    if (
        isinstance(case, tuple)
        and len(case) == 2
        and isinstance(case[1], dict)
        and isinstance(case[0], (tuple, str))
    ):
        case, params = case[0], dict(case[1])
    if isinstance(case, str):
        return parse_entries(case), params
    return tuple(case), params


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(value).replace(" ", "").replace("'", "")


def _fmt_entry(entry: Any) -> str:
    if entry is FROM_PARAMS:
        return "-"
    if entry is float:
        return "float"
    if isinstance(entry, list):
        return "[" + ",".join(_fmt_entry(e) for e in entry) + "]"
    return "x".join(str(d) for d in entry) if entry else "0d"


def input_cases(rule: Rule) -> dict[str, tuple[tuple, dict[str, Any]]]:
    """The rule's input cases by id: ``{id: (entries, case params)}``."""
    shapes = rule.shapes
    if shapes is None:
        grid_names = set().union(*(set(c) for c in param_grid(rule)))
        needed = [
            p
            for p in positional_parameters(rule)
            if p.kind is not p.VAR_POSITIONAL and p.name not in grid_names
        ]
        if len(needed) not in DEFAULT_SHAPES:
            raise ValueError(f"rule {rule.name!r} needs explicit `shapes`")
        shapes = DEFAULT_SHAPES[len(needed)]
    if isinstance(shapes, dict):
        return {str(k): _split_case(v) for k, v in shapes.items()}
    out = {}
    for case in shapes:
        entries, params = _split_case(case)
        key = "-".join(_fmt_entry(e) for e in entries if e is not FROM_PARAMS) or "none"
        if params:
            key += "-" + "-".join(f"{k}={_fmt(v)}" for k, v in params.items())
        out[key] = (entries, params)
    return out


# --------------------------------------------------------------------------- input values


def _draw(rule: Rule, name: str, rng: np.random.Generator, shape: tuple) -> Any:
    domain = rule.domain
    if isinstance(domain, dict):
        domain = domain.get(name, DEFAULT_DOMAIN)
    if domain is None:
        domain = DEFAULT_DOMAIN
    if callable(domain):
        return np.asarray(domain(rng, shape))
    lo, hi = domain
    return rng.uniform(lo, hi, size=shape)


def _value(rule: Rule, name: str, entry: Any, rng: np.random.Generator) -> Any:
    if entry is float:
        return float(_draw(rule, name, rng, ()))
    if isinstance(entry, list):
        return [_value(rule, name, e, rng) for e in entry]
    return np.asarray(_draw(rule, name, rng, tuple(entry)))


def build_call(
    rule: Rule, entries: tuple, params: dict[str, Any], rng: np.random.Generator
) -> tuple[list[Any], dict[str, Any]]:
    """Positional arguments and keyword arguments of one call of the primitive.

    Positional parameters without a default take their value from ``params`` when it names
    them, else from the next entry (``*varargs`` take all remaining entries); every other
    parameter in ``params`` is passed by keyword.
    """
    kwargs = dict(params)
    args: list[Any] = []
    pending = list(entries)
    for p in positional_parameters(rule):
        if p.kind is p.VAR_POSITIONAL:
            args += [_value(rule, p.name, e, rng) for e in pending]
            pending = []
        elif p.name in kwargs:
            args.append(kwargs.pop(p.name))
            if pending and pending[0] is FROM_PARAMS:
                pending.pop(0)
        elif pending and pending[0] is FROM_PARAMS:
            raise ValueError(
                f"rule {rule.name!r}: `params` gives no value for {p.name!r}"
            )
        elif pending:
            args.append(_value(rule, p.name, pending.pop(0), rng))
        else:
            raise ValueError(f"rule {rule.name!r}: no shape entry for {p.name!r}")
    # a `-` may also stand for a positional parameter with a default (reshape's shape)
    pending = [e for e in pending if e is not FROM_PARAMS]
    if pending:
        raise ValueError(f"rule {rule.name!r}: unused shape entries {pending}")
    return args, kwargs


def map_arrays(x: Any, fn: Any) -> Any:
    """Apply ``fn`` to every ``np.ndarray`` in ``x`` (through lists and tuples)."""
    if isinstance(x, np.ndarray):
        return fn(x)
    if isinstance(x, list):
        return [map_arrays(v, fn) for v in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(map_arrays(v, fn) for v in x)
    return x


def noncontiguous(x: np.ndarray) -> np.ndarray:
    """The same values in a strided (non-contiguous) view of a bigger buffer."""
    if x.ndim == 0:
        return x
    buf = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=x.dtype)
    buf[..., ::2] = x
    view = buf[..., ::2]
    assert x.shape[-1] <= 1 or not view.flags.c_contiguous
    return view


def cast_floats(x: Any, dtype: Any) -> Any:
    """``x`` with every float array cast to ``dtype`` (Python floats stay Python floats)."""
    return map_arrays(x, lambda a: a.astype(dtype) if a.dtype.kind == "f" else a)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class RuleCase:
    """One rule, one input case, one parameter combination."""

    rule: Rule
    case_id: str
    entries: tuple
    params: dict[str, Any] = field(hash=False)
    grid_id: str = ""
    noncontig: bool = False

    @property
    def label(self) -> str:
        return self.rule.name.replace(".", "_") + "_adjoint"

    @property
    def variant(self) -> str:
        parts = [self.case_id] + ([self.grid_id] if self.grid_id else [])
        return "-".join(parts + (["noncontig"] if self.noncontig else []))

    def __str__(self) -> str:
        return f"{self.label}[{self.variant}]"

    @property
    def seed(self) -> int:
        return zlib.crc32(f"{self.rule.name}[{self.case_id}-{self.grid_id}]".encode())

    def call(self, dtype: Any = np.float64) -> tuple[list[Any], dict[str, Any]]:
        """The positional and keyword arguments, in ``dtype`` (drawn in float64 first)."""
        rng = np.random.default_rng(self.seed)
        args, kwargs = build_call(self.rule, self.entries, self.params, rng)
        if dtype != np.float64:
            args = cast_floats(args, dtype)
        if self.noncontig:
            # the operands whose memory layout the rule reads keep theirs
            keep = set(self.rule.extra.get("keep_layout", ()))
            names = [p.name for p in positional_parameters(self.rule)]
            args = [
                (
                    a
                    if i < len(names) and names[i] in keep
                    else map_arrays(a, noncontiguous)
                )
                for i, a in enumerate(args)
            ]
        return args, kwargs


def rule_cases(
    rules: Iterable[Rule] | None = None, *, noncontig: bool = True
) -> list[RuleCase]:
    """Every case of every rule (registered rules by default), with non-contiguous twins."""
    out = []
    for rule in all_rules() if rules is None else rules:
        for case_id, (entries, case_params) in input_cases(rule).items():
            for combo in param_grid(rule):
                grid_id = "-".join(f"{k}={_fmt(v)}" for k, v in combo.items())
                params = {**combo, **case_params}
                for nc in (False, True) if noncontig else (False,):
                    out.append(RuleCase(rule, case_id, entries, params, grid_id, nc))
    return out


# --------------------------------------------------------------------------- results


def operand_values(rule: Rule, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The differentiable operands' values in the rule's return order."""
    positional = [p.name for p in positional_parameters(rule)]
    values = []
    for name in rule.operands:
        if name == rule.varargs:
            values.append(list(args[positional.index(name) :]))
        elif name in positional:
            values.append(args[positional.index(name)])
        else:
            values.append(kwargs[name])
    return values


def per_operand(rule: Rule, result: Any) -> list[Any]:
    """A rule's result as a list with one cotangent per operand."""
    if len(rule.operands) == 1:
        return [result]
    assert isinstance(result, (tuple, list)) and len(result) == len(
        rule.operands
    ), f"{rule.name}: expected one cotangent per operand {rule.operands}, got {result!r}"
    return list(result)


def flat_pairs(rule: Rule, values: list[Any], cotangents: list[Any]) -> list[tuple]:
    """(label, operand value, cotangent) for every array or float operand leaf."""
    out = []
    for name, value, cot in zip(rule.operands, values, cotangents):
        if isinstance(value, (list, tuple)):
            cots = [None] * len(value) if cot is None else list(cot)
            assert len(cots) == len(
                value
            ), f"{rule.name}: {name} has {len(value)} entries"
            out += [(f"{name}[{i}]", v, c) for i, (v, c) in enumerate(zip(value, cots))]
        else:
            out.append((name, value, cot))
    return out


def random_cotangent(rng: np.random.Generator, ans: Any, multi: bool) -> Any:
    """A random output cotangent shaped and typed like ``ans``."""
    if multi:
        # an output that is None (cov_cotangents' d_y without a y) gets no cotangent
        return [None if a is None else random_cotangent(rng, a, False) for a in ans]
    return np.asarray(rng.standard_normal(np.shape(ans)), dtype=np.result_type(ans))


# --------------------------------------------------------------------------- the fake device


def on_device(fn: types.FunctionType) -> types.FunctionType:
    """``fn`` with ``np`` bound to the fake namespace: what inlining ``np.`` -> ``xp.`` does."""
    moved = types.FunctionType(
        fn.__code__, {**fn.__globals__, "np": fakexp}, fn.__name__, fn.__defaults__
    )
    moved.__kwdefaults__ = fn.__kwdefaults__
    return moved


def device_cotangents(
    rule: Rule, u: Any, ans: Any, args: list[Any], kwargs: dict[str, Any]
) -> list[tuple]:
    """The rule run on the fake device (arrays, the answer and the cotangent moved there),
    as ``flat_pairs``: ``(label, operand on the device, its cotangent)``."""
    dev_args = map_arrays(args, to_device)
    dev_ans = [to_device(a) for a in ans] if rule.multi_output else to_device(ans)
    dev_u = [to_device(a) for a in u] if rule.multi_output else to_device(u)
    result = on_device(rule.adjoint)(dev_u, dev_ans, *dev_args, **kwargs)
    return flat_pairs(
        rule, operand_values(rule, dev_args, kwargs), per_operand(rule, result)
    )
