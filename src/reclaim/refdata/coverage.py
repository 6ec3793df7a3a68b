"""Medicare Coverage Database (MCD) article export: which ICD-10 codes support which HCPCS codes.

From ``current_article_csv.zip`` (https://www.cms.gov/medicare-coverage-database/downloads/):
``article.csv`` (titles, dates), ``article_x_hcpc_code.csv``, ``article_x_icd10_covered.csv``,
``article_x_icd10_covered_group.csv``. Columns are read by header name (the export has a header
row, e.g. ``article_id,article_version,icd10_code_id,icd10_code_version,icd10_covered_group,...``);
required columns are checked, extra columns ignored. ICD-10 codes are stored without the dot.
The release is the latest ``last_updated`` date in the file (the export carries no other date).

Which MAC's articles apply to a claim: ``article_x_contractor.csv`` names each article's
contractor (``contractor_id, contractor_type_id, contractor_version``),
``contractor_jurisdiction.csv`` the states each contractor serves (``state_id``, ``term_date``
when it stopped) and ``state_lookup.csv`` the state abbreviations; ``contractor.csv`` the
contractors' names. The ``billing_state`` setting (the billing provider's state) chooses them.
Nothing here is in the mirror: without these files the store reports "no coverage data loaded"
and every check run says "diagnosis coverage not checked: no coverage data".
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
    "coverage_contractors": pa.schema(_KEY + [("contractor_id", pa.string()), ("contractor_type_id", pa.string()),
                                              ("contractor_version", pa.string())]),
}
_CONTRACTOR_KEY = [("release", pa.string()), ("contractor_id", pa.string()), ("contractor_type_id", pa.string()),
                   ("contractor_version", pa.string())]
#: contractor and state tables: keyed by contractor / state, not by article
OTHER_SCHEMAS: dict[str, pa.Schema] = {
    "coverage_jurisdictions": pa.schema(_CONTRACTOR_KEY + [("state_id", pa.string()), ("term_date", pa.date32())]),
    "coverage_contractor_names": pa.schema(_CONTRACTOR_KEY + [("name", pa.string())]),
    "coverage_states": pa.schema([("release", pa.string()), ("state_id", pa.string()), ("state_abbrev", pa.string()),
                                  ("description", pa.string())]),
}
SCHEMAS.update(OTHER_SCHEMAS)
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
    "article_x_contractor.csv": ("coverage_contractors", {"contractor_id": "contractor_id",
                                                          "contractor_type_id": "contractor_type_id",
                                                          "contractor_version": "contractor_version"},
                                 ["contractor_id", "contractor_type_id", "contractor_version"]),
}
#: files keyed by something else than the article: (store table, {store column: export column}, key columns)
OTHER_FILES: dict[str, tuple[str, dict[str, str], list[str]]] = {
    "contractor_jurisdiction.csv": ("coverage_jurisdictions", {
        "contractor_id": "contractor_id", "contractor_type_id": "contractor_type_id",
        "contractor_version": "contractor_version", "state_id": "state_id", "term_date": "term_date"},
        ["contractor_id", "contractor_type_id", "contractor_version", "state_id"]),
    "contractor.csv": ("coverage_contractor_names", {
        "contractor_id": "contractor_id", "contractor_type_id": "contractor_type_id",
        "contractor_version": "contractor_version", "name": "contractor_bus_name"},
        ["contractor_id", "contractor_type_id", "contractor_version"]),
    "state_lookup.csv": ("coverage_states", {"state_id": "state_id", "state_abbrev": "state_abbrev",
                                             "description": "description"}, ["state_id", "state_abbrev"]),
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
    """One file of the MCD export into its store table (columns by header name)."""
    name = path.name.lower()
    if name in FILES:
        table, mapping, required = FILES[name]
        mapping = {"article_id": "article_id", "article_version": "article_version", **mapping}
        required = ["article_id", "article_version", *required]
    else:
        table, mapping, required = OTHER_FILES[name]
    try:
        rows = read_csv_rows(path, "utf-8-sig")
    except RefDataError:
        rows = read_csv_rows(path, "cp1252")
    if not rows:
        raise RefDataError(f"{path}: empty file; expected the MCD export's header row ({', '.join(required)}...)")
    header = [h.strip().lower() for h in rows[0]]
    ix = columns_index(header, required, path, 1)
    schema = SCHEMAS[table]
    out: dict[str, list] = {name: [] for name in schema.names}
    updated: list[dt.date] = []
    for number, row in enumerate(rows[1:], 2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise RefDataError(f"{path}: line {number}: {len(row)} columns, expected {len(header)} (truncated line?)")
        for col, src in mapping.items():
            value = cell(row, ix[src]) if src in ix else ""
            if schema.field(col).type == pa.date32():
                out[col].append(_date(value, f"{path}: line {number}, column {src}"))
            elif col == "icd10":
                out[col].append(value.replace(".", "").upper())
            elif col in ("article_id", "article_version"):
                out[col].append(value)
            elif col == "state_abbrev":
                out[col].append(value.upper())
            else:
                out[col].append(value or None)
        if "last_updated" in ix and (day := _date(cell(row, ix["last_updated"]), f"{path}: line {number}, column last_updated")):
            updated.append(day)
    latest = max(updated) if updated else None
    release = f"MCD {latest.isoformat()}" if latest else "MCD (undated)"
    out["release"] = [release] * len(out[next(iter(mapping))])
    return [Loaded(table, table, release, latest, None, path, pa.Table.from_pydict(out, schema=schema))]
