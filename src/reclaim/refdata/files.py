"""Reading helpers shared by the reference-data loaders.

Every loader returns :class:`Loaded` objects: one official file, the release it belongs to, and
the Arrow table(s) to put in the store. Helpers here find header rows by scanning (publishers
move them between releases), read xlsx sheets, parse the publishers' date formats, and raise
:class:`~reclaim.errors.RefDataError` naming the file, the place and what was expected.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from ..errors import RefDataError


@dataclass
class Loaded:
    """One official file read into one store table, tagged with its release."""

    #: dataset name in the ``releases`` table (``hcpcs``, ``asp_pricing``, ``mue_practitioner``...)
    dataset: str
    #: store table the rows go to (``hcpcs``, ``asp_pricing``, ``mue``...)
    table: str
    #: short release id (``2025-10``, ``2025-Q4``, ``FY2025``...), derived from the file itself
    release: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    path: Path
    rows: pa.Table
    #: column -> value identifying the rows this file replaces on re-import (always has release)
    replaces: dict[str, str] = field(default_factory=dict)
    #: official / derived / handwritten: what kind of publication the file is
    provenance: str = "official"
    #: free text shown by ``reclaim data status`` (e.g. how many drug units could not be parsed)
    notes: str = ""
    #: where the file came from when not the imported folder (e.g. a Python package)
    source: str | None = None

    def __post_init__(self) -> None:
        self.replaces = {"release": self.release, **self.replaces}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def yyyymmdd(value: object, *, where: str) -> dt.date | None:
    """CMS ``YYYYMMDD`` (text or number) -> date; blank -> None."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise RefDataError(f"{where}: expected a date as YYYYMMDD, found {text!r}") from None


def mdy(value: str, *, where: str) -> dt.date | None:
    """``mm/dd/yyyy`` -> date; blank -> None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%m/%d/%Y").date()
    except ValueError:
        raise RefDataError(f"{where}: expected a date as mm/dd/yyyy, found {text!r}") from None


_LONG_DATE = re.compile(
    r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{1,2}),\s*(\d{4})"
)


def long_dates(text: str) -> list[dt.date]:
    """All dates written like ``October 1, 2025`` in ``text``, in order."""
    return [dt.datetime.strptime(f"{m} {d} {y}", "%B %d %Y").date() for m, d, y in _LONG_DATE.findall(text)]


def quarter_name(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def read_csv_rows(path: Path, encoding: str) -> list[list[str]]:
    """All records of a CSV file (quoted multi-line cells handled by the csv module)."""
    try:
        text = path.read_bytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise RefDataError(f"{path}: byte offset {exc.start}: not valid {encoding} text") from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RefDataError(f"{path}: not a readable CSV file ({exc})") from None


def find_header(
    rows: Sequence[Sequence[str]], path: Path, matches: Callable[[str], bool], expected: str, *, scan: int = 40
) -> int:
    """Index of the first record (within ``scan``) whose first cell satisfies ``matches``."""
    for index, row in enumerate(rows[:scan]):
        if row and matches(row[0].strip()):
            return index
    raise RefDataError(
        f"{path}: no header row found in the first {scan} lines: expected a first cell {expected}",
        hint="Is this the publisher's file in its own layout? Check the file against the dataset's README section.",
    )


def columns_index(header: Sequence[str], required: Iterable[str], path: Path, line: int) -> dict[str, int]:
    """Header name -> position (names stripped); error listing the missing columns."""
    names = [h.strip() for h in header]
    index = {name: pos for pos, name in enumerate(names) if name}
    missing = [name for name in required if name not in index]
    if missing:
        raise RefDataError(
            f"{path}: line {line}: header is missing column(s) {', '.join(repr(m) for m in missing)}; "
            f"found {', '.join(repr(n) for n in names if n)}"
        )
    return index


def cell(row: Sequence[str], pos: int) -> str:
    return row[pos].strip() if pos < len(row) else ""


def xlsx_rows(path: Path) -> Iterator[list]:
    """Rows of the first sheet of an xlsx (cell values), with a clear error for unreadable files."""
    from python_calamine import CalamineError, CalamineWorkbook  # imported here: only xlsx imports pay

    try:
        book = CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise RefDataError(f"{path}: not a readable xlsx workbook ({exc.__class__.__name__}: {exc})") from None
    except (OSError, ValueError, IndexError) as exc:
        raise RefDataError(f"{path}: not a readable xlsx workbook ({exc})") from None
    yield from rows


def xlsx_header(path: Path) -> tuple[str, ...] | None:
    """The first row of the first sheet as stripped text, or None when the file is not an xlsx."""
    try:
        first = next(xlsx_rows(path), None)
    except RefDataError:
        return None
    return tuple("" if v is None else str(v).strip() for v in first) if first else None


def text(value: object) -> str:
    """A cell as stripped text (a whole-number float such as 20120101.0 as its digits)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
