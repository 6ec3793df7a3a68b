"""Read claim and remittance files of any supported format into one batch.

:func:`read_claims` and :func:`read_remits` take many paths (files or folders), sniff each
file's format from its first bytes (never from its extension alone), hand it to the reader
for that format and concatenate the batches. A file that cannot be read at all becomes a
``read_issues`` row (severity ``error``, skipped ``file``); the other files still load.

Formats:

========  ==========================================================  =================
format    recognised by                                               reader
========  ==========================================================  =================
x12       ``ISA`` (or a bare ``ST*837``/``ST*835``) at the start        ``x12.read_837`` / ``x12.read_835``
xlsx      a ZIP container holding ``xl/workbook.xml``                  ``csv.read_xlsx``
fhir      JSON object with ``resourceType`` (Bundle, Claim, EOB)        ``fhir.read_fhir``
ndjson    one JSON resource per line                                   ``fhir.read_fhir``
parquet   ``PAR1``: a normalized table written by ``reclaim convert``   :func:`load_into` only
csv       anything else that decodes as delimited text                  ``csv.read_csv``
========  ==========================================================  =================

:func:`load_into` streams files into DuckDB tables instead (what ``check`` and ``recover``
use): one batch in memory at a time, and Parquet tables read by DuckDB itself.

This module also holds the small helpers every non-X12 reader shares: the file identity
(``file_id``) and the builder of ``read_issues`` rows.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pyarrow as pa

from ..errors import InputFormatError
from .model import READ_ISSUES, ClaimBatch, RemitBatch

#: progress(done_files, total_files, path) is called after each file
Progress = Callable[[int, int, Path], None]

#: how many leading bytes :func:`sniff_format` looks at
_SNIFF_BYTES = 4096


# --------------------------------------------------------------------------- file identity


def file_identity(path: Path, data: bytes | None = None) -> dict:
    """The ``FILES`` row of one input: ``file_id`` is the sha256 prefix and the file name,
    so the same content under the same name always gets the same id."""
    path = Path(path)
    if data is None:
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
    else:
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
    return {"file_id": f"{sha[:12]}-{path.name}", "path": str(path), "sha256": sha, "bytes": size}


def files_table(identity: dict, fmt: str) -> pa.Table:
    from .model import FILES

    return pa.Table.from_pylist([{**identity, "format": fmt}], schema=FILES)


# --------------------------------------------------------------------------- read issues


def make_issues(
    identity: dict,
    *,
    code: str,
    message,
    severity: str = "error",
    skipped: str = "nothing",
    line=None,
    column=None,
    claim_key=None,
    segment_index=None,
    byte_offset=None,
    loop=None,
    segment_id=None,
) -> pa.Table:
    """``read_issues`` rows for one problem. Every keyword may be a scalar or an Arrow array
    (one value per row), so a bad column in a million-row CSV is one call, not a loop."""
    values = {
        "file_id": identity["file_id"],
        "path": identity["path"],
        "severity": severity,
        "code": code,
        "message": message,
        "segment_index": segment_index,
        "byte_offset": byte_offset,
        "line": line,
        "column": column,
        "loop": loop,
        "segment_id": segment_id,
        "claim_key": claim_key,
        "skipped": skipped,
    }
    lengths = {len(v) for v in values.values() if isinstance(v, (pa.Array, pa.ChunkedArray))}
    if len(lengths) > 1:
        raise ValueError(f"issue columns of different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 1
    arrays = []
    for field in READ_ISSUES:
        v = values[field.name]
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v.cast(field.type))
        else:
            arrays.append(pa.array([v] * n, type=field.type))
    return pa.Table.from_arrays(arrays, schema=READ_ISSUES)


def concat_issues(parts: Sequence[pa.Table]) -> pa.Table:
    return pa.concat_tables(list(parts)).combine_chunks() if parts else READ_ISSUES.empty_table()


# --------------------------------------------------------------------------- sniffing


def sniff_format(path: Path | str | bytes) -> str | None:
    """'x12', 'xlsx', 'parquet', 'fhir' (a JSON document), 'ndjson', 'csv', or None (empty/unreadable).

    Looks at content, not the extension: exports are often misnamed (.txt 837s, .csv xlsx).
    """
    if isinstance(path, (bytes, bytearray)):
        head = bytes(path[:_SNIFF_BYTES])
        is_zip = head.startswith(b"PK\x03\x04")
        zip_names: list[str] = []
        if is_zip:
            import io as _io

            try:
                zip_names = zipfile.ZipFile(_io.BytesIO(path)).namelist()
            except zipfile.BadZipFile:
                return None
    else:
        with Path(path).open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
        is_zip = head.startswith(b"PK\x03\x04")
        zip_names = []
        if is_zip:
            try:
                with zipfile.ZipFile(path) as zf:
                    zip_names = zf.namelist()
            except zipfile.BadZipFile:
                return None
    if is_zip:
        return "xlsx" if "xl/workbook.xml" in zip_names else None
    if head[:4] == b"PAR1":
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text or describe_binary(head):
        return None
    if text[:3] == b"ISA" or text[:6] in (b"ST*837", b"ST*835", b"GS*HC*", b"GS*HP*"):
        return "x12"
    if text[:1] == b"{":
        first_line = text.split(b"\n", 1)[0].strip()
        # NDJSON: the first line is a whole object and another object follows
        if first_line.endswith(b"}") and b"\n{" in text.replace(b"\r\n", b"\n"):
            return "ndjson"
        return "fhir"
    if text[:1] == b"[":
        return "fhir"
    return "csv"


#: leading bytes of files billers mistake for claim files, and what to call them
_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls/.doc): save it as .xlsx or CSV"),
    (b"\x1f\x8b", "a gzip-compressed file: decompress it first"),
    (b"BZh", "a bzip2-compressed file: decompress it first"),
    (b"\xfd7zXZ", "an xz-compressed file: decompress it first"),
    (b"7z\xbc\xaf", "a 7-Zip archive: extract it first"),
    (b"Rar!", "a RAR archive: extract it first"),
    (b"SQLite format 3", "an SQLite database"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image (a scanned page?)"),
    (b"MM\x00*", "a TIFF image (a scanned page?)"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
)


def describe_binary(head: bytes) -> str | None:
    """What the first bytes of a file look like when they are not text (``'a PDF document'``,
    ``'binary data'``), else None. Text in any 8-bit encoding holds no NUL and few control bytes."""
    for magic, what in _MAGIC:
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in head):
            return what
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: save it as UTF-8 (Excel: CSV UTF-8)"
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13) or b == 127)
    if b"\x00" in head or controls > len(head) // 20:
        return "binary data, not text"
    return None


def describe_unknown(path: Path) -> str:
    """What a file :func:`sniff_format` does not recognise looks like, for the read issue."""
    with Path(path).open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head:
        return "the file is empty (0 bytes)"
    if not head.lstrip(b"\xef\xbb\xbf").strip():
        return "the file holds only blank space"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive that is not an Excel workbook: extract it first"
    return f"it looks like {describe_binary(head) or 'text of no known layout'}"


# --------------------------------------------------------------------------- dispatch


def _expand(paths: Iterable[Path | str]) -> list[Path]:
    """Files as given; folders become their files (sorted, hidden files skipped)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        else:
            out.append(p)
    return out


