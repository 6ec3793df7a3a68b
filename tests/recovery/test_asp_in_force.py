"""recover prices an underpayment only with the ASP quarter in force on the date of service, and
says once per run which lines no quarter held could price. The acme example (an ASP-based
contract) with its dates of service moved in this test from 2025-11 to 2026-02 (after 2025-Q4,
the newest quarter held)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from reclaim.recovery import terms as terms_mod
from reclaim.recovery.engine import recover

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_no_asp_quarter_in_force_is_said(store, tmp_path):
    remit = tmp_path / "acme-2026.835"
    claim = tmp_path / "acme-2026.837"
    remit.write_text(re.sub(r"DTM\*472\*2025110(\d)", r"DTM*472*2026020\1", (EXAMPLES / "remits/recover-acme.835").read_text()))
    claim.write_text(re.sub(r"DTP\*472\*D8\*2025110(\d)", r"DTP*472*D8*2026020\1",
                            (EXAMPLES / "claims/recover-acme.837").read_text()))
    terms = terms_mod.load(EXAMPLES / "remits/acme-terms.yaml")
    moved = recover([remit], [claim], store=store, terms=terms, as_of=dt.date(2026, 12, 4), run_edits=False)
    reasons = [u["reason"] for u in moved.unpriced.to_pylist()]
    assert reasons and all(r.startswith("no ASP pricing quarter held covers the date of service (the newest held ends "
                                        "2025-12-31)") for r in reasons)
    [note] = [n for n in moved.notes if n.startswith("no ASP pricing quarter in force")]
    assert "the newest held is 2025-Q4 (2025-10-01 to 2025-12-31)" in note
    original = recover([EXAMPLES / "remits/recover-acme.835"], [EXAMPLES / "claims/recover-acme.837"], store=store,
                       terms=terms, as_of=dt.date(2025, 12, 15), run_edits=False)
    assert not [n for n in original.notes if n.startswith("no ASP pricing quarter")]
    assert not [u for u in original.unpriced.to_pylist() if u["reason"].startswith("no ASP pricing quarter held")]
