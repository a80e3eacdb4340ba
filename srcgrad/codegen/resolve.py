"""Stage 3: bind every called name to what it is.

After this stage every call target in the function is known as one of: a primitive with an
adjoint rule, a declared non-differentiable function, ``stop_gradient``, an array method, a
builtin, or a user function (reported as not supported yet).  Names are bound through the
function's closure cells, its ``__globals__`` and builtins, exactly as Python would at call
time; the values themselves are never folded into the emitted file.
"""

from __future__ import annotations

import builtins
import difflib
import functools
import inspect
import math
import os
import site
import sys
import sysconfig
import types
from dataclasses import dataclass
from typing import Any, Callable

import libcst as cst
import numpy as np

from srcgrad.custom import CustomVJP
from srcgrad.rules import registry
from srcgrad.rules.registry import Rule
from srcgrad.runtime import stop_gradient

# The per-primitive facts (which array methods, attributes, ``math`` functions and builtins stand
# for which rule) live on the rules: ``registry.by_method`` and friends.  The tables here are
# about Python itself.

# math functions whose result carries no gradient (integers, booleans, piecewise constants)
MATH_NONDIFF = {
    "floor",
    "ceil",
    "trunc",
    "isnan",
    "isinf",
    "isfinite",
    "factorial",
    "comb",
}

# array methods that write into the array in place: the functional rewrite cannot follow them
# (the forward would change the array, the backward would not know); method -> the hint
MUTATING_METHODS = {
    "sort": "y = np.sort(y)",
    "partition": "y = np.partition(y, kth)",
    "fill": "y = np.full_like(y, value)",
    "put": "y = y.copy(); y[indices] = values",
    "itemset": "y = y.copy(); y[index] = value",
    "resize": "y = np.reshape(y, shape) (or np.concatenate to grow it)",
    "setflags": "drop the call; srcgrad never writes into arrays it did not make",
    "setfield": "build a new array",
    "byteswap": "build a new array",
    "__setitem__": "y = y.copy(); y[key] = value",
    "__iadd__": "y = y + v",
    "__isub__": "y = y - v",
    "__imul__": "y = y * v",
    "__itruediv__": "y = y / v",
}
# numpy functions that write into their first argument in place; name -> the hint
MUTATING_FUNCTIONS = {
    "fill_diagonal": "y = y + np.diag(value - np.diagonal(y)) (or build y with np.where)",
    "copyto": "y = np.where(mask, src, y) (or y = src)",
    "put": "y = y.copy(); y[indices] = values",
    "place": "y = np.where(mask, values, y)",
    "putmask": "y = np.where(mask, values, y)",
    "put_along_axis": "y = y.copy(); y[index arrays] = values",
    "random.shuffle": "y = y[rng.permutation(len(y))]",
    "add.at": "call it as a statement of its own on an array named here: "
    "np.add.at(y, indices, values)",
    "subtract.at": "call it as a statement of its own on an array named here: "
    "np.subtract.at(y, indices, values)",
    "multiply.at": "y = y.copy(), then one write per index (repeated ones multiply): "
    "for i, v in zip(indices, values): y[i] = y[i] * v",
}
# array methods that leave the array world with the values (Python floats and lists): the
# gradient cannot follow them; method -> the hint
CONVERTING_METHODS = {
    "tolist": "keep the array: index it (x[i]) or reduce it (np.sum(x))",
    "item": "index it: x[i] (x.reshape(())[()] for a one-element array)",
    "tobytes": "keep the array",
    "tostring": "keep the array",
    "tofile": "save the array outside the differentiated function",
    "dump": "save the array outside the differentiated function",
    "dumps": "save the array outside the differentiated function",
    "view": "use the array itself, or x.astype(dtype) for a new dtype",
    "getfield": "index the array",
}
ARRAY_ATTRIBUTES_STATIC = {
    "shape",
    "ndim",
    "size",
    "dtype",
    "itemsize",
    "nbytes",
    "strides",
}

