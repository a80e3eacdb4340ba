"""Checkpoints: any pytree to one ``.npz`` file and back, never through pickle.

``save(path, tree)`` writes one entry per leaf of ``tree`` (a Module, ``(model,
opt_state)``, dicts, lists, tuples, NamedTuples), named by the leaf's path
(``"0.blocks.1.W"``, see :func:`srcgrad.tree.path_string`), plus an entry
``__srcgrad__`` holding a JSON text: the format version and, for each entry, the kind of
leaf it restores:

* ``array``: a numpy array (a device array is saved from host memory and restored on the
  device of the ``like`` leaf), never of object dtype;
* ``float``, ``int``, ``bool``, ``complex``, ``str``: a Python scalar, saved as a 0-d
  array and restored as the same Python type;
* ``scalar``: a numpy scalar (``np.float32(1.5)``), restored with its dtype;
* ``generator``: an ``np.random.Generator``, saved as its bit generator's state (JSON
  text) and restored as a copy of the ``like`` leaf in that state.

``None`` leaves are skipped; static fields are not leaves, so ``load`` takes them (and
the structure and classes) from ``like``.  The file is a zip of ``.npy`` members that
``np.load(path, allow_pickle=False)`` reads too.

Writes are atomic: the file is written under a temporary name in the same directory,
flushed and fsync'ed, then moved over ``path`` with :func:`os.replace`.  A process
killed mid-write leaves the old file whole (and maybe a stray ``.<name>.*.tmp`` beside
it); a reader sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import zipfile
from typing import Any

import numpy as np

from srcgrad import tree
from srcgrad.backend import namespace
from srcgrad.errors import SrcgradError

__all__ = ["CheckpointError", "save", "load"]

META = "__srcgrad__"
FORMAT = 1
_PYTHON_SCALARS = {bool: "bool", int: "int", float: "float", complex: "complex"}
_PYTHON_TYPES = {
    "bool": bool,
    "int": int,
    "float": float,
    "complex": complex,
    "str": str,
}
_SHOWN = 8  # missing or extra keys named in one message


class CheckpointError(SrcgradError, ValueError):
    """A tree that cannot be saved, or a file that does not fit the ``like`` tree (or is
    not a whole checkpoint)."""


def _where(key: str) -> str:
    return repr(key) if key else "the root"


# --------------------------------------------------------------------------- save


def save(path: str | os.PathLike[str], x: Any) -> None:
    """Write the pytree ``x`` to ``path`` (used as given; ``.npz`` is the usual suffix),
    atomically: the old file stays whole until the new one is complete.

    Raises:
        CheckpointError: a leaf that cannot be saved without pickle (an object array, a
            function, an arbitrary object), or two leaves whose paths read the same.
    """
    entries: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for path_, leaf in tree.leaves_with_paths(x):
        if leaf is None:
            continue
        key = tree.path_string(path_)
        if key in entries or key == META:
            raise CheckpointError(
                f"cannot save: two leaves at the path {_where(key)}",
                hint="rename a dict key that holds a dot, or one that reads like "
                "another key's number",
            )
        kinds[key], entries[key] = _entry(key, leaf)
    meta = {"format": FORMAT, "kinds": kinds}
    entries[META] = np.array(json.dumps(meta, sort_keys=True))
    _write_atomically(os.fspath(path), entries)


def _entry(key: str, leaf: Any) -> tuple[str, np.ndarray]:
    """The kind and the array a leaf is saved as."""
    kind = _PYTHON_SCALARS.get(type(leaf))
    if kind == "int" and not -(2**63) <= leaf < 2**63:
        raise CheckpointError(f"cannot save the int at {_where(key)}: beyond 64 bits")
    if kind is not None:
        return kind, np.array(leaf)
    if type(leaf) is str:
        return "str", np.array(leaf)
    if isinstance(leaf, np.random.Generator):
        return "generator", np.array(json.dumps(leaf.bit_generator.state))
    if isinstance(leaf, np.generic) and leaf.dtype != object:
        return "scalar", np.asarray(leaf)
    if hasattr(leaf, "dtype") and type(getattr(leaf, "shape", None)) is tuple:
        host = leaf.get() if type(leaf).__module__.startswith("cupy") else leaf
        arr = np.asarray(host)
        if arr.dtype != object:
            return "array", arr
    raise CheckpointError(
        f"cannot save the {type(leaf).__qualname__} at {_where(key)}",
        hint="a checkpoint holds arrays, numpy scalars, Python numbers and strings, "
        "random generators and None; mark other fields nn.static (they are then taken "
        "from `like` on load)",
    )


def _write_atomically(path: str, entries: dict[str, np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, mode="w", allowZip64=True) as zf:
                for key, arr in entries.items():
                    with zf.open(key + ".npy", "w", force_zip64=True) as member:
                        np.lib.format.write_array(member, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --------------------------------------------------------------------------- load


def load(path: str | os.PathLike[str], like: Any) -> Any:
    """A new tree of ``like``'s structure and classes (its static fields too) holding
    the leaves saved in ``path``; ``like`` is not changed.

    Every leaf of ``like`` that is not None must be in the file with the same kind,
    shape and dtype, and the file must hold nothing else.

    Raises:
        CheckpointError: a truncated or corrupt file, missing or extra entries (named),
            or a leaf whose shape, dtype or kind differs (the path and both are named).
        FileNotFoundError: no file at ``path``.
    """
    path = os.fspath(path)
    saved, kinds = _read(path)
    found = tree.leaves_with_paths(like)
    treedef = tree.flatten(like)[1]
    wanted = {tree.path_string(p): leaf for p, leaf in found if leaf is not None}
    missing = [k for k in wanted if k not in saved]
    extra = [k for k in saved if k not in wanted]
    if missing or extra:
        raise CheckpointError(
            f"{path} does not fit `like`: " + _key_lists(missing, extra),
            hint="load into a `like` built as the saved tree was (same layers, same "
            "buffers set)",
        )
    problems = []
    new = []
    for p, leaf in found:
        key = tree.path_string(p)
        if leaf is None:
            new.append(None)
            continue
        kind = kinds.get(key) or _kind(leaf)
        problem = _mismatch(key, kind, saved[key], leaf)
        if problem:
            problems.append(problem)
        else:
            new.append(_restore(kind, saved[key], leaf))
    if problems:
        raise CheckpointError(
            f"{path} does not fit `like`: " + "; ".join(problems),
            hint="cast `like` with nn.astype, or build it with the saved sizes",
        )
    return tree.unflatten(treedef, new)


def _read(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every entry of the file, and the kinds its metadata names."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with data:
            saved = {k: data[k] for k in data.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise CheckpointError(
            f"{path} is not a whole checkpoint ({type(err).__name__}: {err})",
            hint="the file is truncated or corrupt; srcgrad.save never leaves one "
            "half-written, so it was cut or changed by something else",
        ) from err
    kinds: dict[str, str] = {}
    if META in saved:
        meta = json.loads(str(saved.pop(META)[()]))
        if meta.get("format") != FORMAT:
            raise CheckpointError(
                f"{path} has checkpoint format {meta.get('format')!r}, this srcgrad "
                f"reads {FORMAT}"
            )
        kinds = meta["kinds"]
    return saved, kinds


def _key_lists(missing: list[str], extra: list[str]) -> str:
    def shown(keys: list[str]) -> str:
        more = f" and {len(keys) - _SHOWN} more" if len(keys) > _SHOWN else ""
        return ", ".join(_where(k) for k in keys[:_SHOWN]) + more

    parts = []
    if missing:
        parts.append(f"missing from the file: {shown(missing)}")
    if extra:
        parts.append(f"in the file but not in `like`: {shown(extra)}")
    return "; ".join(parts)


def _kind(leaf: Any) -> str:
    """The kind a ``like`` leaf would be saved as (without building its array)."""
    if type(leaf) in _PYTHON_SCALARS:
        return _PYTHON_SCALARS[type(leaf)]
    if type(leaf) is str:
        return "str"
    if isinstance(leaf, np.random.Generator):
        return "generator"
    if isinstance(leaf, np.generic):
        return "scalar"
    if hasattr(leaf, "dtype") and type(getattr(leaf, "shape", None)) is tuple:
        return "array"
    return type(leaf).__qualname__


def _describe(kind: str, arr: Any) -> str:
    if kind in ("array", "scalar"):
        return f"{kind} {np.dtype(arr.dtype).name}{tuple(arr.shape)}"
    return f"a {kind}"


def _mismatch(key: str, kind: str, arr: np.ndarray, leaf: Any) -> str | None:
    """Why the saved entry does not fit the ``like`` leaf, or None."""
    like_kind = _kind(leaf)
    if kind != like_kind:
        return (
            f"{_where(key)} is {_describe(kind, arr)} in the file, "
            f"{_describe(like_kind, leaf)} in `like`"
        )
    if kind in _PYTHON_TYPES and arr.shape != ():
        return f"{_where(key)} has shape {arr.shape} in the file, a {kind} in `like`"
    if kind in ("array", "scalar") and (
        tuple(arr.shape) != tuple(leaf.shape) or arr.dtype != np.dtype(leaf.dtype)
    ):
        theirs = f"shape {tuple(leaf.shape)} and dtype {np.dtype(leaf.dtype)}"
        return (
            f"{_where(key)} has shape {tuple(arr.shape)} and dtype {arr.dtype} in the "
            f"file, {theirs} in `like`"
        )
    if kind == "generator":
        state = json.loads(str(arr[()]))
        theirs = type(leaf.bit_generator).__name__
        if state.get("bit_generator") != theirs:
            return (
                f"{_where(key)} is a {state.get('bit_generator')} generator in the "
                f"file, a {theirs} one in `like`"
            )
    return None


def _restore(kind: str, arr: np.ndarray, leaf: Any) -> Any:
    """The leaf that the saved entry ``arr`` of ``kind`` stands for, beside ``leaf``."""
    if kind in _PYTHON_TYPES:
        return _PYTHON_TYPES[kind](arr[()])
    if kind == "scalar":
        return arr[()]
    if kind == "generator":
        out = copy.deepcopy(leaf)
        out.bit_generator.state = json.loads(str(arr[()]))
        return out
    if isinstance(leaf, np.ndarray):
        return arr
    return namespace(leaf).asarray(arr)  # a device array: back on the device
