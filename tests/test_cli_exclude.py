"""``[tool.srcgrad] exclude`` in pyproject.toml: a directory walk of ``srcgrad gen`` and
``srcgrad check`` leaves those folders out; a path named on the command line is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from srcgrad.cli.exits import UsageError
from srcgrad.cli.loading import iter_py


def _tree(root: Path, exclude: str) -> None:
    (root / "pyproject.toml").write_text(f"[tool.srcgrad]\nexclude = {exclude}\n")
    for rel in ("a/m.py", "tests/t.py", "tests/deep/u.py", "pkg/cli/c.py", "pkg/z.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")


def _names(paths) -> list[str]:
    return sorted(p.name for p in paths)


def test_a_walk_leaves_out_the_excluded_folders(tmp_path):
    _tree(tmp_path, '["tests", "pkg/cli"]')
    assert _names(iter_py(tmp_path)) == ["m.py", "z.py"]
    assert _names(iter_py(tmp_path / "pkg")) == ["z.py"]  # the root's config applies


def test_a_folder_named_on_the_command_line_is_read(tmp_path):
    _tree(tmp_path, '["tests"]')
    assert _names(iter_py(tmp_path / "tests")) == ["t.py", "u.py"]
    assert _names(iter_py(tmp_path / "tests" / "t.py")) == ["t.py"]


def test_without_the_setting_everything_is_walked(tmp_path):
    _tree(tmp_path, "[]")
    assert len(list(iter_py(tmp_path))) == 5


def test_a_malformed_setting_is_a_usage_error(tmp_path):
    _tree(tmp_path, '"tests"')
    with pytest.raises(UsageError, match="exclude must be a list"):
        list(iter_py(tmp_path))
