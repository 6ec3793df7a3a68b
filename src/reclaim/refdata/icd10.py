"""ICD-10-CM code lists: the CDC's files (tabular XML, order file, code file) and the CMS list.

* CDC tabular XML (``icd10cm-tabular-2026.xml``, ``icd10cm-tabular-April-1-2026.xml``; the same
  file ships unchanged in the PyPI package ``simple-icd-10-cm`` as
  ``icd10c-tabular-April-1-2026.xml``, read by :func:`bundled_tabular`): the full hierarchy
  (chapter > section > diag > diag...). A code is billable when it has no children; a
  ``sevenChrDef`` applies to every leaf below it, whose 7-character codes are the leaf padded
  with the placeholder X to six characters plus the extension character (description: the leaf's,
  a comma, the extension's), as the CDC order file lists them.
* CDC ``icd10cm-codes-YYYY.txt``: billable codes only, the code, spaces, the description.
* CMS Section 111 valid-code list (``section111validicd10-*.xlsx``): header row 1
  ``CODE, SHORT DESCRIPTION (VALID ICD-10 FY2025), LONG DESCRIPTION (...), NF EXCL``; billable
  codes only, no dots. The fiscal year comes from the header text.
* CDC ``icd10cm-order-YYYY.txt``: fixed columns: order number 1-5, code 7-13, billable flag 15
  (1 = billable), short description 17-76, long description 78 to end of line. Category headers
  (billable 0) are kept with ``billable`` false.

A fiscal year FYyyyy runs October 1 of yyyy-1 to September 30 of yyyy; the April update of
FYyyyy (file names with "April") is in force from April 1 of yyyy, replacing the October release
for the rest of the year. Codes are stored without the dot. The CMS list is partial (it omits
whole chapters, e.g. every Z code): a code missing from it is unknown, not invalid; the CDC list
of the date decides whenever one is held (``source_format`` tells the lists apart).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import importlib.util
import re
import xml.etree.ElementTree as ET
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
    ("source_format", pa.string()),    # cdc_tabular | cdc_order | cdc_codes | cms_valid_list
])
#: the formats that are the CDC's complete list (the CMS Section 111 list is not)
CDC_FORMATS = ("cdc_tabular", "cdc_order", "cdc_codes")
BUNDLED_PACKAGE = "simple-icd-10-cm"
CODES_LINE = re.compile(r"^([A-Z][0-9A-Z]{2,6})\s+(\S.*)$")
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
    return [Loaded("icd10_cms", "icd10", release, start, end, path, table, replaces={"source_format": "cms_valid_list"},
                   notes="CMS Section 111 valid-code list (billable codes only, whole chapters such as Z absent: "
                         "used only for dates no CDC release covers)")]


def _release_of(path: Path, version: str | None = None) -> tuple[str, dt.date, dt.date]:
    """FYyyyy (October 1 of yyyy-1 to September 30 of yyyy) or FYyyyy-04 (the April update, from
    April 1 of yyyy), from the file name (``...-2026...``, ``...April-1-2026...``) or ``version``."""
    match = re.search(r"(20\d{2})", path.name) or (re.search(r"(20\d{2})", version) if version else None)
    if not match:
        raise RefDataError(f"{path}: cannot tell the fiscal year (expected a file name such as "
                           "icd10cm-order-2026.txt or icd10cm-tabular-April-1-2026.xml)")
    year = int(match.group(1))
    start, end = fiscal_year(year)
    if "april" in path.name.lower():
        return f"FY{year}-04", dt.date(year, 4, 1), end
    return f"FY{year}", start, end


def _table(release: str, start: dt.date, end: dt.date, codes: list[str], shorts: list, longs: list,
           billable: list[bool], source_format: str) -> pa.Table:
    n = len(codes)
    return pa.Table.from_pydict({
        "release": [release] * n, "effective_from": [start] * n, "effective_to": [end] * n, "code": codes,
        "short_description": shorts, "long_description": longs, "billable": billable, "nf_excl": [None] * n,
        "source_format": [source_format] * n}, schema=SCHEMA)


#: the one 7th-character restriction the tabular states in prose (a sevenChrNote under S06):
#: "7th characters D and S do not apply to codes in category S06 with 6th character 7 ... or 8"
_NO_LATER_ENCOUNTER = {"S06": {"7": "DS", "8": "DS"}}


def load_tabular(path: Path, *, source: str | None = None, notes: str = "") -> list[Loaded]:
    """The CDC ICD-10-CM tabular XML: every category, subcategory and code, billable = no children,
    7th-character codes expanded from ``sevenChrDef`` as the CDC order file lists them."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise RefDataError(f"{path}: line {line}, column {column}: not well-formed XML ({exc})") from None
    if root.tag != "ICD10CM.tabular":
        raise RefDataError(f"{path}: expected the CDC ICD-10-CM tabular (root element ICD10CM.tabular), found {root.tag!r}")
    release, start, end = _release_of(path, root.findtext("version"))
    codes: list[str] = []
    descs: list[str] = []
    billable: list[bool] = []

    def walk(diag: ET.Element, seventh: list[tuple[str, str]] | None) -> None:
        name = (diag.findtext("name") or "").strip()
        code = name.replace(".", "").upper()
        if not re.fullmatch(r"[A-Z][0-9A-Z]{2,6}", code):
            raise RefDataError(f"{path}: diag {name!r}: expected an ICD-10-CM code name")
        desc = " ".join((diag.findtext("desc") or "").split())
        own = diag.find("sevenChrDef")
        if own is not None:
            seventh = [(e.get("char", ""), " ".join((e.text or "").split())) for e in own.findall("extension")]
        children = diag.findall("diag")
        has_children = bool(children) or bool(seventh)
        codes.append(code)
        descs.append(desc)
        billable.append(not has_children)
        for child in children:
            walk(child, seventh)
        if seventh and not children:
            stem = code.ljust(6, "X")
            for char, text_ in seventh:
                if char in _NO_LATER_ENCOUNTER.get(stem[:3], {}).get(stem[5], ""):
                    continue
                codes.append(stem + char)
                descs.append(f"{desc}, {text_}")
                billable.append(True)

    for chapter in root.iter("chapter"):
        for section in chapter.iter("section"):
            for diag in section.findall("diag"):
                walk(diag, None)
    if not codes:
        raise RefDataError(f"{path}: no diag element found: is this the CDC ICD-10-CM tabular XML?")
    table = _table(release, start, end, codes, [None] * len(codes), descs, billable, "cdc_tabular")
    return [Loaded("icd10", "icd10", release, start, end, path, table, replaces={"source_format": "cdc_tabular"},
                   source=source, notes=notes or f"CDC ICD-10-CM tabular: {sum(billable)} billable of {len(codes)}")]


