"""The zoo's models by name, each with what ``srcgrad train`` needs to train it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from srcgrad.zoo import datasets
from srcgrad.zoo.digits import DigitsMLP, digits_example, digits_loss
from srcgrad.zoo import convnet, mlp_bn, rows, sin2cos, transformer
from srcgrad.zoo.lenet import LeNet, lenet10_example, lenet10_loss, lenet_example
from srcgrad.zoo.lenet import lenet_loss
from srcgrad.zoo.mlp import MLP, mlp_example, mlp_loss

__all__ = ["MODELS", "ZooModel", "get", "names"]


@dataclass(frozen=True)
class ZooModel:
    """A model of the zoo and its training defaults.

    Attributes:
        name: what ``srcgrad train`` calls it.
        description: one line for ``srcgrad train --help``.
        build: ``rng -> Module``, a freshly initialised model.
        loss: ``(model, x, labels) -> ((loss, logits), grads)``, a
            :func:`srcgrad.value_and_grad` with ``has_aux=True``.
        example: builds ``(model, x, labels)`` that ``srcgrad gen`` specialises on.
        splits: ``(path, classes) -> Splits``, the training and test data.
        classes: the classes trained on (None: all).
        requires: a module the data need (``sklearn``), or None.
        epochs, batch_size, lr, optimizer, schedule: the training defaults.
        task: ``classification`` (the loss's auxiliary output is logits, accuracy is
            reported) or ``regression`` (the loss is the figure; no accuracy).
    """

    name: str
    description: str
    build: Callable[[Any], Any]
    loss: Any
    example: Callable[[], tuple[Any, ...]]
    splits: Callable[..., datasets.Splits]
    classes: Sequence[int] | None = None
    requires: str | None = None
    epochs: int = 5
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "constant"
    task: str = "classification"


MODELS: dict[str, ZooModel] = {
    m.name: m
    for m in (
        ZooModel(
            name="mlp",
            description="784-400-100-10 ReLU MLP on Fashion-MNIST, Adam",
            build=lambda rng: MLP(rng=rng),
            loss=mlp_loss,
            example=mlp_example,
            splits=datasets.fashion_mnist_splits,
            epochs=10,
            batch_size=128,
            lr=1e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="lenet3",
            description="LeNet-5 on the first 3 Fashion-MNIST classes "
            "(T-shirt, trouser, pullover), Adam",
            build=lambda rng: LeNet(num_classes=3, rng=rng),
            loss=lenet_loss,
            example=lenet_example,
            splits=datasets.fashion_mnist_splits,
            classes=(0, 1, 2),
            epochs=3,
            batch_size=64,
            lr=1e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="digits-mlp",
            description="64-64-10 ReLU MLP on scikit-learn's 8x8 digits, Adam "
            "(needs scikit-learn)",
            build=lambda rng: DigitsMLP(rng=rng),
            loss=digits_loss,
            example=digits_example,
            splits=datasets.digits_splits,
            requires="sklearn",
            epochs=30,
            batch_size=32,
            lr=3e-3,
        ),
        ZooModel(
            name="mlp-dropout-bn",
            description="784-512-256-10 MLP, BatchNorm + ReLU + Dropout 0.2 per hidden "
            "layer, on Fashion-MNIST, Adam",
            build=lambda rng: mlp_bn.MLPDropoutBN(rng=rng),
            loss=mlp_bn.mlp_bn_loss,
            example=mlp_bn.mlp_bn_example,
            splits=datasets.fashion_mnist_splits,
            epochs=6,
            batch_size=128,
            lr=1e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="resmlp",
            description="784-1024-1024-10 residual MLP (h + ReLU(fc(h))) on "
            "Fashion-MNIST, Adam",
            build=lambda rng: mlp_bn.ResMLP(rng=rng),
            loss=mlp_bn.resmlp_loss,
            example=mlp_bn.resmlp_example,
            splits=datasets.fashion_mnist_splits,
            epochs=6,
            batch_size=128,
            lr=1e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="lenet",
            description="LeNet-5 (ReLU, max pool) on Fashion-MNIST, Adam",
            build=lambda rng: LeNet(num_classes=10, rng=rng),
            loss=lenet10_loss,
            example=lenet10_example,
            splits=datasets.fashion_mnist_splits,
            epochs=15,
            batch_size=128,
            lr=2e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="convnet",
            description="conv3x3 16, BN, ReLU, conv3x3 16, BN, ReLU, maxpool, linear; "
            "Fashion-MNIST, Adam",
            build=lambda rng: convnet.ConvNet(rng=rng),
            loss=convnet.convnet_loss,
            example=convnet.convnet_example,
            splits=datasets.fashion_mnist_splits,
            epochs=4,
            batch_size=128,
            lr=2e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="gru",
            description="GRU (hidden 128) over the 28 image rows, Fashion-MNIST, Adam",
            build=lambda rng: rows.RowGRU(rng=rng),
            loss=rows.gru_loss,
            example=rows.gru_example,
            splits=datasets.fashion_mnist_splits,
            epochs=6,
            batch_size=128,
            lr=2e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="lstm-bi",
            description="2-layer bidirectional LSTM (hidden 64) over the 28 image rows, "
            "Fashion-MNIST, Adam",
            build=lambda rng: rows.RowLSTM(rng=rng),
            loss=rows.lstm_bi_loss,
            example=rows.lstm_bi_example,
            splits=datasets.fashion_mnist_splits,
            epochs=5,
            batch_size=128,
            lr=2e-3,
            schedule="cosine",
        ),
        ZooModel(
            name="transformer",
            description="2-layer Transformer encoder over 16 7x7 patches, learned "
            "positions, Fashion-MNIST, Adam",
            build=lambda rng: transformer.PatchTransformer(rng=rng),
            loss=transformer.transformer_loss,
            example=transformer.transformer_example,
            splits=datasets.fashion_mnist_splits,
            epochs=8,
            batch_size=128,
            lr=1e-3,
            schedule="warmup-cosine",
        ),
        ZooModel(
            name="rnn-sin2cos",
            description="tanh RNN (hidden 32) reading a sine, writing its cosine "
            "(regression, synthetic data), Adam",
            build=lambda rng: sin2cos.SinToCos(rng=rng),
            loss=sin2cos.sin2cos_loss,
            example=sin2cos.sin2cos_example,
            splits=sin2cos.sin2cos_splits,
            epochs=8,
            batch_size=32,
            lr=1e-2,
            schedule="cosine",
            task="regression",
        ),
    )
}


def names() -> list[str]:
    """The zoo's model names, in the order ``--help`` lists them."""
    return list(MODELS)


def get(name: str) -> ZooModel:
    """The model called ``name``.

    Raises:
        KeyError: no such model (the message lists the zoo).
    """
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(
            f"no zoo model {name!r}; the zoo has: {', '.join(MODELS)}"
        ) from None
