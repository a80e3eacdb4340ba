"""A one-block decoder-only language model in numpy: multi-head attention with heads
split by reshape and transpose, a causal mask from `np.tril(np.ones((T, T)))` applied
with `np.where(mask == 0, -1e9, scores)`, batched `np.matmul`, a GELU (tanh form)
feed-forward, pre-layer-norm residuals and the next-token cross entropy read with
`np.take_along_axis`."""

import numpy as np

import srcgrad

N_HEAD = 2


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + eps) + b


def gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def attention(x, p):
    T, C = x.shape
    hd = C // N_HEAD
    q, k, v = np.split(x @ p["w_qkv"], 3, axis=-1)
    q, k, v = (a.reshape(T, N_HEAD, hd).transpose(1, 0, 2) for a in (q, k, v))
    scores = np.matmul(q, k.transpose(0, 2, 1)) / np.sqrt(hd)
    mask = np.tril(np.ones((T, T)))
    scores = np.where(mask == 0, -1e9, scores)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = w / w.sum(axis=-1, keepdims=True)
    out = np.matmul(w, v).transpose(1, 0, 2).reshape(T, C)
    return out @ p["w_o"]


def lm_loss(p, tokens):
    T = len(tokens) - 1
    x = p["wte"][tokens[:-1]] + p["wpe"][:T]
    x = x + attention(layer_norm(x, p["g1"], p["b1"]), p)
    x = x + gelu(layer_norm(x, p["g2"], p["b2"]) @ p["w_fc"]) @ p["w_proj"]
    logits = x @ p["wte"].T
    logits = logits - logits.max(axis=-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    targets = np.asarray(tokens[1:])[:, None]
    return -np.mean(np.take_along_axis(logp, targets, axis=-1))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    V, C, T = 7, 8, 6
    shapes = {"wte": (V, C), "wpe": (T, C), "w_qkv": (C, 3 * C), "w_o": (C, C),
              "w_fc": (C, 4 * C), "w_proj": (4 * C, C)}
    p = {k: 0.2 * rs.randn(*s) for k, s in shapes.items()}
    p.update(g1=np.ones(C), b1=np.zeros(C), g2=np.ones(C), b2=np.zeros(C))
    return p, [int(t) for t in rs.randint(0, V, size=T + 1)]


if __name__ == "__main__":
    p, tokens = make_inputs(0)
    g = srcgrad.grad(lm_loss)(p, tokens)
    print({k: v.shape for k, v in g.items()})
