"""A word-level LSTM language model from layer classes: a `Layer` base whose `__call__`
dispatches to `forward`, a subclass extending it with `super().__call__(...)`, a
`@property`, a one-line table of lambdas, caches `hs = [None] * (T + 1)` written by index,
gates sliced from one product, label smoothing with `np.clip(probs, 1e-12, 1.0)`."""

import numpy as np

import srcgrad

ACT = {"sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh, "linear": lambda z: z}


class Layer:
    def __call__(self, p, x):
        return self.forward(p, x)


class Embedding(Layer):
    def forward(self, p, ids):
        return p["E"][ids]


class LSTM(Layer):
    def __init__(self, n_hidden):
        self._n_hidden = n_hidden

    @property
    def hidden_size(self):
        return self._n_hidden

    def __call__(self, p, xs):
        return super().__call__(p, xs.reshape(len(xs), -1))

    def forward(self, p, xs):
        T, H = xs.shape[0], self.hidden_size
        hs, cs = [None] * (T + 1), [None] * (T + 1)
        hs[0], cs[0] = np.zeros(H), np.zeros(H)
        for t in range(T):
            z = p["W"] @ np.concatenate([xs[t], hs[t]]) + p["b"]
            i, f, o = (ACT["sigmoid"](z[k * H:(k + 1) * H]) for k in range(3))
            g = ACT["tanh"](z[3 * H:])
            cs[t + 1] = f * cs[t] + i * g
            hs[t + 1] = o * ACT["tanh"](cs[t + 1])
        return np.stack(hs[1:])


EMBED, RNN = Embedding(), LSTM(5)


def lm_loss(p, tokens, smoothing=0.1):
    logits = RNN(p, EMBED(p, tokens[:-1])) @ p["W_out"] + p["b_out"]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs, V = probs / probs.sum(axis=1, keepdims=True), logits.shape[1]
    target = np.full((len(tokens) - 1, V), smoothing / (V - 1))
    target[np.arange(len(tokens) - 1), tokens[1:]] = 1.0 - smoothing
    return -np.mean(np.sum(target * np.log(np.clip(probs, 1e-12, 1.0)), axis=1))


def make_inputs(seed):
    rs, V, D, H = np.random.RandomState(seed), 9, 4, 5
    p = {"E": 0.3 * rs.randn(V, D), "W": 0.3 * rs.randn(4 * H, D + H), "b": np.zeros(4 * H),
         "W_out": 0.3 * rs.randn(H, V), "b_out": np.zeros(V)}
    return p, rs.randint(0, V, size=8)


if __name__ == "__main__":
    grads = srcgrad.grad(lm_loss)(*make_inputs(0))
