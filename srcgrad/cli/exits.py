"""What a subcommand's exit code says, and the two exceptions that choose one.

Black's conventions: 0 clean, 1 findings, 2 usage, 123 internal error.
"""

from __future__ import annotations

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 123


class UsageError(Exception):
    """Bad command-line input: exit code 2."""


class LoadError(Exception):
    """A user module that cannot be imported: exit code 123 (black's "cannot parse")."""
