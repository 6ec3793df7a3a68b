"""recover() from files: streamed into DuckDB, several files, bad files in the middle reported
while the others are still recovered, the same answers as from Arrow batches; the payer-changes
diff on the run's own match; the edit catalog on the worklist patients' claims."""

from __future__ import annotations

import csv
import os
import shutil

import pyarrow.compute as pc
from click.testing import CliRunner

from reclaim.claims.io import convert
from reclaim.cli import cli
from reclaim.edits import check
from reclaim.loop.adjudication_diff import adjudication_diff
from reclaim.recovery import recover, terms

from .conftest import AS_OF, CLAIMS, POLICIES, REMITS, TERMS


def _items(result) -> list[tuple]:
    return sorted((i["item_id"], i["kind"], i["amount"], i["patient_control_number"], i["root_cause_edit"], i["claim_id"])
                  for i in result.items.to_pylist())


def test_files_give_the_same_worklist_as_batches(result, store):
    from_files = recover(list(REMITS), list(CLAIMS), store=store, policies=POLICIES, terms=terms.load(TERMS), as_of=AS_OF)
    assert from_files.counts["remit_claims"] == 14 and from_files.counts["claims"] == 12
    assert _items(from_files) == _items(result)
    assert from_files.dollars.equals(result.dollars)
    assert from_files.claim_match.sort_by("remit_claim_id").equals(result.claim_match.sort_by("remit_claim_id"))
    assert from_files.read_issues.num_rows == 0


def test_a_folder_and_converted_parquet_are_read_like_the_x12(tmp_path, store, result):
    remit_dir, parquet_dir = tmp_path / "remits", tmp_path / "claims-parquet"
    remit_dir.mkdir()
    for p in REMITS:
        (remit_dir / p.name).write_bytes(p.read_bytes())
    convert(list(CLAIMS), parquet_dir, "parquet")
    run = recover([remit_dir], [parquet_dir], store=store, policies=POLICIES, terms=terms.load(TERMS), as_of=AS_OF)
    assert _items(run) == _items(result)


def test_a_wrong_kind_file_and_an_unreadable_file_in_the_middle_are_reported(tmp_path, store):
    junk = tmp_path / "scrambled.835"
    junk.write_bytes(os.urandom(3000))  # deterministic enough: no format sniffs random bytes as X12
    files = [REMITS[0], CLAIMS[1], junk, REMITS[1]]  # an 837 and junk between the two good 835s
    run = recover(files, list(CLAIMS), store=store, terms=terms.load(TERMS), as_of=AS_OF, run_edits=False)
    issues = run.read_issues.to_pylist()
    by_file = {i["path"].rsplit("/", 1)[-1]: i for i in issues}
    assert by_file[CLAIMS[1].name]["code"] == "IO-WRONG-KIND" and by_file[CLAIMS[1].name]["skipped"] == "file"
    assert "scrambled.835" in by_file and by_file["scrambled.835"]["severity"] == "error"
    assert set(by_file) == {CLAIMS[1].name, "scrambled.835"}
    # both good 835s before and after the bad files were recovered
    assert run.counts["remit_claims"] == 14
    claims_with_items = {i["patient_control_number"] for i in run.items.to_pylist()}
    assert {"RC1004", "RC1002"} <= claims_with_items  # medicare 835, first file
    assert {"RC2001", "RC2003"} <= claims_with_items  # acme 835, last file


def test_a_missing_claims_file_does_not_stop_the_run(tmp_path, store):
    run = recover(list(REMITS), [CLAIMS[0], tmp_path / "gone.837", CLAIMS[1]], store=store, terms=terms.load(TERMS),
                  as_of=AS_OF, run_edits=False)
    assert [i["path"].endswith("gone.837") for i in run.read_issues.to_pylist()] == [True]
    assert run.counts["claims"] == 12 and run.count("unmatched") == 1  # RC9999 was never submitted


