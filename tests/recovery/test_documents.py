"""Letters (PDF and DOCX, read back), corrected claims (read back), exports, the CLI."""

from __future__ import annotations

import shutil

import docx
import openpyxl
import pypdf
import pyarrow.compute as pc
from click.testing import CliRunner

from reclaim.claims.x12 import read_837
from reclaim.cli import cli
from reclaim.documents.letters import build_letter, write_docx, write_letters, write_pdf
from reclaim.recovery.corrected import write_corrected_claims
from reclaim.recovery.export import write_outputs

from .conftest import AS_OF, CLAIMS, POLICIES, REMITS, TERMS, by_claim


def _text_pdf(path):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def _text_docx(path):
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_reopening_letter_cites_official_sources(result, claims, store, tmp_path):
    item = by_claim(result, "RC1002", "denial")[0]
    letter = build_letter(item, claims, store, today=AS_OF)
    hcpcs = store.hcpcs("J0897", item["service_date"])
    carc = store.carc("4")
    pdf = _text_pdf(write_pdf(letter, tmp_path / "l.pdf"))
    doc = _text_docx(write_docx(letter, tmp_path / "l.docx"))
    for text in (" ".join(pdf.split()), " ".join(doc.split())):
        assert "Request for reopening" in text
        assert hcpcs["long_description"] in text and f"release {hcpcs['release']}" in text
        assert f"billing unit {hcpcs['unit_text']}" in text
        assert "JW/JZ" in text and "[CGS-JZ]" in text
        assert carc["description"][:40] in text and carc["release"] in text
        assert "RC1002" in text and item["payer_claim_control_number"] in text
        assert "M81.0" in text and "DEXA" in text
        assert "consent" in text


def test_underpayment_letter_states_the_rate(result, claims, store, tmp_path):
    item = by_claim(result, "RC1003", "underpayment")[0]
    text = " ".join(build_letter(item, claims, store, today=AS_OF).text.split())
    assert "Payment dispute" in text and "ASP pricing file 2025-Q4" in text
    assert f"${item['amount']}" in text


def test_letters_only_for_actionable_items(result, claims, store, tmp_path):
    written = write_letters(result.items, claims, store, tmp_path, today=AS_OF)
    actions = {i["item_id"]: i["action"] for i in result.items.to_pylist()}
    assert written and all(actions[w["item_id"]] not in ("bill_patient_or_secondary", "review_recoupment")
                           for w in written)
    for w in written:
        assert _text_pdf(w["pdf"]).strip() and _text_docx(w["docx"]).strip()


def test_corrected_claims_are_replacements_with_fixes(result, tmp_path):
    out = write_corrected_claims(result, tmp_path / "corrected.837")
    batch = read_837(out["path"])
    assert batch["read_issues"].num_rows == 0
    rows = batch["claims"].to_pylist()
    wanted = {i["patient_control_number"]: i["payer_claim_control_number"]
              for i in result.items.to_pylist() if i["action"] == "corrected_claim"}
    assert {r["patient_control_number"]: r["original_claim_number"] for r in rows} == wanted
    assert {r["frequency_code"] for r in rows} == {"7"}
    # the catalog's mechanical fixes were applied (e.g. the NOC code replaced by the specific one)
    changes = out["changes"].to_pylist()
    assert changes and all(c["patient_control_number"] in wanted for c in changes)


def test_exports(result, tmp_path):
    files = write_outputs(result, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "worklist.xlsx")
    assert wb["worklist"].max_row == result.items.num_rows + 1
    assert set(openpyxl.load_workbook(tmp_path / "summary.xlsx").sheetnames) == set(result.summary)
    assert any(p.endswith(".png") for p in files["summary"])
    assert (tmp_path / "unmatched.csv").read_text().count("RC9999") == 1


def test_cli_recover_then_worklist(ref_store, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    db = f"sqlite:///{tmp_path / 'wl.sqlite'}"
    args = ["--home", str(home), "recover", *map(str, REMITS), "--claims", str(CLAIMS[0]), "--claims", str(CLAIMS[1]),
            "--policy", POLICIES[0], "--policy", POLICIES[1], "--terms", str(TERMS), "--db", db,
            "--as-of", AS_OF.isoformat(), "-o", str(tmp_path / "out")]
    runner = CliRunner()
    first = runner.invoke(cli, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    # 16: the RC1007 reversal is disputed on its re-adjudication's CO-151 item, not as a recoupment too
    assert "RC1004" in first.output and "16 new" in first.output
    assert (tmp_path / "out" / "corrected-claims.837").is_file()
    assert list((tmp_path / "out" / "letters").glob("*.pdf"))
    again = runner.invoke(cli, args, catch_exceptions=False)
    assert "0 new, 16 already known" in again.output
    base = ["--home", str(home), "worklist", "--db", db]
    listing = runner.invoke(cli, base + ["list"], catch_exceptions=False).output
    item_id = listing.splitlines()[1].split()[0]
    for step in (["assign", item_id, "maria"], ["status", item_id, "in_progress"], ["note", item_id, "called payer"],
                 ["status", item_id, "submitted"], ["status", item_id, "recovered", "--amount", "100"]):
        res = runner.invoke(cli, base + step, catch_exceptions=False)
        assert res.exit_code == 0, res.output
    shown = runner.invoke(cli, base + ["show", item_id], catch_exceptions=False).output
    assert "recovered" in shown and "called payer" in shown and "maria" in shown
    bad = runner.invoke(cli, base + ["status", item_id, "new"])
    assert bad.exit_code != 0 and "final status" in str(bad.exception)


def test_cli_corrected_claims_from_csv_claims_are_csv(ref_store, tmp_path, monkeypatch):
    """Claims sent as CSV exports get corrected CSV exports (one per input, every column kept,
    frequency 7 and the payer's claim number filled), not an 837 they never were."""
    from reclaim.claims.csv import read_csv, write_template
    from reclaim.claims.io import read_claims

    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ref_store.store_path, home / "refdata.duckdb")
    csv_claims = []
    for path in CLAIMS:  # the same claims, as the CSV export a practice system would send
        csv_claims.append(tmp_path / f"{path.stem}.csv")
        write_template(read_claims([path]), csv_claims[-1])
    args = ["--home", str(home), "recover", *map(str, REMITS), *[a for p in csv_claims for a in ("--claims", str(p))],
            "--policy", POLICIES[0], "--policy", POLICIES[1], "--terms", str(TERMS), "--no-save",
            "--as-of", AS_OF.isoformat(), "-o", str(tmp_path / "out"), "--no-letters"]
    monkeypatch.setenv("RECLAIM_CONFIG", str(tmp_path / "reclaim.toml"))
    (tmp_path / "reclaim.toml").write_text("[reclaim]\n")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "out" / "corrected-claims.837").exists()
    written = sorted((tmp_path / "out").glob("corrected-claims*.csv"))
    assert written and "Corrected claims:" in result.output
    header = csv_claims[0].read_text().splitlines()[0]
    for path in written:
        assert path.read_text().splitlines()[0] == header  # every input column, in the input's order
        claims = read_csv(path)["claims"].to_pylist()
        assert claims and {c["frequency_code"] for c in claims} == {"7"}
        assert all(c["original_claim_number"] for c in claims)
