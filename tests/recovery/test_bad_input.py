"""Bad remittance input: reported with file and place, the rest still processed."""

from __future__ import annotations

from reclaim.recovery import recover

from .conftest import AS_OF, CLAIMS, REMITS


def test_truncated_835_is_reported_and_the_good_file_still_processed(tmp_path, store):
    good = tmp_path / "good.835"
    good.write_bytes(REMITS[1].read_bytes())
    text = REMITS[0].read_text()
    bad = tmp_path / "truncated.835"
    bad.write_text(text[: len(text) // 2])  # cut mid-transaction: no SE/GE/IEA
    result = recover([good, bad], list(CLAIMS), store=store, as_of=AS_OF, run_edits=False)
    issues = result.read_issues.to_pylist()
    assert issues, "a truncated 835 must produce read issues"
    assert all(i["path"] and i["path"].endswith("truncated.835") for i in issues)
    assert any(i["segment_index"] is not None or i["byte_offset"] is not None for i in issues)
    # the good file's items are all there
    assert {i["patient_control_number"] for i in result.items.to_pylist()} >= {"RC2001", "RC2002", "RC2003"}


def test_missing_file_is_reported_not_dropped(tmp_path, store):
    result = recover([tmp_path / "nope.835"], None, store=store, run_edits=False)
    issues = result.read_issues.to_pylist()
    assert len(issues) == 1 and issues[0]["path"].endswith("nope.835") and issues[0]["severity"] == "error"
    assert result.items.num_rows == 0
