"""The reference store: one DuckDB file holding every imported official release.

Build it with :func:`import_dir` (``reclaim data import DIR``); read it with :meth:`RefStore.open`.
The contract (tables, columns, look-up semantics) is ``docs/refdata-store.md``.

Import is atomic: the current store is copied beside itself, the new releases are written into
the copy, and the copy is renamed over the store only when every file loaded. A failed import
leaves the old store untouched. Releases are versioned: a new release of a dataset is added next
to the older ones; importing the same release again replaces it.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import duckdb
import pyarrow as pa

from .. import __version__
from ..errors import RefDataError, StoreNotBuiltError
from . import asp, carc_rarc, claim_status, coverage, hcpcs, icd10, mue, opps, pos
from .files import Loaded, read_csv_rows, sha256_file, xlsx_header, xlsx_rows

#: bump when a table's layout changes incompatibly; older stores must be rebuilt
FORMAT_VERSION = 1

#: store table -> Arrow schema (every table exists, empty when its dataset is not loaded)
TABLES: dict[str, pa.Schema] = {
    "hcpcs": hcpcs.SCHEMA,
    "hcpcs_code_tables": hcpcs.CODE_TABLES_SCHEMA,
    "asp_pricing": asp.PRICING_SCHEMA,
    "ndc_crosswalk": asp.CROSSWALK_SCHEMA,
    "noc_pricing": asp.NOC_PRICING_SCHEMA,
    "noc_crosswalk": asp.NOC_CROSSWALK_SCHEMA,
    "icd10": icd10.SCHEMA,
    "carc": carc_rarc.CODE_SCHEMA,
    "rarc": carc_rarc.CODE_SCHEMA,
    "group_codes": carc_rarc.GROUP_SCHEMA,
    "mue": mue.SCHEMA,
    "opps_addendum_b": opps.SCHEMA,
    **coverage.SCHEMAS,
    "place_of_service": pos.SCHEMA,
    **claim_status.TABLES,
}

RELEASES_SCHEMA = pa.schema([
    ("dataset", pa.string()), ("table_name", pa.string()), ("release", pa.string()),
    ("release_label", pa.string()),      # the MANIFEST.csv description when there is one
    ("effective_from", pa.date32()), ("effective_to", pa.date32()),
    ("source", pa.string()),             # folder or URL the file was imported from
    ("file_name", pa.string()), ("sha256", pa.string()), ("rows", pa.int64()),
    ("provenance", pa.string()),         # official | derived | handwritten
    ("notes", pa.string()), ("imported_at", pa.timestamp("s")), ("reclaim_version", pa.string()),
])

#: datasets ``data status`` reports as "not loaded" when absent (dataset -> table)
EXPECTED = {
    "hcpcs": "hcpcs", "asp_pricing": "asp_pricing", "ndc_crosswalk": "ndc_crosswalk", "icd10": "icd10",
    "carc": "carc", "rarc": "rarc", "group_codes": "group_codes", "mue": "mue",
    "coverage": "coverage_icd10", "place_of_service": "place_of_service",
    "claim_status_categories": "claim_status_categories", "claim_status_codes": "claim_status_codes",
    "opps_addendum_b": "opps_addendum_b",
}

Progress = Callable[[str, int, int], None]

#: how users and messages name each dataset (``releases.dataset``)
DATASET_LABELS = {
    "hcpcs": "CMS HCPCS", "asp_pricing": "CMS ASP pricing", "ndc_crosswalk": "CMS ASP NDC-HCPCS crosswalk",
    "noc_pricing": "CMS ASP NOC pricing", "noc_crosswalk": "CMS ASP NOC crosswalk",
    "icd10": "CDC ICD-10-CM", "icd10_cms": "CMS Section 111 ICD-10 list",
    "mue_practitioner": "CMS NCCI MUE practitioner", "mue_outpatient_hospital": "CMS NCCI MUE outpatient hospital",
    "mue_dme": "CMS NCCI MUE DME supplier", "carc": "X12 CARC", "rarc": "X12 RARC",
    "coverage_articles": "CMS MCD articles", "coverage_hcpcs": "CMS MCD article HCPCS codes",
    "coverage_icd10": "CMS MCD article ICD-10 codes", "coverage_icd10_groups": "CMS MCD article ICD-10 groups",
    "place_of_service": "CMS Place of Service codes",
    "claim_status_categories": "X12 Claim Status Category Codes", "claim_status_codes": "X12 Claim Status Codes",
    "opps_addendum_b": "CMS OPPS Addendum B",
}
_PULL = {"hcpcs": "pull the current quarter (reclaim data pull --dataset hcpcs)",
         "asp_pricing": "pull the current quarter (reclaim data pull --dataset asp)",
         "ndc_crosswalk": "pull the current quarter (reclaim data pull --dataset asp)",
         "noc_pricing": "pull the current quarter (reclaim data pull --dataset asp)",
         "noc_crosswalk": "pull the current quarter (reclaim data pull --dataset asp)",
         "icd10": "pull the current fiscal year (reclaim data pull --dataset icd10)",
         "icd10_cms": "the CDC list (reclaim data pull --dataset icd10) replaces it",
         "mue_practitioner": "pull the current quarter (reclaim data pull --dataset mue)",
         "mue_outpatient_hospital": "pull the current quarter (reclaim data pull --dataset mue)",
         "mue_dme": "pull the current quarter (reclaim data pull --dataset mue)",
         "opps_addendum_b": "pull the current quarter (reclaim data pull --dataset opps)"}
_CODE_LISTS = {"carc", "rarc", "place_of_service", "claim_status_categories", "claim_status_codes"}
_NO_PERIOD_SHOWN = {"hcpcs_code_tables", "group_codes"}


def _quarter_last_day(start: dt.date) -> dt.date:
    month = (start.month - 1) // 3 * 3 + 3
    return dt.date(start.year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass
class ImportReport:
    store: Path
    loaded: list[Loaded] = field(default_factory=list)
    #: files in the folder that are not a dataset reclaim reads, with the reason
    skipped: list[tuple[Path, str]] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# recognizing files


def recognize(path: Path) -> Callable[[Path], list[Loaded]] | str:
    """The loader for a file, or the reason it is not a dataset (text)."""
    suffix = path.suffix.lower()
    name = path.name
    if name in ("MANIFEST.csv", "README.md", "LIST.csv") or name.startswith("."):
        return "documentation (not a dataset)"
    if hcpcs.is_code_tables(path):  # derived, but the only table of what the coded fields mean
        return hcpcs.load_code_tables
    if "_DERIVED" in name:
        return "derived summary (documentation, not data)"
    if suffix == ".xlsx":
        header = xlsx_header(path)
        if header is None:
            return _damaged_xlsx
        if header[:3] == ("HCPC", "SEQNUM", "RECID"):
            return hcpcs.load
        if header and header[0] == "CODE" and any("ICD-10" in h.upper() for h in header[1:3]):
            return icd10.load_cms_valid_list
        if pos.matches_xlsx(header):
            return pos.load
        if mue.matches_xlsx(path):  # row 1 is the AMA notice, the header is row 2
            return mue.load
        if opps.matches_xlsx(path):
            return opps.load
        return f"xlsx with an unknown header ({', '.join(_short(h) for h in header[:4])}...)"
    if suffix == ".txt":
        with open(path, "rb") as handle:
            first = handle.readline().decode("latin-1").rstrip("\r\n")
        if hcpcs._NAME.search(name) and len(first) >= 11 and first[10] in "3478":
            return hcpcs.load
        if icd10.ORDER_LINE.match(first):
            return icd10.load_order_file
        if "codes" in name.lower() and icd10.CODES_LINE.match(first):
            return icd10.load_codes_file
        return "text file that is neither a CMS HCPCS fixed-width file nor a CDC ICD-10-CM order or code file"
    if suffix == ".xml":
        with open(path, "rb") as handle:
            head = handle.read(400).decode("utf-8", "replace")
        if "<ICD10CM.tabular" in head:
            return icd10.load_tabular
        return "XML file that is not the CDC ICD-10-CM tabular"
    if suffix == ".csv":
        low = name.lower()
        if low in coverage.FILES or low in coverage.OTHER_FILES:
            return coverage.load
        try:
            head = read_csv_rows(path, "latin-1")[:40]
        except RefDataError as exc:
            return str(exc)
        if opps.matches(head):  # before ASP: both headers start with "HCPCS Code"
            return opps.load
        kind = asp.kind_of(head)
        if kind:
            return lambda p, kind=kind: asp.load(p, kind)
        status_list = claim_status.kind_of(head, name)
        if status_list:
            return lambda p, found=status_list: claim_status.load(p, found)
        found = carc_rarc.kind_of(head, name)
        if found:
            return lambda p, found=found: carc_rarc.load(p, found)
        if mue.matches(head):
            return mue.load
        if pos.matches_csv(head):
            return pos.load
        return "CSV with no recognized header"
    if suffix == ".zip":
        return "zip archive (extracted by `data pull`; extract it and import the folder)"
    return f"unknown file type {suffix or '(none)'}"


def _short(cell: str, width: int = 40) -> str:
    """A header cell for a message: one line, cut (a notice cell can be pages long)."""
    flat = " ".join(cell.split())
    return flat if len(flat) <= width else flat[:width - 3] + "..."


def _damaged_xlsx(path: Path) -> list[Loaded]:
    """An xlsx that cannot be opened fails the import with the reader's own message."""
    next(xlsx_rows(path), None)  # raises RefDataError for a damaged workbook
    raise RefDataError(f"{path}: the workbook has no readable first sheet")


