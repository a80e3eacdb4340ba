"""A hypothesis strategy of small, valid, differentiable numpy programs.

A program is a module: constants (globals), helper functions (some recursive, some returning
tuples or lists, some with parameters named like the globals their caller reads), custom rules
(``@srcgrad.custom_vjp``) and the differentiated function ``f``.  ``f`` is built statement by
statement over a typed environment (each variable's shape, and whether this program owns the
array so that in-place writes into it or into its views are allowed: never into the caller's
inputs).  Every choice is a hypothesis draw with the simplest option first, so that shrinking
deletes statements and simplifies the rest.

Each construct a program uses is recorded as a tag (``Program.tags``); the long run prints
per-tag counts, and ``TAGS`` lists every tag the generator can emit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

Shape = tuple[int, ...]

# every construct tag the generator can emit (the long run reports each; a test requires each)
TAGS = (
    "unary",
    "ufunc-chain",
    "binary",
    "broadcast",
    "scalar-op",
    "python-float-arg",
    "reduce",
    "reduce-axis",
    "reduce-keepdims",
    "reduce-tuple-axis",
    "cumulative",
    "view",
    "view-write",
    "write-base-with-live-view",
    "setitem",
    "setitem-fancy",
    "call-write",
    "helper-write",
    "augassign",
    "matmul",
    "join",
    "computed-slices",
    "inline-display",
    "named-display",
    "display-argument",
    "where",
    "fancy-index",
    "mask",
    "ternary",
    "if",
    "if-else",
    "loop-range",
    "loop-over-array",
    "loop-over-slice",
    "loop-enumerate",
    "loop-zip",
    "loop-constants",
    "while",
    "break",
    "continue",
    "early-return",
    "loop-index-branch",
    "list-append",
    "list-literal",
    "list-comprehension",
    "list-rebuild",
    "list-read-while-growing",
    "list-stack",
    "list-sum",
    "list-index",
    "list-index-by-loop",
    "list-iterate",
    "list-reversed",
    "list-slots",
    "list-param",
    "pairs-param",
    "unpack",
    "tuple",
    "dict",
    "call",
    "call-tuple",
    "call-list",
    "callee-returns-list",
    "callee-returns-view",
    "nested-def",
    "closure",
    "closure-call",
    "global",
    "shadow-global",
    "shadow-local",
    "recursion",
    "custom-rule",
    "custom-rule-2",
    "alias",
    "update",
    "generator-sum",
    "function-alias",
    "loop-else",
    "shape-read",
    "random-draw",
)

DIMS = (2, 3, 4)
ARG_SHAPES: tuple[Shape, ...] = ((3, 4), (4,), (4, 4), (2, 3, 4), (3,), (4, 3))


def bshape(a: Shape, b: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


@dataclass
class Var:
    text: str  # how the program reads it: a name, ``d["p"]``, ``acc[0]``
    shape: Shape | None  # None: a Python float
    owned: bool = False  # made by this program: in-place writes into it are allowed
    base: str | None = None  # the owned array this one is a view of
    const: bool = False  # a module constant
    readonly: bool = False  # never rebound here (a closure's captured variable)


@dataclass
class ListVar:
    name: str
    item: Shape
    lo: int  # the list holds between lo and hi items
    hi: int
    owned: bool = False  # built here: append allowed


@dataclass
class Func:
    name: str
    params: list[Shape]
    ret: tuple[
        str, Any
    ]  # ("array", shape) | ("tuple", [shapes]) | ("list", (item, length))
    view_of_param: bool = False


@dataclass
class Program:
    text: str
    args: list[
        dict[str, Any]
    ]  # {"name", "kind": array|float|list|pairs, "shape"/"shapes"}
    seed: int
    tags: frozenset[str]
    # the constructs behind each line (a compound statement's lines carry its body's too)
    line_tags: dict[str, frozenset[str]] = field(default_factory=dict)

    def tags_of(self, text: str) -> frozenset[str]:
        """The constructs a reduced version of this program still uses."""
        found: set[str] = set()
        for line in text.splitlines():
            found |= self.line_tags.get(line.strip(), frozenset())
        body = text[text.find("def f(") :]
        if any(a["name"] == "ps" for a in self.args) and "ps" in body.split(":", 1)[-1]:
            found.add("list-param")
        return frozenset(found & self.tags)

    def header(self) -> str:
        import json

        return "# fuzz: " + json.dumps({"args": self.args, "seed": self.seed})


class Module:
    def __init__(self, draw: Callable[..., Any]) -> None:
        self.draw = draw
        self.consts: list[str] = []
        self.blocks: list[str] = []
        self.global_vars: list[Var] = []
        self.funcs: list[Func] = []
        self.tags: set[str] = set()
        self.events: list[str] = []  # every tag as it is added, in order
        self.line_tags: dict[str, set[str]] = {}
        self.counter = itertools.count()
        self.helper_depth = 0
        self.uses_srcgrad = False

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def constant_tuple(self, n: int) -> tuple[str, int]:
        """A module-level tuple of ``n`` Python floats; its name and length."""
        name = f"T{len(self.consts)}"
        items = ", ".join(repr(round(0.4 + 0.35 * i * (-1) ** i, 2)) for i in range(n))
        self.consts.append(f"{name} = ({items},)")
        return name, n

    def constant(self, shape: Shape, hidden: set[str] = frozenset()) -> Var:  # type: ignore[assignment]
        """A module constant of ``shape`` that the function being written can read (not
        ``hidden`` by one of its own names)."""
        for g in self.global_vars:
            if g.shape == shape and g.text not in hidden:
                return g
        name = f"G{len(self.global_vars)}"
        size = int(np.prod(shape)) if shape else 1
        self.consts.append(
            f"{name} = np.linspace(-0.9, 1.1, {size}).reshape({shape!r})"
        )
        v = Var(name, shape, const=True)
        self.global_vars.append(v)
        return v


class Ctx:
    """One function body being written."""

    def __init__(
        self,
        mod: Module,
        env: list[Var],
        *,
        indent: int = 1,
        depth: int = 0,
        fname: str = "f",
        returns: Callable[[Ctx], str] | None = None,
    ) -> None:
        self.mod = mod
        self.draw = mod.draw
        self.env = env
        self.lists: list[ListVar] = []
        self.ints: list[tuple[str, int]] = []  # loop indices: (name, exclusive bound)
        self.local_funcs: list[Func] = []
        self.lines: list[str] = []
        self.indent = indent
        self.depth = depth
        self.fname = fname
        self.returns = returns
        self.loop: str | None = None  # "for" / "while" inside a loop body
        self.hidden: set[str] = (
            set()
        )  # names of this function (and enclosing ones) that hide globals
        self.tags = mod.tags

    # -- draws -------------------------------------------------------------------------------
    def choice(self, seq: list[Any] | tuple[Any, ...]) -> Any:
        return self.draw(st.sampled_from(list(seq)))

    def flag(self) -> bool:
        return self.draw(st.booleans())

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def tag(self, *names: str) -> None:
        self.tags.update(names)
        self.mod.events.extend(names)

    def note_lines(self, first_line: int, first_event: int) -> None:
        """Attach the tags added since ``first_event`` to the lines written since
        ``first_line``."""
        tags = set(self.mod.events[first_event:])
        for line in self.lines[first_line:]:
            self.mod.line_tags.setdefault(line.strip(), set()).update(tags)

    def fresh(self, prefix: str = "v") -> str:
        return self.mod.fresh(prefix)

    # -- the environment ------------------------------------------------------------------
    def arrays(self, pred: Callable[[Var], bool] = lambda v: True) -> list[Var]:
        return [v for v in self.env if v.shape is not None and pred(v)]

    def pick(self, pred: Callable[[Var], bool] = lambda v: True) -> Var | None:
        cands = self.arrays(pred)
        if not cands:
            return None
        v = self.choice(cands)
        if v.const:
            self.tag("global")
        return v

    def bind(self, var: Var) -> None:
        self.env = [v for v in self.env if v.text != var.text] + [var]
        # views of an array that is rebound keep the old object: forget the link
        for v in self.env:
            if v.base == var.text and v is not var:
                v.base = None

    def with_shape(self, shape: Shape) -> tuple[str, Shape]:
        """An expression of exactly ``shape`` (some variable, adapted)."""
        v = self.pick(lambda v: v.shape == shape)
        if v is not None and self.flag():
            return v.text, shape
        v = self.pick(lambda v: bshape(v.shape, shape) == shape)
        if v is not None:
            if v.shape == shape:
                return v.text, shape
            self.tag("broadcast")
            return f"np.broadcast_to({v.text}, {shape!r})", shape
        v = self.pick()
        assert v is not None
        return f"np.broadcast_to(np.mean({v.text}), {shape!r})", shape

    # -- expressions -----------------------------------------------------------------------
    def expr(self, depth: int = 2) -> tuple[str, Shape, bool]:
        """(text, shape, fresh): ``fresh`` means a new array this program owns."""
        kinds = ["var"]
        if depth > 0:
            kinds += [
                "unary",
                "binary",
                "scalar",
                "reduce",
                "view",
                "matmul",
                "join",
                "slices",
                "where",
                "fancy",
                "ternary",
                "call",
                "custom",
                "display",
                "cumulative",
                "float",
                "shape",
                "noise",
            ]
        kind = self.choice(kinds)
        return getattr(self, "e_" + kind)(depth)

    def operand(self, depth: int) -> tuple[str, Shape]:
        text, shape, _ = self.expr(depth - 1)
        return text, shape

    def e_var(self, depth: int) -> tuple[str, Shape, bool]:
        v = self.pick()
        assert v is not None
        return v.text, v.shape, False  # type: ignore[return-value]

    def e_float(self, depth: int) -> tuple[str, Shape, bool]:
        fl = [v for v in self.env if v.shape is None]
        a, s = self.operand(depth)
        if not fl:
            return f"({a}) * 1.5", s, bool(s)
        self.tag("python-float-arg")
        f = self.choice(fl)
        op = self.choice(
            ["{a} * {f}", "{f} * np.sin({a})", "({a}) / (1.0 + {f} * {f})"]
        )
        return op.format(a=a, f=f.text), s, bool(s)

    def e_shape(self, depth: int) -> tuple[str, Shape, bool]:
        """An array scaled, reshaped or padded by reads of its own shape (``len``,
        ``np.shape``, ``.size``, ``np.ndim``, ``*``-unpacked): constants, never a gradient.
        """
        a, s = self.operand(depth)
        if not s:
            return f"({a}) * 1.5", s, False
        self.tag("shape-read")
        form, fresh = self.choice(
            [
                ("({a}) / len({a})", True),
                ("({a}) * (np.shape({a})[0] - 0.5)", True),
                ("({a}) / ({a}).size", True),
                ("({a}) * np.ndim({a})", True),
                ("({a}) / np.size({a})", True),
                ("({a}) + np.zeros(np.shape({a}))", True),
                ("np.reshape({a}, np.shape({a}))", False),
                ("({a}).reshape(*np.shape({a}))", False),
            ]
        )
        return form.format(a=a), s, fresh

    def e_noise(self, depth: int) -> tuple[str, Shape, bool]:
        """Noise from a generator seeded in the program (a constant of the gradient, drawn
        once per run from numpy's own ``random``): added, or a dropout mask."""
        a, s = self.operand(depth)
        if not s:
            return f"({a}) * 1.5", s, False
        self.tag("random-draw")
        k = self.integer(0, 9)
        form = self.choice(
            [
                "({a}) + 0.1 * np.random.default_rng({k}).standard_normal({s!r})",
                "({a}) * (np.random.RandomState({k}).rand(*np.shape({a})) < 0.7)",
                "({a}) * np.random.default_rng({k}).uniform(0.5, 1.5, size=({a}).shape)",
            ]
        )
        return form.format(a=a, k=k, s=s), s, True

    def e_unary(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        self.tag("unary")
        form = self.choice(
            [
                "np.sin({a})",
                "np.tanh({a})",
                "np.cos({a})",
                "np.exp(np.tanh({a}))",
                "np.log(1.0 + ({a}) ** 2)",
                "np.sqrt(({a}) * ({a}) + 1.0)",
                "np.square({a})",
                "-({a})",
                "np.abs({a})",
                "np.maximum({a}, 0.2)",
                "np.clip({a}, -0.5, 0.7)",
                "np.arctan({a})",
                "({a}).clip(-0.8, 0.9)",
                "np.sinh(np.tanh({a}))",
                "np.asarray({a}) * 1.5",
                "1.0 / (1.0 + np.exp(-({a})))",
                "2.0 * np.tanh(0.5 * ({a})) - 1.0",
                "1 - np.exp(-(({a}) * ({a}))) / 2",
            ]
        )
        if (
            form.count("np.") and form[0] in "12"
        ):  # a written chain of ufuncs and numbers
            self.tag("ufunc-chain")
        return form.format(a=a), s, bool(s)

    def e_binary(self, depth: int) -> tuple[str, Shape, bool]:
        a, sa = self.operand(depth)
        cands = self.arrays(lambda v: bshape(v.shape, sa) is not None)
        if cands and self.flag():
            bv = self.choice(cands)
            b, sb = bv.text, bv.shape
        else:
            b, sb = self.operand(depth)
            if bshape(sa, sb) is None:
                b, sb = f"np.mean({b})", ()
        assert sb is not None
        s = bshape(sa, sb)
        assert s is not None
        if sa != sb:
            self.tag("broadcast")
        self.tag("binary")
        form = self.choice(
            [
                "({a}) + ({b})",
                "({a}) * ({b})",
                "({a}) - ({b})",
                "({a}) / (1.5 + np.tanh({b}))",
                "np.maximum({a}, {b})",
                "np.add({a}, {b})",
                "np.multiply({a}, np.tanh({b}))",
                "({a}) * np.sin({b})",
                "np.minimum({a}, {b})",
                "np.hypot({a}, {b})",
                # cells of -inf (both operands at once too), as in a forward-algorithm
                # table; the maximum keeps the output finite
                "np.maximum(np.logaddexp(np.where({a} > 0.3, {a}, -np.inf), "
                "np.where({b} > 0.3, {b}, -np.inf)), -2.0)",
            ]
        )
        return form.format(a=a, b=b), s, bool(s)

    def e_scalar(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        self.tag("scalar-op")
        form = self.choice(
            [
                "2.5 * ({a})",
                "({a}) ** 2",
                "({a}) / 3.0",
                "1.0 - ({a})",
                "({a}) * 0.5 + 0.25",
            ]
        )
        return form.format(a=a), s, bool(s)

    def e_reduce(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        self.tag("reduce")
        fn = self.choice(
            ["np.sum", "np.mean", "np.max", "np.min", "np.prod", "np.var", "method"]
        )
        axis: Any = None
        if s and self.flag():
            if len(s) >= 2 and self.flag():
                axis = tuple(
                    sorted(
                        self.draw(
                            st.sets(st.integers(0, len(s) - 1), min_size=2, max_size=2)
                        )
                    )
                )
                self.tag("reduce-tuple-axis")
            else:
                axis = self.integer(-len(s), len(s) - 1)
            self.tag("reduce-axis")
        keep = self.flag()
        if keep:
            self.tag("reduce-keepdims")
        if fn == "np.prod":
            a = f"np.tanh({a}) + 1.2"
        args = ""
        if axis is not None:
            args += f", axis={axis!r}"
        if keep:
            args += ", keepdims=True"
        if fn == "method":
            meth = self.choice(["sum", "mean", "max", "min"])
            text = f"({a}).{meth}({args[2:]})"
        else:
            text = f"{fn}({a}{args})"
        if axis is None:
            axes = set(range(len(s)))
        else:
            axes = {x % len(s) for x in (axis if isinstance(axis, tuple) else (axis,))}
        out = tuple(
            1 if i in axes else d for i, d in enumerate(s) if keep or i not in axes
        )
        return text, out, bool(out)

    def e_cumulative(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        if not s:
            return self.e_unary(depth)
        self.tag("cumulative")
        ax = self.integer(0, len(s) - 1)
        fn = self.choice(
            ["np.cumsum", "np.diff", "np.cumprod", "np.maximum.accumulate"]
            + ["np.minimum.accumulate", "np.add.accumulate"]
        )
        if fn == "np.diff":
            if s[ax] < 2:
                return f"np.cumsum({a}, axis={ax})", s, True
            return f"np.diff({a}, axis={ax})", s[:ax] + (s[ax] - 1,) + s[ax + 1 :], True
        if fn == "np.cumprod":
            return f"np.cumprod(np.tanh({a}), axis={ax})", s, True
        return f"{fn}({a}, axis={ax})", s, True

    # views: (name, applies, text, shape); the table names every public view=True rule
    @staticmethod
    def view_forms(s: Shape) -> list[tuple[str, str, Shape]]:
        n = len(s)
        out: list[tuple[str, str, Shape]] = []
        if n >= 1:
            out += [
                ("getitem", "{a}[1:]", (s[0] - 1,) + s[1:]),
                ("getitem", "{a}[::-1]", s),
                ("getitem", "{a}[1]" if s[0] >= 2 else "{a}[0]", s[1:]),
                ("getitem", "{a}[None]", (1,) + s),
                ("getitem", "{a}[..., ::2]", s[:-1] + ((s[-1] + 1) // 2,)),
                ("reshape", "{a}.reshape(-1)", (int(np.prod(s)),)),
                ("ravel", "np.ravel({a})", (int(np.prod(s)),)),
                ("flip", "np.flip({a}, axis=0)", s),
                ("expand_dims", "np.expand_dims({a}, 0)", (1,) + s),
                ("broadcast_to", f"np.broadcast_to({{a}}, {(2,) + s!r})", (2,) + s),
                ("atleast_2d", "np.atleast_2d({a})", s if n >= 2 else (1,) + s),
                ("atleast_1d", "np.atleast_1d({a})", s),
                (
                    "atleast_3d",
                    "np.atleast_3d({a})",
                    s if n >= 3 else (s + (1,) if n == 2 else (1, s[0], 1)),
                ),
                ("squeeze", "np.squeeze({a}[None])", tuple(d for d in s if d != 1)),
                ("real", "np.real({a})", s),
                ("real", "{a}.real", s),
                ("real_if_close", "np.real_if_close({a})", s),
                ("astype", "{a}.astype(np.float64)", s),
                ("asarray", "np.asarray({a})", s),
                ("transpose", "np.transpose({a})", s[::-1]),
                ("transpose", "{a}.T", s[::-1]),
                ("flipud", "np.flipud({a})", s),
                ("unstack", "np.unstack({a})[0]", s[1:]),
                ("broadcast_arrays", "np.broadcast_arrays({a}, 1.0)[0]", s),
            ]
            if s[0] % 2 == 0:
                out += [("split", "np.split({a}, 2)[1]", (s[0] // 2,) + s[1:])]
            out += [
                ("array_split", "np.array_split({a}, 2)[0]", ((s[0] + 1) // 2,) + s[1:])
            ]
        if n == 1:
            out += [("diag", "np.diag({a})", (s[0], s[0]))]
        if n >= 2:
            out += [
                ("getitem", "{a}[:, 1:]", (s[0], s[1] - 1) + s[2:]),
                ("getitem", "{a}[..., 0]", s[:-1]),
                ("swapaxes", "np.swapaxes({a}, 0, -1)", (s[-1],) + s[1:-1] + (s[0],)),
                ("moveaxis", "np.moveaxis({a}, 0, -1)", s[1:] + (s[0],)),
                ("rollaxis", f"np.rollaxis({{a}}, {n - 1})", (s[-1],) + s[:-1]),
                ("fliplr", "np.fliplr({a})", s),
                ("rot90", "np.rot90({a})", (s[1], s[0]) + s[2:]),
                (
                    "matrix_transpose",
                    "np.matrix_transpose({a})",
                    s[:-2] + (s[-1], s[-2]),
                ),
                ("mT", "{a}.mT", s[:-2] + (s[-1], s[-2])),
                (
                    "linalg.matrix_transpose",
                    "np.linalg.matrix_transpose({a})",
                    s[:-2] + (s[-1], s[-2]),
                ),
                ("diagonal", "np.diagonal({a})", s[2:] + (min(s[0], s[1]),)),
                (
                    "reshape",
                    f"{{a}}.reshape({s[1]}, -1)",
                    (s[1], int(np.prod(s)) // s[1]),
                ),
                (
                    "lib.stride_tricks.sliding_window_view",
                    "np.lib.stride_tricks.sliding_window_view({a}, 2, axis=0)",
                    (s[0] - 1,) + s[1:] + (2,),
                ),
            ]
            if s[1] % 2 == 0:
                out += [("hsplit", "np.hsplit({a}, 2)[0]", (s[0], s[1] // 2) + s[2:])]
            if s[0] % 2 == 0:
                out += [("vsplit", "np.vsplit({a}, 2)[0]", (s[0] // 2,) + s[1:])]
        if n == 2:
            out += [
                ("diag", "np.diag({a})", (min(s),)),
                ("linalg.diagonal", "np.linalg.diagonal({a})", (min(s),)),
            ]
        if n >= 3:
            out += (
                [("dsplit", "np.dsplit({a}, 2)[1]", s[:2] + (s[2] // 2,) + s[3:])]
                if s[2] % 2 == 0
                else []
            )
        if n >= 1 and s[0] >= 2:
            out += (
                [("meshgrid", "np.meshgrid({a}, indexing='ij')[0]", s)]
                if n == 1
                else []
            )
            # overlapping windows of 2 along axis 0, by the operand's own strides
            out.append(
                (
                    "lib.stride_tricks.as_strided",
                    f"np.lib.stride_tricks.as_strided({{a}}, shape=({s[0] - 1}, 2) + "
                    "{a}.shape[1:], strides=({a}.strides[0],) + {a}.strides)",
                    (s[0] - 1, 2) + s[1:],
                )
            )
        return [o for o in out if all(d > 0 for d in o[2])]

    def view_of(self, v: Var) -> tuple[str, Shape, str]:
        assert v.shape is not None
        forms = self.view_forms(v.shape)
        name, form, shape = self.choice(forms)
        self.tag("view")
        return form.format(a=v.text), shape, name

    def e_view(self, depth: int) -> tuple[str, Shape, bool]:
        v = self.pick(lambda v: len(v.shape or ()) >= 1)
        if v is None:
            return self.e_unary(depth)
        text, shape, _ = self.view_of(v)
        return text, shape, False

    def e_matmul(self, depth: int) -> tuple[str, Shape, bool]:
        a = self.pick(lambda v: len(v.shape or ()) in (1, 2, 3))
        if a is None:
            return self.e_unary(depth)
        assert a.shape is not None
        k = a.shape[-1]
        self.tag("matmul")
        bs = self.arrays(lambda v: len(v.shape or ()) in (1, 2) and v.shape[0] == k)  # type: ignore[index]
        if bs and self.flag():
            b = self.choice(bs)
        else:
            b = self.mod.constant((k, self.choice(DIMS)), self.hidden)
            self.tag("global")
        assert b.shape is not None
        out = a.shape[:-1] + b.shape[1:]
        if len(a.shape) == 2 and len(b.shape) == 2 and self.flag():
            form = self.choice(["np.dot({a}, {b})", "np.einsum('ij,jk->ik', {a}, {b})"])
        elif len(a.shape) == 1 and len(b.shape) == 1:
            form = self.choice(["{a} @ {b}", "np.inner({a}, {b})", "np.dot({a}, {b})"])
        else:
            form = "({a}) @ {b}"
        return form.format(a=a.text, b=b.text), out, bool(out)

    def e_join(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        if not s:
            return self.e_unary(depth)
        b = self.pick(lambda v: v.shape == s)
        bt = b.text if b is not None else f"np.sin({a})"
        self.tag("join", "inline-display")
        form = self.choice(
            [
                ("np.concatenate([{a}, {b}])", (2 * s[0],) + s[1:]),
                ("np.stack([{a}, {b}], axis=-1)", s + (2,)),
                ("np.stack(({a}, {b}))", (2,) + s),
                (
                    "np.vstack([{a}, {b}])",
                    (2 * s[0],) + s[1:] if len(s) >= 2 else (2, s[0]),
                ),
                ("np.concatenate(({a}, {b}), axis=-1)", s[:-1] + (2 * s[-1],)),
            ]
        )
        return form[0].format(a=a, b=bt), form[1], True

    def e_slices(self, depth: int) -> tuple[str, Shape, bool]:
        """Pieces of a value's last axis cut at bounds computed from its length (a GRU's
        gates): halves or thirds, joined again.  Lengths of 2 or 3 make pieces 1 long."""
        v = self.pick(lambda v: len(v.shape or ()) >= 1 and v.shape[-1] >= 2)  # type: ignore[index]
        if v is None:
            return self.e_unary(depth)
        assert v.shape is not None
        a, s = v.text, v.shape
        self.tag("computed-slices", "join")
        if self.flag():
            k = f"{a}.shape[-1] // 2"
            text = (
                f"np.concatenate([np.tanh({a}[..., : {k}]), "
                f"np.sin({a}[..., {k} :]) * {a}[..., {k} :]], axis=-1)"
            )
            return text, s, True
        k = f"({a}.shape[-1] // 3)"
        text = (
            f"np.concatenate([np.tanh({a}[..., : {k}]), "
            f"np.cos({a}[..., {k} : 2 * {k}]), {a}[..., 2 * {k} :] ** 2], axis=-1)"
        )
        return text, s, True

    def e_display(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        b = self.pick(lambda v: v.shape == s)
        bt = b.text if b is not None else f"np.cos({a})"
        self.tag("display-argument", "inline-display")
        fn = self.choice(["np.sum", "np.mean", "np.max", "np.prod"])
        if self.flag():
            return f"{fn}([{a}, 2.0 * {bt}], axis=0)", s, bool(s)
        return f"{fn}(({a}, np.sin({bt})))", (), False

    def e_where(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        b = self.pick(lambda v: bshape(v.shape, s) is not None)
        bt, bs = (b.text, b.shape) if b is not None else self.scalar_expr()
        assert bs is not None
        self.tag("where")
        out = bshape(s, bs)
        assert out is not None
        return f"np.where(({a}) > 0.1, {a}, 0.5 * {bt})", out, bool(out)

    def e_fancy(self, depth: int) -> tuple[str, Shape, bool]:
        v = self.pick(lambda v: len(v.shape or ()) >= 1 and v.shape[0] >= 3)  # type: ignore[index]
        if v is None:
            return self.e_unary(depth)
        assert v.shape is not None
        s = v.shape
        if self.flag():
            self.tag("mask")
            return f"np.sum({v.text}[{v.text} > 0.1])", (), False
        self.tag("fancy-index")
        form = self.choice(
            [
                ("{a}[[0, 2, 2]]", (3,) + s[1:]),
                ("{a}[np.array([1, 0])]", (2,) + s[1:]),
                ("np.take({a}, [2, 0], axis=0)", (2,) + s[1:]),
            ]
        )
        return form[0].format(a=v.text), form[1], True

    def e_ternary(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        c = self.cond()
        self.tag("ternary")
        return f"({a}) if {c} else np.sin({a})", s, False

    def e_call(self, depth: int) -> tuple[str, Shape, bool]:
        funcs = [f for f in self.mod.funcs + self.local_funcs if f.ret[0] == "array"]
        if funcs and self.flag():
            fn = self.choice(funcs)
        else:
            fn = self.new_function("array")
            if fn is None:
                return self.e_unary(depth)
        args = []
        for p in fn.params:
            args.append(self.with_shape(p)[0])
        self.tag("call")
        if fn.view_of_param:
            self.tag("callee-returns-view")
        return f"{self.callee(fn)}({', '.join(args)})", fn.ret[1], False

    def e_custom(self, depth: int) -> tuple[str, Shape, bool]:
        a, s = self.operand(depth)
        self.mod.uses_srcgrad = True
        if self.flag():
            name = self.custom_rule(1)
            self.tag("custom-rule")
            return f"{name}({a})", s, bool(s)
        v = self.pick(lambda v: v.shape == s)
        if v is None:
            return self.e_unary(depth)
        name = self.custom_rule(2)
        self.tag("custom-rule", "custom-rule-2")
        return f"{name}({a}, {v.text})", s, bool(s)

    def custom_rule(self, arity: int) -> str:
        name = f"smooth{arity}"
        if any(
            b.startswith(f"@srcgrad.custom_vjp\ndef {name}(") for b in self.mod.blocks
        ):
            return name
        if arity == 1:
            self.mod.blocks.append(
                f"@srcgrad.custom_vjp\ndef {name}(u):\n    return np.tanh(u) * 1.5\n\n\n"
                f"@{name}.defvjp\ndef {name}_vjp(g, ans, u):\n"
                "    return g * 1.5 * (1.0 - np.tanh(u) ** 2)\n"
            )
        else:
            self.mod.blocks.append(
                f"@srcgrad.custom_vjp\ndef {name}(u, w):\n    return u * np.sin(w)\n\n\n"
                f"@{name}.defvjp\ndef {name}_vjp(g, ans, u, w):\n"
                "    return g * np.sin(w), g * u * np.cos(w)\n"
            )
        return name

    def cond(self) -> str:
        v = self.pick()
        assert v is not None
        if self.ints and self.flag():
            i, _ = self.choice(self.ints)
            self.tag("loop-index-branch")
            return f"{i} % 2 == 0"
        return self.choice(
            [
                f"np.sum({v.text}) > 0.0",
                f"np.max({v.text}) > 0.5",
                f"np.mean({v.text}) < 0.2",
            ]
        )

    # -- functions -------------------------------------------------------------------------
    def new_function(self, ret: str) -> Func | None:
        """A module-level helper (or, inside ``f``, sometimes a nested def / closure)."""
        if self.mod.helper_depth >= 2:
            return None
        params = []
        for _ in range(self.integer(1, 2)):
            v = self.pick()
            assert v is not None and v.shape is not None
            params.append(v.shape)
        nested = self.may_nest() and self.flag()
        kind = (
            self.choice(["plain", "recursive"])
            if ret == "array" and not nested
            else "plain"
        )
        if kind == "recursive":
            return self.recursive(params[0])
        name = self.mod.fresh("inner" if nested else "helper")
        # parameter names: sometimes a global's name (shadow-global) or a caller's local name
        pnames = []
        for i in range(len(params)):
            opts = [f"u{i}"]
            opts += [g.text for g in self.mod.global_vars]
            opts += [
                v.text
                for v in self.env
                if v.text.isidentifier() and v.shape is not None
            ]
            nm = self.choice(opts)
            while nm in pnames:
                nm = self.mod.fresh("u")
            if nm != f"u{i}":
                if any(g.text == nm for g in self.mod.global_vars):
                    self.tag("shadow-global")
                else:
                    self.tag("shadow-local")
            pnames.append(nm)
        penv = [Var(n, s) for n, s in zip(pnames, params)]
        if nested:
            # a nested def reads the enclosing locals it does not shadow: a closure
            captured = [
                Var(v.text, v.shape, const=v.const, readonly=True)
                for v in self.env
                if v.text not in pnames
                and v.shape is not None
                and v.text.isidentifier()
            ]
            env = penv + captured
            indent = self.indent + 1
        else:
            env = penv + [g for g in self.mod.global_vars if g.text not in pnames]
            indent = 1
        self.mod.helper_depth += 1
        body = Ctx(self.mod, env, indent=indent, depth=self.depth + 1, fname=name)
        body.returns = None
        body.hidden = set(pnames) | (self.hidden if nested else set())
        # a local named like a global (module helper) or like an enclosing local (nested def):
        # assigned first, so every read in the body is of the local
        names = [v for v in env[len(penv) :] if v.text.isidentifier()]
        if names and self.flag():
            hidden = self.choice(names)
            body.env = [
                v for v in body.env if v.text != hidden.text
            ]  # local from the start
            body.hidden.add(hidden.text)
            e, s, fresh = body.expr(1)
            body.emit(f"{hidden.text} = {e}")
            body.bind(Var(hidden.text, s, owned=fresh and bool(s)))
            self.tag("shadow-global" if hidden.const else "shadow-local")
        body.block(self.integer(0, 3))
        view_of_param = False
        if ret == "array":
            if self.flag() and any(len(s) >= 1 for s in params) and not nested:
                p = next(v for v in penv if len(v.shape or ()) >= 1)
                rt, rs, _ = body.view_of(p)
                view_of_param = True
            else:
                rt, rs, _ = body.expr(2)
            body.emit(f"return {rt}")
            rkind: tuple[str, Any] = ("array", rs)
        elif ret == "tuple":
            a, sa, _ = body.expr(2)
            b, sb, _ = body.expr(1)
            body.emit(f"return {a}, {b}")
            rkind = ("tuple", [sa, sb])
        else:  # list: a literal, then append (a nested def sometimes builds it)
            a, sa, _ = body.expr(1)
            if not sa:
                a, sa = f"np.broadcast_to({a}, (3,))", (3,)
            b, _ = body.with_shape(sa)
            if not nested and self.flag():
                # the first item made by a def of the callee's own
                sq = self.mod.fresh("sq")
                body.emit(f"def {sq}(v):")
                body.emit("    return v * v")
                a = f"{sq}({a})"
                self.tag("nested-def")
            body.emit(f"out = [{a}]")
            body.emit(f"out.append(np.sin({b}))")
            body.emit("return out")
            rkind = ("list", (sa, 2))
        self.mod.helper_depth -= 1
        head = f"def {name}({', '.join(pnames)}):"
        fn = Func(name, params, rkind, view_of_param)
        if nested:
            self.emit(head)
            self.lines.extend(body.lines)
            self.local_funcs.append(fn)
            self.tag("nested-def")
            if any(v.text in "".join(body.lines) for v in captured if not v.const):
                self.tag("closure")
        else:
            self.mod.blocks.append(head + "\n" + "\n".join(body.lines) + "\n")
            self.mod.funcs.append(fn)
        return fn

    def may_nest(self) -> bool:
        """Nested defs go into ``f`` and into module-level helpers (one level deep)."""
        return self.fname == "f" or self.fname.startswith("helper")

    def callee(self, fn: Func) -> str:
        """How a call names ``fn``: itself, or sometimes a local alias of a module function."""
        if fn in self.mod.funcs and self.flag():
            alias = self.fresh("fn")
            self.emit(f"{alias} = {fn.name}")
            self.tag("function-alias")
            return alias
        return fn.name

    def recursive(self, shape: Shape) -> Func:
        name = self.mod.fresh("rec")
        step = self.choice(
            ["np.sin(u) * 0.9", "np.tanh(u) + 0.1 * u", "u * 0.8 + 0.1 * np.cos(u)"]
        )
        self.mod.blocks.append(
            f"def {name}(u, n):\n    if n <= 0:\n        return u\n"
            f"    return {name}({step}, n - 1)\n"
        )
        self.tag("recursion")
        # callers pass a depth: wrap it in a one-parameter function
        wrapper = self.mod.fresh("helper")
        self.mod.blocks.append(
            f"def {wrapper}(u):\n    return {name}(u, {self.integer(1, 3)})\n"
        )
        w = Func(wrapper, [shape], ("array", shape))
        self.mod.funcs.append(w)
        return w

    # -- statements ------------------------------------------------------------------------
    def block(self, n: int) -> None:
        for _ in range(n):
            self.statement()

    def statement(self) -> None:
        n0, e0 = len(self.lines), len(self.mod.events)
        self.one_statement()
        self.note_lines(n0, e0)

    def one_statement(self) -> None:
        kinds = [
            "assign",
            "update",
            "setitem",
            "augassign",
            "viewvar",
            "alias",
            "container",
            "tuple_call",
            "view_write",
            "call_write",
            "handed",
        ]
        if self.depth < 2:
            kinds += [
                "if",
                "for",
                "for_iter",
                "while",
                "list",
                "list_call",
                "comprehension",
                "nested",
            ]
        if self.loop:
            kinds += ["break", "continue"]
        if self.lists:
            kinds += ["use_list"]
        if self.returns is not None:
            kinds += ["early_return"]
        getattr(self, "s_" + self.choice(kinds))()

    def s_assign(self) -> None:
        text, shape, fresh = self.expr(self.integer(1, 3))
        name = self.fresh()
        self.emit(f"{name} = {text}")
        self.bind(Var(name, shape, owned=fresh and bool(shape)))

    def s_alias(self) -> None:
        v = self.pick()
        assert v is not None
        name = self.fresh()
        self.emit(f"{name} = {v.text}")
        self.tag("alias")
        self.bind(
            Var(
                name,
                v.shape,
                owned=v.owned,
                base=v.base or (v.text if v.owned else None),
            )
        )

    def rebindable(self) -> tuple[Var, str] | None:
        """A local this function may rebind, and an expression that broadcasts to its shape."""
        v = self.pick(
            lambda v: not v.const and not v.readonly and v.text.isidentifier()
        )
        if v is None:
            return None
        assert v.shape is not None
        e, s, _ = self.expr(self.integer(1, 2))
        return v, e if bshape(s, v.shape) == v.shape else f"np.mean({e})"

    def s_update(self) -> None:
        got = self.rebindable()
        if got is None:
            return self.s_assign()
        v, e = got
        form = self.choice(
            ["np.tanh({v} + {e})", "{v} * 0.9 + np.sin({e})", "{v} - 0.1 * ({e})"]
        )
        self.emit(f"{v.text} = {form.format(v=v.text, e=e)}")
        self.tag("update")
        self.bind(Var(v.text, v.shape, owned=bool(v.shape)))

    def index_for(self, s: Shape) -> tuple[str, Shape, bool]:
        """(index text, shape of the indexed part, fancy)."""
        opts: list[tuple[str, Shape, bool]] = [
            ("0", s[1:], False),
            ("1:", (s[0] - 1,) + s[1:], False),
        ]
        opts.append(("::-1", s, False))
        if len(s) >= 2:
            opts.append((":, 0", (s[0],) + s[2:], False))
            opts.append(("..., 1:", s[:-1] + (s[-1] - 1,), False))
        if s[0] >= 2:
            opts.append(("[1, 0]", (2,) + s[1:], True))
        for i, bound in self.ints:
            if s[0] >= bound:
                opts.append((i, s[1:], False))
        return self.choice(opts)

    def s_setitem(self) -> None:
        v = self.pick(lambda v: v.owned and not v.readonly and len(v.shape or ()) >= 1)
        if v is None:
            return self.s_own()
        assert v.shape is not None
        idx, s, fancy = self.index_for(v.shape)
        if any(d <= 0 for d in s):
            return self.s_assign()
        e, es = self.with_shape(s) if self.flag() else self.scalar_expr()
        op = self.choice(["=", "+=", "*="])
        if op == "*=":
            e = f"np.tanh({e})"
        self.emit(f"{v.text}[{idx}] {op} {e}")
        self.tag("setitem")
        if fancy:
            self.tag("setitem-fancy")
        self.note_write(v)

    def s_handed(self) -> None:
        """``v = fill_edges(v)``: a module-level helper writes into the array passed to it
        and returns it; the caller binds the same name again (or, sometimes, another).
        """
        v = self.pick(
            lambda v: v.owned
            and not v.readonly
            and v.base is None
            and v.shape is not None
            and len(v.shape) >= 1
            and v.shape[0] >= 2
            and v.text.isidentifier()
        )
        if v is None:
            return self.s_assign()
        if not any(b.startswith("def fill_edges(") for b in self.mod.blocks):
            self.mod.blocks.append(
                "def fill_edges(Z, s=0.5):\n    Z[0] = Z[-1] * s\n"
                "    Z[-1] += np.tanh(Z[0])\n    return Z\n"
            )
        e, _ = self.scalar_expr()
        target = v.text if self.integer(0, 3) else self.fresh()
        self.emit(f"{target} = fill_edges({v.text}, {e})")
        self.tag("helper-write")
        self.note_write(v)
        if target != v.text:
            self.bind(Var(target, v.shape))

    def s_call_write(self) -> None:
        """A write by a call into an array made here: ``np.add.at(v, idx, e)``,
        ``np.subtract.at``, ``np.fill_diagonal(v, e)`` or ``np.f(v, e, out=v)`` (lowered
        as writes; a loop must carry the array they write)."""
        v = self.pick(lambda v: v.owned and not v.readonly and len(v.shape or ()) >= 1)
        if v is None:
            return self.s_own()
        assert v.shape is not None
        form = self.choice(
            ["at", "out", "fill"] if len(v.shape) == 2 else ["at", "out"]
        )
        if form == "fill":
            e, _ = self.scalar_expr()
            self.emit(f"np.fill_diagonal({v.text}, {e})")
        elif form == "out":  # `np.f(v, e, out=v)`: the write v[...] = np.f(v, e)
            e, _ = self.with_shape(v.shape) if self.flag() else self.scalar_expr()
            call = self.choice(
                ["np.add({v}, {e}, out={v})", "np.multiply({v}, np.tanh({e}), out={v})"]
                + ["np.tanh({v}, out={v})", "np.maximum({e}, {v}, out=({v},))"]
            )
            self.emit(call.format(v=v.text, e=e))
        else:
            opts = [("0", v.shape[1:])]
            if v.shape[0] >= 2:
                opts.append(("[1, 0, 1]", (3,) + v.shape[1:]))
            opts += [(i, v.shape[1:]) for i, bound in self.ints if v.shape[0] >= bound]
            idx, s = self.choice(opts)
            e, _ = self.with_shape(s) if self.flag() else self.scalar_expr()
            ufunc = self.choice(["add", "subtract"])
            self.emit(f"np.{ufunc}.at({v.text}, {idx}, {e})")
        self.tag("call-write")
        self.note_write(v)

    def scalar_expr(self) -> tuple[str, Shape]:
        v = self.pick()
        assert v is not None
        return f"np.mean({v.text})", ()

    def note_write(self, v: Var) -> None:
        if v.base is not None:
            self.tag("view-write")
        if any(w.base == v.text for w in self.env if w is not v):
            self.tag("write-base-with-live-view")

    def s_own(self) -> None:
        v = self.pick(lambda v: len(v.shape or ()) >= 1)
        if v is None:
            return self.s_assign()
        name = self.fresh()
        if self.flag():
            # `q, p = np.copy(q), p.copy()`: names unpacked from new arrays, written later
            other = self.pick()
            if other is not None:
                name2 = self.fresh()
                self.emit(f"{name}, {name2} = np.copy({v.text}), ({other.text}) * 1.0")
                self.tag("unpack")
                self.bind(Var(name2, other.shape, owned=bool(other.shape)))
                self.bind(Var(name, v.shape, owned=True))  # last: callers read env[-1]
                return
        self.emit(
            f"{name} = {self.choice(['{a}.copy()', '{a} * 1.0', 'np.array({a})', '{a} + 0.0']).format(a=v.text)}"
        )
        self.bind(Var(name, v.shape, owned=True))

    def s_augassign(self) -> None:
        got = self.rebindable()
        if got is None:
            return self.s_assign()
        v, e = got
        op = self.choice(["+=", "-=", "*="])
        if op == "*=":
            e = f"np.tanh({e})"
        if not v.owned:
            # on an array not made here: += rebinds only if it is not an array: copy first
            self.emit(f"{v.text} = {v.text} + 0.0")
            self.bind(Var(v.text, v.shape, owned=bool(v.shape)))
            v = self.env[-1]
        self.emit(f"{v.text} {op} {e}")
        self.tag("augassign")
        self.note_write(v)

    def s_viewvar(self) -> None:
        v = self.pick(lambda v: v.owned and len(v.shape or ()) >= 1)
        if v is None:
            v = self.pick(lambda v: len(v.shape or ()) >= 1)
            if v is None:
                return self.s_assign()
        self.s_viewvar_of(v)

    def s_viewvar_of(self, v: Var) -> None:
        text, shape, name = self.view_of(v)
        nm = self.fresh("w")
        self.emit(f"{nm} = {text}")
        # views that numpy marks read-only (broadcast_to, sliding windows, ...) are not written
        writable = name not in {
            "broadcast_to",
            "lib.stride_tricks.sliding_window_view",
            "broadcast_arrays",
            "diagonal",
            "linalg.diagonal",
            "diag",
            "meshgrid",
            "real_if_close",
        }
        owned = v.owned and writable and bool(shape)
        self.bind(
            Var(nm, shape, owned=owned, base=(v.base or v.text) if owned else None)
        )

    def s_view_write(self) -> None:
        """A view of an array made here, a write into the view or into its base, both read."""
        v = self.pick(lambda v: len(v.shape or ()) >= 1)
        if v is None:
            return self.s_assign()
        self.s_own() if not v.owned else None
        base = self.env[-1] if not v.owned else v
        self.s_viewvar_of(base)
        view = self.env[-1]
        target = view if view.owned and self.flag() else base
        assert target.shape is not None
        idx, s, fancy = self.index_for(target.shape)
        if any(d <= 0 for d in s):
            return
        e, _ = self.with_shape(s)
        op = self.choice(["=", "+=", "*="])
        self.emit(f"{target.text}[{idx}] {op} {e}")
        self.tag("setitem")
        if fancy:
            self.tag("setitem-fancy")
        self.note_write(target)
        if target is base:
            self.tag("write-base-with-live-view")
        name = self.fresh()
        self.emit(f"{name} = np.sum({view.text}) + np.tanh({base.text})")
        self.bind(Var(name, base.shape, owned=True))

    def s_container(self) -> None:
        a, sa, _ = self.expr(1)
        b, sb, _ = self.expr(1)
        kind = self.choice(["tuple", "dict", "unpack", "list"])
        name = self.fresh("c")
        if kind == "tuple":
            self.emit(f"{name} = ({a}, {b})")
            self.tag("tuple")
            self.bind(Var(f"{name}[0]", sa))
            self.bind(Var(f"{name}[1]", sb))
        elif kind == "dict":
            self.emit(f'{name} = {{"p": {a}, "q": {b}}}')
            self.tag("dict")
            self.bind(Var(f'{name}["p"]', sa))
            self.bind(Var(f'{name}["q"]', sb))
        elif kind == "unpack":
            p, q = self.fresh(), self.fresh()
            self.emit(f"{p}, {q} = {a}, {b}")
            self.tag("unpack")
            self.bind(Var(p, sa))
            self.bind(Var(q, sb))
        else:
            self.emit(f"{name} = [{a}, {b}]")
            self.tag("list-literal", "named-display")
            self.bind(Var(f"{name}[1]", sb))
            self.bind(Var(f"{name}[0]", sa))
            if sa == sb and sa:
                self.lists.append(ListVar(name, sa, 2, 2, owned=True))

    def s_tuple_call(self) -> None:
        fn = self.new_function("tuple") if self.flag() or not self.mod.funcs else None
        funcs = [f for f in self.mod.funcs + self.local_funcs if f.ret[0] == "tuple"]
        if fn is None:
            if not funcs:
                return self.s_assign()
            fn = self.choice(funcs)
        args = [self.with_shape(p)[0] for p in fn.params]
        p, q = self.fresh(), self.fresh()
        self.emit(f"{p}, {q} = {self.callee(fn)}({', '.join(args)})")
        self.tag("call", "call-tuple")
        self.bind(Var(p, fn.ret[1][0]))
        self.bind(Var(q, fn.ret[1][1]))

    def s_list_call(self) -> None:
        fn = self.new_function("list")
        if fn is None:
            return self.s_assign()
        args = [self.with_shape(p)[0] for p in fn.params]
        name = self.fresh("acc")
        self.emit(f"{name} = {self.callee(fn)}({', '.join(args)})")
        self.tag("call", "call-list", "callee-returns-list")
        item, n = fn.ret[1]
        self.lists.append(ListVar(name, item, n, n))
        self.use_list(self.lists[-1])

    def s_list(self) -> None:
        """A list built by append in a loop, then read."""
        e, s, _ = self.expr(1)
        if not s:
            e, s = f"np.broadcast_to({e}, (3,))", (3,)
        name = self.fresh("acc")
        n = self.integer(1, 3)
        i = self.fresh("i")
        if self.integer(0, 6) == 0:
            # `hs = [None] * n; hs[i] = ...`: a Python list written by index (refused)
            self.emit(f"{name} = [None] * {n}")
            self.emit(f"for {i} in range({n}):")
            self.emit(f"    {name}[{i}] = np.sin({e}) * ({i} + 1.0)")
            self.tag("list-slots", "loop-range")
            lv = ListVar(name, s, n, n, owned=True)
            self.lists.append(lv)
            self.use_list(lv)
            return
        if self.flag():
            self.emit(f"{name} = []")
            lo = 0
        else:
            self.emit(f"{name} = [{e}]")
            self.tag("list-literal")
            lo = 1
        run = self.fresh("run") if self.flag() else None
        if run is not None:  # the whole list read while the loop still grows it
            self.emit(f"{run} = 0.0")
        self.emit(f"for {i} in range({n}):")
        inner = self.child()
        inner.ints.append((i, n))
        inner.loop = "for"
        item, _ = inner.with_shape(s)
        inner.emit(f"{name}.append(np.sin({item}) * ({i} + 1.0))")
        if run is not None:
            read = self.choice(
                [f"np.stack({name})", f"sum({name})", f"np.mean({name}, axis=0)"]
            )
            inner.emit(f"{run} = {run} + np.sum(np.tanh({read}) ** 2)")
        self.body_of(inner)
        self.adopt(inner, self.child(), loop=True)
        self.tag("list-append", "loop-range")
        if run is not None:
            self.tag("list-read-while-growing")
            self.bind(Var(run, ()))
        lv = ListVar(name, s, lo + n, lo + n, owned=True)
        self.lists.append(lv)
        self.use_list(lv)

    def use_list(self, lv: ListVar) -> None:
        if lv.lo < 1:
            return
        name = self.fresh()
        how = self.choice(
            ["stack", "sum", "index", "loop-index", "iterate", "concat", "reversed"]
        )
        if how == "stack" and lv.lo == lv.hi:
            self.emit(f"{name} = np.stack({lv.name})")
            self.tag("list-stack")
            self.bind(Var(name, (lv.lo,) + lv.item, owned=True))
        elif how == "concat" and lv.lo == lv.hi and lv.item:
            self.emit(f"{name} = np.concatenate({lv.name}, axis=0)")
            self.tag("list-stack")
            self.bind(Var(name, (lv.lo * lv.item[0],) + lv.item[1:], owned=True))
        elif how == "sum":
            self.emit(f"{name} = sum({lv.name})")
            self.tag("list-sum")
            self.bind(Var(name, lv.item))
        elif how == "loop-index":
            i = self.fresh("i")
            acc, _ = self.with_shape(lv.item)
            self.emit(f"{name} = {acc} * 0.5")
            self.emit(f"for {i} in range(len({lv.name})):")
            self.emit(f"    {name} = {name} + np.tanh({lv.name}[{i}]) * ({i} + 1.0)")
            self.tag("list-index-by-loop", "loop-range")
            self.bind(Var(name, lv.item))
        elif how == "reversed":
            it = self.fresh("it")
            acc, _ = self.with_shape(lv.item)
            self.emit(f"{name} = {acc} * 0.5")
            self.emit(f"for {it} in reversed({lv.name}):")
            self.emit(f"    {name} = np.tanh({name} * 0.5 + {it})")
            self.tag("list-reversed")
            self.bind(Var(name, lv.item))
        elif how == "iterate":
            it = self.fresh("it")
            acc, _ = self.with_shape(lv.item)
            self.emit(f"{name} = {acc} * 0.5")
            self.emit(f"for {it} in {lv.name}:")
            self.emit(f"    {name} = np.tanh({name} + {it})")
            self.tag("list-iterate")
            self.bind(Var(name, lv.item))
        else:
            k = self.choice([0, -1, lv.lo - 1])
            self.emit(f"{name} = {lv.name}[{k}] * 1.5")
            self.tag("list-index")
            self.bind(Var(name, lv.item, owned=bool(lv.item)))

    def s_use_list(self) -> None:
        self.use_list(self.choice(self.lists))

    def s_comprehension(self) -> None:
        if self.lists and self.integer(0, 2) == 0:
            # a list rebound to a new list read from itself (`xs = [f(x) for x in xs]`,
            # `xs = xs[::-1]`): the new list may be bound only after it is read
            lv = self.choice(self.lists)
            if self.flag():
                self.emit(f"{lv.name} = [np.sin(r) + 1.0 for r in {lv.name}]")
            else:
                self.emit(f"{lv.name} = {lv.name}[::-1]")
            self.tag("list-rebuild")
            return self.use_list(lv)
        v = self.pick(lambda v: len(v.shape or ()) >= 1)
        if v is None:
            return self.s_assign()
        assert v.shape is not None
        name = self.fresh("acc")
        self.tag("list-comprehension")
        if self.flag():
            self.emit(f"{name} = [np.tanh(r) * 2.0 for r in {v.text}]")
            lv = ListVar(name, v.shape[1:], v.shape[0], v.shape[0])
            self.lists.append(lv)
            self.use_list(lv)
        else:
            n = self.fresh()
            self.emit(f"{n} = sum(np.sum(r * r) for r in {v.text})")
            self.tag("generator-sum")
            self.bind(Var(n, ()))

    def s_nested(self) -> None:
        if not self.may_nest():
            return self.s_assign()
        fn = self.new_function("array")
        if fn is None:
            return self.s_assign()
        if True:
            args = [self.with_shape(p)[0] for p in fn.params]
            name = self.fresh()
            self.emit(f"{name} = {self.callee(fn)}({', '.join(args)})")
            self.tag("closure-call" if fn in self.local_funcs else "call", "call")
            self.bind(Var(name, fn.ret[1]))

    # compound statements: a child context sees a copy of the environment
    def child(self) -> Ctx:
        c = Ctx(
            self.mod,
            [
                Var(v.text, v.shape, v.owned, v.base, v.const, v.readonly)
                for v in self.env
            ],
            indent=self.indent + 1,
            depth=self.depth + 1,
            fname=self.fname,
            returns=self.returns,
        )
        c.ints = list(self.ints)
        c.local_funcs = list(self.local_funcs)
        c.lists = [
            ListVar(lv.name, lv.item, lv.lo, lv.hi, lv.owned) for lv in self.lists
        ]
        c.loop = self.loop
        c.hidden = self.hidden
        return c

    def body_of(self, c: Ctx) -> None:
        """Append a compound statement's body (``pass`` when it wrote nothing)."""
        self.lines.extend(c.lines or ["    " * c.indent + "pass"])

    def adopt(
        self, *branches: Ctx, loop: bool = False, exhaustive: bool = True
    ) -> None:
        """Merge the environments of branches (any of which may be the one that ran)."""
        before = {v.text: v for v in self.env}
        new_env: list[Var] = []
        for v in self.env:
            versions = [
                next((w for w in b.env if w.text == v.text), None) for b in branches
            ]
            if any(w is None or w.shape != v.shape for w in versions):
                continue  # rebound with another shape somewhere: forget it
            owned = v.owned and all(w.owned for w in versions if w is not None)
            base = (
                v.base
                if all(w is not None and w.base == v.base for w in versions)
                else None
            )
            if v.base is not None and base is None:
                owned = False
            new_env.append(Var(v.text, v.shape, owned, base, v.const, v.readonly))
        if exhaustive and not loop and len(branches) == 2:
            a, b = branches
            for w in a.env:
                if w.text in before:
                    continue
                other = next((x for x in b.env if x.text == w.text), None)
                if other is not None and other.shape == w.shape:
                    new_env.append(Var(w.text, w.shape, w.owned and other.owned, None))
        self.env = new_env
        # lists: appends inside a branch or loop make their lengths uncertain
        for lv in self.lists:
            for b in branches:
                blv = next((x for x in b.lists if x.name == lv.name), None)
                if blv is not None:
                    lv.lo = min(lv.lo, blv.lo) if not loop else lv.lo
                    lv.hi = max(lv.hi, blv.hi)

    def s_if(self) -> None:
        c = self.cond()
        self.emit(f"if {c}:")
        a = self.child()
        a.block(self.integer(1, 3))
        self.body_of(a)
        self.tag("if")
        if self.flag():
            b = self.child()
            b.block(self.integer(1, 3))
            self.emit("else:")
            self.body_of(b)
            self.tag("if-else")
            self.adopt(a, b)
        else:
            self.adopt(a, self.child())

    def s_for(self) -> None:
        n = self.integer(1, 3)
        i = self.fresh("i")
        self.emit(f"for {i} in range({n}):")
        body = self.child()
        body.ints.append((i, n))
        body.loop = "for"
        body.block(self.integer(1, 4))
        self.body_of(body)
        self.tag("loop-range")
        self.loop_else(body)

    def loop_else(self, body: Ctx) -> None:
        """Sometimes an ``else`` clause (it runs when the loop ends without a break)."""
        if self.flag():
            other = self.child()
            other.block(self.integer(1, 2))
            self.emit("else:")
            self.body_of(other)
            self.tag("loop-else")
            self.adopt(body, other, self.child(), loop=True)
        else:
            self.adopt(body, self.child(), loop=True)

    def s_for_iter(self) -> None:
        v = self.pick(lambda v: len(v.shape or ()) >= 1 and v.shape[0] >= 2)  # type: ignore[index]
        lps = [lv for lv in self.lists if lv.lo == lv.hi and lv.lo >= 2]
        r = self.fresh("r")
        body = self.child()
        body.loop = "for"
        how = self.choice(["array", "slice", "enumerate", "zip", "list", "constants"])
        if how == "constants":
            # a module-level tuple of floats: plain, enumerate (start=), reversed, zip
            t, n = self.mod.constant_tuple(self.integer(2, 4))
            k = self.fresh("k")
            form = self.choice(["plain", "enumerate", "start", "reversed", "zip"])
            if form == "zip" and v is not None and v.shape is not None:
                r2 = self.fresh("r")
                self.emit(f"for {r}, {r2} in zip({t}, {v.text}):")
                body.bind(Var(r2, v.shape[1:]))
            elif form in ("enumerate", "start"):
                start = ", start=1" if form == "start" else ""
                self.emit(f"for {k}, {r} in enumerate({t}{start}):")
                body.ints.append((k, n))
            elif form == "reversed":
                self.emit(f"for {r} in reversed({t}):")
            else:
                self.emit(f"for {r} in {t}:")
            self.tag("loop-constants")
            body.bind(Var(r, None))
        elif how == "list" and lps:
            lv = self.choice(lps)
            sl = self.choice(["", "[:-1]", "[1:]"])
            self.emit(f"for {r} in {lv.name}{sl}:")
            self.tag("list-iterate" if not sl else "loop-over-slice")
            body.bind(Var(r, lv.item))
        elif v is None:
            return self.s_for()
        else:
            assert v.shape is not None
            if how == "slice":
                self.emit(f"for {r} in {v.text}[1:]:")
                self.tag("loop-over-slice")
            elif how == "enumerate":
                k = self.fresh("k")
                self.emit(f"for {k}, {r} in enumerate({v.text}):")
                self.tag("loop-enumerate")
                body.ints.append((k, v.shape[0]))
            elif how == "zip":
                w = self.pick(lambda w: len(w.shape or ()) >= 1)
                assert w is not None and w.shape is not None
                r2 = self.fresh("r")
                self.emit(f"for {r}, {r2} in zip({v.text}, {w.text}):")
                self.tag("loop-zip")
                body.bind(Var(r2, w.shape[1:]))
            else:
                self.emit(f"for {r} in {v.text}:")
                self.tag("loop-over-array")
            body.bind(Var(r, v.shape[1:]))
        body.block(self.integer(1, 3))
        self.body_of(body)
        self.adopt(body, self.child(), loop=True)

    def s_while(self) -> None:
        j = self.fresh("j")
        n = self.integer(1, 3)
        self.emit(f"{j} = 0")
        self.emit(f"while {j} < {n}:")
        body = self.child()
        body.loop = "while"
        body.emit(f"{j} += 1")
        body.block(self.integer(1, 3))
        self.body_of(body)
        self.tag("while")
        self.loop_else(body)

    def s_break(self) -> None:
        self.emit(f"if {self.cond()}:")
        self.emit("    break")
        self.tag("break")

    def s_continue(self) -> None:
        self.emit(f"if {self.cond()}:")
        self.emit("    continue")
        self.tag("continue")

    def s_early_return(self) -> None:
        assert self.returns is not None
        self.emit(f"if {self.cond()}:")
        self.emit(f"    return {self.returns(self)}")
        self.tag("early-return")


def _f_return(ctx: Ctx) -> str:
    arrays = ctx.arrays(lambda v: not v.const)
    a = arrays[-1]
    b = ctx.choice(arrays)
    return f"np.sum(np.sin({a.text})) + 0.5 * np.sum({b.text} * {b.text})"


@st.composite
def programs(draw: Callable[..., Any], max_statements: int = 12) -> Program:
    mod = Module(draw)
    args: list[dict[str, Any]] = []
    env: list[Var] = []
    n_arrays = draw(st.integers(1, 3))
    names = ["x", "w", "y"]
    for i in range(n_arrays):
        shape = draw(st.sampled_from(ARG_SHAPES))
        args.append({"name": names[i], "kind": "array", "shape": list(shape)})
        env.append(Var(names[i], shape))
    extra = draw(st.sampled_from(["none", "float", "list", "pairs"]))
    lists: list[ListVar] = []
    pairs = None
    if extra == "float":
        args.append({"name": "s", "kind": "float"})
        env.append(Var("s", None))
    elif extra == "list":
        shape = draw(st.sampled_from(ARG_SHAPES[:3]))
        n = draw(st.integers(2, 3))
        args.append({"name": "ps", "kind": "list", "shapes": [list(shape)] * n})
        lists.append(ListVar("ps", shape, n, n))
        env += [Var("ps[0]", shape), Var("ps[-1]", shape)]
        mod.tags.add("list-param")
    elif extra == "pairs":
        n = draw(st.integers(2, 3))
        args.append({"name": "layers", "kind": "pairs", "shapes": [[[4, 4], [4]]] * n})
        pairs = n
        mod.tags.add("pairs-param")
    # a global the program reads (helpers sometimes name a parameter after it)
    if draw(st.booleans()):
        mod.constant(draw(st.sampled_from(ARG_SHAPES)))
    env += mod.global_vars
    ctx = Ctx(mod, env, returns=_f_return)
    ctx.lists = lists
    if pairs is not None:
        n0, e0 = len(ctx.lines), len(mod.events)
        h = ctx.fresh("h")
        src = ctx.pick(lambda v: (v.shape or ())[-1:] == (4,))
        ctx.emit(f"{h} = {src.text if src is not None else 'np.ones(4)'}")
        how = draw(st.sampled_from(["all", "slice", "index"]))
        if how == "index":
            ctx.emit(f"for li in range(len(layers)):")
            ctx.emit(f"    W, b = layers[li]")
            mod.tags.add("list-index-by-loop")
        else:
            ctx.emit(f"for layer in layers{'[:-1]' if how == 'slice' else ''}:")
            ctx.emit("    W, b = layer")
            if how == "slice":
                mod.tags.add("loop-over-slice")
        ctx.emit(f"    {h} = np.tanh({h} @ W + b)")
        ctx.bind(Var(h, src.shape if src is not None else (4,)))
        mod.tags.update({"unpack", "matmul"})
        mod.events.extend(
            ["pairs-param", "unpack", "matmul"]
            + sorted(mod.tags & {"list-index-by-loop", "loop-over-slice"})
        )
        ctx.note_lines(n0, e0)
    ctx.block(draw(st.integers(1, max_statements)))
    ctx.emit(f"return {_f_return(ctx)}")
    header = "import numpy as np\n"
    if mod.uses_srcgrad:
        header += "\nimport srcgrad\n"
    parts = [header]
    if mod.consts:
        parts.append("\n".join(mod.consts) + "\n")
    parts += mod.blocks
    params = ", ".join(a["name"] for a in args)
    parts.append(f"def f({params}):\n" + "\n".join(ctx.lines) + "\n")
    text = "\n\n".join(p.rstrip("\n") + "\n" for p in parts)
    seed = draw(st.integers(0, 2**31 - 1))
    tags = frozenset(mod.tags)
    line_tags = {k: frozenset(v) for k, v in mod.line_tags.items()}
    return Program(text, args, seed, tags, line_tags)
