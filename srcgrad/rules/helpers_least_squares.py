"""Rules of ``np.linalg.lstsq``'s cotangent helpers: higher-order derivatives through
least squares (full-rank ``a``, as the first order).

The rule-body contract is in :mod:`srcgrad.rules.registry`.  A helper's own first
parameter ``g`` is named ``ct`` here, and ``(x, residuals, rank, s)`` is ``out``.  Each
rule differentiates the helper as it computes, with the solution ``x`` an operand of its
own (emitted code sends its cotangent back through ``lstsq``'s rule); ``b`` and ``x``
are read as columns (a vector is one), and the residuals' cotangent ``c_res`` as zeros
where numpy returns no residuals (``a`` not tall), as the helpers skip that term there.

``lstsq_cotangent_b = P^T c_x + 2 r * c_res`` (``P = pinv(a)``, ``r = b - a x``): for
``c_x`` it is ``P g``, for ``P`` ``c_x g^T`` (then ``pinv``'s cotangent of ``a``), for
``r`` ``2 g * c_res``.  ``lstsq_cotangent_a = pinv_cotangent(c_x b^T, P, a) - 2 (r *
c_res) x^T + U diag(c_s) V^T``: the first term's rule is ``pinv_cotangent``'s (written
here again), the last one's is ``svdvals_cotangent``'s (zero or repeated singular values
refused).  Entries that get nothing (the residuals and the singular values as the
helpers get them: only the residuals' shape is read; the rank) get zeros.
"""

from __future__ import annotations

import numpy as np

from srcgrad.rules.linalg import distinct_singular_values
from srcgrad.rules.registry import adjoint
from srcgrad.runtime import (
    lstsq_cotangent_a,
    lstsq_cotangent_b,
    mT,
    pinv_cotangent,
    require_distinct,
    require_nonzero,
    reshape_like,
    svd_cotangent,
    zeros_if_none,
)

__all__: list[str] = []

_LSTSQ_A = {
    "tall": "[(3,2),(2,),(),(3,)],[(3,2),(2,),(),(3,)],(4,3),(4,2)",
    "tall-vector": "[(3,),(1,),(),(3,)],[(3,),(1,),(),(3,)],(4,3),(4,)",
    "wide": "[(4,2),(0,),(),(3,)],[(4,2),(0,),(),(3,)],(3,4),(3,2)",
    "square-vector": "[(3,),(0,),(),(3,)],[(3,),(0,),(),(3,)],(3,3),(3,)",
}


@adjoint(
    lstsq_cotangent_a,
    python_floats=(),
    sequence=("ct", "out"),
    domain={"a": distinct_singular_values},
    shapes=_LSTSQ_A,
)
def lstsq_cotangent_a_adjoint(g, ans, ct, out, a, b):
    x = out[0]
    k = np.reshape(b, (ans.shape[-2], -1)).shape[-1]
    xm = np.reshape(x, (-1, k))
    bm = np.reshape(b, (-1, k))
    gxm = np.reshape(zeros_if_none(ct[0], x), (-1, k))
    gres = zeros_if_none(ct[1], out[1])
    geff = np.concatenate([gres, np.zeros_like(xm[0, gres.shape[-1] :])], axis=-1)
    gs = zeros_if_none(ct[3], out[3])
    p = np.linalg.pinv(a)
    c = np.matmul(gxm, mT(bm))
    # pinv_cotangent(c, p, a)'s rule
    pt = mT(p)
    gt = mT(g)
    q = np.matmul(p, pt)
    r = np.matmul(pt, p)
    d_e = np.matmul(np.matmul(g, q), c)
    d_f = np.matmul(np.matmul(c, r), g)
    d_q = np.matmul(c, g) - np.matmul(np.matmul(np.matmul(c, pt), mT(a)), g)
    d_r = np.matmul(g, c) - np.matmul(np.matmul(np.matmul(g, mT(a)), pt), c)
    d_c = -np.matmul(np.matmul(p, g), p)
    d_c = d_c + np.matmul(q, gt) - np.matmul(np.matmul(np.matmul(q, gt), a), p)
    d_c = d_c + np.matmul(gt, r) - np.matmul(np.matmul(np.matmul(p, a), gt), r)
    d_p = -(np.matmul(np.matmul(c, pt), gt) + np.matmul(np.matmul(gt, pt), c))
    d_p = d_p - np.matmul(mT(a), d_e) + np.matmul(d_q + mT(d_q), p)
    d_p = d_p + np.matmul(p, d_r + mT(d_r)) - np.matmul(d_f, mT(a))
    d_a = -np.matmul(d_e, pt) - np.matmul(pt, d_f) + pinv_cotangent(d_p, p, a)
    # the residuals' term
    rm = bm - np.matmul(a, xm)
    z = -2.0 * np.matmul(g, xm)
    d_rm = z * geff
    d_xm = -2.0 * np.matmul(gt, rm * geff) - np.matmul(mT(a), d_rm)
    d_a = d_a - np.matmul(d_rm, mT(xm))
    # the singular values' term
    e = np.linalg.svd(a, full_matrices=False)
    s = require_nonzero(e[1], "np.linalg.lstsq at a zero singular value")
    s = require_distinct(s, "np.linalg.lstsq's singular values where they repeat")
    g_v = np.matmul(g, mT(e[2]))
    d_u = g_v * np.expand_dims(gs, -2)
    d_vh = np.expand_dims(gs, -1) * np.matmul(mT(e[0]), g)
    d_a = d_a + svd_cotangent([d_u, None, d_vh], [e[0], s, e[2]], a, False)
    d_geff = np.sum(z * rm, axis=-2)
    return (
        [
            reshape_like(np.matmul(d_c, bm), x),
            d_geff[: gres.shape[-1]],
            None,
            np.sum(e[0] * g_v, axis=-2),
        ],
        [
            reshape_like(d_xm, x),
            np.zeros_like(out[1]),
            np.zeros_like(out[2]),
            np.zeros_like(out[3]),
        ],
        d_a,
        reshape_like(np.matmul(mT(d_c), gxm) + d_rm, b),
    )


@adjoint(
    lstsq_cotangent_b,
    python_floats=(),
    sequence=("ct", "out"),
    domain={"a": distinct_singular_values},
    shapes=_LSTSQ_A,
)
def lstsq_cotangent_b_adjoint(g, ans, ct, out, a, b):
    x = out[0]
    gm = np.reshape(g, (ans.shape[0], -1))
    k = gm.shape[-1]
    xm = np.reshape(x, (-1, k))
    bm = np.reshape(b, (-1, k))
    gxm = np.reshape(zeros_if_none(ct[0], x), (-1, k))
    gres = zeros_if_none(ct[1], out[1])
    geff = np.concatenate([gres, np.zeros_like(xm[0, gres.shape[-1] :])], axis=-1)
    p = np.linalg.pinv(a)
    rm = bm - np.matmul(a, xm)
    d_rm = 2.0 * gm * geff
    d_a = pinv_cotangent(np.matmul(gxm, mT(gm)), p, a) - np.matmul(d_rm, mT(xm))
    d_geff = np.sum(2.0 * gm * rm, axis=-2)
    return (
        [
            reshape_like(np.matmul(p, gm), x),
            d_geff[: gres.shape[-1]],
            None,
            np.zeros_like(out[3]),
        ],
        [
            reshape_like(-np.matmul(mT(a), d_rm), x),
            np.zeros_like(out[1]),
            np.zeros_like(out[2]),
            np.zeros_like(out[3]),
        ],
        d_a,
        reshape_like(d_rm, b),
    )
