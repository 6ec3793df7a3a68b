"""Medicare Coverage Database (MCD) article export: which ICD-10 codes support which HCPCS codes.

From ``current_article_csv.zip`` (https://www.cms.gov/medicare-coverage-database/downloads/):
``article.csv`` (titles, dates), ``article_x_hcpc_code.csv``, ``article_x_icd10_covered.csv``,
``article_x_icd10_covered_group.csv``. Columns are read by header name (the export has a header
row, e.g. ``article_id,article_version,icd10_code_id,icd10_code_version,icd10_covered_group,...``);
required columns are checked, extra columns ignored. ICD-10 codes are stored without the dot.
The release is the latest ``last_updated`` date in the file (the export carries no other date).
Nothing here is in the mirror: without these files the store reports "no coverage data loaded".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, cell, columns_index, read_csv_rows

_KEY = [("release", pa.string()), ("article_id", pa.string()), ("article_version", pa.string())]
SCHEMAS: dict[str, pa.Schema] = {
    "coverage_articles": pa.schema(_KEY + [("display_id", pa.string()), ("title", pa.string()),
                                           ("effective_date", pa.date32()), ("end_date", pa.date32()),
                                           ("status", pa.string())]),
    "coverage_hcpcs": pa.schema(_KEY + [("hcpcs", pa.string()), ("hcpcs_group", pa.string()),
                                        ("long_description", pa.string()), ("short_description", pa.string())]),
    "coverage_icd10": pa.schema(_KEY + [("icd10", pa.string()), ("icd10_group", pa.string()),
                                        ("description", pa.string())]),
    "coverage_icd10_groups": pa.schema(_KEY + [("icd10_group", pa.string()), ("paragraph", pa.string()),
                                               ("asterisk_text", pa.string())]),
}
#: file name -> (store table, {store column: export column}, required export columns)
FILES: dict[str, tuple[str, dict[str, str], list[str]]] = {
    "article.csv": ("coverage_articles", {"display_id": "display_id", "title": "title",
                                          "effective_date": "article_eff_date", "end_date": "article_end_date",
                                          "status": "status"}, ["title"]),
    "article_x_hcpc_code.csv": ("coverage_hcpcs", {"hcpcs": "hcpc_code_id", "hcpcs_group": "hcpc_code_group",
                                                   "long_description": "long_description",
                                                   "short_description": "short_description"},
                                ["hcpc_code_id", "hcpc_code_group"]),
    "article_x_icd10_covered.csv": ("coverage_icd10", {"icd10": "icd10_code_id", "icd10_group": "icd10_covered_group",
                                                       "description": "description"},
                                    ["icd10_code_id", "icd10_covered_group"]),
    "article_x_icd10_covered_group.csv": ("coverage_icd10_groups", {"icd10_group": "icd10_covered_group",
                                                                    "paragraph": "paragraph",
                                                                    "asterisk_text": "icd10_covered_ast"},
                                          ["icd10_covered_group", "paragraph"]),
}


def _date(value: str, where: str) -> dt.date | None:
    text = value.strip()[:10]
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise RefDataError(f"{where}: expected a date (YYYY-MM-DD or mm/dd/yyyy), found {value!r}")


def load(path: Path) -> list[Loaded]:
    table, mapping, required = FILES[path.name.lower()]
    try:
        rows = read_csv_rows(path, "utf-8-sig")
    except RefDataError:
        rows = read_csv_rows(path, "cp1252")
    if not rows:
        raise RefDataError(f"{path}: empty file; expected a header row starting with article_id,article_version")
    header = [h.strip().lower() for h in rows[0]]
    ix = columns_index(header, ["article_id", "article_version", *required], path, 1)
    schema = SCHEMAS[table]
    out: dict[str, list] = {name: [] for name in schema.names}
    updated: list[dt.date] = []
    for number, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise RefDataError(f"{path}: line {number}: {len(row)} columns, expected {len(header)} (truncated line?)")
        out["article_id"].append(cell(row, ix["article_id"]))
        out["article_version"].append(cell(row, ix["article_version"]))
        for col, src in mapping.items():
            value = cell(row, ix[src]) if src in ix else ""
            if schema.field(col).type == pa.date32():
                out[col].append(_date(value, f"{path}: line {number}, column {src}"))
            elif col == "icd10":
                out[col].append(value.replace(".", "").upper())
            else:
                out[col].append(value or None)
        if "last_updated" in ix and (day := _date(cell(row, ix["last_updated"]), f"{path}: line {number}, column last_updated")):
            updated.append(day)
    latest = max(updated) if updated else None
    release = f"MCD {latest.isoformat()}" if latest else "MCD (undated)"
    out["release"] = [release] * len(out["article_id"])
    return [Loaded(table, table, release, latest, None, path, pa.Table.from_pydict(out, schema=schema))]
