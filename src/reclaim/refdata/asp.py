"""CMS ASP Part B drug files: payment limits, NDC-HCPCS crosswalk, NOC pricing and NOC crosswalk.

The Section-508 CSV exports CMS posts each quarter: cp1252, CRLF, a preamble (title, the
"Effective October 1, 2025 through December 31, 2025" line, notes) above the header. The header
row is found by scanning for its first cell (``HCPCS Code``, ``_yyyy_CODE`` whose year changes
every year, ``Drug Generic Name (Trade Name)``, ``Drug Generic Name``); never by a fixed skip.
The crosswalk carries ~240 empty trailing columns on every line; they are ignored.
``N/A`` payment limits become null; the NOC file's ``$`` is removed.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, cell, columns_index, find_header, long_dates, quarter_name, read_csv_rows

ENCODING = "cp1252"
CROSSWALK_CODE = re.compile(r"^_\d{4}_CODE$")
MONEY = pa.decimal128(18, 4)

PRICING_SCHEMA = pa.schema([
    ("release", pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("hcpcs", pa.string()), ("short_description", pa.string()),
    ("dosage", pa.string()),                 # "HCPCS Code Dosage": the billing unit, e.g. "1 MG"
    ("payment_limit", MONEY),                # per billing unit (ASP+6% already applied); null for N/A
    ("coinsurance_pct", pa.decimal128(9, 3)),
    ("vaccine_awp_pct", pa.string()), ("vaccine_limit", MONEY), ("blood_awp_pct", pa.string()),
    ("blood_limit", MONEY), ("clotting_factor", pa.string()), ("notes", pa.string()),
])
CROSSWALK_SCHEMA = pa.schema([
    ("release", pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("hcpcs", pa.string()), ("short_description", pa.string()), ("labeler", pa.string()),
    ("ndc11", pa.string()),                  # 11 digits, no hyphens; null for alternate ids
    ("ndc_hyphenated", pa.string()),         # as published (5-4-2, or an alternate id)
    ("drug_name", pa.string()), ("hcpcs_dosage", pa.string()), ("package_size", pa.string()),
    ("package_quantity", pa.string()),
    ("billing_units", pa.decimal128(18, 4)),              # BILLUNITS: per item (vial, syringe)
    ("billing_units_per_package", pa.decimal128(18, 4)),  # BILLUNITSPKG: per whole NDC package
])
NOC_PRICING_SCHEMA = pa.schema([
    ("release", pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("drug_generic_name", pa.string()), ("dosage", pa.string()), ("payment_limit", MONEY), ("notes", pa.string()),
])
NOC_CROSSWALK_SCHEMA = pa.schema([
    ("release", pa.string()), ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("drug_generic_name", pa.string()), ("labeler", pa.string()), ("ndc11", pa.string()),
    ("ndc_hyphenated", pa.string()), ("drug_name", pa.string()), ("dosage", pa.string()),
    ("package_size", pa.string()), ("package_quantity", pa.string()),
    ("billing_units", pa.decimal128(18, 4)), ("billing_units_per_package", pa.decimal128(18, 4)),
])


def kind_of(rows: list[list[str]]) -> str | None:
    """Which ASP file these CSV records are (by header first cell), or None."""
    for row in rows[:40]:
        first = row[0].strip() if row else ""
        if first == "HCPCS Code":
            return "asp_pricing"
        if CROSSWALK_CODE.match(first):
            return "ndc_crosswalk"
        if first == "Drug Generic Name (Trade Name)":
            return "noc_pricing"
        if first == "Drug Generic Name":
            return "noc_crosswalk"
    return None


def _quarter(rows: list[list[str]], header: int, path: Path) -> tuple[dt.date, dt.date]:
    preamble = " ".join(" ".join(r) for r in rows[:header])
    dates = long_dates(preamble)
    if len(dates) < 2:
        raise RefDataError(
            f"{path}: lines 1-{header}: expected the effective period in the preamble "
            "(e.g. 'Effective October 1, 2025 through December 31, 2025'), found none"
        )
    return dates[0], dates[1]


def _decimal(value: str, where: str) -> Decimal | None:
    text = value.replace("$", "").replace(",", "").strip()
    if text in ("", "N/A", "NA"):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RefDataError(f"{where}: expected a number or N/A, found {value!r}") from None


def _ndc(value: str) -> str | None:
    from .ndc import normalize_ndc

    return normalize_ndc(value) if value else None


def _read(path: Path, kind: str, required: list[str]) -> tuple[list[list[str]], dict[str, int], int, dt.date, dt.date]:
    rows = read_csv_rows(path, ENCODING)
    header = find_header(rows, path, {
        "asp_pricing": lambda c: c == "HCPCS Code",
        "ndc_crosswalk": lambda c: bool(CROSSWALK_CODE.match(c)),
        "noc_pricing": lambda c: c == "Drug Generic Name (Trade Name)",
        "noc_crosswalk": lambda c: c == "Drug Generic Name",
    }[kind], {"asp_pricing": "'HCPCS Code'", "ndc_crosswalk": "'_yyyy_CODE'",
              "noc_pricing": "'Drug Generic Name (Trade Name)'", "noc_crosswalk": "'Drug Generic Name'"}[kind])
    names = [h.strip() for h in rows[header]]
    if kind == "ndc_crosswalk":
        names[0] = "CODE"
    index = columns_index(names, required, path, header + 1)
    start, end = _quarter(rows, header, path)
    return rows, index, header, start, end


def load(path: Path, kind: str) -> list[Loaded]:
    """Read one ASP CSV (``kind`` from :func:`kind_of`) into its store table."""
    spec = {
        "asp_pricing": (PRICING_SCHEMA, ["HCPCS Code", "Short Description", "HCPCS Code Dosage", "Payment Limit",
                                         "Co-insurance Percentage", "Notes"]),
        "ndc_crosswalk": (CROSSWALK_SCHEMA, ["CODE", "Short Description", "LABELER NAME", "NDC2", "Drug Name",
                                             "HCPCS dosage", "PKG SIZE", "PKG QTY", "BILLUNITS", "BILLUNITSPKG"]),
        "noc_pricing": (NOC_PRICING_SCHEMA, ["Drug Generic Name (Trade Name)", "Dosage", "Payment Limit", "Notes"]),
        "noc_crosswalk": (NOC_CROSSWALK_SCHEMA, ["Drug Generic Name", "LABELER NAME", "NDC or ALTERNATE ID",
                                                 "Drug Name", "Dosage", "PKG SIZE", "PKG QTY", "BILLUNITS",
                                                 "BILLUNITSPKG"]),
    }
    schema, required = spec[kind]
    rows, ix, header, start, end = _read(path, kind, required)
    out: dict[str, list] = {name: [] for name in schema.names}
    for number, row in enumerate(rows[header + 1:], header + 2):
        if not any(c.strip() for c in row):
            continue
        get = lambda name: cell(row, ix[name])  # noqa: E731
        where = lambda name: f"{path}: line {number}, column {ix[name] + 1} ({name})"  # noqa: E731
        if len(row) < len(required):
            raise RefDataError(f"{path}: line {number}: {len(row)} columns, expected at least {len(required)} (truncated line?)")
        if kind == "asp_pricing":
            out["hcpcs"].append(get("HCPCS Code"))
            out["short_description"].append(get("Short Description") or None)
            out["dosage"].append(get("HCPCS Code Dosage") or None)
            out["payment_limit"].append(_decimal(get("Payment Limit"), where("Payment Limit")))
            out["coinsurance_pct"].append(_decimal(get("Co-insurance Percentage"), where("Co-insurance Percentage")))
            for col, name in (("vaccine_awp_pct", "Vaccine AWP%"), ("blood_awp_pct", "Blood AWP%"),
                              ("clotting_factor", "Clotting Factor")):
                out[col].append((get(name) or None) if name in ix else None)
            for col, name in (("vaccine_limit", "Vaccine Limit"), ("blood_limit", "Blood limit")):
                out[col].append(_decimal(get(name), where(name)) if name in ix else None)
            out["notes"].append(get("Notes") or None)
        elif kind == "noc_pricing":
            out["drug_generic_name"].append(get("Drug Generic Name (Trade Name)"))
            out["dosage"].append(get("Dosage") or None)
            out["payment_limit"].append(_decimal(get("Payment Limit"), where("Payment Limit")))
            out["notes"].append(get("Notes") or None)
        else:
            ndc_col = "NDC2" if kind == "ndc_crosswalk" else "NDC or ALTERNATE ID"
            if kind == "ndc_crosswalk":
                out["hcpcs"].append(get("CODE"))
                out["short_description"].append(get("Short Description") or None)
                out["hcpcs_dosage"].append(get("HCPCS dosage") or None)
            else:
                out["drug_generic_name"].append(get("Drug Generic Name"))
                out["dosage"].append(get("Dosage") or None)
            out["labeler"].append(get("LABELER NAME") or None)
            out["ndc_hyphenated"].append(get(ndc_col) or None)
            out["ndc11"].append(_ndc(get(ndc_col)))
            out["drug_name"].append(get("Drug Name") or None)
            out["package_size"].append(get("PKG SIZE") or None)
            out["package_quantity"].append(get("PKG QTY") or None)
            out["billing_units"].append(_decimal(get("BILLUNITS"), where("BILLUNITS")))
            out["billing_units_per_package"].append(_decimal(get("BILLUNITSPKG"), where("BILLUNITSPKG")))
    n = len(out[schema.names[3]])  # the first data column (after release and the two dates)
    release = quarter_name(start)
    out["release"], out["effective_from"], out["effective_to"] = [release] * n, [start] * n, [end] * n
    return [Loaded(kind, kind, release, start, end, path, pa.Table.from_pydict(out, schema=schema))]
