"""CMS Place of Service (POS) code set.

CMS publishes the POS code set as a table on
https://www.cms.gov/medicare/coding-billing/place-of-service-codes/code-sets (no CSV download).
reclaim reads that table saved as CSV or xlsx with the page's own column headings:
``Place of Service Code(s)``, ``Place of Service Name``, ``Place of Service Description``
(a row like ``03-04`` or ``27-30`` that is "Unassigned" is expanded to each code). The release is
the date in the file name (``place-of-service-2025-10.csv``), as the page's "last updated" date.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, text, read_csv_rows, xlsx_rows

SCHEMA = pa.schema([
    ("release", pa.string()), ("effective_from", pa.date32()),
    ("code", pa.string()),          # two digits, e.g. 11 (office), 19/22 (outpatient hospital)
    ("name", pa.string()), ("description", pa.string()),
])
HEADER = ("PLACE OF SERVICE CODE(S)", "PLACE OF SERVICE NAME", "PLACE OF SERVICE DESCRIPTION")


def _is_header(row) -> bool:
    return tuple(text(c).upper() for c in row[:3]) == HEADER


def matches_csv(head: list[list[str]]) -> bool:
    return bool(head) and _is_header(head[0])


def matches_xlsx(header: tuple[str, ...]) -> bool:
    return _is_header(header)


def load(path: Path) -> list[Loaded]:
    if path.suffix.lower() == ".xlsx":
        rows = [[text(c) for c in r] for r in xlsx_rows(path) if r]
    else:
        rows = read_csv_rows(path, "utf-8-sig")
    if not rows or not _is_header(rows[0]):
        raise RefDataError(f"{path}: line 1: expected the header {', '.join(HEADER)}")
    m = re.search(r"(\d{4})-(\d{2})(?:-(\d{2}))?", path.name)
    if not m:
        raise RefDataError(f"{path}: cannot tell the release: name the file with the page's date, "
                           "e.g. place-of-service-2025-10.csv")
    start = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    release = start.isoformat()[: 10 if m.group(3) else 7]
    codes, names, descriptions = [], [], []
    for number, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        raw = text(row[0])
        span = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", raw)
        if span:
            expanded = [f"{i:02d}" for i in range(int(span.group(1)), int(span.group(2)) + 1)]
        elif re.fullmatch(r"\d{1,2}", raw):
            expanded = [f"{int(raw):02d}"]
        else:
            raise RefDataError(f"{path}: line {number}, column 1: expected a 2-digit POS code or a range, found {raw!r}")
        for code in expanded:
            codes.append(code)
            names.append(text(row[1]) if len(row) > 1 else "")
            descriptions.append((text(row[2]) or None) if len(row) > 2 else None)
    n = len(codes)
    table = pa.Table.from_pydict({"release": [release] * n, "effective_from": [start] * n, "code": codes,
                                  "name": names, "description": descriptions}, schema=SCHEMA)
    return [Loaded("place_of_service", "place_of_service", release, start, None, path, table)]