def _unreadable(path: Path, message: str, code: str) -> pa.Table:
    identity = {"file_id": None, "path": str(path)}
    try:
        identity = file_identity(path)
    except OSError:
        pass
    return make_issues(identity, code=code, message=message, skipped="file")


def _read_file(path: Path) -> tuple[ClaimBatch | None, RemitBatch | None, pa.Table | None]:
    """One file -> (claims, remits, issues of a file that could not be read at all)."""
    if not path.is_file():
        return None, None, _unreadable(path, "no such file", "IO-NOT-FOUND")
    try:
        fmt = sniff_format(path)
    except OSError as exc:
        return None, None, _unreadable(path, f"cannot open the file: {exc.strerror}", "IO-UNREADABLE")
    if fmt is None:
        return None, None, _unreadable(
            path,
            f"not an X12, CSV or FHIR file: {describe_unknown(path)}; expected X12 (ISA...), CSV text, "
            "an .xlsx workbook, or FHIR JSON / NDJSON",
            "IO-UNKNOWN-FORMAT",
        )
    if fmt == "parquet":
        return None, None, _unreadable(
            path, "a Parquet table (as `reclaim convert` writes): `reclaim check` and `reclaim recover` read "
            "these; other readers take the original claim or remittance files", "IO-PARQUET-TABLE")
    if fmt == "x12":
        from . import x12

        kind = x12.sniff(path)
        if kind is None and x12.sniff_ack(path):
            return None, None, _unreadable(
                path, f"a {x12.sniff_ack(path)} acknowledgment or claim status file, not claims or remittances: "
                "`reclaim recover` reads it beside the 835s, `reclaim convert` writes its tables", "IO-ACKNOWLEDGMENT")
        if kind is None:
            return None, None, _unreadable(path, "X12 file whose transaction type is neither 837 nor 835", "IO-X12-TYPE")
        return (None, x12.read_835(path), None) if kind == "835" else (x12.read_837(path), None, None)
    if fmt in ("csv", "xlsx"):
        from . import csv as claim_csv

        return (claim_csv.read_xlsx(path) if fmt == "xlsx" else claim_csv.read_csv(path)), None, None
    from . import fhir

    claims, remits = fhir.read_fhir(path)
    return claims, remits, None


