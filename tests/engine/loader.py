"""Write a source string to a module file and import it (srcgrad reads functions' source
from their files, so test functions must live in real files)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_source(directory: Path, name: str, text: str) -> ModuleType:
    """Write ``text`` to ``directory/<name>.py`` and import it as module ``name``."""
    path = Path(directory) / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
