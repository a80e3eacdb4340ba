"""Dynamic routing between capsules: prediction vectors u_hat from per-pair weight matrices,
three routing iterations that update the logits b by agreement, a squash non-linearity,
and a margin loss on the output capsule lengths."""

import numpy as np

import srcgrad

ROUTING_ITERS = 3


def squash(s, axis=-1, eps=1e-9):
    sq = np.sum(s ** 2, axis=axis, keepdims=True)
    return sq / (1.0 + sq) * s / np.sqrt(sq + eps)


def softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def capsule_layer(W, u):
    # u: (batch, n_in, d_in), W: (n_in, n_out, d_out, d_in)
    u_hat = np.einsum("ijkl,bil->bijk", W, u)
    b = np.zeros(u_hat.shape[:3])
    for r in range(ROUTING_ITERS):
        c = softmax(b, axis=2)
        s = np.sum(c[..., None] * u_hat, axis=1)
        v = squash(s)
        if r < ROUTING_ITERS - 1:
            b = b + np.sum(u_hat * v[:, None, :, :], axis=-1)
    return v


def margin_loss(W, u, labels, m_plus=0.9, m_minus=0.1, lam=0.5):
    v = capsule_layer(W, u)
    lengths = np.sqrt(np.sum(v ** 2, axis=-1))
    T = np.eye(v.shape[1])[labels]
    L = T * np.maximum(0.0, m_plus - lengths) ** 2
    L = L + lam * (1 - T) * np.maximum(0.0, lengths - m_minus) ** 2
    return np.mean(np.sum(L, axis=1))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    return 0.3 * rs.randn(4, 3, 5, 2), rs.randn(2, 4, 2), np.array([0, 2])


if __name__ == "__main__":
    W, u, labels = make_inputs(0)
    loss_grad = srcgrad.value_and_grad(margin_loss)
    for _ in range(5):
        value, g = loss_grad(W, u, labels)
        W -= 0.5 * g
