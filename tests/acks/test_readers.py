"""The 999/TA1 and 277CA/277/276 readers on the real samples (../shared/x12-samples) and on our
TR3-conformant fixtures (tests/fixtures/x12), cross-checked with pyx12."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow.compute as pc
import pytest

from reclaim.claims.model import AckBatch
from reclaim.claims.x12 import read_277, read_999, read_ack, sniff, sniff_ack
from reclaim.errors import InputFormatError

from .conftest import FIXTURES, without_bom

SAMPLE_999 = "stupidedi__999-response-to-3-837s.edi"
SAMPLE_277 = "stupidedi__277-claim-status-response.edi"
SAMPLE_276 = "stupidedi__276-claim-status-request.edi"
OUR_FILES = ["drug-claims.999", "drug-claims-rejected.999", "drug-claims.277ca", "drug-claims.ta1",
             "drug-claims-rejected.ta1"]


def rows(batch, table):
    return batch[table].to_pylist()


def test_sniff_tells_acknowledgments_from_claims(x12_samples):
    assert sniff_ack(x12_samples / SAMPLE_999) == "999"  # behind a byte-order mark
    assert sniff_ack(x12_samples / SAMPLE_277) == "277"
    assert sniff_ack(x12_samples / SAMPLE_276) == "276"
    assert sniff_ack(FIXTURES / "drug-claims.277ca") == "277CA"
    assert sniff_ack(FIXTURES / "drug-claims.ta1") == "TA1"
    for name in (SAMPLE_999, SAMPLE_277, SAMPLE_276):
        assert sniff(x12_samples / name) is None  # not claims or remittances
    for path in sorted(x12_samples.iterdir()):  # every 835/837 sample stays what it was
        if sniff(path):
            assert sniff_ack(path) is None, path.name


def test_999_sample_rejects_two_of_three(x12_samples, pyx12_tree, tmp_path):
    path = x12_samples / SAMPLE_999
    batch = read_999(path)
    assert batch["read_issues"].num_rows == 0  # the BOM is not an issue
    [group] = rows(batch, "ack_groups")
    assert (group["functional_id"], group["group_control"], group["group_version"]) == ("HC", "17456", "005010X222A2")
    assert (group["status"], group["sets_included"], group["sets_received"], group["sets_accepted"]) == ("P", 3, 3, 1)
    sets = rows(batch, "ack_sets")
    assert [(s["set_id"], s["set_control"], s["status"], s["error_codes"]) for s in sets] == [
        ("837", "0001", "A", None), ("837", "0002", "R", "5"), ("837", "0003", "R", "5")]
    assert [s["ack_set_id"].rsplit(":", 1)[1] for s in sets] == ["1", "2", "3"]
    errors = rows(batch, "ack_errors")
    assert len(errors) == 2
    clm, ref = errors
    assert clm["ack_set_id"] == sets[1]["ack_set_id"] and ref["ack_set_id"] == sets[2]["ack_set_id"]
    # IK3*CLM*22**8 / CTX*CLM01:123456789 / IK4*2*782*1: CLM02 (monetary amount) required, missing
    assert (clm["segment_id"], clm["segment_position"], clm["loop_id"], clm["segment_error"]) == ("CLM", 22, None, "8")
    assert (clm["element_position"], clm["component_position"], clm["element_reference"], clm["element_error"]) \
        == (2, None, "782", "1")
    assert (clm["context_name"], clm["claim_key"]) == ("CLM01", "123456789")
    # IK3*REF*57**3 / CTX*SITUATIONAL TRIGGER*CLM*43**5:3 / CTX*CLM01:987654321: a required REF is
    # missing, triggered by CLM05-3 (claim frequency) of the CLM at position 43
    assert (ref["segment_id"], ref["segment_position"], ref["segment_error"], ref["element_position"]) \
        == ("REF", 57, "3", None)
    assert (ref["trigger_segment_id"], ref["trigger_segment_position"], ref["trigger_element_position"],
            ref["trigger_component_position"]) == ("CLM", 43, 5, 3)
    assert ref["claim_key"] == "987654321"
    # the same counts through pyx12's loop tree (X231A1 map; pyx12 needs the BOM removed)
    statuses, ik3, ik4 = [], 0, 0
    for node in pyx12_tree(without_bom(path, tmp_path)).iter_segments("2000"):
        if node.id == "2000":
            statuses.append(node.get_value("IK501"))
            for err in node.select("2100"):
                ik3 += 1
                ik4 += len(list(err.select("2110")))
    assert statuses == [s["status"] for s in sets]
    assert (ik3, ik4) == (2, 1)
    assert len(errors) == ik3 - sum(1 for e in errors if e["element_position"] is not None) + ik4


def test_277_sample(x12_samples, pyx12_segments):
    path = x12_samples / SAMPLE_277
    batch = read_277(path)
    assert batch["read_issues"].num_rows == 0
    claims = rows(batch, "status_claims")
    assert [c["transaction_type"] for c in claims] == ["277"] * 3
    assert [(c["trace_number"], c["patient_control_number"], c["payer_claim_control_number"], c["total_charge"])
            for c in claims] == [("ABCXYZ1", "SM123456", "05347006051", Decimal("8513.88")),
                                 ("ABCXYZ2", "JO234567", "0529675341", Decimal("7599.00")),
                                 ("ABCXYC3", "MA345678", "051681010827", Decimal("150.00"))]
    assert [(c["payer_id"], c["receiver_id"], c["provider_npi"]) for c in claims] == [
        ("12345", "X67E", "1666666661"), ("12345", "X67E", "1666666661"), ("12345", "X67E", "1666666666")]
    assert [c["subscriber_id"] for c in claims] == ["123456789A", "234567890A", "345678901"]
    assert (claims[0]["service_from"], claims[0]["service_to"]) == (dt.date(2005, 8, 31), dt.date(2005, 9, 6))
    assert claims[0]["bill_type"] == "111"
    statuses = rows(batch, "claim_statuses")
    assert [(s["status_claim_id"] == claims[i]["status_claim_id"], s["line_index"], s["category_code"],
             s["status_code"], s["entity_code"]) for s, i in zip(statuses, (0, 1, 2, 2))] == [
        (True, None, "P3", "317", None), (True, None, "F0", "3", None), (True, None, "F2", "88", "QC"),
        (True, 1, "F2", "88", "QC")]
    assert [s["status_date"] for s in statuses[:3]] == [dt.date(2005, 9, 13), dt.date(2005, 9, 15), dt.date(2005, 6, 12)]
    assert statuses[1]["paid"] == Decimal("7599.00") and statuses[2]["paid"] == Decimal("0.00")
    [line] = rows(batch, "status_lines")
    assert (line["procedure_code"], line["charge"], line["paid"], line["units"], line["service_date"]) == (
        "99203", Decimal("150.00"), Decimal("0.00"), Decimal("1.000"), dt.date(2005, 5, 1))
    # pyx12's tokenizer: as many STC and SVC segments, claims = TRN below the HL 22/23 levels
    counts = pyx12_segments(path)
    assert counts["STC"] == len(statuses) and counts["SVC"] == len(rows(batch, "status_lines"))
    assert counts["TRN"] == len(claims)


def test_276_sample(x12_samples, pyx12_segments):
    path = x12_samples / SAMPLE_276
    batch = read_277(path)
    assert batch["read_issues"].num_rows == 0
    claims = rows(batch, "status_claims")
    assert [(c["transaction_type"], c["trace_number"], c["patient_control_number"], c["total_charge"]) for c in claims] \
        == [("276", "ABCXYZ1", "SM123456", Decimal("8513.88")), ("276", "ABCXYZ2", "JO234567", Decimal("7599.00")),
            ("276", "ABCXYZ3", "MA345678", None)]
    assert (claims[1]["service_from"], claims[1]["service_to"]) == (dt.date(2005, 7, 31), dt.date(2005, 8, 9))
    assert batch["claim_statuses"].num_rows == 0  # a request has no status
    [line] = rows(batch, "status_lines")
    assert (line["procedure_code"], line["charge"], line["service_date"]) == ("99203", Decimal("150.00"),
                                                                               dt.date(2005, 5, 1))
    assert pyx12_segments(path)["TRN"] == len(claims)


@pytest.mark.parametrize("name", OUR_FILES)
def test_our_fixtures_pass_pyx12(name, pyx12_findings):
    assert pyx12_findings(FIXTURES / name) == []


def test_277ca_fixture_accepts_one_claim_and_rejects_one(pyx12_tree):
    path = FIXTURES / "drug-claims.277ca"
    batch = read_ack(path)
    assert batch["read_issues"].num_rows == 0
    claims = rows(batch, "status_claims")
    assert [(c["transaction_type"], c["patient_control_number"], c["total_charge"], c["payer_claim_control_number"])
            for c in claims] == [("277CA", "PCN-0001", Decimal("1800.00"), "25320000101"),
                                 ("277CA", "PCN-0002", Decimal("2550.50"), None)]
    assert [(c["payer_id"], c["provider_npi"], c["subscriber_id"]) for c in claims] == [
        ("TP0001", "1234567893", None), ("TP0001", "1234567893", None)]  # 277CA: no HL 22, NM1*QC only
    assert (claims[1]["service_from"], claims[1]["service_to"]) == (dt.date(2025, 11, 1), dt.date(2025, 11, 2))
    statuses = rows(batch, "claim_statuses")  # the 2200B/2200C batch STCs are not claim statuses
    assert [(s["category_code"], s["status_code"], s["entity_code"], s["action_code"]) for s in statuses] == [
        ("A2", "20", None, "WQ"), ("A7", "562", "82", "U")]
    # pyx12's X214 loop tree: the same claims (2200D TRN02) and STC01 composites
    found = []
    for node in pyx12_tree(path).iter_segments("2200D"):
        if node.id == "2200D":
            found.append((node.get_value("TRN02"), node.get_value("STC01-1"), node.get_value("STC01-2")))
    assert found == [(c["patient_control_number"], s["category_code"], s["status_code"])
                     for c, s in zip(claims, statuses)]


def test_999_fixtures_and_ta1():
    accepted = read_ack(FIXTURES / "drug-claims.999")
    assert [(s["group_control"], s["set_control"], s["status"]) for s in rows(accepted, "ack_sets")] == [("1", "0001", "A")]
    assert accepted["ack_errors"].num_rows == 0
    rejected = read_ack(FIXTURES / "drug-claims-rejected.999")
    assert [s["status"] for s in rows(rejected, "ack_sets")] == ["R"]
    assert [(e["segment_id"], e["segment_position"], e["loop_id"], e["element_position"], e["component_position"],
             e["element_error"], e["claim_key"]) for e in rows(rejected, "ack_errors")] == [
        ("HI", 47, "2300", 1, 2, "7", "PCN-0002"), ("SV1", 26, "2400", 4, None, "1", "PCN-0001")]
    ta1 = read_ack(FIXTURES / "drug-claims.ta1")
    assert rows(ta1, "interchange_acks") == [{
        "file_id": ta1["files"]["file_id"][0].as_py(), "interchange_control": "000000503",
        "acknowledged_control": "000000101", "acknowledged_date": dt.date(2025, 11, 15), "acknowledged_time": "1200",
        "status": "A", "note_code": "000"}]
    assert ta1["read_issues"].num_rows == 0  # a TA1 outside ST/SE is where the TR3 puts it


def _replicated_277ca(n: int) -> bytes:
    """The fixture 277CA with its two claim HLs repeated ``n`` times (claims straddle blocks)."""
    text = (FIXTURES / "drug-claims.277ca").read_text()
    segs = [s.strip() for s in text.split("~") if s.strip()]
    start = next(i for i, s in enumerate(segs) if s.startswith("HL*4*"))
    end = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    claim_segs = segs[start:end]
    body, hl = [], 4
    for k in range(n):
        for s in claim_segs:
            if s.startswith("HL*"):
                s = f"HL*{hl}*3*PT"
                hl += 1
            elif s.startswith("TRN*2*"):
                s = f"{s}-{k}"
            body.append(s)
    out = segs[:start] + body
    st = next(i for i, s in enumerate(out) if s.startswith("ST*"))
    out += [f"SE*{len(out) - st + 1}*0001", "GE*1*601", "IEA*1*000000601"]
    return ("~\n".join(out) + "~\n").encode()


def _replicated_277(x12_samples, n: int) -> bytes:
    """The X212 277 sample's transaction repeated ``n`` times in one group (subscriber and
    dependent HLs, names carried from HL to claim across blocks)."""
    segs = [s.strip() for s in (x12_samples / SAMPLE_277).read_text().split("~") if s.strip()]
    st = next(i for i, s in enumerate(segs) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segs) if s.startswith("SE*"))
    body = []
    for k in range(n):
        txn = [s.replace("ST*277*0001", f"ST*277*{k:04d}").replace(f"SE*{se - st + 1}*0001",
                                                                   f"SE*{se - st + 1}*{k:04d}")
               for s in segs[st:se + 1]]
        body += [s.replace("NM1*IL*1*SMITH*FRED", f"NM1*IL*1*SMITH{k}*FRED") for s in txn]
    out = segs[:st] + body + [f"GE*{n}*20213", segs[-1]]
    return ("~".join(out) + "~").encode()


@pytest.mark.parametrize("source", ["sample-999", "sample-277", "sample-276", *OUR_FILES, "replicated-277ca",
                                    "replicated-999", "replicated-277"])
def test_streaming_equals_whole_read(source, x12_samples):
    """1 KB blocks give the same tables as one block (AK2 loops and claims never split)."""
    from reclaim.claims.x12 import iter_ack

    if source == "replicated-277ca":
        path = _replicated_277ca(300)
    elif source == "replicated-277":
        path = _replicated_277(x12_samples, 60)
    elif source == "replicated-999":
        raw = (x12_samples / SAMPLE_999).read_bytes()[3:]
        path = raw.replace(b"IEA*1*000010216", b"IEA*1*000010216") * 40  # 40 interchanges (repeated controls)
    elif source.startswith("sample-"):
        path = x12_samples / {"sample-999": SAMPLE_999, "sample-277": SAMPLE_277, "sample-276": SAMPLE_276}[source]
    else:
        path = FIXTURES / source
    whole = read_ack(path)
    batches = list(iter_ack(path, block_size=1024))
    streamed = AckBatch.concat(batches)
    for name in whole.SCHEMAS:
        if name == "read_issues":
            assert sorted(map(str, streamed[name].to_pylist())) == sorted(map(str, whole[name].to_pylist()))
        else:
            assert streamed[name].to_pylist() == whole[name].to_pylist(), name
    if source == "replicated-277":
        assert whole["status_claims"].num_rows == 180 and whole["read_issues"].num_rows == 0
        assert whole["status_claims"]["subscriber_id"].null_count == 0
        assert whole["status_claims"]["payer_id"].null_count == whole["status_claims"]["provider_npi"].null_count == 0
    if source == "replicated-277ca":
        assert whole["status_claims"].num_rows == 600 and len(batches) > 10
        ids = pc.unique(whole["status_claims"]["status_claim_id"])
        assert len(ids) == 600


def test_bad_input_is_reported_and_reading_goes_on(tmp_path):
    text = (FIXTURES / "drug-claims.277ca").read_text()
    # a bad charge, an STC with no claim TRN before it, and the file cut after the second claim's STC
    bad = (text.replace("STC*A2:20*20251116*WQ*1800~", "STC*A2:20*20251116*WQ*18O0~")
               .replace("HL*5*3*PT~\nNM1*QC*1*ROE*RITA****MI*W123456789~\n",
                        "HL*5*3*PT~\nNM1*QC*1*ROE*RITA****MI*W123456789~\nSTC*A1:19*20251116~\n"))
    cut = bad[:bad.index("DTP*472*RD8")]
    batch = read_277(cut.encode())
    codes = {(i["code"], i["segment_id"], i["column"], i["skipped"]) for i in rows(batch, "read_issues")}
    assert ("X12-BAD-VALUE", "STC", "STC04", "nothing") in codes
    assert ("X12-SEGMENT-ORDER", "STC", None, "segment") in codes
    assert ("X12-SE-MISSING", "ST", None, "claim") in codes
    assert ("X12-CLAIM-INCOMPLETE", "TRN", None, "claim") in codes
    # the first claim is read, with its charge null (not a made-up 0); the cut-short last is not
    [first] = rows(batch, "status_claims")
    assert first["patient_control_number"] == "PCN-0001" and first["total_charge"] is None
    for issue in rows(batch, "read_issues"):
        assert "RITA" not in issue["message"] and "W123456789" not in issue["message"]


def test_999_bad_values_and_wrong_files(x12_samples):
    raw = (x12_samples / SAMPLE_999).read_bytes().replace(b"IK3*CLM*22**8", b"IK3*CLM*2X**8")
    batch = read_999(raw)
    [issue] = rows(batch, "read_issues")
    assert (issue["code"], issue["column"], issue["loop"]) == ("X12-BAD-VALUE", "IK302", "2100")
    assert rows(batch, "ack_errors")[0]["segment_position"] is None  # null, not a guess
    assert batch["ack_sets"].num_rows == 3
    with pytest.raises(InputFormatError, match="not 999"):
        read_999(x12_samples / "stupidedi__837P-COB-claim-to-payer-b.edi")
    with pytest.raises(InputFormatError, match="not 276/277"):
        read_277(x12_samples / "stupidedi__835-era-sample.edi")
    with pytest.raises(InputFormatError):
        read_ack(x12_samples / "stupidedi__835-era-sample.edi")
