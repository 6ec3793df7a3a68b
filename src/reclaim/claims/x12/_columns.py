"""Column helpers shared by the 837 and 835 readers: loop context by forward fill, typed
values with read issues, and "first value per key" joins. Everything works on whole
columns; the only Python loops run over envelope segments and issue rows."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import MONEY, QUANTITY, READ_ISSUES
from .tokenizer import SegmentBlock, _head4, pick

_NULL_STR = pa.scalar(None, pa.string())
_AMOUNT = r"^-?(\d{1,15}(\.\d{0,10})?|\.\d{1,10})$"
_ISSUE_FIELDS = [f for f in READ_ISSUES if f.name not in ("file_id", "path")]


def ffill_position(mask: np.ndarray, index: np.ndarray, carry: int):
    """Each row gets the segment number (``index``, increasing) of the last row where
    ``mask`` is true, at or before it, else ``carry``. Returns (filled, new carry)."""
    out, carry = ffill(mask, index, carry)
    return out, int(carry)


def ffill(mask: np.ndarray, values: np.ndarray, carry):
    """Each row gets ``values`` at the last row where ``mask`` is true (at or before it),
    else ``carry`` (the value left by the previous block). Returns (filled, new carry).
    One repeat of the hits' values over the runs between them (a few hits in many rows)."""
    n = len(mask)
    hits = np.flatnonzero(mask)
    fill = np.empty(len(hits) + 1, dtype=values.dtype)
    fill[0] = carry
    fill[1:] = values[hits]
    runs = np.empty(len(hits) + 1, dtype=np.int64)
    runs[0] = hits[0] if len(hits) else n
    runs[1:-1] = np.diff(hits)
    if len(hits):
        runs[-1] = n - hits[-1]
    out = np.repeat(fill, runs)
    return out, (out[-1] if n else carry)


class Issues:
    """read_issues rows without file columns (added when the file identity is known)."""

    def __init__(self) -> None:
        self.parts: list[pa.Table] = []
        self.rows: list[dict] = []

    def add(self, code, message, *, severity="error", segment_index=None, byte_offset=None, column=None,
            loop=None, segment_id=None, claim_key=None, skipped="nothing") -> None:
        values = dict(severity=severity, code=code, message=message, segment_index=segment_index,
                      byte_offset=byte_offset, line=None, column=column, loop=loop, segment_id=segment_id,
                      claim_key=claim_key, skipped=skipped)
        values = {k: v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v for k, v in values.items()}
        lengths = {len(v) for v in values.values() if isinstance(v, (pa.Array, np.ndarray))}
        if not lengths:  # one row: keep it as a dict, tables are built once at the end
            self.rows.append(values)
            return
        n = lengths.pop()
        if n == 0:
            return
        arrays = []
        for f in _ISSUE_FIELDS:
            v = values[f.name]
            if isinstance(v, np.ndarray):
                arrays.append(pa.array(v, type=f.type))
            elif isinstance(v, pa.Array):
                arrays.append(v.cast(f.type))
            else:
                arrays.append(pa.repeat(pa.scalar(v, f.type), n))
        self.parts.append(pa.Table.from_arrays(arrays, schema=pa.schema(_ISSUE_FIELDS)))

    def add_dict(self, d: dict) -> None:
        self.add(d["code"], d["message"], severity=d.get("severity", "error"),
                 segment_index=d.get("segment_index"), byte_offset=d.get("byte_offset"),
                 column=d.get("column"), loop=d.get("loop"), segment_id=d.get("segment_id"),
                 claim_key=d.get("claim_key"), skipped=d.get("skipped", "nothing"))

    def table(self, file_id: str, path: str) -> pa.Table:
        parts = list(self.parts)
        if self.rows:
            parts.insert(0, pa.Table.from_pylist(self.rows, schema=pa.schema(_ISSUE_FIELDS)))
        if not parts:
            return READ_ISSUES.empty_table()
        t = pa.concat_tables(parts).combine_chunks()
        t = t.append_column("file_id", pa.repeat(pa.scalar(file_id, pa.string()), len(t)))
        t = t.append_column("path", pa.repeat(pa.scalar(path, pa.string()), len(t)))
        return t.select(READ_ISSUES.names).cast(READ_ISSUES)


