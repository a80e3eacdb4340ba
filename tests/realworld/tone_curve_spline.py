"""Fitting a monotone tone curve and a Catmull-Rom spline: knot heights kept increasing by
`np.concatenate([[0.0], np.cumsum(np.exp(deltas))])`, the curve applied to pixels by
`np.interp(img, knots_x, knots_y)`, a Catmull-Rom spline evaluated by locating segments
with `np.searchsorted(knots, t, side="right") - 1` clipped into range, gathering four
control points with `ctrl[i - 1]` ... `ctrl[i + 2]` from an edge-padded array, the
Hermite basis in the local coordinate, and a roughness penalty `np.diff(ctrl, n=2)`."""

import numpy as np

import srcgrad


def tone_curve(deltas, img, n_knots):
    knots_x = np.linspace(0.0, 1.0, n_knots)
    heights = np.concatenate([[0.0], np.cumsum(np.exp(deltas))])
    knots_y = heights / heights[-1]
    return np.interp(img, knots_x, knots_y)


def catmull_rom(ctrl, knots, t):
    i = np.searchsorted(knots, t, side="right") - 1
    i = np.clip(i, 0, len(knots) - 2)
    h = knots[1] - knots[0]
    s = (t - knots[i]) / h
    p = np.pad(ctrl, 1, mode="edge")
    p0, p1, p2, p3 = p[i], p[i + 1], p[i + 2], p[i + 3]
    m1 = 0.5 * (p2 - p0)
    m2 = 0.5 * (p3 - p1)
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * p1 + (s3 - 2 * s2 + s) * m1
            + (-2 * s3 + 3 * s2) * p2 + (s3 - s2) * m2)


def calibration_loss(deltas, ctrl, img, target, t, y, lam=0.1):
    mapped = tone_curve(deltas, img, len(deltas) + 1)
    tone_err = np.mean((mapped - target) ** 2)
    knots = np.linspace(t.min(), t.max(), len(ctrl))
    fit = catmull_rom(ctrl, knots, t)
    rough = np.sum(np.diff(ctrl, n=2) ** 2)
    return tone_err + np.mean((fit - y) ** 2) + lam * rough


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    img = rs.rand(5, 6)
    target = img ** 0.6
    t = np.sort(rs.uniform(0.0, 4.0, size=25))
    y = np.sin(1.5 * t) + 0.05 * rs.randn(25)
    return 0.1 * rs.randn(7), rs.randn(8), img, target, t, y


if __name__ == "__main__":
    args = make_inputs(0)
    g_deltas, g_ctrl = srcgrad.grad(calibration_loss, wrt=(0, 1))(*args)
    print(g_deltas, g_ctrl)
