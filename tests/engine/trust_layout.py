# ruff: noqa
# fmt: off
"""Functions laid out the ways real code is: black's split expressions, trailing commas,
comments inside brackets, backslash continuations, bodies on the ``def`` line.

Each one must differentiate (tests/test_trust_errors.py checks it against central
differences); none of the layouts may leak into the emitted code.
"""

import numpy as np


def one_line_return(x): return np.sum(x * x)


def one_line_semicolons(x): y = x * 2.0; return np.sum(y ** 2)


def one_line_if_body(x):
    if x.shape[0] > 1: y = x * 3.0
    else: y = x
    return np.sum(np.sin(y))


def one_line_loop_body(x):
    t = 0.0
    for i in range(3): t = t + np.sum(x * i)
    return t


def one_line_nested_def(x):
    def sq(v): return v * v
    return np.sum(sq(x) + sq(2.0 * x))


def split_call_trailing_comma(x, w):
    y = np.tanh(
        x * w
        + 2.0,  # a comment between the arguments
    )
    z = np.sum(
        y,
        axis=0,
        keepdims=False,
    )
    return (
        z
        + np.sum(w)
    )


def split_binary_chain(x, w):
    hidden_activation_with_a_long_name = np.tanh(x * w)
    return np.sum(
        hidden_activation_with_a_long_name * hidden_activation_with_a_long_name
        - 0.5 * hidden_activation_with_a_long_name
        + np.exp(-hidden_activation_with_a_long_name)  # comment at the end of a line
    )


def split_subscript(x, w):
    a = x[
        1:3
    ]
    b = w[
        0
    ]
    return np.sum(a * b)


def split_return_tuple(x, w):
    loss = np.sum(
        x ** 2,
    )
    aux = (
        w,
        x,
    )
    return (
        loss
        * 2.0
    )


def split_keyword_call(x, w):
    y = np.clip(
        x * w,
        a_min=-1.0,
        a_max=1.0,
    )
    return np.sum(np.mean(
        y * y,
        axis=None,
    ))


def backslash_continuation(x, w):
    y = x * w + \
        np.sin(x)
    return np.sum(y) \
        * 2.0


def split_condition(x, w):
    if (
        x.shape[0] > 1  # a comment inside the condition
        and w.shape[0] > 1
    ):
        y = (
            x
            * w
        )
    else:
        y = x
    return np.sum(y)


def split_comprehension(x, w):
    rows = [
        np.sum(x * w * k)  # comment
        for k in range(3)
    ]
    return sum(
        rows
    )


def split_ternary(x, w):
    s = np.sum(x)
    y = (
        x * w
        if s > 0
        else -x
    )
    return np.sum(y ** 2)


def comment_lines_everywhere(x, w):
    # a comment before a statement
    y = x * w  # a trailing comment

    # a comment after a blank line
    z = np.exp(
        # a comment on its own line inside the brackets
        y
    )
    return np.sum(z)


def nested_split_calls(x, w):
    return np.sum(
        np.maximum(
            np.dot(
                x,
                w,
            ),
            0.0,
        )
        * np.ones_like(
            x,
        ),
    )


def strings_with_newlines(x, w):
    label = """a
    multi-line string"""
    y = x * w
    return np.sum(y) * len(label)


def _helper_split(
    a,
    b,
    *,
    scale=2.0,
):
    return (
        a * b
        * scale
    )


def calls_split_helper(x, w):
    return np.sum(
        _helper_split(
            x,
            w,
            scale=3.0,
        )
    )


def _helper_one_line(a, b): return a * np.sin(b)


def calls_one_line_helper(x, w):
    return np.sum(_helper_one_line(x, w))


NAMES = [
    "one_line_return",
    "one_line_semicolons",
    "one_line_if_body",
    "one_line_loop_body",
    "one_line_nested_def",
    "split_call_trailing_comma",
    "split_binary_chain",
    "split_subscript",
    "split_return_tuple",
    "split_keyword_call",
    "backslash_continuation",
    "split_condition",
    "split_comprehension",
    "split_ternary",
    "comment_lines_everywhere",
    "nested_split_calls",
    "strings_with_newlines",
    "calls_split_helper",
    "calls_one_line_helper",
]
