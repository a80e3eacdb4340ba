"""End-to-end corpus of forward functions for srcgrad (DESIGN §10.4).

``straight`` holds straight-line forward functions; ``cases`` holds their inputs and ``wrt``
specs. ``tests/test_corpus.py`` checks srcgrad's gradients of them against finite differences
and HIPS autograd; ``tests/test_corpus_coverage.py`` counts the language items they exercise.
"""
