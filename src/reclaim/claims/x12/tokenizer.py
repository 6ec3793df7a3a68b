"""X12 5010 tokenizer: bytes in, blocks of segments out, as columns.

The file is read in blocks of a few MB cut at a segment terminator, so memory stays flat as
files grow. Inside a block nothing loops per segment in Python: numpy finds every delimiter
byte, and the element boundaries become the offsets of one Arrow string array (zero copy), so
element *k* of segment *s* is ``raw[first[s] + k]``. Each raw element keeps its trailing
delimiter byte; :meth:`SegmentBlock.elements` copies out, without it, every element a table
needs from one segment type in one gather, and :func:`components` cuts composites into their
components from those bytes.

Delimiters come from the ISA header (element separator = ISA byte 4, repetition = ISA11,
component = ISA16, segment terminator = the byte after ISA16); CR/LF after the terminator is
tolerated. A later ISA with other delimiters switches the delimiters from there on.

A file without an ISA that starts with ``ST`` (some payers hand out bare transactions) is read
with the delimiters the ST segment shows (documented fallback, reported as a warning).
Anything else that cannot be tokenized raises :class:`~reclaim.errors.InputFormatError`.
Problems that do not stop reading (non-ASCII bytes, a last segment without terminator,
leading junk) are collected in :attr:`X12Tokenizer.issues`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InputFormatError

#: default block size; small enough for flat memory, big enough to amortize Arrow calls
BLOCK_SIZE = 8 << 20

#: every segment id of the 837P/837I/835, 999, 277CA and 276/277 TR3s (and the envelopes). Codes are indexes here;
#: an id outside this list is still a segment when it looks like one (2-3 upper-case
#: letters/digits) and gets code UNLISTED; anything else is junk (code JUNK).
SEGMENT_IDS = (
    "ISA GS ST SE GE IEA BHT NM1 N2 N3 N4 REF PER PRV HL SBR PAT DMG CLM DTP CL1 PWK CN1 AMT K3 NTE "
    "CR1 CR2 CR3 CR4 CR5 CR6 CR7 CR8 CRC HI HCP QTY MEA OI MIA MOA CAS LX SV1 SV2 SV3 SV4 SV5 SV6 SV7 "
    "TOO PS1 LIN CTP SVD LQ FRM BPR TRN CUR DTM N1 RDM TS3 TS2 CLP SVC PLB ISB ISE TA1 LS LE "
    # acknowledgments and claim status (999, 277CA, 276/277: reader999, reader277)
    "AK1 AK2 IK3 IK4 IK5 AK9 CTX STC"
).split()
SEGMENT_CODE = {s: i for i, s in enumerate(SEGMENT_IDS)}
UNLISTED = -2
JUNK = -3
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str

    def as_bytes(self) -> tuple[int, int, int]:
        return ord(self.element), ord(self.component), ord(self.segment)


def _issue(code: str, message: str, *, severity="error", offset=None, index=None, segment_id=None,
           skipped="nothing", column=None, loop=None) -> dict:
    return {"code": code, "message": message, "severity": severity, "byte_offset": offset,
            "segment_index": index, "segment_id": segment_id, "skipped": skipped, "column": column,
            "loop": loop}


def parse_isa(data: bytes, start: int = 0) -> tuple[Delimiters, list[dict]]:
    """Delimiters of the interchange whose ISA starts at ``data[start]``.

    ISA is fixed width (106 bytes); we locate ISA16 by counting separators so a header padded
    wrongly still reads (with a warning), and check that the delimiters are distinct and not
    letters or digits.
    """
    issues: list[dict] = []
    if len(data) < start + 4:
        raise InputFormatError(f"ISA at byte {start} is cut short: the file ends inside the interchange header")
    sep = data[start + 3]
    seen = 0
    i = start + 4
    end = min(len(data), start + 400)
    while i < end and seen < 15:
        if data[i] == sep:
            seen += 1
        i += 1
    # i is now the first byte of ISA16
    if seen < 15 or i + 1 >= len(data):
        raise InputFormatError(
            f"ISA at byte {start} is not a complete interchange header: expected 16 elements "
            f"separated by {chr(sep)!r} followed by a segment terminator"
        )
    comp, term = data[i], data[i + 1]
    if i != start + 104:
        issues.append(_issue("X12-ISA-WIDTH", f"ISA is {i + 2 - start} bytes long, expected 106 (fixed width); "
                             "delimiters taken from the element positions", severity="warning",
                             offset=start, segment_id="ISA"))
    rep_field = data[start + 82:start + 83] if i == start + 104 else b""
    chosen = [sep, comp, term]
    bad = [c for c in chosen if chr(c).isalnum() or c == 0x20]
    if bad or len(set(chosen)) != 3:
        raise InputFormatError(
            f"ISA at byte {start}: delimiters element={chr(sep)!r} component={chr(comp)!r} "
            f"segment={chr(term)!r} are not three distinct non-alphanumeric characters"
        )
    rep = rep_field.decode("latin-1") if rep_field and not rep_field.isalnum() and rep_field[0] not in chosen else None
    return Delimiters(chr(sep), chr(comp), rep, chr(term)), issues


def _guess_bare_st(data: bytes, start: int) -> Delimiters:
    """Delimiters of a file that starts with ST (no ISA): element separator = the byte after
    'ST'; segment terminator = the first byte after ST02 that is neither alphanumeric nor the
    separator; component separator = the byte after the procedure qualifier of the first
    SVC/SV1/SV2 composite, else ':'."""
    sep = data[start + 2]
    if chr(sep).isalnum() or sep == 0x20:
        raise InputFormatError("file starts with ST but the byte after it is not a separator")
    head = data[start:start + 4096]
    m = re.match(rb"ST" + re.escape(bytes([sep])) + rb"\d{3}" + re.escape(bytes([sep])) + rb"[A-Za-z0-9]+(?:"
                 + re.escape(bytes([sep])) + rb"[A-Za-z0-9.]*)?([^A-Za-z0-9])", head)
    if not m:
        raise InputFormatError("file starts with ST but its segment terminator cannot be found")
    term = m.group(1)[0]
    comp = ord(":")
    m2 = re.search(re.escape(bytes([term])) + rb"\s*SV[C12]" + re.escape(bytes([sep])) + rb"(?:\d{4}"
                   + re.escape(bytes([sep])) + rb")?[A-Z]{2}([^A-Za-z0-9])", head)
    if m2 and m2.group(1)[0] not in (sep, term):
        comp = m2.group(1)[0]
    if len({sep, term, comp}) != 3:
        raise InputFormatError("file starts with ST but its delimiters cannot be told apart")
    return Delimiters(chr(sep), chr(comp), None, chr(term))


class SegmentBlock:
    """The segments of one block, as columns.

    * ``index``: 1-based segment number in the file; ``offset``: byte offset of its start;
    * ``sid``: segment id code (index in :data:`SEGMENT_IDS`, UNLISTED, JUNK);
    * ``first`` / ``count``: position of element 0 in ``raw`` and number of elements (incl. id).
    """

    __slots__ = ("delimiters", "index", "offset", "sid", "first", "count", "raw", "raw_offsets", "data", "_by_sid")

    def __init__(self, delimiters, index, offset, sid, first, count, raw, raw_offsets, data):
        self.delimiters = delimiters
        self.index = index
        self.offset = offset
        self.sid = sid
        self.first = first
        self.count = count
        self.raw = raw
        self.raw_offsets = raw_offsets  # int32, len(raw) + 1
        self.data = data  # the block's bytes (numpy uint8)
        self._by_sid = None

    def __len__(self) -> int:
        return len(self.index)

    def rows(self, segment_id: str) -> np.ndarray:
        """Row numbers of the segments with this id, ascending (one stable sort per block,
        then a slice per id, instead of a pass over all segments per id)."""
        by_sid = self._by_sid
        if by_sid is None:
            order = np.argsort(self.sid, kind="stable")
            bounds = np.searchsorted(self.sid[order], np.arange(-3, len(SEGMENT_IDS) + 1))
            by_sid = self._by_sid = (order, bounds)
        order, bounds = by_sid
        code = SEGMENT_CODE[segment_id] + 3
        return order[bounds[code]:bounds[code + 1]]

    def element(self, rows: np.ndarray, k: int) -> pa.StringArray:
        """Element ``k`` (1-based like X12: NM109 is k=9) of the given rows; null when absent
        or empty."""
        return self.elements(rows, (k,))[0]

    def elements(self, rows: np.ndarray, ks) -> list[pa.StringArray]:
        """Elements ``ks`` of the given rows, one string array per k (null when absent or
        empty). Gathered together: one index computation and one byte copy for all of them
        (a third cheaper than one gather per element), then sliced per k without copying."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        count = self.count[rows]
        ks = list(ks)
        most = int(count.max()) if n else 0
        wanted = [k for k in ks if k < most]  # optional elements are often absent from every row
        out = dict.fromkeys(ks)
        if wanted:
            kk = np.asarray(wanted, dtype=np.int64)[:, None]
            present = (count[None, :] > kk).ravel()
            e = (self.first[rows][None, :] + kk).ravel()
            arr = self.gather(np.where(present, e, 0), present)
            for i, k in enumerate(wanted):
                out[k] = arr.slice(i * n, n)
        return [pa.nulls(n, pa.string()) if out[k] is None else out[k] for k in ks]

    def gather(self, e: np.ndarray, present: np.ndarray) -> pa.StringArray:
        """Raw elements number ``e`` (without their delimiter) as a string array, null where
        not ``present`` or empty."""
        start = self.raw_offsets[e]
        length = np.where(present, self.raw_offsets[e + 1] - start - 1, 0)  # minus the delimiter
        return take_bytes(self.data, start, length)

    def components(self, rows: np.ndarray, k: int, js) -> list[pa.StringArray]:
        """Components ``js`` (0-based) of element ``k`` of the given rows (see :func:`components`)."""
        return components(self.element(rows, k), self.delimiters.component, js)


