"""The peer catalogue (tests/heldout/peer_catalogue.py): every entry is right or refused at the
user's line, never a wrong number, never another exception."""

from __future__ import annotations

import pytest

from tests.heldout import peer_catalogue as cat
from tests.heldout.outcome import check_outcome

_SYMMETRIC = {"linalg_cholesky", "linalg_eigh_values"}
# Findings still open, each a class named in the reason; strict, so a fix must remove it here.
_OPEN: dict[str, str] = {}


def _entries() -> list:
    out = []
    for fn, args, wrt in cat.CATALOGUE:
        marks = (
            [pytest.mark.xfail(strict=True, reason=_OPEN[fn.__name__])]
            if fn.__name__ in _OPEN
            else []
        )
        out.append(pytest.param(fn, args, wrt, marks=marks, id=fn.__name__))
    return out


@pytest.mark.parametrize("fn,args,wrt", _entries())
def test_peer_catalogue_entry(fn, args, wrt, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))
    check_outcome(fn, args, wrt, symmetric=fn.__name__ in _SYMMETRIC)
