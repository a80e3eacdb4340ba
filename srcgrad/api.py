"""The public API: grad, value_and_grad, vjp (DESIGN §2).

The cache-hit path imports no part of the code generator (:mod:`srcgrad.codegen`, libcst,
black): it is imported on a miss.
"""

from __future__ import annotations

import copy
import functools
import inspect
import os
import threading
import types
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

from srcgrad import cache, diagnose, lengths, linetable, recompute, tree
from srcgrad.backend import namespace
from srcgrad.errors import (
    InternalError,
    NonScalarOutputError,
    SrcgradError,
    UnsupportedSyntaxError,
    WrtError,
)
from srcgrad.rules import registry
from srcgrad.runtime.calls import install_vjp, stop_gradient
from srcgrad.ownership import own as _own
from srcgrad.runtime.containers import sum_shared

__all__ = ["grad", "value_and_grad", "vjp", "stop_gradient", "GradFunction"]

_LOCK = threading.RLock()
_HIGHER: list[Callable[..., Any]] = []  # srcgrad.higher.differentiate, once imported


class _Loaded(NamedTuple):
    code: Any
    refs: tuple[cache.Ref, ...]  # how each callee is reached from the function
    callees: tuple[Any, ...]  # what each ref reached when the module was loaded
    codes: tuple[Any, ...]  # and the code of the function it inlines
    rules_gen: int  # the rule registry's generation then
    spec: str
    fwd: Callable[..., Any]
    bwd: Callable[..., Any]
    text: str
    path: Path
    filename: str
    lines: dict[int, tuple[str, int, str]]
    ns: Any  # the emitted module's namespace
    by_argument: bool  # whether a ref starts at a function passed in


_STATIC_TYPES = (str, bool, type(None))
_RNG_TYPES = (np.random.Generator, np.random.RandomState)


def _static_params(params: list[str], args: tuple[Any, ...] | None) -> tuple[str, ...]:
    """Parameters whose arguments are str, bool or None: configuration, never data."""
    if args is None:
        return ()
    return tuple(p for p, a in zip(params, args) if type(a) in _STATIC_TYPES)


_ONE = (1).__eq__


def _arg_spec(x: Any) -> Any:
    """The abstract signature of one argument: what generated code may be specialised to.

    Arrays give their dtype and which axes have length 1 (other lengths stay symbolic);
    Python numbers their kind; containers their type and items (:func:`tree.signature`);
    str/bool/None ``"static"``; a function ``("function", its name)``.
    """
    if cache.is_function_argument(x):
        return ("function", cache.function_argument_name(x))
    return tree.signature(x, _leaf_spec)


def _leaf_spec(x: Any) -> Any:
    t = type(x)
    if t is np.ndarray:
        return (x.dtype, tuple(map(_ONE, x.shape)))
    if t is float:
        return "f"
    if t is int:
        return "i"
    if t is complex:
        return "c"
    if t in _STATIC_TYPES:
        return "static"
    if isinstance(x, _RNG_TYPES):
        return "rng"
    dtype = getattr(x, "dtype", None)
    shape = getattr(x, "shape", None)
    if dtype is not None and type(shape) is tuple:
        return (dtype, tuple(map(_ONE, shape)))
    return None


def _specialising() -> bool:
    """``SRCGRAD_SPECIALISE=0`` turns specialisation off: calls then run generic code."""
    return os.environ.get("SRCGRAD_SPECIALISE", "1").strip().lower() not in (
        "0",
        "off",
        "no",
    )


def _spec_text(key: tuple[Any, ...]) -> str:
    """``key`` as stable text (type objects by module and qualified name)."""

    def text(v: Any) -> str:
        if isinstance(v, type):
            return f"{v.__module__}.{v.__qualname__}"
        if isinstance(v, tuple):
            return (
                "(" + ",".join(text(e) for e in v) + ("," if len(v) == 1 else "") + ")"
            )
        return repr(v)

    return text(key)


