"""A two-layer graph attention network (GAT) on a dense adjacency matrix: attention
logits `a_src . Wh_i + a_dst . Wh_j` by broadcasting, LeakyReLU and ELU written with
`np.where`, non-edges masked with `np.where(adj > 0, e, -9e15)` before a row softmax,
multi-head outputs concatenated, and a cross-entropy on the labelled nodes only."""

import numpy as np

import srcgrad

ALPHA = 0.2


def leaky_relu(x, alpha=ALPHA):
    return np.where(x > 0, x, alpha * x)


def elu(x):
    return np.where(x > 0, x, np.exp(np.minimum(x, 0.0)) - 1.0)


def attention_head(H, W, a_src, a_dst, adj):
    Wh = H @ W
    e = leaky_relu((Wh @ a_src)[:, None] + (Wh @ a_dst)[None, :])
    e = np.where(adj > 0, e, -9e15)
    e = e - e.max(axis=1, keepdims=True)
    att = np.exp(e)
    att = att / att.sum(axis=1, keepdims=True)
    return att @ Wh


def gat_loss(params, X, adj, labels, train_idx):
    heads = [attention_head(X, *head, adj) for head in params["heads"]]
    H = elu(np.concatenate(heads, axis=1))
    logits = attention_head(H, *params["out"], adj)
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[train_idx, labels[train_idx]].mean()


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n, f, hid, c = 6, 4, 3, 2
    adj = (rs.rand(n, n) < 0.4).astype(float)
    adj = np.maximum(adj, adj.T) + np.eye(n)
    params = {
        "heads": [(0.5 * rs.randn(f, hid), rs.randn(hid), rs.randn(hid)) for _ in range(2)],
        "out": (0.5 * rs.randn(2 * hid, c), rs.randn(c), rs.randn(c)),
    }
    X = rs.randn(n, f)
    labels = rs.randint(0, c, size=n)
    return params, X, adj, labels, np.array([0, 2, 3, 5])


if __name__ == "__main__":
    params, X, adj, labels, train_idx = make_inputs(0)
    loss, grads = srcgrad.value_and_grad(gat_loss)(params, X, adj, labels, train_idx)
