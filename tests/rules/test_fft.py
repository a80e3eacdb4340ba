"""``numpy.fft`` rules on complex inputs and spectra, with odd and even ``n``.

Every gradient is checked against central differences, never against hard-coded values.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.rules._checks import _cache_dir  # noqa: F401  (an autouse fixture)
from tests.rules._checks import check_complex, crandn


@pytest.mark.parametrize(
    "prim, params",
    [
        (np.fft.fft, {}),
        (np.fft.fft, {"n": 3, "norm": "ortho"}),
        (np.fft.ifft, {"n": 7, "axis": 0}),
        (np.fft.fft2, {"s": (2, 5)}),
        (np.fft.ifft2, {"norm": "forward"}),
        (np.fft.fftn, {"axes": (0, 1)}),
        (np.fft.ifftn, {"s": (4, 3), "axes": (1, 0)}),
        (np.fft.fftshift, {}),
        (np.fft.ifftshift, {"axes": 1}),
    ],
)
def test_complex_transforms_on_complex_inputs(prim, params):
    rng = np.random.default_rng(8)
    check_complex(prim, [crandn(rng, 3, 4)], params)


@pytest.mark.parametrize("n", [None, 4, 5, 6, 7, 9, 2])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_irfft_with_odd_and_even_n_on_complex_spectra(n, norm):
    rng = np.random.default_rng(9)
    spectrum = crandn(
        rng, 2, 4
    )  # the imaginary parts of bin 0 (and n/2) are ignored: 0 cotangent
    check_complex(np.fft.irfft, [spectrum], {"n": n, "norm": norm})


@pytest.mark.parametrize("n", [None, 4, 5, 8, 3])
def test_rfft_with_odd_and_even_n(n):
    rng = np.random.default_rng(10)
    check_complex(np.fft.rfft, [rng.standard_normal((3, 5))], {"n": n})


@pytest.mark.parametrize("s", [None, (4, 5), (3, 6), (2, 3)])
def test_irfftn_and_irfft2_on_complex_spectra(s):
    rng = np.random.default_rng(11)
    spectrum = crandn(rng, 2, 3, 4)
    check_complex(
        np.fft.irfftn, [spectrum], {"s": s, "axes": None if s is None else (1, 2)}
    )
    check_complex(np.fft.irfft2, [spectrum], {"s": s})
    check_complex(
        np.fft.rfftn,
        [rng.standard_normal((2, 3, 4))],
        {"s": s, "axes": None if s is None else (0, 2)},
    )


@pytest.mark.parametrize("n", [None, 5, 6])
def test_hfft_and_ihfft(n):
    rng = np.random.default_rng(12)
    check_complex(np.fft.hfft, [crandn(rng, 3, 4)], {"n": n, "norm": "ortho"})
    check_complex(np.fft.ihfft, [rng.standard_normal((3, 6))], {"n": n})
