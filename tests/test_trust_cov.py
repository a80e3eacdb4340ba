"""``np.cov`` has a rule: the covariance of ``m`` (and ``y``), with ``rowvar``, ``bias`` and
``ddof``.  Before, every call on values carrying a gradient was refused ("no adjoint rule for
np.cov"), found by ``tests/realworld/mc_option_greeks.py`` (a Monte-Carlo control variate).
Weighted covariances (``fweights``/``aweights``) stay refused at the user's line."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import cov_src as src

W = np.array([0.3, -0.7, 1.1, 0.45])
X = np.array([0.5, 0.2, -0.4, 0.9])


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


@pytest.mark.parametrize(
    "fn", [src.f1, src.f2, src.f3, src.f4, src.f5], ids=lambda f: f.__name__
)
def test_cov(fn):
    value, _ = srcgrad.value_and_grad(fn, wrt=(0, 1))(W, X)
    assert value == fn(W, X)
    check_grad(fn, W, X, wrt=(0, 1))


def test_float32_data_gets_float32_cotangents():
    w, x = W.astype(np.float32), X.astype(np.float32)
    g = srcgrad.grad(src.f1)(w, x)
    assert g.dtype == np.float32


def test_weighted_covariance_is_refused_at_its_line():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.refused)(W, X)
    err = info.value
    assert err.filename.endswith("cov_src.py")
    assert err.lineno == src.refused.__code__.co_firstlineno + 1
    assert "aweights" in str(err) and "hint:" in str(err)