class GradFunction:
    """The result of :func:`grad`, :func:`value_and_grad` and :func:`vjp`.

    Calling it runs the emitted module; ``.source`` and ``.path`` show it, ``.forward`` is the
    original function.
    """

    _mode: str | None = None  # the file name's mode (forward mode's "fwd")
    # a lower order's module: loop sums in lists srcgrad differentiates again (no step_sum),
    # recursive calls plain, their backward recomputing (no call_vjp, srcgrad/recompute.py)
    _lists_only = _recompute = False
    # code not specialised to slices of computed bounds not 1 long (srcgrad/lengths.py)
    _general = False
    spec_of = staticmethod(_arg_spec)  # an argument's abstract signature
    _srcgrad_derivative = True  # srcgrad.grad of it differentiates it again (higher.py)

    def __init__(
        self,
        fn: Callable[..., Any],
        wrt: int | str | tuple[int | str, ...] = 0,
        has_aux: bool = False,
        kind: str = "grad",
        debug_nans: bool | None = None,
        instance: str | None = None,
        example: Callable[[], Any] | None = None,
    ) -> None:
        self._instance = instance  # a method's first parameter (see BoundMethodGrad)
        # builds example arguments: `srcgrad gen` specialises on them (a model's loss)
        self.example = example
        if not callable(fn) or not hasattr(fn, "__code__"):
            raise TypeError(f"srcgrad.{kind} expects a Python function, got {fn!r}")
        if inspect.ismethod(
            fn
        ):  # its code's first parameter is the instance, not an argument
            func = fn.__func__
            params = list(func.__code__.co_varnames[1 : func.__code__.co_argcount])
            call = f"{fn.__self__.__class__.__name__.lower()}.{func.__name__}"
            raise UnsupportedSyntaxError(
                f"srcgrad.{kind} of the bound method {func.__qualname__}",
                **_at_def(func),
                construct="bound-method",
                hint=f"differentiate a function that calls it: def loss({', '.join(params)}): "
                f"return {call}({', '.join(params)})",
            )
        self.forward = fn
        self._kind = kind
        self._has_aux = has_aux
        if debug_nans is None:
            debug_nans = os.environ.get("SRCGRAD_DEBUG_NANS", "") not in ("", "0")
        self.debug_nans = bool(debug_nans)
        code = fn.__code__
        self._params = list(
            code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        )
        self._npos = code.co_argcount
        if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            from srcgrad.codegen.pipeline import (
                generate,
            )  # the generator (libcst, black): only on a miss

            generate(fn, [], {}, has_aux)  # reports *args / **kwargs at their position
        self._single = not isinstance(wrt, (tuple, list))
        items = (wrt,) if self._single else tuple(wrt)
        if not items:
            raise WrtError("wrt is empty", hint="name at least one parameter")
        self._wrt = [self._param_name(w) for w in items]
        self._wrt_pos = [self._params.index(w) for w in self._wrt]
        self._state: _Loaded | None = None
        self._states: dict[Any, _Loaded] = {}  # by the arguments' abstract signature
        self._generic_only = False
        self._sig: inspect.Signature | None = None
        self._sig_defaults: tuple[Any, Any] = (None, None)
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    # -- introspection ----------------------------------------------------------------
    def _param_name(self, w: int | str) -> str:
        fn = self.forward
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise WrtError(f"wrt must be an int or a parameter name, got {w!r}")
        if isinstance(w, int):
            if not -len(self._params) <= w < len(self._params):
                raise WrtError(
                    f"wrt={w} but {fn.__qualname__} has {len(self._params)} parameters",
                    **_at_def(fn),
                    hint=f"choose from {self._params}",
                )
            return self._params[w]
        if w not in self._params:
            raise WrtError(
                f"wrt={w!r} is not a parameter of {fn.__qualname__}",
                **_at_def(fn),
                hint=f"choose from {self._params}",
            )
        return w

    def _current(self) -> _Loaded:
        """The module the last call ran, else the example's (see ``example``), else the
        generic one (prepared on first use)."""
        if self._state is not None:
            return self._state
        if self.example is not None:
            return self.prepare(self.example())
        return self._prepare(None)

    def prepare(self, args: Any) -> _Loaded:
        """Generate (or load) the module specialised on ``args`` without running it; it
        becomes the module ``source`` and ``path`` show."""
        args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        return self._prepare(args)

    def containers_for(self, args: Any) -> dict[str, Any]:
        """The container layouts (static arguments included) the generator is given for
        ``args``."""
        args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        return self._key_parts(args, tuple(map(_arg_spec, args)))[2]

    def cache_entry(self, args: tuple[Any, ...]) -> tuple[Path, str, dict[str, Any]]:
        """(path, source, key parts) of the module specialised on ``args``, as
        :meth:`_prepare` computes them (nothing generated)."""
        key = tuple(map(_arg_spec, args))
        spec, parts, _, _ = self._key_parts(args, key)
        source, parts["origin"] = cache.source_and_line(self.forward)
        mode = self._file_mode()
        return (
            cache.cache_path(self.forward, self._wrt, mode, spec or None),
            source,
            parts,
        )

    @property
    def source(self) -> str:
        """The emitted module's text (generated on first access)."""
        return self._current().text

    @property
    def path(self) -> Path:
        """The emitted module's file under generated/."""
        return self._current().path

    def emitted(self, kind: str = "grad") -> Callable[..., Any]:
        """The emitted ``fwd_<f>``, ``bwd_<f>`` or ``grad_<f>`` function itself (it can be
        differentiated again: ``srcgrad.grad`` of a function calling it)."""
        return _find(self._current().ns, f"{kind}_", _emitted_name(self.forward))

    def _generic(self) -> "GradFunction":
        """The same gradient, never specialised to argument kinds (for the diagnostics)."""
        g = GradFunction(
            self.forward,
            wrt=self._wrt[0] if self._single else tuple(self._wrt),
            has_aux=self._has_aux,
            kind=self._kind,
            debug_nans=False,
        )
        g._generic_only = True
        return g

    @property
    def wrt(self) -> tuple[str, ...]:
        return tuple(self._wrt)

    def __repr__(self) -> str:
        return f"<srcgrad.{self._kind} of {self.forward.__qualname__} wrt {self._wrt}>"

    # -- generation -------------------------------------------------------------------
    def _containers(self, args: tuple[Any, ...] | None) -> dict[str, Any]:
        if args is None:
            return {}
        out: dict[str, Any] = {
            name: tree.skeleton(a)
            for name, a in zip(self._params, args)
            if tree.is_node(a)
        }
        for name, a in zip(self._params, args):
            if isinstance(a, _RNG_TYPES):  # a random generator: its draws are constants
                out[name] = ("rng",)
            elif (
                cache.is_function_argument(a) or name == self._instance
            ) and name not in self._wrt:
                # a function passed in: the code is specialised on it (a callee found
                # again from the arguments at every call, see cache.Ref)
                out[name] = ("function", a)
            elif name not in out and _arg_spec(a) is None and name not in self._wrt:
                out[name] = (
                    "object",
                )  # e.g. a config object: what it holds is constant
        return out

    def _prepare(self, args: tuple[Any, ...] | None) -> _Loaded:
        with _LOCK:
            fn = self.forward
            key = None if args is None else tuple(map(_arg_spec, args))
            spec, parts, containers, arg_specs = self._key_parts(args, key)
            mode = self._file_mode()
            try:
                source, parts["origin"] = cache.source_and_line(fn)
            except (OSError, TypeError):
                source = None
            if source is None:
                # the generator (libcst, black): only on a miss
                from srcgrad.codegen.source import read_function

                read_function(fn)  # raises the clear error
                raise AssertionError("unreachable")
            use_cache = cache.cache_enabled()
            path = (
                cache.cache_path(fn, self._wrt, mode, spec or None)
                if use_cache
                else None
            )
            gen = registry.generation()
            named = None if args is None else dict(zip(self._params, args))
            text = (
                cache.read_valid(path, source, parts, fn, named)
                if path is not None
                else None
            )
            if text is None:
                text = self._generate(source, parts, containers, arg_specs, named)
                if path is not None:
                    path = cache.writable_path(path)  # never into an installed package
                    cache.write_atomic(path, text)
            if path is not None:
                filename = str(path)
            else:
                name = cache.file_name(fn, self._wrt, mode, spec or None)
                filename = f"<srcgrad {cache.module_dirname(fn)}/{name}>"
            state = self._loaded(text, path, filename, gen, spec, named)
            self._state = state
            if key is not None:
                self._states[key] = state
            return state

    def _file_mode(self) -> str | None:
        mode = self._mode or ("aux" if self._has_aux else None)
        lists, calls = self._lists_only and "lists", self._recompute and "recompute"
        general = self._general and "general"
        return "-".join(filter(None, (mode, lists, calls, general))) or None

    def lists_only(self) -> "GradFunction":
        return self.variant("_lists_only")

    def variant(self, flag: str) -> "GradFunction":
        """This gradient in a mode a higher order differentiates (recompute.variant)."""
        return recompute.variant(self, flag)

    def _key_parts(
        self, args: tuple[Any, ...] | None, key: tuple[Any, ...] | None
    ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """What the cache keys the module on for these arguments: the spec text, the key
        parts, the container layouts (static arguments included) and the argument specs
        the generator specialises to (None for generic code)."""
        containers = self._containers(args)
        arg_specs = None if key is None else dict(zip(self._params, key))
        spec = "" if key is None else _spec_text(key)
        if arg_specs is not None and (self._generic_only or not _specialising()):
            arg_specs = None  # generic code (one file per container/str layout)
            spec = "generic:" + spec
        statics = _static_params(self._params, args)
        parts = {
            "qualname": self.forward.__qualname__,
            "wrt": tuple(self._wrt),
            "has_aux": self._has_aux,
            "spec": spec,
        }
        if self._lists_only:
            parts["loops"] = "lists"
        if self._recompute:
            parts["calls"] = "recompute"
        if self._general:
            parts["lengths"] = "general"
        if statics:  # str/bool/None arguments are constants of the generated code
            parts["statics"] = statics
            containers = {**containers, **{p: ("static",) for p in statics}}
        return spec, parts, containers, arg_specs

    def _loaded(
        self,
        text: str,
        path: Path | None,
        filename: str,
        gen: int,
        spec: str,
        args: dict[str, Any] | None = None,
    ) -> _Loaded:
        """The emitted module ``text`` loaded, with its entry points and callees (found
        from the function and the arguments ``args`` by parameter)."""
        fn = self.forward
        parsed = cache.parse_header(text)
        refs = tuple(parsed[4]) if parsed is not None else ()
        objs = cache.resolve_refs(fn, refs, args)
        if objs is None:  # the generator reached them a moment ago
            raise InternalError(
                f"srcgrad cannot find the callees of {fn.__qualname__} again: "
                + ", ".join(map(str, refs))
            )
        codes = cache.callee_codes(objs)
        objs = cache.without_values(objs)
        ns = cache.load_module(text, filename, fn, objs)
        fname = _emitted_name(fn)
        if recompute.TABLE in text:  # bind what its recursive calls' backward calls
            recompute.install(self, ns, fname, spec)
        return _Loaded(
            fn.__code__,
            refs,
            objs,
            codes,
            gen,
            spec,
            _find(ns, "fwd_", fname),
            _find(ns, "bwd_", fname),
            text,
            path if path is not None else Path(filename),
            filename,
            linetable.decode(ns.get(linetable.NAME)),
            ns,
            any(r.owner == 0 and r.path[0] in self._params for r in refs),
        )

    def _generate(
        self,
        source: str,
        parts: dict[str, Any],
        containers: dict[str, Any],
        arg_specs: dict[str, Any] | None = None,
        args: dict[str, Any] | None = None,
    ) -> str:
        # the generator (libcst, black) is imported on a miss only: a cache hit never loads it
        from srcgrad.codegen.pipeline import generate

        src, em = generate(
            self.forward,
            self._wrt,
            containers,
            self._has_aux,
            arg_specs,
            lists_only=self._lists_only,
            recompute=self._recompute,
            speculate=lengths.speculates(self),
        )
        refs = [cache.Ref.parse(c) for c in em.calls]
        objs = cache.resolve_refs(self.forward, refs, args)  # type: ignore[arg-type]
        key = cache.compute_key(source, parts, em.rules, refs, objs)  # type: ignore[arg-type]
        if key is None:
            raise InternalError(
                f"srcgrad cannot key the gradient of {self.forward.__qualname__}: its rules "
                f"({', '.join(em.rules)}) or callees ({', '.join(em.calls)}) are not found again"
            )
        head = cache.header(
            src.filename,
            src.first_line,
            self.forward.__qualname__,
            key,
            em.rules,
            cache.body_digest(em.body),
            em.calls,
        )
        return head + em.body

    # -- calling ----------------------------------------------------------------------
    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        # Defaults are read at call time (DESIGN §7): a signature caches them, so it is rebuilt
        # when f.__defaults__ / f.__kwdefaults__ are replaced, and the missing arguments are
        # filled from the function's current defaults.
        fn = self.forward
        defaults, kwdefaults = fn.__defaults__ or (), fn.__kwdefaults__ or {}
        if (
            self._sig is None
            or self._sig_defaults[0] is not fn.__defaults__
            or self._sig_defaults[1] is not fn.__kwdefaults__
        ):
            self._sig = inspect.signature(fn)
            self._sig_defaults = (fn.__defaults__, fn.__kwdefaults__)
        given = self._sig.bind(*args, **kwargs).arguments
        first_default = self._npos - len(defaults)
        values = []
        for i, p in enumerate(self._params):
            if p in given:
                values.append(given[p])
            elif i < self._npos:
                values.append(defaults[i - first_default])
            else:
                values.append(kwdefaults[p])
        return tuple(values)

    def _run_forward(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        if kwargs or len(args) != len(self._params):
            args = self._bind(args, kwargs)
        st = self._states.get(tuple(map(_arg_spec, args)))
        if (
            st is None
            or self.forward.__code__ is not st.code
            or registry.GENERATION != st.rules_gen
            or (
                st.refs
                and not cache.refs_current(
                    self.forward,
                    st.refs,
                    st.callees,
                    st.codes,
                    dict(zip(self._params, args)) if st.by_argument else None,
                )
            )
        ):
            st = self._prepare(args)
        self._state = st  # .source and .path show the file the last call ran
        for pos in self._wrt_pos:
            _check_wrt_arg(self, pos, args[pos])
        return args, st  # type: ignore[return-value]

    def _finish(
        self, grads: tuple[Any, ...], args: tuple[Any, ...], held: tuple[Any, ...] = ()
    ) -> Any:
        seen: set[int] = set()
        held = (
            args + held
        )  # what the caller holds: the arguments and a pullback's cotangent
        out = tuple(
            _own(sum_shared(args[p], g), args[p], seen, held)
            for g, p in zip(grads, self._wrt_pos)
        )
        return out[0] if self._single else out

    @property
    def has_aux(self) -> bool:
        return self._has_aux

    def check(self, *args: Any, **kwargs: Any) -> None:
        """Compare with central differences; on a mismatch, name the first emitted backward
        statement whose rule is wrong (its forward file:line)."""
        diagnose.check(self, *args, **kwargs)

    def residuals(self, *args: Any) -> list[diagnose.ResidualField]:
        """What the forward pass keeps for the backward pass on ``args``: one entry per
        field of ``Residuals_<f>`` with its shape, dtype and the bytes of memory it keeps
        alive (``srcgrad show --residuals`` prints the same table)."""
        return diagnose.residual_report(self, *args)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.debug_nans:
            saved = copy.deepcopy((args, kwargs))
            result = self._call(*args, **kwargs)
            if self._kind == "vjp":
                return self._checked_vjp(result, saved)
            diagnose.raise_if_nonfinite(self, saved, result)
            return result
        return self._call(*args, **kwargs)

    def _checked_vjp(self, result: Any, saved: Any) -> Any:
        value, pullback = result[0], result[1]

        def checked(d_out: Any) -> Any:
            grads = pullback(d_out)
            if not diagnose._finite_result(grads) or not diagnose._finite_result(value):
                a, kw = saved
                bound = self._bind(a, kw) if kw or len(a) != len(self._params) else a
                origin = diagnose.find_nonfinite(self, *bound, d_out=d_out)
                if origin is not None:
                    raise diagnose._error(origin, self.forward)
            return grads

        return (value, checked, *result[2:])

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        args, st = self._run_forward(args, kwargs)  # type: ignore[misc]
        try:
            st, (out, res) = lengths.forward(self, st, args)
            if self._has_aux:
                out, aux = out
            if self._kind == "vjp":
                return self._vjp_result(
                    st, out, res, args, aux if self._has_aux else None
                )
            _check_scalar(self, out)
            d_out = _ones_like(out)
            grads = st.bwd(res, d_out)
        except SrcgradError:
            raise
        except Exception as exc:
            _annotate(exc, st)
            raise
        g = self._finish(grads, args)
        if self._kind == "value_and_grad":
            return ((out, aux) if self._has_aux else out), g
        return (g, aux) if self._has_aux else g

    def _vjp_result(
        self, st: _Loaded, out: Any, res: Any, args: tuple[Any, ...], aux: Any
    ) -> Any:
        def pullback(d_out: Any) -> Any:
            d_out = _seed_like(d_out, out)  # the cotangent contract of specialised code
            try:
                grads = st.bwd(res, d_out)
            except Exception as exc:
                _annotate(exc, st)
                raise
            return self._finish(grads, args, (d_out,))

        return (out, pullback, aux) if self._has_aux else (out, pullback)


def _emitted_name(fn: Callable[..., Any]) -> str:
    """The name the emitted functions are built from (``_lambda`` for a lambda)."""
    return "_lambda" if fn.__name__ == "<lambda>" else fn.__name__


def _find(ns: dict[str, Any], prefix: str, fname: str) -> Callable[..., Any]:
    name = prefix + fname
    while name not in ns:
        name += "_"
        if len(name) > 200:
            raise SrcgradError(f"generated module has no {prefix}{fname}")
    return ns[name]


def _seed_like(d_out: Any, out: Any) -> Any:
    """``d_out`` with the dtype and shape of the array ``out`` (it may be a Python number or
    an array of another float dtype); other outputs pass through."""
    dtype = getattr(out, "dtype", None)
    shape = getattr(out, "shape", None)
    if dtype is None or type(shape) is not tuple or tree.is_node(d_out):
        return d_out
    if (
        getattr(d_out, "dtype", None) == dtype
        and getattr(d_out, "shape", None) == shape
    ):
        return d_out
    xp = namespace(out)
    return xp.broadcast_to(xp.asarray(d_out, dtype=dtype), shape)


def _at_def(fn: Any) -> dict[str, Any]:
    """Where an error about ``fn`` itself points: its ``def`` line, column 1."""
    code = fn.__code__
    return {"filename": code.co_filename, "lineno": code.co_firstlineno, "col": 1}


def _ones_like(out: Any) -> Any:
    if isinstance(out, (float, int)):
        return np.ones_like(out, dtype=float)
    return namespace(out).ones_like(out)


def _check_scalar(gf: GradFunction, out: Any) -> None:
    size = getattr(out, "size", 1)
    if size != 1 or tree.is_node(out):
        fn = gf.forward
        shape = getattr(out, "shape", type(out).__name__)
        raise NonScalarOutputError(
            f"{fn.__qualname__} returned a value of shape {shape}; grad needs a scalar",
            **_at_def(fn),
            construct="output",
            hint="reduce the output to a scalar (e.g. .sum()), or use srcgrad.vjp for "
            "any output shape",
        )


def _check_wrt_arg(gf: GradFunction, pos: int, a: Any) -> None:
    bad = isinstance(a, (bool, int, np.integer, np.bool_, str)) or a is None
    if not bad:
        dtype = getattr(a, "dtype", None)
        bad = dtype is not None and getattr(dtype, "kind", "f") in "biu"
    if bad:
        name = gf._params[pos]
        fn = gf.forward
        raise WrtError(
            f"argument {name!r} of {fn.__qualname__} is an integer or bool "
            f"({type(a).__name__}{'' if getattr(a, 'dtype', None) is None else ' ' + str(a.dtype)}); "
            "it has no gradient",
            **_at_def(fn),
            construct="wrt",
            hint=f"pass a float (e.g. {name}.astype(float)) or leave {name!r} out of wrt",
        )


def _annotate(exc: BaseException, st: _Loaded) -> None:
    tb = exc.__traceback__
    where = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == st.filename:
            where = tb.tb_lineno
        tb = tb.tb_next
    if where is None or not hasattr(exc, "add_note"):
        return
    origin = st.lines.get(where)
    if origin is None:
        exc.add_note(f"srcgrad: raised in generated code at {st.filename}:{where}")
    else:
        file, line, rule = origin
        exc.add_note(
            f"srcgrad: raised in generated code at {st.filename}:{where}, "
            f"for {file}:{line} ({rule})"
        )


class BoundMethodGrad:
    """``srcgrad.grad(obj.method)``: the gradient of the method's function, with ``obj`` as
    its first argument at every call.  The code is specialised on ``obj`` as on a function
    passed in: its attributes are read when the code runs, and the methods it calls are
    found again from it at every call (:class:`cache.Ref`)."""

    _srcgrad_derivative = True

    def __init__(
        self,
        method: Any,
        wrt: int | str | tuple[int | str, ...],
        has_aux: bool,
        kind: str,
        debug_nans: bool | None,
    ) -> None:
        func = method.__func__
        code = func.__code__
        params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
        single = not isinstance(wrt, (tuple, list))
        items = (wrt,) if single else tuple(wrt)
        names = tuple(_method_param(w, params, func) for w in items)
        self.forward = method
        self._inner = GradFunction(
            func, names[0] if single else names, has_aux, kind, debug_nans, params[0]
        )
        functools.update_wrapper(self, method)  # type: ignore[arg-type]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner(self.forward.__self__, *args, **kwargs)

    def check(self, *args: Any, **kwargs: Any) -> None:
        self._inner.check(self.forward.__self__, *args, **kwargs)

    def residuals(self, *args: Any) -> list[diagnose.ResidualField]:
        return self._inner.residuals(self.forward.__self__, *args)

    def emitted(self, kind: str = "grad") -> Callable[..., Any]:
        return self._inner.emitted(kind)

    @property
    def source(self) -> str:
        return self._inner.source

    @property
    def path(self) -> Path:
        return self._inner.path

    @property
    def wrt(self) -> tuple[str, ...]:
        return self._inner.wrt

    @property
    def has_aux(self) -> bool:
        return self._inner.has_aux

    def __repr__(self) -> str:
        return f"<srcgrad.{self._inner._kind} of the bound method {self.forward.__qualname__}>"


def _method_param(w: int | str, params: list[str], func: Any) -> str:
    """The parameter of a method's function that ``wrt`` entry ``w`` names (positions
    count from the parameter after ``self``)."""
    if isinstance(w, int) and not isinstance(w, bool):
        rest = params[1:]
        if not -len(rest) <= w < len(rest):
            raise WrtError(
                f"wrt={w} but {func.__qualname__} has {len(rest)} parameters after "
                f"{params[0]}",
                **_at_def(func),
                hint=f"choose from {rest}",
            )
        return rest[w]
    if w == params[0]:
        raise WrtError(
            f"wrt={w!r} is the instance the method is bound to",
            **_at_def(func),
            hint=f"choose from {params[1:]}",
        )
    return w  # type: ignore[return-value]


def _differentiated(
    fn: Any,
    wrt: Any,
    has_aux: bool,
    kind: str,
    debug_nans: bool | None,
    example: Callable[[], Any] | None = None,
) -> Any:
    """A :class:`GradFunction` of ``fn``, or a :class:`BoundMethodGrad` of a user's bound
    method."""
    if not isinstance(fn, types.FunctionType) and getattr(fn, "_srcgrad_derivative", 0):
        # a gradient differentiated again: srcgrad.higher installs how
        return _HIGHER[0](fn, wrt, has_aux, kind, debug_nans, example)
    if inspect.ismethod(fn) and isinstance(fn.__func__, types.FunctionType):
        mod = (getattr(fn.__func__, "__module__", None) or "").split(".")[0]
        if (
            mod not in ("numpy", "scipy", "srcgrad")
            and fn.__func__.__code__.co_argcount
        ):
            return BoundMethodGrad(fn, wrt, has_aux, kind, debug_nans)
    return GradFunction(fn, wrt, has_aux, kind, debug_nans, example=example)


def _make(kind: str):  # noqa: ANN202
    def api(
        fn: Callable[..., Any] | None = None,
        wrt: int | str | tuple[int | str, ...] = 0,
        *,
        has_aux: bool = False,
        debug_nans: bool | None = None,
        example: Callable[[], Any] | None = None,
    ) -> Any:
        if fn is None:
            return lambda f: _differentiated(f, wrt, has_aux, kind, debug_nans, example)
        return _differentiated(fn, wrt, has_aux, kind, debug_nans, example)

    return api


grad = _make("grad")
grad.__doc__ = """Gradient of a scalar function: ``srcgrad.grad(f, wrt=0)(*args)``.

Also a decorator: ``@srcgrad.grad`` or ``@srcgrad.grad(wrt=("W", "b"))``.
``example``: a function of no arguments returning example arguments (a model and a
batch): ``srcgrad gen`` calls it to generate the module specialised on them, since a
model's gradient module is specialised on the model's structure.
"""
value_and_grad = _make("value_and_grad")
value_and_grad.__doc__ = "``value, grads = srcgrad.value_and_grad(f, wrt=0)(*args)``."
vjp = _make("vjp")
vjp.__doc__ = (
    "``value, pullback = srcgrad.vjp(f, wrt=0)(*args)``; ``pullback(d_out) -> grads``."
)
install_vjp(vjp)  # recursive calls in emitted code make their pullbacks with it
