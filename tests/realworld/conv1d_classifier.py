"""A small 1-D convolutional classifier for signals: a 'valid' convolution written as a loop
over the kernel taps that accumulates shifted slices (the im2col-free way numpy tutorials
write it), ReLU, global average pooling, a dense softmax layer and the cross-entropy of
integer labels."""

import numpy as np

import srcgrad


def conv1d(x, kernels, bias):
    # x: (N, L); kernels: (F, K) -> (N, F, L - K + 1)
    N, L = x.shape
    F, K = kernels.shape
    out_len = L - K + 1
    out = np.zeros((N, F, out_len))
    for k in range(K):
        out = out + kernels[None, :, k, None] * x[:, None, k : k + out_len]
    return out + bias[None, :, None]


def forward(params, x):
    feat = np.maximum(conv1d(x, params["kernels"], params["conv_b"]), 0.0)
    pooled = feat.mean(axis=2)
    return pooled @ params["W"] + params["b"]


def cross_entropy(params, x, labels):
    scores = forward(params, x)
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(x.shape[0]), labels])


def make_inputs(seed, n=6, length=10, filters=3, width=3, classes=2):
    rs = np.random.RandomState(seed)
    params = {
        "kernels": 0.5 * rs.randn(filters, width),
        "conv_b": 0.5 + 0.1 * rs.randn(filters),
        "W": 0.5 * rs.randn(filters, classes),
        "b": np.zeros(classes),
    }
    t = np.linspace(0, 1, length)
    labels = rs.randint(0, classes, size=n)
    x = np.sin(2 * np.pi * (1 + labels[:, None]) * t) + 0.1 * rs.randn(n, length)
    return params, x, labels


def main():
    params, x, labels = make_inputs(0)
    g = srcgrad.grad(cross_entropy)
    for it in range(30):
        grads = g(params, x, labels)
        for key in params:
            params[key] -= 0.5 * grads[key]
    print(cross_entropy(params, x, labels))


if __name__ == "__main__":
    main()