class Typed:
    """Turns element strings into typed columns; every value that does not parse becomes
    null and a read_issues row naming the segment, element and what was expected."""

    def __init__(self, block: SegmentBlock, issues: Issues):
        self.block = block
        self.issues = issues

    def _report(self, bad: np.ndarray, rows: np.ndarray, column: str, loop: str, expected: str,
                severity="warning", values: pa.Array | None = None):
        if not bad.any():
            return
        r = rows[bad]
        msg = f"{column}: expected {expected}"
        if values is not None:  # amounts are not patient data: show them
            got = pc.binary_join_element_wise(pa.scalar(msg + ", got '"), values.filter(pa.array(bad)),
                                              pa.scalar("'"), "")
            message = got
        else:
            message = msg
        self.issues.add("X12-BAD-VALUE", message, severity=severity, segment_index=self.block.index[r],
                        byte_offset=self.block.offset[r], column=column, loop=loop,
                        segment_id=_segment_of(column), skipped="nothing")

    def decimal(self, values: pa.Array, rows, column: str, loop: str, type_=MONEY) -> pa.Array:
        plain = _plain_decimal(values, type_)  # fast path: the usual case, no issue possible
        if plain is not None:
            return plain
        try:
            return values.cast(type_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        present = values.is_valid()
        ok = pc.fill_null(pc.match_substring_regex(values, _AMOUNT), False)
        bad = pc.and_(present, pc.invert(ok)).to_numpy(zero_copy_only=False)
        self._report(bad, rows, column, loop, "a decimal number", values=values)
        clean = pc.if_else(ok, values, _NULL_STR)
        wide = clean.cast(pa.decimal128(38, 10))
        # half away from zero, as amounts are rounded to the cent in billing (12.345 -> 12.35)
        rounded = pc.round(wide, type_.scale, round_mode="half_towards_infinity")
        lossy = pc.fill_null(pc.not_equal(rounded, wide), False).to_numpy(zero_copy_only=False)
        self._report(lossy, rows, column, loop, f"at most {type_.scale} decimal places (rounded)",
                     values=values)
        return rounded.cast(type_)

    def composite(self, values: pa.Array, rows, column: str, loop: str, min_components: int = 2) -> None:
        """Report composites that lack the ISA16 component separator (e.g. 'HC>J0897' in a
        file whose ISA16 is ':'): their components cannot be told apart, so they stay null.
        Codes are not patient data, so the value is shown."""
        sep = self.block.delimiters.component
        # a lone qualifier ('HC') is a composite with one component; a foreign separator is not:
        # bad = some byte outside [A-Za-z0-9 .-] and no ISA16 byte (checked on the string bytes)
        n = len(values)
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + n + 1]
        data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] \
            if values.buffers()[2] is not None else np.zeros(0, dtype=np.uint8)
        rel = offsets - offsets[0]

        def rows_having(byte_mask):
            running = np.zeros(len(byte_mask) + 1, dtype=np.int32)
            np.cumsum(byte_mask, out=running[1:])
            return running[rel[1:]] > running[rel[:-1]]

        odd = ~_COMPOSITE_PLAIN[data]
        if not (odd & (data != ord(sep))).any():  # every odd byte is a separator: no value is bad
            return
        bad = rows_having(odd) & ~rows_having(data == ord(sep))
        self._report(bad, rows, column, loop, f"a composite with components separated by {sep!r} (ISA16)",
                     severity="error", values=values)

    def money(self, values, rows, column, loop):
        return self.decimal(values, rows, column, loop, MONEY)

    def quantity(self, values, rows, column, loop):
        return self.decimal(values, rows, column, loop, QUANTITY)

    def integer(self, values, rows, column, loop, type_=pa.int32()):
        """1-9 ASCII digits (no sign) that fit ``type_`` (a diagnosis pointer is int16: 99999
        is a bad value, not a crash)."""
        ok = pc.fill_null(pc.and_(pc.ascii_is_decimal(values), pc.less_equal(pc.binary_length(values), 9)), False)
        wide = pc.if_else(ok, values, _NULL_STR).cast(pa.int64())  # 9 digits always fit
        largest = np.iinfo(type_.to_pandas_dtype()).max
        ok = pc.and_(ok, pc.fill_null(pc.less_equal(wide, largest), False))
        bad = pc.and_(values.is_valid(), pc.invert(ok)).to_numpy(zero_copy_only=False)
        self._report(bad, rows, column, loop, f"a whole number up to {largest}", values=values)
        return pc.if_else(ok, wide, pa.scalar(None, pa.int64())).cast(type_)

    def date(self, values, rows, column, loop) -> pa.Array:
        """CCYYMMDD -> date32 (impossible dates like 20050231 are rejected), the careful way:
        each distinct value parsed (dates repeat a lot), the bad ones reported. Element dates
        go through :meth:`date_at`, which reads plain ones straight from the block."""
        distinct = pc.unique(values)
        parsed = _parse_d8(distinct)
        result = parsed.take(pc.index_in(values, value_set=distinct))
        bad = pc.and_(values.is_valid(), result.is_null()).to_numpy(zero_copy_only=False)
        # dates may be birth dates: never echo them
        self._report(bad, rows, column, loop, "a date CCYYMMDD", values=None)
        return result

    def date_at(self, rows, k: int, column, loop) -> pa.Array:
        """:meth:`date` of element ``k`` of ``rows``: read straight from the block's bytes when
        every present value is a plain date (no string gathered), else the careful way."""
        start, length = _element_spans(self.block, rows, k)
        valid = length == 8
        if (valid | (length == 0)).all():
            days = _days(_words_at(self.block.data, start[valid]))
            if days is not None:
                return _date_array(days, valid)
        return self.date(self.block.element(rows, k), rows, column, loop)

    def period_at(self, rows, k_format: int, k_value: int, column, loop):
        """:meth:`date_period` of elements ``k_format`` (D8/RD8/DT) and ``k_value`` of ``rows``:
        read straight from the block's bytes when every format is D8 (or absent) with a
        CCYYMMDD value or RD8 with CCYYMMDD-CCYYMMDD, else the careful way."""
        fast = _block_periods(self.block, rows, k_format, k_value)
        if fast is not None:
            return fast
        fmt, value = self.block.elements(rows, (k_format, k_value))
        return self.date_period(fmt, value, rows, column, loop)

    def date_period(self, fmt: pa.Array, value: pa.Array, rows, column, loop):
        """DTP/DTM date with format qualifier D8 (date), RD8 (from-to) or DT (date+time):
        returns (from, to)."""
        fmt = pc.fill_null(fmt, "D8")
        is_rd8 = pc.equal(fmt, "RD8")
        is_dt = pc.equal(fmt, "DT")
        if not (pc.any(is_rd8).as_py() or pc.any(is_dt).as_py() or pc.any(pc.match_substring(value, "-")).as_py()):
            # only single D8 dates (the usual case): nothing to split
            return self.date(value, rows, column, loop), pa.nulls(len(value), pa.date32())
        parts = pc.split_pattern(pc.fill_null(value, ""), "-")
        first = pick(parts, 0)
        second = pick(parts, 1)
        first = pc.if_else(is_dt, pc.utf8_slice_codeunits(value, 0, 8), first)
        start = self.date(first, rows, column, loop)
        end = self.date(pc.if_else(is_rd8, second, _NULL_STR), rows, column, loop)
        return start, end


