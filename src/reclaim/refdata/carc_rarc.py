"""X12 Claim Adjustment Reason Codes (CARC), Remittance Advice Remark Codes (RARC), group codes.

The CARC/RARC lists are 2-column UTF-8 CSVs whose description cell is multi-line: the text, a
``Start: mm/dd/yyyy | Last Modified: mm/dd/yyyy | Stop: mm/dd/yyyy`` line, optionally a
``Notes: ...`` line. They are read with a real CSV reader and header names are stripped (the
RARC header is ``'RARC CODE '``). A list's release is the latest Start/Last Modified date in it.
The CAS01 group codes file in the mirror is handwritten (no official file exists): it is stored
with provenance ``handwritten``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, cell, mdy, read_csv_rows

CODE_SCHEMA = pa.schema([
    ("release", pa.string()),        # latest Start/Last Modified date in the list (YYYY-MM-DD)
    ("code", pa.string()),
    ("description", pa.string()),    # the text, without the dates and notes lines
    ("start_date", pa.date32()), ("last_modified", pa.date32()),
    ("stop_date", pa.date32()),      # null: active; a code is usable on dates before it
    ("notes", pa.string()),
])
GROUP_SCHEMA = pa.schema([
    ("release", pa.string()), ("code", pa.string()), ("name", pa.string()), ("description", pa.string()),
])


def kind_of(head: list[list[str]], name: str) -> str | None:
    header = [c.strip().upper() for c in head[0]] if head else []
    lowname = name.lower()
    if header[:2] == ["RARC CODE", "RARC CODE DESCRIPTION"]:
        return "rarc"
    if header[:2] == ["CODE", "DESCRIPTION"]:
        if "carc" in lowname or "adjustment reason" in lowname:
            return "carc"
        if "rarc" in lowname or "remark" in lowname:
            return "rarc"
    if header[:2] == ["GROUP_CODE", "NAME"]:
        return "group_codes"
    return None


def _split(description: str, where: str) -> tuple[str, dt.date | None, dt.date | None, dt.date | None, str | None]:
    text_lines, start = [], None
    modified = stop = None
    notes: list[str] = []
    for line in description.splitlines():
        stripped = line.strip()
        if stripped.startswith("Start:"):
            for part in stripped.split("|"):
                key, _, value = part.partition(":")
                key = key.strip().lower()
                if key == "start":
                    start = mdy(value, where=f"{where}, Start")
                elif key == "last modified":
                    modified = mdy(value, where=f"{where}, Last Modified")
                elif key == "stop":
                    stop = mdy(value, where=f"{where}, Stop")
        elif stripped.startswith("Notes:"):
            notes.append(stripped[len("Notes:"):].strip())
        elif notes:
            notes.append(stripped)
        elif stripped:
            text_lines.append(stripped)
    return " ".join(text_lines), start, modified, stop, (" ".join(notes) or None)


def load(path: Path, kind: str) -> list[Loaded]:
    rows = read_csv_rows(path, "utf-8-sig")
    if kind == "group_codes":
        body = [r for r in rows[1:] if any(c.strip() for c in r)]
        for number, row in enumerate(body, 2):
            if len(row) < 3:
                raise RefDataError(f"{path}: line {number}: expected 3 columns (group_code, name, meaning), found {len(row)}")
        table = pa.Table.from_pydict({
            "release": ["X12 005010"] * len(body), "code": [cell(r, 0) for r in body],
            "name": [cell(r, 1) for r in body], "description": [cell(r, 2) for r in body],
        }, schema=GROUP_SCHEMA)
        return [Loaded("group_codes", "group_codes", "X12 005010", None, None, path, table,
                       provenance="handwritten", notes="handwritten from the X12 835 CAS01 definitions")]
    out: dict[str, list] = {name: [] for name in CODE_SCHEMA.names}
    record = 1
    for row in rows[1:]:
        record += 1
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2:
            raise RefDataError(f"{path}: record {record}: expected 2 columns (code, description), found {len(row)}")
        code = cell(row, 0)
        text, start, modified, stop, notes = _split(row[1], f"{path}: record {record} ({code})")
        out["code"].append(code)
        out["description"].append(text)
        out["start_date"].append(start)
        out["last_modified"].append(modified)
        out["stop_date"].append(stop)
        out["notes"].append(notes)
    if not out["code"]:
        raise RefDataError(f"{path}: no {kind.upper()} codes found below the header")
    latest = max(d for d in out["start_date"] + out["last_modified"] if d is not None)
    release = latest.isoformat()
    out["release"] = [release] * len(out["code"])
    return [Loaded(kind, kind, release, latest, None, path, pa.Table.from_pydict(out, schema=CODE_SCHEMA),
                   notes=f"{sum(1 for s in out['stop_date'] if s)} codes with a Stop date")]
