"""Loops that return, break and continue, with parts of container arguments read by constant
index (directly or through a second name) in them and after them.

Each function takes ``ps`` (a list or tuple of two arrays; a dict with keys "a" and "b" for
the dict_ ones; one array for the array_ ones) and a float ``s`` whose sign picks the path.

Two faults, both on main once:
* after a loop that may return, a later loop that returns set the return flag again, and the
  backward read that final value for the first loop's guard: every part read after the first
  loop got a zero gradient (the fuzz find; also a wrong stack inside an enclosing loop);
* a return, break or continue in a loop's else clause (wrong values, or a wrong stack).
"""

import numpy as np


def two_loops_return(ps, s):
    for i in range(1):
        if np.sum(ps[0]) * s > 0.0:
            return 1.0
    for j in range(1):
        return np.sum(np.sin(ps[0]))
    return 0.0


def fuzz_found(ps, s):
    v7 = ps[0]
    for i8 in range(1):
        v10 = ps[0]
        if np.sum(ps[0]) * s > 0.0:
            return np.sum(np.sin(v10)) + 0.5 * np.sum(ps[0] * ps[0])
    for i11 in range(1):
        if i11 % 2 == 0:
            return np.sum(np.sin(v7)) + 0.5 * np.sum(ps[0] * ps[0])
    return np.sum(np.sin(v7)) + 0.5 * np.sum(ps[0] * ps[0])


def alias_before_loops(ps, s):
    a = ps[0]
    b = ps[1]
    for i in range(2):
        if np.sum(a) * s > 10.0 * i:
            return np.sum(a * b)
    for j in range(3):
        if j == 2:
            return np.sum(np.tanh(b)) + s * np.sum(a)
    return np.sum(a)


def three_loops(ps, s):
    h = ps[0] * s
    for i in range(2):
        if np.sum(h) > 100.0:
            return np.sum(h)
        h = np.tanh(h + ps[1])
    for j in range(2):
        if np.sum(h) * s > 0.0:
            return np.sum(h * ps[0])
    for k in range(2):
        h = h * ps[1]
        if k == 1:
            return np.sum(np.cos(h))
    return np.sum(h)


def loop_return_then_branch_loop(ps, s):
    acc = 0.0
    for i in range(2):
        acc = acc + np.sum(ps[1]) * i
        if acc * s > 1e6:
            return acc
    if s > 0.0:
        for j in range(2):
            if j == 1:
                return acc * np.sum(np.sin(ps[0]))
    else:
        for j in range(2):
            acc = acc + np.sum(ps[1] * ps[0]) * j
            if acc > -1e6:
                return acc
    return acc


def nested_two_inner_loops(ps, s):
    h = ps[0] * 1.0
    for t in range(3):
        for i in range(2):
            if np.sum(h) * s > 50.0:
                return np.sum(h)
        h = np.sin(h) + ps[1]
        for j in range(2):
            if t == 1 and j == 1:
                return np.sum(h * ps[0]) + s
        h = h * 0.5
    return np.sum(h)


def break_continue_then_return(ps, s):
    h = ps[1] * s
    for t in range(4):
        if t == 0:
            continue
        h = np.tanh(h) * ps[0]
        if np.sum(h) > 1e6:
            break
        if t == 5:
            return np.sum(h)
    for u in range(3):
        if u == 1:
            continue
        h = h + ps[0]
        if u == 2:
            return np.sum(h * h)
    return 0.0


def while_then_for(ps, s):
    h = ps[0] * 1.0
    n = 0
    while n < 3:
        n += 1
        h = np.sin(h) * ps[1]
        if np.sum(h) * s > 1e6:
            return np.sum(h)
    for j in range(2):
        if j == 1:
            return np.sum(h) + np.sum(ps[0])
    return 0.0


def for_else_after_return(ps, s):
    v = ps[1]
    for i in range(2):
        if np.sum(v) * s > 1e6:
            return np.sum(v)
    for j in range(2):
        if j == 5:
            break
        v = v * ps[0]
    else:
        return np.sum(np.sin(v))
    return 0.0


def returns_in_both(ps, s):
    out = 0.0
    for i in range(2):
        if np.sum(ps[0]) * s > 0.0:
            return np.sum(ps[0] * ps[1])
        out = out + np.sum(ps[1]) * i
    for j in range(2):
        if np.sum(ps[1]) * s < 0.0:
            return out * np.sum(ps[1])
    return out


def dict_two_loops(ps, s):
    w = ps["a"]
    for i in range(2):
        if np.sum(ps["b"]) * s > 0.0:
            return np.sum(w * ps["b"])
    for j in range(2):
        if j == 1:
            return np.sum(np.sin(w)) + np.sum(ps["b"] ** 2)
    return 0.0


def dict_nested_break_continue(ps, s):
    h = ps["b"] * 1.0
    for t in range(3):
        if t == 0:
            continue
        for i in range(2):
            if np.sum(h) * s > 1e6:
                return np.sum(h)
            if i == 1:
                break
            h = h * ps["a"]
        for j in range(2):
            if t == 2 and np.sum(ps["a"]) * s > 0.0:
                return np.sum(np.tanh(h))
    return np.sum(h * ps["a"])


