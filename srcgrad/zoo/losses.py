"""The zoo's loss: softmax cross-entropy written with array operations only, so that its
emitted forward and backward passes run on any array namespace (numpy, cupy).

``nn.cross_entropy`` computes its log-softmax with ``scipy.special.log_softmax``, which
converts a device array to a host one; this form keeps every value on the device and
reads as four lines in the generated backward pass.
"""

from __future__ import annotations

import numpy as np

__all__ = ["softmax_cross_entropy"]


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of ``-log softmax(logits)[label]``; logits ``(N, C)``,
    integer labels ``(N,)``."""
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    picked = np.take_along_axis(logp, labels[:, None], axis=1)
    return -np.mean(picked)