def pick(lists: pa.Array, k: int) -> pa.StringArray:
    """Item ``k`` (0-based) of each list, null when the list is null, too short or the item empty."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    flat = lists.values
    if len(flat) == 0:
        return pa.nulls(len(lists), pa.string())
    offsets = lists.offsets.to_numpy(zero_copy_only=False)
    # offsets are relative to the full values array; a sliced list array keeps them absolute
    start = offsets[:-1]
    present = offsets[1:] - start > k
    if lists.null_count:
        present &= lists.is_valid().to_numpy(zero_copy_only=False)
    idx = np.where(present, start + k, 0)
    if flat.null_count:  # split_pattern gives no null items; keep the general case right
        values = flat.take(pa.array(idx))
        keep = pc.and_(pa.array(present), pc.not_equal(values, ""))
        return pc.if_else(keep, values, pa.scalar(None, pa.string()))
    item_offsets = np.frombuffer(flat.buffers()[1], dtype=np.int32)[flat.offset:flat.offset + len(flat) + 1]
    present &= item_offsets[idx + 1] > item_offsets[idx]  # an empty item is null
    return flat.take(pa.array(idx, mask=~present))


def take_bytes(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> pa.StringArray:
    """The strings ``data[start:start + length]`` (null where length is 0), gathered with
    numpy: one copy, no Arrow kernel. Positions are int32 (a block is far below 2 GB), which
    halves the index arrays' memory traffic."""
    offsets = np.zeros(len(start) + 1, dtype=np.int32)
    np.cumsum(length, out=offsets[1:])
    index = np.repeat(start.astype(np.int32, copy=False) - offsets[:-1], length)
    index += np.arange(int(offsets[-1]), dtype=np.int32)
    validity = np.packbits(length > 0, bitorder="little")
    return pa.StringArray.from_buffers(len(start), pa.py_buffer(offsets), pa.py_buffer(np.take(data, index)),
                                       pa.py_buffer(validity))


