"""X12 Claim Status Category Codes (STC01-1 of the 277 / 277CA) and Claim Status Codes (STC01-2).

X12 publishes both lists like the CARC/RARC lists (https://x12.org/codes/claim-status-category-codes,
https://x12.org/codes/claim-status-codes): a 2-column CSV export, ``Code,Description``, whose
description cell is the text, a ``Start: mm/dd/yyyy | Last Modified: ... | Stop: ...`` line and
optionally ``Notes: ...``. They are read by the same code as CARC/RARC
(:func:`reclaim.refdata.carc_rarc.load`) into ``claim_status_categories`` and ``claim_status_codes``
(:data:`reclaim.refdata.carc_rarc.CODE_SCHEMA`). The file name says which list it is (the two
headers are the same). A file whose name contains ``FIXTURE`` (the shared mirror has no release of
these lists; tests and the demo use one) is stored with provenance ``handwritten``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import carc_rarc
from .files import Loaded

TABLES = {"claim_status_categories": carc_rarc.CODE_SCHEMA, "claim_status_codes": carc_rarc.CODE_SCHEMA}


def kind_of(head: list[list[str]], name: str) -> str | None:
    header = [c.strip().upper() for c in head[0]] if head else []
    low = name.lower()
    if header[:2] != ["CODE", "DESCRIPTION"] or "claim status" not in low:
        return None
    return "claim_status_categories" if "categor" in low else "claim_status_codes"


def load(path: Path, kind: str) -> list[Loaded]:
    out = carc_rarc.load(path, kind)
    if "FIXTURE" in path.name:
        out = [replace(item, provenance="handwritten",
                       notes=f"test fixture (not the X12 file): {item.notes}") for item in out]
    return out
