"""More models as people write them: embeddings, survival, filtering, embedding visualisation,
optimal transport, pooling, count regression, ICA, energy models, fixed points."""

import numpy as np
from scipy.special import gammaln


def matrix_factorization_loss(U, V, users, items, ratings, lam=0.05):
    """Collaborative filtering: embeddings gathered with repeated integer indices."""
    pred = np.sum(U[users] * V[items], axis=1)
    return np.mean((pred - ratings) ** 2) + lam * (np.sum(U**2) + np.sum(V**2))


def skipgram_negative_sampling(W_in, W_out, centers, contexts, negatives):
    """word2vec's objective: one positive and several negative pairs per center word."""
    v = W_in[centers]
    pos = np.sum(v * W_out[contexts], axis=1)
    neg = np.einsum("nd,nkd->nk", v, W_out[negatives])
    return -np.sum(-np.logaddexp(0, -pos)) - np.sum(-np.logaddexp(0, neg))


def cox_partial_likelihood(beta, X, events):
    """Cox model with rows sorted by time: risk sets by a reversed cumulative sum."""
    eta = X @ beta
    log_risk = np.log(np.cumsum(np.exp(eta)[::-1])[::-1])
    return -np.sum((eta - log_risk) * events)


def kalman_log_likelihood(log_q, log_r, a, ys):
    """Scalar random-walk-plus-noise model filtered in a loop."""
    q, r = np.exp(log_q), np.exp(log_r)
    m, P = 0.0, 1.0
    ll = 0.0
    for y in ys:
        m = a * m
        P = a * a * P + q
        S = P + r
        ll = ll - 0.5 * (np.log(2 * np.pi * S) + (y - m) ** 2 / S)
        K = P / S
        m = m + K * (y - m)
        P = (1 - K) * P
    return ll


def tsne_kl(Y, P):
    """KL(P || Q) with the Student-t similarities of a 2-D embedding."""
    sum_Y = np.sum(Y**2, axis=1)
    D = sum_Y[:, None] + sum_Y[None, :] - 2 * Y @ Y.T
    num = 1.0 / (1.0 + D)
    num = num * (1 - np.eye(Y.shape[0]))
    Q = num / np.sum(num)
    Q = np.maximum(Q, 1e-12)
    off = 1 - np.eye(Y.shape[0])
    return np.sum(off * P * np.log((P + np.eye(Y.shape[0])) / (Q + np.eye(Y.shape[0]))))


def sinkhorn_cost(C_scale, a, b, C, n_iters=20, reg=0.5):
    """Entropic optimal transport by Sinkhorn scaling; differentiate through the iterations."""
    K = np.exp(-C * C_scale / reg)
    u = np.ones_like(a)
    for _ in range(n_iters):
        v = b / (K.T @ u)
        u = a / (K @ v)
    plan = u[:, None] * K * v[None, :]
    return np.sum(plan * C)


def maxpool_cnn(kernel, w_out, images, labels):
    """Conv by einsum over patches, 2x2 max pooling by reshape and max, logistic readout."""
    n, H, W = images.shape
    k = kernel.shape[0]
    patches = np.stack(
        [images[:, i : i + H - k + 1, j : j + W - k + 1] for i in range(k) for j in range(k)],
        axis=-1,
    )
    fmap = np.tanh(np.einsum("nhwk,k->nhw", patches, kernel.ravel()))
    h2, w2 = fmap.shape[1] // 2, fmap.shape[2] // 2
    pooled = fmap[:, : 2 * h2, : 2 * w2].reshape(n, h2, 2, w2, 2).max(axis=(2, 4))
    logits = pooled.reshape(n, -1) @ w_out
    return np.sum(np.logaddexp(0, -labels * logits))


def negative_binomial_nll(params, counts):
    """Negative binomial maximum likelihood in (log r, logit p), with log-gamma terms."""
    r = np.exp(params[0])
    p = 1.0 / (1.0 + np.exp(-params[1]))
    ll = gammaln(counts + r) - gammaln(r) - gammaln(counts + 1)
    ll = ll + r * np.log(1 - p) + counts * np.log(p)
    return -np.sum(ll)


def ica_log_likelihood(W, X):
    """Maximum-likelihood ICA with a logistic source density."""
    S = X @ W.T
    sign, logdet = np.linalg.slogdet(W)
    return np.sum(-2 * np.logaddexp(0, -S) - S) / X.shape[0] + logdet


def rbm_free_energy(W, b_vis, b_hid, V):
    """Mean free energy of a binary RBM on a batch of visible vectors."""
    vbias_term = V @ b_vis
    hidden_term = np.sum(np.logaddexp(0, V @ W + b_hid), axis=1)
    return -np.mean(vbias_term + hidden_term)


def poisson_glm(beta, X, y, offset):
    """Poisson regression with an exposure offset and a ridge penalty."""
    rate = np.exp(X @ beta + offset)
    return np.sum(rate - y * np.log(rate)) + 0.5 * np.dot(beta, beta)


def fixed_point_sqrt(a, tol=1e-12):
    """Newton's iteration for sqrt(a) until it stops moving; the while-loop form."""
    x = a
    x_new = 0.5 * (x + a / x)
    while np.abs(x_new - x) > tol:
        x = x_new
        x_new = 0.5 * (x + a / x)
    return x_new * np.sin(a)


def ridge_closed_form(log_lam, X, y, X_val, y_val):
    """Validation error of ridge regression as a function of its log penalty."""
    d = X.shape[1]
    w = np.linalg.solve(X.T @ X + np.exp(log_lam) * np.eye(d), X.T @ y)
    return np.mean((X_val @ w - y_val) ** 2)