def _read_file_safely(path: Path) -> tuple[ClaimBatch | None, RemitBatch | None, pa.Table | None]:
    """:func:`_read_file`, with a reader's failure turned into a read issue so one file
    cannot stop a run of thousands (the exception text is left out: it may quote data)."""
    try:
        return _read_file(path)
    except InputFormatError as exc:  # the reader says the whole file is unreadable
        return None, None, _unreadable(path, str(exc), "IO-UNREADABLE")
    except Exception as exc:  # noqa: BLE001 - a reader bug must not lose the other files
        return None, None, _unreadable(
            path, f"the reader failed on this file ({type(exc).__name__}); please report it", "IO-READER-ERROR")


def _read_one(path: Path, want: str) -> ClaimBatch | RemitBatch | pa.Table:
    """One file -> a batch of the wanted kind ('claims' | 'remits'), or an issues table."""
    claims, remits, issues = _read_file_safely(path)
    if issues is not None:
        return issues
    if want == "claims":
        if claims is None:
            return _unreadable(path, "this is an 835 remittance; expected claims (837, CSV, FHIR Claim) here",
                               "IO-WRONG-KIND")
        return claims
    if remits is None:
        return _unreadable(path, "this is a claim file; expected remittances (835, FHIR ExplanationOfBenefit) here",
                           "IO-WRONG-KIND")
    return remits


def _read_many(paths, want: str, progress: Progress | None):
    batch_type = ClaimBatch if want == "claims" else RemitBatch
    files = _expand(paths)
    if not files:
        raise InputFormatError("no input files given (or the folders given are empty)")
    batches = []
    for done, path in enumerate(files, 1):
        result = _read_one(path, want)
        if isinstance(result, pa.Table):
            result = batch_type(tables={"read_issues": result})
        batches.append(result)
        if progress is not None:
            progress(done, len(files), path)
    return batch_type.concat(batches)


def _file_batches(path: Path, block_size: int | None = None):
    """(claims, remits) pairs for one file, either may be None: an X12 file streamed, one
    pair per block (``x12.iter_837`` / ``iter_835``); any other file one pair. A file read
    for both kinds (FHIR) keeps the kind it holds; an unreadable file is a claims batch with
    only its read issue."""
    if path.is_file():
        try:
            kind = sniff_format(path) == "x12" and _x12().sniff(path)
        except OSError:
            kind = None
        if kind:
            streamed = False
            try:
                if kind == "835":
                    for remits in _x12().iter_835(path, block_size=block_size):
                        streamed = True
                        yield None, remits
                else:
                    for claims in _x12().iter_837(path, block_size=block_size):
                        streamed = True
                        yield claims, None
                return
            except InputFormatError as exc:  # as _read_file_safely
                issues = _unreadable(path, str(exc), "IO-UNREADABLE")
            except Exception as exc:  # noqa: BLE001 - a reader bug must not lose the other files
                partly = " after some of it was read" if streamed else ""
                issues = _unreadable(path, f"the reader failed on this file ({type(exc).__name__}){partly}; "
                                     "please report it", "IO-READER-ERROR")
            yield ClaimBatch(tables={"read_issues": issues}), None
            return
    claims, remits, issues = _read_file_safely(path)
    if issues is not None:
        yield ClaimBatch(tables={"read_issues": issues}), None
    if claims is not None and remits is not None:  # FHIR: keep the kind the file holds
        has_claims, has_remits = claims["claims"].num_rows > 0, remits["remit_claims"].num_rows > 0
        if has_remits and not has_claims:
            claims = None
        elif has_claims and not has_remits:
            remits = None
    if claims is not None or remits is not None:
        yield claims, remits