_COMPOSITE_PLAIN = np.zeros(256, dtype=bool)
_COMPOSITE_PLAIN[list(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-")] = True


def _plain_decimal(values: pa.Array, type_: pa.Decimal128Type) -> pa.Array | None:
    """``values`` as ``type_`` when every value is plain: ASCII digits with an optional '-'
    and '.', at most ``type_.scale`` decimals, under 10**15 units of the last decimal. Those
    parse exactly through float64 (correctly rounded, then scaled and rounded back to the
    integer the digits spell), which is 3x faster than Arrow's string-to-decimal cast.
    None when any value is not plain (the caller parses them the careful way)."""
    if len(values) == 0 or values.null_count == len(values) or not pa.types.is_string(values.type):
        return None
    n, scale = len(values), type_.scale
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + n + 1]
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    # only '-' (45), '.' (46) and digits (48-57): three vector compares, no table look-up
    if not ((data >= 45) & (data <= 57) & (data != 47)).all():
        return None
    dots = np.flatnonzero(data == ord("."))
    if len(dots):
        # a value has more than `scale` decimals when none of the `scale + 1` bytes from its
        # dot is its last byte (values are contiguous in `data`)
        last_byte = np.zeros(len(data) + scale + 1, dtype=bool)
        last_byte[(offsets[1:] - offsets[0] - 1)[offsets[1:] > offsets[:-1]]] = True
        near_end = np.zeros(len(dots), dtype=bool)
        for i in range(scale + 1):
            near_end |= last_byte[dots + i]
        if not near_end.all():
            return None
    try:
        parsed = values.cast(pa.float64())  # '-', '.', '1-2', '1.2.3' fail here
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    units = np.rint(pc.fill_null(parsed, 0.0).to_numpy(zero_copy_only=False) * 10.0 ** scale)
    if (np.abs(units) >= 1e15).any():
        return None
    whole = units.astype(np.int64)
    words = np.empty((n, 2), dtype=np.int64)  # decimal128: little-endian 128-bit two's complement
    words[:, 0] = whole
    words[:, 1] = whole >> 63
    validity = None if values.null_count == 0 else pa.py_buffer(
        np.packbits(values.is_valid().to_numpy(zero_copy_only=False), bitorder="little"))
    return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(words)])


