"""The billing guide against the reference store built from the real official files
(HCPCS 2025-10, ASP 2025-Q4 pricing and crosswalk, X12 CARC/RARC). Expected values are read
independently from the raw files (csv/openpyxl), or are the confirmed facts of domain-facts §0."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from rich.console import Console

from reclaim.documents.guide import build_guide, lookup_ndc, search_codes
from reclaim.documents.guide_render import ndc_markdown, render_markdown, render_text
from reclaim.errors import UnknownCodeError

DOS = dt.date(2025, 11, 15)  # inside ASP 2025-Q4 and after HCPCS 2025-10
DENOSUMAB_BIOSIMILARS = {"Q5136", "Q5157", "Q5158", "Q5159"}


def _csv_rows(path, first_cell):
    with path.open(encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    at = next(i for i, r in enumerate(rows) if r and first_cell(r[0].strip()))
    header = [h.strip() for h in rows[at]]
    return [dict(zip(header, r)) for r in rows[at + 1:] if r and r[0].strip()]


@pytest.fixture(scope="module")
def asp_raw(refdata_dir):
    rows = _csv_rows(refdata_dir / "cms_asp/2025-Q4/asp_pricing.csv", lambda c: c == "HCPCS Code")
    return {r["HCPCS Code"].strip(): r for r in rows}


@pytest.fixture(scope="module")
def crosswalk_raw(refdata_dir):
    return _csv_rows(refdata_dir / "cms_asp/2025-Q4/asp_crosswalk.csv", lambda c: c.endswith("_CODE"))


def test_j0897(store, asp_raw, crosswalk_raw) -> None:
    g = build_guide(store, "J0897", DOS)
    assert g.long_description == "Injection, denosumab, 1 mg"  # domain-facts §0
    assert g.billing_unit["amount"] == "1" and g.billing_unit["uom"] == "mg"
    assert g.status.state == "active" and g.status.add_date == dt.date(2012, 1, 1)
    assert {i.field: i.code for i in g.indicators} == {"coverage_code": "C", "betos": "O1E", "pricing_indicator": "51"}
    assert {i.field: i.meaning for i in g.indicators}["pricing_indicator"] == "Drugs"
    assert all("DERIVED" in i.source for i in g.indicators)
    assert any(f.dataset == "hcpcs_code_tables" and f.provenance == "derived" for f in g.sources)
    # payment: the ASP row in force, per item from the crosswalk packages
    raw = asp_raw["J0897"]
    assert g.payment.payment_limit == Decimal(raw["Payment Limit"])
    assert g.payment.coinsurance_pct == Decimal(raw["Co-insurance Percentage"])
    assert g.payment.quarter == "2025-Q4" and g.payment.covers_date_of_service
    limit = Decimal(raw["Payment Limit"])
    raw_ndcs = [r for r in crosswalk_raw if r["_2025_CODE"].strip() == "J0897"]
    assert sorted(n.ndc for n in g.ndcs) == sorted(r["NDC2"] for r in raw_ndcs)
    for n in g.ndcs:
        row = next(r for r in raw_ndcs if r["NDC2"] == n.ndc)
        assert n.billing_units_per_item == Decimal(row["BILLUNITS"])
        assert n.payment_per_package == (Decimal(row["BILLUNITSPKG"]) * limit).quantize(Decimal("0.01"))
    prolia = next(d for d in g.payment.per_item if d.drug_name == "Prolia")
    assert prolia.billing_units == 60 and prolia.payment == Decimal("1762.80")  # 60 x $29.380
    # related: the denosumab biosimilars, all of them
    assert {r.code for r in g.related} == DENOSUMAB_BIOSIMILARS
    assert all(r.relation.startswith("biosimilar") for r in g.related)
    # modifiers: official descriptors, JG's termination shown
    mods = {m.code: m for m in g.modifiers}
    assert {"JW", "JZ", "TB", "JG", "JA", "JB", "KX"} <= set(mods)
    assert mods["JW"].descriptor == "Drug amount discarded/not administered to any patient"
    assert mods["JG"].termination_date == dt.date(2024, 12, 31) and "invalid" in mods["JG"].status
    assert "valid" in mods["TB"].status and mods["TB"].termination_date is None
    assert all(m.cite_ids and m.cite and "domain-facts" not in m.cite for m in g.modifiers)
    # the MUE tables held are 2026-Q2's: none in force on this date, said in words (never Q2's value)
    assert g.mue == [] and g.mue_note == (
        "no MUE table in force on 2025-11-15: the newest held is CMS NCCI MUE 2026-Q2 (2026-04-01 to 2026-06-30) "
        "— pull the quarter of the date (reclaim data pull --dataset mue)")
    assert g.diagnoses == [] and "no coverage data loaded" in g.diagnoses_note
    # denials: official CARC/RARC text from the store, each row cited
    denials = {(d.carc, d.rarc): d for d in g.denials}
    assert denials[("16", "M119")].carc_text.startswith("Claim/service lacks information")
    assert "National Drug Code" in denials[("16", "M119")].rarc_text
    assert denials[("151", "N362")].rarc_text.startswith("The number of Days or Units of Service exceeds")
    assert all(d.carc_text and "domain-facts" not in d.cite and "UNVERIFIED" not in d.cite for d in g.denials)
    assert ("189", "N657") not in denials  # NOC rows only for NOC codes
    assert {s.dataset for s in g.sources} >= {"hcpcs", "asp_pricing", "ndc_crosswalk", "carc", "rarc"}
    assert g.warnings == []


def test_sources_match_the_manifest(store, refdata_dir) -> None:
    g = build_guide(store, "J0897", DOS)
    with (refdata_dir / "MANIFEST.csv").open(encoding="utf-8", newline="") as fh:
        manifest = {row["path"].rsplit("/", 1)[-1]: row["sha256"] for row in csv.DictReader(fh)}
    for source in g.sources:
        if source.provenance == "official":
            assert manifest[source.file].startswith(source.sha256)


def test_j1327_is_eptifibatide_not_denosumab(store) -> None:
    g = build_guide(store, "J1327", DOS)
    assert g.long_description == "Injection, eptifibatide, 5 mg"  # domain-facts §0: the seed article was wrong
    assert g.billing_unit["amount"] == "5" and g.billing_unit["uom"] == "mg"
    assert g.related == []
    assert "denosumab" not in g.to_json().lower()
    assert g.payment is None and "no row in the ASP pricing file 2025-Q4" in g.payment_note
    assert g.ndcs == [] and "no NDC maps to J1327 in the ASP NDC-HCPCS crosswalk 2025-Q4" in g.ndc_note


def test_j1745_infliximab(store, asp_raw) -> None:
    g = build_guide(store, "J1745", DOS)
    assert g.billing_unit["amount"] == "10" and g.billing_unit["uom"] == "mg"
    assert g.payment.payment_limit == Decimal(asp_raw["J1745"]["Payment Limit"])  # $31.090 per 10 mg
    related = {r.code: r.relation for r in g.related}
    assert {"Q5103", "Q5104", "Q5121"} <= set(related)
    assert all("infliximab" in r.descriptor.lower() for r in g.related)
    assert related["Q5103"].startswith("biosimilar")


def test_q5136_biosimilar_points_to_its_reference(store) -> None:
    g = build_guide(store, "Q5136", DOS)
    assert "denosumab-bbdz" in g.long_description and g.status.add_date == dt.date(2024, 10, 1)
    related = {r.code: r.relation for r in g.related}
    assert related["J0897"].startswith("reference product")
    assert set(related) == {"J0897"} | DENOSUMAB_BIOSIMILARS - {"Q5136"}
    assert g.payment is None and g.ndcs == []  # no ASP row or crosswalk NDC in 2025-Q4 (domain-facts §0)


def test_terminated_code_names_its_replacement(store) -> None:
    g = build_guide(store, "C9033", DOS)
    assert g.status.state == "terminated" and g.status.termination_date == dt.date(2018, 12, 31)
    assert g.status.replacements == ["J1454"]
    assert "replaced by J1454" in g.status.summary and any("C9033" in w for w in g.warnings)
    # the same code was valid on a date of service inside its life
    assert build_guide(store, "C9033", dt.date(2018, 11, 1)).status.state == "active"  # added 2018-10-01


def test_not_yet_effective(store) -> None:
    g = build_guide(store, "Q5136", dt.date(2024, 6, 1))
    assert g.status.state == "not yet effective" and "2024-10-01" in g.status.summary
    assert any("before the earliest HCPCS release" in w for w in g.warnings)


def test_a_modifier(store) -> None:
    g = build_guide(store, "jg", DOS)
    assert g.kind == "modifier" and g.code == "JG"
    assert g.status.state == "terminated" and g.status.termination_date == dt.date(2024, 12, 31)
    assert g.modifiers and g.modifiers[0].when.startswith("Drug acquired through the 340B program")
    assert build_guide(store, "JG", dt.date(2024, 6, 1)).status.state == "active"
    assert build_guide(store, "JZ", DOS).status.state == "active"


def test_unknown_code_suggests_the_closest(store) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        build_guide(store, "J1328", DOS)
    assert caught.value.suggestions[0] == "J1327"
    assert "J1328 is not in the loaded HCPCS file" in str(caught.value)
    with pytest.raises(UnknownCodeError) as caught:  # denosumab-nxxp: not in the 2025-10 file yet
        build_guide(store, "Q5162", DOS)
    assert set(caught.value.suggestions[:3]) == {"Q5159", "Q5158", "Q5157"}
    with pytest.raises(UnknownCodeError, match="JN is not in the loaded HCPCS file"):
        build_guide(store, "JN", DOS)  # domain-facts §3.4: no JN modifier


@pytest.mark.parametrize(
    ("text", "message"),
    [("J08977", "not a HCPCS Level II code"), ("denosumab", "not a HCPCS Level II code"), ("", "not a HCPCS"),
     ("96372", "looks like a CPT code"), ("55513-0710-01", "is an NDC")],
)
def test_malformed_code(store, text: str, message: str) -> None:
    with pytest.raises(UnknownCodeError, match=message):
        build_guide(store, text, DOS)


@pytest.mark.parametrize("text", ["55513-0710-01", "55513071001", "N455513071001", "55513 0710 01", " n4 55513-0710-01"])
def test_ndc_any_form(store, text: str, asp_raw) -> None:
    info = lookup_ndc(store, text, DOS)
    assert info.ndc == "55513-0710-01" and len(info.rows) == 1
    row = info.rows[0]
    assert (row["hcpcs"], row["drug_name"], row["labeler"]) == ("J0897", "Prolia", "Amgen Inc")
    assert row["billing_units_per_item"] == 60 and row["billing_units_per_package"] == 60
    assert row["payment_per_package"] == (60 * Decimal(asp_raw["J0897"]["Payment Limit"])).quantize(Decimal("0.01"))
    assert info.source == "CMS ASP NDC-HCPCS crosswalk 2025-Q4"


def test_ndc_10_digit_forms(store, crosswalk_raw) -> None:
    """A 5-3-2 printed NDC finds the crosswalk's 5-4-2 row (domain-facts §4.1 padding)."""
    row = next(r for r in crosswalk_raw if r["NDC2"][6] == "0" and r["NDC2"][:5].isdigit())
    ndc = row["NDC2"]
    printed = f"{ndc[:5]}-{ndc[7:10]}-{ndc[11:]}" if ndc[6] == "0" else None
    info = lookup_ndc(store, printed, DOS)
    assert info.ndc == ndc and info.rows[0]["hcpcs"] == row["_2025_CODE"].strip()


