"""End-to-end corpus of forward functions for srcgrad (DESIGN §10.4), as data.

Three families, each a module of functions and a module of cases (``CASES``: each case has
``.name``, ``.fn``, ``.wrt``, ``.args(dtype)``, ``.autograd_skip`` and ``.device_skip``):

* ``straight`` / ``cases``: straight-line code;
* ``control`` / ``control_cases``: control flow and containers;
* ``calls`` (with ``calls_helpers``) / ``calls_cases``: calls, subscripts and in-place writes.

``*_syntax`` compute which features each family's functions use (``syntax`` is what they
share); ``harness`` holds the oracles the tests share; ``*_unsupported`` hold constructs srcgrad
refuses. ``tests/test_corpus.py`` checks the gradients of every case,
``tests/test_corpus_coverage.py`` the coverage, ``tests/test_corpus_unsupported.py`` the refusals.
Tools outside the test suite (benchmarks, a GPU lane) can import the ``CASES`` lists directly.
"""
