"""Teacher-forced training of a one-layer transformer decoder written the way incremental
generation code is: one token at a time, keys and values appended to a cache dict of lists
(`cache["k"].append(k)`), `np.stack` of the cache for attention, a learned position table
indexed by the step, RMS normalisation and a residual MLP."""

import numpy as np

import srcgrad

D = 8


def rms_norm(x, g, eps=1e-6):
    return g * x / np.sqrt(np.mean(x * x) + eps)


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def decode_step(p, token, pos, cache):
    x = p["embed"][token] + p["pos"][pos]
    h = rms_norm(x, p["g1"])
    q, k, v = h @ p["Wq"], h @ p["Wk"], h @ p["Wv"]
    cache["k"].append(k)
    cache["v"].append(v)
    K = np.stack(cache["k"])
    V = np.stack(cache["v"])
    att = softmax(K @ q / np.sqrt(D))
    x = x + (att @ V) @ p["Wo"]
    h = rms_norm(x, p["g2"])
    x = x + np.maximum(h @ p["W1"], 0.0) @ p["W2"]
    return x @ p["embed"].T


def lm_loss(params, tokens):
    cache = {"k": [], "v": []}
    nll = 0.0
    for pos, (tok, nxt) in enumerate(zip(tokens[:-1], tokens[1:])):
        logits = decode_step(params, tok, pos, cache)
        logits = logits - logits.max()
        nll = nll - (logits[nxt] - np.log(np.sum(np.exp(logits))))
    return nll / (len(tokens) - 1)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    vocab, ctx = 7, 6
    names = {"Wq": (D, D), "Wk": (D, D), "Wv": (D, D), "Wo": (D, D),
             "W1": (D, 2 * D), "W2": (2 * D, D), "embed": (vocab, D), "pos": (ctx, D)}
    params = {k: 0.3 * rs.randn(*shape) for k, shape in names.items()}
    params["g1"], params["g2"] = np.ones(D), np.ones(D)
    return params, [int(t) for t in rs.randint(0, vocab, size=ctx)]


if __name__ == "__main__":
    params, tokens = make_inputs(0)
    loss, grads = srcgrad.value_and_grad(lm_loss)(params, tokens)
