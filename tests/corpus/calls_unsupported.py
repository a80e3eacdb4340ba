"""Code that relies on numpy view semantics across a write: srcgrad rewrites writes
functionally, so it refuses such reads with an AliasError instead of a different value."""

import numpy as np


def gram_schmidt_rows(V):
    """Modified Gram-Schmidt on the rows of a fresh copy, in place.

    ``q = Q[i]`` is a view of row ``i``: every ``Q[i] = ...`` updates ``q`` too, so each
    projection uses the already-updated row (numpy's semantics, and the algorithm's).
    """
    Q = V * 1.0
    for i in range(Q.shape[0]):
        q = Q[i]
        for j in range(i):
            Q[i] = q - np.sum(q * Q[j]) * Q[j]  # !q -
        Q[i] = q / np.sqrt(np.sum(q * q))
    return np.sum(np.tanh(Q) * V) + np.sum(Q[0] * Q[2])
