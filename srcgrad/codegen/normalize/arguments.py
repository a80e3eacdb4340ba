"""Arguments of calls: lowering them, binding them to a rule's or a function's signature,
tuples and lists passed where numpy takes an array (stacked), and ``dtype=`` arguments.
"""

from __future__ import annotations

import inspect

from srcgrad.rules.registry import Rule


def _rule_signature(rule: Rule) -> inspect.Signature:
    sig = inspect.signature(rule.adjoint)
    return sig.replace(parameters=list(sig.parameters.values())[2:])
