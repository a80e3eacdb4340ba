"""The error of bad data (a file or arrays that do not hold what they should)."""

from srcgrad.errors import SrcgradError


class DataError(SrcgradError, ValueError):
    """A dataset file or array that cannot be read as claimed: the message names the
    file or the index."""
