"""Container arguments read the way real code reads them: by a loop's index
(``params[i]``), by formatted keys (``params[f"b{i}"]``), through dict views, parts of a
nested argument iterated, lists of (W, b) tuples built with append, and tuples, lists and
dicts rebound inside loops.  Each gradient is checked against central differences; what
stays refused names the user's line with a hint that, followed, works."""

from __future__ import annotations

import numpy as np
import pytest

import srcgrad
from srcgrad.testing import check_grad
from tests.trust import keyed_containers_src as src

_R = np.random.default_rng(11)


def _n(*shape):
    return _R.standard_normal(shape)


LAYERS = [(_n(3, 4), _n(4)), (_n(4, 4), _n(4)), (_n(4, 2), _n(2))]
SQUARE = [(_n(3, 3), _n(3)), (_n(3, 3), _n(3))]
X = _n(5, 3)
FLAT = {"W1": _n(3, 4), "b1": _n(4), "W2": _n(4, 2), "b2": _n(2)}
NESTED = {"hidden": [(_n(3, 3), _n(3)), (_n(3, 3), _n(3))], "out": (_n(3, 2), _n(2))}
PARTS = {"encoder": [(_n(3, 2), _n(2))], "decoder": [(_n(2, 3), _n(3))]}


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path))


def _right(fn, *args, wrt=0):
    """The value is the plain call's, and the gradient matches central differences."""
    value, _ = srcgrad.value_and_grad(fn, wrt=wrt)(*args)
    assert value == fn(*args)
    check_grad(fn, *args, wrt=wrt)


@pytest.mark.parametrize("kind", [list, tuple], ids=["list", "tuple"])
@pytest.mark.parametrize(
    "fn",
    [
        src.layers_by_index,
        src.layers_by_counted_index,
        src.layers_by_index_from_one,
    ],
    ids=lambda f: f.__name__,
)
def test_layers_read_by_the_loop_index(fn, kind):
    _right(fn, kind(LAYERS), X)


def test_layers_read_by_a_descending_index():
    _right(src.layers_by_reversed_index, SQUARE, X)


def test_keys_built_by_formatting_the_index():
    _right(src.keys_from_formatting, FLAT, X)


def test_a_key_name_rebound_between_reads_reads_each_value():
    params = [_n(3, 2), _n(2)]
    _right(src.key_name_rebound, params, X)


def test_a_list_of_ints_indexed_by_the_time_step():
    log_pi, log_b = _n(3), _n(3, 4)
    _right(src.emission_table, log_pi, log_b, [0, 2, 1, 3], wrt=(0, 1))


@pytest.mark.parametrize(
    "fn", [src.decay_over_items, src.sum_over_values_and_keys], ids=lambda f: f.__name__
)
def test_dict_views_of_a_dict_argument(fn):
    _right(fn, FLAT, X)


def test_iterating_a_part_of_a_nested_argument():
    _right(src.nested_hidden_layers, NESTED, X)
    _right(src.enumerate_nested, NESTED, X)
    _right(src.parts_by_constant_names, PARTS, X)


def test_a_list_of_tuples_built_by_a_helper():
    weights = _n(3 * 4 + 4 + 4 * 2 + 2)
    _right(src.flat_weights_net, weights, X)


def test_a_list_of_tuples_grown_with_append():
    params = [(_n(3, 2), _n(2)), (_n(2, 2), _n(2))]
    _right(src.scaled_copies, params, X)


def test_a_display_of_tuples_reads_the_values_it_was_built_with():
    a, b, x = _n(3), _n(3), _n(3)
    _right(src.display_of_rebound_names, a, b, x, wrt=(0, 1))


def test_a_tuple_argument_rebound_in_a_loop():
    params, y = (_n(3, 2), _n(2)), _n(5, 2)
    _right(src.sgd_steps_on_a_tuple, params, X, y)
    _right(src.state_tuple_over_rows, (_n(2), _n(2)), X)


