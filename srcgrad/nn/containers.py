"""Sequential, and PyTorch-style state dicts: ``state_dict(model)`` names every parameter
and buffer as PyTorch would (``"0.weight"``, ``"features.3.running_mean"``), and
``load_state_dict(model, sd)`` copies such a dict of arrays into a model.

A Module whose class defines ``_state_names(self)`` (the recurrent layers) names its
arrays itself: it returns ``(name, owner module, attribute)`` triples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from srcgrad.nn.module import Module, field_kinds

__all__ = ["Sequential", "state_dict", "load_state_dict"]


class Sequential(Module):
    """Applies its layers in order; ``model[i]`` is the i-th, and its state-dict names
    are ``"<i>.<name>"`` as in PyTorch."""

    def __init__(self, *layers: Any) -> None:
        self.layers = list(layers)

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def _arrays(model: Any, prefix: str) -> Iterator[tuple[str, Any, Any, str]]:
    """(name, owner, key, kind) of every array reachable from ``model``."""
    if isinstance(model, Sequential):
        for i, layer in enumerate(model.layers):
            yield from _arrays(layer, f"{prefix}{i}.")
        return
    names = getattr(type(model), "_state_names", None)
    if isinstance(model, Module) and names is not None:
        for name, owner, key in names(model):
            yield f"{prefix}{name}", owner, key, field_kinds(owner)[key]
        return
    if isinstance(model, Module):
        for name, value in vars(model).items():
            if name.startswith("_") or name == "training":
                continue
            if _is_array(value):
                yield f"{prefix}{name}", model, name, field_kinds(model)[name]
            else:
                yield from _children(value, f"{prefix}{name}.")
        return
    yield from _children(model, prefix)


def _children(value: Any, prefix: str) -> Iterator[tuple[str, Any, Any, str]]:
    if isinstance(value, Module):
        yield from _arrays(value, prefix)
    elif type(value) in (list, tuple, dict):
        items = value.items() if type(value) is dict else enumerate(value)
        for k, v in items:
            if _is_array(v):
                yield f"{prefix}{k}", value, k, "parameter"
            else:
                yield from _children(v, f"{prefix}{k}.")


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray)


def state_dict(model: Any) -> dict[str, Any]:
    """Every parameter and buffer of ``model`` by its PyTorch-style name (the arrays
    themselves, not copies)."""
    return {name: _get(owner, key) for name, owner, key, _ in _arrays(model, "")}


def _get(owner: Any, key: Any) -> Any:
    return getattr(owner, key) if isinstance(owner, Module) else owner[key]


def load_state_dict(model: Any, state: dict[str, Any], strict: bool = True) -> Any:
    """Copy the arrays of ``state`` (a PyTorch-style dict: names as
    :func:`state_dict` gives them, values arrays or anything ``np.asarray`` takes, such
    as CPU tensors' ``.numpy()``) into ``model`` in place, cast to each target's dtype;
    returns ``model``.

    Raises:
        KeyError: with ``strict``, when a name is missing or unexpected.
        ValueError: when a shape differs.
    """
    targets = {name: (owner, key) for name, owner, key, _ in _arrays(model, "")}
    extra = [
        k for k in state if k not in targets and not k.endswith("num_batches_tracked")
    ]
    missing = [k for k in targets if k not in state]
    if strict and (extra or missing):
        raise KeyError(
            f"load_state_dict: missing {missing}, unexpected {extra}; hint: the names "
            f"are those of nn.state_dict(model)"
        )
    for name, (owner, key) in targets.items():
        if name not in state:
            continue
        old = _get(owner, key)
        new = np.asarray(state[name])
        if new.shape != old.shape:
            raise ValueError(
                f"load_state_dict: {name} has shape {new.shape}, the model expects "
                f"{old.shape}"
            )
        new = new.astype(old.dtype, copy=True)
        if isinstance(owner, Module):
            object.__setattr__(owner, key, new)
        else:
            owner[key] = new
    return model
