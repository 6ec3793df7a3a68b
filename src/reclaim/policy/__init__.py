"""Payer policies: YAML files (schema in :mod:`reclaim.policy.schema`) loaded by
:func:`load_policy` / :func:`load_policies`, materialised as small tables for the edit engine
by :func:`policy_tables`. Built in: ``medicare``, ``medicaid`` and ``commercial`` (the
payer-neutral default, :func:`default_policies`); an example payer's policy:
``examples/policies/commercial-example.yaml``."""

from .loader import builtin_policies, builtin_policy, default_policies, load_policies, load_policy, policy_tables
from .schema import Policy

__all__ = ["Policy", "load_policy", "load_policies", "builtin_policy", "builtin_policies", "default_policies", "policy_tables"]
