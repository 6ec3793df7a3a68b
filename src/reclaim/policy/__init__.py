"""Payer policies: YAML files (schema in :mod:`reclaim.policy.schema`) loaded by
:func:`load_policy` / :func:`load_policies`, materialised as small tables for the edit engine
by :func:`policy_tables`. Shipped policies: ``medicare`` and ``medicaid`` (built in), and
``examples/policies/commercial-example.yaml``."""

from .loader import builtin_policies, builtin_policy, load_policies, load_policy, policy_tables
from .schema import Policy

__all__ = ["Policy", "load_policy", "load_policies", "builtin_policy", "builtin_policies", "policy_tables"]
