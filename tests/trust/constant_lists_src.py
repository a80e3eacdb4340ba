"""Programs for tests/test_fuzz_constant_lists.py: lists (and tuples, dicts) whose first items
are constants, later mixed with values that carry a gradient.  Each function takes one array
``x`` of shape (4,)."""

import numpy as np

G0 = np.linspace(-0.9, 1.1, 4)
G1 = np.cos(G0)
GL = [G0, G1]
GT = (G0, G1)


# -- right: a list display of constants that grows with a gradient ---------------------------


def scaled_constant_then_append(x):
    out = [G0 * 2.0]
    out.append(np.sin(x))
    return np.sum(np.stack(out))


def global_then_append(x):
    out = [G0]
    out.append(np.sin(x))
    return np.sum(np.stack(out))


def literal_numbers_then_append(x):
    w = [0.5, 1.5]
    w.append(np.sum(x ** 2))
    return sum(w) * w[-1] + np.sum(np.array(w) ** 2)


def mixed_display_then_append(x):
    out = [G0, x, 1.0 + G1]
    out.append(np.sin(x))
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


def _helper_returns_list(x):
    x = x + 0.0
    out = [G0 * 2.0]
    out.append(np.sin(np.broadcast_to(x, (4,))))
    return out


def callee_returns_list(x):
    acc = _helper_returns_list(x)
    return np.sum(np.sin(np.stack(acc))) + np.sum(acc[1] * acc[0])


def nested_def_builds_list(x):
    def build(u):
        out = [G0, G1 + 1.0]
        out.append(np.tanh(u) * x)
        return out

    acc = build(x * 2.0)
    return np.sum(sum(acc) ** 2)


def nested_def_in_loop(x):
    def build(u):
        out = [G0]
        for i in range(2):
            out.append(np.sin(u) * i)
        return out

    total = 0.0
    for j in range(2):
        acc = build(x + j)
        total = total + np.sum(np.stack(acc) ** 2)
    return total


def loop_append_then_stack(x):
    acc = [G0]
    for i in range(3):
        acc.append(np.sin(x) * (i + 1.0))
    return np.sum(np.stack(acc) ** 2)


def loop_append_then_sum(x):
    acc = [G0 * 0.5]
    for i in range(3):
        acc.append(np.sin(x) * (i + 1.0))
    return np.sum(sum(acc) ** 2)


def loop_append_then_index(x):
    acc = [G0 * 0.5]
    for i in range(3):
        acc.append(np.sin(x) * (i + 1.0))
    return np.sum(acc[0] * acc[-1] + acc[2])


def loop_append_then_iterate(x):
    acc = [G0]
    for i in range(2):
        acc.append(np.sin(x) * (i + 1.0))
    t = x * 0.5
    for item in acc:
        t = np.tanh(t + item)
    return np.sum(t)


def loop_append_then_index_by_loop(x):
    acc = [G0]
    for i in range(2):
        acc.append(np.sin(x) * (i + 1.0))
    t = x * 0.5
    for i in range(len(acc)):
        t = t + np.tanh(acc[i]) * (i + 1.0)
    return np.sum(t)


def loop_append_then_concatenate(x):
    acc = [G0]
    for i in range(2):
        acc.append(np.sin(x) * (i + 1.0))
    return np.sum(np.concatenate(acc, axis=0) ** 2)


def recurrence_from_constant_state(x):
    xs = [G0]
    for t in range(4):
        xs.append(np.tanh(xs[-1] * x + 0.1))
    return np.sum(np.stack(xs))


def recurrence_read_before_append(x):
    xs = [G0, G1]
    for t in range(3):
        prev = xs[-2]
        xs.append(np.tanh(xs[-1] * x + prev))
    return np.sum(np.stack(xs))


def while_grows_constant_list(x):
    acc = [G0]
    while len(acc) < 4:
        acc.append(np.sin(acc[-1]) * x)
    return np.sum(np.stack(acc))


def nested_loops_grow(x):
    out = [G0]
    for i in range(2):
        for j in range(2):
            out.append(np.sin(out[-1]) * x)
    return np.sum(np.stack(out))


def loop_branches_grow_and_read(x):
    out = [G0]
    for i in range(3):
        if i % 2 == 0:
            out.append(np.sin(x) * i)
        else:
            out.append(out[-1] * 2.0)
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


