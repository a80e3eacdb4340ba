"""``srcgrad gen FILE`` on a function that loops ``for k in sorted(params)`` over a dict
parameter and reads ``params[k]`` (weight decay in
``tests/realworld/tied_autoencoder_probe.py``): its keys are known only on the first call,
so the function is left to that call (the note that it looks like a container), as for
``params.items()``; ``sorted(x)`` of an array's values is no container.  Before, generation from the source alone
refused ``sorted()`` of values that carry a gradient and the command failed."""

from __future__ import annotations

import textwrap

from srcgrad.cli.targets import container_note, container_params

SOURCE = """
import numpy as np


def decay(params, x):
    return np.sum(x) * sum(np.sum(params[k] ** 2) for k in sorted(params))


def plain(x, w):
    return np.sum(np.sort(x) * w)


def sorted_values(x):
    return np.sum(np.stack(sorted(x)))
"""


def _module(tmp_path):
    path = tmp_path / "sorted_mod.py"
    path.write_text(textwrap.dedent(SOURCE))
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace


def test_a_dict_iterated_in_sorted_order_is_left_to_the_first_call(tmp_path):
    ns = _module(tmp_path)
    why = "indexed by its keys in sorted(...) order"
    assert container_params(ns["decay"]) == {"params": why}
    note = container_note(ns["decay"], "sorted_mod.py::decay")
    assert note is not None and f"'params' ({why})" in note
    assert container_params(ns["plain"]) == {}
    assert container_params(ns["sorted_values"]) == {}  # sorted values of an array
