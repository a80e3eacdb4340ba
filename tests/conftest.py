"""Shared test fixtures.

The repository root goes on ``sys.path`` so that ``srcgrad`` and the test helpers
(``tests.fakexp``, ``tests.rules._cases``) import the same way however pytest is invoked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded random generator, so every test draws the same numbers."""
    return np.random.default_rng(20240607)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/ from the current code generator",
    )
