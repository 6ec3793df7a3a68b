"""Edit test cases as data (``edits/cases/<CODE>.yaml``), in the style of sqlfluff's rule cases.

A case file::

    edit: RC104
    cases:
      - id: prolia-billed-as-eptifibatide
        description: Denosumab NDC billed under J1327 (eptifibatide)
        claims:
          - claim_filing_indicator: MB
            service_date: 2025-11-03
            diagnoses: [M810]
            lines:
              - {procedure_code: J1327, units: 60, charge: 1900, ndc: 55513-0710-01,
                 ndc_unit: UN, ndc_quantity: 1, modifiers: [JZ]}
        expect:                       # the exact findings of this edit ([] = the claim passes)
          - {line_number: 1, message: "...", fix_action: set_procedure_code, fix_value: J0897}
        fixed:                        # optional: line fields after --fix (the edit must then pass)
          - {line_number: 1, procedure_code: J0897}

Keys of a claim are columns of ``reclaim.claims.model.CLAIMS`` plus ``service_date`` (the
default for its lines), ``diagnoses`` (ICD-10 codes, in order) and ``lines``; keys of a line are
columns of ``LINES`` plus ``modifiers`` (a list); a claim's ``source_format`` (x12, csv)
says which kind of file it came from. An optional ``history`` holds earlier claims
of the same patients, ``policies`` names built-in policies or files (relative to the case
file), and ``policy`` is an inline policy (give it a ``payer_ids`` entry and set the claims'
``payer_id`` so it is chosen). ``refdata: [opps]`` runs the case on the mirror plus the
fixture folder ``tests/fixtures/refdata/opps`` (a dataset the mirror lacks). :func:`build_batch` turns claims into a ClaimBatch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from ..claims.model import CLAIMS, DIAGNOSES, FILES, LINES, ClaimBatch
from ..policy import Policy
from ..policy.loader import load_policy
from .registry import CASES_DIR

_CLAIM_DEFAULTS = {
    "claim_type": "professional",
    "claim_filing_indicator": "MB",
    "payer_id": "CMSMAC",
    "payer_responsibility": "P",
    "frequency_code": "1",
    "place_of_service": "11",
    "billing_npi": "1234567893",
    "relationship_code": "18",
}
_MONEY = {"charge", "total_charge"}
_QUANTITY = {"units", "ndc_quantity"}


@dataclass
class Case:
    edit: str
    id: str
    description: str
    claims: list[dict]
    expect: list[dict]
    history: list[dict] = field(default_factory=list)
    fixed: list[dict] | None = None
    policies: list[Policy] = field(default_factory=list)
    path: Path | None = None
    #: fixture folders (tests/fixtures/refdata/<name>) imported on top of the mirror for this case
    refdata: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.edit}:{self.id}"


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _MONEY:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if name in _QUANTITY:
        return Decimal(str(value)).quantize(Decimal("0.001"))
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name not in ("line_number", "position") and not name.startswith("dx_pointer"):
        return str(value)
    return value


def build_batch(claims: list[dict], prefix: str = "case") -> ClaimBatch:
    """Claims described as mappings -> a ClaimBatch (ids ``<prefix>:<n>``)."""
    from ..refdata.ndc import normalize_ndc

    claim_rows, line_rows, dx_rows, file_rows = [], [], [], []
    for n, spec in enumerate(claims, start=1):
        spec = dict(spec)
        source_format = spec.pop("source_format", None)  # x12 | csv | fhir: the file the claim came from
        if source_format:
            spec["file_id"] = f"{prefix}:{n}:file"
            file_rows.append({"file_id": spec["file_id"], "path": f"case.{source_format}", "format": source_format})
        lines = spec.pop("lines", [])
        diagnoses = spec.pop("diagnoses", [])
        service_date = spec.pop("service_date", None)
        claim_id = spec.pop("claim_id", f"{prefix}:{n}")
        unknown = set(spec) - set(CLAIMS.names)
        if unknown:
            raise ValueError(f"{prefix}: unknown claim keys {sorted(unknown)}")
        row = {**_CLAIM_DEFAULTS, "patient_id": prefix.removesuffix(":history") + "-patient", "patient_control_number": f"PCN{n}", **spec, "claim_id": claim_id}
        row = {k: _value(k, v) for k, v in row.items()}
        for position, code in enumerate(diagnoses, start=1):
            dx_rows.append({"claim_id": claim_id, "position": position, "qualifier": "ABK" if position == 1 else "ABF", "code": str(code).replace(".", "").upper()})
        total = Decimal("0")
        for i, line in enumerate(lines, start=1):
            line = dict(line)
            modifiers = line.pop("modifiers", []) or []
            unknown = set(line) - set(LINES.names)
            if unknown:
                raise ValueError(f"{prefix}: unknown line keys {sorted(unknown)}")
            lr = {"line_number": i, "service_date": service_date, "procedure_qualifier": "HC", "unit_basis": "UN",
                  "dx_pointer_1": 1 if diagnoses else None, **line, "claim_id": claim_id}
            for k, mod in enumerate(modifiers[:4], start=1):
                lr[f"modifier_{k}"] = str(mod).upper()
            if lr.get("ndc") is not None:
                lr["ndc"] = str(lr["ndc"])
                lr.setdefault("ndc_qualifier", "N4")
                lr.setdefault("ndc11", normalize_ndc(lr["ndc"]))
            lr = {k: _value(k, v) for k, v in lr.items()}
            total += lr.get("charge") or Decimal("0")
            line_rows.append(lr)
        row.setdefault("total_charge", total)
        claim_rows.append(row)
    return ClaimBatch(
        tables={
            "claims": pa.Table.from_pylist(claim_rows, schema=CLAIMS),
            "lines": pa.Table.from_pylist(line_rows, schema=LINES),
            "diagnoses": pa.Table.from_pylist(dx_rows, schema=DIAGNOSES),
            "files": pa.Table.from_pylist(file_rows, schema=FILES),
        }
    )


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    code = data["edit"]
    if path.stem != code:
        raise ValueError(f"{path}: 'edit: {code}' does not match the file name")
    out = []
    for item in data["cases"]:
        policies: list[Policy] = []
        for ref in item.get("policies", []):
            policies.append(load_policy(ref if ref in ("medicare", "medicaid") else path.parent / ref))
        if "policy" in item:
            policies.insert(0, Policy.model_validate(item["policy"]))
        out.append(
            Case(
                edit=code,
                id=item["id"],
                description=item.get("description", ""),
                claims=item["claims"],
                expect=item.get("expect", []),
                history=item.get("history", []),
                fixed=item.get("fixed"),
                policies=policies,
                path=path,
                refdata=list(item.get("refdata", [])),
            )
        )
    return out


def all_cases(folder: Path = CASES_DIR) -> list[Case]:
    return [c for p in sorted(folder.glob("RC*.yaml")) for c in load_cases(p)]


def case_batches(case: Case) -> tuple[ClaimBatch, ClaimBatch | None]:
    prefix = f"{case.key}"
    batch = build_batch(case.claims, prefix)
    history = build_batch(case.history, prefix + ":history") if case.history else None
    return batch, history


def date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(str(value))
