"""Builders that turn a model into timed implementations: srcgrad, autograd, PyTorch, JAX.

Each builder returns an :class:`~benchmarks.harness.Impl`. It never raises: a framework that
is not installed, or a gradient srcgrad cannot generate yet, gives an ``Impl`` with
``call=None`` and the reason. Inputs are converted to each framework's array type once, outside
the timed call, and each timed call runs the loss and its gradient to completion (JAX results
are blocked on).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import models
from benchmarks.harness import Impl, first_line, leaves

__all__ = [
    "autograd_impl",
    "emitted_function",
    "framework_versions",
    "jax_impls",
    "numpy_forward",
    "numpy_reference",
    "setup_jax",
    "setup_torch",
    "srcgrad_impl",
    "srcgrad_status",
    "torch_impl",
]

Wrt = int | tuple[int, ...]


def _argnums(wrt: Wrt) -> tuple[int, ...]:
    return wrt if isinstance(wrt, tuple) else (wrt,)


def numpy_reference(
    name: str,
    hand: Callable[..., Any],
    args: tuple,
    kind: str = "reference",
    note: str = "",
) -> Impl:
    """A hand-written numpy ``(loss, grads)`` function on ``args``."""
    return Impl(name, lambda: hand(*args), kind=kind, note=note)


def numpy_forward(model: Callable[..., Any], args: tuple) -> Impl:
    """The model's plain numpy forward pass, for the gradient/forward ratio."""
    return Impl(
        "numpy forward only",
        lambda: model(*args),
        to_numpy=lambda r: (float(r), None),
        kind="forward",
        note="no gradient; context",
    )


# --------------------------------------------------------------------------------------------
# srcgrad
# --------------------------------------------------------------------------------------------


def srcgrad_status() -> tuple[Any | None, str]:
    """``(srcgrad module, "")`` when its API is importable, else ``(None, reason)``."""
    try:
        srcgrad = importlib.import_module("srcgrad")
    except Exception as exc:  # noqa: BLE001 - any import failure means "unavailable"
        return None, f"import srcgrad failed: {first_line(exc)}"
    missing = [n for n in ("grad", "value_and_grad") if not hasattr(srcgrad, n)]
    if missing:
        return None, f"srcgrad has no {', '.join(missing)} yet (engine not built)"
    return srcgrad, ""


def srcgrad_impl(model: Callable[..., Any], wrt: Wrt, args: tuple) -> Impl:
    """``srcgrad.value_and_grad(model, wrt=wrt)``, generated (and checked) before timing."""
    name = "srcgrad"
    srcgrad, reason = srcgrad_status()
    if srcgrad is None:
        return Impl(name, None, reason=reason)
    try:
        vg = srcgrad.value_and_grad(model, wrt=wrt)
        vg(*args)  # generates, writes and loads the emitted module
    except Exception as exc:  # noqa: BLE001 - report, never crash
        return Impl(name, None, reason=f"gradient not generated: {first_line(exc)}")
    path = getattr(vg, "path", None)
    note = f"emitted: {Path(path).name}" if path else ""
    return Impl(name, lambda: vg(*args), kind="grad", note=note, strict=True)


def emitted_function(
    df: Any, f: Callable[..., Any]
) -> tuple[Callable[..., Any] | None, str]:
    """The emitted ``grad_<f>`` behind a srcgrad gradient object, or ``(None, reason)``.

    The emitted module is read from ``df.path`` and executed the way srcgrad loads it
    (compile and exec of the file's text; DESIGN §7), so the function is the same code
    ``df`` runs, minus ``df``'s own dispatch and freshness checks.
    """
    path = getattr(df, "path", None)
    if path is None:
        return None, "the gradient object has no .path"
    path = Path(path)
    if not path.is_file():
        return None, f"{path} does not exist"
    namespace: dict[str, Any] = {"__name__": f"_srcgrad_bench_emitted_{f.__name__}"}
    try:
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102
    except Exception as exc:  # noqa: BLE001
        return None, f"could not load {path.name}: {first_line(exc)}"
    fn = namespace.get(f"grad_{f.__name__}")
    if not callable(fn):
        return None, f"{path.name} defines no grad_{f.__name__}"
    return fn, ""


