"""Designing an FIR equaliser and a tiny 1-D CNN denoiser on audio-like signals: the
channel applied with `np.convolve(x, h, mode="full")[:len(x)]`, the equaliser taps with
`np.convolve(..., mode="same")`, a matched-filter score with `np.correlate(y, pilot,
mode="valid")`, a conv layer written with
`np.lib.stride_tricks.sliding_window_view(np.pad(x, pad), k) @ w`, a Hann window from
`np.hanning`, and a loss that adds the magnitude response `np.abs(np.fft.rfft(taps, n))`."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import srcgrad


def channel(x, h):
    return np.convolve(x, h, mode="full")[: len(x)]


def conv_layer(x, w, b):
    k = w.shape[0]
    pad = k // 2
    windows = sliding_window_view(np.pad(x, (pad, k - 1 - pad)), k)
    return windows @ w + b


def denoiser(params, y):
    h = np.maximum(conv_layer(y, params["w1"], params["b1"]), 0.0)
    return conv_layer(h, params["w2"], params["b2"])


def equaliser_loss(taps, params, clean, h_channel, pilot, n_fft=32):
    window = np.hanning(len(taps) + 2)[1:-1]
    received = channel(clean, h_channel)
    equalised = np.convolve(received, taps * window, mode="same")
    restored = denoiser(params, equalised)
    mse = np.mean((restored - clean) ** 2)
    score = np.correlate(restored, pilot, mode="valid")
    sync = -np.max(score) / (np.linalg.norm(pilot) * np.linalg.norm(restored) + 1e-9)
    response = np.abs(np.fft.rfft(taps * window, n_fft))
    flatness = np.var(np.log(response + 1e-3))
    return mse + 0.1 * sync + 0.01 * flatness


def make_inputs(seed):
    rs = np.random.RandomState(seed)
    n = 48
    t = np.arange(n)
    pilot = np.sign(np.sin(0.9 * np.arange(8)))
    clean = np.sin(0.3 * t) + 0.5 * np.sin(0.71 * t)
    clean[10:18] += pilot
    taps = np.zeros(7)
    taps[3] = 1.0
    params = {"w1": 0.3 * rs.randn(5), "b1": 0.1, "w2": 0.3 * rs.randn(5), "b2": 0.0}
    return taps + 0.05 * rs.randn(7), params, clean, np.array([1.0, 0.45, -0.2]), pilot


if __name__ == "__main__":
    taps, params, clean, h_channel, pilot = make_inputs(0)
    g_taps, g_params = srcgrad.grad(equaliser_loss, wrt=(0, 1))(taps, params, clean, h_channel, pilot)