def components(values: pa.StringArray, separator: str, js) -> list[pa.StringArray]:
    """Components ``js`` (0-based) of composite ``values``, one string array per j, null when
    absent or empty: what splitting at ``separator`` and taking item j gives, cut from the
    values' bytes in one gather (no list arrays, no binary search: the separators of value i
    are found by a running count over the bytes)."""
    js = list(js)
    n = len(values)
    buffers = values.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[values.offset:values.offset + n + 1].astype(np.int64)
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.zeros(0, dtype=np.uint8)
    if buffers[0] is not None and values.null_count:  # a null value may still span bytes: it has no components
        ends = np.where(values.is_valid().to_numpy(zero_copy_only=False), offsets[1:], offsets[:-1])
    else:
        ends = offsets[1:]
    starts = offsets[:-1]
    is_sep = data[offsets[0]:offsets[-1]] == ord(separator)
    seps = np.flatnonzero(is_sep) + offsets[0]
    running = np.zeros(len(is_sep) + 1, dtype=np.int64)
    np.cumsum(is_sep, out=running[1:])
    lo = running[starts - offsets[0]]  # value i's separators are seps[lo:hi]
    hi = running[ends - offsets[0]]
    last = max(len(seps) - 1, 0)
    seps = seps if len(seps) else np.zeros(1, dtype=np.int64)
    cut_start, cut_length = [], []
    for j in js:
        s = starts if j == 0 else seps[np.minimum(lo + j - 1, last)] + 1
        t = np.where(lo + j < hi, seps[np.minimum(lo + j, last)], ends)
        has = (hi - lo >= j) & (ends > starts)
        cut_start.append(np.where(has, s, 0))
        cut_length.append(np.where(has, t - s, 0))
    arr = take_bytes(data, np.concatenate(cut_start), np.concatenate(cut_length))
    return [arr.slice(i * n, n) for i in range(len(js))]


