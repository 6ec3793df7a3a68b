"""NDC normalization: every printed configuration, the domain-facts examples, garbage,
and the round trip normalize(format(x)) == x. Real NDCs from the 2025-Q4 ASP crosswalk."""

from __future__ import annotations

import csv
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.refdata.ndc import format_ndc, ndc_problem, normalize_ndc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # domain-facts §4.1 examples [NDC-DAISY] [FDA-JUBBONTI-NDC]
        ("0574-4072-05", "00574407205"),  # 4-4-2
        ("51655-089-52", "51655008952"),  # 5-3-2
        ("58118-1397-3", "58118139703"),  # 5-4-1
        ("61314-240-63", "61314024063"),  # Jubbonti, 5-3-2
        # 11 digits, hyphenated or not (Prolia in the ASP crosswalk)
        ("55513-0710-01", "55513071001"),
        ("55513071001", "55513071001"),
        # spaces, N4 qualifier (837 LIN02 / 1500 line 24A), surrounding whitespace
        ("55513 0710 01", "55513071001"),
        ("  55513-0710-01\n", "55513071001"),
        ("55513 - 0710 - 01", "55513071001"),
        ("N455513071001", "55513071001"),
        ("n4 55513-0710-01", "55513071001"),
        ("N4:0574-4072-05", "00574407205"),
    ],
)
def test_normalizes_every_configuration(text: str, expected: str) -> None:
    assert normalize_ndc(text) == expected
    assert ndc_problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5551307101", "ambiguous"),  # 10 digits without hyphens
        ("", "empty"),
        ("   ", "empty"),
        ("N4", "empty"),
        ("5551-3071-001", "not a valid NDC configuration"),  # 4-4-3
        ("555130-710-01", "not a valid NDC configuration"),  # 6-3-2
        ("55513-0710", "2 segments"),
        ("55513-0710-01-2", "4 segments"),
        ("55513--0710-01", "empty segment"),
        ("55513-07I0-01", "not made of digits"),  # letter I for digit 1
        ("J0897", "not made of digits"),
        ("555130710012", "12 digits"),
        ("123", "3 digits"),
        ("５５５１３-０７１０-０１", "not made of digits"),  # full-width digits are not ASCII
    ],
)
def test_rejects_with_a_reason(text: str, reason: str) -> None:
    assert normalize_ndc(text) is None
    problem = ndc_problem(text)
    assert problem is not None and reason in problem


def test_non_text_is_rejected_not_raised() -> None:
    assert normalize_ndc(None) is None  # type: ignore[arg-type]
    assert "expected text" in ndc_problem(55513071001)  # type: ignore[arg-type]


def test_format() -> None:
    assert format_ndc("55513071001") == "55513-0710-01"
    for bad in ("5551307100", "55513-0710-01", "5551307100a", ""):
        with pytest.raises(ValueError, match="11 digits"):
            format_ndc(bad)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_round_trip(ndc11: str) -> None:
    assert normalize_ndc(format_ndc(ndc11)) == ndc11
    assert normalize_ndc(ndc11) == ndc11


@given(st.text(max_size=20))
def test_never_raises_and_always_explains(text: str) -> None:
    result = normalize_ndc(text)
    assert (result is None) == (ndc_problem(text) is not None)
    if result is not None:
        assert len(result) == 11 and result.isdigit()


def test_every_ndc_in_the_asp_crosswalk_normalizes(refdata_dir) -> None:
    """The CMS crosswalk prints NDCs 5-4-2 hyphenated; every one must normalize and format back.
    Its other identifiers are "alternate IDs" (cms_crosswalk_reference.csv: "alternate IDs vary in
    formatting", e.g. skin-substitute catalogue numbers, GTINs): none may pass for an NDC."""
    path = refdata_dir / "cms_asp" / "2025-Q4" / "asp_crosswalk.csv"
    with path.open(encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    header_at = next(i for i, row in enumerate(rows) if row and row[0].endswith("_CODE"))
    col = rows[header_at].index("NDC2")
    ids = [row[col].strip() for row in rows[header_at + 1 :] if len(row) > col and row[col].strip()]
    ndcs = [i for i in ids if re.fullmatch(r"\d{5}-\d{4}-\d{2}", i)]
    alternate = [i for i in ids if not re.fullmatch(r"\d{5}-\d{4}-\d{2}", i)]
    assert len(ndcs) > 6900 and len(alternate) > 1000
    assert [n for n in ndcs if normalize_ndc(n) is None or format_ndc(normalize_ndc(n)) != n] == []
    assert [a for a in alternate if normalize_ndc(a) is not None] == []
    assert all(ndc_problem(a) for a in alternate)
