"""Worklist identity, property-based: whatever a payer repeats (CLP01, CLP07, trace numbers,
payers, PLB references), every item the run outputs is one item in the database, and
re-importing the same remittances adds nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from reclaim.recovery import recover
from reclaim.store import WorklistStore

from .remit835 import Claim, Payment, build, line

ADJUSTMENTS = [("CO", "16"), ("CO", "4"), ("CO", "45"), ("PR", "2"), ("OA", "18"), ("CO", "29"), ("CO", "999")]


@st.composite
def lines(draw):
    charge = draw(st.integers(10, 900))
    kind = draw(st.sampled_from(ADJUSTMENTS + [None]))
    if kind is None:
        return line("J0897", charge, charge)
    part = draw(st.integers(1, charge))
    return line("J0897", charge, charge - part, (kind[0], kind[1], part), rarcs=draw(st.sampled_from([[], ["M119"]])))


@st.composite
def claims(draw):
    return Claim(draw(st.sampled_from(["P1", "P2", "P3"])), draw(st.sampled_from(["1", "4", "22"])),
                 draw(st.sampled_from(["I1", "I2"])), lines=draw(st.lists(lines(), min_size=1, max_size=3)),
                 patient=draw(st.sampled_from(["DOE", "ROE"])))


@st.composite
def payments(draw):
    plb = draw(st.lists(st.tuples(st.sampled_from(["WO", "CS", "90", "L6", "ZZ"]), st.sampled_from(["R1", "R2"]),
                                  st.integers(-200, 200).map(Decimal)), max_size=4))
    return Payment(draw(st.lists(claims(), min_size=1, max_size=5)), trace=draw(st.sampled_from(["T1", "T2"])),
                   payer_id=draw(st.sampled_from(["ACME01", "OTH01"])), plb=plb)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(payments(), min_size=1, max_size=3))
def test_items_in_the_database_are_the_items_in_the_output(generated):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "remit.835"
        path.write_text(build(*generated))
        db = f"sqlite:///{tmp}/wl.sqlite"
        result = recover([path], None, as_of=dt.date(2025, 12, 15), run_edits=False, db_url=db)
        out = result.items.to_pylist()
        ids = [i["item_id"] for i in out]
        assert len(ids) == len(set(ids)) == len({i["natural_key"] for i in out})
        stored = WorklistStore(db).list()
        assert sorted(i["id"] for i in stored) == sorted(ids)
        assert {i["id"]: i["amount"] for i in stored} == {i["item_id"]: Decimal(i["amount"]) for i in out}
        assert result.saved == {"inserted": len(ids), "unchanged": 0}
        result.close()
        again = recover([path], None, as_of=dt.date(2025, 12, 15), run_edits=False, db_url=db)
        assert sorted(again.items["item_id"].to_pylist()) == sorted(ids)
        assert again.saved == {"inserted": 0, "unchanged": len(ids)}
        again.close()
