"""The one escaping of every spreadsheet-bound output of the web app (the worklist's CSV and
XLSX exports, the corrected claim CSV): a text a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: OWASP's "CSV
injection") gets a leading apostrophe, which Excel, LibreOffice and Google Sheets show as
text. Numbers stay numbers: ``-12.50`` is a negative amount, not a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it."""
    if text[:1] in FORMULA_START and not _NUMBER.match(text):
        return "'" + text
    return text


def safe_cell(value):
    """A cell value for openpyxl or csv: text escaped, dates ISO, decimals as numbers."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return float(value) if hasattr(value, "as_tuple") else value


def escape_csv(data: bytes, encoding: str = "utf-8") -> bytes:
    """A CSV file with every cell passed through :func:`safe_text` (quoting as needed)."""
    text = data.decode(encoding)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if "\r\n" in text[:4096] else "\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([safe_text(cell) for cell in row])
    return out.getvalue().encode(encoding)
