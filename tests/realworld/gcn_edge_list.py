"""Semi-supervised node classification with a two-layer graph convolutional network
written on an edge list: degrees counted with `np.add.at`, symmetric normalisation
`deg[src] ** -0.5 * deg[dst] ** -0.5`, messages scattered into the receiving nodes with
`np.add.at(agg, dst, msg)`, a boolean training mask, and a graph-Laplacian smoothness
penalty on the hidden features."""

import numpy as np

import srcgrad


def add_self_loops(src, dst, n):
    loops = np.arange(n)
    return np.concatenate([src, loops]), np.concatenate([dst, loops])


def propagate(H, src, dst, norm):
    msg = H[src] * norm[:, None]
    agg = np.zeros_like(H)
    np.add.at(agg, dst, msg)
    return agg


def gcn_loss(params, X, src, dst, labels, train_mask, smooth=1e-2):
    n = X.shape[0]
    s, d = add_self_loops(src, dst, n)
    deg = np.zeros(n)
    np.add.at(deg, d, 1.0)
    norm = deg[s] ** -0.5 * deg[d] ** -0.5
    H = np.maximum(propagate(X @ params["W0"], s, d, norm) + params["b0"], 0.0)
    logits = propagate(H @ params["W1"], s, d, norm)
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -np.mean(logp[train_mask, labels[train_mask]])
    diff = H[src] - H[dst]
    return nll + smooth * np.sum(diff ** 2) / len(src)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n, f, h, c = 9, 5, 6, 3
    edges = [(i, (i + 1) % n) for i in range(n)] + [(0, 4), (2, 7), (3, 8)]
    src = np.array([a for a, b in edges] + [b for a, b in edges])
    dst = np.array([b for a, b in edges] + [a for a, b in edges])
    params = {"W0": 0.4 * rs.randn(f, h), "b0": 0.1 * rs.randn(h), "W1": 0.4 * rs.randn(h, c)}
    labels = rs.randint(0, c, size=n)
    train_mask = np.zeros(n, dtype=bool)
    train_mask[[0, 2, 3, 5, 7]] = True
    return params, rs.randn(n, f), src, dst, labels, train_mask


if __name__ == "__main__":
    params, X, src, dst, labels, train_mask = make_inputs(0)
    g = srcgrad.grad(gcn_loss)(params, X, src, dst, labels, train_mask)
    print({k: v.shape for k, v in g.items()})