def bundled_tabular() -> Path | None:
    """The CDC tabular XML inside the installed PyPI package simple-icd-10-cm (None when the
    package is not installed): an official CDC release that every reclaim install has."""
    # located, not imported: the package's __init__ parses the whole tabular into objects (~4 s)
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    found = sorted(p for p in folder.glob("*.xml") if "tabular" in p.name) if folder.is_dir() else []
    return found[-1] if found else None


def load_bundled() -> list[Loaded]:
    path = bundled_tabular()
    if path is None:
        raise RefDataError(f"the Python package {BUNDLED_PACKAGE} is not installed",
                           hint=f"pip install {BUNDLED_PACKAGE} (a reclaim dependency) or import the CDC files yourself.")
    version = importlib.metadata.version(BUNDLED_PACKAGE)
    loaded = load_tabular(path, source=f"PyPI package {BUNDLED_PACKAGE} {version} (the CDC file, unchanged)")
    for item in loaded:
        item.notes = (f"CDC ICD-10-CM tabular {path.name}, read from the installed package {BUNDLED_PACKAGE} "
                      f"{version}; {item.notes.split(': ', 1)[-1]}")
    return loaded


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise RefDataError(f"{path}: byte offset {exc.start}: not UTF-8/ASCII text") from None


def load_codes_file(path: Path) -> list[Loaded]:
    """CDC ``icd10cm-codes-YYYY.txt``: one billable code a line (code, spaces, description)."""
    release, start, end = _release_of(path)
    lines = _text_lines(path)
    codes, descs = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        match = CODES_LINE.match(line)
        if not match:
            raise RefDataError(f"{path}: line {number}: expected the CDC code-file layout (a code such as A000, "
                               f"spaces, its description), found {line[:40]!r}")
        codes.append(match.group(1))
        descs.append(match.group(2).strip())
    table = _table(release, start, end, codes, [None] * len(codes), descs, [True] * len(codes), "cdc_codes")
    return [Loaded("icd10", "icd10", release, start, end, path, table, replaces={"source_format": "cdc_codes"},
                   notes=f"CDC code file: {len(codes)} billable codes (headers are the codes' prefixes)")]


def load_order_file(path: Path) -> list[Loaded]:
    release, start, end = _release_of(path)
    lines = _text_lines(path)
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
    return [Loaded("icd10", "icd10", release, start, end, path, table, replaces={"source_format": "cdc_order"},
                   notes=f"CDC order file: {sum(billable)} billable of {n}")]