def _x12():
    from . import x12

    return x12


def _ack_batches(path: Path, block_size: int | None = None):
    """AckBatches of an acknowledgment or claim status file (``x12.iter_ack``), streamed; a file
    that cannot be read is a batch with only its read issue."""
    from .model import AckBatch

    try:
        yield from _x12().iter_ack(path, block_size=block_size)
    except InputFormatError as exc:
        yield AckBatch(tables={"read_issues": _unreadable(path, str(exc), "IO-UNREADABLE")})


def read_any(paths: Iterable[Path | str], *, progress: Progress | None = None) -> tuple[ClaimBatch, RemitBatch]:
    """Claims and remittances from a mix of files: each file goes where its content belongs
    (a FHIR file may hold both). A file read for both kinds has its FILES row and its
    read issues in both batches; :func:`tables_for_output` merges them back."""
    files = _expand(paths)
    if not files:
        raise InputFormatError("no input files given (or the folders given are empty)")
    claim_parts, remit_parts = [], []
    for done, path in enumerate(files, 1):
        for claims, remits in _file_batches(path):
            if claims is not None:
                claim_parts.append(claims)
            if remits is not None:
                remit_parts.append(remits)
        if progress is not None:
            progress(done, len(files), path)
    return ClaimBatch.concat(claim_parts), RemitBatch.concat(remit_parts)


def convert(paths: Iterable[Path | str], out_dir: Path | str, fmt: str = "parquet", *,
            progress: Progress | None = None, block_size: int | None = None) -> tuple[dict, list[Path]]:
    """Read files and write their tables to ``out_dir`` as they are read (``reclaim convert``):
    X12 files are streamed block by block and each table is appended per batch, so memory
    stays flat whatever the file size. Writes the tables of the kinds present (claims and/or
    remittances) plus files, transactions and read_issues. Returns (the :func:`summarize`
    dict, the paths written)."""
    from .model import ACK_TABLES, CLAIM_TABLES, REMIT_TABLES

    files = _expand(paths)
    if not files:
        raise InputFormatError("no input files given (or the folders given are empty)")
    sink = _TableSink(Path(out_dir), fmt)
    counts = _Summary()
    seen_files: set[str] = set()
    wanted = {"files": CLAIM_TABLES["files"], "transactions": CLAIM_TABLES["transactions"],
              "read_issues": CLAIM_TABLES["read_issues"]}
    for done, path in enumerate(files, 1):
        if path.is_file() and sniff_format(path) == "x12" and _x12().sniff_ack(path):
            for acks in _ack_batches(path, block_size):  # 999, TA1, 277CA, 276/277: their own tables
                tables = dict(acks.tables)
                fresh = [f not in seen_files for f in tables["files"]["file_id"].to_pylist()]
                tables["files"] = tables["files"].filter(pa.array(fresh, pa.bool_()))
                seen_files.update(tables["files"]["file_id"].to_pylist())
                wanted.update(ACK_TABLES)
                counts.add(tables)
                for name in wanted:
                    if name in tables:
                        sink.write(name, tables[name])
            if progress is not None:
                progress(done, len(files), path)
            continue
        for claims, remits in _file_batches(path, block_size):
            claims = claims if claims is not None else ClaimBatch()
            remits = remits if remits is not None else RemitBatch()
            tables = tables_for_output(claims, remits)
            fresh = [f not in seen_files for f in tables["files"]["file_id"].to_pylist()]
            tables["files"] = tables["files"].filter(pa.array(fresh, pa.bool_()))
            seen_files.update(tables["files"]["file_id"].to_pylist())
            if claims["claims"].num_rows or claims["files"].num_rows:
                wanted.update(CLAIM_TABLES)
            if remits["remit_claims"].num_rows or remits["files"].num_rows:
                wanted.update(REMIT_TABLES)
            counts.add(tables)
            for name in wanted:
                if name in tables:  # (acknowledgment tables come from acknowledgment files only)
                    sink.write(name, tables[name])
        if progress is not None:
            progress(done, len(files), path)
    return counts.result(), sink.close(wanted)