def branch_appends(x):
    out = [G0]
    if np.sum(x) > 0:
        out.append(np.sin(x))
    else:
        out.append(np.cos(x))
    return np.sum(np.stack(out) * np.arange(2.0)[:, None])


def constants_appended_first(x):
    out = [G0]
    out.append(G1)
    out.append(np.sin(x))
    out.append(G1 * 2)
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


def constants_appended_first_in_loop(x):
    out = [G0]
    for i in range(2):
        out.append(G1 * i)
        out.append(np.sin(x) * i)
    return np.sum(np.stack(out) * np.arange(5.0)[:, None])


def read_through_second_name(x):
    out = [G0]
    other = out
    out.append(np.sin(x))
    return np.sum(np.stack(other) * np.arange(2.0)[:, None])


def grown_through_second_name(x):
    out = [G0]
    other = out
    other.append(np.sin(x))
    return np.sum(np.stack(out) * np.arange(2.0)[:, None])


def active_display_read_in_loop(x):
    out = [x * 2.0]
    for i in range(3):
        y = out[-1]
        out.append(np.sin(y) * x)
    return np.sum(np.stack(out))


def active_display_second_name(x):
    a = [x]
    b = a
    a.append(np.sin(x))
    return np.sum(np.stack(b) * np.arange(2.0)[:, None])


def closure_appends(x):
    out = [G0]

    def add(v):
        out.append(v * x)
        return 0

    for i in range(3):
        add(np.sin(x) * i)
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


# -- right: extend and += ------------------------------------------------------------------


def extend_with_display(x):
    out = [G0]
    out.extend([np.sin(x), G1, x * 2.0])
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


def extend_with_constants_then_append(x):
    out = [G0]
    out.extend(GL)
    out.append(np.sin(x))
    out.extend(GT)
    out.append(x * 3.0)
    return np.sum(np.stack(out) * np.arange(7.0)[:, None])


def extend_with_constants_in_loop(x):
    out = []
    for i in range(2):
        out.extend(GL)
        out.append(np.sin(x) * i)
    return np.sum(np.stack(out) * np.arange(6.0)[:, None])


def augmented_add(x):
    out = [G0]
    out += [np.sin(x)]
    out += GL
    out += [x]
    return np.sum(np.stack(out) * np.arange(5.0)[:, None])


def augmented_add_in_loop(x):
    out = [G0]
    for i in range(3):
        out += [np.sin(x) * i, G1]
    return np.sum(np.stack(out) * np.arange(7.0)[:, None])


def augmented_add_empty_in_loop(x):
    out = []
    for i in range(3):
        out += [np.sin(x) * i]
    return np.sum(np.stack(out) * np.arange(3.0)[:, None])


# -- right: tuples and dicts of constants mixed with gradients ------------------------------


def tuple_concatenation(x):
    t = (G0, G0 * 2)
    t = t + (np.sin(x),)
    return np.sum(np.stack(t) * np.arange(3.0)[:, None])


def tuple_augmented_add(x):
    t = (G0,)
    t += (np.sin(x),)
    return np.sum(np.stack(t) * np.arange(2.0)[:, None])


def active_tuple_concatenation(x):
    t = (x, G0 * 2)
    t = t + (np.sin(x),)
    return np.sum(np.stack(t) * np.arange(3.0)[:, None])


def list_concatenation(x):
    out = [G0] + [np.sin(x)]
    out = out + [x]
    out.append(x * 2.0)
    return np.sum(np.stack(out) * np.arange(4.0)[:, None])


def dict_item_assignment(x):
    d = {"a": G0, "b": 2.0}
    d["k"] = np.sin(x)
    return np.sum(d["a"] * d["k"]) * d["b"]


def dict_items_assigned_then_iterated(x):
    d = {"a": G0, "b": 2.0}
    d["k"] = np.sin(x)
    d["a"] = d["a"] * x
    t = 0.0
    for k in d:
        t = t + np.sum(d[k])
    return t


# -- refused, each with its __followed twin (the hint, followed) ---------------------------


def read_by_closure_in_loop(x):
    out = [G0]

    def last():
        return out[-1]

    for i in range(3):
        y = last()
        out.append(np.sin(y) * x)
    return np.sum(np.stack(out))


