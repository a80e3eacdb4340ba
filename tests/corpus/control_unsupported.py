"""Control-flow functions srcgrad does not differentiate yet: each must get a clean
SrcgradError at the line and column marked `# !<token>`."""

import numpy as np


def row_norm_dict(X):
    """Row norms in a dict comprehension keyed by row index, read back with a generator."""
    norms = {i: np.sqrt(np.sum(X[i] ** 2)) for i in range(len(X))}  # !{i:
    return sum(norms[i] * (i + 1) for i in norms)


def pair_list_energy(pts):
    """A list of (i, j, distance) tuples built in a nested loop, then summed."""
    pairs = []
    for i in range(len(pts)):
        for j in range(i):
            d = pts[i] - pts[j]
            pairs.append((i, j, np.sqrt(np.sum(d * d))))  # !pairs.append
    total = 0.0
    for i, j, r in pairs:
        total = total + np.exp(-r) * (i + j + 1)
    return total
