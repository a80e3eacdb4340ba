"""A small residual CNN whose convolutions are im2col by `np.lib.stride_tricks.as_strided`
over an `np.pad`-ded input (the CS231n "fast layers" trick), with a 3x3 conv, ReLU, a
second conv added back to the input (a residual block), global average pooling and a
softmax classifier."""

import numpy as np
from numpy.lib.stride_tricks import as_strided

import srcgrad


def im2col(x, kh, kw, pad):
    C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode="constant")
    out_h, out_w = H + 2 * pad - kh + 1, W + 2 * pad - kw + 1
    sc, sh, sw = xp.strides
    cols = as_strided(xp, shape=(C, kh, kw, out_h, out_w), strides=(sc, sh, sw, sh, sw))
    return cols.reshape(C * kh * kw, out_h * out_w), out_h, out_w


def conv2d(x, w, b, pad=1):
    F, C, kh, kw = w.shape
    cols, out_h, out_w = im2col(x, kh, kw, pad)
    out = w.reshape(F, -1) @ cols + b[:, None]
    return out.reshape(F, out_h, out_w)


def residual_block(x, p):
    h = np.maximum(conv2d(x, p["w1"], p["b1"]), 0.0)
    return np.maximum(x + conv2d(h, p["w2"], p["b2"]), 0.0)


def resnet_loss(params, images, labels):
    total = 0.0
    for img, label in zip(images, labels):
        h = np.maximum(conv2d(img, params["stem_w"], params["stem_b"]), 0.0)
        h = residual_block(h, params["block"])
        feats = h.mean(axis=(1, 2))
        logits = params["fc_w"] @ feats + params["fc_b"]
        logits = logits - logits.max()
        total += np.log(np.exp(logits).sum()) - logits[label]
    return total / len(images)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    params = {
        "stem_w": 0.4 * rs.randn(3, 1, 3, 3), "stem_b": 0.1 * rs.randn(3),
        "block": {"w1": 0.3 * rs.randn(3, 3, 3, 3), "b1": 0.1 * rs.randn(3),
                  "w2": 0.3 * rs.randn(3, 3, 3, 3), "b2": 0.1 * rs.randn(3)},
        "fc_w": 0.5 * rs.randn(2, 3), "fc_b": np.zeros(2),
    }
    return params, rs.randn(2, 1, 5, 5), [0, 1]


if __name__ == "__main__":
    params, images, labels = make_inputs(0)
    grads = srcgrad.grad(resnet_loss)(params, images, labels)