@pytest.mark.parametrize(("text", "message"), [("5551307101", "ambiguous"), ("55513-0710", "segments"),
                                               ("00000-0000-00", "not in the ASP NDC-HCPCS crosswalk")])
def test_ndc_errors(store, text: str, message: str) -> None:
    with pytest.raises(UnknownCodeError, match=message):
        lookup_ndc(store, text, DOS)


def test_json_format(store) -> None:
    data = json.loads(build_guide(store, "J0897", DOS).to_json())
    assert data["code"] == "J0897" and data["date_of_service"] == "2025-11-15"
    assert data["payment"]["payment_limit"] == "29.3800" and data["billing_unit"]["uom"] == "mg"
    assert {r["code"] for r in data["related"]} == DENOSUMAB_BIOSIMILARS
    assert data["status"]["state"] == "active"
    ndc = json.loads(lookup_ndc(store, "55513-0730-01", DOS).to_json())
    assert ndc["rows"][0]["billing_units_per_item"] == "120"  # Xgeva, domain-facts §0


def test_markdown_format(store) -> None:
    md = render_markdown(build_guide(store, "J0897", DOS))
    for section in ("Descriptor", "Status", "Coded fields", "Payment (Medicare Part B, ASP)", "MUE", "NDCs",
                    "Modifiers", "Related codes", "Covered diagnoses", "Common denials", "Sources"):
        assert f"\n## {section}\n" in md
    assert "| 55513-0710-01 | Prolia (Amgen Inc) | 1 x 1 | 60 | 60 | $1,762.80 |" in md
    assert "_Source: CMS ASP pricing 2025-Q4_" in md
    assert "| J0897 | Injection, denosumab, 1 mg | Prolia |" in ndc_markdown(lookup_ndc(store, "55513-0710-01", DOS))