def test_dict_and_list_arguments_rebound_in_loops():
    _right(src.state_dict_over_rows, {"h": _n(2), "c": _n(2)}, X)
    _right(src.state_list_rebound_while, [_n(2), _n(2)], X)


def test_the_callers_list_is_left_as_it_was():
    state = [_n(2), _n(2)]
    before = [s.copy() for s in state]
    srcgrad.grad(src.state_list_rebound_while)(state, X)
    assert len(state) == 2 and all(np.array_equal(a, b) for a, b in zip(state, before))


def test_an_index_read_in_a_loop_that_may_break_is_refused_with_a_hint_that_works():
    params = [_n(3, 3), _n(3, 3)]
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.index_read_in_a_loop_with_break)(params, X)
    err = info.value
    assert err.filename.endswith("keyed_containers_src.py")
    assert "known only when the code runs" in str(err)
    assert "no break, return or else" in err.hint
    # the hint followed: the same loop without the break
    _right(src.index_read_in_a_loop_without_break, params, X)


def test_a_tuple_appended_in_a_loop_that_runs_as_a_loop_is_refused():
    params = (_n(3, 3), _n(3))
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.tuple_appended_in_a_while_loop)(params, X)
    assert info.value.filename.endswith("keyed_containers_src.py")
    assert "appending a tuple" in str(info.value)


def test_a_layer_read_from_a_slice_of_the_argument_keeps_its_gradient():
    # was a wrong gradient: the layer was copied as one array, its leaves lost
    params = [(_n(3, 3), _n(3)) for _ in range(3)]
    _right(src.layer_of_a_slice_by_constant_index, params, X)


# ---------------------------------------------------------------- generator functions


def test_a_loop_over_what_a_generator_function_yields():
    weights = _n(3 * 4 + 4 + 4 * 2 + 2)
    _right(src.net_over_a_generator, weights, X)


def test_generators_with_returns_yield_from_and_builtins_over_them():
    _right(src.sum_of_a_generator, _n(3))


def test_a_generator_defined_in_the_function():
    _right(src.nested_generator_def, _n(3), _n(3), wrt=(0, 1))


@pytest.mark.parametrize(
    ("fn", "words"),
    [
        (src.takes_from_an_endless_generator, "while True"),
        (src.returns_of_a_generator, "return of a value"),
        (src.writes_what_a_generator_reads, "written into in place"),
        (src.is_a_generator, "is a generator function"),
        (src.sum_of_early_returns, "return before the end"),
    ],
    ids=["endless", "return-value", "interleaved-writes", "differentiated", "early"],
)
def test_generators_that_could_differ_when_run_at_once_are_refused(fn, words):
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(fn)(_n(3))
    assert info.value.filename.endswith("keyed_containers_src.py")
    assert words in str(info.value)


def test_names_a_helper_unpacked_from_a_multi_output_call():
    # was a refusal ("name 'a' is not defined") for names the program binds
    _right(src.loss_of_split_parts, _n(6, 4))


def test_per_step_dicts_with_one_hot_writes_into_their_items():
    W, U = _n(4, 4) * 0.5, _n(4, 5)
    _right(src.per_step_dicts, W, U, [0, 3, 1, 4], [3, 1, 2, 0], wrt=(0, 1))


def test_writes_into_items_of_a_list_display():
    _right(src.item_of_a_list_display_written, _n(3))


def test_an_item_written_and_read_through_another_name_is_refused():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.written_item_read_through_another_name)(_n(3))
    assert info.value.filename.endswith("keyed_containers_src.py")


def test_unpacking_the_rows_of_a_computed_array():
    _right(src.unpack_exp, _n(3), _n(4), wrt=(0, 1))
    _right(src.unpack_rows_of_a_product, _n(2, 3, 4), _n(4, 5), wrt=(0, 1))


