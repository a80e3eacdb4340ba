"""Never a silently wrong gradient: views, in-place writes, and what srcgrad cannot prove.

* Views (issue 12, item 8): every primitive that may return a view (``Rule.view``) takes part
  in the alias analysis.  A write into the base after the view was taken, a write into the
  view, a write into a view of an argument, and ``y op= v`` (in place on an array) are
  refused at the user's line; reading the view before the write differentiates, with a value
  bit-identical to Python's and a gradient that matches central differences.
* Lists and displays that hold an array see in-place writes into it in numpy: refused too.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import srcgrad
from srcgrad.errors import AliasError, SrcgradError
from srcgrad.testing import check_grad

# expressions that return a view of `y` (a 4x4 float array made in the function)
VIEWS = {
    "flip": "np.flip(y)",
    "flip-axis": "np.flip(y, 0)",
    "fliplr": "np.fliplr(y)",
    "flipud": "np.flipud(y)",
    "rot90": "np.rot90(y)",
    "rollaxis": "np.rollaxis(y, 1)",
    "atleast_2d": "np.atleast_2d(y)",
    "atleast_3d": "np.atleast_3d(y)",
    "split": "np.split(y, 2)[0]",
    "array_split": "np.array_split(y, 3)[1]",
    "hsplit": "np.hsplit(y, 2)[1]",
    "vsplit": "np.vsplit(y, 2)[0]",
    "broadcast_arrays": "np.broadcast_arrays(y, y[0])[0]",
    "broadcast_to": "np.broadcast_to(y, (2, 4, 4))",
    "diag": "np.diag(y)",
    "diagonal": "np.diagonal(y)",
    "moveaxis": "np.moveaxis(y, 0, 1)",
    "swapaxes": "np.swapaxes(y, 0, 1)",
    "squeeze": "np.squeeze(np.expand_dims(y, 0))",
    "expand_dims": "np.expand_dims(y, 0)",
    "ravel": "np.ravel(y)",
    "ravel-method": "y.ravel()",
    "reshape": "np.reshape(y, (16,))",
    "reshape-method": "y.reshape(2, 8)",
    "T": "y.T",
    "transpose": "np.transpose(y)",
    "real": "np.real(y)",
    "real_if_close": "np.real_if_close(y)",
    "slice": "y[1:3]",
    "sliding_window_view": "np.lib.stride_tricks.sliding_window_view(y, 2, axis=0)",
}
if hasattr(np, "unstack"):  # numpy >= 2.1
    VIEWS["unstack"] = "np.unstack(y)[1]"
if hasattr(np, "matrix_transpose"):  # numpy >= 2.0
    VIEWS["matrix_transpose"] = "np.matrix_transpose(y)"
    VIEWS["linalg.diagonal"] = "np.linalg.diagonal(y)"
    VIEWS["mT"] = "y.mT"

# what each variant does with the view `v` of `y` (the forms below are functions of `x`)
VARIANTS = {
    # refused: numpy would see the write through the view, the functional rewrite would not
    "write-base-then-read": (
        "y = x * 1.0\nv = {view}\ny[0] = 3.0\nreturn np.sum(np.sin(v))",
        "stale-view",
    ),
    "augassign-base-then-read": (
        "y = x * 1.0\nv = {view}\ny += 1.0\nreturn np.sum(np.sin(v))",
        "stale-view",
    ),
    "write-into-view": (
        "y = x * 1.0\nv = {view}\nv[0] = 3.0\nreturn np.sum(np.sin(y))",
        "write-view",
    ),
    "write-into-view-of-argument": (
        "y = x\nv = {view}\nv[0] = 3.0\nreturn np.sum(np.sin(v))",
        "write-view",
    ),
    "view-through-helper": (
        "y = x * 1.0\nv = _view_of(y)\ny[0] = 3.0\nreturn np.sum(np.sin(v))",
        "stale-view",
    ),
    # accepted: the view is read before the write
    "read-before-write": (
        "y = x * 1.0\nv = {view}\ns = np.sum(np.sin(v))\ny[0] = 3.0\nreturn s + np.sum(y * y)",
        None,
    ),
}


def _module_text() -> str:
    parts = ["import numpy as np\n"]
    for vid, view in VIEWS.items():
        ident = vid.replace("-", "_").replace(".", "_")
        helper = f"def _view_of_{ident}(y):\n    return {view}\n"
        parts.append(helper)
        for var, (body, _) in VARIANTS.items():
            text = body.format(view=view).replace("_view_of(", f"_view_of_{ident}(")
            name = f"f_{ident}__{var.replace('-', '_')}"
            parts.append(f"def {name}(x):\n" + textwrap.indent(text, "    ") + "\n")
    return "\n\n".join(parts)


@pytest.fixture(scope="module")
def views_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A module of one function per (view primitive, variant), written to a real file."""
    path = Path(tmp_path_factory.mktemp("views")) / "view_programs.py"
    path.write_text(_module_text())
    spec = importlib.util.spec_from_file_location("view_programs", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["view_programs"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("view_programs", None)


def _x() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1.0, 1.0, (4, 4))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("vid", list(VIEWS))
def test_write_and_view(views_module: Any, vid: str, variant: str) -> None:
    ident = vid.replace("-", "_").replace(".", "_")
    f = getattr(views_module, f"f_{ident}__{variant.replace('-', '_')}")
    construct = VARIANTS[variant][1]
    x = _x()
    if construct is not None:
        with pytest.raises(AliasError) as info:
            srcgrad.value_and_grad(f)(x)
        err = info.value
        assert err.construct == construct, str(err)
        assert err.filename.endswith("view_programs.py") and err.lineno > 1, str(err)
        assert err.hint
        return
    value, grad = srcgrad.value_and_grad(f)(x.copy())
    assert value == f(x.copy())  # bit-identical to Python
    check_grad(f, x)


# --------------------------------------------------------------------------- containers


def list_holds_array_written_later(x):
    y = x * 1.0
    hs = []
    hs.append(y)
    y[0] = 5.0
    return np.sum(hs[0])


def display_holds_array_written_later(x):
    y = x * 1.0
    pair = [y, x]
    y[0] = 5.0
    return np.sum(pair[0])


def tuple_holds_array_augassigned(x):
    y = x * 1.0
    pair = (y, x)
    y *= 2.0
    return np.sum(pair[0])


def dict_holds_array_written_later(x):
    y = x * 1.0
    d = {"y": y}
    y[1] = 0.0
    return np.sum(d["y"] * x)


@pytest.mark.parametrize(
    "f",
    [
        list_holds_array_written_later,
        display_holds_array_written_later,
        tuple_holds_array_augassigned,
        dict_holds_array_written_later,
    ],
)
def test_container_holding_an_array_written_later_is_refused(f: Any) -> None:
    with pytest.raises(AliasError) as info:
        srcgrad.grad(f)(np.arange(1.0, 5.0))
    assert info.value.construct == "stale-view"
    assert "copy" in info.value.hint


def loop_appends_array_updated_in_place(x):
    h = np.zeros(4)
    hs = []
    for _ in range(3):
        h += x * x
        hs.append(h)
    return np.sum(np.stack(hs))


def loop_appends_copy(x):
    h = np.zeros(4)
    hs = []
    for _ in range(3):
        h += x * x
        hs.append(h.copy())
    return np.sum(np.stack(hs))


def loop_appends_functional_update(x):
    h = np.zeros(4)
    hs = []
    for _ in range(3):
        h = h + x * x
        hs.append(h)
    return np.sum(np.stack(hs))


def test_loop_appending_an_array_updated_in_place_is_refused() -> None:
    x = np.arange(1.0, 5.0)
    with pytest.raises(AliasError) as info:
        srcgrad.grad(loop_appends_array_updated_in_place)(x)
    assert info.value.construct == "loop-carried-view"
    assert "hs.append(h.copy())" in info.value.hint


@pytest.mark.parametrize("f", [loop_appends_copy, loop_appends_functional_update])
def test_loop_hint_forms_differentiate(f: Any) -> None:
    x = np.arange(1.0, 5.0)
    assert srcgrad.value_and_grad(f)(x)[0] == f(x)
    check_grad(f, x)


# --------------------------------------------------------------------------- y op= v


def augassign_into_view_of_local(x):
    y = x * 1.0
    v = y[:2]
    v += 1.0
    return np.sum(y * x)


def augassign_into_view_of_argument(x):
    v = x[1:]
    v *= 2.0
    return np.sum(v)


def augassign_scalar_item(x):
    s = x[0]
    s += x[1]
    s *= x[2]
    return s


def augassign_fresh_array(x):
    h = x * 1.0
    h += x
    h *= x
    return np.sum(h)


def _bump(h):
    h += 1.0
    return h


def augassign_in_callee(x):
    y = x * 2.0
    z = _bump(y)
    return np.sum(y * z)


@pytest.mark.parametrize(
    "f",
    [
        augassign_into_view_of_local,
        augassign_into_view_of_argument,
        augassign_in_callee,
    ],
)
def test_augassign_writing_through_a_view_is_refused(f: Any) -> None:
    with pytest.raises(AliasError) as info:
        srcgrad.value_and_grad(f)(np.arange(1.0, 5.0))
    assert "y = y + v" in info.value.hint or "copy" in info.value.hint


@pytest.mark.parametrize("f", [augassign_scalar_item, augassign_fresh_array])
def test_augassign_on_scalars_and_fresh_arrays_differentiates(f: Any) -> None:
    x = np.arange(1.0, 5.0)
    assert srcgrad.value_and_grad(f)(x.copy())[0] == f(x.copy())
    check_grad(f, x)


def test_errors_are_srcgrad_errors() -> None:
    assert issubclass(AliasError, SrcgradError)


# --------------------------------------------------------------------------- unknown means refuse

import math  # noqa: E402
import sys  # noqa: E402


def uses_eval(x):
    return eval("np.sum(x * x)")


def uses_exec(x):
    exec("y = x * 2")
    return np.sum(x)


def uses_locals(x):
    y = x * 2.0
    return np.sum(locals()["y"])


def uses_vars(x):
    y = x * 2.0
    return np.sum(vars()["y"])


def uses_globals(x):
    return np.sum(globals()["np"].sin(x))


def uses_compile(x):
    return np.sum(eval(compile("x * x", "<s>", "eval")))


def uses_getframe(x):
    y = x * 2.0
    return np.sum(sys._getframe().f_locals["y"])


def uses_setattr(x):
    setattr(math, "pi_scaled", 3.0)
    return np.sum(x)


def uses_getattr_active(x):
    return np.sum(getattr(x, "T"))


def method_sort(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(4.0))


def method_partition(x):
    y = x * 1.0
    y.partition(1)
    return np.sum(y * np.arange(4.0))


def method_fill(x):
    y = x * 1.0
    y.fill(2.0)
    return np.sum(y)


def method_put(x):
    y = x * 1.0
    y.put([0], [3.0])
    return np.sum(y)


def method_resize(x):
    y = x * 1.0
    y.resize((2, 2))
    return np.sum(y)


def method_tolist(x):
    return sum(x.tolist())


def method_item(x):
    return x[0:1].item() * 2.0


def method_view(x):
    return np.sum(x.view())


def attribute_flat(x):
    return np.sum(x.flat[1])


def attribute_base(x):
    return np.sum(x[1:].base)


def attribute_data(x):
    return np.sum(np.asarray(x.data))


def attribute_flags(x):
    return np.sum(x) * x.flags.writeable


def arange_active_start(x):
    return np.sum(np.arange(x[0], x[0] + 3.0))


def arange_active_step(x):
    return np.sum(np.arange(0.0, 4.0, x[1]))


def fftfreq_active_spacing(x):
    return np.sum(np.fft.fftfreq(4, x[0]))


def histogram_edges(x):
    return np.sum(np.histogram_bin_edges(x, bins=3))


def attribute_ctypes(x):
    return np.sum(x) + x.ctypes.data * 0.0


def numpy_fill_diagonal(x):
    y = np.outer(np.concatenate([x, x, x]), x)  # (a plain fill_diagonal is a write)
    np.fill_diagonal(y, x[0], wrap=True)
    return np.sum(y)


def numpy_copyto(x):
    y = x * 1.0
    np.copyto(y, x * 2.0)
    return np.sum(y)


def numpy_multiply_at(x):
    y = x * 1.0
    np.multiply.at(y, [0, 0], x[1])
    return np.sum(y)


def numpy_put(x):
    y = x * 1.0
    np.put(y, [0], x[1])
    return np.sum(y)


def numpy_fill_diagonal_of_a_constant(x):
    mask = np.ones((4, 4))
    np.fill_diagonal(mask, 0.0)
    return np.sum(mask @ x)


class _Scale:
    def __call__(self, v):
        return v * 2.0


SCALE = _Scale()


def callable_object(x):
    return np.sum(SCALE(x))


def test_a_callable_object_is_differentiated_through_its_call():
    # once refused (an object srcgrad could not read); its __call__ is inlined now
    x = np.linspace(-1.0, 1.0, 4)
    np.testing.assert_allclose(srcgrad.grad(callable_object)(x), np.full(4, 2.0))


REFUSED = {
    uses_eval: "eval",
    uses_exec: "exec",
    uses_locals: "locals",
    uses_vars: "vars",
    uses_globals: "globals",
    uses_compile: "eval",
    uses_getframe: "sys._getframe",
    uses_setattr: "setattr",
    uses_getattr_active: "getattr",
    method_sort: ".sort()",
    method_partition: ".partition()",
    method_fill: ".fill()",
    method_put: ".put()",
    method_resize: ".resize()",
    method_tolist: ".tolist()",
    method_item: ".item()",
    method_view: ".view()",
    attribute_flat: "attribute",
    attribute_base: "attribute",
    attribute_data: "attribute",
    attribute_flags: "attribute",
    arange_active_start: "np.arange",
    arange_active_step: "np.arange",
    fftfreq_active_spacing: "np.fft.fftfreq",
    histogram_edges: "np.histogram_bin_edges",
    attribute_ctypes: "attribute",
    numpy_fill_diagonal: "np.fill_diagonal",
    numpy_copyto: "np.copyto",
    numpy_multiply_at: "np.multiply.at",
    numpy_put: "np.put",
}


@pytest.mark.parametrize("f", list(REFUSED), ids=lambda f: f.__name__)
def test_unknown_means_refuse(f: Any) -> None:
    """A call, method or attribute srcgrad cannot prove constant or differentiate is an error at
    the user's line, naming the construct, never a zero gradient."""
    with pytest.raises(SrcgradError) as info:
        srcgrad.grad(f)(np.array([0.3, 1.7, 2.2, 3.9]))
    err = info.value
    assert err.construct == REFUSED[f], str(err)
    assert Path(__file__).resolve().as_posix().endswith(err.filename), str(err)
    first = f.__code__.co_firstlineno
    assert first < err.lineno <= first + 4, str(err)
    assert err.hint


def sorted_functionally(x):
    y = x * 1.0
    y = np.sort(y)
    return np.sum(y * np.arange(4.0))


def partitioned_functionally(x):
    y = np.partition(x * 1.0, 1)
    return np.sum(y[:1])


def filled_functionally(x):
    y = x * 1.0
    y = np.full(y.shape, 2.0)
    return np.sum(y * x)


def item_as_float(x):
    return x[0:1].reshape(())[()] * 2.0 + x[1]


def arange_of_stop(x):
    return np.sum(np.arange(4.0) * x) + np.sum(np.arange(np.floor(x[3])))


def fftfreq_constant_spacing(x):
    return np.sum(np.fft.fftfreq(4, 0.5) * x)


def astype_integer(x):
    return np.sum(x.astype(int) * x) + np.sum(x.astype(np.int32) * x)


def array_integer(x):
    return np.sum(np.array([x[0], x[1]], dtype=int) * x[:2])


def sum_integer(x):
    return np.sum(x, dtype=np.int64) * x[0] + np.sum(x, dtype="float64")


@pytest.mark.parametrize(
    "f",
    [
        sorted_functionally,
        partitioned_functionally,
        filled_functionally,
        item_as_float,
        arange_of_stop,
        fftfreq_constant_spacing,
        astype_integer,
        array_integer,
        sum_integer,
        numpy_fill_diagonal_of_a_constant,
    ],
    ids=lambda f: f.__name__,
)
def test_hint_forms_and_constants_differentiate(f: Any) -> None:
    """The hints' forms work, and integer results are constants (their derivative is 0)."""
    x = np.array([0.3, 1.7, 2.2, 3.9])
    assert srcgrad.value_and_grad(f)(x.copy())[0] == f(x.copy())
    check_grad(f, x)


def astype_runtime_dtype(x, dt):
    return np.sum(x.astype(dt) * x)


def test_dtype_unknown_in_the_source_is_checked_at_run_time() -> None:
    x = np.array([0.3, 1.7, 2.2, 3.9])
    df = srcgrad.grad(astype_runtime_dtype)
    np.testing.assert_allclose(df(x, np.float64), 2 * x)
    with pytest.raises(SrcgradError, match="integer or boolean"):
        df(x, np.int64)


# --------------------------------------------------------------------------- the fake device

from tests.fakexp import CupyRefusal, fakexp, to_device, to_host  # noqa: E402


def test_fake_device_refuses_what_cupy_refuses() -> None:
    a, z = to_device(np.ones(3)), to_device(np.asarray(2.0))
    with pytest.raises(CupyRefusal, match="zero-dim"):
        fakexp.tensordot(z, a, ([], []))
    with pytest.raises(CupyRefusal, match="zero-dim"):
        fakexp.tensordot(a, z, 1)
    np.testing.assert_array_equal(to_host(fakexp.tensordot(z, a, 0)), 2.0 * np.ones(3))
    with pytest.raises(CupyRefusal, match="list"):
        fakexp.power([a], 2)
    with pytest.raises(CupyRefusal, match="tuple"):
        fakexp.add((a, a), 1.0)
    with pytest.raises(CupyRefusal, match="multiply"):
        fakexp.multiply.at(a, to_device(np.array([0])), 2.0)
    with pytest.raises(CupyRefusal, match="accumulate"):
        fakexp.multiply.accumulate(a)
    with pytest.raises(CupyRefusal, match="object"):
        a.astype(object)
    with pytest.raises(CupyRefusal, match="object"):
        fakexp.zeros(3, dtype=object)
    b = to_device(np.zeros(3))
    fakexp.add.at(b, (to_device(np.array([0, 0])),), 1.0)  # cupy has add.at
    np.testing.assert_array_equal(to_host(b), [2.0, 0.0, 0.0])


def dot_of_vectors(x, s):
    return x.dot(x) * s + np.dot(s, x)[0]


def inner_of_vectors(x, s):
    return np.inner(x, x) + np.sum(np.inner(x, s) ** 2)


@pytest.mark.parametrize("f", [dot_of_vectors, inner_of_vectors])
def test_dot_and_inner_with_a_0d_operand_run_on_the_fake_device(f: Any) -> None:
    """A vector-vector product has a 0-d cotangent: its rule may not call cupy's tensordot
    with it (cupy refuses a 0-d operand there)."""
    x, s = np.arange(1.0, 4.0), np.asarray(0.7)
    want = srcgrad.grad(f, wrt=(0, 1))(x, s)
    got = srcgrad.grad(f, wrt=(0, 1))(to_device(x), to_device(s))
    for w, g in zip(want, got):
        np.testing.assert_allclose(to_host(g), w, rtol=1e-12)
    check_grad(f, x, s, wrt=(0, 1))


class _Config:
    dtype = np.float64


CONFIG = _Config()


def astype_config_dtype(x):
    return np.sum(x.astype(CONFIG.dtype) * x)


def test_dtype_from_a_mutable_global_is_checked_at_run_time() -> None:
    """A dtype read from a config object may change between calls: checked every call."""
    x = np.array([0.3, 1.7, 2.2, 3.9])
    df = srcgrad.grad(astype_config_dtype)
    np.testing.assert_allclose(df(x), 2 * x)
    CONFIG.dtype = np.int64
    try:
        with pytest.raises(SrcgradError, match="integer or boolean"):
            df(x)
    finally:
        CONFIG.dtype = np.float64