class _TableSink:
    """Appends batches to ``<out_dir>/<name>.<fmt>``: Parquet and CSV through pyarrow's
    incremental writers; JSON (one object per line) through Parquet parts that DuckDB turns
    into JSON at the end, so no format needs the whole table in memory."""

    def __init__(self, out_dir: Path, fmt: str) -> None:
        if fmt not in ("parquet", "csv", "json"):
            raise InputFormatError(f"unknown output format {fmt!r}: expected parquet, csv or json")
        self.out_dir, self.fmt = out_dir, fmt
        out_dir.mkdir(parents=True, exist_ok=True)
        self.writers: dict = {}

    def _parquet_path(self, name: str) -> Path:
        return self.out_dir / (f"{name}.parquet" if self.fmt == "parquet" else f".{name}.json-part.parquet")

    def write(self, name: str, table: pa.Table) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        writer = self.writers.get(name)
        if writer is None:
            if self.fmt == "csv":
                writer = pacsv.CSVWriter(self.out_dir / f"{name}.csv", table.schema)
            else:
                writer = pq.ParquetWriter(self._parquet_path(name), table.schema)
            self.writers[name] = writer
        if table.num_rows:
            writer.write_table(table)

    def close(self, schemas: dict[str, pa.Schema]) -> list[Path]:
        import duckdb

        for name, schema in schemas.items():  # a wanted table no batch had still gets its (empty) file
            if name not in self.writers:
                self.write(name, schema.empty_table())
        written = []
        for name, writer in self.writers.items():
            writer.close()
            path = self.out_dir / f"{name}.{self.fmt}"
            if self.fmt == "json":
                part = self._parquet_path(name)
                con = duckdb.connect()
                con.execute(f"COPY (SELECT * FROM read_parquet('{_sql_str(part)}')) TO '{_sql_str(path)}' "
                            "(FORMAT json)")
                con.close()
                part.unlink()
            written.append(path)
        return written


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


class _Summary:
    """Run counts, added batch by batch (see :func:`summarize`); keeps only the issues that
    skipped something (few), never the tables."""

    def __init__(self) -> None:
        self.formats: dict[str, int] = {}
        self.paths: set[str] = set()
        self.unreadable: set[str] = set()
        self.n = {"claims": 0, "lines": 0, "remit_claims": 0, "remit_lines": 0, "errors": 0, "warnings": 0}
        self.skipped: list[pa.Table] = []

    def add(self, tables: dict[str, pa.Table]) -> None:
        import pyarrow.compute as pc

        for row in tables["files"].select(["format", "path"]).to_pylist():
            self.formats[row["format"]] = self.formats.get(row["format"], 0) + 1
            self.paths.add(row["path"])
        for name in ("claims", "lines", "remit_claims", "remit_lines"):
            if name in tables:
                self.n[name] += tables[name].num_rows
        issues = tables["read_issues"]
        self.n["errors"] += int(pc.sum(pc.equal(issues["severity"], "error")).as_py() or 0)
        self.n["warnings"] += int(pc.sum(pc.equal(issues["severity"], "warning")).as_py() or 0)
        lost = issues.filter(pc.not_equal(issues["skipped"], "nothing")).select(["skipped", "code", "path", "claim_key"])
        if lost.num_rows:
            self.skipped.append(lost)
            self.unreadable.update(lost.filter(pc.equal(lost["skipped"], "file"))["path"].to_pylist())

    def result(self) -> dict:
        import duckdb

        skipped_by = []
        if self.skipped:
            con = duckdb.connect()
            con.register("issues", pa.concat_tables(self.skipped))
            # count what was lost: distinct files, distinct claims, or rows (lines, elements)
            skipped_by = con.execute("""
                SELECT skipped, code,
                       CASE skipped WHEN 'file' THEN count(DISTINCT path)
                                    WHEN 'claim' THEN count(DISTINCT path || ':' || coalesce(claim_key, ''))
                                    ELSE count(*) END AS n
                FROM issues GROUP BY skipped, code ORDER BY skipped, code
            """).fetchall()
            con.close()
        return {
            "files": len(self.paths) + len(self.unreadable - self.paths),
            "files_by_format": dict(self.formats),
            **self.n,
            "skipped": [{"what": what, "code": code, "count": n} for what, code, n in skipped_by],
        }