def _segment_of(column: str) -> str:
    """'SV202' -> 'SV2', 'CLM05' -> 'CLM', 'HI-4' -> 'HI'."""
    m = re.match(r"^([A-Z][A-Z0-9]{1,2})(\d{2})(?:-|$)", column)
    return m.group(1) if m else column.split("-")[0]


def _days(words: np.ndarray) -> np.ndarray | None:
    """Days since 1970-01-01 of dates CCYYMMDD given as 8 ASCII bytes read as one little-endian
    uint64 each; None unless every one is a real date of the years 1900-2099 (anything else takes
    the careful path, which names the bad values). Digits are checked and combined eight at a
    time within the 64-bit word (a byte is a digit when its high nibble is 3 before and after
    adding 6), so each step is one numpy pass over one word per date."""
    if not len(words):
        return np.zeros(0, dtype=np.int32)
    high = np.uint64(0xF0F0F0F0F0F0F0F0)
    threes = np.uint64(0x3030303030303030)
    if not (((words & high) == threes) & (((words + np.uint64(0x0606060606060606)) & high) == threes)).all():
        return None
    x = words & np.uint64(0x0F0F0F0F0F0F0F0F)  # byte i = digit i (little-endian: first digit lowest)
    # 16-bit lanes CC YY MM DD: 10 * first digit + second (x * 10 as shifts: numpy has no SIMD uint64 multiply)
    x = ((x << np.uint64(3)) + (x << np.uint64(1)) + (x >> np.uint64(8))) & np.uint64(0x00FF00FF00FF00FF)
    lanes = x.view(np.uint16).reshape(-1, 4).astype(np.int32)
    year, month, day = lanes[:, 0] * 100 + lanes[:, 1], lanes[:, 2], lanes[:, 3]
    if not ((year >= 1900) & (year <= 2099) & (month >= 1) & (month <= 12) & (day >= 1)).all():
        return None
    month_index = (year - 1900) * 12 + month - 1
    if not (day <= _MONTH_LENGTH[month_index]).all():
        return None
    return _MONTH_START[month_index] + day - 1


# first day (days since 1970-01-01) and length of every month of 1900-2099, by (year - 1900) * 12 + month - 1
_MONTHS = np.arange("1900-01", "2100-02", dtype="datetime64[M]")
_MONTH_START = _MONTHS.astype("datetime64[D]").astype(np.int32)
_MONTH_LENGTH = np.diff(_MONTH_START)
_MONTH_START = _MONTH_START[:-1]


