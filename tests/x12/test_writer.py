"""The 837 writer. Claims read from an 837 are written from their own segments: over every real
sample and example, a write with no change gives the same transaction sets segment for segment
and no pyx12 finding the input does not have; a correction changes only the corrected elements
(segment diffs); the envelope comes from the claim's interchange. Claims from CSV are generated
from the model (envelope from the settings)."""

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
from tests.x12.x12diff import numbering_is_right, pyx12_findings, segment_diff, transaction_sets
from tests.x12.x12diff import segments as x12_segments

REPO = Path(__file__).resolve().parents[2]
WHEN = dt.datetime(2025, 11, 3, 9, 30)
SENDER = Party(id="SUBMITTER01", name="EXAMPLE BILLING SERVICE", contact_name="BILLING DESK", contact_phone="8005551212")
RECEIVER = Party(id="PAYER01", name="EXAMPLE PAYER")
EXAMPLES = [REPO / "examples" / "claims" / n for n in ("check-medicare.837", "recover-acme.837", "recover-medicare.837")]


def segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


def _samples_837() -> list[Path]:
    from tests.conftest import _shared  # fails, never skips, without ../shared

    folder = _shared() / "x12-samples"
    with (folder / "LIST.csv").open() as fh:
        return [folder / row["file"] for row in csv.DictReader(fh) if row["type"].startswith("837")]


ALL_837 = _samples_837() + EXAMPLES


def envelope_is_right(data: bytes) -> bool:
    """IEA01 = the groups, IEA02 = ISA13, GE01 = the transactions, GE02 = GS06; ISA13, GS06
    and ST02 unique in the file."""
    isa13, gs06, st02 = [], [], []
    groups = txns = 0
    for els in x12_segments(data):
        sid = els[0]
        if sid == "ISA":
            isa13.append(els[13])
            groups = 0
        elif sid == "GS":
            gs06.append(els[6])
            groups += 1
            txns = 0
        elif sid == "ST":
            st02.append(els[2])
            txns += 1
        elif sid == "GE" and (els[1] != str(txns) or els[2] != gs06[-1]):
            return False
        elif sid == "IEA" and (els[1] != str(groups) or els[2] != isa13[-1]):
            return False
    return all(len(set(v)) == len(v) for v in (isa13, gs06, st02))


@pytest.mark.parametrize("path", ALL_837, ids=lambda p: p.name)
def test_a_write_with_no_change_is_the_source_segment_for_segment(path, tmp_path):
    """Every 837 sample and example: the transaction sets written are the source's, segment for
    segment (control numbers and creation dates aside). Samples whose own HL numbering or SE01
    is wrong get them corrected, and everything else equal."""
    batch = read_837(path)
    out = tmp_path / "out.837"
    result = write_837(batch, out, created=WHEN, control_number=7)
    assert result.from_source == result.claims == batch["claims"].num_rows
    source, written = path.read_bytes(), out.read_bytes()
    assert numbering_is_right(written) and envelope_is_right(written)
    if numbering_is_right(source):
        assert transaction_sets(written) == transaction_sets(source)
    else:
        assert transaction_sets(written, mask_numbering=True) == transaction_sets(source, mask_numbering=True)
    assert x12_segments(written)[0][13] == "000000007"


@pytest.mark.parametrize("path", ALL_837, ids=lambda p: p.name)
def test_a_write_with_no_change_adds_no_pyx12_finding(path, tmp_path, pyx12_validate):
    out = tmp_path / "written.837"
    write_837(read_837(path), out, created=WHEN)
    before, after = pyx12_findings(pyx12_validate, path, tmp_path), pyx12_findings(pyx12_validate, out, tmp_path)
    assert not after - before, (after - before)


def test_replacement_changes_clm05_3_and_adds_ref_f8_only(x12_samples):
    path = x12_samples / "x12__demo.drug.example10.1.837"
    batch = read_837(path)
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    buf = io.BytesIO()
    result = write_837(batch, buf, frequency="7", original_claim_numbers={claim_id: "25280100045600"},
                       control_number=42, created=WHEN)
    clm05 = next(s for s in x12_segments(path.read_bytes()) if s[0] == "CLM")[5]
    assert segment_diff(path.read_bytes(), buf.getvalue()) == [
        ("element", "CLM", 5, clm05, clm05[:-1] + "7"), ("insert", "REF*F8*25280100045600")]
    source, written = x12_segments(path.read_bytes()), x12_segments(buf.getvalue())
    # the envelope is the source's: ISA05-08 (sender, receiver), ISA15 usage, GS02/03; new control numbers
    assert [written[0][k] for k in range(1, 17) if k not in (9, 10, 13)] == [
        source[0][k] for k in range(1, 17) if k not in (9, 10, 13)]
    assert written[1][1:4] == source[1][1:4] and written[1][7:] == source[1][7:]
    assert (written[0][13], written[-1]) == ("000000042", ["IEA", "1", "000000042"])
    assert result.interchange_control == "000000042" and result.segments == len(written)
    [claim] = read_837(buf.getvalue())["claims"].to_pylist()
    assert (claim["frequency_code"], claim["original_claim_number"]) == ("7", "25280100045600")


