"""A two-level U-Net for 1-channel image denoising: 3x3 same convolutions written as loops
over kernel offsets on `np.pad(..., mode="reflect")` input, 2x2 max pooling by
`reshape(C, H // 2, 2, W // 2, 2).max(axis=(2, 4))`, nearest upsampling by
`np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)`, a skip connection joined with
`np.concatenate(axis=0)` and a mean-squared reconstruction loss."""

import numpy as np

import srcgrad


def conv3x3(x, w, b):
    C_out, C_in, kh, kw = w.shape
    _, H, W = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="reflect")
    out = np.zeros((C_out, H, W)) + b[:, None, None]
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i:i + H, j:j + W]
            out = out + np.tensordot(w[:, :, i, j], patch, axes=([1], [0]))
    return out


def maxpool2(x):
    C, H, W = x.shape
    return x.reshape(C, H // 2, 2, W // 2, 2).max(axis=(2, 4))


def upsample2(x):
    return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)


def unet_loss(p, noisy, clean):
    relu = lambda z: np.maximum(z, 0.0)
    e1 = relu(conv3x3(noisy, p["enc_w"], p["enc_b"]))
    bott = relu(conv3x3(maxpool2(e1), p["mid_w"], p["mid_b"]))
    up = upsample2(bott)
    d1 = relu(conv3x3(np.concatenate([e1, up], axis=0), p["dec_w"], p["dec_b"]))
    out = conv3x3(d1, p["out_w"], p["out_b"]) + noisy
    return np.mean((out - clean) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    p = {"enc_w": 0.4 * rs.randn(2, 1, 3, 3), "enc_b": 0.1 * rs.randn(2),
         "mid_w": 0.4 * rs.randn(2, 2, 3, 3), "mid_b": 0.1 * rs.randn(2),
         "dec_w": 0.3 * rs.randn(2, 4, 3, 3), "dec_b": 0.1 * rs.randn(2),
         "out_w": 0.3 * rs.randn(1, 2, 3, 3), "out_b": np.zeros(1)}
    clean = np.sin(np.linspace(0, 3, 6))[None, :, None] * np.cos(np.linspace(0, 2, 6))[None, None, :]
    return p, clean + 0.2 * rs.randn(1, 6, 6), clean


if __name__ == "__main__":
    p, noisy, clean = make_inputs(0)
    loss, grads = srcgrad.value_and_grad(unet_loss)(p, noisy, clean)
