"""Sources and helpers of the trust tests (issue: never a wrong or stale gradient)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_program(text: str, path: Path) -> ModuleType:
    """Write a generated program to ``path`` and import it (srcgrad reads its source there)."""
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