def read_by_closure_in_loop__followed(x):
    out = []
    out.append(G0)

    def last():
        return out[-1]

    for i in range(3):
        y = last()
        out.append(np.sin(y) * x)
    return np.sum(np.stack(out))


def outer_list_appended(x):
    GL.append(np.sin(x))
    return np.sum(np.stack(GL))


def outer_list_appended__followed(x):
    lst = []
    lst.extend(GL)
    lst.append(np.sin(x))
    return np.sum(np.stack(lst) * np.arange(3.0)[:, None])


def list_bound_per_branch(x):
    if np.sum(x) > 0:
        out = [G0]
    else:
        out = [G1]
    out.append(np.sin(x))
    return np.sum(np.stack(out))


def list_bound_per_branch__followed(x):
    out = []
    if np.sum(x) > 0:
        out.append(G0)
    else:
        out.append(G1)
    out.append(np.sin(x))
    return np.sum(np.stack(out) * np.arange(2.0)[:, None])


def list_from_call_appended(x):
    out = list(GL)
    out.append(np.sin(x))
    return np.sum(np.stack(out))


def list_from_call_appended__followed(x):
    out = []
    out.extend(GL)
    out.append(np.sin(x))
    return np.sum(np.stack(out) * np.arange(3.0)[:, None])


def item_assigned_then_grown(x):
    out = [G0, x]
    out[0] = np.sin(x)
    out.append(x)
    return np.sum(np.stack(out))


def item_assigned_then_grown__followed(x):
    out = [np.sin(x), x]
    out.append(x)
    return np.sum(np.stack(out) * np.arange(3.0)[:, None])


def extend_with_array_rows(x):
    out = [G0]
    out.extend(np.outer(x, x))
    return np.sum(np.stack(out))


def extend_with_array_rows__followed(x):
    out = [G0]
    for item in np.outer(x, x):
        out.append(item)
    return np.sum(np.stack(out) * np.arange(5.0)[:, None])


def extend_with_list_built_here(x):
    a = []
    a.append(np.sin(x))
    out = [G0]
    out.extend(a)
    return np.sum(np.stack(out))


def extend_with_list_built_here__followed(x):
    a = []
    a.append(np.sin(x))
    out = [G0]
    for item in a:
        out.append(item)
    return np.sum(np.stack(out) * np.arange(2.0)[:, None])


def tuple_concatenated_in_loop(x):
    t = (G0,)
    for i in range(2):
        t = t + (np.sin(x) * i,)
    return np.sum(np.stack(t))


def tuple_concatenated_in_loop__followed(x):
    t = [G0]
    for i in range(2):
        t.append(np.sin(x) * i)
    return np.sum(np.stack(t) * np.arange(3.0)[:, None])


def list_built_with_append_concatenated(x):
    out = []
    out.append(G0)
    out = out + [np.sin(x)]
    return np.sum(np.stack(out))


def list_built_with_append_concatenated__followed(x):
    out = []
    out.append(G0)
    out.append(np.sin(x))
    return np.sum(np.stack(out) * np.arange(2.0)[:, None])


def dict_method_values(x):
    d = {"a": G0}
    d["k"] = np.sin(x)
    return np.sum(sum(d.values()))


def dict_method_values__followed(x):
    d = {"a": G0}
    d["k"] = np.sin(x)
    return np.sum(d["a"] + d["k"])


def _helper_returns_constants():
    return [G0, G1]


def list_from_constant_callee_grown(x):
    acc = _helper_returns_constants()
    acc.append(np.tanh(x))
    return np.sum(np.stack(acc))


def list_from_constant_callee_grown__followed(x):
    acc = []
    acc.extend(_helper_returns_constants())
    acc.append(np.tanh(x))
    return np.sum(np.stack(acc) * np.arange(3.0)[:, None])


def loop_over_rows_reads_and_grows(x):
    acc = [G0]
    for r in np.outer(x, x):
        acc.append(acc[-1] * r)
    return np.sum(np.stack(acc))


def extend_with_generator(x):
    w = [0.5]
    w.extend(np.sum(x * r) for r in (1.0, 2.0))
    return np.sum(np.array(w) ** 2)


def extend_with_generator__followed(x):
    w = [0.5]
    for item in (np.sum(x * r) for r in (1.0, 2.0)):
        w.append(item)
    return np.sum(np.array(w) ** 2)
