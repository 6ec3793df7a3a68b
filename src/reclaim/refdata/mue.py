"""CMS NCCI Medically Unlikely Edits (MUE) tables: practitioner, outpatient hospital, DME supplier.

Official CSV layout (one zip per setting and quarter, e.g. ``medicare-ncci-2026-q3-practitioner-
services-mue-table.zip``): Latin-1; record 0 is a quoted multi-line AMA/CPT notice; the header's
first cell has an embedded newline (``"HCPCS/\\nCPT Code"``), then ``<Setting> Services MUE
Values``, ``MUE Adjudication Indicator`` (text such as ``"3 Date of Service Edit: Clinical"``:
the MAI is its first character) and ``MUE Rationale``. The setting comes from the header's second
cell; the quarter from the file name (``..._Eff_07-01-2026...``, ``...2026-q3...``) or the notice.
The store keeps only HCPCS Level II rows' values plus CPT codes' numbers (no CPT descriptors are
in these files). The XLSX twin of a table (same zip, same rows: the notice in row 1, the header
in row 2) is read the same way.

A table is in force in its quarter only (``effective_to`` = the quarter's last day): outside it
no MUE applies, never another quarter's value.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, cell, find_header, quarter_name, read_csv_rows, text, xlsx_rows

SETTINGS = ("practitioner", "outpatient_hospital", "dme")
SCHEMA = pa.schema([
    ("release", pa.string()),            # quarter, e.g. 2026-Q3
    ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("setting", pa.string()),            # practitioner | outpatient_hospital | dme
    ("hcpcs", pa.string()),
    ("mue_value", pa.int32()),           # max units per line (MAI 1) or per day (MAI 2/3)
    ("mai", pa.int8()),                  # 1 line edit, 2 per-day policy, 3 per-day clinical
    ("mai_text", pa.string()), ("rationale", pa.string()),
])
_HEADER = re.compile(r"^HCPCS\s*/\s*CPT\s+Code$", re.I)


def matches(head: list[list[str]]) -> bool:
    return any(row and _HEADER.match(" ".join(str(row[0]).split())) for row in head[:10])


def matches_xlsx(path: Path) -> bool:
    """An xlsx whose first rows hold the MUE header (after the AMA notice in row 1)."""
    rows = xlsx_rows(path)
    head = [[text(v) for v in row] for _, row in zip(range(10), rows)]
    return matches(head)


def _setting(value: str, where: str) -> str:
    low = value.lower()
    if "practitioner" in low:
        return "practitioner"
    if "outpatient" in low or "facility" in low:
        return "outpatient_hospital"
    if "dme" in low or "supplier" in low:
        return "dme"
    raise RefDataError(f"{where}: expected '<Practitioner|Outpatient Hospital|DME Supplier> Services MUE Values', found {value!r}")


def _quarter_start(path: Path, notice: str) -> dt.date:
    name = path.name.lower()
    if m := re.search(r"(\d{2})[-_](\d{2})[-_](\d{4})", name):
        return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    if m := re.search(r"(\d{4})[-_ ]?q([1-4])", name):
        return dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    if m := re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", notice):
        return dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    raise RefDataError(f"{path}: cannot tell the MUE quarter: expected a file name like "
                       "'MCR_MUE_PractitionerServices_Eff_07-01-2026.csv' or '...2026-q3...'")


def _quarter_end(start: dt.date) -> dt.date:
    month = (start.month - 1) // 3 * 3 + 3
    nxt = dt.date(start.year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def load(path: Path) -> list[Loaded]:
    """A CMS MUE table, CSV (Latin-1) or its XLSX twin."""
    if path.suffix.lower() == ".xlsx":
        rows = [[text(v) for v in row] for row in xlsx_rows(path)]
    else:
        rows = read_csv_rows(path, "latin-1")
    header = find_header(rows, path, lambda c: bool(_HEADER.match(" ".join(c.split()))), "'HCPCS/CPT Code'", scan=10)
    head = rows[header]
    if len(head) < 4:
        raise RefDataError(f"{path}: record {header + 1}: expected 4 columns (HCPCS/CPT Code, MUE Values, "
                           f"MUE Adjudication Indicator, MUE Rationale), found {len(head)}")
    setting = _setting(head[1], f"{path}: record {header + 1}, column 2")
    start = _quarter_start(path, " ".join(" ".join(r) for r in rows[:header]))
    end = _quarter_end(start)
    release = quarter_name(start)
    out: dict[str, list] = {name: [] for name in SCHEMA.names}
    for number, row in enumerate(rows[header + 1:], header + 2):
        if not any(c.strip() for c in row):
            continue
        code, value, mai_text = cell(row, 0), cell(row, 1), cell(row, 2)
        if not value.isdigit():
            raise RefDataError(f"{path}: record {number}, column 2: expected a whole number of units, found {value!r}")
        if not mai_text[:1] in ("1", "2", "3"):
            raise RefDataError(f"{path}: record {number}, column 3: expected an MAI starting with 1, 2 or 3, found {mai_text!r}")
        out["hcpcs"].append(code.upper())
        out["mue_value"].append(int(value))
        out["mai"].append(int(mai_text[0]))
        out["mai_text"].append(mai_text)
        out["rationale"].append(cell(row, 3) or None)
    n = len(out["hcpcs"])
    out.update(release=[release] * n, effective_from=[start] * n, effective_to=[end] * n, setting=[setting] * n)
    return [Loaded(f"mue_{setting}", "mue", release, start, end, path, pa.Table.from_pydict(out, schema=SCHEMA),
                   replaces={"setting": setting})]
