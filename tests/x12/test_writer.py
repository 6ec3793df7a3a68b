"""The 837 writer: round trip over the real samples, corrected claims (frequency 7/8 with
REF*F8) checked segment by segment, envelope counts, and pyx12 validation of the output."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reclaim.claims.csv import read_csv
from reclaim.claims.x12 import read_837
from reclaim.claims.x12.writer import Party, write_837
from reclaim.errors import ReclaimError

REPO = Path(__file__).resolve().parents[2]
WHEN = dt.datetime(2025, 11, 3, 9, 30)
SENDER = Party(id="SUBMITTER01", name="EXAMPLE BILLING SERVICE", contact_name="BILLING DESK", contact_phone="8005551212")
RECEIVER = Party(id="PAYER01", name="EXAMPLE PAYER")
#: samples the writer must refuse, and why (the reader reports the same defect)
REFUSED = {
    "x12-parser__x12_missing_elements.txt": "CLM05-1",  # a CLM without CLM05
    "x12__ppo-repriced-claim.837i": "CLM05-1",  # CLM05 written with '>' instead of the ISA16 ':'
}


def samples_837(x12_samples: Path) -> list[str]:
    with (x12_samples / "LIST.csv").open() as fh:
        return [row["file"] for row in csv.DictReader(fh) if row["type"].startswith("837")]


def comparable(batch, name):
    """Rows keyed by CLM01 instead of our ids; LX numbers as the writer renumbers them
    (1..n per claim, in the order read), also where COB rows point at a line."""
    pcn = dict(zip(batch["claims"]["claim_id"].to_pylist(), batch["claims"]["patient_control_number"].to_pylist()))
    seen: dict[str, int] = {}
    written_lx: dict[tuple, int] = {}  # (claim_id, LX read) -> LX as written (counted per CLM01, as rows are)
    for claim_id, lx in zip(batch["lines"]["claim_id"].to_pylist(), batch["lines"]["line_number"].to_pylist()):
        seen[pcn[claim_id]] = seen.get(pcn[claim_id], 0) + 1
        written_lx.setdefault((claim_id, lx), seen[pcn[claim_id]])
    rows = []
    for r in batch[name].to_pylist():
        if name != "lines" and r.get("line_number") is not None:
            r["line_number"] = written_lx[(r["claim_id"], r["line_number"])]
        r = {k: v for k, v in r.items() if k not in ("claim_id", "transaction_id", "file_id")} | {"pcn": pcn[r["claim_id"]]}
        rows.append(r)
    if name == "lines":
        seen = {}
        for r in rows:
            seen[r["pcn"]] = seen.get(r["pcn"], 0) + 1
            r["line_number"] = seen[r["pcn"]]
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


def test_round_trip_on_every_837_sample(x12_samples, tmp_path):
    names = samples_837(x12_samples)
    assert len(names) == 18  # LIST.csv: 18 837P/837I files
    checked = cob_rows = 0
    for name in names:
        original = read_837(x12_samples / name)
        out = tmp_path / f"{name}.out"
        if name in REFUSED:
            with pytest.raises(ReclaimError, match=REFUSED[name]):
                write_837(original, out, created=WHEN)
            assert original["read_issues"].num_rows > 0, f"{name}: the reader must report the defect"
            continue
        write_837(original, out, created=WHEN)
        again = read_837(out)
        cob_rows += sum(original[t].num_rows for t in ("other_payers", "line_adjudications", "other_payer_adjustments"))
        # the writer adds no defect: a clean input gives a clean output (a defective input's
        # defect may be reported again, under another code, e.g. a bad HI as a missing HI)
        if original["read_issues"].num_rows == 0:
            assert again["read_issues"].num_rows == 0, (name, again["read_issues"].to_pylist()[:3])
        for table in ("claims", "diagnoses", "lines", "other_payers", "line_adjudications",
                      "other_payer_adjustments"):
            before, after = comparable(original, table), comparable(again, table)
            if table == "claims":  # CLM05-3 is required: a missing frequency is written as 1
                for r in before:
                    if r["frequency_code"] is None:
                        r["frequency_code"] = "1"
                        r["type_of_bill"] = (r["facility_type_code"] + "1") if r["facility_type_code"] else None
                before = sorted(before, key=lambda r: tuple(str(v) for v in r.values()))
            assert before == after, (name, table)
        checked += 1
    assert checked == len(names) - len(REFUSED)
    assert cob_rows > 20  # the COB loops (2320/2330/2430) of the samples went through the round trip


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def test_replacement_claim_segment_by_segment(x12_samples):
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    buf = io.StringIO()
    result = write_837(batch, buf, frequency="7", original_claim_numbers={claim_id: "25280100045600"},
                       sender=SENDER, receiver=RECEIVER, control_number=42, created=WHEN)
    segs = segments(buf.getvalue())
    assert segs[0] == ("ISA*00*          *00*          *ZZ*SUBMITTER01    *ZZ*PAYER01        *251103*0930*^*00501*"
                       "000000042*0*P*:")
    assert len(segs[0]) == 105  # the ISA is fixed width
    assert segs[1] == "GS*HC*SUBMITTER01*PAYER01*20251103*0930*1*X*005010X222A1"
    assert segs[2] == "ST*837*0001*005010X222A1"
    assert segs[3] == "BHT*0019*00*0001*20251103*0930*CH"
    assert segs[4:7] == ["NM1*41*2*EXAMPLE BILLING SERVICE*****46*SUBMITTER01", "PER*IC*BILLING DESK*TE*8005551212",
                         "NM1*40*2*EXAMPLE PAYER*****46*PAYER01"]
    clm = next(i for i, s in enumerate(segs) if s.startswith("CLM*"))
    assert segs[clm].split("*")[5] == "11:B:7"
    assert segs[clm + 1] == "REF*F8*25280100045600"
    assert segs[segs.index("LX*1") + 1] == "SV1*HC:90782*50*UN*1*11**1"  # numbers without trailing zeros
    drug = segs[segs.index("LX*2"):]
    assert drug[1] == "SV1*HC:J1550*53.37*UN*1*11**1"
    assert [s for s in drug if s.startswith(("LIN", "CTP"))] == ["LIN**N4*00026063512", "CTP****10*ML"]
    se = next(s for s in segs if s.startswith("SE*"))
    assert se == f"SE*{segs.index(se) - 2 + 1}*0001"  # ST..SE inclusive
    assert segs[-2:] == ["GE*1*1", "IEA*1*000000042"]
    assert result.segments == len(segs) and result.interchange_control == "000000042"
    again = read_837(io.BytesIO(buf.getvalue().encode()).getvalue())
    claim = again["claims"].to_pylist()[0]
    assert (claim["frequency_code"], claim["original_claim_number"]) == ("7", "25280100045600")


def test_void_needs_the_payer_claim_number(x12_samples):
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")
    with pytest.raises(ReclaimError, match="REF\\*F8"):
        write_837(batch, io.StringIO(), frequency="8")
    with pytest.raises(ReclaimError, match="frequency must be"):
        write_837(batch, io.StringIO(), frequency="9")


def test_envelope_counts_hl_and_lx_across_many_claims(x12_samples):
    batch = read_837(x12_samples / "x12-parser__x12_multiple_transactions.txt")
    buf = io.StringIO()
    result = write_837(batch, buf, created=WHEN)
    segs = segments(buf.getvalue())
    ids = [s.split("*")[0] for s in segs]
    assert ids.count("ST") == ids.count("SE") == result.transactions == 1
    assert ids.count("CLM") == batch["claims"].num_rows == result.claims
    hl = [s.split("*") for s in segs if s.startswith("HL*")]
    assert [int(h[1]) for h in hl] == list(range(1, len(hl) + 1))  # HL01 counts from 1
    known = {h[1]: h[3] for h in hl}
    for h in hl:  # every parent exists and is a level above
        if h[2]:
            assert int(h[2]) < int(h[1]) and {"22": "20", "23": "22"}[h[3]] == known[h[2]]
    lx_runs, current = [], []
    for s in segs:
        if s.startswith("CLM*"):
            if current:
                lx_runs.append(current)
            current = []
        elif s.startswith("LX*"):
            current.append(int(s.split("*")[1]))
    lx_runs.append(current)
    assert all(run == list(range(1, len(run) + 1)) for run in lx_runs)
    st = ids.index("ST")
    se = ids.index("SE")
    assert segs[se].split("*")[1] == str(se - st + 1)


def test_professional_and_institutional_go_in_separate_groups(x12_samples, tmp_path):
    from reclaim.claims.model import ClaimBatch

    both = ClaimBatch.concat([read_837(x12_samples / "x12__demo.drug.example10.2.837"),
                              read_837(x12_samples / "x12__two-claims-single-provider.837i")])
    buf = io.StringIO()
    result = write_837(both, buf, sender=SENDER, receiver=RECEIVER, created=WHEN)
    segs = segments(buf.getvalue())
    gs = [s for s in segs if s.startswith("GS*")]
    assert [g.split("*")[-1] for g in gs] == ["005010X222A1", "005010X223A2"]
    assert [s for s in segs if s.startswith("GE*")] == ["GE*1*1", "GE*1*2"]
    assert segs[-1] == "IEA*2*000000001" and result.groups == 2
    assert any("CL1" in gap for gap in result.gaps)
    again = read_837(buf.getvalue().encode())
    assert sorted(again["claims"]["claim_type"].to_pylist()) == ["institutional", "institutional", "professional"]


def test_subset_and_csv_claims(tmp_path):
    batch = read_csv(REPO / "examples" / "claims-template.csv")
    first = batch["claims"]["claim_id"].to_pylist()[0]
    with pytest.raises(ReclaimError, match="sender and receiver"):
        write_837(batch, io.StringIO(), claim_ids=[first])
    buf = io.StringIO()
    result = write_837(batch, buf, claim_ids=[first], sender=SENDER, receiver=RECEIVER, created=WHEN)
    assert result.claims == 1
    again = read_837(buf.getvalue().encode())
    [claim] = again["claims"].to_pylist()
    assert claim["patient_control_number"] == "PCN-2025-0001" and claim["total_charge"] == Decimal("1807.80")
    line = again["lines"].filter(pc.equal(again["lines"]["procedure_code"], "J0897")).to_pylist()[0]
    assert (line["modifier_1"], line["units"], line["ndc"], line["ndc_quantity"], line["ndc_unit"]) == (
        "JZ", Decimal("60"), "55513-0710-01", Decimal("1"), "UN")
    with pytest.raises(ReclaimError, match="not in the batch"):
        write_837(batch, io.StringIO(), claim_ids=["nope"], sender=SENDER, receiver=RECEIVER)


def test_envelope_from_the_settings(tmp_path, monkeypatch):
    """CSV claims written as X12 take the submitter, receiver and ISA15 from reclaim.toml."""
    from reclaim import config
    from reclaim.claims.x12.writer import envelope_from_settings

    (tmp_path / "reclaim.toml").write_text('[reclaim]\nsubmitter_id = "CLINIC01"\nsubmitter_name = "ONCOLOGY CLINIC"\n'
                                           'submitter_phone = "5551234567"\nreceiver_id = "CLEARHOUSE"\n'
                                           'receiver_name = "CLEARINGHOUSE INC"\nx12_usage = "T"\n')
    monkeypatch.setenv("RECLAIM_CONFIG", str(tmp_path / "reclaim.toml"))
    envelope = envelope_from_settings(config.load())
    batch = read_csv(REPO / "examples" / "claims-template.csv")
    buf = io.StringIO()
    result = write_837(batch, buf, created=WHEN, **envelope)
    assert result.claims == batch["claims"].num_rows
    assert not any("PER" in gap for gap in result.gaps)  # the phone fills 1000A PER
    text = buf.getvalue()
    assert text.split("~")[0].split("*")[15] == "T"  # ISA15: a test interchange
    [txn] = read_837(text.encode())["transactions"].to_pylist()
    assert (txn["sender_id"], txn["receiver_id"], txn["submitter_name"]) == ("CLINIC01", "CLEARHOUSE", "ONCOLOGY CLINIC")
    monkeypatch.setenv("RECLAIM_SUBMITTER_ID", "")  # unset in the environment: the file's value stays
    assert envelope_from_settings(config.load())["sender"].id == "CLINIC01"
    monkeypatch.setenv("RECLAIM_X12_USAGE", "X")
    with pytest.raises(config.ConfigError, match="x12_usage"):
        config.load()


def test_a_delimiter_in_a_value_is_refused(x12_samples):
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")
    claims = batch["claims"]
    idx = claims.schema.get_field_index("billing_name")
    batch.tables["claims"] = claims.set_column(idx, "billing_name", pa.array(["SMITH*JONES"], pa.string()))
    with pytest.raises(ReclaimError, match="billing_name"):
        write_837(batch, io.StringIO())


@pytest.mark.parametrize("name", ["x12__demo.drug.example10.2.837", "x12__demo.drug.example10.3.837",
                                  "x12__demo.ambulance.example5.837"])
def test_output_passes_pyx12(x12_samples, tmp_path, pyx12_validate, name):
    """pyx12 4.0 (the independent X222A1 validator) finds no error in what we write."""
    out = tmp_path / "out.837"
    write_837(read_837(x12_samples / name), out, sender=SENDER, newlines=True, created=WHEN)
    assert pyx12_validate(out) == []


def test_noc_description_line_control_ranges_and_dependent_patient(tmp_path):
    """SV101-7 (NOC drug description), REF*6R, DTP*472 RD8 and a patient loop (2000C) when the
    patient is not the subscriber: each written, and read back to the same columns. The line is
    Jubbonti billed as unclassified biologic J3590 in June 2024, before its own code Q5136
    (added 2024-10-01, domain-facts §0)."""
    text = (
        "patient_control_number,relationship_code,subscriber_id,patient_last_name,patient_first_name,patient_birth_date,"
        "patient_sex,payer_id,payer_name,billing_npi,billing_name,place_of_service,diagnosis_1,line_number,"
        "line_control_number,service_date,service_date_to,procedure_code,description,charge,units,dx_pointers,ndc,"
        "ndc_quantity,ndc_unit\n"
        "N1,19,W123456789,ROE,RICKY,2015-03-02,M,60054,AETNA,1234567893,EXAMPLE CLINIC,11,C7951,1,LCN-0001,"
        "2024-06-03,2024-06-05,J3590,DENOSUMAB-BBDZ 60 MG/ML,950.00,1,1,61314-240-63,1,ML\n")
    source = tmp_path / "noc.csv"
    source.write_text(text)
    batch = read_csv(source)
    # the CSV carries no subscriber name: give one so the 2010BA NM1 is complete
    claims = batch["claims"]
    idx = claims.schema.get_field_index("subscriber_last_name")
    batch.tables["claims"] = claims.set_column(idx, "subscriber_last_name", pa.array(["ROE"], pa.string()))
    buf = io.StringIO()
    write_837(batch, buf, sender=SENDER, receiver=RECEIVER, created=WHEN)
    segs = segments(buf.getvalue())
    assert "HL*3*2*23*0" in segs and "PAT*19" in segs and "NM1*QC*1*ROE*RICKY" in segs
    assert next(s for s in segs if s.startswith("SBR")) == "SBR*P"  # no SBR02: the subscriber is not the patient
    assert "SV1*HC:J3590:::::DENOSUMAB-BBDZ 60 MG/ML*950*UN*1***1" in segs
    assert "DTP*472*RD8*20240603-20240605" in segs and "REF*6R*LCN-0001" in segs
    assert "LIN**N4*61314-240-63" in segs and "CTP****1*ML" in segs
    again = read_837(buf.getvalue().encode())
    line = again["lines"].to_pylist()[0]
    assert (line["description"], line["line_control_number"], line["service_date_to"], line["ndc11"]) == (
        "DENOSUMAB-BBDZ 60 MG/ML", "LCN-0001", dt.date(2024, 6, 5), "61314024063")
    claim = again["claims"].to_pylist()[0]
    assert (claim["relationship_code"], claim["patient_first_name"], claim["patient_birth_date"]) == (
        "19", "RICKY", dt.date(2015, 3, 2))
