"""A soft rasteriser in the style of SoftRas: 2-D triangles drawn on a pixel grid from
`np.mgrid`, the signed distance of every pixel to each edge from 2-D cross products,
an inside test by the sign of all three edge functions, a soft coverage
`sigmoid(sign * dist**2 / sigma)`, triangles merged with `1 - np.prod(1 - masks, axis=0)`,
and a soft IoU silhouette loss against a target image; vertices are the parameters."""

import numpy as np

import srcgrad

SIGMA = 1e-2


def sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def point_segment_dist2(p, a, b):
    ab = b - a
    t = np.clip(((p - a) @ ab) / (ab @ ab), 0.0, 1.0)
    closest = a + t[..., None] * ab
    return np.sum((p - closest) ** 2, axis=-1)


def edge_function(p, a, b):
    return (b[0] - a[0]) * (p[..., 1] - a[1]) - (b[1] - a[1]) * (p[..., 0] - a[0])


def soft_triangle(p, tri, sigma=SIGMA):
    v0, v1, v2 = tri
    edges = [(v0, v1), (v1, v2), (v2, v0)]
    signs = np.stack([edge_function(p, a, b) for a, b in edges])
    inside = np.all(signs >= 0, axis=0) | np.all(signs <= 0, axis=0)
    d2 = np.min(np.stack([point_segment_dist2(p, a, b) for a, b in edges]), axis=0)
    return sigmoid(np.where(inside, 1.0, -1.0) * d2 / sigma)


def render(triangles, size):
    ys, xs = np.mgrid[0:size, 0:size]
    pixels = (np.stack([xs, ys], axis=-1) + 0.5) / size
    masks = np.stack([soft_triangle(pixels, tri) for tri in triangles])
    return 1.0 - np.prod(1.0 - masks, axis=0)


def silhouette_loss(triangles, target):
    image = render(triangles, target.shape[0])
    intersection = np.sum(image * target)
    union = np.sum(image + target - image * target)
    return 1.0 - intersection / union


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    size = 12
    ys, xs = np.mgrid[0:size, 0:size]
    target = ((xs - 6.0) ** 2 + (ys - 5.0) ** 2 < 16.0).astype(float)
    tris = np.array([[[0.2, 0.2], [0.7, 0.25], [0.4, 0.7]], [[0.5, 0.4], [0.8, 0.8], [0.3, 0.85]]])
    return tris + 0.03 * rs.randn(*tris.shape), target


if __name__ == "__main__":
    triangles, target = make_inputs(0)
    g = srcgrad.grad(silhouette_loss)(triangles, target)
