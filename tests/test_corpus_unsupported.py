"""What srcgrad does not do yet fails cleanly, at the right position.

The constructs are in ``tests/corpus/control_unsupported.py`` (containers the control-flow
engine does not take yet, each marked ``!construct`` where the error must point) and
``tests/corpus/calls_unsupported.py`` (a view read after its array was written).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from tests.corpus import calls_unsupported as C
from tests.corpus import control_unsupported as U

SRC = Path(U.__file__)
LINES = SRC.read_text().splitlines()


def _marker(fn_name: str) -> tuple[int, int]:
    start = next(i for i, ln in enumerate(LINES) if ln.startswith(f"def {fn_name}("))
    for i in range(start, len(LINES)):
        m = re.search(r"!(\S.*)$", LINES[i])
        if m:
            token = m.group(1).strip()
            return i + 1, LINES[i].index(token) + 1
    raise AssertionError(f"no marker in {fn_name}")


@pytest.mark.parametrize(
    "name,construct",
    [
        ("row_norm_dict", "dict-comprehension"),
        ("pair_list_energy", "list-of-containers"),
    ],
)
def test_not_yet_supported_is_a_clean_error(name, construct, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    fn = getattr(U, name)
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(np.ones((3, 2)))
    err = info.value
    assert (err.lineno, err.col) == _marker(name), str(err)
    assert err.construct == construct
    assert Path(err.filename).resolve() == SRC.resolve()
    assert "libcst" not in str(err) and err.hint


def test_reading_a_view_after_writing_its_array_is_refused(tmp_path, monkeypatch):
    """numpy would see the write through the view; the functional rewrite would not."""
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    V = np.random.default_rng(0).normal(size=(3, 3))
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(C.gram_schmidt_rows)(V)
    assert isinstance(info.value, srcgrad.errors.AliasError)
    line = next(
        i + 1
        for i, ln in enumerate(Path(C.__file__).read_text().splitlines())
        if "# !q -" in ln
    )
    err = info.value
    assert Path(err.filename).name == "calls_unsupported.py" and err.lineno == line
    assert "'q' is a view" in str(err)