def tables_for_output(claims: ClaimBatch, remits: RemitBatch) -> dict[str, pa.Table]:
    """One dict of named tables: claim tables, remittance tables, and the shared ones
    (files, transactions, read_issues) merged across both."""
    out: dict[str, pa.Table] = {}
    for name in ("files", "transactions", "read_issues"):
        merged = pa.concat_tables([claims[name], remits[name]])
        if name == "files":
            merged = _distinct(merged, "file_id")
        elif name == "read_issues":
            merged = _distinct_rows(merged)
        out[name] = merged
    for batch in (claims, remits):
        for name, table in batch.tables.items():
            out.setdefault(name, table)
    return out


def _distinct(table: pa.Table, key: str) -> pa.Table:
    import pyarrow.compute as pc

    if not table.num_rows:
        return table
    first = pc.index_in(table[key].unique(), value_set=table[key])  # first row of each key
    return table.take(pc.take(first, pc.sort_indices(first)))


def _distinct_rows(table: pa.Table) -> pa.Table:
    import duckdb

    if not table.num_rows:
        return table
    con = duckdb.connect()
    con.register("t", table)
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    # the first of identical rows, in the original order (a FHIR file's issues are in both batches)
    out = con.execute(f"""
        SELECT {cols} FROM (SELECT *, row_number() OVER () AS _i FROM t)
        QUALIFY row_number() OVER (PARTITION BY {cols} ORDER BY _i) = 1 ORDER BY _i
    """).to_arrow_table().cast(table.schema)
    con.close()
    return out


def write_tables(tables: dict[str, pa.Table], out_dir: Path | str, fmt: str = "parquet") -> list[Path]:
    """Each table to ``out_dir/<name>.<fmt>``: Parquet (types kept), CSV, or JSON (one object
    per line). Returns the paths written."""
    import duckdb
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt not in ("parquet", "csv", "json"):
        raise InputFormatError(f"unknown output format {fmt!r}: expected parquet, csv or json")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        elif fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            con = duckdb.connect()
            con.register("t", table)
            con.execute(f"COPY t TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT json)")
            con.close()
        written.append(path)
    return written


def summarize(claims: ClaimBatch, remits: RemitBatch) -> dict:
    """Counts for a run summary: files by format, claims, lines, remittances, issues by
    severity, and what was skipped (by kind and issue code)."""
    counts = _Summary()
    counts.add(tables_for_output(claims, remits))
    return counts.result()


