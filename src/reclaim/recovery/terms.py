"""Recovery terms per payer: drug pricing for underpayments, deadlines per recovery action.

The payer policy schema (:mod:`reclaim.policy`) describes how a payer adjudicates claims (the
edit side) and forbids unknown keys, so the recovery side lives here, in the same spirit:
``recovery/data/payer_terms.yaml`` (Original Medicare, and a "commercial, no contract" default)
plus an optional practice file (``reclaim recover --terms FILE``) with its contracts.

An entry::

    - id: acme-ppo
      applies_to: {payer_ids: [ACME1], claim_filing_indicators: [CI]}
      pricing:
        basis: asp_payment_limit   # percent of the CMS ASP payment limit for the DOS quarter
        percent: 110
        # or: basis: fee_schedule, fees: {J0897: 31.25}   (per billing unit)
        sequestration_pct: 0
        coinsurance: remit          # asp_file (Medicare) | remit: trust the PR amounts on the 835
      deadlines:
        corrected_claim: {days: 90, from: determination, source: "ACME provider manual 4.2"}
        appeal: {days: 180, from: determination, source: "ACME provider manual 7.1"}

``from`` is ``determination`` (the remittance date, BPR16) or ``service_date``. Matching: a
payer-id match wins over a filing-indicator match; practice entries before built-in ones; the
entry with empty ``applies_to`` is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from ..errors import ConfigError

BASES = ("asp_payment_limit", "fee_schedule")
FROMS = ("determination", "service_date")


@dataclass(frozen=True)
class Terms:
    id: str
    name: str
    payer_ids: tuple[str, ...] = ()
    filing_indicators: tuple[str, ...] = ()
    basis: str | None = None
    percent: float = 100.0
    sequestration_pct: float = 0.0
    coinsurance: str = "remit"
    fees: dict[str, float] = field(default_factory=dict)
    pricing_source: str = ""
    #: action -> (days, months, from, source)
    deadlines: dict[str, tuple[int, int, str, str]] = field(default_factory=dict)

    @property
    def is_medicare(self) -> bool:
        return self.coinsurance == "asp_file"


def _parse(entry: dict[str, Any], origin: str) -> Terms:
    where = f"{origin}: terms '{entry.get('id', '?')}'"
    if not isinstance(entry, dict) or not entry.get("id"):
        raise ConfigError(f"{origin}: every terms entry needs an id")
    applies = entry.get("applies_to") or {}
    pricing = entry.get("pricing") or {}
    basis = pricing.get("basis")
    if basis is not None and basis not in BASES:
        raise ConfigError(f"{where}: pricing.basis must be one of {', '.join(BASES)}, got {basis!r}")
    coins = pricing.get("coinsurance", "remit")
    if coins not in ("asp_file", "remit"):
        raise ConfigError(f"{where}: pricing.coinsurance must be asp_file or remit, got {coins!r}")
    deadlines = {}
    for action, rule in (entry.get("deadlines") or {}).items():
        if rule.get("from") not in FROMS:
            raise ConfigError(f"{where}: deadlines.{action}.from must be one of {', '.join(FROMS)}")
        days, months = int(rule.get("days", 0)), int(rule.get("months", 0))
        if days <= 0 and months <= 0:
            raise ConfigError(f"{where}: deadlines.{action} needs days or months")
        deadlines[action] = (days, months, rule["from"], str(rule.get("source", "")))
    return Terms(
        id=str(entry["id"]),
        name=str(entry.get("name", entry["id"])),
        payer_ids=tuple(str(p).strip().upper() for p in applies.get("payer_ids", [])),
        filing_indicators=tuple(str(p).strip().upper() for p in applies.get("claim_filing_indicators", [])),
        basis=basis,
        percent=float(pricing.get("percent", 100)),
        sequestration_pct=float(pricing.get("sequestration_pct", 0)),
        coinsurance=coins,
        fees={str(k).strip().upper(): float(v) for k, v in (pricing.get("fees") or {}).items()},
        pricing_source=str(pricing.get("source", "")),
        deadlines=deadlines,
    )


def _read(text: str, origin: str) -> list[Terms]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        raise ConfigError(f"{origin}: expected a top-level 'terms:' list")
    return [_parse(e, origin) for e in data["terms"]]


def builtin() -> list[Terms]:
    text = resources.files("reclaim.recovery").joinpath("data/payer_terms.yaml").read_text(encoding="utf-8")
    return _read(text, "payer_terms.yaml")


def load(path: str | Path | None = None) -> list[Terms]:
    """Practice terms from ``path`` (if any) followed by the built-in ones."""
    extra: list[Terms] = []
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"recovery terms file {p} does not exist")
        extra = _read(p.read_text(encoding="utf-8"), str(p))
    return extra + builtin()


def tables(terms: list[Terms]) -> dict[str, pa.Table]:
    """The terms as small tables for the SQL: ``terms_match``, ``terms_pricing``,
    ``terms_fees``, ``terms_deadlines``."""
    match = {"terms_id": [], "priority": [], "payer_id": [], "filing_indicator": []}
    for order, t in enumerate(terms):
        for pid in t.payer_ids:
            match["terms_id"].append(t.id); match["priority"].append(order); match["payer_id"].append(pid); match["filing_indicator"].append(None)
        for fi in t.filing_indicators:
            match["terms_id"].append(t.id); match["priority"].append(1000 + order); match["payer_id"].append(None); match["filing_indicator"].append(fi)
        if not t.payer_ids and not t.filing_indicators:
            match["terms_id"].append(t.id); match["priority"].append(100000 + order); match["payer_id"].append(None); match["filing_indicator"].append(None)
    pricing = pa.table({
        "terms_id": [t.id for t in terms],
        "terms_name": [t.name for t in terms],
        "basis": [t.basis for t in terms],
        "percent": [t.percent for t in terms],
        "sequestration_pct": [t.sequestration_pct for t in terms],
        "coinsurance_mode": [t.coinsurance for t in terms],
        "pricing_source": [t.pricing_source for t in terms],
    })
    fees = {"terms_id": [], "hcpcs": [], "fee": []}
    deadlines = {"terms_id": [], "action": [], "days": [], "months": [], "from_": [], "source": []}
    for t in terms:
        for code, fee in t.fees.items():
            fees["terms_id"].append(t.id); fees["hcpcs"].append(code); fees["fee"].append(fee)
        for action, (days, months, frm, source) in t.deadlines.items():
            for k, v in zip(deadlines, (t.id, action, days, months, frm, source)):
                deadlines[k].append(v)
    return {
        "terms_match": pa.table(match, schema=pa.schema([("terms_id", pa.string()), ("priority", pa.int32()), ("payer_id", pa.string()), ("filing_indicator", pa.string())])),
        "terms_pricing": pricing,
        "terms_fees": pa.table(fees, schema=pa.schema([("terms_id", pa.string()), ("hcpcs", pa.string()), ("fee", pa.float64())])),
        "terms_deadlines": pa.table(deadlines, schema=pa.schema([("terms_id", pa.string()), ("action", pa.string()), ("days", pa.int32()), ("months", pa.int32()), ("from_", pa.string()), ("source", pa.string())])),
    }
