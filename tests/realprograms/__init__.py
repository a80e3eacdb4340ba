"""A held-out suite of "real programs": numpy models written the way people publish them.

Each module holds one family of programs (networks, recurrent models, generative models,
Gaussian processes, inference, simulations, numerics).  They are ordinary numpy code, written
without srcgrad in mind: parameters as lists of ``(W, b)`` tuples or dicts, helper functions,
nested functions, loops over time, list comprehensions, factories returning closures.  The
registry of programs with their inputs is ``cases.py``; ``tests/test_real_programs.py`` runs them.
"""
