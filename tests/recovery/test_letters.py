"""Letters a billing office could send: every letter of the examples (and of the real Medicaid
835) is rendered to PNG pages and text with poppler (pdftoppm, pdftotext; scripts/test.sh
installs Debian's poppler-utils) and read for unfilled or malformed fields, the payer's address
from the 835, the signature from the settings, and arguments that fit the payer."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from reclaim.claims.x12 import read_835
from reclaim.documents.letters import build_letter, payer_program, write_letters
from reclaim.recovery import recover

from .conftest import AS_OF, POLICIES

CONTACT = {"name": "Maria Lopez", "title": "Billing manager", "phone": "3125550100", "email": "billing@example.org"}

#: what a filled letter never shows: template syntax, Python's None, half-built sentences
MALFORMED = [
    (r"\{|\}", "template placeholder"), (r"\bNone\b|\bnan\b", "missing value"), (r"\(see claim\)", "unfilled field"),
    (r",\s*:|:\s*,|\s,|\.\.(?!\.)", "fragment"), (r"\$\s*-|\$\$|\$None", "malformed money"),
    (r"\$\d{4,}(?![\d,])", "money without thousands separator"), (r"\$\d[\d,]*\.\d{3,}", "money with 3+ decimals"),
    (r"see the remittance", "reason without its official text"), (r"descriptor not in the loaded", "missing descriptor"),
]


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: run scripts/install-poppler.sh (Debian poppler-utils)"
    return path


def _render(pdf, out_dir) -> tuple[list, str]:
    """PNG pages and the text of one PDF, by poppler."""
    stem = out_dir / pdf.stem
    subprocess.run([_tool("pdftoppm"), "-png", "-r", "40", str(pdf), str(stem)], check=True)
    pages = sorted(out_dir.glob(f"{pdf.stem}*.png"))
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return pages, text


def _docx_text(path) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def _check(text: str, item: dict, where: str) -> None:
    for pattern, what in MALFORMED:
        found = re.search(pattern, text)
        assert not found, f"{where}: {what}: {text[max(0, found.start() - 60):found.end() + 60]!r}"
    program = payer_program(item)
    if program != "medicare":
        for medicare_only in ("42 CFR", "JW/JZ", "ABN", "coverage article", "Medicare payment limit"):
            assert medicare_only not in text, f"{where}: a {program} letter cites {medicare_only}"
    if item.get("payer_city"):
        assert item["payer_city"] in text and item["payer_address_1"] in text, f"{where}: no payer address"
    if item.get("payer_contact_name"):
        assert f"Attn: {item['payer_contact_name']}" in text
    assert "Maria Lopez" in text and "Billing manager" in text and "(312) 555-0100" in text
    drug = bool(re.match(r"^[JQ]\d{4}$", item.get("procedure_code") or ""))
    if not drug and item.get("kind") != "underpayment":
        assert "Drug administration record" not in text and "denosumab" not in text, f"{where}: drug checklist"


def _render_all(items, claims, store, tmp_path, policies=None) -> int:
    written = write_letters(items, claims, store, tmp_path / "letters", today=AS_OF, policies=policies, contact=CONTACT)
    by_id = {i["item_id"]: i for i in items.to_pylist()}
    png = tmp_path / "png"
    png.mkdir(exist_ok=True)
    for w in written:
        pdf = tmp_path / "letters" / w["pdf"].split("/")[-1]
        pages, text = _render(pdf, png)
        assert pages and all(p.stat().st_size > 500 for p in pages), pdf.name
        _check(text, by_id[w["item_id"]], pdf.name)
        _check(_docx_text(w["docx"]), by_id[w["item_id"]], w["docx"])
    return len(written)


def test_every_letter_of_the_examples_renders_with_every_field_filled(result, store, tmp_path):
    assert _render_all(result.items, result.claims, store, tmp_path, policies=POLICIES) >= 8
    programs = {payer_program(i) for i in result.items.to_pylist()}
    assert programs == {"medicare", "commercial"}


def test_a_medicaid_letter_from_a_real_835_goes_to_the_payers_address(x12_samples, store, tmp_path):
    """Nevada Medicaid's remittance names its address (N3/N4) and contact (PER): the letters
    go there, with no Medicare rule in them, and no claim file at hand."""
    path = x12_samples / "affect-therapeutics-edi-835-parser__nevada_medicaid.txt"
    run = recover([path], None, store=store, as_of=AS_OF, run_edits=False)
    items = run.items
    assert {payer_program(i) for i in items.to_pylist()} == {"medicaid"}
    # the contract-rate appeal (OA-147) and the current prescription (OA-176); CO-26 is billed elsewhere
    assert _render_all(items, None, store, tmp_path) == 2 and items.num_rows == 3
    text = (tmp_path / "png").glob("*.png")
    assert list(text)
    letter = build_letter(items.to_pylist()[0], None, store, today=AS_OF, contact=CONTACT)
    assert "1100 East William Street Suite 101\nCarson, NV 89701\n(877) 638-3472" in letter.text
    assert "Attn: Nevada Medicaid" in letter.text


def test_a_non_drug_line_gets_no_drug_records_and_a_commercial_modifier_letter_no_medicare_rule(store):
    base = {"item_id": "x" * 12, "kind": "denial", "amount": 85, "reason": "CO-4", "reasons": "CO-4",
            "denial_reason": "modifier", "action": "corrected_claim", "payer_name": "ACME HEALTH PLAN",
            "payer_id": "ACME01", "claim_filing_indicator": "CI", "patient_control_number": "PCN1",
            "payer_claim_control_number": "ICN1", "line_charge": 85, "line_paid": 0, "remit_date": AS_OF}
    items = {"admin": {**base, "procedure_code": "96372"}, "drug": {**base, "procedure_code": "J0897"},
             "medicare": {**base, "procedure_code": "J0897", "claim_filing_indicator": "MB", "action": "reopening"}}
    letters = {k: build_letter(i, None, store, today=AS_OF, contact=CONTACT, policies=["medicare"]) for k, i in items.items()}
    assert "Drug administration record" not in letters["admin"].text
    assert "Physician order and the note documenting the service" in letters["admin"].text
    assert "CPT 96372" in letters["admin"].text
    assert "Drug administration record" in letters["drug"].text and "dose given and any amount discarded" in letters["drug"].text
    assert "JW/JZ" not in letters["drug"].text and "ABN" not in letters["drug"].text
    assert "JW/JZ" in letters["medicare"].text and "42 CFR 405.980" in letters["medicare"].text
    for k, letter in letters.items():
        _check(letter.text, items[k], k)
