"""Fitting a rotation, as a unit quaternion, to matched 3-D point pairs: the Hamilton
product written component by component from unpacked scalars, rotation as q p q*, the
quaternion normalised inside the loss, and a robust Cauchy penalty on the residuals."""

import numpy as np

import srcgrad


def qmul(q1, q2):
    w1, x1, y1, z1 = q1
    w2, x2, y2, z2 = q2
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])


def rotate(q, p):
    q_conj = q * np.array([1.0, -1.0, -1.0, -1.0])
    p_quat = np.concatenate([[0.0], p])
    return qmul(qmul(q, p_quat), q_conj)[1:]


def pose_loss(q, src, dst, scale=0.5):
    q = q / np.sqrt(np.sum(q ** 2))
    total = 0.0
    for i in range(src.shape[0]):
        r = rotate(q, src[i]) - dst[i]
        total += np.log1p(np.dot(r, r) / scale ** 2)
    return total


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    src = rs.randn(5, 3)
    angle = 0.7
    Rz = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    return np.array([1.0, 0.1, -0.2, 0.3]), src, src @ Rz.T + 0.01 * rs.randn(5, 3)


if __name__ == "__main__":
    q, src, dst = make_inputs(0)
    grad = srcgrad.grad(pose_loss)
    for _ in range(30):
        q = q - 0.05 * grad(q, src, dst)