def load_into(con, paths: Iterable[Path | str], want: str, *, prefix: str = "",
              progress: Progress | None = None, block_size: int | None = None,
              parquet_views: bool = False) -> dict[str, int]:
    """Stream claim (``want="claims"``) or remittance (``"remits"``) files into DuckDB tables
    ``{prefix}{table}``, one for every table of ``CLAIM_TABLES`` / ``REMIT_TABLES`` (model
    schemas; created when absent, appended to otherwise). Returns the rows added per table.

    Nothing but one batch is ever held in Python: X12 files go block by block
    (``iter_837`` / ``iter_835``), CSV/XLSX/FHIR a file at a time, and normalized Parquet
    files as ``reclaim convert`` writes them (``<table>.parquet``, alone or in a folder) are
    read by DuckDB itself. How much memory the tables take is DuckDB's: a connection to a
    database file (or ``SET temp_directory``) lets it spill. A file of the other kind, or one
    that cannot be read, becomes a ``{prefix}read_issues`` row; the other files still load.

    ``parquet_views``: a table that has Parquet inputs becomes a view over those files (plus
    the rows streamed from other files) instead of a copy, so queries read only the columns
    and row groups they need. The views are final: load everything for a prefix in one call.
    """
    from .model import CLAIM_TABLES, REMIT_TABLES

    if want not in ("claims", "remits"):
        raise ValueError(f"want must be 'claims' or 'remits', not {want!r}")
    schemas = CLAIM_TABLES if want == "claims" else REMIT_TABLES
    other = set(REMIT_TABLES if want == "claims" else CLAIM_TABLES) - set(schemas)
    files = _expand(paths)
    if not files:
        raise InputFormatError("no input files given (or the folders given are empty)")
    loader = _DuckLoader(con, prefix, schemas, parquet_views)
    for done, path in enumerate(files, 1):
        if path.is_file() and _is_parquet(path):
            loader.parquet(path, other)
        else:
            for claims, remits in _file_batches(path, block_size):
                wanted, unwanted = (claims, remits) if want == "claims" else (remits, claims)
                if wanted is not None:
                    loader.batch(wanted.tables)
                elif unwanted is not None:
                    # an unreadable file comes as a batch of read issues only: keep them
                    loader.batch({"read_issues": unwanted["read_issues"]})
                    if any(unwanted[t].num_rows for t in ("claims", "remit_claims") if t in unwanted.tables):
                        loader.issue(path, "IO-WRONG-KIND", "this is a claim file; expected remittances (835, FHIR "
                                     "ExplanationOfBenefit) here" if want == "remits" else "this is an 835 "
                                     "remittance; expected claims (837, CSV, FHIR Claim) here")
                        break
        if progress is not None:
            progress(done, len(files), path)
    loader.finish()
    return loader.added


def load_batch_into(con, batch: ClaimBatch | RemitBatch, *, prefix: str = "") -> dict[str, int]:
    """An in-memory batch into the tables :func:`load_into` fills (created when absent, appended
    to otherwise), so callers holding Arrow batches and callers with files share one path."""
    loader = _DuckLoader(con, prefix, batch.SCHEMAS)
    loader.batch(batch.tables)
    return loader.added


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


#: model columns added after `reclaim convert` folders were first written: a Parquet table
#: without them loads with nulls (its claims are then written from the model, not their source)
_LATER_COLUMNS = frozenset({"x12_isa_offset", "x12_gs_offset", "x12_st_offset", "x12_clm_offset", "x12_billing_offset",
                            "x12_subscriber_offset", "x12_patient_offset", "source_position", "billing_taxonomy",
                            "payer_address_1", "payer_address_2", "payer_city", "payer_state", "payer_zip",
                            "payer_contact_function", "payer_contact_name", "payer_contact_phone",
                            "payer_contact_email"})


