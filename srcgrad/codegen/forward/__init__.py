"""Forward mode: the tangent module of a function (``jvp_<f>``), from the same front end as
the reverse modules (read, check, normalize, copies, closed forms, activity) and one stage of
its own, :mod:`srcgrad.codegen.forward.tangents`, which writes each statement followed by
its tangent ``t_<name>``."""

from srcgrad.codegen.forward.pipeline import generate_forward

__all__ = ["generate_forward"]
