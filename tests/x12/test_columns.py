"""The readers' fast paths give exactly what the careful paths give: element gathers (all
elements of a segment type at once) against one element at a time, the float64 route for
plain amounts against Arrow's string-to-decimal cast, dates read from the block's bytes against
gathering and parsing the strings, and the dense "first row per key" look-up against a binary
search, on real samples and on arbitrary input."""

from __future__ import annotations

import datetime
import decimal

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.claims.model import MONEY, QUANTITY
from reclaim.claims.x12._columns import (
    Issues,
    Typed,
    _days,
    _plain_decimal,
    ffill,
    first_per_key,
)
from reclaim.claims.x12.tokenizer import SEGMENT_IDS, X12Tokenizer, components, pick


def _careful(values: pa.Array, type_) -> list:
    """Reference: each value parsed with Python's decimal, None where Arrow's cast refuses it."""
    out = []
    for v in values.to_pylist():
        try:
            out.append(pa.array([v], pa.string()).cast(type_)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    return out


amounts = st.one_of(
    st.decimals(min_value=-10**13, max_value=10**13, places=2, allow_nan=False).map(str),
    st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False).map(str),
    st.from_regex(r"-?\d{0,16}(\.\d{0,5})?", fullmatch=True),
    st.text(alphabet="0123456789.-+eE ", max_size=8),
    st.none(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=12), st.sampled_from([MONEY, QUANTITY]))
def test_plain_decimal_equals_arrow_cast(values, type_):
    arr = pa.array(values, pa.string())
    fast = _plain_decimal(arr, type_)
    if fast is None:
        return  # not plain: the caller takes the careful path
    reference = _careful(arr, type_)
    assert reference is not None, f"fast path accepted values Arrow refuses: {values}"
    assert fast.to_pylist() == reference
    for got, text in zip(fast.to_pylist(), values):  # and the value the digits spell
        if text is not None:
            assert got == decimal.Decimal(text).quantize(decimal.Decimal(1).scaleb(-type_.scale))


def test_plain_decimal_refuses_what_needs_the_careful_path():
    for text in ("1.005", "1-2", "-", "1.2.3", "1e5", " 12", "12,00", "99999999999999.99"):
        assert _plain_decimal(pa.array([text]), MONEY) is None, text
    sliced = pa.array(["junk", "1.25", None, "3"]).slice(1)
    assert _plain_decimal(sliced, MONEY).to_pylist() == [decimal.Decimal("1.25"), None, decimal.Decimal("3.00")]


def test_decimal_reports_rounding_and_bad_values(x12_samples):
    block = next(iter(X12Tokenizer(x12_samples / "x12__medicare-part-a.835").blocks()))
    issues = Issues()
    rows = np.arange(3)
    got = Typed(block, issues).money(pa.array(["12.346", "abc", "7"]), rows, "CLP03", "2100")
    assert got.to_pylist() == [decimal.Decimal("12.35"), None, decimal.Decimal("7.00")]
    halves = Typed(block, Issues()).money(pa.array(["12.345", "-0.125", "7.1249"]), rows, "CLP03", "2100")
    assert halves.to_pylist() == [decimal.Decimal("12.35"), decimal.Decimal("-0.13"), decimal.Decimal("7.12")]
    messages = [r["message"] for r in issues.rows] + [m for t in issues.parts for m in t["message"].to_pylist()]
    assert any("rounded" in m for m in messages) and any("decimal number" in m for m in messages)


def test_elements_equal_single_gathers(x12_samples):
    """Every element k of every segment id, gathered together and one at a time."""
    for name in ("x12__medicare-part-a.835", "x12__demo.drug.example10.1.837"):
        for block in X12Tokenizer(x12_samples / name).blocks():
            for sid in SEGMENT_IDS:
                rows = block.rows(sid)
                if not len(rows):
                    continue
                ks = list(range(int(block.count[rows].max()) + 2))
                together = block.elements(rows, ks)
                for k, values in zip(ks, together):
                    one = block.gather(np.where(block.count[rows] > k, block.first[rows] + k, 0),
                                       block.count[rows] > k)
                    assert values.equals(one), (name, sid, k)


def test_components_equal_split_and_pick(x12_samples):
    """Composite components cut from the bytes equal splitting at ISA16 and taking item j, for
    every element of the samples (1 KB blocks), and on sliced arrays with nulls."""
    import pyarrow.compute as pc

    checked = 0
    for name in ("x12__medicare-part-a.835", "x12__demo.drug.example10.1.837", "x12__demo.example1.837"):
        for block in X12Tokenizer(x12_samples / name, block_size=1024).blocks():
            for sid in SEGMENT_IDS:
                rows = block.rows(sid)
                for k in range(1, int(block.count[rows].max()) if len(rows) else 1):
                    values = block.element(rows, k)
                    lists = pc.split_pattern(values, block.delimiters.component)
                    for j, got in enumerate(block.components(rows, k, range(8))):
                        assert got.equals(pick(lists, j)), (name, sid, k, j)
                        checked += 1
    assert checked > 1000
    values = pa.array(["x:y", "HC:J0897:JZ", None, "", "A::C", ":B", "Q:"]).slice(1)
    got = components(values, ":", range(4))
    assert [a.to_pylist() for a in got] == [["HC", None, None, "A", None, "Q"], ["J0897", None, None, None, "B", None],
                                            ["JZ", None, None, "C", None, None], [None] * 6]


