"""``python -m benchmarks <command>``: the benchmark commands.

- ``train [--quick] ...``: training steps W1-W7 (:mod:`benchmarks.train`);
- ``gradients [--quick] ...``: gradients of single functions (:mod:`benchmarks.run`);
- ``optim [--quick]``: optimizer step and data loader (:mod:`benchmarks.optim_data`);
- ``rnn [--quick]``: backpropagation through time of a 200-step RNN (:mod:`benchmarks.rnn_bptt`);
- ``conv [--reps N] [--no-lenet]``: generated conv2d against hand-written im2col, and a
  LeNet step against PyTorch eager (:mod:`benchmarks.conv`);
- ``gpu [--quick] [--reps N]``: generated gradients on cupy against PyTorch CUDA and JAX
  (:mod:`benchmarks.gpu`; needs a GPU);
- ``mpi [--quick] ...``: data-parallel training steps on 1 and 2 ranks under mpirun
  (:mod:`benchmarks.mpi_scaling`);
- ``hvp [--quick]``: a Hessian-vector product against two gradients (:mod:`benchmarks.hvp`);
- ``assemble``: rebuild ``benchmarks/RESULTS.md`` from ``benchmarks/results/*.md``.

Every BLAS/OpenMP pool, PyTorch and XLA are pinned to one thread before numpy is imported.
"""

from __future__ import annotations

import sys

from benchmarks.pinning import pin_thread_env

USAGE = (
    "usage: python -m benchmarks {train,gradients,optim,rnn,conv,gpu,mpi,hvp,assemble} "
    "[options]"
)
COMMANDS = (
    "train",
    "gradients",
    "optim",
    "rnn",
    "conv",
    "gpu",
    "mpi",
    "hvp",
    "assemble",
)


def main(argv: list[str]) -> int:
    commands = COMMANDS
    if not argv or argv[0] not in commands:
        print(USAGE, file=sys.stderr)
        return 2
    if "numpy" in sys.modules:
        print(
            "warning: numpy was imported before the thread variables", file=sys.stderr
        )
    pin_thread_env()
    command, rest = argv[0], argv[1:]
    if command == "train":
        from benchmarks import train

        return train.main(rest)
    if command == "gpu":
        from benchmarks import gpu

        return gpu.main(rest)
    if command == "conv":
        from benchmarks import conv

        return conv.main(rest)
    if command == "gradients":
        from benchmarks import run

        return run.main(rest)
    if command == "rnn":
        from benchmarks import rnn_bptt

        return rnn_bptt.main(rest)
    if command == "mpi":
        from benchmarks import mpi_scaling

        return mpi_scaling.main(rest)
    if command == "hvp":
        from benchmarks import hvp

        return hvp.main(rest)
    if command == "optim":
        from benchmarks import optim_data

        return optim_data.main(rest)
    from benchmarks import report

    report.assemble()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
