"""srcgrad's own emitted modules (the zoo's losses), which ship with the package.

They are committed under ``generated/srcgrad.*`` (``srcgrad gen --check srcgrad/zoo/``
keeps them current) and copied into an installed package as ``srcgrad/_generated``
(setup.py).  Without ``$SRCGRAD_CACHE_DIR``, :func:`srcgrad.cache.cache_path` looks a
module of srcgrad's own up here instead of in ``./generated``:

* in a source checkout (``pyproject.toml`` beside the package), in its ``generated/``,
  whatever the current directory;
* in an installed package, in the user cache (``$XDG_CACHE_HOME/srcgrad``) once a file
  was written there, else the shipped file, else the user cache: a stale shipped file
  (another black, say) is regenerated into the user cache (:func:`writable_path`), so an
  installed srcgrad never writes into the package or the current directory.

So that a shipped file's text and key do not depend on the directory srcgrad runs from,
the emitted comments name srcgrad's own files ``srcgrad/...``
(:func:`own_display_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "own_display_path",
    "shipped_dir",
    "shipped_path",
    "user_cache_dir",
    "writable_path",
]

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/srcgrad`` (default ``~/.cache/srcgrad``)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "srcgrad"


def own_display_path(path: str) -> str | None:
    """``srcgrad/<rest>`` for a file inside srcgrad's package, else None."""
    full = os.path.abspath(path)
    if not full.startswith(PACKAGE_DIR + os.sep):
        return None
    rest = os.path.relpath(full, PACKAGE_DIR).replace(os.sep, "/")
    return f"srcgrad/{rest}"


def shipped_dir() -> Path | None:
    """``srcgrad/_generated`` in an installed package, the checkout's ``generated/``
    in a source tree, else None."""
    package = Path(PACKAGE_DIR)
    if (package / "_generated").is_dir():
        return package / "_generated"
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "generated").is_dir():
        return checkout / "generated"
    return None


def _installed(shipped: Path | None) -> bool:
    return shipped is not None and shipped.name == "_generated"


def shipped_path(dirname: str, name: str) -> Path | None:
    """Where the module ``<dirname>/<name>`` of srcgrad's own is read (and written)
    without ``$SRCGRAD_CACHE_DIR``; None for anyone else's module or with it set."""
    if not (dirname == "srcgrad" or dirname.startswith("srcgrad.")):
        return None
    if os.environ.get("SRCGRAD_CACHE_DIR"):
        return None
    shipped = shipped_dir()
    if shipped is not None and not _installed(shipped):
        return shipped / dirname / name
    user = user_cache_dir() / dirname / name
    if (
        shipped is not None
        and not user.exists()
        and (shipped / dirname / name).is_file()
    ):
        return shipped / dirname / name
    return user


def writable_path(path: Path) -> Path:
    """``path``, or its place in the user cache for a file inside an installed
    package's ``_generated``."""
    shipped = shipped_dir()
    if not _installed(shipped):
        return path
    try:
        rel = Path(os.path.abspath(path)).relative_to(shipped)
    except ValueError:
        return path
    return user_cache_dir() / rel
