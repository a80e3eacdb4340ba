"""SimCLR-style NT-Xent loss on two augmented views: a linear projection head, L2
normalised embeddings, a (2N x 2N) cosine similarity matrix whose diagonal is masked with
a large negative number through a boolean mask, and cross-entropy on the positive pairs."""

import numpy as np

import srcgrad


def project(W, x):
    z = x @ W
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def nt_xent(W, view1, view2, temperature=0.5):
    n = view1.shape[0]
    z = np.concatenate([project(W, view1), project(W, view2)], axis=0)
    sim = z @ z.T / temperature
    mask = np.eye(2 * n, dtype=bool)
    sim = np.where(mask, -1e9, sim)
    targets = np.concatenate([np.arange(n, 2 * n), np.arange(0, n)])
    sim_max = sim.max(axis=1, keepdims=True)
    log_prob = sim - sim_max - np.log(np.exp(sim - sim_max).sum(axis=1, keepdims=True))
    return -log_prob[np.arange(2 * n), targets].mean()


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    x = rs.randn(4, 6)
    return 0.3 * rs.randn(6, 3), x + 0.1 * rs.randn(4, 6), x + 0.1 * rs.randn(4, 6)


def main():
    W, a, b = make_inputs(0)
    step = srcgrad.value_and_grad(nt_xent)
    for _ in range(10):
        loss, dW = step(W, a, b)
        W -= 0.1 * dW
    print(loss)


if __name__ == "__main__":
    main()
