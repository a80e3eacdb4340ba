"""Held-out suites: programs and call forms written from outside the team's own corpus.

Each suite's rule is the same: srcgrad gives the right value and gradient, or a SrcgradError at
the user's line.  A wrong number or any other exception fails.
"""
