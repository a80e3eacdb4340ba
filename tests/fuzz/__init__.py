"""The differential fuzzer: random programs over the whole language, against finite differences.

``gen.programs()`` is a hypothesis strategy of small, valid, differentiable numpy programs (a
module with globals, helpers, custom rules and a function ``f``); ``oracle.judge`` runs one and
says whether srcgrad was right (value identical to Python, gradient equal to central differences,
to the generic code and to the device-namespace run), refused it with a SrcgradError at the
program's own line, or failed (a wrong number, another exception, a hang).

``python -m tests.fuzz --minutes N --seed S`` is the long run; failures are shrunk by hypothesis
and saved under ``tests/fuzz/regressions/``, which ``tests/test_fuzz.py`` replays.
"""
