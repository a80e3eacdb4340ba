"""A fake device-array namespace for tests (DESIGN §8): cupy's behaviour without a GPU.

:class:`FakeArray` wraps an ``np.ndarray`` (it is *not* a subclass) and :data:`fakexp` is its
array namespace, reached through ``FakeArray.__array_namespace__``, so
``srcgrad.backend.namespace`` picks it up the way it picks up cupy.  Everything an array may do
on a device works: arithmetic and comparisons with other device arrays and with Python or numpy
scalars, ``@``, indexing, the usual methods and every numpy function through ``fakexp.<name>``
(including ``fakexp.linalg`` and ``fakexp.fft``).  Results are device arrays; a reduction gives
a 0-d device array, never a host scalar, as cupy does.

Everything that would move data between host and device raises ``TypeError``:

* ``__array__``, ``__array_function__`` and ``__array_ufunc__`` (``np.tanh(x)``,
  ``np.sum(x)``, ``np.asarray(x)``);
* ``__float__``, ``__int__``, ``__complex__``, ``__index__``, ``item()``, ``tolist()``,
  ``tobytes()``;
* mixing with a host ``np.ndarray`` in an operator, an index or a ``fakexp`` function call.

``bool(x)`` is allowed for a size-1 array (cupy allows it too, with an implicit sync; a user's
``if loss < tol:`` needs it) and raises ``ValueError`` otherwise, as numpy does.

What cupy refuses and numpy accepts is refused here too (each from cupy's documentation or
source), so that code that passes on the fake device runs on a real one:

* ``tensordot`` with a 0-d operand and ``axes`` other than ``0`` / ``((), ())``
  (``cupy.tensordot`` raises "An input is zero-dim while axes has dimensions"; the same check
  guards ``cupy.linalg.tensordot``);
* a ufunc called on a Python list or tuple ("Universal Functions only work with CuPy array or
  scalar", cupy's differences page: ``cupy.power([x], 2)`` is a ``TypeError``);
* object and string dtypes ("Data type of CuPy arrays cannot be non-numeric");
* ufunc methods cupy lacks: ``at`` exists only for add, subtract, maximum, minimum and the
  bitwise and/or/xor, ``reduce`` for add and multiply, ``accumulate`` and ``reduceat`` for
  add (cupy 12's ufunc methods, cupy issue 7082); ``outer`` exists for every ufunc.

Tests move data explicitly with :func:`to_device` and :func:`to_host`.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "CupyRefusal",
    "FakeArray",
    "HostDeviceError",
    "fakexp",
    "to_device",
    "to_host",
]


class HostDeviceError(TypeError):
    """A host conversion or a host/device mix that real device code must never do."""


def _host_mix(where: str) -> HostDeviceError:
    return HostDeviceError(
        f"{where}: a host numpy array met a device array (a host/device mix); "
        "device code must build its arrays with the namespace of its inputs"
    )


def _wrap(x: Any) -> Any:
    """Device arrays for numpy results (a numpy scalar becomes a 0-d array), recursively."""
    if isinstance(x, np.ndarray):
        return FakeArray(x)
    if isinstance(x, np.generic):
        return FakeArray(np.asarray(x))
    if isinstance(x, tuple):
        items = [_wrap(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap(x: Any, where: str) -> Any:
    """The ndarrays inside device arrays, recursively through lists, tuples and dicts."""
    if isinstance(x, FakeArray):
        return x._a
    if isinstance(x, np.ndarray):
        raise _host_mix(where)
    if isinstance(x, tuple):
        items = [_unwrap(v, where) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [_unwrap(v, where) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v, where) for k, v in x.items()}
    return x


_SCALARS = (bool, int, float, complex, np.generic)


def _operand(x: Any, where: str) -> Any:
    """The other operand of an operator: a device array's data or a scalar."""
    if isinstance(x, FakeArray):
        return x._a
    if isinstance(x, np.ndarray):
        raise _host_mix(where)
    if isinstance(x, _SCALARS):
        return x
    return NotImplemented


def _binary(name: str) -> Callable[[FakeArray, Any], Any]:
    def op(self: FakeArray, other: Any) -> Any:
        other = _operand(other, f"FakeArray.{name}")
        if other is NotImplemented:
            return NotImplemented
        return _wrap(getattr(self._a, name)(other))

    op.__name__ = name
    return op


def _inplace(name: str) -> Callable[[FakeArray, Any], Any]:
    def op(self: FakeArray, other: Any) -> Any:
        other = _operand(other, f"FakeArray.{name}")
        if other is NotImplemented:
            return NotImplemented
        getattr(self._a, name)(other)
        return self

    op.__name__ = name
    return op


