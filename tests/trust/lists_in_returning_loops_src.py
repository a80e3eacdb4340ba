"""Lists built with append in a loop, inside a loop that returns, breaks or continues early.

Each function takes an array ``x`` (3 x 4) and a float ``s`` whose sign picks the path (the
early exit taken or not).  The lists are made again each outer iteration, or once before the
loop, and read by ``np.stack``, ``sum``, an index or a loop over their items.

The fault (an internal error on main once, "too many values to unpack"): the backward of
every iteration starts at the end of the loop body with the zero cotangents of the lists the
body builds, which read the list pushed there; an iteration left by a ``break`` (a ``return``
in a loop is one) skipped that push, so the backward popped the wrong entries.
"""

import numpy as np


def fuzz_found(x, s):
    v0 = x
    for i1 in range(1):
        acc2 = [x]
        for i3 in range(1):
            acc2.append(np.sin(x) * (i3 + 1.0))
        v4 = np.stack(acc2)
        if s > 0.0:
            return np.sum(np.sin(v4)) + 0.5 * np.sum(x * x)
    return np.sum(np.sin(v0)) + 0.5 * np.sum(x * x)


def return_in_second_iteration(x, s):
    t = 0.0
    for i in range(3):
        acc = [x * s]
        for j in range(2):
            acc.append(np.sin(x) * (j + i + 1.0))
        v = np.stack(acc)
        t = t + np.sum(v * v)
        if s * i > 0.5:
            return t + np.sum(np.cos(v))
    return t


def break_then_sum(x, s):
    t = 0.0
    for i in range(3):
        parts = []
        for j in range(3):
            parts.append(np.tanh(x[j] * (i + 1.0)))
        t = t + np.sum(sum(parts))
        if s > 0.0 and i == 1:
            break
    return t * t


def continue_then_index(x, s):
    t = 0.0
    for i in range(3):
        acc = [x[0]]
        for j in range(2):
            acc.append(acc[-1] * np.sin(x[j + 1]))
        if s > 0.0 and i == 1:
            continue
        t = t + np.sum(acc[1] * acc[-1]) + np.sum(acc[0])
    return t


def return_reads_items_by_loop(x, s):
    for i in range(2):
        acc = []
        for j in range(3):
            acc.append(np.exp(x[j] * 0.1 * (i + 1.0)))
        t = 0.0
        for a in acc:
            t = t + np.sum(a * x[0])
        if s > 0.0:
            return t
    return np.sum(x) + t


def break_in_the_inner_loop(x, s):
    t = 0.0
    for i in range(2):
        acc = [x[0]]
        for j in range(3):
            acc.append(np.sin(acc[-1] + x[j]))
            if s > 0.0 and j == 1:
                break
        t = t + np.sum(np.stack(acc) ** 2)
        if s < 0.0 and i == 0:
            return t
    return t


def return_from_the_inner_loop(x, s):
    for i in range(2):
        acc = [x]
        for j in range(3):
            acc.append(np.cos(x) * (j + 1.0))
            if s > 0.0 and j == 1:
                return np.sum(np.stack(acc)) * (i + 1.0)
        x = np.sin(np.stack(acc)[1])
    return np.sum(x)


def list_made_once_before(x, s):
    acc = [x]
    for i in range(3):
        for j in range(2):
            acc.append(np.sin(acc[-1]) * 0.9)
        if s > 0.0 and i == 1:
            return np.sum(np.stack(acc)[-1] * x)
    return np.sum(sum(acc))


def two_lists(x, s):
    t = 0.0
    for i in range(3):
        a = []
        b = [x[2]]
        for j in range(2):
            a.append(x[j] * (i + 1.0))
            b.append(np.tanh(a[-1]))
        if s > 0.0 and i == 2:
            return t + np.sum(np.stack(a) * np.stack(b)[1:])
        t = t + np.sum(b[-1])
    return t


def three_deep(x, s):
    t = 0.0
    for i in range(2):
        outer = []
        for j in range(2):
            inner = [x[j]]
            for k in range(2):
                inner.append(np.sin(inner[-1]) + x[k])
            outer.append(np.sum(np.stack(inner), axis=0))
            if s > 0.0 and i == 1 and j == 0:
                return t + np.sum(outer[0])
        t = t + np.sum(np.stack(outer) * x[0])
    return t


def while_loop_returns(x, s):
    i = 0
    t = 0.0
    while i < 3:
        acc = [x]
        for j in range(2):
            acc.append(np.sin(acc[-1]))
        t = t + np.sum(np.stack(acc))
        if s > 0.0 and i == 1:
            return t
        i = i + 1
    return t * 2.0


def for_else_break(x, s):
    t = 0.0
    for i in range(3):
        acc = [x]
        for j in range(2):
            acc.append(np.cos(acc[-1]) * (i + 1.0))
        t = t + np.sum(np.stack(acc))
        if s > 0.0 and i == 1:
            break
    else:
        t = t * np.sum(x)
    return t


def for_else_inner_builds(x, s):
    t = 0.0
    for i in range(2):
        acc = []
        for j in range(3):
            acc.append(np.sin(x[j]) * (i + 1.0))
        else:
            acc.append(x[0])
        t = t + np.sum(np.stack(acc) ** 2)
        if s > 0.0:
            break
    else:
        return t + 1.0
    return t