def _manifest(folder: Path) -> dict[Path, dict[str, str]]:
    path = folder / "MANIFEST.csv"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as handle:
        return {(folder / row["path"]).resolve(): row for row in csv.DictReader(handle) if row.get("path")}


def _provenance(path: Path, manifest_row: dict[str, str] | None, default: str) -> str:
    marker = path.name.upper() + " " + (manifest_row or {}).get("notes", "")[:60].upper()
    if "HANDWRITTEN" in marker or "HAND-WRITTEN" in marker:
        return "handwritten"
    if "DERIVED" in marker:
        return "derived"
    return default


# ---------------------------------------------------------------------------------------------
# building


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for name, schema in {**TABLES, "releases": RELEASES_SCHEMA}.items():
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [name]
        ).fetchone()[0]
        if not exists:
            empty = schema.empty_table()  # noqa: F841 (read by DuckDB's replacement scan)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM empty')
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('format_version', ?), ('built_by', ?)",
        [str(FORMAT_VERSION), f"reclaim {__version__}"],
    )
    con.execute(
        """CREATE OR REPLACE VIEW hcpcs_unparsed_units AS
           SELECT release, code, long_description FROM hcpcs WHERE is_drug AND unit_amount IS NULL"""
    )


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None or int(row[0]) != FORMAT_VERSION:
        raise RefDataError(
            f"{path}: reference store format {row[0] if row else 'unknown'} was built by another reclaim "
            f"version (this one reads format {FORMAT_VERSION})",
            hint="Rebuild it: delete the file and run `reclaim data import DIR` (or `reclaim data pull`).",
        )


