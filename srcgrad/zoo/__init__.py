"""srcgrad.zoo: models trained with one command, ``srcgrad train NAME``.

Each entry is a :class:`ZooModel`: a Module class with defaults chosen for a 2-core CPU,
its loss differentiated with :func:`srcgrad.value_and_grad` (the emitted backward pass
is committed under ``generated/`` and ships with the package), an example-input builder
that ``srcgrad gen`` specialises the loss on, its data and its training defaults.
"""

from __future__ import annotations

from srcgrad.zoo.registry import MODELS, ZooModel, get, names

__all__ = ["MODELS", "ZooModel", "get", "names"]
