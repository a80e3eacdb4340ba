"""Programs for tests/test_writes_through_views.py (a file of its own: the tests read
lines of it)."""

import numpy as np


def _assemble(k):
    K = np.zeros((3, 3))
    K[0:2, 0:2] += k
    K[1:3, 1:3] += 2.0 * k
    return K


def boundary_rows_after_assembly(k):
    K = _assemble(k)  # the callee's local, returned: written below under a new name
    K[0, :] = 0.0
    K[0, 0] = 1.0
    return np.sum(K**2) + K[1, 2] * K[2, 1]


def write_through_view_base_unread(k):
    B = np.zeros((3, 3)) + k[0, 0]
    V = B[:2]
    V[0, 0] = k[0, 1] * k[1, 1]
    return np.sum(np.sin(V))


def write_through_view_base_read(k):
    B = np.zeros((3, 3)) + k[0, 0]
    V = B[:2]
    V[0, 0] = k[0, 1]
    return np.sum(B)


def write_through_view_other_view_read(k):
    B = np.zeros((3, 3)) + k[0, 0]
    W = B[1:]
    V = B[:2]
    V[1, 1] = k[0, 1]
    return np.sum(W)


def fresh_array_each_step(c, u0):
    u_prev = u0.copy()
    u = u0.copy()
    traces = []
    for _ in range(4):
        u_next = np.zeros(u0.shape[0])
        u_next[1:-1] = (
            2 * u[1:-1] - u_prev[1:-1] + c[1:-1] * (u[2:] - 2 * u[1:-1] + u[:-2])
        )
        u_next[0] = 0.0
        u_prev, u = u, u_next
        traces.append(u[2])
        traces.append(u[1:3])
    return np.sum(traces[0]) + sum(np.sum(t**2) for t in traces)


def same_array_each_step(c):
    u = np.zeros(3)
    kept = []
    for n in range(3):
        u[0] = c[n]
        kept.append(u[0:2])
    return np.sum(np.array(kept))


def fresh_in_one_branch_only(c):
    u = np.zeros(3)
    kept = []
    for n in range(3):
        if n == 1:
            u = np.zeros(3)
        u[0] = c[n]
        kept.append(u[0:2])
    return np.sum(np.array(kept))