BUILTIN_NONDIFF = {
    "len",
    "int",
    "bool",
    "round",
    "range",
    "isinstance",
    "str",
    "repr",
    "type",
    "slice",
    "print",
}
BUILTIN_LATER = {"sum", "map", "filter", "sorted", "zip", "enumerate"}
# builtins that read or change names by string, or the calling frame: what they return or do
# cannot be known from the source, so they are refused whatever their arguments
# (name -> the hint)
FRAME_BUILTINS = {
    "eval": "write the expression itself in the function",
    "exec": "write the statements themselves in the function",
    "compile": "write the code itself in the function",
    "locals": "use the names themselves",
    "vars": "use the names (or attributes) themselves",
    "globals": "use the global names themselves",
    "__import__": "import the module at the top of the file",
    "setattr": "pass values as arguments, or return them",
    "delattr": "pass values as arguments, or return them",
    "breakpoint": "debug the emitted gradient module instead (srcgrad show)",
}


@dataclass
class Resolved:
    """What a called (or referenced) name is."""

    kind: str  # rule | nondiff | stop_gradient | builtin | user | unknown | value | module
    obj: Any = None
    rule: Rule | None = None
    display: str = ""
    emit_name: str | None = (
        None  # numpy path to call through xp, e.g. "tanh", "linalg.inv"
    )


