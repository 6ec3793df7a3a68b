"""Recovery fixtures: the demo claims and remittances in examples/ (real codes, NDCs and ASP
prices from the mirror), read with the real X12 readers, and the real reference store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reclaim.claims.model import ClaimBatch, RemitBatch
from reclaim.claims.x12 import read_835, read_837
from reclaim.recovery import recover, terms

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
REMITS = [EXAMPLES / "remits" / "recover-medicare.835", EXAMPLES / "remits" / "recover-acme.835"]
CLAIMS = [EXAMPLES / "claims" / "recover-medicare.837", EXAMPLES / "claims" / "recover-acme.837"]
TERMS = EXAMPLES / "remits" / "acme-terms.yaml"
POLICIES = ["medicare", str(EXAMPLES / "policies" / "commercial-example.yaml")]
#: the demo's remittances are from December 2025 (the mirror's ASP quarter is 2025-Q4)
AS_OF = dt.date(2025, 12, 15)


@pytest.fixture(scope="session")
def remits() -> RemitBatch:
    return RemitBatch.concat([read_835(p) for p in REMITS])


@pytest.fixture(scope="session")
def claims() -> ClaimBatch:
    return ClaimBatch.concat([read_837(p) for p in CLAIMS])


@pytest.fixture(scope="session")
def result(remits, claims, store):
    return recover(remits, claims, store=store, policies=POLICIES, terms=terms.load(TERMS), as_of=AS_OF)


def by_claim(result, clm01: str, kind: str | None = None) -> list[dict]:
    return [i for i in result.items.to_pylist()
            if i["patient_control_number"] == clm01 and (kind is None or i["kind"] == kind)]


def expected_uncaught(carc: str) -> str:
    """What a denial's root cause says when no finding flags it: which edits of the catalog
    declare the CARC (they grow as edits are added), or that none does."""
    from reclaim.edits.registry import catalog

    edits = sorted(code for code, e in catalog().items() if f"CARC {carc}" in e.denials)
    return f"none of {', '.join(edits)} flags the submitted claim" if edits else f"no edit covers CO-{carc} yet"
