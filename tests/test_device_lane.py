"""The device lane: emitted code on a device array namespace gives numpy's answers.

Each test runs twice: on the fake device (``tests/fakexp.py``, which refuses every host copy
and what cupy refuses; marked ``slow``: CI's slow run takes it) and on a real GPU through cupy
(marked ``gpu``: ``pytest -m gpu`` selects the lane; skipped cleanly without cupy or a GPU).

* every rule, inlined into a one-line emitted function (``tests/rules/test_inlined.py``'s
  first case per rule): the value and the pullback of a random cotangent on the device equal
  the numpy ones;
* every zoo model's loss gradient on the device equals the numpy gradient.

Device results are compared with numpy's within a tolerance (a GPU's reductions sum in
another order), never with hard-coded values.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import srcgrad
from srcgrad import tree
from tests import fakexp


@dataclass(frozen=True)
class Device:
    name: str
    to_device: Callable[[Any], Any]
    to_host: Callable[[Any], Any]
    array_type: type


def _cupy() -> Any:
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        cupy.zeros(1).sum().get()
    except Exception:  # noqa: BLE001  (no cupy, no driver, no device)
        return None
    return cupy


CUPY = _cupy()

FAKE = Device("fake", fakexp.to_device, fakexp.to_host, fakexp.FakeArray)
if CUPY is not None:
    CUDA = Device(
        "cuda",
        lambda x: CUPY.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x,
        lambda x: CUPY.asnumpy(x) if isinstance(x, CUPY.ndarray) else x,
        CUPY.ndarray,
    )
else:
    CUDA = None

_NO_GPU = "cupy with a visible GPU is not available here"


def device_params(slow_fake: bool = True) -> list[Any]:
    """The fake device (marked slow when ``slow_fake``) and the real GPU (marked gpu)."""
    fake_marks = [pytest.mark.slow] if slow_fake else []
    return [
        pytest.param(FAKE, id="fake", marks=fake_marks),
        pytest.param(
            CUDA,
            id="cuda",
            marks=[pytest.mark.gpu, pytest.mark.skipif(CUDA is None, reason=_NO_GPU)],
        ),
    ]


def _moved(dev: Device, x: Any) -> Any:
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return type(x)(_moved(dev, v) for v in x)
    return dev.to_device(x)


def _host(dev: Device, x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [_host(dev, v) for v in x]
    return dev.to_host(x)


def _close(got: Any, want: Any, where: str, rtol: float = 1e-9) -> None:
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), where
        assert not isinstance(got, dict), where
        for g, w in zip(got, want):
            _close(g, w, where, rtol)
        return
    if want is None:
        assert got is None, where
        return
    np.testing.assert_allclose(
        np.asarray(got, dtype=np.result_type(want)),
        want,
        rtol=rtol,
        atol=rtol * (1 + float(np.max(np.abs(want), initial=0.0))),
        err_msg=where,
    )


# --------------------------------------------------------------------------- rules


def _rule_cases() -> list[Any]:
    from tests.rules.test_inlined import CASES

    seen, out = set(), []
    for case, style in CASES:
        if style == "positional" and case.rule.name not in seen:
            seen.add(case.rule.name)
            out.append(case)
    return out


RULE_CASES = _rule_cases()

# rules whose primitive converts to a host number by its nature: cupy does it (with a sync)
# for a size-1 array, the fake device refuses every host conversion
HOST_BY_DESIGN = {
    **{
        name: "a conversion to a Python number (cupy syncs; the fake device refuses)"
        for name in ("float", "int", "complex")
    },
    # its case passes the segment starts as a Python list; cupy's ufunc methods take
    # device arrays only, so on cupy the user's own call needs cupy indices
    "add.reduceat": "the case's indices are a host list, which cupy's reduceat refuses",
}
# rules whose forward is a host library's function (scipy.linalg, scipy.spatial,
# scipy.stats): on device arrays the call is refused with a TypeError at the user's line
# (cupy refuses the implicit copy), never run on a silent host copy
HOST_ONLY_PREFIXES = ("scipy.linalg.", "scipy.spatial.", "stats.")
NUMPY_SCALAR_TYPES = ("float32", "float64")


@pytest.mark.parametrize("dev", device_params())
@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: c.label)
def test_rule_on_device(
    case: Any, dev: Device, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.rules.test_inlined import _import_module as _import
    from tests.rules.test_inlined import render

    if dev is FAKE and case.rule.name in HOST_BY_DESIGN:
        pytest.skip(f"{case.rule.name}: {HOST_BY_DESIGN[case.rule.name]}")
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))
    inl = render(case, "positional")
    name = f"lane_{zlib.crc32(case.label.encode()):08x}"
    path = tmp_path / f"{name}.py"
    path.write_text(inl.source)
    f = _import(path, name, monkeypatch).f
    args, _ = case.call()
    f_args = [args[s] for s in inl.slots]
    if case.rule.name in NUMPY_SCALAR_TYPES:
        pytest.skip("a numpy scalar type: its constructor makes a host number")
    if not any(isinstance(a, np.ndarray) for a in tree.leaves(f_args)):
        pytest.skip("no array argument: nothing runs on the device")
    wrt = inl.wrt if len(inl.wrt) > 1 else inl.wrt[0]
    value, pullback = srcgrad.vjp(f, wrt=wrt)(*f_args)
    rng = np.random.default_rng(case.seed)
    g = tree.map(  # (an output that is None, cov_cotangents' d_y without y: None)
        lambda v: (
            None
            if v is None
            else rng.normal(size=np.shape(v)).astype(np.result_type(v))
        ),
        value,
    )
    want = pullback(g)
    where = f"{case.label} on {dev.name}\n{inl.source}"
    if case.rule.name.startswith(HOST_ONLY_PREFIXES):
        with pytest.raises(TypeError):
            srcgrad.vjp(f, wrt=wrt)(*_moved(dev, f_args))
        return
    d_value, d_pullback = srcgrad.vjp(f, wrt=wrt)(*_moved(dev, f_args))
    _close(_host(dev, d_value), value, where + "\nvalue")
    got = d_pullback(tree.map(dev.to_device, g))
    _close(_host(dev, got), want, where + "\ncotangents")


# --------------------------------------------------------------------------- zoo models


class _DeviceRng:
    """A generator that draws on the device, as ``cupy.random.Generator`` does: the
    numbers of the numpy generator it wraps (so the device and host runs draw the same
    masks), returned as device arrays."""

    device: Device = FAKE

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._rng, name)

        def draw(*args: Any, **kwargs: Any) -> Any:
            return self.device.to_device(np.asarray(method(*args, **kwargs)))

        return draw


def _device_leaf(dev: Device, a: Any) -> Any:
    """A model's leaf on ``dev``: arrays moved; a numpy generator (dropout's) becomes one
    that draws on the device the numbers it would draw (the trainer gives a model on the
    GPU a ``cupy.random`` generator; here the masks must equal the host run's)."""
    if isinstance(a, np.random.Generator):
        return type("_OnDevice", (_DeviceRng,), {"device": dev})(a)
    return dev.to_device(a)


def _zoo_names() -> list[str]:
    from srcgrad.zoo import registry

    return list(registry.names())


@pytest.mark.parametrize("dev", device_params(slow_fake=False))
@pytest.mark.parametrize("name", _zoo_names())
def test_zoo_model_gradient_on_device(
    name: str, dev: Device, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The zoo model's generated loss gradient on the device equals the numpy one."""
    from srcgrad.zoo import registry

    # a device model's generator gives another specialisation: never into generated/
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))

    entry = registry.get(name)
    args = entry.example()
    d_args = tree.map(lambda a: _device_leaf(dev, a), entry.example())
    (loss, _), grads = entry.loss(*args)
    (d_loss, _), d_grads = entry.loss(*d_args)
    assert isinstance(d_loss, dev.array_type), f"{name}: the loss left the device"
    _close(dev.to_host(d_loss), loss, f"{name}: loss on {dev.name}", rtol=1e-6)
    flat, d_flat = tree.leaves(grads), tree.leaves(d_grads)
    assert len(flat) == len(d_flat), name
    for i, (want, got) in enumerate(zip(flat, d_flat)):
        if want is None:  # a buffer or a setting: no gradient
            assert got is None, f"{name}: gradient {i}"
            continue
        assert isinstance(got, dev.array_type), f"{name}: gradient {i} left the device"
        _close(dev.to_host(got), want, f"{name}: gradient {i} on {dev.name}", rtol=1e-6)


