"""The registry of real programs: each entry names a function, builds its inputs, says what to
differentiate.  Inputs come from ``np.random.RandomState`` outside the differentiated function,
as training scripts draw their data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from . import (
    generative,
    gp,
    idioms,
    inference,
    models,
    nets,
    numerics,
    physics,
    recurrent,
    rewritten,
    scripts,
    styles,
)
from .common import init_layers


@dataclass(frozen=True)
class Program:
    """One real program: ``fn(*make_args())`` is a float; ``wrt`` the arguments differentiated.

    ``module`` and ``qualname`` locate ``fn`` again in a copy of the module that runs on
    autograd's numpy (the oracle); ``build`` rebuilds ``fn`` from such a module when the
    function is made by a factory.  ``must_work`` marks a program written the way an earlier
    refusal's hint asked: refusing it again means the hint does not work.  ``marks`` are pytest
    marks (``slow``).
    """

    name: str
    fn: Callable[..., Any]
    make_args: Callable[[], tuple]
    wrt: int | tuple[int, ...] = 0
    build: Callable[[Any], Callable[..., Any]] | None = None
    must_work: bool = False
    marks: tuple = field(default=())


def _rs(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed)


def _one_hot(rs: np.random.RandomState, shape: tuple[int, ...], k: int) -> np.ndarray:
    labels = rs.randint(0, k, size=shape)
    return (labels[..., None] == np.arange(k)).astype(float)


# ---------------------------------------------------------------- inputs


def _mlp_args(sizes=(4, 6, 5, 3), n=7, seed=0):
    rs = _rs(seed)
    params = init_layers(rs, list(sizes))
    x = rs.randn(n, sizes[0])
    t = _one_hot(rs, (n,), sizes[-1])
    return params, x, t


def _regression_args(sizes=(3, 5, 2), n=6, seed=1):
    rs = _rs(seed)
    return init_layers(rs, list(sizes)), rs.randn(n, sizes[0]), rs.randn(n, sizes[-1])


def _dict_mlp_args(seed=2):
    rs = _rs(seed)
    params = {
        "W1": 0.5 * rs.randn(3, 4),
        "b1": 0.1 * rs.randn(4),
        "W2": 0.5 * rs.randn(4, 1),
        "b2": 0.1 * rs.randn(1),
    }
    return params, rs.randn(6, 3), rs.randn(6)


def _logistic_args(seed=3):
    rs = _rs(seed)
    X = rs.randn(8, 3)
    return rs.randn(3) * 0.5, X, (rs.rand(8) > 0.5).astype(float)


def _softmax_args(seed=4):
    rs = _rs(seed)
    return rs.randn(4, 3) * 0.3, rs.randn(3) * 0.1, rs.randn(9, 4), rs.randint(0, 3, size=9)


def _batchnorm_args(seed=5):
    rs = _rs(seed)
    hidden = [
        (0.5 * rs.randn(m, n), 0.1 * rs.randn(n), 1.0 + 0.1 * rs.randn(n), 0.1 * rs.randn(n))
        for m, n in [(3, 5), (5, 4)]
    ]
    params = {"hidden": hidden, "out": (0.5 * rs.randn(4, 2), 0.1 * rs.randn(2))}
    return params, rs.randn(8, 3), rs.randn(8, 2)


def _rnn_params(rs, n_in, n_state, n_out, names):
    params = {"init hiddens": 0.1 * rs.randn(1, n_state)}
    for name in names:
        params[name] = 0.3 * rs.randn(n_in + n_state + 1, n_state)
    params["predict"] = 0.3 * rs.randn(n_state + 1, n_out)
    return params


def _char_rnn_args(seed=6, T=4, N=2, A=5, S=3):
    rs = _rs(seed)
    params = _rnn_params(rs, A, S, A, ["change"])
    seqs = _one_hot(rs, (T, N), A)
    return params, seqs, seqs


def _lstm_args(seed=7, T=4, N=2, A=4, S=3):
    rs = _rs(seed)
    params = _rnn_params(rs, A, S, A, ["change", "forget", "ingate", "outgate"])
    params["init cells"] = 0.1 * rs.randn(1, S)
    seqs = _one_hot(rs, (T, N), A)
    return params, seqs, seqs


def _elman_args(seed=8, T=4, V=4, H=3):
    rs = _rs(seed)
    xs = _one_hot(rs, (T,), V)
    return (
        0.4 * rs.randn(H, V),
        0.4 * rs.randn(H, H),
        0.4 * rs.randn(V, H),
        0.1 * rs.randn(H),
        0.1 * rs.randn(V),
        xs,
        rs.randint(0, V, size=T),
    )


def _gru_args(seed=9, T=4, N=2, D=3, H=3):
    rs = _rs(seed)
    params = []
    for _ in range(3):
        params += [0.4 * rs.randn(D, H), 0.4 * rs.randn(H, H), 0.1 * rs.randn(H)]
    return tuple(params), 0.5 * rs.randn(H, 2), rs.randn(T, N, D), rs.randn(2)


def _vae_args(seed=10, D=5, Z=2, N=4):
    rs = _rs(seed)
    gen = init_layers(rs, [Z, 4, D])
    rec = init_layers(rs, [D, 4, 2 * Z])
    data = (rs.rand(N, D) > 0.5).astype(float)
    return gen, rec, data, rs.randn(N, Z)


def _vae_kl_args(seed=11, D=5, Z=2, N=4):
    rs = _rs(seed)
    enc = init_layers(rs, [D, 4, 2 * Z])
    dec = init_layers(rs, [Z, 4, D])
    data = (rs.rand(N, D) > 0.5).astype(float)
    return (enc, dec), data, rs.randn(N, Z)


def _gan_args(seed=12, noise_dim=2, D=4, N=5):
    rs = _rs(seed)
    gen = init_layers(rs, [noise_dim, 4, 4, D])
    dsc = init_layers(rs, [D, 4, 3, 1])
    return gen, dsc, rs.rand(N, D), rs.rand(N, noise_dim)


def _gan_gen_args(seed=13, noise_dim=2, D=3, N=5):
    rs = _rs(seed)
    return (
        init_layers(rs, [noise_dim, 4, 4, D]),
        init_layers(rs, [D, 4, 3, 1]),
        rs.randn(N, noise_dim),
    )


def _gp_args(seed=14, n=6, d=2):
    rs = _rs(seed)
    params = np.concatenate([[0.1, 0.2, -1.0], 0.1 * rs.randn(d)])
    X = rs.randn(n, d)
    return params, X, np.sin(X[:, 0]) + 0.1 * rs.randn(n)


def _gplvm_args(seed=15, n=5, q=2, d=3):
    rs = _rs(seed)
    return rs.randn(n, q), np.array([0.1, 0.2, -0.1, -1.0]), rs.randn(n, d)


def _bbvi_args(seed=16, S=5):
    rs = _rs(seed)
    return np.array([0.3, -0.2, -0.5, -0.1]), rs.randn(S, 2)


def _bnn_args(seed=17, sizes=(2, 4, 1), n=6):
    rs = _rs(seed)
    shapes = list(zip(sizes[:-1], sizes[1:]))
    n_weights = sum((m + 1) * k for m, k in shapes)
    return rs.randn(n_weights) * 0.5, shapes, rs.randn(n, sizes[0]), rs.randn(n, sizes[-1])


def _gmm_args(seed=18, K=2, D=2, N=6):
    rs = _rs(seed)
    params = {
        "log proportions": 0.1 * rs.randn(K),
        "means": rs.randn(K, D),
        "lower triangles": np.eye(D)[None] + 0.2 * rs.randn(K, D, D),
    }
    return params, rs.randn(N, D)


def _gmm_diag_args(seed=19, K=3, D=2, N=6):
    rs = _rs(seed)
    return 0.1 * rs.randn(K), rs.randn(K, D), 0.2 * rs.randn(K, D), rs.randn(N, D)


def _hmm_args(seed=20, K=3, T=5):
    rs = _rs(seed)
    return 0.3 * rs.randn(K), 0.5 * rs.randn(K, K), rs.randn(K), rs.randn(T)


def _hmm_table_args(seed=21, K=2, V=3, T=4):
    rs = _rs(seed)
    log_pi = np.log(rs.dirichlet(np.ones(K)))
    log_A = np.log(rs.dirichlet(np.ones(K), size=K))
    log_B = np.log(rs.dirichlet(np.ones(V), size=K))
    return log_pi, log_A, log_B, list(rs.randint(0, V, size=T))


def _diffusion_args(seed=22, n=5):
    rs = _rs(seed)
    return rs.rand(n, n), 0.3, rs.rand(n, n)


def _heat_args(seed=23, n=7):
    rs = _rs(seed)
    return 0.1 * rs.randn(n), rs.rand(n), rs.rand(n)


def _smoke_args(seed=24, n=4):
    rs = _rs(seed)
    return 0.3 * rs.randn(2 * n * n), rs.rand(n, n), rs.rand(n, n)


def _euler_args(seed=25, T=6):
    rs = _rs(seed)
    return np.array([1.0, 0.4, 0.3, 0.8]), np.array([1.0, 0.5]), 1.0 + 0.1 * rs.randn(T, 2)


def _rk4_args(seed=26, T=6):
    rs = _rs(seed)
    ts = np.linspace(0.0, 1.0, T)
    return np.array([2.0, 0.1]), np.array([1.0, 0.0]), ts, np.cos(2 * ts) + 0.05 * rs.randn(T)


def _node_args(seed=27, B=3, D=2, T=3):
    rs = _rs(seed)
    return init_layers(rs, [D, 4, D]), rs.randn(B, D), rs.randn(T, B, D)


def _convnet_args(seed=28, n_img=2, size=5, n_k=2, ks=2):
    rs = _rs(seed)
    kernels = [0.5 * rs.randn(ks, ks) for _ in range(n_k)]
    n_feat = n_k * (size - ks + 1) ** 2
    return kernels, 0.2 * rs.randn(n_feat), rs.randn(n_img, size, size), rs.randn(n_img)


def _attention_args(seed=29, T=4, D=4):
    rs = _rs(seed)
    params = {
        "Wq": 0.5 * rs.randn(D, D),
        "Wk": 0.5 * rs.randn(D, D),
        "Wv": 0.5 * rs.randn(D, D),
        "gain": 1.0 + 0.1 * rs.randn(D),
        "bias": 0.1 * rs.randn(D),
    }
    return params, rs.randn(T, D)


def _mha_args(seed=30, T=3, D=4):
    rs = _rs(seed)
    return 0.4 * rs.randn(D, 3 * D), 0.4 * rs.randn(D, D), rs.randn(T, D)


def _poly_args(seed=31):
    rs = _rs(seed)
    x = rs.uniform(-1, 1, 10)
    return 0.1 * rs.randn(4), x, np.sin(3 * x)


def _lsq_args(seed=32):
    rs = _rs(seed)
    return rs.randn(7, 3), rs.randn(7)


def _make_bbvi(module: Any) -> Callable[..., Any]:
    eps = _rs(16).randn(5, 2)
    return module.make_bbvi_objective(module.banana_log_density, 2, eps)


def _make_nn_logprob(module: Any) -> Callable[..., Any]:
    return module.make_nn_funs([2, 4, 1])[2]


def _nn_funs_args(seed=37):
    rs = _rs(seed)
    return rs.randn(17) * 0.5, rs.randn(6, 2), rs.randn(6, 1)


def _regressor_loss(module: Any) -> Callable[..., Any]:
    return module.Regressor(l2=0.01).loss


def _dropout_args(seed=38):
    rs = _rs(seed)
    return init_layers(rs, [3, 5, 2]), rs.randn(6, 3), rs.randn(6, 2), np.random.RandomState(7)


def _vae_rng_args(seed=41):
    rs = _rs(seed)
    params = {
        "enc": 0.5 * rs.randn(4, 3),
        "mu": 0.5 * rs.randn(3, 2),
        "log_var": 0.3 * rs.randn(3, 2),
        "dec": 0.5 * rs.randn(2, 4),
    }
    return params, rs.randn(5, 4), np.random.default_rng(42)


def _minibatch_rs_args(seed=43):
    rs = _rs(seed)
    return rs.randn(3), rs.randn(10, 3), rs.randn(10), np.random.RandomState(44)


def _autoencoder_args(seed=39):
    rs = _rs(seed)
    return {"encoder": init_layers(rs, [4, 3, 2]), "decoder": init_layers(rs, [2, 3, 4])}, rs.randn(
        5, 4
    )


def _mf_args(seed=40, n_users=4, n_items=5, k=2, n=12):
    rs = _rs(seed)
    return (
        0.5 * rs.randn(n_users, k),
        0.5 * rs.randn(n_items, k),
        rs.randint(0, n_users, n),
        rs.randint(0, n_items, n),
        rs.randn(n),
    )


def _skipgram_args(seed=41, V=6, d=3, n=5, k=2):
    rs = _rs(seed)
    return (
        0.3 * rs.randn(V, d),
        0.3 * rs.randn(V, d),
        rs.randint(0, V, n),
        rs.randint(0, V, n),
        rs.randint(0, V, (n, k)),
    )


def _cox_args(seed=42, n=8, d=3):
    rs = _rs(seed)
    return 0.3 * rs.randn(d), rs.randn(n, d), (rs.rand(n) > 0.3).astype(float)


def _kalman_args(seed=43, T=6):
    rs = _rs(seed)
    return -1.0, -0.5, 0.9, list(np.cumsum(rs.randn(T)))


def _tsne_args(seed=44, n=5):
    rs = _rs(seed)
    P = rs.rand(n, n)
    P = P + P.T
    np.fill_diagonal(P, 0.0)
    return rs.randn(n, 2), P / P.sum()


def _sinkhorn_args(seed=45, n=4, m=3):
    rs = _rs(seed)
    a = rs.rand(n)
    b = rs.rand(m)
    return 1.0, a / a.sum(), b / b.sum(), rs.rand(n, m)


def _maxpool_args(seed=46, n=3, size=5):
    rs = _rs(seed)
    return 0.5 * rs.randn(2, 2), 0.3 * rs.randn(4), rs.randn(n, size, size), np.sign(rs.randn(n))


def _ridge_args(seed=47):
    rs = _rs(seed)
    X, Xv = rs.randn(8, 3), rs.randn(5, 3)
    w = rs.randn(3)
    return -1.0, X, X @ w + 0.3 * rs.randn(8), Xv, Xv @ w


def _make_nn_hinted(module: Any) -> Callable[..., Any]:
    return module.make_nn_funs_hinted([2, 4, 1])[2]


def _rs_args(seed, *shapes):
    rs = _rs(seed)
    return tuple(rs.randn(*s) for s in shapes)


PROGRAMS: list[Program] = [
    # networks
    Program("mlp_log_posterior", nets.mlp_log_posterior, _mlp_args),
    Program("mlp_hidden_slice", nets.mlp_hidden_slice, _mlp_args),
    Program("mlp_indexed_layers", nets.mlp_indexed_layers, _regression_args),
    Program("dict_mlp_loss", nets.dict_mlp_loss, _dict_mlp_args),
    Program("dict_mlp_layer_keys", nets.dict_mlp_layer_keys, _dict_mlp_args),
    Program("logistic_nll", nets.logistic_nll, _logistic_args),
    Program("softmax_classifier", nets.softmax_classifier, _softmax_args, wrt=(0, 1)),
    Program("batchnorm_net", nets.batchnorm_net, _batchnorm_args),
    # recurrent
    Program("char_rnn", recurrent.char_rnn_log_likelihood, _char_rnn_args),
    Program("elman_rnn", recurrent.elman_rnn_loss, _elman_args, wrt=(0, 1, 2, 3, 4)),
    Program("lstm", recurrent.lstm_log_likelihood, _lstm_args),
    Program("gru", recurrent.gru_sequence_loss, _gru_args, wrt=(0, 1)),
    # generative
    Program("vae_elbo", generative.vae_lower_bound, _vae_args, wrt=(0, 1)),
    Program("vae_analytic_kl", generative.vae_analytic_kl, _vae_kl_args),
    Program("gan_objective", generative.gan_objective, _gan_args, wrt=(0, 1)),
    Program("gan_generator", generative.gan_generator_loss, _gan_gen_args, wrt=(0, 1)),
    # Gaussian processes
    Program("gp_cholesky", gp.gp_neg_log_marginal, _gp_args),
    Program("gp_slogdet", gp.gp_nll_slogdet, _gp_args),
    Program("gp_scipy_cho_solve", gp.gp_nll_scipy, _gp_args),
    Program("gplvm", gp.gplvm_objective, _gplvm_args, wrt=(0, 1)),
    # inference
    Program("bbvi", inference.bbvi_objective, _bbvi_args),
    Program(
        "bbvi_factory",
        _make_bbvi(inference),
        lambda: (np.array([0.3, -0.2, -0.5, -0.1]),),
        build=_make_bbvi,
    ),
    Program("bnn_generator_unpack", inference.bnn_log_posterior, _bnn_args),
    Program("bnn_list_unpack", inference.bnn_log_posterior_list, _bnn_args),
    Program("gmm_full_cov", inference.gmm_log_likelihood, _gmm_args),
    Program("gmm_diag", inference.gmm_diag_loglik, _gmm_diag_args, wrt=(0, 1, 2)),
    Program("hmm_forward", inference.hmm_log_likelihood, _hmm_args, wrt=(0, 1, 2)),
    Program("hmm_forward_table", inference.hmm_forward_table, _hmm_table_args, wrt=(0, 1, 2)),
    # simulations
    Program("diffusion_roll", physics.diffusion_loss, _diffusion_args, wrt=(0, 1)),
    Program("heat_rod_slices", physics.heat_rod_loss, _heat_args, wrt=(0, 1)),
    Program("fluid_smoke", physics.smoke_objective, _smoke_args),
    Program("ode_euler", physics.euler_fit_loss, _euler_args, wrt=(0, 1)),
    Program("ode_rk4", physics.rk4_fit_loss, _rk4_args, wrt=(0, 1)),
    Program("neural_ode", physics.neural_ode_loss, _node_args, wrt=(0, 1)),
    # numerics
    Program("taylor_sine_while", numerics.taylor_sine, lambda: (0.7,)),
    Program("taylor_exp_factorial", numerics.taylor_exp_sum, lambda: _rs_args(33, (5,))),
    Program("convnet_loops", numerics.convnet_loss, _convnet_args, wrt=(0, 1)),
    Program(
        "conv1d_inplace", numerics.conv1d_inplace, lambda: _rs_args(34, (8,), (3,)), wrt=(0, 1)
    ),
    Program("attention", numerics.attention_block, _attention_args, wrt=(0, 1)),
    Program("multi_head_attention", numerics.multi_head_attention, _mha_args, wrt=(0, 1, 2)),
    Program("poly_regression", numerics.poly_regression_loss, _poly_args),
    Program("least_squares_normal_eq", numerics.least_squares_residual, _lsq_args, wrt=(0, 1)),
    Program("rosenbrock", numerics.rosenbrock, lambda: _rs_args(35, (5,))),
    Program(
        "huber_regression", numerics.huber_regression, lambda: _rs_args(36, (3,), (8, 3), (8,))
    ),
    # the hints of the refusals above, followed
    Program("vae_elbo_hinted", rewritten.vae_lower_bound_hinted, _vae_args, wrt=(0, 1)),
    Program("gan_objective_hinted", rewritten.gan_objective_hinted, _gan_args, wrt=(0, 1)),
    Program("char_rnn_explicit", rewritten.char_rnn_log_likelihood_explicit, _char_rnn_args),
    Program("lstm_explicit", rewritten.lstm_log_likelihood_explicit, _lstm_args),
    Program("elman_rnn_seeded", rewritten.elman_rnn_loss_seeded, _elman_args, wrt=(0, 1, 2, 3, 4)),
    Program("bnn_list_unpacked", rewritten.bnn_log_posterior_unpacked, _bnn_args),
    Program(
        "hmm_forward_table_array",
        rewritten.hmm_forward_table_array,
        lambda: _hmm_table_args()[:3] + (np.array(_hmm_table_args()[3]),),
        wrt=(0, 1, 2),
    ),
    Program("neural_ode_hinted", rewritten.neural_ode_loss_hinted, _node_args, wrt=(0, 1)),
    Program("fluid_smoke_named", rewritten.smoke_objective_named, _smoke_args),
    # program structure
    Program(
        "nn_funs_factory",
        _make_nn_logprob(styles),
        _nn_funs_args,
        build=_make_nn_logprob,
    ),
    Program(
        "regressor_method",
        _regressor_loss(styles),
        _dict_mlp_args,
        build=_regressor_loss,
    ),
    Program("activation_table", styles.configurable_net, _regression_args),
    Program("dropout_rs_argument", styles.dropout_net, _dropout_args),
    Program("vae_rng_argument", styles.vae_sampled_objective, _vae_rng_args),
    Program("minibatch_rs_argument", styles.minibatch_loss, _minibatch_rs_args),
    Program("weight_decay_sum_listcomp", styles.weight_decay_loss, _regression_args),
    Program("autoencoder_named_parts", styles.autoencoder_named_parts, _autoencoder_args),
    Program(
        "nn_funs_factory_hinted", _make_nn_hinted(rewritten), _nn_funs_args, build=_make_nn_hinted
    ),
    # more models
    Program("matrix_factorization", models.matrix_factorization_loss, _mf_args, wrt=(0, 1)),
    Program("skipgram_negative", models.skipgram_negative_sampling, _skipgram_args, wrt=(0, 1)),
    Program("cox_partial_lik", models.cox_partial_likelihood, _cox_args),
    Program("kalman_filter", models.kalman_log_likelihood, _kalman_args, wrt=(0, 1, 2)),
    Program("tsne_kl", models.tsne_kl, _tsne_args),
    Program("sinkhorn", models.sinkhorn_cost, _sinkhorn_args, wrt=(0, 1)),
    Program("maxpool_cnn", models.maxpool_cnn, _maxpool_args, wrt=(0, 1)),
    Program(
        "negative_binomial",
        models.negative_binomial_nll,
        lambda: (np.array([0.5, 0.2]), np.array([0.0, 3.0, 1.0, 7.0, 2.0])),
    ),
    Program(
        "ica",
        models.ica_log_likelihood,
        lambda: (np.eye(3) + 0.3 * _rs(48).randn(3, 3), _rs(49).randn(10, 3)),
    ),
    Program(
        "rbm_free_energy",
        models.rbm_free_energy,
        lambda: _rs_args(50, (4, 3), (4,), (3,), (5, 4)),
        wrt=(0, 1, 2),
    ),
    Program(
        "poisson_glm",
        models.poisson_glm,
        lambda: (
            0.2 * _rs(51).randn(3),
            _rs(52).randn(9, 3),
            _rs(53).poisson(2.0, 9).astype(float),
            np.log(_rs(54).rand(9) + 0.5),
        ),
    ),
    Program("fixed_point_while", models.fixed_point_sqrt, lambda: (2.0,)),
    Program("ridge_validation", models.ridge_closed_form, _ridge_args),
    # script style: globals read by the objective, shadowed by helper parameters
    Program(
        "script_globals", scripts.objective, lambda: (0.5 * _rs(55).randn(scripts.num_weights),)
    ),
    Program("script_shadowed_param", scripts.objective_shadowed_scale, lambda: _rs_args(56, (3,))),
    Program("script_local_first", scripts.objective_local_first, lambda: _rs_args(57, (3,))),
]


def _hmm_lr_args(seed=60, K=3, T=5):
    rs = _rs(seed)
    A = np.triu(rs.rand(K, K))
    A = A / A.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        log_A = np.log(A)
    return rs.randn(K), log_A, rs.randn(T)


def _bag_args(seed=61):
    rs = _rs(seed)
    ids = np.array([0, 2, 2, 1, 3, 0, 2])
    return (
        0.5 * rs.randn(4, 3),
        0.5 * rs.randn(3),
        ids,
        np.array([0, 3, 5]),
        np.array([1.0, -1.0, 1.0]),
    )


def _gd_args(seed=62):
    rs = _rs(seed)
    X = rs.randn(10, 3)
    return rs.randn(3), X, X @ rs.randn(3)


def _tree_args(seed=63, d=3):
    rs = _rs(seed)
    tree = ((0, 1), (2, (1, 3)))
    return 0.5 * rs.randn(d, 2 * d), rs.randn(4, d), tree, rs.randn(d)


def _flat_args(seed=64):
    rs = _rs(seed)
    shapes = [(2, 3), (3, 1)]
    return 0.5 * rs.randn(13), shapes, rs.randn(5, 2), rs.randn(5, 1)


#: Programs written as an earlier refusal's hint asked: a refusal of one of these is a finding.
HINT_FOLLOWED = {
    "vae_elbo_hinted",
    "gan_objective_hinted",
    "char_rnn_explicit",
    "lstm_explicit",
    "elman_rnn_seeded",
    "bnn_list_unpacked",
    "hmm_forward_table_array",
    "neural_ode_hinted",
    "fluid_smoke_named",
    "nn_funs_factory_hinted",
    "inline_listcomp_stacked",
    "mlp_enumerate_hinted",
}
PROGRAMS += [
    Program(
        "masked_attention_inf",
        idioms.masked_attention,
        lambda: _rs_args(65, (3, 3), (3, 3), (4, 3)),
        wrt=(0, 1, 2),
    ),
    Program("hmm_structural_zeros", idioms.left_to_right_hmm, _hmm_lr_args),
    Program("embedding_bag_scatter", idioms.embedding_bag, _bag_args, wrt=(0, 1)),
    Program("unrolled_gd_early_stop", idioms.gradient_descent_unrolled, _gd_args),
    Program("tree_rnn_recursion", idioms.tree_rnn_loss, _tree_args, wrt=(0, 1)),
    Program("flat_vector_unflatten", idioms.flat_vector_objective, _flat_args),
    Program(
        "inline_list_mean",
        idioms.multi_task_loss,
        lambda: _rs_args(66, (3, 2), (6, 3), (6,), (6,)),
    ),
    Program(
        "inline_listcomp_sum",
        idioms.column_penalty,
        lambda: _rs_args(66, (3, 2), (6, 3), (6,), (6,)),
    ),
    Program(
        "inline_listcomp_stacked",
        rewritten.column_penalty_stacked,
        lambda: _rs_args(66, (3, 2), (6, 3), (6,), (6,)),
    ),
    Program(
        "clipped_cross_entropy",
        idioms.clipped_cross_entropy,
        lambda: (
            np.array([2.0, -1.5, 0.5]),
            _rs(67).randn(8, 3) * 3,
            (_rs(68).rand(8) > 0.5).astype(float),
        ),
    ),
    Program("trimmed_sort_loss", idioms.trimmed_loss, lambda: _rs_args(69, (3,), (8, 3), (8,))),
    Program("column_writes_norm", idioms.column_updates, lambda: _rs_args(70, (3, 4), (5, 3))),
    Program("growing_concatenate", idioms.growing_trajectory, lambda: (1.5, np.array([1.0, 0.2]))),
    Program(
        "gaussian_conditioning_inv",
        idioms.gaussian_conditioning,
        lambda: (0.1,) + _rs_args(71, (5, 2), (5,), (3, 2)),
    ),
]
PROGRAMS += [
    Program("mlp_enumerate", idioms.mlp_enumerate, _regression_args),
    Program("mlp_enumerate_hinted", rewritten.mlp_enumerate_unpacked, _regression_args),
    Program(
        "gp_flat_jitter",
        idioms.gp_flat_jitter,
        lambda: (np.array([0.1, 0.2, -1.0]),) + _rs_args(72, (5, 2), (5,)),
    ),
    Program(
        "transpose_view_fill",
        idioms.vandermonde_by_columns,
        lambda: (np.array([0.5, -0.3, 0.2]),) + _rs_args(73, (4,), (4,)),
    ),
]
PROGRAMS += [
    Program(
        "svm_hinge_item",
        idioms.svm_hinge_item,
        lambda: _rs_args(74, (3,), (8, 3)) + (np.sign(_rs(75).randn(8)),),
    ),
]
PROGRAMS += [
    Program(
        "rnn_states_list_concat",
        idioms.rnn_states_concat,
        lambda: (0.5 * _rs(76).randn(3, 3),) + _rs_args(77, (3, 2), (4, 2)),
        wrt=(0, 1),
    ),
]
PROGRAMS += [
    Program(
        "unrolled_sgd_tuple",
        idioms.unrolled_sgd,
        lambda: ((_rs(78).randn(2, 1), _rs(79).randn(1)),) + _rs_args(80, (5, 2), (5, 1)),
    ),
    Program(
        "lstm_state_tuple_arg",
        idioms.lstm_state_tuple,
        lambda: (
            0.4 * _rs(81).randn(2, 12),
            0.4 * _rs(82).randn(3, 12),
            (0.1 * _rs(83).randn(1, 3), 0.1 * _rs(84).randn(1, 3)),
            _rs(85).randn(4, 1, 2),
        ),
        wrt=(0, 1, 2),
    ),
]
PROGRAMS = [replace(p, must_work=p.name in HINT_FOLLOWED) for p in PROGRAMS]
