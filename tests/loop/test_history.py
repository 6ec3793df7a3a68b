"""examples/history: the committed files are what the generator writes (deterministic), small,
read without errors, and every claim is answered by a remittance."""

from __future__ import annotations

from pathlib import Path

HISTORY = Path(__file__).resolve().parents[2] / "examples" / "history"


def test_generator_is_deterministic_and_matches_the_committed_files(gen, tmp_path):
    written = gen.generate(tmp_path)
    committed = sorted(p.relative_to(HISTORY) for p in HISTORY.rglob("*.83[57]"))
    assert sorted(p.relative_to(tmp_path) for p in written) == committed
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (HISTORY / rel).read_bytes(), rel
    assert sum((HISTORY / rel).stat().st_size for rel in committed) < 2_000_000


def test_history_reads_cleanly_and_is_fully_answered(history):
    import duckdb

    claims, remits = history
    assert claims["read_issues"].num_rows == 0
    # the one deliberate payer error: a claim whose CLP04 is 25.00 short of its lines
    issues = remits["read_issues"].to_pylist()
    assert [(i["code"], i["severity"]) for i in issues] == [("X12-BALANCE-CLAIM", "warning")]
    c, r = claims["claims"], remits["remit_claims"]
    unanswered = duckdb.sql("select count(*) from c anti join r using (patient_control_number)").fetchone()[0]
    assert unanswered == 0 and c.num_rows > 400
    months = {d.strftime("%Y-%m") for d in claims["lines"]["service_date"].to_pylist()}
    assert months == {"2025-10", "2025-11", "2025-12"}