def test_text_format(store) -> None:
    out = io.StringIO()
    render_text(build_guide(store, "J0897", DOS), Console(file=out, width=120, color_system=None))
    text = out.getvalue()
    for fact in ("Injection, denosumab, 1 mg", "$29.380", "$1,762.80", "Q5136", "JG", "terminated 2024-12-31",
                 "no MUE table in force on 2025-11-15", "source: CMS HCPCS 2025-10"):
        assert fact in text


def test_search(store) -> None:
    hits = search_codes(store, "denosumab", DOS)
    assert hits[0].code == "J0897" and {h.code for h in hits} == {"J0897"} | DENOSUMAB_BIOSIMILARS
    assert "Prolia" in hits[0].brands
    assert [h.code for h in search_codes(store, "Xgeva", DOS)] == ["J0897"]  # brand from the crosswalk
    words = search_codes(store, "infliximab biosimilar", DOS)
    assert words and all("infliximab" in h.long_description.lower() for h in words)
    assert search_codes(store, "xyzzy", DOS) == [] and search_codes(store, "  ", DOS) == []


def test_noc_code(store) -> None:
    """J3490 "Unclassified drugs": no unit (never a guess), and the NOC denials (domain-facts §1.5)."""
    g = build_guide(store, "J3490", DOS)
    assert g.billing_unit is None and "no single billing unit" in g.billing_unit_note
    pairs = {(d.carc, d.rarc) for d in g.denials}
    assert {("189", "N657"), ("16", "N350")} <= pairs