# --------------------------------------------------------------------------------------------
# HIPS autograd
# --------------------------------------------------------------------------------------------


def autograd_impl(model: Callable[..., Any], wrt: Wrt, args: tuple) -> Impl:
    """HIPS autograd's ``value_and_grad`` on the same model source (``np`` swapped)."""
    name = "HIPS autograd"
    try:
        import autograd
    except Exception as exc:  # noqa: BLE001
        return Impl(name, None, reason=f"not installed ({first_line(exc)})")
    vg = autograd.value_and_grad(models.autograd_version(model), wrt)
    return Impl(name, lambda: vg(*args), to_numpy=lambda r: (float(r[0]), r[1]))


# --------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------


def setup_torch() -> Any | None:
    """Import torch pinned to one thread; ``None`` when it is not installed."""
    try:
        import torch
    except Exception:  # noqa: BLE001
        return None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work has started
        pass
    return torch


def torch_impl(model: Callable[..., Any], wrt: Wrt, args: tuple) -> Impl:
    """The idiomatic PyTorch model, eager, with ``torch.autograd.grad`` on leaf tensors."""
    name = "PyTorch eager (CPU)"
    torch = setup_torch()
    if torch is None:
        return Impl(name, None, reason="not installed")
    f = models.torch_models()[model.__name__]
    argnums = _argnums(wrt)

    def convert(tree: Any, grad: bool) -> Any:
        if isinstance(tree, dict):
            return {k: convert(v, grad) for k, v in tree.items()}
        t = torch.from_numpy(np.ascontiguousarray(tree))
        return t.requires_grad_() if grad else t

    targs = [convert(a, i in argnums) for i, a in enumerate(args)]
    wrt_trees = [targs[i] for i in argnums]
    inputs = leaves(wrt_trees)

    def call() -> tuple[Any, tuple[Any, ...]]:
        loss = f(*targs)
        return loss, torch.autograd.grad(loss, inputs)

    def to_numpy(result: tuple[Any, tuple[Any, ...]]) -> tuple[float, Any]:
        loss, grads = result
        return float(loss.detach()), [g.numpy() for g in grads]

    return Impl(name, call, to_numpy=to_numpy, note=f"torch {torch.__version__}")


# --------------------------------------------------------------------------------------------
# JAX
# --------------------------------------------------------------------------------------------


def setup_jax() -> Any | None:
    """Import jax with float64 enabled on the CPU; ``None`` when it is not installed."""
    try:
        import jax
    except Exception:  # noqa: BLE001
        return None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    return jax


def jax_impls(model: Callable[..., Any], wrt: Wrt, args: tuple) -> list[Impl]:
    """``jax.value_and_grad`` on the same model source (``np`` swapped), eager and jitted."""
    jax = setup_jax()
    if jax is None:
        return [Impl("JAX", None, reason="not installed")]
    vg = jax.value_and_grad(models.jax_version(model), argnums=wrt)
    jargs = jax.device_put(args)

    def to_numpy(result: tuple[Any, Any]) -> tuple[float, Any]:
        loss, grads = result
        return float(loss), jax.tree_util.tree_map(np.asarray, grads)

    out = []
    for name, fn in (("JAX (no jit)", vg), ("JAX jit", jax.jit(vg))):
        out.append(
            Impl(
                name,
                lambda fn=fn: jax.block_until_ready(fn(*jargs)),
                to_numpy=to_numpy,
                note=f"jax {jax.__version__}",
            )
        )
    return out


def framework_versions() -> dict[str, str]:
    """Installed versions of everything the suite may compare against."""
    from importlib import metadata

    out = {}
    for dist in (
        "numpy",
        "autograd",
        "torch",
        "jax",
        "jaxlib",
        "threadpoolctl",
        "matplotlib",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    srcgrad, reason = srcgrad_status()
    out["srcgrad"] = getattr(srcgrad, "__version__", "present") if srcgrad else reason
    return out