class Resolver:
    """Looks names up the way Python will at call time, without folding values in."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        code = fn.__code__
        cells = fn.__closure__ or ()
        self.closure = {}
        for name, cell in zip(code.co_freevars, cells):
            try:
                self.closure[name] = cell.cell_contents
            except ValueError:  # empty cell
                pass
        self.globals = fn.__globals__

    # -- names ------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.closure:
            return True, self.closure[name]
        if name in self.globals:
            return True, self.globals[name]
        if hasattr(type(self.globals), "__missing__"):
            # an emitted module's globals (cache.UserGlobals): its user's globals and the
            # closure variables of its table, read through (forward over reverse)
            try:
                return True, self.globals[name]
            except (KeyError, NameError):
                pass
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None

    def dotted(self, node: cst.BaseExpression) -> list[str] | None:
        """``np.linalg.inv`` -> ["np", "linalg", "inv"]; None if not a dotted name."""
        parts: list[str] = []
        while isinstance(node, cst.Attribute):
            parts.append(node.attr.value)
            node = node.value
        if not isinstance(node, cst.Name):
            return None
        parts.append(node.value)
        return list(reversed(parts))

    def value_of(self, parts: list[str]) -> tuple[bool, Any]:
        found, obj = self.lookup(parts[0])
        if not found:
            return False, None
        for p in parts[1:]:
            if not hasattr(obj, p):
                return False, None
            obj = getattr(obj, p)
        return True, obj

    # -- operators --------------------------------------------------------------------
    def operator_rule(self, symbol: str) -> Rule | None:
        return registry.by_operator(symbol)

    # -- callables --------------------------------------------------------------------
    def classify(self, obj: Any, display: str) -> Resolved:
        """Classify a callable object found under ``display``."""
        if obj is stop_gradient:
            return Resolved("stop_gradient", obj, display=display)
        if isinstance(obj, CustomVJP):
            return Resolved("custom", obj, _custom_rule(obj), display)
        rule = registry.lookup(obj)
        if rule is not None:
            return Resolved("rule", obj, rule, display, emit_name=rule.name)
        if registry.is_nondiff(obj):
            return Resolved(
                "nondiff", obj, display=display, emit_name=registry.NONDIFF[id(obj)]
            )
        if (
            isinstance(obj, types.BuiltinFunctionType)
            and getattr(obj, "__module__", "") == "math"
        ):
            name = obj.__name__
            r = registry.by_math(name)
            if r is not None:
                return Resolved("rule", obj, r, display)
            if name in MATH_NONDIFF:
                return Resolved("nondiff", obj, display=display)
            return Resolved("unknown", obj, display=display)
        if getattr(builtins, getattr(obj, "__name__", ""), None) is obj:
            r = registry.by_builtin(obj.__name__)
            if r is not None:
                return Resolved("rule", obj, r, display)
            return Resolved("builtin", obj, display=display)
        if _is_numpy_callable(obj):
            return Resolved("unknown-numpy", obj, display=display)
        if isinstance(obj, (types.FunctionType, types.MethodType)):
            return Resolved("user", obj, display=display)
        if isinstance(obj, type):
            return Resolved("type", obj, display=display)
        return Resolved("unknown", obj, display=display)


# Array libraries whose functions srcgrad differentiates only through registered rules: their
# Python source is never inlined (it is not user code; it may hold decorators, C calls and
# dispatch that no rule covers), so a function of theirs without a rule is a missing rule.
LIBRARIES = (
    "numpy",
    "scipy",
    "cupy",
    "cupyx",
    "jax",
    "jaxlib",
    "torch",
    "sklearn",
    "pandas",
)


def frame_reader(obj: Any) -> str | None:
    """The hint for a callable that reads or changes names by string or the calling frame
    (``eval``, ``locals``, ``sys._getframe``, ...), or ``None`` for any other callable.
    """
    name = getattr(obj, "__name__", "")
    if name in FRAME_BUILTINS and getattr(builtins, name, None) is obj:
        return FRAME_BUILTINS[name]
    if obj is getattr(sys, "_getframe", None) or obj in (
        inspect.currentframe,
        inspect.stack,
    ):
        return "use the names themselves"
    return None


def library_hint(obj: Any) -> str | None:
    """What to write instead of a library function that has no rule, where there is more
    to say than for any function: a ``scipy.stats`` distribution's method (``norm.ppf``,
    ``expon.logpdf``) or function; None for others."""
    owner = getattr(obj, "__self__", None)
    mod = getattr(obj, "__module__", None) or ""
    if not (
        mod.startswith("scipy.stats")
        or type(owner).__module__.startswith("scipy.stats")
    ):
        return None
    supported = sorted(
        "scipy." + r.name for r in registry.all_rules() if r.name.startswith("stats.")
    )
    return (
        "write the density with numpy (a normal's log-density is -0.5 * ((x - mu) / s) "
        "** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)), or wrap inputs that carry no "
        "gradient in srcgrad.stop_gradient; the scipy.stats methods with rules are "
        + ", ".join(supported)
    )


def _is_numpy_callable(obj: Any) -> bool:
    if isinstance(obj, np.ufunc):  # numpy's own, or scipy.special's (no __module__)
        special = sys.modules.get("scipy.special")
        return getattr(np, obj.__name__, None) is obj or (
            special is not None and getattr(special, obj.__name__, None) is obj
        )
    mod = getattr(obj, "__module__", None) or ""
    return mod.split(".", 1)[0] in LIBRARIES


# --------------------------------------------------------------------------- library code


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    """The directories installed code lives in: the standard library and site-packages."""
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    try:
        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except AttributeError:  # an old virtualenv's site module
        pass
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


_INSTALLED = ("site-packages", "dist-packages")


def _installed_file(filename: str) -> bool:
    """Whether ``filename`` is installed code (a site-packages folder, or the standard
    library), not code of the program being differentiated."""
    path = os.path.realpath(filename)
    parts = path.split(os.sep)
    return any(p in _INSTALLED for p in parts) or path.startswith(_library_dirs())


def _top_module(obj: Any) -> str:
    return (getattr(obj, "__module__", None) or "").split(".", 1)[0]


def library_function(fn: Any, home: Any) -> str | None:
    """The dotted name of ``fn`` (``scipy.linalg.cho_solve``, ``fakelib.scale``) when it is
    library code: a function of an array library (``LIBRARIES``), or one defined in an
    installed package or the standard library, outside the package of ``home`` (the
    function being differentiated: a program installed as a package inlines its own
    helpers).  ``None`` for the program's own functions and for srcgrad's."""
    try:
        inner = inspect.unwrap(fn)
    except ValueError:  # a __wrapped__ cycle
        inner = fn
    top = _top_module(inner) or _top_module(fn)
    if top == "srcgrad":
        return None
    if top in LIBRARIES:
        return library_name(fn)
    if top == _top_module(home):
        return None
    files = [
        getattr(getattr(f, "__code__", None), "co_filename", None) for f in (fn, inner)
    ]
    module = sys.modules.get(getattr(inner, "__module__", None) or "")
    files.append(getattr(module, "__file__", None))  # exec'd code: its module's file
    if any(f is not None and _installed_file(f) for f in files):
        return library_name(fn)
    return None


def library_name(obj: Any) -> str:
    """How a library exports ``obj``: the shortest public module that holds it, then its
    name (``scipy.linalg.cho_solve``, not ``scipy.linalg._decomp_cholesky._cho_solve``);
    for a ufunc of ``scipy.special``, ``scipy.special.<name>``."""
    name = getattr(obj, "__name__", None) or repr(obj)
    qualname = getattr(obj, "__qualname__", name)
    module = getattr(obj, "__module__", None) or ""
    if not module and isinstance(obj, np.ufunc):
        special = sys.modules.get("scipy.special")
        if special is not None and getattr(special, name, None) is obj:
            return f"scipy.special.{name}"
        return f"numpy.{name}"
    parts = module.split(".")
    for k in range(1, len(parts) + 1):
        public = ".".join(parts[:k])
        if any(p.startswith("_") for p in parts[1:k]):
            break
        held = sys.modules.get(public)
        if held is not None and getattr(held, name, None) is obj:
            return f"{public}.{name}"
    return f"{module}.{qualname}" if module else qualname


def spelled_library_name(display: str, obj: Any) -> str:
    """``display`` (how the call is written) with the library's own name of ``obj`` when
    the two differ: ``cho_solve (scipy.linalg.cho_solve)``."""
    full = library_name(obj)
    tail = display.split(".", 1)[-1] if "." in display else None
    if full == display or (tail is not None and full.endswith("." + tail)):
        return display
    return f"{display} ({full})"


def public_name(rule: Rule) -> str | None:
    """How a user spells a rule's primitive (``np.linalg.inv``, ``scipy.special.expit``), or
    None for srcgrad's own runtime helpers, which no user calls."""
    mod = getattr(rule.primitive, "__module__", None) or ""
    if mod.startswith("srcgrad") or rule.extra.get("custom"):
        return None
    if mod.startswith("scipy"):
        return rule.name if rule.name.startswith("scipy.") else "scipy." + rule.name
    return "np." + rule.name