def _words_at(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The 8 bytes at each position (each at least 8 bytes before the end) as little-endian uint64."""
    if len(data) < 8:
        return np.zeros(0, dtype=np.uint64)
    view = np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    return view[positions]


def _date_array(days: np.ndarray, valid: np.ndarray) -> pa.Array:
    n = len(valid)
    out = np.zeros(n, dtype=np.int32)
    out[valid] = days
    validity = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(pa.date32(), n, [validity, pa.py_buffer(out)])


def _element_spans(block: SegmentBlock, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(start in the block's bytes, length without its delimiter; 0 when absent) of element
    ``k`` of ``rows``."""
    rows = np.asarray(rows, dtype=np.int64)
    present = block.count[rows] > k
    e = np.where(present, block.first[rows] + k, 0)
    start = block.raw_offsets[e].astype(np.int64)
    return start, np.where(present, block.raw_offsets[e + 1] - start - 1, 0)


_D8 = int.from_bytes(b"D8", "little")
_RD8 = int.from_bytes(b"RD8", "little")


def _block_periods(block: SegmentBlock, rows, k_format: int, k_value: int):
    """(from, to) as :meth:`Typed.date_period` gives them, from the block's bytes, when every
    row is D8 (or has no format) with an 8-byte value, or RD8 with a 17-byte 'A-B' value, or has
    no value; None otherwise."""
    f_start, f_len = _element_spans(block, rows, k_format)
    v_start, v_len = _element_spans(block, rows, k_value)
    head = _head4(block.data, f_start)
    rd8 = (f_len == 3) & ((head & 0xFFFFFF) == _RD8)
    d8 = (f_len == 0) | ((f_len == 2) & ((head & 0xFFFF) == _D8))
    if not ((d8 & ((v_len == 8) | (v_len == 0))) | (rd8 & ((v_len == 17) | (v_len == 0)))).all():
        return None
    valid = v_len > 0
    ranges = v_start[rd8 & valid]
    if len(ranges) and (block.data[ranges + 8] != ord("-")).any():
        return None
    first = _days(_words_at(block.data, v_start[valid]))
    second = _days(_words_at(block.data, ranges + 9))
    if first is None or second is None:
        return None
    return _date_array(first, valid), _date_array(second, rd8 & valid)


def _parse_d8(values: pa.Array) -> pa.Array:
    shaped = pc.fill_null(pc.match_substring_regex(values, r"^\d{8}$"), False)
    clean = pc.if_else(shaped, values, _NULL_STR)
    ts = pc.strptime(clean, format="%Y%m%d", unit="s", error_is_null=True)
    back = pc.strftime(ts, format="%Y%m%d")
    ok = pc.fill_null(pc.equal(back, clean), False)
    return pc.if_else(ok, ts, pa.scalar(None, ts.type)).cast(pa.date32())


class Parts:
    """Per-block pieces of a table keyed by a global segment index, concatenated at the end."""

    def __init__(self) -> None:
        self.pieces: dict[str, list[pa.Table]] = {}

    def add(self, part: str, key: np.ndarray, **columns) -> None:
        if len(key) == 0:
            return
        cols = {"key": pa.array(np.asarray(key, dtype=np.int64))}
        cols.update(columns)
        self.pieces.setdefault(part, []).append(pa.table(cols))

    def get(self, name: str, schema: dict[str, pa.DataType]) -> pa.Table:
        pieces = self.pieces.get(name)
        if not pieces:
            return pa.table({"key": pa.array([], pa.int64()),
                             **{k: pa.array([], t) for k, t in schema.items()}})
        # chunks stay as they are (one per block): combining would copy every column once more
        return pa.concat_tables(pieces)

    def lookup(self, name: str, schema: dict[str, pa.DataType]) -> pa.Table:
        """:meth:`get` in one chunk, for a part looked up once per qualifier: Arrow's take on a
        chunked column concatenates it first, on every call."""
        table = self.get(name, schema)
        return table.combine_chunks() if table.column(0).num_chunks > 1 else table

    def split(self, names, cut: int) -> "Parts":
        """Move the rows of parts ``names`` whose key is below ``cut`` into a new Parts (what a
        streamed batch needs); rows at or after ``cut`` stay for later blocks."""
        out = Parts()
        for name in names:
            kept = []
            for t in self.pieces.get(name, []):
                keys = t.column("key").to_numpy()
                n = int(np.searchsorted(keys, cut)) if np.all(keys[1:] >= keys[:-1]) else None
                if n is None:
                    below = keys < cut
                    if below.any():
                        out.pieces.setdefault(name, []).append(t.filter(pa.array(below)))
                    if not below.all():
                        kept.append(t.filter(pa.array(~below)))
                    continue
                if n:
                    out.pieces.setdefault(name, []).append(t.slice(0, n))
                if n < len(t):
                    kept.append(t.slice(n))
            if kept:
                self.pieces[name] = kept
            else:
                self.pieces.pop(name, None)
        return out

    def drop_before(self, names, cut: int) -> None:
        """Forget the rows of parts ``names`` whose key is below ``cut`` (no later claim needs them)."""
        self.split(names, cut)


def first_per_key(table: pa.Table, keys: np.ndarray, where: np.ndarray | None = None,
                  columns: list[str] | None = None) -> dict[str, pa.Array]:
    """For each of ``keys``, the first row of ``table`` (in file order) with that ``key``,
    among the rows where ``where`` is true (all when None); ``columns`` (all when None) are
    null where no row matches. Rows are taken straight from ``table`` (no filtered copy)."""
    tkeys = table.column("key").to_numpy()
    rows = None
    if where is not None and not where.all():
        rows = np.flatnonzero(where)
        tkeys = tkeys[rows]
    out_len = len(keys)
    names = columns or [name for name in table.column_names if name != "key"]
    if rows is None and len(tkeys) == out_len and np.array_equal(tkeys, keys):  # one row per key, in order
        return {name: _one_chunk(table.column(name)) for name in names}
    if len(tkeys) == 0:
        return {name: pa.nulls(out_len, table.schema.field(name).type) for name in names}
    if np.all(tkeys[1:] >= tkeys[:-1]):  # file order: no sort needed
        first = np.flatnonzero(np.concatenate(([True], tkeys[1:] != tkeys[:-1])))
        uniq = tkeys[first]
    else:
        uniq, first = np.unique(tkeys, return_index=True)
    if rows is not None:
        first = rows[first]
    lo = min(int(uniq[0]), int(keys.min())) if len(keys) else 0
    span = max(int(uniq[-1]), int(keys.max()) if len(keys) else 0) - lo + 1
    if span <= 64 * (len(keys) + len(uniq)):  # keys are segment numbers: a dense look-up table
        row_of = np.full(span, -1, dtype=np.int64)
        row_of[uniq - lo] = first
        found = row_of[keys - lo]
        hit = found >= 0
        take = pa.array(np.where(hit, found, 0), mask=~hit)
    else:
        pos = np.minimum(np.searchsorted(uniq, keys), len(uniq) - 1)
        hit = uniq[pos] == keys
        take = pa.array(np.where(hit, first[pos], 0), mask=~hit)
    return {name: table.column(name).take(take) for name in names}


def first_with(table: pa.Table, column: str, value, keys: np.ndarray, take: str | None = None):
    """:func:`first_per_key` among the rows whose ``column`` equals ``value`` (a qualifier);
    with ``take``, only that column (an array), else every column (a dict)."""
    found = first_per_key(table, keys, where=equal_mask(table.column(column), value),
                          columns=[take] if take else None)
    return found[take] if take else found


def equal_mask(values, value) -> np.ndarray:
    """``values == value`` as a numpy bool array (null is False)."""
    if pa.types.is_integer(values.type) and values.null_count == 0:  # qualifier codes
        return values.to_numpy() == value
    return pc.fill_null(pc.equal(values, value), False).to_numpy(zero_copy_only=False)


def keep_rows(data, mask: np.ndarray):
    """``data.filter(mask)``, without the copy when every row is kept (the usual case)."""
    return data if mask.all() else data.filter(pa.array(mask))


def _one_chunk(col: pa.ChunkedArray):
    return col.chunk(0) if col.num_chunks == 1 else col


def rank_within(groups: np.ndarray) -> np.ndarray:
    """1-based position of each row within its run of equal ``groups`` (rows in file order,
    groups non-decreasing)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - first + 1


def join_present(arrays: list[pa.Array], sep: str) -> pa.Array:
    """Join the non-null values of each row with ``sep``; null when all are null.
    (pyarrow's binary_join_element_wise null_handling='skip' drops trailing all-null rows.)"""
    acc = arrays[0]
    for nxt in arrays[1:]:
        both = pc.binary_join_element_wise(acc, nxt, sep)
        acc = pc.coalesce(both, acc, nxt)
    return acc
