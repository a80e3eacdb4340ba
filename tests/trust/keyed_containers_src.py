"""Programs that read container arguments by loop index, by formatted key, through dict
views, and that build or rebind lists and tuples of arrays (tests/test_real_containers.py)."""

import functools

import numpy as np


# ---------------------------------------------------------------- read by a loop's index


def layers_by_index(params, x):
    h = x
    for i in range(len(params)):
        W = params[i][0]
        b = params[i][1]
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return np.sum(h**2)


def layers_by_counted_index(params, x):
    n_layers = len(params)
    h = x
    for i in range(n_layers):
        W, b = params[i]
        h = np.tanh(h @ W + b)
    W_last, b_last = params[n_layers - 1]
    return np.mean(h) + np.sum(W_last * 0.5) + np.sum(b_last)


def layers_by_index_from_one(params, x):
    h = np.tanh(x @ params[0][0] + params[0][1])
    for i in range(1, len(params), 1):
        h = np.tanh(h @ params[i][0] + params[i][1])
    return np.sum(h**3)


def layers_by_reversed_index(params, x):
    h = x
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        h = np.tanh(h @ W + b)
    return np.sum(h)


def keys_from_formatting(params, x):
    h = x
    for i in range(1, 3):
        h = h @ params["W%d" % i] + params[f"b{i}"]
        if i == 1:
            h = np.tanh(h)
    return np.sum(h**2) + np.sum(params["W" + str(1)])


def key_name_rebound(params, x):
    k = 0
    W = params[k]
    k = 1
    b = params[k]
    return np.sum(np.tanh(x @ W + b))


def emission_table(log_pi, log_B, seq):
    n = len(seq)
    alpha = np.zeros((n, log_pi.shape[0]))
    alpha[0] = log_pi + log_B[:, seq[0]]
    for t in range(1, n):
        for j in range(log_pi.shape[0]):
            alpha[t, j] = np.log(np.sum(np.exp(alpha[t - 1]))) + log_B[j, seq[t]]
    return np.sum(alpha[-1])


# ---------------------------------------------------------------- dict views and parts