# --------------------------------------------------------------------------- scipy.special


def test_scipy_special_calls_the_special_functions_of_the_inputs_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scipy.special.erf(x)`` is emitted as ``scipy_special.erf(x)``: on numpy arrays
    scipy's, on device arrays the device's (``cupyx.scipy.special``), never a host copy.
    """
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))
    path = tmp_path / "special_user.py"
    path.write_text(
        "import numpy as np\n"
        "import scipy.special\n"
        "from scipy.special import gammaln\n\n\n"
        "def f(x):\n"
        "    p = scipy.special.log_softmax(x, axis=1)\n"
        "    return np.sum(p * scipy.special.erf(x) + gammaln(x * x + 1.0))\n"
    )
    from tests.rules.test_inlined import _import_module

    mod = _import_module(path, "special_user", monkeypatch)
    df = srcgrad.value_and_grad(mod.f)
    x = np.random.default_rng(3).normal(size=(3, 4))
    value, grad = df(x)
    assert "scipy_special.log_softmax(" in df.source
    assert "scipy_special.gammaln(" in df.source
    d_value, d_grad = df(fakexp.to_device(x))
    assert isinstance(d_grad, fakexp.FakeArray)
    _close(fakexp.to_host(d_value), value, "value on the fake device")
    _close(fakexp.to_host(d_grad), grad, "gradient on the fake device")
    # a function cupyx.scipy.special lacks fails on the fake device as on a GPU
    with pytest.raises(AttributeError, match="ellipk"):
        fakexp.fakexp.scipy_special.ellipk(fakexp.to_device(x))


# --------------------------------------------------------------------------- training


@pytest.mark.gpu
@pytest.mark.skipif(CUDA is None, reason=_NO_GPU)
@pytest.mark.parametrize("name", _zoo_names())
def test_zoo_model_trains_on_the_gpu_like_on_the_cpu(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``srcgrad train NAME --device cuda`` for one epoch on a subset: its losses and
    accuracies track the CPU run's (float32 sums in another order, so not bit-equal)."""
    import contextlib
    import io

    from srcgrad.cli import main

    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    rows = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        args = ["train", name, "--epochs", "1", "--subset", "600", "--out", str(out)]
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main([*args, "--device", device])
        assert code == 0, err.getvalue()
        lines = (out / "metrics.csv").read_text().splitlines()
        head = lines[0].split(",")
        rows[device] = dict(zip(head, map(float, lines[-1].split(","))))
    cpu, cuda = rows["cpu"], rows["cuda"]
    for key in ("train_loss", "test_loss"):
        assert cuda[key] == pytest.approx(cpu[key], rel=2e-2), (key, cpu, cuda)
    for key in ("train_acc", "test_acc"):
        if np.isnan(cpu[key]):  # a regression: no accuracy
            assert np.isnan(cuda[key]), (key, cpu, cuda)
            continue
        assert abs(cuda[key] - cpu[key]) <= 0.05, (key, cpu, cuda)