def _unary(name: str) -> Callable[[FakeArray], Any]:
    def op(self: FakeArray) -> Any:
        return _wrap(getattr(self._a, name)())

    op.__name__ = name
    return op


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise HostDeviceError(
            f"{what} on a device array would copy it to the host; srcgrad must never do that"
        )

    refuse.__name__ = what
    return refuse


_METHODS = frozenset(
    [
        "all",
        "any",
        "argmax",
        "argmin",
        "argsort",
        "astype",
        "clip",
        "conj",
        "conjugate",
        "copy",
        "cumprod",
        "cumsum",
        "diagonal",
        "dot",
        "fill",
        "flatten",
        "max",
        "mean",
        "min",
        "nonzero",
        "prod",
        "ravel",
        "repeat",
        "reshape",
        "round",
        "sort",
        "squeeze",
        "std",
        "sum",
        "swapaxes",
        "take",
        "trace",
        "transpose",
        "var",
        "view",
    ]
)
_ATTRIBUTES = frozenset(
    ["shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides", "flags"]
)


class FakeArray:
    """A device array: an ``np.ndarray`` behind an API that refuses host conversions."""

    __slots__ = ("_a",)
    __array_ufunc__ = (
        None  # np.<ufunc>(x) raises; ndarray <op> x defers to our reflected op
    )
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, data: np.ndarray) -> None:
        if not isinstance(data, np.ndarray):
            raise TypeError(f"FakeArray wraps an np.ndarray, got {type(data).__name__}")
        self._a = data

    # ---------------------------------------------------------------- the namespace
    def __array_namespace__(self, *, api_version: str | None = None) -> Any:
        return fakexp

    # ---------------------------------------------------------------- refused
    __array__ = _refuse("__array__")
    __array_function__ = _refuse("__array_function__")
    __float__ = _refuse("float()")
    __int__ = _refuse("int()")
    __complex__ = _refuse("complex()")
    __index__ = _refuse("operator.index()")
    item = _refuse("item()")
    tolist = _refuse("tolist()")
    tobytes = _refuse("tobytes()")
    tofile = _refuse("tofile()")

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise ValueError(
                "The truth value of a device array with more than one element is ambiguous"
            )
        return bool(self._a)

    # ---------------------------------------------------------------- attributes
    def __getattr__(self, name: str) -> Any:
        if name in _ATTRIBUTES:
            return getattr(self._a, name)
        if name in _METHODS:
            method = getattr(self._a, name)

            def call(*args: Any, **kwargs: Any) -> Any:
                where = f"FakeArray.{name}"
                if name == "astype" and args:
                    _refuse_object_dtype(args[0], where)
                _refuse_object_dtype(kwargs.get("dtype"), where)
                return _wrap(method(*_unwrap(args, where), **_unwrap(kwargs, where)))

            call.__name__ = name
            return call
        raise AttributeError(f"'FakeArray' object has no attribute {name!r}")

    @property
    def T(self) -> FakeArray:
        return FakeArray(self._a.T)

    @property
    def mT(self) -> FakeArray:
        return FakeArray(self._a.mT)

    @property
    def real(self) -> FakeArray:
        return FakeArray(self._a.real)

    @property
    def imag(self) -> FakeArray:
        return FakeArray(self._a.imag)

    @property
    def device(self) -> str:
        return "fake"

    # ---------------------------------------------------------------- containers
    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        for row in self._a:
            yield _wrap(row)

    def __getitem__(self, key: Any) -> Any:
        return _wrap(self._a[_unwrap(key, "FakeArray.__getitem__")])

    def __setitem__(self, key: Any, value: Any) -> None:
        where = "FakeArray.__setitem__"
        self._a[_unwrap(key, where)] = _unwrap(value, where)

    def __copy__(self) -> FakeArray:
        return FakeArray(self._a.copy())

    def __deepcopy__(self, memo: dict) -> FakeArray:
        return FakeArray(self._a.copy())

    def __repr__(self) -> str:
        return f"FakeArray({self._a!r})"

    # ---------------------------------------------------------------- operators
    __add__, __radd__, __iadd__ = (
        _binary("__add__"),
        _binary("__radd__"),
        _inplace("__iadd__"),
    )
    __sub__, __rsub__, __isub__ = (
        _binary("__sub__"),
        _binary("__rsub__"),
        _inplace("__isub__"),
    )
    __mul__, __rmul__, __imul__ = (
        _binary("__mul__"),
        _binary("__rmul__"),
        _inplace("__imul__"),
    )
    __truediv__, __rtruediv__ = _binary("__truediv__"), _binary("__rtruediv__")
    __itruediv__ = _inplace("__itruediv__")
    __floordiv__, __rfloordiv__ = _binary("__floordiv__"), _binary("__rfloordiv__")
    __mod__, __rmod__ = _binary("__mod__"), _binary("__rmod__")
    __pow__, __rpow__, __ipow__ = (
        _binary("__pow__"),
        _binary("__rpow__"),
        _inplace("__ipow__"),
    )
    __matmul__, __rmatmul__ = _binary("__matmul__"), _binary("__rmatmul__")
    __and__, __rand__ = _binary("__and__"), _binary("__rand__")
    __or__, __ror__ = _binary("__or__"), _binary("__ror__")
    __xor__, __rxor__ = _binary("__xor__"), _binary("__rxor__")
    __eq__, __ne__ = _binary("__eq__"), _binary("__ne__")  # type: ignore[assignment]
    __lt__, __le__ = _binary("__lt__"), _binary("__le__")
    __gt__, __ge__ = _binary("__gt__"), _binary("__ge__")
    __neg__, __pos__ = _unary("__neg__"), _unary("__pos__")
    __abs__, __invert__ = _unary("__abs__"), _unary("__invert__")


