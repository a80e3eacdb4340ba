"""Neural style transfer on fixed random convolutional features: the image is the unknown,
features from two valid convolutions written with explicit loops over kernel offsets and
slices, Gram matrices of reshaped feature maps, and content plus weighted style losses."""

import numpy as np

import srcgrad


def conv2d_valid(img, kernels):
    # img: (C, H, W); kernels: (F, C, k, k)
    F, C, k, _ = kernels.shape
    H, W = img.shape[1] - k + 1, img.shape[2] - k + 1
    out = np.zeros((F, H, W))
    for di in range(k):
        for dj in range(k):
            patch = img[:, di:di + H, dj:dj + W]
            out += np.tensordot(kernels[:, :, di, dj], patch, axes=([1], [0]))
    return np.maximum(out, 0.0)


def gram(features):
    C = features.shape[0]
    f = features.reshape(C, -1)
    return f @ f.T / f.shape[1]


def style_transfer_loss(img, content_img, style_img, k1, k2, style_weight=10.0):
    f1 = conv2d_valid(img, k1)
    f2 = conv2d_valid(f1, k2)
    c2 = conv2d_valid(conv2d_valid(content_img, k1), k2)
    content = np.mean((f2 - c2) ** 2)
    style = 0.0
    for feat, ref in ((f1, conv2d_valid(style_img, k1)), (f2, None)):
        if ref is None:
            ref = conv2d_valid(conv2d_valid(style_img, k1), k2)
        style = style + np.sum((gram(feat) - gram(ref)) ** 2)
    return content + style_weight * style


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    return (rs.rand(2, 8, 8), rs.rand(2, 8, 8), rs.rand(2, 8, 8),
            0.3 * rs.randn(3, 2, 3, 3), 0.3 * rs.randn(2, 3, 2, 2))


if __name__ == "__main__":
    img, content_img, style_img, k1, k2 = make_inputs(0)
    g = srcgrad.grad(style_transfer_loss)
    for _ in range(3):
        img = np.clip(img - 0.1 * g(img, content_img, style_img, k1, k2), 0, 1)
