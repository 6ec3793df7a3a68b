"""Pre-submission edits: the catalog (``reclaim rules``) and the engine (``reclaim check``).

``check(batch, *, store, policies, history=None, select=None, ignore=None, engine='duckdb')``
returns :class:`Findings` (an Arrow table and a summary); ``check_files(paths, *, store, ...,
history=paths)`` does the same over files, streamed into the engine. See docs/check.md.
"""

from .engine import FINDINGS, Findings, check, check_files
from .registry import Edit, catalog, edit, resolve

__all__ = ["FINDINGS", "Edit", "Findings", "catalog", "check", "check_files", "edit", "resolve"]