def _write(con: duckdb.DuckDBPyConnection, item: Loaded, source: str, label: str | None) -> None:
    where = " AND ".join(f'"{col}" = ?' for col in item.replaces)
    con.execute(f'DELETE FROM "{item.table}" WHERE {where}', list(item.replaces.values()))
    rows = item.rows  # noqa: F841 (read by DuckDB's replacement scan)
    columns = ", ".join(f'"{c}"' for c in item.rows.column_names)
    con.execute(f'INSERT INTO "{item.table}" ({columns}) SELECT {columns} FROM rows')
    con.execute("DELETE FROM releases WHERE dataset = ? AND release = ?", [item.dataset, item.release])
    con.execute(
        "INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [item.dataset, item.table, item.release, label, item.effective_from, item.effective_to, source,
         item.path.name, sha256_file(item.path), item.rows.num_rows, item.provenance, item.notes or None,
         dt.datetime.now().replace(microsecond=0), __version__],
    )


def import_dir(folder: Path, store_path: Path, *, progress: Progress | None = None,
               source: str | None = None, bundled_icd10: bool = False) -> ImportReport:
    """Import every official file under ``folder`` into the store at ``store_path`` (atomically).

    ``bundled_icd10``: also import the CDC ICD-10-CM tabular shipped inside the installed PyPI
    package simple-icd-10-cm (``reclaim data import`` does by default)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RefDataError(f"{folder}: not a folder", hint="Give the folder holding the official files.")
    report = ImportReport(store=store_path)
    manifest = _manifest(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    plan: list[tuple[Path, Callable[[Path], list[Loaded]]]] = []
    for path in files:
        found = recognize(path)
        if isinstance(found, str):
            report.skipped.append((path, found))
        else:
            plan.append((path, found))
    if not plan:
        raise RefDataError(f"{folder}: no official reference file recognized in this folder",
                           hint="Expected CMS HCPCS, ASP, ICD-10, CARC/RARC, MUE, MCD, POS or OPPS Addendum B files.")
    if bundled_icd10 and (packaged := icd10.bundled_tabular()) is not None:
        plan.append((packaged, lambda p: icd10.load_bundled()))
    errors: list[str] = []
    for done, (path, loader) in enumerate(plan):
        if progress:
            progress(str(path.relative_to(folder)) if path.is_relative_to(folder) else path.name, done, len(plan))
        try:
            for item in loader(path):
                row = manifest.get(path.resolve())
                item.provenance = _provenance(path, row, item.provenance)
                report.loaded.append(item)
        except RefDataError as exc:
            errors.append(str(exc))
    if progress:
        progress("writing the store", len(plan), len(plan))
    if errors:
        raise RefDataError(
            f"import of {folder} failed; the reference store was not changed:\n  " + "\n  ".join(errors),
            hint="Fix or remove the file(s) named above and import again.",
        )
    _write_store(store_path, report.loaded, manifest, source or str(folder.resolve()))
    return report


def _write_store(store_path: Path, items: list[Loaded], manifest: dict[Path, dict[str, str]], source: str) -> None:
    store_path.parent.mkdir(parents=True, exist_ok=True)
    fresh = store_path.with_name(store_path.name + ".new")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if store_path.exists():
        with duckdb.connect(str(store_path), read_only=True) as old:
            _check_version(old, store_path)
        shutil.copyfile(store_path, fresh)
    try:
        con = duckdb.connect(str(fresh))
        try:
            con.execute("BEGIN")
            _create_tables(con)
            for item in items:
                row = manifest.get(item.path.resolve())
                _write(con, item, item.source or source, row["release"] if row else None)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(fresh, store_path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------
# reading


def _as_date(on: dt.date | str | None) -> dt.date | None:
    if on is None or isinstance(on, dt.date):
        return on
    return dt.date.fromisoformat(str(on))


class RefStore:
    """Read access to a built reference store (read-only DuckDB connection in ``con``)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection):
        self.path = path
        self.con = con

    @classmethod
    def open(cls, where: Any) -> "RefStore":
        """Open the store of a :class:`~reclaim.config.Settings` (or a store file path)."""
        path = Path(where.store_path if hasattr(where, "store_path") else where)
        if not path.is_file():
            raise StoreNotBuiltError(f"no reference store at {path}")
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error as exc:
            raise RefDataError(f"{path}: cannot open the reference store ({exc})",
                               hint="Rebuild it with `reclaim data import DIR`.") from None
        _check_version(con, path)
        return cls(path, con)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "RefStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, con: duckdb.DuckDBPyConnection, schema: str = "ref") -> None:
        """Attach this store read-only to another DuckDB connection as ``schema``."""
        con.execute(f"ATTACH '{self.path}' AS \"{schema}\" (READ_ONLY)")

    # -- helpers -----------------------------------------------------------------------------

    def _dicts(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def _release(self, table: str, start_col: str, on: dt.date | None, *, fallback_earliest: bool = False) -> str | None:
        """The release of ``table`` in force on ``on``: latest whose start is on or before it."""
        if on is None:
            sql = f'SELECT release FROM "{table}" GROUP BY release ORDER BY max({start_col}) DESC LIMIT 1'
            row = self.con.execute(sql).fetchone()
        else:
            sql = (f'SELECT release FROM "{table}" GROUP BY release HAVING max({start_col}) <= ? '
                   f"ORDER BY max({start_col}) DESC LIMIT 1")
            row = self.con.execute(sql, [on]).fetchone()
            if row is None and fallback_earliest:
                sql = f'SELECT release FROM "{table}" GROUP BY release ORDER BY max({start_col}) LIMIT 1'
                row = self.con.execute(sql).fetchone()
        return row[0] if row else None

    # -- look-ups ----------------------------------------------------------------------------

    def hcpcs(self, code: str, on: dt.date | str | None = None) -> dict[str, Any] | None:
        """The HCPCS row for ``code`` from the release in force on ``on`` (default: the latest).

        Adds ``valid_on`` (add date <= on <= termination date, TERM DT inclusive; None when no
        date is given) and ``release_in_force`` (False when ``on`` predates every loaded release
        and the earliest release answered by the code's own dates).
        """
        on = _as_date(on)
        release = self._release("hcpcs", "release_effective", on, fallback_earliest=True)
        if release is None:
            return None
        rows = self._dicts('SELECT * FROM hcpcs WHERE release = ? AND code = ?', [release, code.strip().upper()])
        if not rows:
            return None
        row = rows[0]
        if on is None:
            row["valid_on"] = None
            row["release_in_force"] = True
        else:
            start = row["add_date"] or row["effective_date"]
            row["valid_on"] = (start is None or start <= on) and (
                row["termination_date"] is None or on <= row["termination_date"])
            row["release_in_force"] = row["release_effective"] <= on
        return row

    def search_hcpcs(self, words: str, limit: int = 50) -> list[dict[str, Any]]:
        """Codes of the latest release whose descriptions contain every word of ``words``."""
        release = self._release("hcpcs", "release_effective", None)
        terms = [w for w in words.split() if w]
        if release is None or not terms:
            return []
        where = " AND ".join("(long_description ILIKE ? OR short_description ILIKE ?)" for _ in terms)
        params: list[Any] = [release]
        for term in terms:
            params += [f"%{term}%", f"%{term}%"]
        return self._dicts(
            f"SELECT code, kind, long_description, short_description, is_drug, unit_amount, unit_uom, "
            f"termination_date FROM hcpcs WHERE release = ? AND {where} "
            f"ORDER BY termination_date IS NOT NULL, code LIMIT {int(limit)}", params)

    def _windows(self, table: str, where: str, params: tuple) -> list[dict[str, Any]]:
        """Each release of ``table`` (rows matching ``where``) with its period, newest first;
        cached: the store is read-only while open, and look-ups ask for the same few tables."""
        key = (table, where, params)
        cache = self.__dict__.setdefault("_window_cache", {})
        if key not in cache:
            fmt = ", min(source_format) AS source_format" if table == "icd10" else ""
            group = ", source_format" if table == "icd10" else ""
            cache[key] = self._dicts(
                f'SELECT release, min(effective_from) AS effective_from, max(effective_to) AS effective_to{fmt} '
                f'FROM "{table}" WHERE {where} GROUP BY release{group} ORDER BY max(effective_from) DESC NULLS LAST',
                list(params))
        return cache[key]

    def in_force(self, table: str, on: dt.date | str | None, where: str = "true",
                 params: Iterable[Any] = ()) -> dict[str, Any] | None:
        """The release of ``table`` in force on ``on``: the latest that starts on or before it and
        has not ended (``effective_to`` inclusive); None when no release held covers the date.
        ICD-10-CM: a CDC list of the date wins over the partial CMS Section 111 list."""
        on = _as_date(on)
        windows = self._windows(table, where, tuple(params))
        if on is None:
            return windows[0] if windows else None
        found = [w for w in windows if w["effective_from"] is not None and w["effective_from"] <= on
                 and (w["effective_to"] is None or on <= w["effective_to"])]
        if table == "icd10":  # stable: newest first within each list
            found.sort(key=lambda w: w.get("source_format") == "cms_valid_list")
        return found[0] if found else None

    def newest(self, table: str, where: str = "true", params: Iterable[Any] = ()) -> dict[str, Any] | None:
        """The newest release of ``table`` held (release, effective_from, effective_to), or None."""
        windows = self._windows(table, where, tuple(params))
        return windows[0] if windows else None

    def _quarterly(self, table: str, where: str, params: list[Any], on: dt.date | None, *,
                   strict: bool = True) -> list[dict[str, Any]]:
        """Rows of the release in force on ``on``. ``strict`` (prices, MUEs, ICD-10-CM): none when
        no release covers the date; otherwise (the crosswalk) the newest release that started
        before it answers, each row's ``covers_dos`` False."""
        found = self.in_force(table, on)
        if found is None and not strict and on is not None:
            found = next((w for w in self._windows(table, "true", ()) if w["effective_from"] <= on), None)
        if found is None:
            return []
        extra = " AND source_format = ?" if table == "icd10" else ""
        rows = self._dicts(f'SELECT * FROM "{table}" WHERE release = ?{extra} AND {where}',
                           [found["release"], *([found["source_format"]] if extra else []), *params])
        for row in rows:
            row["covers_dos"] = None if on is None else (row["effective_to"] is None or on <= row["effective_to"])
        return rows

    def asp(self, code: str, on: dt.date | str | None = None) -> dict[str, Any] | None:
        """ASP payment limit row of the quarter in force on ``on``; None when the code has no row
        that quarter or no quarter held covers the date (see :meth:`in_force`): a price is never
        taken from another quarter."""
        rows = self._quarterly("asp_pricing", "hcpcs = ?", [code.strip().upper()], _as_date(on))
        return rows[0] if rows else None

    def crosswalk_by_ndc(self, ndc: str, on: dt.date | str | None = None) -> list[dict[str, Any]]:
        """Crosswalk rows of an NDC: the quarter in force, else the newest before the date
        (``covers_dos`` False: the caller says so)."""
        from .ndc import normalize_ndc

        ndc11 = normalize_ndc(ndc)
        if ndc11 is None:
            return []
        return self._quarterly("ndc_crosswalk", "ndc11 = ?", [ndc11], _as_date(on), strict=False)

    def crosswalk_by_hcpcs(self, code: str, on: dt.date | str | None = None) -> list[dict[str, Any]]:
        return self._quarterly("ndc_crosswalk", "hcpcs = ? ORDER BY ndc11", [code.strip().upper()], _as_date(on),
                               strict=False)

    def icd10(self, code: str, on: dt.date | str | None = None) -> dict[str, Any] | None:
        """ICD-10-CM row (code with or without dot) from the list in force on ``on`` (the CDC
        list of the date where held, else the CMS Section 111 list); None when not listed or no
        list covers the date (:meth:`in_force` tells which)."""
        norm = code.replace(".", "").strip().upper()
        rows = self._quarterly("icd10", "code = ?", [norm], _as_date(on))
        return rows[0] if rows else None

    def _code_list(self, table: str, code: str) -> dict[str, Any] | None:
        rows = self._dicts(
            f'SELECT * FROM "{table}" WHERE code = ? ORDER BY release DESC LIMIT 1', [code.strip().upper()])
        return rows[0] if rows else None

    def carc(self, code: str) -> dict[str, Any] | None:
        return self._code_list("carc", code)

    def rarc(self, code: str) -> dict[str, Any] | None:
        return self._code_list("rarc", code)

    def group_code(self, code: str) -> dict[str, Any] | None:
        return self._code_list("group_codes", code)

    def claim_status_category(self, code: str) -> dict[str, Any] | None:
        """X12 Claim Status Category Code (STC01-1 of a 277 / 277CA: A1, A7, P3...)."""
        return self._code_list("claim_status_categories", code)

    def claim_status_code(self, code: str) -> dict[str, Any] | None:
        """X12 Claim Status Code (STC01-2: 20, 562...)."""
        return self._code_list("claim_status_codes", code)

    def mue(self, code: str, setting: str, on: dt.date | str | None = None) -> dict[str, Any] | None:
        """MUE row for ``code`` in ``setting`` (practitioner / outpatient_hospital / dme) from the
        quarter's table in force on ``on``; None when no table of that setting covers the date
        (``in_force("mue", on, "setting = ?", [setting])`` is None: never another quarter's value)
        or the code has no MUE in it."""
        if setting not in mue.SETTINGS:
            raise ValueError(f"setting must be one of {', '.join(mue.SETTINGS)}")
        on = _as_date(on)
        table = self.in_force("mue", on, "setting = ?", [setting])
        if table is None:
            return None
        rows = self._dicts("SELECT * FROM mue WHERE release = ? AND setting = ? AND hcpcs = ?",
                           [table["release"], setting, code.strip().upper()])
        for row in rows:
            row["covers_dos"] = True if on is not None else None
        return rows[0] if rows else None

    def opps(self, code: str, on: dt.date | str | None = None) -> dict[str, Any] | None:
        """The OPPS Addendum B row (SI, APC, payment rate) of ``code`` from the quarter in force on
        ``on``; None when the code has no row that quarter or no quarter held covers the date
        (``in_force("opps_addendum_b", on)`` is None): never another quarter's SI."""
        rows = self._quarterly("opps_addendum_b", "hcpcs = ?", [code.strip().upper()], _as_date(on))
        return rows[0] if rows else None

    def loaded(self, table: str) -> bool:
        """True when ``table`` holds at least one release (e.g. ``mue``, ``coverage_icd10``)."""
        return self.con.execute(f'SELECT count(*) > 0 FROM (SELECT 1 FROM "{table}" LIMIT 1)').fetchone()[0]

    def releases(self) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM releases ORDER BY dataset, effective_from NULLS LAST, release")

    def status(self) -> list[dict[str, Any]]:
        """One row per imported file, plus a ``not loaded`` row for each expected dataset absent."""
        rows = [
            {"dataset": r["dataset"], "release": r["release"], "effective_from": r["effective_from"],
             "effective_to": r["effective_to"], "file": r["file_name"], "sha256": r["sha256"],
             "rows": r["rows"], "provenance": r["provenance"], "notes": r["notes"] or ""}
            for r in self.releases()
        ]
        for dataset, table in EXPECTED.items():
            if not self.loaded(table):
                rows.append({"dataset": dataset, "release": "not loaded", "effective_from": None,
                             "effective_to": None, "file": "", "sha256": "", "rows": 0, "provenance": "",
                             "notes": f"no {dataset.replace('_', ' ')} data loaded"})
        return rows

    def currency(self, today: dt.date | None = None) -> list[dict[str, Any]]:
        """Per dataset: the newest release held and whether it covers ``today`` (True/False; None
        for lists without a period of their own, such as CARC/RARC), with a sentence saying so."""
        today = today or dt.date.today()
        newest: dict[str, dict[str, Any]] = {}
        for r in self.releases():
            if r["dataset"] in _NO_PERIOD_SHOWN:
                continue
            key = (r["effective_from"] or dt.date.min, r["release"])
            if r["dataset"] not in newest or key >= newest[r["dataset"]]["_key"]:
                newest[r["dataset"]] = {**r, "_key": key}
        out = []
        for dataset, r in sorted(newest.items()):
            start, end = r["effective_from"], r["effective_to"]
            if dataset == "hcpcs" and start is not None and end is None:
                end = _quarter_last_day(start)  # a quarterly file: the next quarter's replaces it
            label = DATASET_LABELS.get(dataset, dataset)
            if dataset in _CODE_LISTS or start is None or (end is None and dataset.startswith("coverage")):
                covers = None
                say = (f"{label} {r['release']} is the newest held; its codes carry their own start and stop dates "
                       "(the publisher updates the list several times a year)")
            elif end is None:  # a release with a start and no end: in force until a newer one is held
                covers = start <= today
                say = (f"{label} {r['release']} (from {start}, no end date) is the newest held"
                       + ("" if covers else f" and starts after today ({today})"))
            elif start <= today <= end:
                covers = True
                say = f"{label} {r['release']} ({start} to {end}) is in force today"
            else:
                covers = False
                when = "starts after" if today < start else "ended before"
                say = (f"{label} {r['release']} ({start} to {end}) is the newest held and {when} today ({today}): "
                       f"{_PULL.get(dataset, 'import the current release')}")
            out.append({"dataset": dataset, "label": label, "newest_release": r["release"], "effective_from": start,
                        "effective_to": end, "covers_today": covers, "today": today, "message": say})
        return out

    def unparsed_units(self) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM hcpcs_unparsed_units ORDER BY release, code")