def test_void_replaces_an_existing_ref_f8(x12_samples):
    path = x12_samples / "x12__demo.drug.example10.1.837"
    batch = read_837(path)
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    first = io.BytesIO()
    write_837(batch, first, frequency="7", original_claim_numbers={claim_id: "111"}, created=WHEN)
    again = read_837(first.getvalue())
    second = io.BytesIO()
    write_837(again, second, frequency="8", original_claim_numbers={again["claims"]["claim_id"][0].as_py(): "222"},
              created=WHEN, sources={again["files"]["file_id"][0].as_py(): first.getvalue()})
    clm05 = next(s for s in x12_segments(first.getvalue()) if s[0] == "CLM")[5]
    assert segment_diff(first.getvalue(), second.getvalue()) == [
        ("element", "CLM", 5, clm05, clm05[:-1] + "8"), ("element", "REF", 2, "111", "222")]


def test_void_needs_the_payer_claim_number(x12_samples):
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")
    with pytest.raises(ReclaimError, match="REF\\*F8"):
        write_837(batch, io.BytesIO(), frequency="8")
    with pytest.raises(ReclaimError, match="frequency must be"):
        write_837(batch, io.BytesIO(), frequency="9")


def _set(batch, table: str, column: str, values) -> None:
    t = batch.tables[table]
    batch.tables[table] = t.set_column(t.schema.get_field_index(column), column, pa.array(values, t.schema.field(column).type))


def test_fixes_change_only_the_fixed_elements(x12_samples):
    """The edit catalog's fixes (through apply_fixes) and changed diagnosis and charge columns:
    the segment diff is exactly those elements, plus CLM05-3 and REF*F8 for the replacement."""
    from reclaim.edits.fix import apply_fixes

    path = x12_samples / "x12__demo.drug.example10.1.837"
    batch = read_837(path)
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    lines = batch["lines"].to_pylist()
    assert [l["procedure_code"] for l in lines] == ["90782", "J1550"]
    findings = pa.table({
        "claim_id": [claim_id] * 4, "line_number": [lines[0]["line_number"]] + [lines[1]["line_number"]] * 3,
        "code": ["RC101", "RC201", "RC301", "RC401"],
        "fix_action": ["set_procedure_code", "set_units", "add_modifier", "set_ndc"],
        "fix_value": ["96372", "2", "JZ", "00026063513"]})
    fixed, changes = apply_fixes(batch, findings)
    assert changes.num_rows == 4
    dx = fixed["diagnoses"].to_pylist()
    _set(fixed, "diagnoses", "code", ["Z7689"] + [d["code"] for d in dx[1:]])
    _set(fixed, "lines", "charge", [l["charge"] for l in fixed["lines"].to_pylist()[:1]] + [Decimal("106.74")])
    _set(fixed, "claims", "total_charge", [fixed["claims"]["total_charge"][0].as_py() + Decimal("53.37")])
    buf = io.BytesIO()
    write_837(fixed, buf, frequency="7", original_claim_numbers={claim_id: "25280100045600"}, created=WHEN)
    src = x12_segments(path.read_bytes())
    clm = next(s for s in src if s[0] == "CLM")
    hi = next(s for s in src if s[0] == "HI")
    sv1 = [s for s in src if s[0] == "SV1"]
    lin = next(s for s in src if s[0] == "LIN")
    assert segment_diff(path.read_bytes(), buf.getvalue()) == [
        ("element", "CLM", 2, clm[2], str(Decimal(clm[2]) + Decimal("53.37")).rstrip("0").rstrip(".")),
        ("element", "CLM", 5, clm[5], clm[5][:-1] + "7"),
        ("insert", "REF*F8*25280100045600"),
        ("element", "HI", 1, hi[1], hi[1].split(":")[0] + ":Z7689"),
        ("element", "SV1", 1, sv1[0][1], "HC:96372"),
        ("element", "SV1", 1, sv1[1][1], "HC:J1550:JZ"),
        ("element", "SV1", 2, sv1[1][2], "106.74"),
        ("element", "SV1", 4, sv1[1][4], "2"),
        ("element", "LIN", 3, lin[3], "00026063513"),
    ]
    line = read_837(buf.getvalue())["lines"].to_pylist()[1]
    assert (line["procedure_code"], line["modifier_1"], line["units"], line["ndc"]) == ("J1550", "JZ", Decimal("2"),
                                                                                       "00026063513")


