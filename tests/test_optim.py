"""srcgrad.optim: each optimizer against its published update equations (written out
here, step by step) over 5 steps, and against torch.optim where torch is installed;
buffers and None leaves skipped; the fused step; state through save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest

import srcgrad
from srcgrad import nn, optim, schedules

STEPS = 5


def _problem(rng):
    """Parameters and 5 gradients (a dict of two arrays)."""
    p = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    grads = [{k: rng.normal(size=v.shape) for k, v in p.items()} for _ in range(STEPS)]
    return p, grads


def _run(opt, p, grads):
    state = opt.init(p)
    out = []
    for g in grads:
        updates, state = opt.update(g, state, p)
        p = optim.apply_updates(p, updates)
        out.append(p)
    return out


# --------------------------------------------------------------- reference equations


def ref_sgd(p, gs, lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False):
    b, out = None, []
    for t, g in enumerate(gs, 1):
        g = g + wd * p
        if momentum:
            b = g.copy() if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return out


def ref_adam(p, gs, lr, b1, b2, eps, wd=0.0, amsgrad=False, decoupled=False):
    m = v = vmax = np.zeros_like(p)
    out = []
    for t, g in enumerate(gs, 1):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        vmax = np.maximum(vmax, v)
        vhat = (vmax if amsgrad else v) / (1 - b2**t)
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(vhat) + eps)
        out.append(p)
    return out


def ref_adagrad(p, gs, lr, lr_decay, wd, init_acc, eps):
    s, out = np.full_like(p, init_acc), []
    for t, g in enumerate(gs, 1):
        g = g + wd * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_adadelta(p, gs, lr, rho, eps, wd):
    v = u = np.zeros_like(p)
    out = []
    for g in gs:
        g = g + wd * p
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d
        out.append(p)
    return out


def ref_rmsprop(p, gs, lr, alpha, eps, wd, momentum, centered):
    v = a = b = np.zeros_like(p)
    out = []
    for g in gs:
        g = g + wd * p
        v = alpha * v + (1 - alpha) * g * g
        a = alpha * a + (1 - alpha) * g
        denom = np.sqrt(v - a * a if centered else v) + eps
        if momentum:
            b = momentum * b + g / denom
            p = p - lr * b
        else:
            p = p - lr * g / denom
        out.append(p)
    return out


def ref_radam(p, gs, lr, b1, b2, eps, wd):
    m = v = np.zeros_like(p)
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for t, g in enumerate(gs, 1):
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > 5:
            r = math.sqrt(
                (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
            )
            p = p - lr * mhat * r * math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
        else:
            p = p - lr * mhat
        out.append(p)
    return out


def ref_nadam(p, gs, lr, b1, b2, eps, wd, psi):
    m = v = np.zeros_like(p)
    prod, out = 1.0, []
    for t, g in enumerate(gs, 1):
        g = g + wd * p
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        prod *= mu
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2**t)) + eps
        p = p - lr * (1 - mu) / (1 - prod) * g / denom
        p = p - lr * mu1 / (1 - prod * mu1) * m / denom
        out.append(p)
    return out


def ref_lion(p, gs, lr, b1, b2, wd):
    m, out = np.zeros_like(p), []
    for g in gs:
        c = b1 * m + (1 - b1) * g
        p = p * (1 - lr * wd) - lr * np.sign(c)
        m = b2 * m + (1 - b2) * g
        out.append(p)
    return out


CASES = {
    "sgd": (optim.sgd, dict(learning_rate=0.1), ref_sgd, dict(lr=0.1)),
    "sgd-momentum-dampening-wd": (
        optim.sgd,
        dict(learning_rate=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
        ref_sgd,
        dict(lr=0.1, momentum=0.9, dampening=0.3, wd=0.01),
    ),
    "sgd-nesterov": (
        optim.sgd,
        dict(learning_rate=0.05, momentum=0.8, nesterov=True),
        ref_sgd,
        dict(lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (
        optim.adam,
        dict(learning_rate=0.01, weight_decay=0.1),
        ref_adam,
        dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.1),
    ),
    "adam-amsgrad": (
        optim.adam,
        dict(learning_rate=0.01, b1=0.8, b2=0.9, amsgrad=True),
        ref_adam,
        dict(lr=0.01, b1=0.8, b2=0.9, eps=1e-8, amsgrad=True),
    ),
    "adamw": (
        optim.adamw,
        dict(learning_rate=0.01, weight_decay=0.1),
        ref_adam,
        dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.1, decoupled=True),
    ),
    "adagrad": (
        optim.adagrad,
        dict(
            learning_rate=0.1,
            lr_decay=0.05,
            weight_decay=0.01,
            initial_accumulator_value=0.1,
        ),
        ref_adagrad,
        dict(lr=0.1, lr_decay=0.05, wd=0.01, init_acc=0.1, eps=1e-10),
    ),
    "adadelta": (
        optim.adadelta,
        dict(learning_rate=0.5, rho=0.8, weight_decay=0.01),
        ref_adadelta,
        dict(lr=0.5, rho=0.8, eps=1e-6, wd=0.01),
    ),
    "rmsprop": (
        optim.rmsprop,
        dict(learning_rate=0.01),
        ref_rmsprop,
        dict(lr=0.01, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.0, centered=False),
    ),
    "rmsprop-centered-momentum": (
        optim.rmsprop,
        dict(
            learning_rate=0.01,
            alpha=0.9,
            weight_decay=0.01,
            momentum=0.5,
            centered=True,
        ),
        ref_rmsprop,
        dict(lr=0.01, alpha=0.9, eps=1e-8, wd=0.01, momentum=0.5, centered=True),
    ),
    "radam": (
        optim.radam,
        dict(learning_rate=0.01, b2=0.5, weight_decay=0.01),
        ref_radam,
        dict(lr=0.01, b1=0.9, b2=0.5, eps=1e-8, wd=0.01),
    ),
    "radam-unrectified": (
        optim.radam,
        dict(learning_rate=0.01),
        ref_radam,
        dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.0),
    ),
    "nadam": (
        optim.nadam,
        dict(learning_rate=0.01, weight_decay=0.01),
        ref_nadam,
        dict(lr=0.01, b1=0.9, b2=0.999, eps=1e-8, wd=0.01, psi=4e-3),
    ),
    "lion": (
        optim.lion,
        dict(learning_rate=0.01, weight_decay=0.1),
        ref_lion,
        dict(lr=0.01, b1=0.9, b2=0.99, wd=0.1),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_the_published_update_equations(name, rng):
    make, kwargs, ref, ref_kwargs = CASES[name]
    p, grads = _problem(rng)
    got = _run(make(**kwargs), p, grads)
    for key in p:
        want = ref(p[key], [g[key] for g in grads], **ref_kwargs)
        for step, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(
                a[key], b, rtol=1e-10, atol=1e-12, err_msg=str(step)
            )


TORCH = {
    "sgd": ("SGD", {}),
    "sgd-momentum-dampening-wd": ("SGD", {}),
    "sgd-nesterov": ("SGD", {}),
    "adam": ("Adam", {}),
    "adam-amsgrad": ("Adam", {}),
    "adamw": ("AdamW", {}),
    "adagrad": ("Adagrad", {}),
    "adadelta": ("Adadelta", {}),
    "rmsprop": ("RMSprop", {}),
    "rmsprop-centered-momentum": ("RMSprop", {}),
    "radam": ("RAdam", {}),
    "radam-unrectified": ("RAdam", {}),
    "nadam": ("NAdam", {}),
}


def _torch_kwargs(kwargs):
    out = dict(kwargs)
    out["lr"] = out.pop("learning_rate")
    if "b1" in out or "b2" in out:
        out["betas"] = (out.pop("b1", 0.9), out.pop("b2", 0.999))
    return out


@pytest.mark.parametrize("name", list(TORCH))
def test_matches_torch_optim(name, rng):
    torch = pytest.importorskip("torch")
    make, kwargs, _, _ = CASES[name]
    p, grads = _problem(rng)
    got = _run(make(**kwargs), p, grads)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in p.items()}
    cls = getattr(torch.optim, TORCH[name][0])
    opt = cls(list(params.values()), **_torch_kwargs(kwargs))
    for step, g in enumerate(grads):
        for k, t in params.items():
            t.grad = torch.tensor(g[k])
        opt.step()
        for k, t in params.items():
            np.testing.assert_allclose(
                got[step][k], t.detach().numpy(), rtol=1e-7, atol=1e-10
            )


@pytest.mark.parametrize(
    "name",
    [
        "sgd",
        "sgd-momentum-dampening-wd",
        "sgd-nesterov",
        "adam",
        "adam-amsgrad",
        "adamw",
    ],
)
def test_the_fused_step_matches_update_in_place(name, rng):
    make, kwargs, _, _ = CASES[name]
    p, grads = _problem(rng)
    want = _run(make(**kwargs), p, grads)
    opt = make(**kwargs)
    model = {k: v.copy() for k, v in p.items()}
    arrays = {k: v for k, v in model.items()}
    state = opt.init(model)
    for step, g in enumerate(grads):
        frozen = {k: v.copy() for k, v in g.items()}
        state = opt.step(model, g, state)
        for k in p:
            assert model[k] is arrays[k]  # in place
            np.testing.assert_array_equal(g[k], frozen[k])  # grads untouched
            np.testing.assert_allclose(model[k], want[step][k], rtol=1e-12, atol=1e-14)


def test_the_fused_step_with_aliased_gradients_and_a_schedule(rng):
    shared = rng.normal(size=3)
    p = {"a": np.ones(3), "b": np.ones(3)}
    g = {"a": shared, "b": shared}  # one array twice
    lr = schedules.step_decay(0.1, step_size=2, gamma=0.5)
    want = _run(optim.adam(learning_rate=lr), p, [g] * 3)[-1]
    opt = optim.adam(learning_rate=lr)
    model, before = {k: v.copy() for k, v in p.items()}, shared.copy()
    state = opt.init(model)
    for _ in range(3):
        state = opt.step(model, g, state)
    np.testing.assert_array_equal(shared, before)
    for k in p:
        np.testing.assert_allclose(model[k], want[k], rtol=1e-12)


def test_no_fused_step_outside_sgd_adam_adamw():
    with pytest.raises(TypeError, match="no fused"):
        optim.lion().step({}, {}, ())


class Net(nn.Module):
    def __init__(self, rng):
        self.W = rng.normal(size=(3, 2))
        self.b = np.zeros(2)
        self.scale = 2.0  # a float setting: no gradient
        self.running = nn.buffer(np.ones(2))  # a buffer
        self.act = "tanh"  # a static field

    def __call__(self, x):
        return np.tanh(x @ self.W + self.b) * self.scale


def _loss(net, x):
    return np.sum(net(x) ** 2)


def test_a_module_is_trained_and_its_buffers_floats_and_statics_are_kept(
    rng, tmp_path, monkeypatch
):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    net, x = Net(rng), rng.normal(size=(5, 3))
    g = srcgrad.grad(_loss)(net, x)
    assert g.running is None and g.scale is None
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.adamw(learning_rate=0.1))
    state = opt.init(net)
    updates, state = opt.update(g, state, net)
    assert updates.running is None and updates.scale is None
    new = optim.apply_updates(net, updates)
    assert type(new) is Net and new.act == "tanh" and new.scale == 2.0
    np.testing.assert_array_equal(new.running, net.running)
    for a, b in [(new.W, net.W), (new.b, net.b), (new.running, net.running)]:
        assert not np.shares_memory(a, b)
    assert _loss(new, x) < _loss(net, x)
    # the state is a pytree that save/load round-trips
    srcgrad.save(tmp_path / "ckpt.npz", (new, state))
    model2, state2 = srcgrad.load(tmp_path / "ckpt.npz", (new, state))
    u1, _ = opt.update(g, state, new)
    u2, _ = opt.update(g, state2, model2)
    np.testing.assert_array_equal(u1.W, u2.W)
    # the fused path on the Module: buffers untouched
    fused = optim.adam(learning_rate=0.1)
    fs = fused.init(net)
    W, running = net.W, net.running.copy()
    fused.step(net, g, fs)
    assert net.W is W and not np.array_equal(net.W, new.W)
    np.testing.assert_array_equal(net.running, running)


def test_clip_by_global_norm_scales_all_leaves_together(rng):
    g = {"a": np.array([3.0, 0.0]), "b": np.array([4.0]), "c": None}
    clip = optim.clip_by_global_norm(1.0)
    out, _ = clip.update(g, clip.init(g))
    assert out["c"] is None
    np.testing.assert_allclose(out["a"], g["a"] / (5 + 1e-6))
    np.testing.assert_allclose(out["b"], g["b"] / (5 + 1e-6))
    small, _ = optim.clip_by_global_norm(10.0).update(g, ())
    np.testing.assert_array_equal(small["a"], g["a"])


def test_masked_and_freeze_by_path_and_predicate(rng):
    p = {"enc": {"W": np.ones(2), "b": np.ones(2)}, "head": {"W": np.ones(2)}}
    g = {"enc": {"W": np.ones(2), "b": np.ones(2)}, "head": {"W": np.ones(2)}}
    opt = optim.chain(optim.freeze("enc"), optim.sgd(learning_rate=0.5))
    u, _ = opt.update(g, opt.init(p), p)
    new = optim.apply_updates(p, u)
    np.testing.assert_array_equal(new["enc"]["W"], 1.0)
    np.testing.assert_array_equal(new["head"]["W"], 0.5)
    decay_w = optim.masked(
        optim.add_decayed_weights(1.0), lambda path, leaf: path.endswith("W")
    )
    u, _ = decay_w.update(g, decay_w.init(p), p)
    np.testing.assert_array_equal(u["enc"]["W"], 2.0)  # g + 1.0 * p
    np.testing.assert_array_equal(u["enc"]["b"], 1.0)  # passed through
    np.testing.assert_array_equal(u["head"]["W"], 2.0)


def test_a_schedule_where_a_number_goes(rng):
    p, grads = _problem(rng)
    lr = schedules.exponential_decay(0.1, 0.5)
    got = _run(optim.sgd(learning_rate=lr, momentum=0.9), p, grads)
    b, want = None, p["b"]
    for t, g in enumerate(grads):
        b = g["b"].copy() if t == 0 else 0.9 * b + g["b"]
        want = want - 0.1 * 0.5**t * b
    np.testing.assert_allclose(got[-1]["b"], want, rtol=1e-12)


def test_float32_parameters_stay_float32(rng):
    p = {"W": rng.normal(size=(2, 2)).astype(np.float32)}
    g = {"W": rng.normal(size=(2, 2))}  # float64 gradient
    opt = optim.adam()
    u, _ = opt.update(g, opt.init(p), p)
    assert optim.apply_updates(p, u)["W"].dtype == np.float32


def test_python_float_leaves_are_trained(rng):
    p = {"a": 1.0, "w": np.ones(2)}
    g = {"a": 0.5, "w": np.ones(2)}
    opt = optim.sgd(learning_rate=0.1, momentum=0.9)
    state = opt.init(p)
    for _ in range(2):
        u, state = opt.update(g, state, p)
        p = optim.apply_updates(p, u)
    assert type(p["a"]) is float
    assert p["a"] == pytest.approx(1.0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5))


class Stack(nn.Module):
    def __init__(self, rng):
        self.blocks = [Net(rng), Net(rng)]

    def __call__(self, x):
        return self.blocks[1](self.blocks[0](x)[:, :1] @ np.ones((1, 3)))


def test_freeze_a_submodule_of_a_model_by_path(rng, tmp_path, monkeypatch):
    monkeypatch.setenv("SRCGRAD_CACHE_DIR", str(tmp_path / "cache"))
    model, x = Stack(rng), rng.normal(size=(4, 3))
    g = srcgrad.grad(_loss)(model, x)
    opt = optim.chain(optim.freeze("blocks.0"), optim.adam(learning_rate=0.1))
    updates, _ = opt.update(g, opt.init(model), model)  # adam needs no params here
    assert updates.blocks[0].W is None and updates.blocks[0].running is None
    new = optim.apply_updates(model, updates)
    np.testing.assert_array_equal(new.blocks[0].W, model.blocks[0].W)
    assert not np.shares_memory(new.blocks[0].W, model.blocks[0].W)
    assert not np.array_equal(new.blocks[1].W, model.blocks[1].W)


@pytest.mark.parametrize("name", ["adam", "adam-amsgrad", "adamw"])
def test_the_blocked_fused_step_matches_update(name, rng, monkeypatch):
    """Parameters larger than a block are stepped block by block through flat views;
    a non-contiguous gradient keeps its row whole.  Both match ``update``."""
    from srcgrad.optim import fused

    monkeypatch.setattr(fused, "BLOCK", 4)
    make, kwargs, _, _ = CASES[name]
    p = {"w": rng.normal(size=(3, 5)), "v": rng.normal(size=(4, 3)), "b": np.ones(2)}
    grads = [
        {
            "w": rng.normal(size=(3, 5)),
            "v": rng.normal(size=(3, 4)).T,  # a transposed view: not contiguous
            "b": rng.normal(size=2),
        }
        for _ in range(3)
    ]
    want = _run(make(**kwargs), p, grads)
    opt = make(**kwargs)
    model = {k: v.copy() for k, v in p.items()}
    state = opt.init(model)
    for step, g in enumerate(grads):
        state = opt.step(model, g, state)
        for k in p:
            np.testing.assert_allclose(model[k], want[step][k], rtol=1e-12, atol=1e-14)
