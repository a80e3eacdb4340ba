"""A spatial transformer: a localisation net predicts a 2x3 affine matrix per image, an
affine grid from `np.meshgrid` of `np.linspace(-1, 1, .)` in homogeneous coordinates, and a
bilinear sampler that takes the four corners by `np.floor(x).astype(np.int64)`, `+ 1`,
`np.clip(..., 0, W - 1)`, gathers `img[y0, x0]` with integer index arrays and weights
`(x1 - x) * (y1 - y)`; the loss matches a target image."""

import numpy as np

import srcgrad


def affine_grid(theta, H, W):
    xs, ys = np.meshgrid(np.linspace(-1, 1, W), np.linspace(-1, 1, H))
    ones = np.ones(H * W)
    homog = np.vstack([xs.flatten(), ys.flatten(), ones])
    grid = theta @ homog
    return grid[0].reshape(H, W), grid[1].reshape(H, W)


def bilinear_sampler(img, x, y):
    H, W = img.shape
    x = 0.5 * (x + 1.0) * (W - 1)
    y = 0.5 * (y + 1.0) * (H - 1)
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    x1, y1 = x0 + 1, y0 + 1
    x0 = np.clip(x0, 0, W - 1)
    x1 = np.clip(x1, 0, W - 1)
    y0 = np.clip(y0, 0, H - 1)
    y1 = np.clip(y1, 0, H - 1)
    Ia, Ib, Ic, Id = img[y0, x0], img[y1, x0], img[y0, x1], img[y1, x1]
    wa = (x1 - x) * (y1 - y)
    wb = (x1 - x) * (y - y0)
    wc = (x - x0) * (y1 - y)
    wd = (x - x0) * (y - y0)
    return wa * Ia + wb * Ib + wc * Ic + wd * Id


def localisation(params, img):
    h = np.tanh(img.reshape(-1) @ params["W1"] + params["b1"])
    return (h @ params["W2"] + params["b2"]).reshape(2, 3)


def stn_loss(params, images, targets):
    total = 0.0
    for img, target in zip(images, targets):
        H, W = img.shape
        theta = localisation(params, img)
        gx, gy = affine_grid(theta, H, W)
        warped = bilinear_sampler(img, gx, gy)
        total = total + np.mean((warped - target) ** 2)
    return total / len(images)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    H, W, hidden = 6, 7, 5
    params = {"W1": 0.05 * rs.randn(H * W, hidden), "b1": np.zeros(hidden),
              "W2": 0.05 * rs.randn(hidden, 6),
              "b2": np.array([0.83, 0.11, 0.03, -0.07, 0.91, -0.05])}
    images = [rs.rand(H, W) for _ in range(3)]
    return params, images, [np.roll(im, 1, axis=1) for im in images]


if __name__ == "__main__":
    params, images, targets = make_inputs(0)
    grads = srcgrad.grad(stn_loss)(params, images, targets)
