"""srcgrad's benchmark suite (DESIGN §11, issue 6).

- :mod:`benchmarks.models`: the benchmark models as a srcgrad user writes them (plain numpy),
  plus the same models for HIPS autograd, PyTorch and JAX.
- :mod:`benchmarks.baselines`: hand-written numpy forward and backward passes, the reference
  every ratio is taken against.
- :mod:`benchmarks.run`: the runner (``python -m benchmarks.run``), which writes
  ``benchmarks/RESULTS.md``.

This package imports nothing heavy at import time, so that the runner can pin the BLAS thread
count before numpy is first imported.
"""