class _DuckLoader:
    """Appends batches (Arrow tables) and Parquet files to the model's tables in DuckDB."""

    def __init__(self, con, prefix: str, schemas: dict[str, pa.Schema], parquet_views: bool = False) -> None:
        self.con, self.prefix, self.schemas = con, prefix, schemas
        self.added = {name: 0 for name in schemas}
        self.seen_files: set[str] = set()
        #: table -> Parquet files it is a view over (parquet_views mode); None = copy them
        self.views: dict[str, list[Path]] | None = {} if parquet_views else None
        self.view_columns: dict[str, set[str]] = {}  # table -> the columns its Parquet files hold
        existing = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        if any(f"{prefix}{name}" in existing for name in schemas):
            raise ValueError(f"the tables with prefix {prefix!r} were loaded as Parquet views, which are final: "
                             "load every file in one call")
        for name, schema in schemas.items():
            con.register("_reclaim_empty", schema.empty_table())
            con.execute(f'CREATE TABLE IF NOT EXISTS "{prefix}{name}" AS SELECT * FROM _reclaim_empty')
            con.unregister("_reclaim_empty")

    def batch(self, tables: dict[str, pa.Table]) -> None:
        for name, table in tables.items():
            if name not in self.schemas or not table.num_rows:
                continue
            if name == "files":  # X12 batches repeat their file's row
                fresh = [f not in self.seen_files for f in table["file_id"].to_pylist()]
                table = table.filter(pa.array(fresh, pa.bool_()))
                self.seen_files.update(table["file_id"].to_pylist())
                if not table.num_rows:
                    continue
            self.con.register("_reclaim_batch", table.cast(self.schemas[name]))
            self.con.execute(f'INSERT INTO "{self.prefix}{name}" BY NAME SELECT * FROM _reclaim_batch')
            self.con.unregister("_reclaim_batch")
            self.added[name] += table.num_rows

    def parquet(self, path: Path, other: set[str]) -> None:
        name = path.name[: -len(".parquet")] if path.name.endswith(".parquet") else path.name
        if name in other:
            return  # a table of the other kind in a `reclaim convert` folder: not ours to load
        if name not in self.schemas:
            self.issue(path, "IO-UNKNOWN-FORMAT", "a Parquet file must hold one of reclaim's tables and be named "
                       f"after it ({', '.join(f'{t}.parquet' for t in self.schemas)}), as `reclaim convert` writes them")
            return
        import duckdb

        # the model's columns by name: a missing one is an error, an extra one ignored
        try:
            found = {r[0] for r in self.con.execute(
                f"DESCRIBE SELECT * FROM read_parquet('{_sql_str(path)}')").fetchall()}
            rows = self.con.execute(f"SELECT num_rows FROM parquet_file_metadata('{_sql_str(path)}')").fetchone()[0]
        except duckdb.Error as exc:
            self.issue(path, "IO-UNREADABLE", f"cannot read this Parquet file: {str(exc).splitlines()[0]}")
            return
        missing = [f.name for f in self.schemas[name] if f.name not in found and f.name not in _LATER_COLUMNS]
        if missing:
            self.issue(path, "IO-UNREADABLE", f"cannot load this Parquet file as the {name} table "
                       f"(expected the columns of docs/data-model.md): no column {', '.join(missing[:5])}")
            return
        if self.views is not None:  # read later, by the view
            self.views.setdefault(name, []).append(path)
            self.view_columns.setdefault(name, set()).update(found)
        else:  # DuckDB casts each column to the table's type on insert
            cols = ", ".join(f'"{f.name}"' if f.name in found else f'NULL AS "{f.name}"' for f in self.schemas[name])
            try:
                rows = self.con.execute(f'INSERT INTO "{self.prefix}{name}" BY NAME '
                                        f"SELECT {cols} FROM read_parquet('{_sql_str(path)}')").fetchone()[0]
            except duckdb.Error as exc:  # a column of a type that does not cast
                self.issue(path, "IO-UNREADABLE", f"cannot load this Parquet file as the {name} table: "
                           f"{str(exc).splitlines()[0]}")
                return
        self.added[name] += int(rows)

    def finish(self) -> None:
        """parquet_views mode: each table with Parquet inputs becomes a view over them (and
        over the rows streamed from other files, kept in ``<table>__streamed``)."""
        for name, paths in (self.views or {}).items():
            table = f"{self.prefix}{name}"
            types = self.con.execute(f'SELECT column_name, column_type FROM (DESCRIBE "{table}")').fetchall()
            present = self.view_columns.get(name, set())
            cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' if c in present else f'CAST(NULL AS {t}) AS "{c}"'
                             for c, t in types)
            files = ", ".join(f"'{_sql_str(p)}'" for p in paths)
            sql = f"SELECT {cols} FROM read_parquet([{files}], union_by_name = true)"
            if self.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]:
                self.con.execute(f'ALTER TABLE "{table}" RENAME TO "{table}__streamed"')
                sql += f' UNION ALL SELECT * FROM "{table}__streamed"'
            else:
                self.con.execute(f'DROP TABLE "{table}"')
            self.con.execute(f'CREATE VIEW "{table}" AS {sql}')

    def issue(self, path: Path, code: str, message: str) -> None:
        self.batch({"read_issues": _unreadable(path, message, code)})


def read_claims(paths: Iterable[Path | str], *, progress: Progress | None = None) -> ClaimBatch:
    """Claims from X12 837P/837I, CSV, XLSX and FHIR Claim files (and folders of them).

    Every problem is a ``read_issues`` row naming the file and place; an unreadable file
    does not stop the others. ``progress(done, total, path)`` is called after each file.
    """
    return _read_many(paths, "claims", progress)


def read_remits(paths: Iterable[Path | str], *, progress: Progress | None = None) -> RemitBatch:
    """Remittances from X12 835 and FHIR ExplanationOfBenefit files (and folders of them)."""
    return _read_many(paths, "remits", progress)