def nearest_rules(name: str, n: int = 3) -> list[str]:
    """How users spell the registered public primitives closest to ``name`` (error hints)."""
    spelled = {r.name.rsplit(".", 1)[-1]: public_name(r) for r in registry.all_rules()}
    spelled = {k: v for k, v in spelled.items() if v is not None}
    near = difflib.get_close_matches(
        name.rsplit(".", 1)[-1], list(spelled), n=n, cutoff=0.5
    )
    return [spelled[k] for k in near]


def is_numpy_module(obj: Any) -> bool:
    return isinstance(obj, types.ModuleType) and (
        obj.__name__ == "numpy" or obj.__name__.startswith("numpy.")
    )


def is_math_module(obj: Any) -> bool:
    return obj is math


def _custom_rule(obj: Any) -> Rule:
    """A Rule standing for a ``@custom_vjp`` function: the backward calls ``<f>.vjp``."""
    sig = inspect.signature(obj.fn)
    names = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    defaults = {
        p.name: p.default for p in sig.parameters.values() if p.default is not p.empty
    }
    return Rule(
        primitive=obj,
        name=obj.fn.__qualname__,
        adjoint=obj.vjp,  # type: ignore[arg-type]
        params=tuple(sig.parameters),
        operands=tuple(n for n in names if n not in defaults),
        nondiff=(),
        sequence=(),
        varargs=None,
        defaults=defaults,
        extra={"custom": True},
    )


class ArgumentResolver(Resolver):
    """The differentiated function's names, where its parameters bound to functions passed
    in (the code is specialised on them) name the objects passed."""

    def __init__(self, fn: Callable[..., Any], values: dict[str, Any]) -> None:
        super().__init__(fn)
        self.values = values

    def lookup(self, name: str) -> tuple[bool, Any]:
        if name in self.values:
            return True, self.values[name]
        return super().lookup(name)
