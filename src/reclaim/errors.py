"""Errors reclaim raises on purpose.

Every error a user can meet says what went wrong, where (file, segment, line, column)
and what to do next. Messages never contain patient data: at most the identifiers the
user already holds (file name, claim control number, segment number).
"""

from __future__ import annotations


class ReclaimError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    #: a short next step, shown under the message by the CLI
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class ConfigError(ReclaimError):
    """The configuration file or an override is invalid."""


class RefDataError(ReclaimError):
    """A reference-data release is missing, malformed, or not in the expected layout."""


class StoreNotBuiltError(RefDataError):
    hint = "Run `reclaim data import DIR` (a folder of official files) or `reclaim data pull` first."


class UnknownCodeError(ReclaimError):
    """A code (HCPCS, NDC, ICD-10, CARC...) is not in the loaded releases."""


class InputFormatError(ReclaimError):
    """A claim or remittance file cannot be read at all (not one bad record: the whole file)."""
