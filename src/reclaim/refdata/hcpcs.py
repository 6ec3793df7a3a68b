"""CMS HCPCS Level II alpha-numeric file (ANWEB): the xlsx and the fixed-width txt.

Both formats give the same fields (CMS record layout ``HCPCyyyy_recordlayout.txt``; positions in
``refdata/cms_hcpcs/layout_2026_derived``). The txt has 320-character cp1252 records; a long
description continues on RECID 4 (procedure) / 8 (modifier) lines, joined in SEQNUM order. The
combined CMS txt also carries CPT rows (codes starting with a digit, AMA copyright): they are
dropped, so both formats yield Level II procedure codes and modifiers only.

``is_drug``: any pricing indicator ``51`` ("Drugs" in the layout's code table) or a drug BETOS
(``O1D`` chemotherapy, ``O1E`` other drugs, ``D1G`` drugs administered through DME). Indicator 51
alone misses 275 drug codes of the 2025-10 file, e.g. the OPPS pass-through C-codes (C9027
pembrolizumab: indicator 53, BETOS O1E) and carrier-priced ones (A9150, indicator 57).
For drugs the billing unit is parsed from the long descriptor by
:func:`reclaim.refdata.units.parse_billing_unit`; descriptors it cannot parse keep null units
and are counted in the release notes (and listed by the store view ``hcpcs_unparsed_units``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import pyarrow as pa

from ..errors import RefDataError
from .files import Loaded, text, xlsx_rows, yyyymmdd

#: txt layout: field -> (start, end), 1-based inclusive, as in the CMS record layout
TXT_LAYOUT: dict[str, tuple[int, int]] = {
    "HCPC": (1, 5), "SEQNUM": (6, 10), "RECID": (11, 11), "LONG DESCRIPTION": (12, 91),
    "SHORT DESCRIPTION": (92, 119),
    **{f"PRICE{i}": (120 + 2 * (i - 1), 121 + 2 * (i - 1)) for i in range(1, 5)},
    "MULT_PI": (128, 128),
    **{f"CIM{i}": (129 + 6 * (i - 1), 134 + 6 * (i - 1)) for i in range(1, 4)},
    **{f"MCM{i}": (147 + 8 * (i - 1), 154 + 8 * (i - 1)) for i in range(1, 4)},
    "STATUTE": (171, 180),
    **{f"LABCERT{i}": (181 + 3 * (i - 1), 183 + 3 * (i - 1)) for i in range(1, 9)},
    **{f"XREF{i}": (205 + 5 * (i - 1), 209 + 5 * (i - 1)) for i in range(1, 6)},
    "COV": (230, 230), "ASC_GRP": (231, 232), "ASC_DT": (233, 240), "OPPS": (241, 243),
    "OPPS_PI": (244, 244), "OPPS_DT": (245, 252), "PROCNOTE": (253, 256), "BETOS": (257, 259),
    **{f"TOS{i}": (260 + i, 260 + i) for i in range(1, 6)},
    "ANEST_BU": (266, 268), "ADD DT": (269, 276), "ACT EFF DT": (277, 284), "TERM DT": (285, 292),
    "ACTION CD": (293, 293),
}
RECORD_LENGTH = 320
FIELDS = tuple(TXT_LAYOUT)
DRUG_BETOS = frozenset({"O1D", "O1E", "D1G"})
_MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_NAME = re.compile(r"HCPC(\d{4})_([A-Z]{3})", re.I)

SCHEMA = pa.schema([
    ("release", pa.string()),            # e.g. 2025-10 (the quarterly file's month)
    ("release_effective", pa.date32()),  # first day of that quarter's file
    ("code", pa.string()),               # HCPC, stripped (modifiers are 2 characters)
    ("kind", pa.string()),               # procedure | modifier
    ("long_description", pa.string()),
    ("short_description", pa.string()),
    ("pricing_indicator", pa.string()),  # PRICE1
    ("pricing_indicators", pa.list_(pa.string())),  # PRICE1..4, blanks dropped
    ("mult_pi", pa.string()),
    ("cim_refs", pa.list_(pa.string())),
    ("mcm_refs", pa.list_(pa.string())),
    ("statute", pa.string()),
    ("labcert", pa.list_(pa.string())),
    ("xrefs", pa.list_(pa.string())),
    ("coverage_code", pa.string()),      # COV: C, D, I, M, S
    ("asc_group", pa.string()),
    ("asc_date", pa.date32()),
    ("opps", pa.string()),
    ("opps_pi", pa.string()),
    ("opps_date", pa.date32()),
    ("procnote", pa.string()),
    ("betos", pa.string()),
    ("tos", pa.list_(pa.string())),
    ("anest_bu", pa.int32()),
    ("add_date", pa.date32()),
    ("effective_date", pa.date32()),     # ACT EFF DT
    ("termination_date", pa.date32()),   # TERM DT: last valid date of service (inclusive)
    ("action_code", pa.string()),
    ("is_drug", pa.bool_()),
    ("unit_amount", pa.decimal128(18, 6)),
    ("unit_uom", pa.string()),
    ("unit_text", pa.string()),
])


def release_from_name(path: Path) -> tuple[str, dt.date]:
    """``HCPC2025_OCT_ANWEB.xlsx`` -> (``2025-10``, 2025-10-01): CMS names files by quarter month."""
    match = _NAME.search(path.name)
    if not match or match.group(2).upper() not in _MONTHS:
        raise RefDataError(
            f"{path}: cannot tell the HCPCS release from the file name: expected CMS's "
            "'HCPCyyyy_MON_ANWEB...' (e.g. HCPC2025_OCT_ANWEB.xlsx)"
        )
    month = _MONTHS[match.group(2).upper()]
    return f"{match.group(1)}-{month:02d}", dt.date(int(match.group(1)), month, 1)


def read_xlsx(path: Path) -> list[dict[str, str]]:
    """Records of the CMS xlsx (one row per code), as field -> text."""
    rows = xlsx_rows(path)
    header = next(rows, None)
    if header is None:
        raise RefDataError(f"{path}: the sheet is empty; expected the CMS HCPCS header row (HCPC, SEQNUM, RECID, ...)")
    names = [text(h) for h in header]
    missing = [f for f in FIELDS if f not in names]
    if missing:
        raise RefDataError(f"{path}: row 1: HCPCS header is missing column(s) {', '.join(missing)}")
    pos = [names.index(f) for f in FIELDS]
    records = []
    for row in rows:
        if row is None or all(v is None or text(v) == "" for v in row):
            continue
        records.append({f: (text(row[p]) if p < len(row) else "") for f, p in zip(FIELDS, pos)})
    return records


def read_txt(path: Path) -> list[dict[str, str]]:
    """Records of the CMS fixed-width txt, continuation lines joined, CPT rows dropped."""
    try:
        raw = path.read_bytes().decode("cp1252")
    except UnicodeDecodeError as exc:
        raise RefDataError(f"{path}: byte offset {exc.start}: not cp1252 text (expected the CMS fixed-width file)") from None
    first: dict[str, dict[str, str]] = {}
    continuations: dict[str, list[tuple[int, str]]] = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        if len(line) > RECORD_LENGTH:
            raise RefDataError(f"{path}: line {number}: record is {len(line)} characters, expected {RECORD_LENGTH}")
        line = line.ljust(RECORD_LENGTH)
        code, seq, recid = line[0:5].strip(), line[5:10].strip(), line[10]
        if recid not in "3478":
            raise RefDataError(f"{path}: line {number}, column 11: RECID must be 3, 4, 7 or 8, found {recid!r}")
        if not seq.isdigit():
            raise RefDataError(f"{path}: line {number}, columns 6-10: SEQNUM must be a number, found {seq!r}")
        if not code or code[0].isdigit():  # CPT (AMA) rows and CPT modifiers: not Level II
            continue
        if recid in "48":
            continuations.setdefault(code, []).append((int(seq), line[11:91].strip()))
            continue
        if code in first:
            raise RefDataError(f"{path}: line {number}: code {code} has a second first-line record (RECID {recid})")
        first[code] = {f: line[s - 1:e].strip() for f, (s, e) in TXT_LAYOUT.items()}
        first[code]["HCPC"] = code
    for code, parts in continuations.items():
        if code not in first:
            raise RefDataError(f"{path}: continuation line(s) for {code} without its first record (RECID 3/7)")
        record = first[code]
        ordered = [record["LONG DESCRIPTION"]] + [t for _, t in sorted(parts)]
        record["LONG DESCRIPTION"] = " ".join(p for p in ordered if p)
    return list(first.values())


def _units(descriptions: Iterable[str | None]) -> list[object]:
    from .units import parse_billing_unit

    return [parse_billing_unit(d) if d else None for d in descriptions]


def to_table(records: list[dict[str, str]], release: str, effective: dt.date, path: Path) -> tuple[pa.Table, int]:
    """Store rows for the records; also returns how many drug descriptors had no parsable unit."""
    cols: dict[str, list] = {name: [] for name in SCHEMA.names}

    def listed(rec: dict[str, str], stem: str, n: int) -> list[str]:
        return [rec[f"{stem}{i}"] for i in range(1, n + 1) if rec[f"{stem}{i}"]]

    for number, rec in enumerate(records, 2):
        where = f"{path}: record {number - 1} ({rec['HCPC'].strip()})"
        recid = rec["RECID"]
        if recid not in ("3", "7"):
            raise RefDataError(f"{where}: RECID must be 3 (procedure) or 7 (modifier), found {recid!r}")
        prices = listed(rec, "PRICE", 4)
        betos = rec["BETOS"] or None
        anest = rec["ANEST_BU"].strip()
        cols["code"].append(rec["HCPC"].strip())
        cols["kind"].append("procedure" if recid == "3" else "modifier")
        cols["long_description"].append(rec["LONG DESCRIPTION"] or None)
        cols["short_description"].append(rec["SHORT DESCRIPTION"] or None)
        cols["pricing_indicator"].append(rec["PRICE1"] or None)
        cols["pricing_indicators"].append(prices)
        cols["mult_pi"].append(rec["MULT_PI"] or None)
        cols["cim_refs"].append(listed(rec, "CIM", 3))
        cols["mcm_refs"].append(listed(rec, "MCM", 3))
        cols["statute"].append(rec["STATUTE"] or None)
        cols["labcert"].append(listed(rec, "LABCERT", 8))
        cols["xrefs"].append(listed(rec, "XREF", 5))
        cols["coverage_code"].append(rec["COV"] or None)
        cols["asc_group"].append(rec["ASC_GRP"] or None)
        cols["asc_date"].append(yyyymmdd(rec["ASC_DT"], where=f"{where}, ASC_DT"))
        cols["opps"].append(rec["OPPS"] or None)
        cols["opps_pi"].append(rec["OPPS_PI"] or None)
        cols["opps_date"].append(yyyymmdd(rec["OPPS_DT"], where=f"{where}, OPPS_DT"))
        cols["procnote"].append(rec["PROCNOTE"] or None)
        cols["betos"].append(betos)
        cols["tos"].append(listed(rec, "TOS", 5))
        if anest and not anest.isdigit():
            raise RefDataError(f"{where}, ANEST_BU: expected a number, found {anest!r}")
        cols["anest_bu"].append(int(anest) if anest else None)
        cols["add_date"].append(yyyymmdd(rec["ADD DT"], where=f"{where}, ADD DT"))
        cols["effective_date"].append(yyyymmdd(rec["ACT EFF DT"], where=f"{where}, ACT EFF DT"))
        cols["termination_date"].append(yyyymmdd(rec["TERM DT"], where=f"{where}, TERM DT"))
        cols["action_code"].append(rec["ACTION CD"] or None)
        cols["is_drug"].append(recid == "3" and ("51" in prices or betos in DRUG_BETOS))
    units = _units(d if drug else None for d, drug in zip(cols["long_description"], cols["is_drug"]))
    unparsed = sum(1 for u, drug in zip(units, cols["is_drug"]) if drug and u is None)
    cols["unit_amount"] = [Decimal(u.amount) if u else None for u in units]
    cols["unit_uom"] = [u.uom if u else None for u in units]
    cols["unit_text"] = [u.text if u else None for u in units]
    cols["release"] = [release] * len(records)
    cols["release_effective"] = [effective] * len(records)
    return pa.Table.from_pydict(cols, schema=SCHEMA), unparsed


def load(path: Path) -> list[Loaded]:
    """Read a CMS HCPCS file (``.xlsx`` or fixed-width ``.txt``) into the ``hcpcs`` table."""
    release, effective = release_from_name(path)
    records = read_xlsx(path) if path.suffix.lower() == ".xlsx" else read_txt(path)
    if not records:
        raise RefDataError(f"{path}: no HCPCS records found")
    table, unparsed = to_table(records, release, effective, path)
    drugs = sum(1 for v in table.column("is_drug").to_pylist() if v)
    return [Loaded("hcpcs", "hcpcs", release, effective, None, path, table,
                   notes=f"{drugs} drug codes; {unparsed} drug descriptors with no parsable billing unit")]


# ---------------------------------------------------------------------------------------------
# record-layout code tables: what the coded fields mean

#: meanings of the coded HCPCS fields (pricing indicator, coverage code, action code, BETOS...),
#: from the record layout that CMS ships with each year's file. Only a DERIVED summary of that
#: layout text exists as a table (``HCPC2026_recordlayout_codetables_DERIVED.csv``); its rows
#: keep provenance "derived" and the guide labels every meaning read from them.
CODE_TABLES_SCHEMA = pa.schema([
    ("release", pa.string()),  # the layout's year, e.g. "2026 layout"
    ("field", pa.string()),    # the hcpcs column it explains: pricing_indicator, coverage_code, ...
    ("code", pa.string()),
    ("meaning", pa.string()),
])
_LAYOUT_NAME = re.compile(r"HCPC(\d{4})_recordlayout_codetables", re.I)
#: the CSV's "field" column -> the store's hcpcs column it explains
_CODE_TABLE_FIELDS = {"PRICE (pricing indicator)": "pricing_indicator", "COV": "coverage_code",
                      "ACTION CD": "action_code", "BETOS": "betos", "MULT_PI": "mult_pi", "TOS": "tos",
                      "RECID": "record_id"}


def is_code_tables(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and _LAYOUT_NAME.search(path.name) is not None


def load_code_tables(path: Path) -> list[Loaded]:
    """The record-layout code tables (columns field, code, meaning) -> store table
    ``hcpcs_code_tables``; a field the guide does not know keeps its name from the file."""
    import csv
    import io

    try:
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise RefDataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from None
    if not {"field", "code", "meaning"} <= set(reader.fieldnames or ()):
        raise RefDataError(f"{path}: expected the columns field, code, meaning (found {reader.fieldnames})")
    release = f"{_LAYOUT_NAME.search(path.name).group(1)} layout"
    out = {"release": [], "field": [], "code": [], "meaning": []}
    for row in rows:
        name, code = (row["field"] or "").strip(), (row["code"] or "").strip()
        if not name or not code:
            continue
        out["release"].append(release)
        out["field"].append(_CODE_TABLE_FIELDS.get(name, name))
        out["code"].append(code)
        out["meaning"].append((row["meaning"] or "").strip())
    return [Loaded("hcpcs_code_tables", "hcpcs_code_tables", release, None, None, path,
                   pa.Table.from_pydict(out, schema=CODE_TABLES_SCHEMA), provenance="derived")]