class CupyRefusal(TypeError):
    """Something numpy accepts and cupy refuses (see the module docstring)."""


# the ufunc methods cupy has, by method: the ufuncs that have it (None: every ufunc)
_UFUNC_METHODS: dict[str, frozenset[str] | None] = {
    "at": frozenset(
        [
            "add",
            "subtract",
            "maximum",
            "minimum",
            "bitwise_and",
            "bitwise_or",
            "bitwise_xor",
        ]
    ),
    "reduce": frozenset(["add", "multiply"]),
    "accumulate": frozenset(["add"]),
    "reduceat": frozenset(["add"]),
    "outer": None,
}


def _refuse_sequences(args: tuple, where: str) -> None:
    for a in args:
        if isinstance(a, (list, tuple)):
            raise CupyRefusal(
                f"{where}: a ufunc takes device arrays or scalars only, not a "
                f"{type(a).__name__} (cupy: Unsupported type {type(a)})"
            )


class _FakeUfunc:
    """A numpy ufunc on device arrays, with the ``at`` / ``reduce`` / ... methods cupy has."""

    def __init__(self, ufunc: np.ufunc, where: str) -> None:
        self._ufunc = ufunc
        self._where = where
        self.__name__ = ufunc.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_sequences(args, self._where)
        return _call(self._ufunc, self._where, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._ufunc, name)
        if not callable(attr):
            return attr
        where = f"{self._where}.{name}"
        if name in _UFUNC_METHODS:
            has = _UFUNC_METHODS[name]
            if has is not None and self.__name__ not in has:
                raise CupyRefusal(
                    f"{where}: cupy has no {name} for the ufunc {self.__name__}"
                )

        def method(*args: Any, **kwargs: Any) -> Any:
            # ufunc.at's indices may be a tuple of index arrays; its operands may not be lists
            _refuse_sequences(args[:1] + args[2:] if name == "at" else args, where)
            return _call(attr, where, args, kwargs)

        return method


def _call(fn: Callable[..., Any], where: str, args: tuple, kwargs: dict) -> Any:
    _refuse_object_dtype(kwargs.get("dtype"), where)
    return _wrap(fn(*_unwrap(args, where), **_unwrap(kwargs, where)))


def _refuse_object_dtype(dtype: Any, where: str) -> None:
    if dtype is not None and np.dtype(dtype).kind in "OSUV":
        raise CupyRefusal(
            f"{where}: cupy arrays have numeric dtypes only, not {np.dtype(dtype)}"
        )


def _tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``tensordot`` with cupy's refusal of a 0-d operand when ``axes`` names dimensions."""
    if (np.ndim(a) == 0 or np.ndim(b) == 0) and not (
        (isinstance(axes, int) and axes == 0) or axes == ((), ())
    ):
        raise CupyRefusal(
            "tensordot: an input is zero-dim while axes has dimensions (cupy refuses it; "
            "multiply instead)"
        )
    return np.tensordot(a, b, axes)


def _linalg_tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Any:
    if axes is not None and not isinstance(axes, int):
        axes = (tuple(axes[0]), tuple(axes[1])) if len(axes) == 2 else axes
    return _tensordot(x1, x2, axes)


# numpy functions replaced by cupy's stricter behaviour: (submodule, name) -> function
_CUPY_STRICTER: dict[tuple[str, str], Callable[..., Any]] = {
    ("", "tensordot"): _tensordot,
    ("linalg", "tensordot"): _linalg_tensordot,
}