_SEPARATORS_TO_DELETE = b"\r\n"


class X12Tokenizer:
    """Streams an X12 file (path or bytes) as :class:`SegmentBlock` s.

    After iteration: ``issues`` (dicts, see ``_issue``), ``size``,
    ``bare_transaction`` (True when the file had no ISA), ``delimiters`` (the first ones).
    """

    def __init__(self, source: str | Path | bytes, *, block_size: int = BLOCK_SIZE):
        self.source = source
        self.block_size = max(int(block_size), 1024)
        self.issues: list[dict] = []
        self.size = 0
        self.bare_transaction = False
        self.delimiters: Delimiters | None = None
        self.segments = 0
        self._foreign_isa = False  # set by _tokenize: the region holds an ISA with other delimiters

    # ----------------------------------------------------------------- reading bytes
    def _chunks(self) -> Iterator[bytes]:
        # no hashing here: the readers hash the file once before the first block (ids.file_digest)
        if isinstance(self.source, (bytes, bytearray, memoryview)):
            data = bytes(self.source)
            self.size = len(data)
            for i in range(0, len(data), self.block_size):
                yield data[i:i + self.block_size]
        else:
            try:
                fh = open(self.source, "rb")
            except OSError as exc:
                raise InputFormatError(f"{self.source}: cannot open: {exc.strerror}") from exc
            with fh:
                while True:
                    chunk = fh.read(self.block_size)
                    if not chunk:
                        break
                    self.size += len(chunk)
                    yield chunk

    def _start(self, head: bytes) -> tuple[int, Delimiters]:
        """Offset of the first segment and the delimiters, from the head of the file."""
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n\x00")
        skip = len(head) - len(stripped)
        if stripped[:3] == b"ISA":
            delims, issues = parse_isa(head, skip)
            self.issues.extend(issues)
            return skip, delims
        found = head.find(b"ISA", skip, skip + 1024)
        if found > 0 and len(head) > found + 3 and not chr(head[found + 3]).isalnum():
            delims, issues = parse_isa(head, found)
            self.issues.extend(issues)
            self.issues.append(_issue("X12-LEADING-JUNK", f"{found - skip} bytes before the ISA header were skipped",
                                      offset=skip, skipped="bytes"))
            return found, delims
        if stripped[:2] == b"ST" and len(stripped) > 3:
            delims = _guess_bare_st(head, skip)
            self.bare_transaction = True
            self.issues.append(_issue(
                "X12-NO-ENVELOPE",
                "no ISA/GS envelope: the file starts with ST; read with delimiters "
                f"element {delims.element!r}, component {delims.component!r}, segment {delims.segment!r} "
                "taken from the ST segment (sender, receiver and control numbers are unknown)",
                severity="warning", offset=skip, segment_id="ST"))
            return skip, delims
        if not stripped:
            raise InputFormatError("the file is empty: expected an X12 interchange starting with ISA")
        raise InputFormatError(
            "not an X12 file: expected it to start with an ISA interchange header "
            f"(found {stripped[:3]!r} at byte {skip})"
        )

    # ----------------------------------------------------------------- blocks
    def blocks(self) -> Iterator[SegmentBlock]:
        chunks = self._chunks()
        buf = b""
        base = 0  # file offset of buf[0]
        delims: Delimiters | None = None
        for chunk in chunks:
            if delims is None:
                buf += chunk
                if len(buf) < 4096 and len(chunk) == self.block_size:
                    continue  # read on until the head holds a whole ISA
                start, delims = self._start(buf[:4096])
                self.delimiters = delims
                chunk, buf, base = buf[start:], b"", base + start
            term = delims.segment.encode("latin-1")
            cut = chunk.rfind(term)
            if cut >= 0:  # the region is the tail of the last block and the chunk up to it: one copy
                region, buf = b"".join((buf, memoryview(chunk)[:cut + 1])), chunk[cut + 1:]
            else:
                buf += chunk
                cut = buf.rfind(term)
                if cut < 0:
                    continue
                region, buf = buf[:cut + 1], buf[cut + 1:]
            for block, delims in self._regions(region, base, delims):
                yield block
            base += len(region)
        if delims is None:  # a file smaller than the header window with a tiny block size
            start, delims = self._start(buf)
            self.delimiters = delims
            buf, base = buf[start:], base + start
            cut = buf.rfind(delims.segment.encode("latin-1"))
            if cut >= 0:
                region, buf = buf[:cut + 1], buf[cut + 1:]
                for block, delims in self._regions(region, base, delims):
                    yield block
                base += len(region)
        tail = buf.strip(b" \t\r\n\x00")
        if tail:
            lead = len(buf) - len(buf.lstrip(b" \t\r\n\x00"))
            self.issues.append(_issue(
                "X12-NO-TERMINATOR",
                f"the file ends without a segment terminator {delims.segment!r}: the last segment "
                "may be cut short (file truncated?)", severity="warning", offset=base + lead))
            region = buf.rstrip(b" \t\r\n\x00") + delims.segment.encode("latin-1")
            for block, delims in self._regions(region, base, delims):
                yield block

    def _regions(self, region: bytes, base: int, delims: Delimiters):
        """Split a region at interchanges whose ISA uses other delimiters. Such files are rare:
        the region is tokenized with the current delimiters first, and searched for the ISA to
        split at only when a segment starts with an ISA that does not use them."""
        before = self.segments, len(self.issues)
        block = self._tokenize(region, base, delims)
        if not self._foreign_isa:
            yield block, delims
            return
        self.segments = before[0]  # tokenized again below, piece by piece
        del self.issues[before[1]:]
        sep = delims.element.encode("latin-1")
        term = delims.segment.encode("latin-1")
        pos = 0
        while True:
            i = region.find(b"ISA", pos)
            if i < 0:
                break
            before = region[max(0, i - 4):i].rstrip(b" \r\n\t")
            at_start = i == 0 or before.endswith(term) or (i > 0 and not before)
            if at_start and len(region) > i + 3 and region[i + 3:i + 4] != sep:
                if i > 0:
                    yield self._tokenize(region[:i], base, delims), delims
                try:
                    new, issues = parse_isa(region, i)
                except InputFormatError as exc:
                    self.issues.append(_issue("X12-BAD-ISA", f"{exc}; the rest of the file was skipped",
                                              offset=base + i, segment_id="ISA", skipped="file"))
                    return
                self.issues.extend(issues)
                yield from self._regions_switch(region[i:], base + i, new)
                return
            pos = i + 3
        if region:
            yield self._tokenize(region, base, delims), delims

    def _regions_switch(self, region: bytes, base: int, delims: Delimiters):
        # the new interchange may end with its own terminator: re-cut the region on it
        term = delims.segment.encode("latin-1")
        cut = region.rfind(term)
        if cut < 0:
            self.issues.append(_issue("X12-NO-TERMINATOR", "interchange with other delimiters has no segment "
                                      "terminator; skipped", offset=base, skipped="interchange"))
            return
        yield from self._regions(region[:cut + 1], base, delims)
        rest = region[cut + 1:].strip()
        if rest:
            self.issues.append(_issue("X12-NO-TERMINATOR", f"{len(rest)} bytes after the last terminator "
                                      "of an interchange were skipped", offset=base + cut + 1, skipped="bytes"))

    def _tokenize(self, region: bytes, base: int, delims: Delimiters) -> SegmentBlock:
        sep, comp, term = delims.as_bytes()
        removed = None
        if term not in (10, 13) and (b"\n" in region or b"\r" in region):
            arr0 = np.frombuffer(region, dtype=np.uint8)
            removed = np.flatnonzero((arr0 == 10) | (arr0 == 13))
            region = region.translate(None, _SEPARATORS_TO_DELETE)
        elif term in (10, 13):
            other = b"\r" if term == 10 else b"\n"
            if other in region:
                arr0 = np.frombuffer(region, dtype=np.uint8)
                removed = np.flatnonzero(arr0 == other[0])
                region = region.translate(None, other)
        if not region.isascii():
            try:
                region.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.issues.append(_issue(
                    "X12-NOT-TEXT", "bytes that are not ASCII/UTF-8 text were replaced by '?' "
                    f"(first at byte {base + exc.start}); X12 allows only its basic and extended character sets",
                    severity="warning", offset=base + exc.start))
                region = region.translate(_NON_ASCII_TO_QMARK)
        a = np.frombuffer(region, dtype=np.uint8)
        delim_pos = np.flatnonzero((a == sep) | (a == term))
        term_k = np.flatnonzero(a[delim_pos] == term)
        n_seg = len(term_k)
        first = np.empty(n_seg, dtype=np.int64)
        if n_seg:
            first[0] = 0
            first[1:] = term_k[:-1] + 1
        count = (term_k - first + 1).astype(np.int64)
        offsets = np.empty(len(delim_pos) + 1, dtype=np.int32)
        offsets[0] = 0
        np.add(delim_pos, 1, out=offsets[1:], casting="unsafe")
        raw = pa.StringArray.from_buffers(len(delim_pos), pa.py_buffer(offsets), pa.py_buffer(region))
        seg_start = offsets[first].astype(np.int64)
        sid = _segment_codes(a, seg_start, sep, term)
        # an ISA followed by the terminator uses another element separator (see _regions)
        isa = seg_start[sid == SEGMENT_CODE["ISA"]]
        self._foreign_isa = bool(len(isa)) and bool((a[np.minimum(isa + 3, len(a) - 1)] == term).any())
        # segments that are empty or only blanks (blank lines, "~~") are not segments
        unknown = np.flatnonzero(sid < 0)
        drop = np.zeros(n_seg, dtype=bool)
        if len(unknown):
            raw_ids = raw.take(pa.array(first[unknown])).to_pylist()
        for j, r in enumerate(unknown):  # few: ids outside SEGMENT_IDS, blank segments, junk
            text = raw_ids[j][:-1]
            stripped = text.strip(" \t\x00")
            if stripped.startswith("ISA"):  # an ISA with another element separator (see _regions)
                self._foreign_isa = True
            if not stripped and count[r] == 1:
                drop[r] = True
            elif stripped in SEGMENT_CODE:
                sid[r] = SEGMENT_CODE[stripped]
            elif _SEGMENT_ID.match(stripped):
                sid[r] = UNLISTED
            else:
                sid[r] = JUNK
        if drop.any():
            keep = ~drop
            first, count, seg_start, sid = first[keep], count[keep], seg_start[keep], sid[keep]
        if removed is not None and len(removed):
            adj = removed - np.arange(len(removed))
            seg_start = seg_start + np.searchsorted(adj, seg_start, side="right")
        index = np.arange(self.segments + 1, self.segments + 1 + len(first), dtype=np.int64)
        self.segments += len(first)
        return SegmentBlock(delims, index, seg_start + base, sid, first, count, raw, offsets, a)


