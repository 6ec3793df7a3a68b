"""Pre-submission edits: the catalog (``reclaim rules``) and the engine (``reclaim check``).

``check(batch, *, store, policies, history=None, select=None, ignore=None, engine='duckdb')``
returns :class:`Findings` (an Arrow table and a summary). See docs/check.md.
"""

from .engine import FINDINGS, Findings, check
from .registry import Edit, catalog, edit, resolve

__all__ = ["check", "Findings", "FINDINGS", "Edit", "catalog", "edit", "resolve"]