def test_a_change_the_writer_cannot_carry_is_refused(x12_samples):
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")
    _set(batch, "claims", "patient_last_name", ["SOMEONE ELSE"])
    with pytest.raises(ReclaimError, match="claims.patient_last_name"):
        write_837(batch, io.BytesIO(), created=WHEN)


def test_claims_for_different_receivers_go_into_different_interchanges():
    from reclaim.claims.model import ClaimBatch

    medicare, acme = EXAMPLES[2], EXAMPLES[1]
    both = ClaimBatch.concat([read_837(medicare), read_837(acme)])
    buf = io.BytesIO()
    result = write_837(both, buf, control_number=900, created=WHEN)
    written = x12_segments(buf.getvalue())
    isa = [s for s in written if s[0] == "ISA"]
    assert result.interchanges == len(isa) == 2 and envelope_is_right(buf.getvalue())
    assert [(s[8].strip(), s[13], s[15]) for s in isa] == [("MEDICAREB", "000000900", "T"), ("ACME01", "000000901", "T")]
    # each claim sits in its own payer's interchange
    again = read_837(buf.getvalue())
    by_receiver = {}
    for t in again["transactions"].to_pylist():
        by_receiver.setdefault(t["receiver_id"], set()).add(t["transaction_id"])
    for c in again["claims"].to_pylist():
        expected = "ACME01" if c["payer_id"] in {r["payer_id"] for r in read_837(acme)["claims"].to_pylist()} else "MEDICAREB"
        assert c["transaction_id"] in by_receiver[expected]
    # settings override only explicitly: a receiver and usage given put every claim in one
    buf = io.BytesIO()
    result = write_837(both, buf, receiver=RECEIVER, usage="P", created=WHEN)
    isa = [s for s in x12_segments(buf.getvalue()) if s[0] == "ISA"]
    assert result.interchanges == 1 and (isa[0][8].strip(), isa[0][15]) == ("PAYER01", "P")
    assert next(s for s in x12_segments(buf.getvalue()) if s[:2] == ["NM1", "40"])[3] == "EXAMPLE PAYER"


def test_many_transactions_keep_their_transactions_and_count_hl(x12_samples):
    path = x12_samples / "x12-parser__x12_multiple_transactions.txt"
    batch = read_837(path)
    buf = io.BytesIO()
    result = write_837(batch, buf, created=WHEN)
    written = x12_segments(buf.getvalue())
    ids = [s[0] for s in written]
    assert ids.count("ST") == ids.count("SE") == result.transactions == batch["transactions"].num_rows
    assert ids.count("CLM") == batch["claims"].num_rows == result.claims
    assert numbering_is_right(buf.getvalue()) and envelope_is_right(buf.getvalue())


def test_a_subset_keeps_the_hl_chain_of_its_claims(x12_samples):
    path = x12_samples / "x12-parser__x12_complex.txt"
    batch = read_837(path)
    claims = batch["claims"].to_pylist()
    with_patient = next(c for c in claims if c["x12_patient_offset"] is not None)
    buf = io.BytesIO()
    write_837(batch, buf, claim_ids=[with_patient["claim_id"]], created=WHEN)
    hl = [s for s in x12_segments(buf.getvalue()) if s[0] == "HL"]
    assert [h[1:5] for h in hl] == [["1", "", "20", "1"], ["2", "1", "22", "1"], ["3", "2", "23", "0"]]
    [again] = read_837(buf.getvalue())["claims"].to_pylist()
    assert again["patient_control_number"] == with_patient["patient_control_number"]
    assert again["patient_first_name"] == with_patient["patient_first_name"]