class _FakeNamespace:
    """numpy's names over device arrays: ``fakexp.tanh(x)``, ``fakexp.linalg.inv(a)``, ...

    Functions are wrapped (device arrays in, device arrays out, host arrays refused); types,
    dtypes and constants (``float32``, ``pi``, ``newaxis``, ``finfo``) pass through unchanged.
    Only the submodules cupy has exist: ``linalg``, ``fft`` and ``lib.stride_tricks`` (no
    ``random``: randomness comes from explicit generators).
    """

    _SUBMODULES = ("linalg", "fft", "lib", "stride_tricks")
    _ONLY: frozenset[str] | None = None  # the names cupy's counterpart has (None: all)

    def __init__(self, module: types.ModuleType, name: str) -> None:
        self._module = module
        self.__name__ = name

    @property
    def ndarray(self) -> type:
        return FakeArray

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name == "scipy_special" and self._module is np:
            value = _FakeSpecial(_scipy_special(), f"{self.__name__}.scipy_special")
            self.scipy_special = value
            return value
        if self._ONLY is not None and name not in self._ONLY:
            raise AttributeError(
                f"{self.__name__} has no function {name!r} (cupy has none)"
            )
        obj = getattr(self._module, name)
        where = f"{self.__name__}.{name}"
        sub = "" if self._module is np else self._module.__name__.rsplit(".", 1)[-1]
        obj = _CUPY_STRICTER.get((sub, name), obj)
        if isinstance(obj, types.ModuleType):
            if name not in self._SUBMODULES:
                raise AttributeError(f"{self.__name__} has no submodule {name!r}")
            value: Any = _FakeNamespace(obj, where)
        elif isinstance(obj, np.ufunc):
            value = _FakeUfunc(obj, where)
        elif isinstance(obj, type) or not callable(obj):
            value = obj
        else:

            def value(*args: Any, _fn: Any = obj, **kwargs: Any) -> Any:
                return _call(_fn, where, args, kwargs)

            value.__name__ = name
        setattr(self, name, value)  # cache: later lookups skip __getattr__
        return value

    def __repr__(self) -> str:
        return f"<fake array namespace {self.__name__!r}>"


def _scipy_special() -> types.ModuleType:
    import scipy.special

    return scipy.special


class _FakeSpecial(_FakeNamespace):
    """``fakexp.scipy_special``: scipy.special's functions over device arrays, only those
    ``cupyx.scipy.special`` has (its ``__init__`` in cupy 13, plus ``logsumexp``), so code
    that calls another one fails here as it would on a GPU."""

    _ONLY = frozenset(
        """i0 i0e i1 i1e j0 j1 y0 y1 yn bdtr bdtrc bdtri btdtr btdtri fdtr fdtrc fdtri gdtr
        gdtrc nbdtr nbdtrc nbdtri pdtr pdtrc pdtri chdtr chdtrc chdtri ndtr log_ndtr ndtri
        logit expit log_expit boxcox boxcox1p inv_boxcox inv_boxcox1p entr huber kl_div
        pseudo_huber rel_entr gamma gammaln loggamma gammasgn gammainc gammaincinv gammaincc
        gammainccinv beta betaln betainc betaincinv psi rgamma polygamma multigammaln digamma
        poch erf erfc erfcx erfinv erfcinv lpmv sph_harm expn softmax log_softmax zeta cbrt
        exp10 exp2 radian cosdg sindg tandg cotdg log1p expm1 round xlogy xlog1py sinc
        logsumexp""".split()
    )


fakexp = _FakeNamespace(np, "fakexp")


def to_device(x: Any) -> Any:
    """A device copy of a numpy array or scalar (tests only).

    Args:
        x: an ``np.ndarray`` or numpy scalar; other values (Python numbers, None) pass through.

    Returns:
        A :class:`FakeArray` holding a copy, or ``x`` unchanged.
    """
    if isinstance(x, (np.ndarray, np.generic)):
        return FakeArray(np.array(x, copy=True))
    return x


def to_host(x: Any) -> Any:
    """A host copy of a device array (tests only); containers are converted recursively.

    Args:
        x: a :class:`FakeArray`, or a list / tuple / dict holding some.

    Returns:
        An ``np.ndarray`` copy (or the same container of copies); other values unchanged.
    """
    if isinstance(x, FakeArray):
        return x._a.copy()
    if isinstance(x, tuple):
        items = [to_host(v) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else tuple(items)
    if isinstance(x, list):
        return [to_host(v) for v in x]
    if isinstance(x, dict):
        return {k: to_host(v) for k, v in x.items()}
    return x
