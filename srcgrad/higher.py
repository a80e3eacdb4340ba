"""Higher-order gradients: ``srcgrad.grad(srcgrad.grad(f))`` to any order, and
``srcgrad.elementwise_grad``.

A gradient is emitted source, so srcgrad differentiates it again.  For each call, the lower
order's emitted module (specialised on the call's arguments) is wrapped in a small function
with ``f``'s parameters that returns the lower order's gradient::

    def grad_tanh(x):
        out, res = fwd_tanh(x)
        d_out = namespace_of(out).ones_like(out)
        return bwd_tanh(res, d_out)[0]

and that function is differentiated like any other: its module (``fwd_grad_tanh``,
``bwd_grad_tanh``, ``grad_grad_tanh``) is emitted, cached under ``generated/`` and readable;
the calls to ``fwd_tanh`` and ``bwd_tanh`` are inlined with ``# file:line`` comments that
point into the lower order's module.  The cache key covers the wrapper's text and, through
the callees it reaches, the lower order's whole emitted text (:func:`cache.callee_text`).
The wrapper's text is registered under a file name of its own,
``<srcgrad <module>/<lower file>::<wrapper>>``, that does not depend on where the cache is.

A lower order that srcgrad could not differentiate is emitted again in a mode it can: a
loop's sums over steps in lists (no ``step_sum``), and a recursive call as a plain call
whose backward calls the callee's recomputing gradient (no ``call_vjp``, whose pullback
is a closure; :mod:`srcgrad.recompute`, O(depth^2) work at the higher order).

``elementwise_grad(f)`` is the gradient of ``sum(f(x))``: the pullback of a cotangent of
ones (autograd's habit for plotting derivatives of elementwise functions); its wrapper is
the same text under the name ``elementwise_grad_<f>``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

from srcgrad import recompute, tree
from srcgrad.api import _HIGHER, BoundMethodGrad, GradFunction, _emitted_name
from srcgrad.ownership import own as _own
from srcgrad.backend import namespace
from srcgrad.codegen import BATCHED_MARK, TILED_MARK
from srcgrad.errors import NonScalarOutputError, SrcgradError, WrtError

__all__ = ["elementwise_grad", "HigherGrad", "ElementwiseGrad", "differentiate"]

_KINDS = ("grad", "value_and_grad", "vjp", "elementwise_grad")


def _refuse(what: str, lower: Any, construct: str, hint: str) -> SrcgradError:
    fn = getattr(lower, "forward", None)
    code = getattr(fn, "__code__", None)
    where = (
        {"filename": code.co_filename, "lineno": code.co_firstlineno, "col": 1}
        if code is not None
        else {}
    )
    return SrcgradError(what, construct=construct, hint=hint, **where)


def _check_lower(lower: Any) -> None:
    """Refuse a lower order that is not the gradient of one argument (has_aux, a tuple of
    ``wrt``, value_and_grad or vjp, a bound method): a higher order of it is not defined
    as a gradient of a gradient."""
    if isinstance(lower, BoundMethodGrad):
        raise _refuse(
            "a higher-order gradient of the gradient of a bound method",
            lower._inner,
            "bound-method",
            "differentiate the gradient of a function that calls the method",
        )
    if isinstance(lower, (ElementwiseGrad, HigherGrad)):
        gf_kind, aux, single = lower.kind, lower.has_aux, lower.single
    elif isinstance(lower, GradFunction):
        gf_kind, aux, single = lower._kind, lower._has_aux, lower._single
    else:  # pragma: no cover - differentiate() is called only for these
        raise TypeError(f"not a srcgrad gradient: {lower!r}")
    name = f"srcgrad.{gf_kind}"
    if gf_kind not in ("grad", "elementwise_grad"):
        raise _refuse(
            f"a gradient of {name}: its result is not one gradient",
            lower,
            gf_kind,
            "differentiate srcgrad.grad(f) (or srcgrad.elementwise_grad(f)) instead",
        )
    if aux:
        raise _refuse(
            f"a higher-order gradient of {name}(..., has_aux=True)",
            lower,
            "has_aux",
            "differentiate the gradient of a function without the aux output",
        )
    if not single:
        raise _refuse(
            f"a higher-order gradient of {name} with a tuple of wrt (a tuple of "
            "gradients has no gradient)",
            lower,
            "wrt-tuple",
            "differentiate the gradient with respect to one argument at a time",
        )


class _Derivative:
    """What the orders share: how a call binds its arguments, and the wrapper of each
    emitted module this object runs (built once per module)."""

    kind: str
    has_aux: bool = False
    single: bool = True
    _srcgrad_derivative = True  # srcgrad.grad of it differentiates it again

    def _function(self, args: tuple[Any, ...] | None, kwargs: dict[str, Any]) -> Any:
        """(the arguments bound to every parameter, the GradFunction whose emitted module
        computes this derivative for them)."""
        raise NotImplementedError

    def wrapper_for(
        self, args: tuple[Any, ...] | None, kwargs: dict[str, Any] | None = None
    ) -> tuple[tuple[Any, ...] | None, Callable[..., Any]]:
        """(bound arguments, the function that returns this derivative through its
        emitted module specialised on ``args`` (generic code for None))."""
        args, gf = self._function(args, kwargs or {})
        if args is not None and tree.is_node(args[gf._wrt_pos[0]]):
            raise _refuse(
                f"a higher order of the gradient with respect to {gf._wrt[0]!r}, a "
                f"{type(args[gf._wrt_pos[0]]).__name__} of arrays (its gradient is a "
                "container, not one array)",
                gf,
                "container-wrt",
                "for second derivatives with respect to a container use "
                "srcgrad.hessian(f)(*args) (a dict of dicts) or srcgrad.hvp(f)(*args, v)",
            )
        for _ in range(4):
            if args is None:
                st = gf._prepare(None)
            else:
                args, st = gf._run_forward(args, {})
            if "step_sum(" in st.text or BATCHED_MARK in st.text:
                # its loops' sums over steps as lists, its steps' parts step by step
                gf = gf.lists_only()
            elif "call_vjp(" in st.text:  # its recursive calls' gradients recomputed
                gf = gf.variant(
                    "_recompute"
                )  # by plain functions (srcgrad/recompute.py)
            elif "assume_not_one(" in st.text or TILED_MARK in st.text:
                # no speculation on slice lengths, no cotangent written piece by piece
                gf = gf.variant("_general")
            else:
                break
        made = getattr(self, "_wrappers", None)
        if made is None:
            made = self._wrappers = {}
        hit = made.get(id(st))
        if hit is None or hit[0] is not st:
            hit = made[id(st)] = (st, _wrapper(gf, st, self._prefix()))
        return args, hit[1]

    def _prefix(self) -> str:
        return "elementwise_grad_" if self.kind == "elementwise_grad" else "grad_"


def _gradient_function(lower: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    if isinstance(lower, _Derivative):
        return lower._function(args, kwargs)
    gf: GradFunction = lower
    if args is not None and (kwargs or len(args) != len(gf._params)):
        args = gf._bind(tuple(args), kwargs)
    return (None if args is None else tuple(args)), gf


def _wrapper(gf: GradFunction, st: Any, prefix: str) -> Callable[..., Any]:
    """The function of ``gf``'s parameters that returns the gradient the module ``st``
    computes (see the module docstring)."""
    fn = gf.forward
    params = gf._params
    npos = gf._npos
    base = _emitted_name(fn)
    wrt = gf._wrt[0]
    name = prefix + base + ("" if wrt == params[0] else f"_wrt_{wrt}")
    fwd, bwd = st.fwd, st.bwd
    used = set(params) | {fwd.__name__, bwd.__name__, "namespace_of"}
    out, res, d_out = (_fresh(n, used) for n in ("out", "res", "d_out"))
    call = ", ".join(params[:npos] + [f"{p}={p}" for p in params[npos:]])
    # a module whose backward calls its own recomputing gradient (recompute.py): the
    # wrapper calls that too, so the next order's recursion is through it, not bwd's
    own = recompute.name_of(base, gf._wrt)
    back = (
        f"{bwd.__name__}({res}, {d_out})[0]"
        if own not in dict.get(st.ns, recompute.TABLE, ())
        else f"{own}({d_out}, {', '.join(params)})"
    )
    text = (
        "from srcgrad.runtime import namespace as namespace_of\n\n\n"
        f"def {name}({', '.join(params)}):\n"
        f"    {out}, {res} = {fwd.__name__}({call})\n"
        f"    {d_out} = namespace_of({out}).ones_like({out})\n"
        f"    return {back}\n"
    )
    passes = {fwd.__name__: fwd, bwd.__name__: bwd}
    if own in text:
        passes[own] = st.ns[own]
    return recompute.load_wrapper(gf, text, name, passes, st.spec)


def _fresh(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name


class HigherGrad(_Derivative):
    """``srcgrad.grad(df)``, ``value_and_grad(df)``, ``vjp(df)`` or
    ``elementwise_grad(df)`` of a gradient ``df``: calling it differentiates the emitted
    module of ``df`` (see the module docstring); ``.source`` and ``.path`` show this
    order's module."""

    def __init__(
        self,
        lower: Any,
        wrt: Any = 0,
        has_aux: bool = False,
        kind: str = "grad",
        debug_nans: bool | None = None,
        example: Callable[[], Any] | None = None,
    ) -> None:
        _check_lower(lower)
        if has_aux:
            raise _refuse(
                f"srcgrad.{kind}(..., has_aux=True) of a gradient",
                lower,
                "has_aux",
                "a gradient has no aux output: leave has_aux out",
            )
        self.lower = lower
        self.kind = kind
        self.single = not isinstance(wrt, (tuple, list))
        self._wrt_arg = wrt
        self.debug_nans = debug_nans
        self.example = example if example is not None else lower.example
        self._outers: dict[int, tuple[Any, GradFunction]] = {}
        self._last: GradFunction | None = None
        base = lower.forward if isinstance(lower, GradFunction) else lower
        self.forward = lower
        self.__name__ = getattr(base, "__name__", "derivative")
        self.__qualname__ = getattr(base, "__qualname__", self.__name__)
        self.__module__ = getattr(base, "__module__", None)
        self.__doc__ = f"srcgrad.{kind} of {lower!r}"

    @property
    def order(self) -> int:
        """How many times ``f`` is differentiated (``grad(grad(f))``: 2)."""
        return 1 + getattr(self.lower, "order", 1)

    def _outer(self, wrapper: Callable[..., Any]) -> GradFunction:
        hit = self._outers.get(id(wrapper))
        if hit is None or hit[0] is not wrapper:
            gf_kind = "vjp" if self.kind == "elementwise_grad" else self.kind
            try:
                outer = GradFunction(
                    wrapper, self._wrt_arg, False, gf_kind, self.debug_nans
                )
            except WrtError as e:
                raise WrtError(
                    e.message.replace(wrapper.__qualname__, self.__qualname__),
                    hint=e.hint,
                    construct="wrt",
                ) from None
            hit = self._outers[id(wrapper)] = (wrapper, outer)
        return hit[1]

    def _function(self, args: Any, kwargs: dict[str, Any]) -> Any:
        args, wrapper = (
            self.lower.wrapper_for(args, kwargs)
            if isinstance(self.lower, _Derivative)
            else _GradFunctionLower(self.lower).wrapper_for(args, kwargs)
        )
        outer = self._outer(wrapper)
        self._last = outer
        return args, outer

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound, outer = self._function(args, kwargs)
        try:
            result = outer(*bound)
        except NonScalarOutputError as e:
            raise NonScalarOutputError(
                f"srcgrad.{self.kind} of a gradient that is not a scalar "
                f"({e.message.split(' returned ', 1)[-1]})",
                construct="output",
                hint="use srcgrad.elementwise_grad for the gradient of its sum",
            ) from None
        if self.kind == "elementwise_grad":
            value, pullback = result
            return pullback(_ones(value))
        if self.kind == "value_and_grad":  # the value is the lower order's gradient,
            value, g = result  # in the kind of the argument it is taken w.r.t.
            arg = bound[_lower_function(self.lower)._wrt_pos[0]]
            return _own(value, arg, set(), tuple(bound)), g
        return result

    def prepare(self, args: Any) -> Any:
        """Generate (or load) this order's module specialised on ``args`` (and every
        lower order's) without running it."""
        if args is not None:
            args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
        bound, outer = self._function(args, {})
        return outer._prepare(bound)

    def cache_entry(self, args: tuple[Any, ...]) -> tuple[Path, str, dict[str, Any]]:
        bound, outer = self._function(tuple(args), {})
        return outer.cache_entry(bound)

    def target_function(self, args: tuple[Any, ...]) -> Callable[..., Any]:
        """The function this order's module differentiates for ``args`` (``srcgrad gen``
        keys and checks the file by it)."""
        return self._function(tuple(args), {})[1].forward

    def _current(self) -> GradFunction:
        if self._last is None:
            self.prepare(None if self.example is None else self.example())
        return self._last  # type: ignore[return-value]

    @property
    def source(self) -> str:
        """This order's emitted module (of the last call, else of the example's
        arguments, else generic)."""
        return self._current().source

    @property
    def path(self) -> Path:
        return self._current().path

    @property
    def function(self) -> Callable[..., Any]:
        """The wrapper this order differentiates (its text: ``function.__globals__``'s
        ``__srcgrad_text__``)."""
        return self._current().forward

    def emitted(self, kind: str = "grad") -> Callable[..., Any]:
        return self._current().emitted(kind)

    @property
    def wrt(self) -> tuple[str, ...]:
        return self._current().wrt

    def __repr__(self) -> str:
        return f"<srcgrad.{self.kind} of {self.lower!r}>"