# --------------------------------------------------------------------------- corpus


def _corpus_params() -> list[Any]:
    from tests.corpus.harness import device_ready, family_params

    return family_params(keep=device_ready)


@pytest.mark.gpu
@pytest.mark.skipif(CUDA is None, reason=_NO_GPU)
@pytest.mark.usefixtures("_corpus_cache")
@pytest.mark.parametrize("family,case", _corpus_params())
def test_corpus_gradient_on_the_gpu_matches_numpy(family: Any, case: Any) -> None:
    """The corpus's gradients on cupy (tests/test_corpus.py runs them on the fake device)."""
    from tests.corpus.harness import as_tuple, grad_of, positions

    if case.device_skip:
        pytest.skip(f"{case.name}: {case.device_skip}")
    args = case.args(np.float64)
    expected = grad_of(case)(*args)
    got = grad_of(case)(*[CUDA.to_device(a) for a in args])
    pairs = zip(as_tuple(got, case.wrt), as_tuple(expected, case.wrt))
    for pos, (g, want) in zip(positions(case.fn, case.wrt), pairs):
        assert isinstance(
            g, CUDA.array_type
        ), f"{case.name}: argument {pos} left the GPU"
        _close(CUDA.to_host(g), np.asarray(want, float), f"{case.name}: argument {pos}")


@pytest.fixture
def _corpus_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "generated"))
