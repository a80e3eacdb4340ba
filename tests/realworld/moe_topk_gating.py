"""A sparse mixture-of-experts regression layer: a linear router, the top-k experts of
each token picked by `np.argsort(...)[:, -k:]`, their logits read with
`np.take_along_axis` and renormalised by a softmax over the k chosen, a dense gate matrix
scattered through a boolean one-hot `np.arange(E)[None, None, :] == idx[:, :, None]`, two-layer ReLU experts in a list, and a
Switch-style load-balancing auxiliary loss (`np.bincount` of the routed experts)."""

import numpy as np

import srcgrad

TOP_K = 2


def softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def route(x, w_gate, k=TOP_K):
    logits = x @ w_gate
    idx = np.argsort(logits, axis=1)[:, -k:]
    top = softmax(np.take_along_axis(logits, idx, axis=1))
    n_experts = logits.shape[1]
    onehot = np.arange(n_experts)[None, None, :] == idx[:, :, None]
    gates = np.sum(onehot * top[:, :, None], axis=1)
    return gates, idx, softmax(logits)


def expert_forward(expert, x):
    W1, b1, W2, b2 = expert
    return np.maximum(x @ W1 + b1, 0.0) @ W2 + b2


def moe_loss(w_gate, experts, x, y, aux_weight=0.01):
    gates, idx, probs = route(x, w_gate)
    outs = np.stack([expert_forward(e, x) for e in experts], axis=1)
    pred = np.sum(gates[:, :, None] * outs, axis=1)
    n_experts = len(experts)
    counts = np.bincount(idx.ravel(), minlength=n_experts)
    load = counts / idx.size
    importance = probs.mean(axis=0)
    aux = n_experts * np.sum(load * importance)
    return np.mean((pred - y) ** 2) + aux_weight * aux


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    D, H, O, E, N = 4, 6, 2, 4, 10
    experts = [(0.5 * rs.randn(D, H), np.zeros(H), 0.5 * rs.randn(H, O), np.zeros(O))
               for _ in range(E)]
    x = rs.randn(N, D)
    return 0.5 * rs.randn(D, E), experts, x, np.sin(x[:, :O])


if __name__ == "__main__":
    w_gate, experts, x, y = make_inputs(0)
    g_gate, g_experts = srcgrad.grad(moe_loss, wrt=(0, 1))(w_gate, experts, x, y)
    print(g_gate.shape, len(g_experts))
