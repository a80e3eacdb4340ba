"""A fastText-style bag-of-embeddings classifier on ragged documents stored flat with
offsets: token rows gathered by fancy indexing, mean pooling by `np.add.reduceat`,
per-document token weights summed with `np.bincount(doc_ids, weights=...)`, a
`np.repeat` of document lengths, and a logistic loss."""

import numpy as np

import srcgrad


def doc_ids_from_offsets(offsets, n_tokens):
    lengths = np.diff(np.append(offsets, n_tokens))
    return np.repeat(np.arange(len(offsets)), lengths), lengths


def embed_bag(E, tokens, offsets):
    rows = E[tokens]
    sums = np.add.reduceat(rows, offsets, axis=0)
    _, lengths = doc_ids_from_offsets(offsets, len(tokens))
    return sums / lengths[:, None]


def attention_pool(E, a, tokens, offsets):
    doc_ids, _ = doc_ids_from_offsets(offsets, len(tokens))
    scores = np.exp(E[tokens] @ a)
    totals = np.bincount(doc_ids, weights=scores, minlength=len(offsets))
    w = scores / totals[doc_ids]
    pooled = np.zeros((len(offsets), E.shape[1]))
    np.add.at(pooled, doc_ids, w[:, None] * E[tokens])
    return pooled


def bag_loss(params, tokens, offsets, labels):
    E, a, w, b = params["E"], params["a"], params["w"], params["b"]
    feats = embed_bag(E, tokens, offsets) + attention_pool(E, a, tokens, offsets)
    z = feats @ w + b
    return np.mean(np.logaddexp(0.0, -z * (2 * labels - 1)))


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    vocab, dim = 9, 4
    params = {"E": 0.5 * rs.randn(vocab, dim), "a": rs.randn(dim),
              "w": rs.randn(dim), "b": 0.0}
    tokens = rs.randint(0, vocab, size=11)
    offsets = np.array([0, 3, 4, 8])
    return params, tokens, offsets, np.array([1, 0, 1, 0])


if __name__ == "__main__":
    params, tokens, offsets, labels = make_inputs(0)
    grads = srcgrad.grad(bag_loss)(params, tokens, offsets, labels)
