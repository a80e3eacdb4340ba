"""Linear, Bilinear, Embedding, Dropout, Flatten, Identity: layers with PyTorch's constructor
arguments, defaults, initialisation and parameter layouts, whose forward passes are plain
numpy (:mod:`srcgrad.nn.functional`) and whose backward passes are generated."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from srcgrad.nn import functional as F
from srcgrad.nn import init
from srcgrad.nn._checks import as_dtype, check_input
from srcgrad.nn.module import Module

__all__ = ["Linear", "Bilinear", "Embedding", "Dropout", "Flatten", "Identity"]


def _rng(rng: Any) -> np.random.Generator:
    return np.random.default_rng() if rng is None else rng


class Linear(Module):
    """y = x @ weight.T + bias, weight (out_features, in_features), both drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as PyTorch does."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        rng, dtype = _rng(rng), as_dtype(dtype)
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        shape = (self.out_features, self.in_features)
        self.weight = init.kaiming_uniform(shape, math.sqrt(5.0), rng=rng, dtype=dtype)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        self.bias = (
            init.uniform(self.out_features, -bound, bound, rng=rng, dtype=dtype)
            if bias
            else None
        )

    def __call__(self, x):
        x = check_input("Linear", x, None, -1, self.in_features)
        return F.linear(x, self.weight, self.bias)


class Bilinear(Module):
    """y_o = x1 @ weight[o] @ x2 + bias[o], weight (out_features, in1_features,
    in2_features), both drawn from U(-1/sqrt(in1_features), 1/sqrt(in1_features)) as
    PyTorch does."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        rng, dtype = _rng(rng), as_dtype(dtype)
        self.in1_features = int(in1_features)
        self.in2_features = int(in2_features)
        self.out_features = int(out_features)
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        shape = (self.out_features, self.in1_features, self.in2_features)
        self.weight = init.uniform(shape, -bound, bound, rng=rng, dtype=dtype)
        self.bias = (
            init.uniform(self.out_features, -bound, bound, rng=rng, dtype=dtype)
            if bias
            else None
        )

    def __call__(self, x1, x2):
        x1 = check_input("Bilinear", x1, None, -1, self.in1_features)
        x2 = check_input("Bilinear", x2, None, -1, self.in2_features)
        return F.bilinear(x1, x2, self.weight, self.bias)


class Embedding(Module):
    """A lookup table ``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1); the
    row ``padding_idx`` starts at zero and gets no gradient."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        rng, dtype = _rng(rng), as_dtype(dtype)
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} is out of range for "
                    f"{self.num_embeddings} embeddings"
                )
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        weight = init.normal((self.num_embeddings, self.embedding_dim), rng=rng)
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = weight.astype(dtype)

    def __call__(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx)


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training mode (drawn from ``rng``, a
    ``np.random.Generator`` the layer holds) and scales the rest by 1 / (1 - p)."""

    def __init__(self, p: float = 0.5, *, rng: Any = None) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = _rng(rng)

    def __call__(self, x):
        return F.dropout(x, self.p, self.training, self.rng)


class Flatten(Module):
    """Merges the axes ``start_dim`` .. ``end_dim`` into one (by default all but the
    batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def __call__(self, x):
        shape = _flat_shape(x.shape, self.start_dim, self.end_dim)
        return x.reshape(shape)


def _flat_shape(shape: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    n = len(shape)
    start, end = start % n, end % n
    return shape[:start] + (-1,) + shape[end + 1 :]


class Identity(Module):
    """Returns its input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, x):
        return x
