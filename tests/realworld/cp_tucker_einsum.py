"""Fit a 3-way tensor by a CP model plus a Tucker correction, written in einsum strings
the way tensor-decomposition notebooks are: `"ir,jr,kr->ijk"`, `"abc,ia,jb,kc->ijk"`, an
implicit-output `"ij,ij"`, an ellipsis contraction `"...r,...r->..."`, a trace `"ii"`, and
`np.einsum("ij->ji", ...)` for a transpose, with a Frobenius fit and an orthogonality
penalty on the Tucker factors."""

import numpy as np

import srcgrad


def cp_reconstruct(weights, A, B, C):
    return np.einsum("r,ir,jr,kr->ijk", weights, A, B, C)


def tucker_reconstruct(core, factors):
    U1, U2, U3 = factors
    return np.einsum("abc,ia,jb,kc->ijk", core, U1, U2, U3)


def orthogonality(U):
    G = np.einsum("ij->ji", U) @ U
    off = G - np.eye(U.shape[1])
    return np.einsum("ij,ij", off, off)


def decomposition_loss(model, X, mask):
    A, B, C = model["cp"]
    approx = cp_reconstruct(model["weights"], A, B, C) + tucker_reconstruct(
        model["core"], model["tucker"])
    resid = (X - approx) * mask
    fit = np.einsum("ijk,ijk->", resid, resid) / mask.sum()
    norms = np.einsum("...r,...r->...", A, A).sum() + np.einsum("ir,ir->", B, B)
    cross = np.einsum("ii", np.einsum("ir,jr->ij", C, C))
    ortho = sum(orthogonality(U) for U in model["tucker"])
    return fit + 1e-3 * (norms + cross) + 0.1 * ortho


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    I, J, K, R = 4, 5, 3, 2
    model = {
        "weights": np.ones(R),
        "cp": [0.5 * rs.randn(I, R), 0.5 * rs.randn(J, R), 0.5 * rs.randn(K, R)],
        "core": 0.2 * rs.randn(2, 2, 2),
        "tucker": (rs.randn(I, 2), rs.randn(J, 2), rs.randn(K, 2)),
    }
    X = rs.randn(I, J, K)
    mask = (rs.rand(I, J, K) < 0.8).astype(float)
    return model, X, mask


if __name__ == "__main__":
    model, X, mask = make_inputs(0)
    loss, grads = srcgrad.value_and_grad(decomposition_loss)(model, X, mask)
