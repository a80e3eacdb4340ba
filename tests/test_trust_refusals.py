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
    "f", [augassign_into_view_of_local, augassign_into_view_of_argument, augassign_in_callee]
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