_NON_ASCII_TO_QMARK = bytes(range(128)) + b"?" * 128


# id look-up tables: 2-byte ids by their bytes read little-endian (byte 0 in the low bits);
# 3-byte ids by the bytes' offsets from '0' in base 43 ('0'..'Z' is 43 byte values)
_ID2_LE = np.full(1 << 16, -1, dtype=np.int16)
_ID3 = np.full(43 ** 3, -1, dtype=np.int16)
for _code, _sid in enumerate(SEGMENT_IDS):
    _b = _sid.encode()
    if len(_b) == 2:
        _ID2_LE[int.from_bytes(_b, "little")] = _code
    else:
        _ID3[((_b[0] - 48) * 43 + (_b[1] - 48)) * 43 + (_b[2] - 48)] = _code


def _segment_codes(a: np.ndarray, start: np.ndarray, sep: int, term: int) -> np.ndarray:
    """Segment id codes from the first 4 bytes of each segment, by table look-up: an id is 2
    or 3 bytes followed by the element separator or the terminator. -1 = look closer."""
    head = _head4(a, start)  # little-endian: byte 0 in the low bits
    b2 = (head >> 16) & 0xFF
    b3 = head >> 24
    two = (b2 == sep) | (b2 == term)
    three = ~two & ((b3 == sep) | (b3 == term))
    codes = np.where(two, _ID2_LE[head & 0xFFFF], -1).astype(np.int16)
    digits = [((head >> shift) & 0xFF).astype(np.int32) - 48 for shift in (0, 8, 16)]
    in_range = three & (digits[0] >= 0) & (digits[0] < 43) & (digits[1] >= 0) & (digits[1] < 43) \
        & (digits[2] >= 0) & (digits[2] < 43)
    key3 = np.where(in_range, (digits[0] * 43 + digits[1]) * 43 + digits[2], 0)
    codes[in_range] = _ID3[key3[in_range]]
    return codes


def _head4(a: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The 4 bytes at each ``start`` as one little-endian uint32 (zero past the end), read in
    one gather through an unaligned uint32 view of the bytes."""
    n = len(a)
    if n < 4:
        padded = np.zeros(4, dtype=np.uint8)
        padded[:n] = a
        a, n = padded, 4
    view = np.ndarray(shape=(n - 3,), dtype="<u4", buffer=a, offset=0, strides=(1,))
    head = view[np.minimum(start, n - 4)]
    for i in np.flatnonzero(start > n - 4):  # at most the last segment or two of a block
        tail = bytes(a[start[i]:start[i] + 4]).ljust(4, b"\0")
        head[i] = int.from_bytes(tail, "little")
    return head