def test_guide_import_does_not_load_pyarrow() -> None:
    """The warm look-up path is DuckDB queries only: importing the guide must not pull in pyarrow."""
    import subprocess
    import sys

    code = "import sys, reclaim.documents.guide, reclaim.documents.guide_render; print('pyarrow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_date_before_every_loaded_quarter(store) -> None:
    g = build_guide(store, "J0897", dt.date(2025, 6, 1))
    assert g.payment is None and g.payment_note.startswith(
        "no ASP payment limit in force on 2025-06-01: the newest held is CMS ASP pricing 2025-Q4 (2025-10-01 to 2025-12-31)")
    assert g.ndcs == [] and "no ASP NDC-HCPCS crosswalk quarter loaded" in g.ndc_note
    assert any("before the earliest HCPCS release" in w for w in g.warnings)


def test_date_after_the_newest_quarter_says_so_in_place(store) -> None:
    """2026-03-02: after every quarter held. No price (never another quarter's), HCPCS and the
    crosswalk shown with the release they come from and a note that it is older than the date."""
    g = build_guide(store, "J0897", dt.date(2026, 3, 2))
    assert g.payment is None and g.payment_note.startswith("no ASP payment limit in force on 2026-03-02")
    assert ("HCPCS 2025-10 is the newest held; valid on 2026-03-02 per that release — pull the current quarter "
            "(reclaim data pull --dataset hcpcs)") in g.warnings
    assert "its quarter ended 2025-12-31, before 2026-03-02" in g.status.source
    assert "its quarter ended 2025-12-31, before 2026-03-02" in g.ndc_source and g.ndcs
    assert any(w.startswith("CMS ASP NDC-HCPCS crosswalk 2025-Q4 is the newest held") for w in g.warnings)
    assert g.mue == [] and g.mue_note.startswith("no MUE table in force on 2026-03-02")


def test_mue_of_the_quarter_in_force(store) -> None:
    """The real 2026-Q2 tables (practitioner, outpatient hospital, DME) on dates of that quarter."""
    g = build_guide(store, "J0897", dt.date(2026, 4, 1))
    mue = {m.setting: m for m in g.mue}
    assert (mue["practitioner"].mue_value, mue["practitioner"].mai) == (120, 3)
    assert mue["outpatient_hospital"].mue_value == 120 and mue["dme"].mue_value == 0
    assert mue["practitioner"].source == "CMS NCCI MUE 2026-Q2" and g.mue_note is None
    assert {m.setting: m.mue_value for m in build_guide(store, "J1745", dt.date(2026, 5, 15)).mue}["practitioner"] == 150
    assert {m.setting: m.mue_value for m in build_guide(store, "J9271", dt.date(2026, 6, 30)).mue}["practitioner"] == 400
    after = build_guide(store, "J0897", dt.date(2026, 7, 1))
    assert after.mue == [] and after.mue_note.startswith("no MUE table in force on 2026-07-01")


def test_ndc_lookup_after_the_newest_quarter(store) -> None:
    info = lookup_ndc(store, "55513-0710-01", dt.date(2026, 3, 2))
    assert info.rows[0]["billing_units_per_item"] == 60 and info.rows[0]["payment_limit"] is None
    assert any(w.startswith("CMS ASP NDC-HCPCS crosswalk 2025-Q4 is the newest held (2025-10-01 to 2025-12-31)")
               for w in info.warnings)
    assert any(w.startswith("no ASP payment limit in force on 2026-03-02") for w in info.warnings)