def test_the_source_file_must_be_the_one_read(x12_samples, tmp_path):
    data = (x12_samples / "x12__demo.drug.example10.1.837").read_bytes()
    batch = read_837(data)  # read from bytes: the writer needs them given back
    with pytest.raises(ReclaimError, match="not available"):
        write_837(batch, io.BytesIO())
    file_id = batch["files"]["file_id"][0].as_py()
    buf = io.BytesIO()
    write_837(batch, buf, sources={file_id: data}, created=WHEN)
    assert transaction_sets(buf.getvalue()) == transaction_sets(data)
    copy = tmp_path / "claims.837"
    copy.write_bytes(data)
    batch = read_837(copy)
    copy.write_bytes(data.replace(b"CLM*", b"CLM*X", 1))
    with pytest.raises(ReclaimError, match="changed since"):
        write_837(batch, io.BytesIO())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_replacements_of_the_examples_pass_pyx12(path, tmp_path, pyx12_validate):
    batch = read_837(path)
    numbers = {cid: f"ICN{i:08d}" for i, cid in enumerate(batch["claims"]["claim_id"].to_pylist())}
    out = tmp_path / "replacement.837"
    write_837(batch, out, frequency="7", original_claim_numbers=numbers, newlines=True)
    assert pyx12_validate(out) == []


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
    batch = read_csv(REPO / "examples" / "claims-template.csv")  # generated from the model
    _set(batch, "claims", "billing_name", ["SMITH*JONES"] * batch["claims"].num_rows)
    with pytest.raises(ReclaimError, match="billing_name"):
        write_837(batch, io.StringIO(), sender=SENDER, receiver=RECEIVER)
    batch = read_837(x12_samples / "x12__demo.drug.example10.1.837")  # patched into its segments
    _set(batch, "lines", "procedure_code", ["J15*50"] * batch["lines"].num_rows)
    with pytest.raises(ReclaimError, match="delimiter"):
        write_837(batch, io.BytesIO())


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


def test_settings_override_the_envelope_field_by_field(x12_samples, tmp_path, monkeypatch):
    """A submitter name (or phone) set without an id changes that field only; the ids, the
    receiver and ISA15 stay the source's."""
    from reclaim import config
    from reclaim.claims.x12.writer import envelope_from_settings

    (tmp_path / "reclaim.toml").write_text('[reclaim]\nsubmitter_name = "NEW NAME"\nsubmitter_phone = "5551234567"\n')
    monkeypatch.setenv("RECLAIM_CONFIG", str(tmp_path / "reclaim.toml"))
    path = x12_samples / "x12__demo.drug.example10.1.837"
    buf = io.BytesIO()
    write_837(read_837(path), buf, created=WHEN, **envelope_from_settings(config.load()))
    source, written = x12_segments(path.read_bytes()), x12_segments(buf.getvalue())
    assert written[0][5:9] == source[0][5:9] and written[0][15] == source[0][15]
    nm1 = next(s for s in written if s[:2] == ["NM1", "41"])
    assert nm1[3] == "NEW NAME" and nm1[9] == next(s for s in source if s[:2] == ["NM1", "41"])[9]
    per = next(s for s in written if s[0] == "PER")
    assert per[3:5] == ["TE", "5551234567"]


@pytest.mark.parametrize("name", ["x12__demo.drug.example10.2.837", "x12__demo.cob.example3.B.837",
                                  "x12__two-claims-single-provider.837i", "stupidedi__837I-institutional-claim.edi"])
def test_every_fix_action_on_every_line_touches_only_its_elements(x12_samples, name):
    """Code swap, units, an added modifier and an NDC (a LIN added where the line had none) on
    every line, and a changed principal diagnosis: the diff is SV1/SV2, LIN and HI elements, and
    LIN segments inserted; nothing else moves."""
    from reclaim.edits.fix import apply_fixes

    path = x12_samples / name
    batch = read_837(path)
    rows = [{"claim_id": l["claim_id"], "line_number": l["line_number"], "code": code, "fix_action": action,
             "fix_value": value}
            for l in batch["lines"].to_pylist()
            for code, action, value in (("RC1", "set_procedure_code", "J9999"), ("RC2", "set_units", "7"),
                                        ("RC3", "add_modifier", "JZ"), ("RC4", "set_ndc", "00026063513"))]
    fixed, changes = apply_fixes(batch, pa.Table.from_pylist(rows))
    codes = fixed["diagnoses"]["code"].to_pylist()
    _set(fixed, "diagnoses", "code", ["Z7689"] + codes[1:])
    buf = io.BytesIO()
    write_837(fixed, buf, created=WHEN)
    kinds = {(d[0], d[1] if d[0] == "element" else d[1].split("*")[0]) for d in segment_diff(path.read_bytes(),
                                                                                              buf.getvalue())}
    assert kinds <= {("element", "SV1"), ("element", "SV2"), ("element", "LIN"), ("element", "HI"), ("insert", "LIN")}
    assert ("element", "HI") in kinds and changes.num_rows
    for line in read_837(buf.getvalue())["lines"].to_pylist():
        assert (line["procedure_code"], line["units"], line["ndc"]) == ("J9999", Decimal("7"), "00026063513")
        assert "JZ" in [line[f"modifier_{i}"] for i in range(1, 5)]