def test_unpacking_an_array_of_another_length_raises_as_python_does():
    v = _n(3)
    with pytest.raises(ValueError, match="too many values to unpack"):
        src.unpack_wrong_count(v)
    with pytest.raises(ValueError, match="too many values to unpack"):
        srcgrad.grad(src.unpack_wrong_count)(v)


# ---------------------------------------------------------------- starred unpacking


def test_starred_unpacking_of_a_list_of_layers():
    _right(src.starred_hidden_layers, LAYERS, X)
    _right(src.starred_rest_and_nested, LAYERS + [(_n(2, 2), _n(2))], X)
    _right(src.starred_display, _n(3), _n(3), _n(3), wrt=(0, 1, 2))


def test_starred_unpacking_of_an_arrays_rows_is_refused_with_a_slice_hint():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.starred_rows_of_an_array)(_n(3, 2))
    assert info.value.filename.endswith("keyed_containers_src.py")
    assert "x[1:]" in info.value.hint


# ---------------------------------------------------------------- item writes into lists


def test_per_layer_states_written_by_index():
    layers = [(_n(4, 3), _n(4, 4) * 0.5), (_n(2, 4), _n(2, 2) * 0.5)]
    xs = [_n(3), _n(3), _n(3)]
    _right(src.stacked_rnn, layers, xs)
    _right(src.stacked_rnn_over_rows, layers, _n(4, 3))


def test_writes_into_a_list_of_constants():
    _right(src.write_into_a_list_of_constants, _n(3))


def test_an_item_write_in_a_branch_is_refused():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.write_into_a_list_in_a_branch)(_n(3))
    assert info.value.filename.endswith("keyed_containers_src.py")
    assert "inside a branch" in str(info.value)


def test_unpacking_what_a_constant_call_returns():
    # meshgrid of constants was refused as "subscript of an expression"
    _right(src.unpack_constant_calls, _n(3, 3))


def test_a_list_grown_by_concatenation_in_a_loop():
    W, U = _n(3, 3) * 0.5, _n(3, 2)
    _right(src.states_by_concatenation, W, U, _n(4, 2), wrt=(0, 1))


def test_concatenation_onto_a_list_with_another_name_is_not_grown_in_place():
    W, U, xs = _n(3, 3) * 0.5, _n(3, 2), _n(4, 2)
    try:
        _right(src.states_by_concatenation_aliased, W, U, xs, wrt=(0, 1))
    except srcgrad.SrcgradError as err:  # refused is fine; a wrong value is not
        assert err.filename.endswith("keyed_containers_src.py")


def test_a_loop_unpacking_the_items_of_a_constant_list():
    _right(src.loss_over_module_shapes, _n(20))


def test_defaults_that_name_module_constants_hold_their_def_time_values(monkeypatch):
    u = _n(4)
    _right(src.loss_with_module_defaults, u)
    # Python fixed the defaults when the def ran: rebinding the constants changes nothing
    before = srcgrad.grad(src.loss_with_module_defaults)(u)
    monkeypatch.setattr(src, "STEPS", 7)
    monkeypatch.setattr(src, "RATE", 0.9)
    assert (
        src.loss_with_module_defaults(u)
        == srcgrad.value_and_grad(src.loss_with_module_defaults)(u)[0]
    )
    assert np.array_equal(srcgrad.grad(src.loss_with_module_defaults)(u), before)


# ---------------------------------------------------------------- functions as values


def test_functions_passed_to_and_returned_by_calls():
    w, x = _n(3), _n(3)
    _right(src.lambda_passed_down, w, x, wrt=(0, 1))
    _right(src.def_passed_down, w, x, wrt=(0, 1))
    _right(src.factory_closure_called, w, x, wrt=(0, 1))
    ts = [0.0, 0.1, 0.3, 0.35]
    _right(src.neural_ode, _n(2, 2), _n(2), _n(2), ts, wrt=(0, 1, 2))