def array_two_loops(x, s):
    for i in range(1):
        if np.sum(x) * s > 0.0:
            return 1.0
    for j in range(1):
        return np.sum(np.sin(x))
    return 0.0


def array_for_else_return(x, s):
    h = x * s
    for j in range(2):
        if j == 5:
            break
        h = h * x
    else:
        return np.sum(np.sin(h))
    return 0.0


def list_for_else_return_in_loop(ps, s):
    acc = 0.0
    for t in range(2):
        for j in range(2):
            if np.sum(ps[0]) * s > 0.0 and j == 1:
                break
            acc = acc + np.sum(ps[1] * ps[0])
        else:
            return acc * np.sum(ps[0])
        acc = acc * 0.5
    return acc


def else_continue(ps, s):
    acc = 0.0
    for t in range(3):
        for j in range(2):
            if t == 1:
                break
        else:
            continue
        acc = acc + np.sum(ps[0] * ps[1]) * s
    return acc


def else_break(ps, s):
    acc = 0.0
    for t in range(3):
        for j in range(2):
            if t == 0 or s < 0.0:
                break
        else:
            break
        acc = acc + np.sum(ps[0] * ps[0]) * (t + 1)
    return acc + np.sum(ps[1])


def else_return_at_top(ps, s):
    h = ps[0] * s
    for j in range(2):
        if np.sum(h) > 1e6:
            break
        h = h * ps[1]
    else:
        return np.sum(np.sin(h))
    return 0.0


def else_loop_return_at_top(ps, s):
    h = ps[0] * 1.0
    for j in range(2):
        h = h * 1.5
    else:
        for k in range(2):
            if np.sum(h) * s > 0.0:
                return np.sum(np.sin(h)) + np.sum(ps[1])
        h = h * ps[1]
    return np.sum(h)


def while_else_test_with_call(ps, s):
    h = ps[0] * 1.0
    n = 0
    while np.sum(h * h) < 1e3 and n < 4:
        h = h * 1.5 + ps[1]
        n += 1
    else:
        return np.sum(h * ps[1]) * s
    return 0.0


def while_else_assigns(ps, s):
    h = ps[0] * 1.0
    while np.sum(h * h) < 1e3:
        h = h * 2.0
    else:
        h = h * ps[1] * s
    return np.sum(h)


def loop_over_list_else_return(ps, s):
    acc = 0.0
    for p in ps:
        acc = acc + np.sum(np.sin(p)) * s
        if acc > 1e6:
            break
    else:
        return acc * np.sum(ps[1])
    return acc


def _else_return_helper(ps, s):
    for k in range(3):
        if np.sum(ps[0]) * s > 1e6:
            break
    else:
        return np.sum(ps[0] * ps[1])
    return 0.0


def calls_else_return(ps, s):
    return _else_return_helper(ps, s) + 0.5 * _else_return_helper(ps, -s)


def nested_else_clauses(ps, s):
    h = ps[0] * 1.0
    for t in range(2):
        for j in range(2):
            if np.sum(h) * s > 1e6:
                break
            h = np.tanh(h) * ps[1]
        else:
            for k in range(2):
                if k == 1 and s < 0.0:
                    break
                h = h + ps[0]
            else:
                continue
            return np.sum(h * h)
        h = h * 0.5
    return np.sum(h)


def break_in_elif_and_on_one_line(ps, s):
    h = ps[1] * s
    for t in range(3):
        if np.sum(h) > 1e6:
            h = h * 2.0
        elif t == 1 and s < 0.0:
            h = h * 3.0
            h = h + ps[0]; break  # fmt: skip
        else:
            h = np.sin(h) + ps[0]
    else:
        h = h * ps[1]
    return np.sum(h)


def dict_else_return_in_loop(ps, s):
    acc = 0.0
    for t in range(2):
        for j in range(2):
            if np.sum(ps["a"]) * s > 0.0 and j == 1:
                break
            acc = acc + np.sum(ps["b"] * ps["a"])
        else:
            return acc * np.sum(ps["a"])
        acc = acc * 0.5
    return acc


def refused_index_in_else(ps, s):
    acc = 0.0
    for i in range(2):
        acc = acc + s
        if acc > 1e6:
            break
    else:
        acc = acc * np.sum(ps[i])
    return acc


def aux_returns_in_two_loops(ps, s):
    """With has_aux=True: (loss, aux) returned from inside loops (aux was bound after the
    loop was left: unbound in the generated code)."""
    for i in range(2):
        if np.sum(ps[0]) * s > 0.0:
            return np.sum(ps[0] * ps[1]), ps[1] * 2.0
    for j in range(2):
        if j == 1:
            return np.sum(np.sin(ps[0])), ps[0] + 1.0
    return 0.0, ps[0]


def aux_loss_only(ps, s):
    loss, _ = aux_returns_in_two_loops(ps, s)
    return loss
