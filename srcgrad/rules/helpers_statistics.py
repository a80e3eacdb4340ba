"""Rules of ``np.cov``'s cotangent helpers (higher orders through a covariance).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here.  With ``X`` the variables of ``(m, y)`` as rows
(as ``np.cov`` reads them), ``P`` the centring projection along the observations
(symmetric, ``Xc = X P``) and ``f = N - ddof``, ``cov_cotangents(ct, m, y)`` is
``(G + G^T) X P / f`` (``G`` is ``ct`` as a matrix), split back into ``(m, y)``.  Paired
with the cotangents ``H`` of its two results it is ``<H, (G + G^T) X P> / f``:

* ``(m, y)`` get ``(G + G^T) H P / f``: ``cov_cotangents(ct, h_m, h_y)`` (``P`` commutes);
* ``ct`` gets ``(Hc Xc^T + Xc Hc^T) / f``: :func:`srcgrad.runtime.cov_cross`.

``cov_cross`` is bilinear in ``(m, y)`` and ``(h_m, h_y)``: paired with ``K`` its data get
``cov_cotangents(K, h_m, h_y)`` and its cotangents ``cov_cotangents(K, m, y)``, which
closes the cycle.  ``ct`` gives ``cov_cross`` only its shape.  ``y`` (and ``h_y``) may
be None.
"""

from __future__ import annotations

from srcgrad.rules.registry import adjoint
from srcgrad.runtime import cast_like, cov_cotangents, cov_cross, filled

_COV = {
    "matrix": ("(3,3),(3,5),-", {"y": None, "rowvar": True}),
    "one-vector": ("(),(5,),-", {"y": None, "rowvar": True}),
    "two-vectors": ("(2,2),(5,),(5,)", {"rowvar": True}),
    "matrix-and-vector": ("(3,3),(2,5),(5,)", {"rowvar": True}),
    "columns": ("(3,3),(5,3),-", {"y": None, "rowvar": False}),
    "columns-and-vector": ("(3,3),(5,2),(5,)", {"rowvar": False}),
    "columns-and-columns": ("(4,4),(5,2),(5,2)", {"rowvar": False}),
}
_NORMALISERS = [
    {"bias": [False, True], "ddof": [None]},
    {"bias": [False], "ddof": [0, 2]},
]


@adjoint(
    cov_cotangents,
    python_floats=(),
    nondiff=("rowvar", "bias", "ddof"),
    shapes=_COV,
    params=_NORMALISERS,
    multi_output=True,
)
def cov_cotangents_adjoint(g, ans, ct, m, y, rowvar, bias, ddof):
    h = filled(g, ans)
    d_ct = cov_cross(ct, m, y, h[0], h[1], rowvar, bias, ddof)
    d = cov_cotangents(ct, h[0], h[1], rowvar, bias, ddof)
    return cast_like(d_ct, ct), cast_like(d[0], m), d[1]


def _with_cotangents(case):
    shapes, params = case
    entries = shapes.split(",(")
    data = shapes[len(entries[0]) + 1 :]
    more = {"h_y": None} if params.get("y", 0) is None else {}
    return f"{shapes},{data}", {**params, **more}


@adjoint(
    cov_cross,
    python_floats=(),
    nondiff=("ct", "rowvar", "bias", "ddof"),
    shape_only=("ct",),
    shapes={name: _with_cotangents(case) for name, case in _COV.items()},
    params=_NORMALISERS,
)
def cov_cross_adjoint(g, ans, ct, m, y, h_m, h_y, rowvar, bias, ddof):
    # bilinear: each pair gets cov_cotangents of g with the other pair
    d_data = cov_cotangents(g, h_m, h_y, rowvar, bias, ddof)
    d_h = cov_cotangents(g, m, y, rowvar, bias, ddof)
    return cast_like(d_data[0], m), d_data[1], cast_like(d_h[0], h_m), d_h[1]