def test_ffill_carries_over_blocks():
    mask = np.array([False, True, False, False, True, False])
    values = np.array([10, 11, 12, 13, 14, 15])
    out, carry = ffill(mask, values, 7)
    assert out.tolist() == [7, 11, 11, 11, 14, 14] and carry == 14
    out, carry = ffill(np.zeros(3, bool), values[:3], 5)
    assert out.tolist() == [5, 5, 5] and carry == 5
    out, carry = ffill(np.zeros(0, bool), values[:0], 5)
    assert out.tolist() == [] and carry == 5


def test_out_of_range_pointer_is_a_bad_value_not_a_crash():
    """SV107 pointers are int16: 99999 is reported and left null, the line and the rest load."""
    from pathlib import Path

    from reclaim.claims.x12 import read_837

    raw = (Path(__file__).resolve().parents[1] / "fixtures" / "x12" / "drug-claims.837p").read_bytes()
    start = raw.find(b"SV1*")
    end = raw.find(b"~", start)
    elements = raw[start:end].split(b"*")
    elements[7] = b"99999:2"
    batch = read_837(raw[:start] + b"*".join(elements) + raw[end:])
    clean = read_837(raw)
    assert batch["lines"].num_rows == clean["lines"].num_rows
    assert batch["lines"]["dx_pointer_1"][0].as_py() is None
    assert batch["lines"]["dx_pointer_2"][0].as_py() == 2
    bad = [r for r in batch["read_issues"].to_pylist() if r["code"] == "X12-BAD-VALUE"]
    assert [(r["column"], r["segment_id"], r["skipped"]) for r in bad] == [("SV107-1", "SV1", "nothing")]
    assert "up to 32767" in bad[0]["message"] and bad[0]["byte_offset"] == start


dates = st.one_of(
    st.dates(min_value=datetime.date(1890, 1, 1), max_value=datetime.date(2110, 12, 31))
    .map(lambda d: d.strftime("%Y%m%d")),
    st.from_regex(r"\d{8}", fullmatch=True),  # impossible dates too: 20230229, 20241301, 00000000
    st.text(alphabet="0123456789-/ ", max_size=9),
    st.none(),
)


EPOCH = datetime.date(1970, 1, 1).toordinal()


def test_days_of_every_date_of_1900_2099_and_nothing_else():
    """Every calendar day of 1900-2099 as CCYYMMDD gives its day number; an impossible or
    out-of-range date, or a non-digit, sends the values to the careful path (None)."""
    first, last = datetime.date(1900, 1, 1).toordinal(), datetime.date(2099, 12, 31).toordinal()
    text = "".join(datetime.date.fromordinal(d).strftime("%Y%m%d") for d in range(first, last + 1))
    got = _days(np.frombuffer(text.encode(), dtype="<u8"))
    assert got.tolist() == list(range(first - EPOCH, last + 1 - EPOCH))
    for bad in ("20230229", "21000229", "20240230", "20240431", "20241301", "20240001", "20240100",
                "18991231", "21000101", "2024013a", "2024:101", "202401/1", " 2024010"):
        assert _days(np.frombuffer(bad.encode(), dtype="<u8")) is None, bad
    assert _days(np.frombuffer(b"20000229", dtype="<u8")).tolist() == [datetime.date(2000, 2, 29).toordinal() - EPOCH]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 400), max_size=40),
       st.lists(st.integers(0, 400), min_size=1, max_size=40, unique=True),  # keys: segment numbers, unique
       st.integers(0, 10**9))
def test_first_per_key_dense_equals_search(table_keys, keys, shift):
    """Near and far keys (dense table or binary search): the first row of each key, else null."""
    table_keys = sorted(table_keys)
    keys = np.array(sorted(keys), dtype=np.int64)
    for spread in (1, 10**6):  # 10**6 apart: too sparse for the dense table
        tk = np.array(table_keys, dtype=np.int64) * spread + shift
        kk = keys * spread + shift
        table = pa.table({"key": tk, "row": np.arange(len(tk))})
        got = first_per_key(table, kk)["row"].to_pylist()
        want = [table_keys.index(k) if k in table_keys else None for k in keys.tolist()]
        assert got == want


def _dtp_block(rows: list[tuple[str | None, str | None]]):
    """One tokenized block of DTP segments (format, value: None leaves the element out)."""
    isa = ("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*"
           "000000001*0*P*:~")
    segments = []
    for fmt, value in rows:
        elements = ["DTP", "472", fmt or ""] + ([value] if value is not None else [])
        segments.append("*".join(elements).rstrip("*") + "~")
    return next(iter(X12Tokenizer((isa + "".join(segments)).encode()).blocks()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "D8", "RD8", "DT", "D6"]),
                          st.one_of(dates, st.tuples(dates, dates).map(lambda ab: f"{ab[0]}-{ab[1]}"))),
                min_size=1, max_size=8))
def test_dates_from_block_bytes_equal_the_careful_path(rows):
    """period_at / date_at read digits straight from the block; the careful path gathers the
    strings and parses them: same dates, and the same issues when some value is bad."""
    block = _dtp_block(rows)
    r = block.rows("DTP")
    assert len(r) == len(rows)
    fast_issues, careful_issues = Issues(), Issues()
    fast = Typed(block, fast_issues).period_at(r, 2, 3, "DTP03", "2400")
    fmt, value = block.elements(r, (2, 3))
    careful = Typed(block, careful_issues).date_period(fmt, value, r, "DTP03", "2400")
    assert [a.to_pylist() for a in fast] == [a.to_pylist() for a in careful]
    assert Typed(block, Issues()).date_at(r, 3, "DTP03", "2400").to_pylist() == \
        Typed(block, Issues()).date(value, r, "DTP03", "2400").to_pylist()
    assert fast_issues.table("f", "p").to_pylist() == careful_issues.table("f", "p").to_pylist()
