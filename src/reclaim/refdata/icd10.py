"""ICD-10-CM code lists: the CMS "valid ICD-10" xlsx and the CDC order file.

* CMS Section 111 valid-code list (``section111validicd10-*.xlsx``): header row 1
  ``CODE, SHORT DESCRIPTION (VALID ICD-10 FY2025), LONG DESCRIPTION (...), NF EXCL``; billable
  codes only, no dots. The fiscal year comes from the header text.
* CDC ``icd10cm-order-YYYY.txt``: fixed columns: order number 1-5, code 7-13, billable flag 15
  (1 = billable), short description 17-76, long description 78 to end of line. Category headers
  (billable 0) are kept with ``billable`` false.

A fiscal year FYyyyy runs October 1 of yyyy-1 to September 30 of yyyy. Codes are stored without
the dot. A code missing from the CMS list is unknown, not invalid (the list is not the CDC one).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, text, xlsx_rows

SCHEMA = pa.schema([
    ("release", pa.string()),          # FY2025, FY2026, FY2026-04 (April update)
    ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("code", pa.string()),             # no dot: M810, C7951
    ("short_description", pa.string()), ("long_description", pa.string()),
    ("billable", pa.bool_()),
    ("nf_excl", pa.string()),          # CMS list only: No-Fault exclusion flag
    ("source_format", pa.string()),    # cms_valid_list | cdc_order
])
ORDER_LINE = re.compile(r"^\d{5} [A-Z][0-9A-Z]{2}[0-9A-Z ]{4} [01] ")
_FY = re.compile(r"FY\s?(\d{4})", re.I)


def fiscal_year(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year - 1, 10, 1), dt.date(year, 9, 30)


def load_cms_valid_list(path: Path) -> list[Loaded]:
    rows = xlsx_rows(path)
    header = [text(h) for h in next(rows, ())]
    fy = next((m for h in header if (m := _FY.search(h))), None)
    if len(header) < 3 or header[0] != "CODE" or fy is None:
        raise RefDataError(f"{path}: row 1: expected 'CODE, SHORT DESCRIPTION (VALID ICD-10 FYyyyy), LONG DESCRIPTION ...', "
                           f"found {', '.join(header[:4])}")
    year = int(fy.group(1))
    start, end = fiscal_year(year)
    nf = header.index("NF EXCL") if "NF EXCL" in header else None
    codes, shorts, longs, nfs = [], [], [], []
    for number, row in enumerate(rows, 2):
        if not row or all(v is None for v in row):
            continue
        code = text(row[0]).replace(".", "").upper()
        if not re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", code):
            raise RefDataError(f"{path}: row {number}, column A: expected an ICD-10-CM code, found {code!r}")
        codes.append(code)
        shorts.append(text(row[1]) or None)
        longs.append(text(row[2]) if len(row) > 2 else None)
        nfs.append((text(row[nf]) or None) if nf is not None and nf < len(row) else None)
    n = len(codes)
    release = f"FY{year}"
    table = pa.Table.from_pydict({
        "release": [release] * n, "effective_from": [start] * n, "effective_to": [end] * n, "code": codes,
        "short_description": shorts, "long_description": longs, "billable": [True] * n, "nf_excl": nfs,
        "source_format": ["cms_valid_list"] * n}, schema=SCHEMA)
    return [Loaded("icd10", "icd10", release, start, end, path, table,
                   notes="CMS valid-code list (billable codes only; not the CDC list)")]


def load_order_file(path: Path) -> list[Loaded]:
    match = re.search(r"(\d{4})", path.name)
    if not match:
        raise RefDataError(f"{path}: cannot tell the fiscal year from the file name (expected icd10cm-order-YYYY.txt)")
    year = int(match.group(1))
    start, end = fiscal_year(year)
    release = f"FY{year}"
    if "april" in path.name.lower():  # mid-year update: in force from April 1
        start, release = dt.date(year, 4, 1), f"FY{year}-04"
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise RefDataError(f"{path}: byte offset {exc.start}: not UTF-8/ASCII text") from None
    codes, shorts, longs, billable = [], [], [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(line) < 78 or not ORDER_LINE.match(line):
            raise RefDataError(
                f"{path}: line {number}: expected the CDC order layout (order 1-5, code 7-13, billable flag 15, "
                f"short description 17-76, long description from 78), found {line[:40]!r}")
        codes.append(line[6:13].strip())
        billable.append(line[14] == "1")
        shorts.append(line[16:76].strip())
        longs.append(line[77:].strip())
    n = len(codes)
    table = pa.Table.from_pydict({
        "release": [release] * n, "effective_from": [start] * n, "effective_to": [end] * n, "code": codes,
        "short_description": shorts, "long_description": longs, "billable": billable, "nf_excl": [None] * n,
        "source_format": ["cdc_order"] * n}, schema=SCHEMA)
    return [Loaded("icd10", "icd10", release, start, end, path, table,
                   notes=f"CDC order file: {sum(billable)} billable of {n}")]