def decay_over_items(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    pred = h @ params["W2"] + params["b2"]
    decay = 1e-1 * sum(np.sum(v**2) for k, v in params.items() if k.startswith("W"))
    return np.mean(pred**2) + decay


def sum_over_values_and_keys(params, x):
    total = 0.0
    for v in params.values():
        total = total + np.sum(v**2)
    for k in params:
        total = total + np.sum(params[k])
    for k in params.keys():
        total = total + 0.5 * np.sum(np.sin(params[k]))
    return total + np.sum(x @ params["W1"])


def nested_hidden_layers(params, x):
    h = x
    for W, b in params["hidden"]:
        h = np.tanh(h @ W + b)
    W, b = params["out"]
    return np.sum((h @ W + b) ** 2)


def parts_by_constant_names(params, x):
    h = x
    for part in ("encoder", "decoder"):
        for W, b in params[part]:
            h = np.tanh(h @ W + b)
    return np.mean((h - x) ** 2)


def enumerate_nested(params, x):
    h = x
    for i, (W, b) in enumerate(params["hidden"]):
        h = h @ W + b
        if i == 0:
            h = np.tanh(h)
    return np.sum(h**2)


# ---------------------------------------------------------------- lists of tuples built here


def unpack_flat(weights, shapes):
    start = 0
    layers = []
    for m, n in shapes:
        W = weights[start : start + m * n].reshape((m, n))
        start += m * n
        b = weights[start : start + n]
        start += n
        layers.append((W, b))
    return layers


def flat_weights_net(weights, x):
    h = x
    for W, b in unpack_flat(weights, ((3, 4), (4, 2))):
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def scaled_copies(params, x):
    layers = []
    for W, b in params:
        layers.append((W * 2.0, b))
    layers.append((np.ones((2, 2)), np.zeros(2)))
    h = x
    for i, (W, b) in enumerate(layers):
        h = np.tanh(h @ W + b)
    return np.sum(h**2) + len(layers)


def display_of_rebound_names(a, b, x):
    pairs = [(a, b), (b, a)]
    b = b * 3.0
    total = 0.0
    for u, v in pairs:
        total = total + np.sum(np.tanh(x * u + v))
    return total + np.sum(b)


# ---------------------------------------------------------------- arguments rebound in loops


def sgd_steps_on_a_tuple(params, x, y, lr=0.1, steps=2):
    for _ in range(steps):
        W, b = params
        err = x @ W + b - y
        params = (W - lr * x.T @ err / x.shape[0], b - lr * err.mean(axis=0))
    W, b = params
    return np.mean((x @ W + b - y) ** 2)


def state_tuple_over_rows(state, xs):
    for x in xs:
        h, c = state
        c = np.tanh(c + x[:2])
        h = h * c + 0.1
        state = (h, c)
    h, c = state
    return np.sum(h**2) + np.sum(c)


def state_dict_over_rows(state, xs):
    for x in xs:
        state = {"h": np.tanh(state["h"] + x[:2]), "c": state["c"] * 0.9 + state["h"]}
    return np.sum(state["h"] * state["c"])


def state_list_rebound_while(state, xs):
    t = 0
    while t < xs.shape[0]:
        a, b = state
        state = [a * np.cos(xs[t, :2]), b + a]
        t += 1
    return np.sum(state[0]) + np.sum(state[1] ** 2)


# ---------------------------------------------------------------- refused


def index_read_in_a_loop_with_break(params, x):
    h = x
    for i in range(len(params)):
        h = np.tanh(h @ params[i])
        if np.sum(h) > 1e9:
            break
    return np.sum(h)


def index_read_in_a_loop_without_break(params, x):
    h = x
    for i in range(len(params)):
        h = np.tanh(h @ params[i])
    return np.sum(h)


def tuple_appended_in_a_while_loop(params, x):
    layers = []
    i = 0
    while i < 2:
        layers.append((params[0] * i, params[1]))
        i += 1
    return np.sum(x @ layers[1][0])


def layer_of_a_slice_by_constant_index(params, x):
    hidden = params[:-1]
    W, b = hidden[0]
    h = np.sin(x @ W + b)
    W, b = params[-1]
    return np.sum(h @ W) + np.sum(b)


# ---------------------------------------------------------------- generator functions


def layers_of(weights, shapes):
    start = 0
    for m, n in shapes:
        end = start + m * n
        yield weights[start:end].reshape((m, n)), weights[end : end + n]
        start = end + n


def net_over_a_generator(weights, x):
    h = x
    for W, b in layers_of(weights, ((3, 4), (4, 2))):
        h = np.tanh(h @ W + b)
    return np.sum(h**2)


def squares_then_more(v):
    for i in range(3):
        if i == 2:
            break
        yield v[i] ** 2
    return


def returns_early(v):
    for i in range(3):
        if i == 2:
            return
        yield v[i] ** 2


def sum_of_early_returns(v):
    return sum(returns_early(v))


def chained(v):
    yield from squares_then_more(v)
    yield np.sin(v[2])


def sum_of_a_generator(v):
    total = sum(chained(v))
    return total + np.sum([s for s in squares_then_more(v)][1])


def nested_generator_def(v, x):
    def scaled(k):
        for i in range(k):
            yield v * (i + 1.0)

    return np.sum(np.stack([np.tanh(s + x) for s in scaled(3)]))


def endless(v):
    while True:
        yield v


def takes_from_an_endless_generator(v):
    for a, b in zip(endless(v), range(2)):
        v = v + a
    return np.sum(v)


def generator_with_a_value(v):
    yield v
    return v


def returns_of_a_generator(v):
    for a in generator_with_a_value(v):
        v = v * a
    return np.sum(v)


def rows_of(buf):
    for i in range(2):
        yield buf[i]


def writes_what_a_generator_reads(v):
    buf = np.stack([v, v])
    total = 0.0
    for r in rows_of(buf):
        buf[1] = r * 2.0
        total = total + np.sum(r)
    return total


def is_a_generator(v):
    yield np.sum(v)


# ---------------------------------------------------------------- helpers that unpack


def split_parts(x):
    a, b = np.split(x, 2, axis=1)
    return a, b


def swapped_parts(x):
    first, second, third = np.split(x, 3, axis=0)
    return third, first


def loss_of_split_parts(x):
    a, b = split_parts(x)
    c, d = swapped_parts(x)
    return np.sum(a * b) + np.sum(c * d**2)


# ---------------------------------------------------------------- per-step dicts (char-rnn)


def per_step_dicts(W, U, inputs, targets):
    xs, hs = {}, {}
    hs[-1] = np.zeros(W.shape[0])
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros(U.shape[1])
        xs[t][inputs[t]] = 1.0
        hs[t] = np.tanh(W @ hs[t - 1] + U @ xs[t])
        loss += -np.log(np.exp(hs[t][targets[t]]) / np.sum(np.exp(hs[t])))
    return loss


def item_of_a_list_display_written(v):
    rows = [np.zeros(3), v * 2.0]
    rows[0][1] = v[0]
    rows[1][2] += v[1]
    return np.sum(rows[0] * rows[1])


def written_item_read_through_another_name(v):
    z = v * 1.0
    rows = [z, v]
    rows[0][0] = 5.0
    return np.sum(z)


# ---------------------------------------------------------------- unpacking arrays


def unpack_exp(v, x):
    a, b, c = np.exp(v)
    return np.sum(a * x + b * x**2 + c)


def unpack_rows_of_a_product(W, x):
    top, bottom = W @ x
    return np.sum(top * bottom)


def unpack_wrong_count(v):
    y = v * 2.0
    a, b = y
    return np.sum(a * b)


# ---------------------------------------------------------------- starred unpacking


def starred_hidden_layers(params, x):
    *hidden, last = params
    for W, b in hidden:
        x = np.tanh(x @ W + b)
    W, b = last
    return np.sum(x @ W + b)


def starred_rest_and_nested(params, x):
    first, *rest, (W_out, b_out) = params
    h = np.tanh(x @ first[0] + first[1])
    for W, b in rest:
        h = np.sin(h @ W + b)
    return np.sum(h @ W_out + b_out) + len(rest)


def starred_display(a, b, c):
    head, *tail = [a * 2.0, b, c]
    return np.sum(head) + sum(np.sum(t**2) for t in tail)


def starred_rows_of_an_array(v):
    first, *rest = v * 2.0
    return np.sum(first)


# ---------------------------------------------------------------- item writes into lists


def stacked_rnn(layers, xs):
    hidden = [np.zeros(W_h.shape[0]) for (_, W_h) in layers]
    total = 0.0
    for x in xs:
        h_in = x
        for depth, (W_x, W_h) in enumerate(layers):
            hidden[depth] = np.tanh(W_x @ h_in + W_h @ hidden[depth])
            h_in = hidden[depth]
        total = total + np.sum(h_in**2)
    return total


def stacked_rnn_over_rows(layers, xs):
    hidden = [np.zeros(W_h.shape[0]) for (_, W_h) in layers]
    total = 0.0
    for t in range(xs.shape[0]):
        h_in = xs[t]
        for depth, (W_x, W_h) in enumerate(layers):
            hidden[depth] = np.tanh(W_x @ h_in + W_h @ hidden[depth])
            h_in = hidden[depth]
        total = total + np.sum(h_in**2)
    return total


def write_into_a_list_of_constants(v):
    hidden = [np.zeros(3), np.zeros(3)]
    hidden[0] = v * 2.0
    hidden[1] = hidden[0] * v
    return np.sum(hidden[0]) + np.sum(hidden[1] ** 2)


def write_into_a_list_in_a_branch(v):
    hidden = [np.zeros(3), v]
    if np.sum(v) > 0:
        hidden[0] = v * 2.0
    return np.sum(hidden[0])


def unpack_constant_calls(v):
    ys, xs = np.meshgrid(np.arange(3), np.arange(3))
    i, j = np.unravel_index(4, (3, 3))
    return np.sum(v * xs + v * ys) + v[i, j]


def states_by_concatenation(W, U, xs):
    hs = [np.zeros(W.shape[0])]
    for x in xs:
        hs = hs + [np.tanh(W @ hs[-1] + U @ x)]
    return np.sum(np.stack(hs)[1:] ** 2)


def states_by_concatenation_aliased(W, U, xs):
    hs = [np.zeros(W.shape[0])]
    first = hs
    for x in xs:
        hs = hs + [np.tanh(W @ hs[-1] + U @ x)]
    return np.sum(np.stack(hs) ** 2) + len(first)


SHAPES = [(3, 4), (4, 2)]


def unpack_over_constant_shapes(weights, shapes):
    start = 0
    out = 0.0
    for m, n in shapes:
        W = weights[start : start + m * n].reshape((m, n))
        start += m * n
        out = out + np.sum(np.tanh(W))
    return out


def loss_over_module_shapes(w):
    return unpack_over_constant_shapes(w, SHAPES)


STEPS = 3
RATE = 0.25


def relax(u, n=STEPS, rate=RATE, shape=(2, 2)):
    for _ in range(n):
        u = u - rate * np.tanh(u)
    return u.reshape(shape)


def loss_with_module_defaults(u):
    return np.sum(relax(u) ** 2)


# ---------------------------------------------------------------- functions as values


def apply_twice(f, x):
    return f(f(x))


def euler(f, z, ts):
    zs = [z]
    for t0, t1 in zip(ts[:-1], ts[1:]):
        z = z + (t1 - t0) * f(z, t0)
        zs.append(z)
    return np.stack(zs)


def make_dynamics(W, b):
    return lambda z, t: np.tanh(z @ W + b + t)


def make_scaled(w):
    def scaled(z):
        return np.sin(z * w)

    return scaled


def lambda_passed_down(w, x):
    g = lambda z: np.tanh(z * w)
    return np.sum(apply_twice(g, x))


def def_passed_down(w, x):
    def g(z):
        return np.tanh(z * w) + x

    return np.sum(apply_twice(g, x))


def factory_closure_called(w, x):
    g = make_scaled(w)
    return np.sum(g(x) + apply_twice(g, x))


def neural_ode(W, b, z0, ts):
    traj = euler(make_dynamics(W, b), z0, ts)
    return np.sum(traj**2)


def function_stored_in_a_list(w, x):
    fs = [make_scaled(w)]
    return np.sum(fs[0](x))


# ---------------------------------------------------------------- zip(*rows)


PAIRS = ((1.0, 2.0), (3.0, 4.0))


def columns_of_pairs(units, x):
    centres, log_widths = zip(*units)
    C = np.stack(centres)
    w = np.exp(np.array(log_widths))
    return np.sum(np.exp(-np.sum((x[:, None, :] - C[None]) ** 2, axis=2) / w))


def loop_over_columns(units, x):
    total = 0.0
    for column in zip(*units):
        total = total + np.sum(np.stack(column) * x[0])
    for a, b in zip(*PAIRS):
        total = total + a * b
    return total


# ---------------------------------------------------------------- a table's entry by name


def _leaky(x, slope):
    return np.where(x > 0, x, slope * x)


ACTS = {
    "tanh": np.tanh,
    "leaky": functools.partial(_leaky, slope=0.1),
    "softplus": lambda x: np.logaddexp(0.0, x),
}


def through_an_entry(x, w):
    act = ACTS["leaky"]
    soft = ACTS["softplus"]
    h = act(x * w)
    return np.sum(apply_twice(soft, h) + apply_twice(ACTS["tanh"], h))


def entry_chosen_on_a_branch(x, w):
    if np.sum(x) > 0:
        act = ACTS["tanh"]
    else:
        act = ACTS["softplus"]
    return np.sum(act(x * w))


# ---------------------------------------------------------------- loops over free constants


LAYER_SHAPES = [(3, 4), (4, 2)]


def unpack_module_layers(weights):
    start = 0
    layers = []
    for m, n in LAYER_SHAPES:
        layers.append((weights[start : start + m * n].reshape((m, n)), 1.0))
        start += m * n
    return layers


def net_over_module_shapes(weights, x):
    h = x
    for W, c in unpack_module_layers(weights):
        h = np.tanh(h @ W) * c
    return np.sum(h**2)


def make_nn(layer_sizes):
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))

    def unpack(weights):
        start = 0
        out = []
        for m, n in shapes:
            out.append((weights[start : start + m * n].reshape((m, n)), start))
            start += m * n
        return out

    def loss(weights, x):
        h = x
        for W, _ in unpack(weights):
            h = np.tanh(h @ W)
        return np.sum(h**2)

    return loss


def rows_at_drawn_indices(W, x, table, rs):
    total = 0.0
    for _ in range(3):
        k = table[rs.randint(0, len(table))]
        total = total + np.sum(np.tanh(x @ W)[k])
    return total


def examples_at_the_argmax(W, examples, labels):
    scores = examples[0] @ W
    j = int(np.argmax(scores))
    return np.sum((examples[j] @ W - labels[j]) ** 2)


def nested_batches_at_a_computed_index(W, batches):
    j = int(np.sum(batches[0][0] > 0)) % len(batches[1])
    return np.sum(np.tanh(batches[1][j] @ W))


def scale_by_a_computed_name(w, scales, names):
    out = 0.0
    for i in range(len(names)):
        out = out + scales[names[i]] * np.sum(w**2)
    return out


def layers_at_a_computed_index(layers, x):
    j = int(np.sum(x > 0)) % len(layers)
    W, b = layers[j]
    return np.sum(np.tanh(x @ W + b))


def append_to_a_table_then_read(w, table, i):
    table.append(0)
    return np.sum(w[table[i]])
