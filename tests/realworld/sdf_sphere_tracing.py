"""Fit the shapes of a signed-distance scene to a target depth image by sphere tracing:
a sphere and a rounded box blended by a polynomial smooth minimum, a fixed number of
marching steps `t = t + d` over all rays at once, surface normals by central differences
of the SDF along `np.eye(3)` offsets, Lambert shading with `np.clip`, and a soft coverage
mask from the final distance."""

import numpy as np

import srcgrad

N_STEPS = 24
EPS = 1e-3


def sd_sphere(p, center, radius):
    return np.linalg.norm(p - center, axis=-1) - radius


def sd_round_box(p, half, rounding):
    q = np.abs(p) - half
    outside = np.sqrt(np.sum(np.maximum(q, 0.0) ** 2, axis=-1) + 1e-12)
    return outside + np.minimum(q.max(axis=-1), 0.0) - rounding


def smooth_min(a, b, k=0.3):
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b * (1 - h) + a * h - k * h * (1.0 - h)


def scene(p, shape):
    return smooth_min(sd_sphere(p, shape["center"], shape["radius"]),
                      sd_round_box(p, shape["half"], 0.05))


def render(shape, origins, dirs, light):
    t = np.zeros(origins.shape[0])
    for _ in range(N_STEPS):
        t = t + scene(origins + t[:, None] * dirs, shape)
    p = origins + t[:, None] * dirs
    offsets = EPS * np.eye(3)
    normal = np.stack([scene(p + o, shape) - scene(p - o, shape) for o in offsets], axis=1)
    normal = normal / np.linalg.norm(normal, axis=1, keepdims=True)
    shade = np.clip(normal @ light, 0.0, 1.0)
    coverage = 0.5 - 0.5 * np.tanh(scene(p, shape) / 0.02)
    return coverage * shade, t


def depth_loss(shape, origins, dirs, light, target_shade, target_depth):
    shade, t = render(shape, origins, dirs, light)
    return np.mean((shade - target_shade) ** 2) + 0.1 * np.mean((t - target_depth) ** 2)


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    u, v = np.meshgrid(np.linspace(-0.12, 0.12, 4), np.linspace(-0.12, 0.12, 4))
    dirs = np.stack([u.ravel(), v.ravel(), np.ones(16)], axis=1)
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    origins = np.tile(np.array([0.0, 0.0, -3.0]), (16, 1))
    shape = {"center": np.array([0.3, 0.1, 0.2]), "radius": np.array(0.6),
             "half": np.array([0.4, 0.3, 0.35])}
    light = np.array([0.3, 0.5, -0.8]) / np.linalg.norm([0.3, 0.5, -0.8])
    return shape, origins, dirs, light, 0.5 + 0.1 * rs.rand(16), 2.5 + 0.1 * rs.rand(16)


if __name__ == "__main__":
    shape, *data = make_inputs(0)
    grads = srcgrad.grad(depth_loss)(shape, *data)
