"""The dose a line description states (reclaim.refdata.units.DOSE_IN_TEXT): one pattern read
the same by Python and by the engine's SQL, and never a guess (a concentration, two doses or
none give no dose)."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from reclaim.refdata.units import DOSE_IN_TEXT, DOSE_TWICE_IN_TEXT, dose_in_text

TEXTS = {
    "PROLIA 60 MG": (Decimal("60"), "mg"),
    "Prolia 60 mg SC": (Decimal("60"), "mg"),
    "infliximab 500mg IV": (Decimal("500"), "mg"),
    "J3490 0.5MG": (Decimal("0.5"), "mg"),
    "vasopressin 20 units": (Decimal("20"), "units"),
    "ceftriaxone 1 G IM": (Decimal("1"), "g"),
    "PROLIA 60 MG 1 ML": (Decimal("60"), "mg"),  # a volume is not a dose
    "DENOSUMAB 60MG/ML": None,  # a concentration
    "Xgeva 120 mg/1.7 mL": None,
    "60 MG 30 MG": None,  # two doses: which one?
    "denosumab syringe": None,
    "": None,
}


@pytest.mark.parametrize("text", list(TEXTS))
def test_python_reads_the_dose(text):
    assert dose_in_text(text) == TEXTS[text]


def test_sql_reads_what_python_reads():
    con = duckdb.connect()
    rows = con.execute(
        f"""SELECT t, CASE WHEN regexp_matches(upper(t), '{DOSE_IN_TEXT}') AND NOT regexp_matches(upper(t), '{DOSE_TWICE_IN_TEXT}')
                           THEN regexp_extract(upper(t), '{DOSE_IN_TEXT}', 1) || ' ' || regexp_extract(upper(t), '{DOSE_IN_TEXT}', 2) END
            FROM unnest(?) AS u(t)""", [list(TEXTS)]).fetchall()
    for text, sql in rows:
        python = dose_in_text(text)
        assert (sql is None) == (python is None), text
        if python:
            assert Decimal(sql.split()[0]) == python[0], text