def test_the_payer_changes_reuse_the_runs_match(result, remits, claims, store):
    """RecoveryResult.adjudication_diff runs on the recovery's own claim/line match and finds
    what the standalone diff (which matches by itself) finds."""
    on_run = result.adjudication_diff(store)
    alone = adjudication_diff(claims, remits, store=store)
    keys = ["kind", "remit_claim_id", "line_index", "claim_id", "line_number"]
    assert on_run.findings.num_rows > 0
    assert on_run.findings.sort_by([(k, "ascending") for k in keys]).equals(
        alone.findings.sort_by([(k, "ascending") for k in keys]))
    assert on_run.lines_compared == alone.lines_compared
    assert result.adjudication_diff(store) is on_run  # computed once


def test_root_causes_from_the_worklist_patients_claims_equal_the_whole_batchs(result, claims, store):
    """The edit catalog runs on the claims of the worklist's patients only; on those claims it
    finds what it finds when run on every submitted claim (patient-scoped edits see the same lines)."""
    whole = check(claims, store=store, policies=POLICIES, date_of_check=AS_OF).table  # recover checks at --as-of
    wanted = result.claims["claims"]["claim_id"]
    assert 0 < len(wanted) <= claims["claims"].num_rows
    whole = whole.filter(pc.is_in(whole["claim_id"], value_set=wanted))
    cols = ["claim_id", "line_number", "code", "message"]
    assert result.findings.select(cols).sort_by([(c, "ascending") for c in cols]).equals(
        whole.select(cols).sort_by([(c, "ascending") for c in cols]))


def test_a_closed_result_keeps_what_was_read(store):
    run = recover(list(REMITS), list(CLAIMS), store=None, as_of=AS_OF, run_edits=False)
    items = run.items
    run.close()
    assert run.items is items and items.num_rows > 0


def test_results_carry_the_models_ids_not_the_engines_keys(result, remits):
    """Inside, remit claims join on integers; what comes out has the reader's string ids, and a
    PLB item keeps its payer-given key (the worklist store's natural key depends on it)."""
    ids = set(remits["remit_claims"]["remit_claim_id"].to_pylist())
    for table in (result.dollars, result.claim_match, result.line_match, result.unmatched, result.write_offs):
        assert set(table["remit_claim_id"].to_pylist()) <= ids
    items = result.items.to_pylist()
    plb = [i for i in items if i["remit_claim_id"] not in ids]
    assert [i["remit_claim_id"] for i in plb] == ["PLB:1234567893:2025-12-31:WO:2525289000001"]
    assert plb[0]["natural_key"].endswith("|recoupment|PLB:1234567893:2025-12-31:WO:2525289000001")
    assert all(i["remit_claim_id"] in ids for i in items if i not in plb)


def test_cli_recovers_a_folder_with_bad_files_and_reports_them(ref_store, tmp_path):
    home, folder = tmp_path / "home", tmp_path / "remits"
    home.mkdir()
    folder.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    for p in REMITS:
        shutil.copy(p, folder / p.name)
    shutil.copy(CLAIMS[0], folder / "b-claims-by-mistake.837")  # sorted between the two 835s
    (folder / "c-scrambled.835").write_bytes(os.urandom(2000))
    out = tmp_path / "out"
    args = ["--home", str(home), "recover", str(folder), "--claims", str(CLAIMS[0]), "--claims", str(CLAIMS[1]),
            "--terms", str(TERMS), "--no-save", "--no-letters", "--as-of", AS_OF.isoformat(), "-o", str(out)]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 2, res.output  # the others are recovered, but two inputs could not be read (#19.2)
    assert "14 remittance claims, 13 matched to submitted claims, 1 unmatched" in res.output
    assert "2 read issues (see read-issues.csv)" in res.output
    with open(out / "read-issues.csv", newline="") as fh:
        issues = {row["path"].rsplit("/", 1)[-1]: row for row in csv.DictReader(fh)}
    assert issues["b-claims-by-mistake.837"]["code"] == "IO-WRONG-KIND" and "c-scrambled.835" in issues
    # the payer changes come from the run's own match
    assert "Payer change: MEDICARE PART B cuts units on" in res.output
    with open(out / "payer-changes.csv", newline="") as fh:
        assert [r["kind"] for r in csv.DictReader(fh)] == ["units_cut"]
