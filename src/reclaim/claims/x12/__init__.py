"""X12 5010 readers: 837P/837I claims and 835 remittances into the normalized Arrow model.

Public API (see docs/x12.md):

* :func:`read_837` (path, *, on_issue=None) -> ClaimBatch
* :func:`read_835` (path, *, on_issue=None) -> RemitBatch
* :func:`iter_837` / :func:`iter_835` (path, *, on_issue=None, block_size=None) -> Iterator of
  batches, one per block (flat memory); concatenated they are what read_837 / read_835 return
* :func:`sniff` (path_or_bytes) -> '837P' | '837I' | '835' | None
* :func:`sniff_ack` (path_or_bytes) -> '999' | 'TA1' | '277CA' | '277' | '276' | None
* :func:`read_ack` / :func:`iter_ack` (path, ...) -> AckBatch: 999/TA1 (reader999), 277CA/277/276 (reader277)
* :func:`validate_with_pyx12` (path) -> list[dict]

The readers stream the file in blocks and work on columns (see ``tokenizer``); problems
become ``read_issues`` rows, and only a file that cannot be read at all raises
:class:`~reclaim.errors.InputFormatError`. ``on_issue`` is called with each issue row (a dict).
"""

from __future__ import annotations

import re
from pathlib import Path

from ...errors import InputFormatError
from .envelope import transaction_type
from .reader835 import iter_835, read_835
from .reader837 import iter_837, read_837
from .reader277 import iter_277, read_277, status_transaction_type
from .reader999 import iter_999, read_999
from .tokenizer import parse_isa
from .validate import validate_with_pyx12

__all__ = ["read_837", "read_835", "iter_837", "iter_835", "sniff", "validate_with_pyx12", "sniff_ack", "read_ack",
           "iter_ack", "read_999", "iter_999", "read_277", "iter_277"]

_SNIFF_BYTES = 1 << 16


def sniff(path_or_bytes: str | Path | bytes) -> str | None:
    """'837P', '837I', '835' or None, from the first 64 KB (ISA delimiters, ST01, ST03/GS08;
    a bare ST without envelope is recognized too)."""
    found = _head_transaction(path_or_bytes)
    return transaction_type(*found) if found and found[0] in ("835", "837") else None


def sniff_ack(path_or_bytes: str | Path | bytes) -> str | None:
    """'999', '277CA' (005010X214), '277', '276' (005010X212), 'TA1' (an interchange holding only
    TA1 acknowledgments) or None, from the first 64 KB."""
    found = _head_transaction(path_or_bytes, ta1=True)
    if not found:
        return None
    if found[0] in ("999", "TA1"):
        return found[0]
    return status_transaction_type(*found[:2])


def iter_ack(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None):
    """Stream an acknowledgment or claim status file (see :func:`sniff_ack`) as AckBatches."""
    kind = sniff_ack(path)
    if kind is None:
        raise InputFormatError(f"{'<bytes>' if isinstance(path, (bytes, bytearray)) else path}: not a 999, TA1, "
                               "277CA, 277 or 276 file")
    reader = iter_999 if kind in ("999", "TA1") else iter_277
    return reader(path, on_issue=on_issue, block_size=block_size)


def read_ack(path: str | Path | bytes, *, on_issue=None, block_size: int | None = None):
    from ..model import AckBatch

    return AckBatch.concat(list(iter_ack(path, on_issue=on_issue, block_size=block_size)))


def _head_transaction(path_or_bytes, ta1: bool = False):
    """(ST01, version, has_sv2) of the first transaction in the first 64 KB, ('TA1', None, None)
    for an interchange of TA1 segments only (when ``ta1``), else None."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        head = bytes(path_or_bytes[:_SNIFF_BYTES])
    else:
        try:
            with open(path_or_bytes, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        except OSError:
            return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
    if text[:3] == b"ISA":
        try:
            delims, _ = parse_isa(text, 0)
        except InputFormatError:
            return None
        sep, term = re.escape(delims.element.encode()), re.escape(delims.segment.encode())
    elif text[:2] == b"ST" and len(text) > 3 and not chr(text[2]).isalnum():
        sep = re.escape(text[2:3])
        m = re.match(rb"ST" + sep + rb"\d{3}" + sep + rb"[A-Za-z0-9]+(?:" + sep + rb"[A-Za-z0-9.]*)?([^A-Za-z0-9])", text)
        if not m:
            return None
        term = re.escape(m.group(1))
    else:
        return None
    gs = re.search(rb"(?:^|" + term + rb")\s*GS" + sep + rb"(?:[^" + term[-1:] + rb"]*?" + sep + rb"){7}([^" + term[-1:]
                   + rb"]*)", text)
    st = re.search(rb"(?:^|" + term + rb")\s*ST" + sep + rb"(\d{3})" + sep + rb"[^" + sep[-1:] + term[-1:] + rb"]*(?:"
                   + sep + rb"([^" + term[-1:] + rb"]*))?", text)
    if not st:
        if ta1 and re.search(term + rb"\s*TA1" + sep, text):
            return "TA1", None, None
        return None
    version = (st.group(2) or (gs.group(1) if gs else b"") or b"").decode("latin-1")
    st01 = st.group(1).decode()
    has_sv2 = None
    if st01 == "837" and not re.search(r"X22[23]|X09[68]", version):
        has_sv2 = re.search(term + rb"\s*SV2" + sep, text) is not None
    return st01, version, has_sv2
