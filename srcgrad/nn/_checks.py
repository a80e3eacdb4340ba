"""Argument normalisation and input checks shared by the layers (never differentiated)."""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad.custom import custom_vjp

__all__ = ["tuple_of", "check_input", "check_divisible", "as_dtype"]


def tuple_of(value: Any, n: int, name: str) -> tuple[int, ...]:
    """``value`` as an ``n``-tuple of ints (an int is repeated, as PyTorch's ``_pair``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    out = tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return out


def as_dtype(dtype: Any) -> np.dtype:
    """A floating dtype (float32 when None)."""
    out = np.dtype(np.float32 if dtype is None else dtype)
    if out.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {out}")
    return out


@custom_vjp(returns="x")
def check_input(
    layer: str, x: Any, ndims: tuple[int, ...] | None, dim: int, size: int
) -> Any:
    """``x`` itself; raises a ValueError naming ``layer`` unless ``x.ndim`` is one of
    ``ndims`` (None: any) and ``x.shape[dim] == size`` (``size`` < 0: any size).

    Marked ``custom_vjp(returns="x")``: a differentiated layer calls it for its effect
    and the generator reads its value as ``x`` itself (shape facts and cotangent pass
    straight through); the rule below serves a caller outside the generator."""
    shape = tuple(x.shape)
    bad_ndim = ndims is not None and len(shape) not in ndims
    if bad_ndim or (size >= 0 and (not shape or shape[dim] != size)):
        want = "an" if ndims is None else "a " + " or ".join(f"{n}-D" for n in ndims)
        axis = f" with {size} at axis {dim}" if size >= 0 else ""
        raise ValueError(
            f"{layer}: expected {want} input{axis}, received shape {shape}; "
            f"hint: check the layer's size arguments against the data's shape"
        )
    return x


@check_input.defvjp
def _check_input_vjp(g, ans, layer, x, ndims, dim, size):
    """The check passes ``x`` through: its cotangent is ``g``."""
    return None, g, None, None, None


@custom_vjp(returns="x")
def check_divisible(x: Any, oh: int, ow: int) -> Any:
    """``x`` itself; raises a ValueError unless its last two axes are multiples of
    (oh, ow) (AdaptiveAvgPool2d's case)."""
    h, w = x.shape[-2], x.shape[-1]
    if h % oh or w % ow:
        raise ValueError(
            f"AdaptiveAvgPool2d: expected H and W divisible by the output size "
            f"{(oh, ow)}, received shape {tuple(x.shape)}; hint: resize the input "
            f"or choose an output size that divides it"
        )
    return x


@check_divisible.defvjp
def _check_divisible_vjp(g, ans, x, oh, ow):
    """The check passes ``x`` through: its cotangent is ``g``."""
    return g, None, None
