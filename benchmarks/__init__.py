"""srcgrad's benchmark suite (DESIGN §11, issue 6).

- :mod:`benchmarks.models`: the benchmark models as a srcgrad user writes them (plain numpy),
  plus the same models for HIPS autograd, PyTorch and JAX.
- :mod:`benchmarks.baselines`: hand-written numpy forward and backward passes, the reference
  every ratio is taken against.
- :mod:`benchmarks.run`: the gradient runner (``python -m benchmarks gradients``, or
  ``python -m benchmarks.run``), which writes ``results/cpu_gradients.md``.
- :mod:`benchmarks.train`: the training-step harness (``python -m benchmarks train``, issue
  18) over the workloads of :mod:`benchmarks.train_models` (W1-W7, plain numpy), their
  hand-written backward passes (:mod:`benchmarks.train_hand`) and the step of every
  implementation (:mod:`benchmarks.train_impls`); writes ``results/cpu_training.md``
  (:mod:`benchmarks.train_report`) and the scaling figure ``results/scaling.png``.
- :mod:`benchmarks.report`: assembles ``benchmarks/RESULTS.md`` from the section files in
  ``benchmarks/results/`` (CPU training, CPU gradients, GPU, multi-process), so that no run
  erases another machine's section.

This package imports nothing heavy at import time, so that the runner can pin the BLAS thread
count before numpy is first imported.
"""
