"""CMS OPPS Addendum B: payment status indicator, APC and national payment rate of every HCPCS code
under the hospital outpatient prospective payment system, one file per quarter.

Official layout (the quarterly "Addendum B" zip, e.g. ``july-2026-opps-addendum-b.zip``, holds a
Section 508 CSV and an XLSX with the same rows): Latin-1; a few preamble records (the title,
``Addendum B.-- OPPS Payment by HCPCS Code for CY 2026``, and the AMA/CPT notice), then the
header ``HCPCS Code, Short Descriptor, SI, APC, Relative Weight, Payment Rate, National Unadjusted
Copayment, Minimum Unadjusted Copayment`` followed (by year) by ``IRA Coinsurance percentage``,
``Adjusted Beneficiary Copayment``, a ``Note...`` column, ``Drug and Device Pass-Through
Expiration during Calendar Year`` and the change flag ``* Indicates a Change``. Money cells are
written ``$3,307.24``; a lone ``.`` means "none" (not zero); a packaged code (SI N) has no APC
and no rate. The quarter comes from the file name (``2026 January Web Addendum B.12.29.25.csv``,
``july-2026-opps-addendum-b``) or, failing that, the preamble; a table is in force in its
quarter only (``effective_to`` = the quarter's last day).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, cell, quarter_name, read_csv_rows, text, xlsx_rows

SCHEMA = pa.schema([
    ("release", pa.string()),                 # quarter, e.g. 2026-Q3
    ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("hcpcs", pa.string()),
    ("short_descriptor", pa.string()),
    ("status_indicator", pa.string()),        # SI: N packaged, K separately payable, G pass-through...
    ("apc", pa.string()),
    ("relative_weight", pa.decimal128(18, 4)),
    ("payment_rate", pa.decimal128(18, 3)),   # national unadjusted rate per unit; NULL: none
    ("national_copay", pa.decimal128(18, 2)),
    ("minimum_copay", pa.decimal128(18, 2)),
    ("pass_through_expiration", pa.string()),
    ("changed", pa.bool_()),                  # "* Indicates a Change" marked this row
])
#: SIs a separately payable drug or biological has (K non-pass-through, G pass-through)
SEPARATELY_PAYABLE_DRUG_SI = ("K", "G")
REQUIRED = ("HCPCS Code", "Short Descriptor", "SI", "APC", "Relative Weight", "Payment Rate",
            "Minimum Unadjusted Copayment")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")


def _norm(value: str) -> str:
    return " ".join(str(value).split())


def _is_header(row: list[str]) -> bool:
    return len(row) >= 3 and [_norm(c) for c in row[:3]] == ["HCPCS Code", "Short Descriptor", "SI"]


def matches(head: list[list[str]]) -> bool:
    return any(_is_header(row) for row in head[:20])


def matches_xlsx(path: Path) -> bool:
    rows = xlsx_rows(path)
    return matches([[text(v) for v in row] for _, row in zip(range(20), rows)])


def _quarter_start(path: Path, preamble: str) -> dt.date:
    for where in (path.name.lower(), preamble.lower()):
        month = re.search(r"(" + "|".join(_MONTHS) + r")\D{0,3}(\d{4})|(\d{4})\D{0,3}(" + "|".join(_MONTHS) + ")", where)
        if month:
            name = month.group(1) or month.group(4)
            year = int(month.group(2) or month.group(3))
            number = _MONTHS.index(name) + 1
            if number in (1, 4, 7, 10):
                return dt.date(year, number, 1)
        if m := re.search(r"(\d{4})[-_ ]?q([1-4])", where):
            return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    raise RefDataError(f"{path}: cannot tell the Addendum B quarter: expected a file name like "
                       "'2026 January Web Addendum B.12.29.25.csv' or 'july-2026-opps-addendum-b.csv'")


def _quarter_end(start: dt.date) -> dt.date:
    month = (start.month - 1) // 3 * 3 + 3
    return dt.date(start.year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def _money(value: str, where: str) -> Decimal | None:
    """``$3,307.24`` / ``3307.24`` -> Decimal; blank or a lone ``.`` (CMS: none) -> None."""
    raw = value.strip()
    if raw in ("", "."):
        return None
    try:
        return Decimal(raw.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        raise RefDataError(f"{where}: expected an amount such as $136.02, found {value!r}") from None


def load(path: Path) -> list[Loaded]:
    """A CMS OPPS Addendum B file, CSV (Latin-1) or its XLSX twin."""
    if path.suffix.lower() == ".xlsx":
        rows = [[text(v) for v in row] for row in xlsx_rows(path)]
    else:
        rows = read_csv_rows(path, "latin-1")
    header = next((i for i, row in enumerate(rows[:20]) if _is_header(row)), None)
    if header is None:
        raise RefDataError(f"{path}: no Addendum B header (HCPCS Code, Short Descriptor, SI, ...) in the first 20 records")
    names = [_norm(c) for c in rows[header]]
    col = {name: pos for pos, name in enumerate(names) if name}
    missing = [name for name in REQUIRED if name not in col]
    if missing:
        raise RefDataError(f"{path}: record {header + 1}: header is missing column(s) {', '.join(map(repr, missing))}")
    change = next((pos for name, pos in col.items() if name.startswith("* Indicates a Change")), None)
    expiry = next((pos for name, pos in col.items() if name.startswith("Drug and Device Pass-Through Expiration")), None)
    national = col.get("National Unadjusted Copayment")
    start = _quarter_start(path, " ".join(" ".join(r) for r in rows[:header]))
    end = _quarter_end(start)
    out: dict[str, list] = {name: [] for name in SCHEMA.names}
    for number, row in enumerate(rows[header + 1:], header + 2):
        code = cell(row, col["HCPCS Code"]).upper()
        if not code:
            continue
        where = f"{path}: record {number}"
        if not re.fullmatch(r"[0-9A-Z]{5}", code):
            raise RefDataError(f"{where}, column 1: expected a 5-character HCPCS code, found {code!r}")
        weight = cell(row, col["Relative Weight"]).replace(",", "")
        try:
            out["relative_weight"].append(Decimal(weight) if weight not in ("", ".") else None)
        except InvalidOperation:
            raise RefDataError(f"{where}: Relative Weight: expected a number, found {weight!r}") from None
        out["hcpcs"].append(code)
        out["short_descriptor"].append(cell(row, col["Short Descriptor"]) or None)
        out["status_indicator"].append(cell(row, col["SI"]).upper() or None)
        out["apc"].append(cell(row, col["APC"]) or None)
        out["payment_rate"].append(_money(cell(row, col["Payment Rate"]), f"{where}: Payment Rate"))
        out["national_copay"].append(_money(cell(row, national), f"{where}: National Unadjusted Copayment")
                                     if national is not None else None)
        out["minimum_copay"].append(_money(cell(row, col["Minimum Unadjusted Copayment"]),
                                           f"{where}: Minimum Unadjusted Copayment"))
        out["pass_through_expiration"].append((cell(row, expiry) or None) if expiry is not None else None)
        out["changed"].append(bool(cell(row, change)) if change is not None else False)
    n = len(out["hcpcs"])
    release = quarter_name(start)
    out.update(release=[release] * n, effective_from=[start] * n, effective_to=[end] * n)
    return [Loaded("opps_addendum_b", "opps_addendum_b", release, start, end, path,
                   pa.Table.from_pydict(out, schema=SCHEMA))]