def while_else_return(x, s):
    i = 0
    t = 0.0
    while i < 2:
        acc = [x[1]]
        k = 0
        while k < 2:
            acc.append(np.tanh(acc[-1] + x[k]))
            k = k + 1
        t = t + np.sum(sum(acc))
        if s > 0.0:
            return t * t
        i = i + 1
    else:
        t = t + np.sum(x)
    return t


def second_form(x, s):
    ps = [x * 0.5, x + 1.0]
    v0 = ps[0]
    v1 = np.stack(ps)
    v1[0] = np.mean(x)
    for r2 in x:
        acc3 = [x]
        for i4 in range(1):
            acc3.append(np.sin(x) * (i4 + 1.0))
        v5 = np.stack(acc3)
        if np.sum(x) * s > 0.0:
            return np.sum(np.sin(v5)) + 0.5 * np.sum(x * x)
    return np.sum(np.sin(v1)) + 0.5 * np.sum(x * x)


def break_before_the_read(x, s):
    t = 0.0
    for i in range(3):
        acc = [x]
        for j in range(2):
            acc.append(np.sin(acc[-1]))
        if s > 0.0 and i == 1:
            break
        t = t + np.sum(np.stack(acc))
    return t


def nested_ifs_return(x, s):
    t = 0.0
    for i in range(3):
        acc = [x[0]]
        for j in range(2):
            acc.append(acc[-1] * x[j + 1])
        if s > 0.0:
            t = t + np.sum(acc[2])
            if i == 1:
                return t + np.sum(acc[1])
        else:
            t = t - np.sum(acc[1])
    return t


def refused_list_read_after_loop(x, s):
    t = 0.0
    for i in range(3):  # !refused
        acc = [x]
        for j in range(2):
            acc.append(np.sin(acc[-1]) * (i + 1.0))
        if s > 0.0 and i == 1:
            break
    return np.sum(np.stack(acc))


def hint_followed_list_read_after_loop(x, s):
    t = 0.0
    for i in range(3):
        acc = [x]
        for j in range(2):
            acc.append(np.sin(acc[-1]) * (i + 1.0))
        v = np.stack(acc)
        if s > 0.0 and i == 1:
            break
    return np.sum(v)


def comprehension_read(x, s):
    for i in range(2):
        acc = []
        for j in range(3):
            acc.append(x[j] * (i + 2.0))
        v = np.stack([np.sin(a) for a in acc])
        if s > 0.0:
            return np.sum(v)
    return np.sum(v * v)


def continue_before_appends(x, s):
    t = 0.0
    for i in range(3):
        acc = [x[2]]
        if s > 0.0 and i == 0:
            continue
        for j in range(2):
            acc.append(np.cos(acc[-1]))
        t = t + np.sum(np.stack(acc))
        if s < 0.0 and i == 1:
            return t
    return t


def while_true_break(x, s):
    i = 0
    t = 0.0
    while True:
        acc = [x]
        for j in range(2):
            acc.append(np.tanh(acc[-1]) * 1.1)
        t = t + np.sum(acc[-1])
        i = i + 1
        if i >= 2 or s > 0.0:
            break
    return t


def len_of_list(x, s):
    t = 0.0
    for i in range(3):
        acc = []
        for j in range(i + 1):
            acc.append(x[j] * 2.0)
        t = t + np.sum(np.stack(acc)) / len(acc)
        if s > 0.0 and len(acc) == 2:
            return t
    return t


def list_after_returning_inner_loop(x, s):
    t = 0.0
    for i in range(2):
        for k in range(2):
            if s > 0.0 and i == 1 and k == 1:
                return t + np.sum(x)
        acc = [x[1]]
        for j in range(2):
            acc.append(np.tanh(acc[-1] * (k + 1.0)))
        t = t + np.sum(np.stack(acc))
    return t


def break_in_else_of_if(x, s):
    t = 0.0
    for i in range(3):
        acc = [x[0]]
        for j in range(2):
            acc.append(np.cos(acc[-1]) + x[j])
        if s < 0.0:
            t = t + np.sum(acc[1])
        else:
            if i == 1:
                t = t * np.sum(acc[2])
                break
            t = t + np.sum(acc[2])
    return t


def two_levels_of_lists(x, s):
    outer = []
    for i in range(3):
        inner = [x[i]]
        for j in range(2):
            inner.append(np.sin(inner[-1]) * (j + 1.0))
            if s > 0.0 and j == 0 and i == 1:
                break
        outer.append(np.sum(np.stack(inner), axis=0))
        if s < 0.0 and i == 1:
            return np.sum(np.stack(outer) ** 2)
    return np.sum(sum(outer))


def while_with_list_and_continue(x, s):
    i = 0
    t = 0.0
    while i < 3:
        i = i + 1
        acc = [x[i - 1]]
        for j in range(2):
            acc.append(acc[-1] * x[j])
        if s > 0.0 and i == 2:
            continue
        t = t + np.sum(np.stack(acc))
        if s < 0.0 and i == 2:
            break
    return t


def appends_after_the_exit_test(x, s):
    t = 0.0
    for i in range(3):
        acc = [x[0]]
        if s > 0.0 and i == 1:
            return t + np.sum(acc[0])
        for j in range(2):
            acc.append(np.sin(acc[-1]))
        t = t + np.sum(np.stack(acc))
    return t
