"""A list display whose items are all constants (``out = [G0 * 2.0]``), later grown with a
value that carries a gradient, was refused with "method .append() has no adjoint rule; hint:
call np.append(x, ...)" (a false refusal whose hint does not work): the display was taken for
a constant and never became a list built in the function.  Found by the fuzzer
(tests/fuzz/regressions/refused_constant_list_append.py).

Now such a display becomes a list built with append where it first grows with a gradient
(append, extend, ``+=``; in loops, branches, callees and nested defs), tuples and lists of
known items concatenate, and what stays unsupported is refused at the user's line with a hint
that works (each refused case has a ``__followed`` twin, written the way the hint says).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import constant_lists_src as S

SRC = Path(S.__file__).resolve()
LINES = SRC.read_text().splitlines()

RIGHT = [
    "list_built_with_append_concatenated",  # out = out + [v]: grown in place
    "scaled_constant_then_append",
    "global_then_append",
    "literal_numbers_then_append",
    "mixed_display_then_append",
    "callee_returns_list",
    "nested_def_builds_list",
    "nested_def_in_loop",
    "loop_append_then_stack",
    "loop_append_then_sum",
    "loop_append_then_index",
    "loop_append_then_iterate",
    "loop_append_then_index_by_loop",
    "loop_append_then_concatenate",
    "recurrence_from_constant_state",
    "recurrence_read_before_append",
    "while_grows_constant_list",
    "nested_loops_grow",
    "loop_over_rows_reads_and_grows",
    "loop_branches_grow_and_read",
    "branch_appends",
    "constants_appended_first",
    "constants_appended_first_in_loop",
    "read_through_second_name",
    "grown_through_second_name",
    "active_display_read_in_loop",
    "active_display_second_name",
    "closure_appends",
    "extend_with_display",
    "extend_with_constants_then_append",
    "extend_with_constants_in_loop",
    "augmented_add",
    "augmented_add_in_loop",
    "augmented_add_empty_in_loop",
    "tuple_concatenation",
    "tuple_augmented_add",
    "active_tuple_concatenation",
    "list_concatenation",
    "dict_item_assignment",
    "dict_items_assigned_then_iterated",
]

# name -> (construct, words the message names, words of the hint)
REFUSED = {
    "read_by_closure_in_loop": (
        "list-append",
        ["'out'", "read in this loop"],
        ["out = []"],
    ),
    "outer_list_appended": (
        ".append()",
        ["'GL'", "outside the function"],
        ["lst.extend(GL)"],
    ),
    "list_bound_per_branch": (
        ".append()",
        ["'out'"],
        ["out = []", "not on each branch"],
    ),
    "list_from_call_appended": (".append()", ["'out'"], ["out = []", "out.extend("]),
    "list_from_constant_callee_grown": (
        ".append()",
        ["'acc'"],
        ["acc = []", "acc.extend("],
    ),
    "item_assigned_then_grown": (
        "list-method",
        ["'out'", "assignment into"],
        ["final items"],
    ),
    "extend_with_array_rows": (
        "list-method",
        ["out.extend(np.outer(x, x))"],
        ["for item in np.outer(x, x): out.append(item)"],
    ),
    "extend_with_list_built_here": (
        "list-method",
        ["out.extend(a)"],
        ["for item in a: out.append(item)"],
    ),
    "extend_with_generator": (
        "list-method",
        ["w.extend(np.sum(x * r) for r in (1.0, 2.0))"],
        ["for item in (np.sum(x * r) for r in (1.0, 2.0)): w.append(item)"],
    ),
    "tuple_concatenated_in_loop": (
        "list-arithmetic",
        ["'t'", "carried around a loop"],
        ["t.append(item)"],
    ),
    "dict_method_values": ("container-method", [".values()", "'d'"], ['d["k"]']),
}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _x() -> np.ndarray:
    return np.array([0.3, -0.8, 1.1, 0.45])


def _right(fn) -> None:
    x = _x()
    value, grad = srcgrad.value_and_grad(fn)(x)
    assert value == fn(x)
    assert np.all(np.isfinite(grad))
    check_grad(fn, x)


@pytest.mark.parametrize("name", RIGHT)
def test_constant_items_then_a_gradient_are_right(name):
    _right(getattr(S, name))


def test_loop_growing_constants_only_stays_a_constant():
    """A display the loop grows with constants only keeps its constant items (a shape)."""

    def f(x):
        dims = [2]
        for i in range(1):
            dims.append(dims[-1])
        return np.sum(np.reshape(x, tuple(dims)) ** 2)

    _right(f)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_mix_is_refused_at_its_line_and_the_hint_works(name):
    construct, message_words, hint_words = REFUSED[name]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(getattr(S, name))(_x())
    err = info.value
    assert len(err.errors) == 1, str(err)  # one finding, no follow-on echoes
    assert Path(err.filename).resolve() == SRC
    start = next(i for i, ln in enumerate(LINES, 1) if ln.startswith(f"def {name}("))
    end = next(
        i for i in range(start + 1, len(LINES) + 1) if LINES[i - 1].startswith("def ")
    )
    assert start <= err.lineno < end, str(err)
    assert err.construct == construct, str(err)
    assert "np.append" not in str(err) and "adjoint rule" not in str(err)
    for w in message_words:
        assert w in err.message, err.message
    for w in hint_words:
        assert w in err.hint, err.hint
    _right(getattr(S, name + "__followed"))