def test_a_returned_function_used_as_a_value_is_refused():
    with pytest.raises(srcgrad.SrcgradError) as info:
        srcgrad.grad(src.function_stored_in_a_list)(_n(3), _n(3))
    assert info.value.filename.endswith("keyed_containers_src.py")


def test_zip_of_starred_rows_gives_their_columns():
    units = [(_n(2), _n()) for _ in range(3)]
    _right(src.columns_of_pairs, units, _n(4, 2))
    _right(src.loop_over_columns, [(_n(2), _n(2)), (_n(2), _n(2))], _n(3, 2))


def test_a_name_bound_to_an_entry_of_a_table_of_functions():
    _right(src.through_an_entry, _n(3), _n(3), wrt=(0, 1))


def test_an_entry_bound_on_branches_is_refused_or_right():
    x, w = _n(3), _n(3)
    try:
        _right(src.entry_chosen_on_a_branch, x, w, wrt=(0, 1))
    except srcgrad.SrcgradError as err:
        assert err.filename.endswith("keyed_containers_src.py")


# ---------------------------------------------------------------- loops over free constants


def test_a_loop_over_a_closures_list_of_shapes_appending_tuples():
    loss = src.make_nn([3, 4, 2])
    _right(loss, _n(3 * 4 + 4 * 2), X)
    other = src.make_nn(
        [3, 2]
    )  # another factory call: its own shapes, its own gradient
    _right(other, _n(3 * 2), X)


def test_a_changed_list_of_shapes_makes_new_code():
    w = _n(20)
    _right(src.net_over_module_shapes, w, X)
    df = srcgrad.grad(src.net_over_module_shapes)
    before = df(w, X)
    saved = list(src.LAYER_SHAPES)
    try:
        # changed in place: the next call sees the new shapes, as the plain call does
        src.LAYER_SHAPES[1] = (4, 1)
        after = df(w, X)
        assert after.shape == before.shape and not np.array_equal(after, before)
        _right(src.net_over_module_shapes, w, X)
    finally:
        src.LAYER_SHAPES[:] = saved


def test_an_argument_not_differentiated_read_at_a_key_known_when_it_runs():
    # a table of ints at a drawn index (word2vec's negative samples), data arrays at an
    # argmax, a nested list at a computed index, a dict at a key read from a list
    W, x = _n(3, 4), _n(5, 3)
    table = [0, 0, 1, 2, 4, 4]
    value, g = srcgrad.value_and_grad(src.rows_at_drawn_indices)(
        W, x, table, np.random.RandomState(3)
    )
    assert value == src.rows_at_drawn_indices(W, x, table, np.random.RandomState(3))
    check_grad(
        lambda W: src.rows_at_drawn_indices(W, x, table, np.random.RandomState(3)), W
    )
    assert table == [0, 0, 1, 2, 4, 4]
    examples, labels = [_n(2, 3) for _ in range(4)], [_n(2, 2) for _ in range(4)]
    _right(src.examples_at_the_argmax, _n(3, 2), examples, labels)
    batches = [[_n(3)], [_n(2, 3) for _ in range(3)]]
    _right(src.nested_batches_at_a_computed_index, _n(3, 2), batches)
    _right(src.scale_by_a_computed_name, _n(3), {"a": 2.0, "b": -1.5}, ["b", "a", "b"])


def test_an_argument_differentiated_read_at_a_key_known_when_it_runs_is_refused():
    with pytest.raises(srcgrad.SrcgradError) as err:
        srcgrad.grad(src.layers_at_a_computed_index)(SQUARE, X[:, :3])
    text = str(err.value)
    assert (
        "keyed_containers_src.py:" in text and "known only when the code runs" in text
    )
    assert "range(len(params))" in text


def test_an_argument_mutated_before_its_read_is_refused():
    with pytest.raises(srcgrad.SrcgradError) as err:
        srcgrad.grad(src.append_to_a_table_then_read)(_n(4), [1, 2], 2)
    assert "keyed_containers_src.py:" in str(err.value)
