"""Adjoint rules for ``scipy.special`` basics (only when scipy is installed: it is optional).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  Two groups:

* Python-level functions: ``logsumexp``, ``softmax``, ``log_softmax``.  They are registered
  when this module is imported (``import srcgrad.rules`` does that).
* ufuncs: ``expit``, ``logit``, ``log_expit``, ``erf``, ``erfc``, ``erfinv``, ``erfcinv``,
  ``gammaln``, ``gamma``, ``digamma`` (``psi``), ``beta``, ``betaln``, ``xlogy``, ``xlog1py``,
  ``ndtr``, ``log_ndtr``, ``ndtri``, ``entr``, ``rel_entr``, ``kl_div``.  Their rules are
  registered by :func:`register_ufunc_rules` when this module is imported.  The engine keeps
  a non-numpy ufunc's call as written (``special.expit(x)``).

``digamma`` and ``trigamma`` in the rules come from :mod:`srcgrad.runtime` (scipy's on numpy,
a series elsewhere), so the rule bodies stay device-agnostic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad.rules.registry import adjoint, jvp_of
from srcgrad.runtime import (
    digamma,
    logsumexp_cotangent,
    polygamma_of,
    trigamma,
    unbroadcast,
)

__all__ = ["UFUNC_RULES", "register_ufunc_rules"]

#: ``(scipy ufunc, rule, adjoint keyword arguments)`` for :func:`register_ufunc_rules`.
UFUNC_RULES: list[tuple[Any, Any, dict[str, Any]]] = []

try:
    import scipy.special as _special
except ImportError:  # scipy is optional: without it this module registers nothing
    _special = None


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.1, 0.9, size=shape)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 3.0, size=shape)


if _special is not None:

    # ----------------------------------------------------------------------- Python functions

    @adjoint(
        _special.logsumexp,
        name="special.logsumexp",
        shapes={"matrix": "(3,4)", "3d": "(2,3,4)"},
        params=[
            {"axis": [None, 0, (0, 1)]},
            {"axis": [-1], "keepdims": [True]},
            {"axis": [-1], "b": [[0.5, 1.0, 2.0, 0.25]]},
        ],
        constant_hints={
            "b": "fold positive weights into the operand: logsumexp(a + np.log(w)) "
            "(with the same axis and keepdims) is logsumexp(a, b=w) and differentiates "
            "in both"
        },
        accepts={
            "return_sign": (
                (False,),
                "leave return_sign out (the sign is piecewise constant: compute it "
                "apart, without a gradient)",
            )
        },
        jvp="reduction",
    )
    def logsumexp_adjoint(
        g, ans, a, axis=None, b=None, keepdims=False, return_sign=False
    ):
        return logsumexp_cotangent(g, a, ans, axis, b, keepdims, return_sign)

    @adjoint(
        _special.softmax,
        name="special.softmax",
        shapes={"matrix": "(3,4)"},
        params={"axis": [None, 0, -1, (0, 1)]},
    )
    def softmax_adjoint(g, ans, x, axis=None):
        return ans * (g - np.sum(g * ans, axis=axis, keepdims=True))

    @jvp_of(softmax_adjoint)
    def softmax_jvp(ans, dots, b):
        t = dots[0]
        return ans * (t - np.sum(ans * t, axis=b.get("axis"), keepdims=True))

    @adjoint(
        _special.log_softmax,
        name="special.log_softmax",
        shapes={"matrix": "(3,4)"},
        params={"axis": [None, 0, -1, (0, 1)]},
    )
    def log_softmax_adjoint(g, ans, x, axis=None):
        return g - np.exp(ans) * np.sum(g, axis=axis, keepdims=True)

    @jvp_of(log_softmax_adjoint)
    def log_softmax_jvp(ans, dots, b):
        t = dots[0]
        return t - np.sum(np.exp(ans) * t, axis=b.get("axis"), keepdims=True)

    # ----------------------------------------------------------------------- ufuncs

    def expit_adjoint(g, ans, x):
        return g * ans * (1 - ans)

    def logit_adjoint(g, ans, x):
        return g / (x * (1 - x))

    def log_expit_adjoint(g, ans, x):
        return g * (1 - np.exp(ans))

    def erf_adjoint(g, ans, x):
        return g * 1.1283791670955126 * np.exp(-x * x)  # 2 / sqrt(pi)

    def erfc_adjoint(g, ans, x):
        return g * -1.1283791670955126 * np.exp(-x * x)

    def erfinv_adjoint(g, ans, y):
        return g * 0.886226925452758 * np.exp(ans * ans)  # sqrt(pi) / 2

    def erfcinv_adjoint(g, ans, y):
        return g * -0.886226925452758 * np.exp(ans * ans)

    def gammaln_adjoint(g, ans, x):
        return g * digamma(x)

    def gamma_adjoint(g, ans, x):
        return g * ans * digamma(x)

    def digamma_adjoint(g, ans, x):
        return g * trigamma(x)

    def betaln_adjoint(g, ans, a, b):
        both = digamma(a + b)
        return unbroadcast(g * (digamma(a) - both), a), unbroadcast(
            g * (digamma(b) - both), b
        )

    def beta_adjoint(g, ans, a, b):
        both = digamma(a + b)
        return (
            unbroadcast(g * ans * (digamma(a) - both), a),
            unbroadcast(g * ans * (digamma(b) - both), b),
        )

    def xlogy_adjoint(g, ans, x, y):
        return unbroadcast(g * np.log(y), x), unbroadcast(g * x / y, y)

    def xlog1py_adjoint(g, ans, x, y):
        return unbroadcast(g * np.log1p(y), x), unbroadcast(g * x / (1 + y), y)

    def ndtr_adjoint(g, ans, x):
        return g * 0.3989422804014327 * np.exp(-0.5 * x * x)  # 1 / sqrt(2 pi)

    def log_ndtr_adjoint(g, ans, x):
        return g * 0.3989422804014327 * np.exp(-0.5 * x * x - ans)

    def ndtri_adjoint(g, ans, y):
        return g * 2.5066282746310002 * np.exp(0.5 * ans * ans)  # sqrt(2 pi)

    def entr_adjoint(g, ans, x):
        return g * (-np.log(x) - 1)

    def rel_entr_adjoint(g, ans, x, y):
        return unbroadcast(g * (np.log(x / y) + 1), x), unbroadcast(-g * x / y, y)

    def kl_div_adjoint(g, ans, x, y):
        return unbroadcast(g * np.log(x / y), x), unbroadcast(g * (1 - x / y), y)

    _unit_domain = {"domain": _unit}
    _positive_domain = {"domain": _positive}
    UFUNC_RULES.extend(
        [
            (_special.expit, expit_adjoint, {"kind": "unary"}),
            (_special.logit, logit_adjoint, _unit_domain),
            (_special.log_expit, log_expit_adjoint, {}),
            (_special.erf, erf_adjoint, {"kind": "unary"}),
            (_special.erfc, erfc_adjoint, {}),
            (_special.erfinv, erfinv_adjoint, {"domain": (-0.9, 0.9)}),
            (_special.erfcinv, erfcinv_adjoint, {"domain": (0.1, 1.9)}),
            (_special.gammaln, gammaln_adjoint, _positive_domain),
            (_special.gamma, gamma_adjoint, _positive_domain),
            (_special.digamma, digamma_adjoint, _positive_domain),
            (_special.betaln, betaln_adjoint, _positive_domain),
            (_special.beta, beta_adjoint, _positive_domain),
            (_special.xlogy, xlogy_adjoint, {"domain": {"y": _positive}}),
            (_special.xlog1py, xlog1py_adjoint, {"domain": {"y": _positive}}),
            (_special.ndtr, ndtr_adjoint, {}),
            (_special.log_ndtr, log_ndtr_adjoint, {}),
            (_special.ndtri, ndtri_adjoint, {"domain": (0.05, 0.95)}),
            (_special.entr, entr_adjoint, _positive_domain),
            (_special.rel_entr, rel_entr_adjoint, _positive_domain),
            (_special.kl_div, kl_div_adjoint, _positive_domain),
        ]
    )


def register_ufunc_rules() -> None:
    """Register the ``scipy.special`` ufunc rules (see the module docstring for why not yet).

    Each is registered under ``special.<name>`` with its test domain, and as elementwise for
    forward mode (every one is a ufunc).  Does nothing without scipy.
    """
    for prim, rule, spec in UFUNC_RULES:
        adjoint(prim, name="special." + prim.__name__, jvp="elementwise", **spec)(rule)


register_ufunc_rules()


# the runtime helpers that the rules above inline (so that their emitted cotangents can be
# differentiated again: higher-order gradients of gammaln, gamma, beta)
@adjoint(digamma, domain=(0.5, 3.0))
def runtime_digamma_adjoint(g, ans, x):
    return g * trigamma(x)


@adjoint(trigamma, domain=(0.5, 3.0))
def runtime_trigamma_adjoint(g, ans, x):
    return g * polygamma_of(2, x)


@adjoint(polygamma_of, nondiff=("n",), domain=(0.5, 3.0), params={"n": [2, 3]})
def polygamma_of_adjoint(g, ans, n, x):
    return g * polygamma_of(n + 1, x)
