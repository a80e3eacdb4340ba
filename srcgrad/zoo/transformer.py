"""``transformer``: a Transformer encoder over the sixteen 7x7 patches of a Fashion-MNIST
image, with learned positions, mean-pooled into a linear read-out."""

from __future__ import annotations

from typing import Any

import numpy as np

import srcgrad
from srcgrad import nn
from srcgrad.zoo.losses import softmax_cross_entropy

__all__ = ["PatchTransformer", "transformer_example", "transformer_loss"]

PATCH = 7
TOKENS = (28 // PATCH) ** 2


class PatchTransformer(nn.Module):
    """Patches (N, 16, 49) embedded to ``d_model``, plus a learned position per patch,
    then ``layers`` post-norm encoder layers (``nhead`` heads, feed-forward ``ff``, no
    dropout), the mean over the tokens, and Linear to 10."""

    def __init__(
        self,
        d_model: int = 64,
        nhead: int = 4,
        ff: int = 128,
        layers: int = 2,
        *,
        rng: Any = None,
    ) -> None:
        f32 = np.float32
        self.embed = nn.Linear(PATCH * PATCH, d_model, rng=rng, dtype=f32)
        self.pos = nn.LearnedPositionalEncoding(
            d_model, max_len=TOKENS, batch_first=True, rng=rng, dtype=f32
        )
        self.blocks = [
            nn.TransformerEncoderLayer(
                d_model, nhead, ff, 0.0, batch_first=True, rng=rng, dtype=f32
            )
            for _ in range(layers)
        ]
        self.head = nn.Linear(d_model, 10, rng=rng, dtype=f32)

    def __call__(self, x):
        n = x.shape[0]
        side = 28 // PATCH
        p = x.reshape(n, side, PATCH, side, PATCH).transpose(0, 1, 3, 2, 4)
        h = self.pos(self.embed(p.reshape(n, side * side, PATCH * PATCH)))
        for block in self.blocks:
            h = block(h)
        return self.head(np.mean(h, axis=1))


def transformer_example() -> tuple[PatchTransformer, np.ndarray, np.ndarray]:
    """A small batch like those training feeds ``transformer_loss``: (model, x,
    labels)."""
    rng = np.random.default_rng(0)
    x = rng.random((4, 1, 28, 28), dtype=np.float32)
    return PatchTransformer(rng=rng), x, rng.integers(0, 10, 4)


@srcgrad.value_and_grad(has_aux=True, example=transformer_example)
def transformer_loss(model, x, labels):
    """Mean softmax cross-entropy; the logits come back as the auxiliary output."""
    logits = model(x)
    return softmax_cross_entropy(logits, labels), logits