class _GradFunctionLower(_Derivative):
    """A first-order ``srcgrad.grad`` seen as the lower order of a higher one (its
    wrappers are kept on the GradFunction itself)."""

    def __init__(self, gf: GradFunction) -> None:
        self.gf = gf
        self.kind = gf._kind
        self._wrappers = gf.__dict__.setdefault("_srcgrad_wrappers", {})

    def _function(self, args: Any, kwargs: dict[str, Any]) -> Any:
        return _gradient_function(self.gf, args, kwargs)


class ElementwiseGrad(_Derivative):
    """``srcgrad.elementwise_grad(f)``: the gradient of ``sum(f(x))``, i.e. the pullback
    of a cotangent of ones through ``f``'s emitted module."""

    def __init__(
        self,
        fn: Callable[..., Any],
        wrt: Any = 0,
        debug_nans: bool | None = None,
        example: Callable[[], Any] | None = None,
    ) -> None:
        self._gf = GradFunction(fn, wrt, False, "vjp", debug_nans, example=example)
        self.kind = "elementwise_grad"
        self.single = self._gf._single
        self.example = example
        self.forward = fn
        self.order = 1
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def _function(self, args: Any, kwargs: dict[str, Any]) -> Any:
        return _gradient_function(self._gf, args, kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        value, pullback = self._gf(*args, **kwargs)
        return pullback(_ones(value))

    def prepare(self, args: Any) -> Any:
        return self._gf.prepare(args)

    def cache_entry(self, args: tuple[Any, ...]) -> tuple[Path, str, dict[str, Any]]:
        return self._gf.cache_entry(args)

    def target_function(self, args: tuple[Any, ...]) -> Callable[..., Any]:
        return self.forward

    @property
    def source(self) -> str:
        return self._gf.source

    @property
    def path(self) -> Path:
        return self._gf.path

    def emitted(self, kind: str = "grad") -> Callable[..., Any]:
        return self._gf.emitted(kind)

    @property
    def wrt(self) -> tuple[str, ...]:
        return self._gf.wrt

    def __repr__(self) -> str:
        return f"<srcgrad.elementwise_grad of {self.forward.__qualname__}>"


def _lower_function(lower: Any) -> GradFunction:
    """The GradFunction whose gradient ``lower`` returns (its last call's, for a higher
    order)."""
    if isinstance(lower, GradFunction):
        return lower
    if isinstance(lower, ElementwiseGrad):
        return lower._gf
    return lower._last


def _ones(value: Any) -> Any:
    if isinstance(value, (float, int)):
        return 1.0
    return namespace(value).ones_like(value)


def is_derivative(fn: Any) -> bool:
    """Whether ``fn`` is a gradient srcgrad made (differentiated by :func:`differentiate`)."""
    return isinstance(fn, (GradFunction, BoundMethodGrad, _Derivative))


def differentiate(
    lower: Any,
    wrt: Any = 0,
    has_aux: bool = False,
    kind: str = "grad",
    debug_nans: bool | None = None,
    example: Callable[[], Any] | None = None,
) -> HigherGrad:
    """``srcgrad.<kind>`` of the gradient ``lower``."""
    if kind not in _KINDS:  # pragma: no cover - the API passes one of them
        raise ValueError(kind)
    return HigherGrad(lower, wrt, has_aux, kind, debug_nans, example)


def elementwise_grad(
    fn: Callable[..., Any] | None = None,
    wrt: int | str = 0,
    *,
    debug_nans: bool | None = None,
    example: Callable[[], Any] | None = None,
) -> Any:
    """The gradient of ``sum(fn(*args))`` with respect to ``wrt``: for an elementwise
    ``fn``, each element's derivative (``elementwise_grad(np.tanh)``-style plots); also a
    decorator.  ``fn`` may itself be a gradient (``elementwise_grad(grad(f))``)."""
    if fn is None:
        return lambda f: elementwise_grad(
            f, wrt, debug_nans=debug_nans, example=example
        )
    if is_derivative(fn):
        return differentiate(fn, wrt, False, "elementwise_grad", debug_nans, example)
    return ElementwiseGrad(fn, wrt, debug_nans, example)


_HIGHER[:] = [differentiate]  # srcgrad.grad of a gradient calls it
