"""`reclaim code` shows the OPPS status indicator, APC and payment of the Addendum B quarter in
force (tests/fixtures/refdata/opps: 2025-Q4 FIXTURE, invented values) and says when none is."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.documents.guide import build_guide
from reclaim.documents.guide_render import render_markdown
from reclaim.refdata.store import RefStore, import_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refdata" / "opps"


@pytest.fixture(scope="module")
def opps_store(ref_store, tmp_path_factory):
    path = tmp_path_factory.mktemp("guide-opps") / "refdata.duckdb"
    shutil.copyfile(ref_store.store_path, path)
    import_dir(FIXTURES, path)
    with RefStore.open(path) as store:
        yield store


def test_quarter_in_force(opps_store):
    g = build_guide(opps_store, "J0897", dt.date(2025, 11, 15))
    assert (g.opps.quarter, g.opps.status_indicator, g.opps.apc, g.opps.payment_rate) == ("2025-Q4", "K", "1300", Decimal("29.51"))
    assert g.opps.source == "CMS OPPS Addendum B 2025-Q4"
    text = render_markdown(g)
    assert "Hospital outpatient (OPPS)" in text and "Status indicator K: separately payable" in text
    saline = build_guide(opps_store, "J7050", dt.date(2025, 11, 15))
    assert saline.opps.status_indicator == "N" and saline.opps.payment_rate is None
    assert "packaged: no separate OPPS payment" in render_markdown(saline)
    assert saline.to_dict()["opps"]["status_indicator"] == "N"


def test_no_quarter_in_force_or_not_loaded(opps_store, store):
    later = build_guide(opps_store, "J0897", dt.date(2026, 1, 5))
    assert later.opps is None
    assert later.opps_note == ("no OPPS Addendum B in force on 2026-01-05: the newest held is CMS OPPS Addendum B 2025-Q4 "
                               "(2025-10-01 to 2025-12-31) — pull the quarter of the date (reclaim data pull --dataset opps)")
    absent = build_guide(store, "J0897", dt.date(2025, 11, 15))
    assert absent.opps is None and absent.opps_note.startswith("no CMS OPPS Addendum B loaded")
    assert "no CMS OPPS Addendum B loaded" in render_markdown(absent)
    listed = build_guide(opps_store, "J9999", dt.date(2025, 11, 15))
    assert listed.opps_note == "J9999 has no line in CMS OPPS Addendum B 2025-Q4"
