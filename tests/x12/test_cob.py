"""Coordination of benefits (837 loops 2320/2330A/2330B/2430): what the reader puts in
other_payers, line_adjudications and other_payer_adjustments against the raw segments of the
real samples (walked here with a plain segment loop, independent of the columnar reader), a
cross-check with pyx12's loop tree, streaming with tiny blocks, the writer's round trip and
pyx12 validation of its COB loops, bad values, and Parquet folders written before the tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from reclaim.claims.io import convert, load_into
from reclaim.claims.model import CLAIM_TABLES, ClaimBatch
from reclaim.claims.x12 import iter_837, read_837
from reclaim.claims.x12.writer import Party, write_837

COB_TABLES = ("other_payers", "line_adjudications", "other_payer_adjustments")
COB_SAMPLES = ["x12__demo.cob.example4.837", "x12__demo.cob.example3.B.837", "x12__demo.cob.example3.A.837",
               "x12-parser__x12_complex.txt", "x12-parser__x223-test.txt", "x12__institutional-claim.837i"]
WHEN = dt.datetime(2025, 11, 3, 9, 30)
SENDER = Party(id="SUBMITTER01", name="EXAMPLE BILLING SERVICE", contact_name="BILLING DESK", contact_phone="8005551212")


def samples_837(x12_samples: Path) -> list[str]:
    with (x12_samples / "LIST.csv").open() as fh:
        return [row["file"] for row in csv.DictReader(fh) if row["type"].startswith("837")]


# --------------------------------------------------------------------------- raw walk


def raw_segments(data: bytes) -> tuple[list[list[str]], str]:
    """Segments as element lists, split with the delimiters the ISA declares."""
    text = data.decode("latin-1")
    start = text.index("ISA")
    element, component, terminator = text[start + 3], text[start + 104], text[start + 105]
    segs = [s.strip() for s in text[start:].split(terminator)]
    return [s.split(element) for s in segs if s], component


def _el(seg: list[str], k: int) -> str | None:
    return seg[k] if len(seg) > k and seg[k] != "" else None


def _money(v):
    return Decimal(v).quantize(Decimal("0.01")) if v else None


def _qty(v):
    return Decimal(v).quantize(Decimal("0.001")) if v else None


def _d8(v):
    return dt.datetime.strptime(v, "%Y%m%d").date() if v else None


def cob_from_raw(data: bytes) -> dict[str, list[dict]]:
    """The COB rows a file holds, by a segment-by-segment walk keyed by CLM01 (a plain loop:
    the opposite of how the reader works, so the two cannot share a mistake)."""
    segs, comp = raw_segments(data)
    payers, adjudications, adjustments = [], [], []
    pcn = None
    loop = None  # 2300, 2320, 2330A, 2330B, 2330x, 2400, 2420, 2430, 2440
    line_number = None
    payer = adjudication = None
    for seg in segs:
        sid = seg[0]
        if sid in ("HL", "SE", "ST"):
            loop = pcn = None
            continue
        if sid == "CLM":
            pcn, loop = seg[1], "2300"
            n_payer = 0
            continue
        if pcn is None:
            continue
        if sid == "SBR" and loop in ("2300", "2310", "2320", "2330A", "2330B", "2330x"):
            n_payer += 1
            payer = {"pcn": pcn, "payer_index": n_payer, "payer_responsibility": _el(seg, 1),
                     "relationship_code": _el(seg, 2), "group_number": _el(seg, 3), "group_name": _el(seg, 4),
                     "claim_filing_indicator": _el(seg, 9), "paid_amount": None, "non_covered_amount": None,
                     "remaining_patient_liability": None, "benefits_assignment": None,
                     "release_of_information": None, "subscriber_id": None, "subscriber_last_name": None,
                     "subscriber_first_name": None, "payer_id": None, "payer_name": None, "adjudication_date": None}
            payers.append(payer)
            loop = "2320"
        elif sid == "LX":
            loop, line_number, n_svd = "2400", int(seg[1]), 0
        elif sid == "NM1" and loop in ("2300", "2310"):
            loop = "2310"
        elif sid == "NM1" and loop in ("2320", "2330A", "2330B", "2330x"):
            loop = {"IL": "2330A", "PR": "2330B"}.get(seg[1], "2330x")
            if loop == "2330A":
                payer.update(subscriber_id=_el(seg, 9), subscriber_last_name=_el(seg, 3),
                             subscriber_first_name=_el(seg, 4))
            elif loop == "2330B":
                payer.update(payer_id=_el(seg, 9), payer_name=_el(seg, 3))
        elif sid == "AMT" and loop == "2320":
            column = {"D": "paid_amount", "A8": "non_covered_amount", "EAF": "remaining_patient_liability"}.get(seg[1])
            if column:
                payer[column] = _money(seg[2])
        elif sid == "OI" and loop == "2320":
            payer.update(benefits_assignment=_el(seg, 3), release_of_information=_el(seg, 6))
        elif sid == "DTP" and loop == "2330B" and seg[1] == "573":
            payer["adjudication_date"] = _d8(seg[3])
        elif sid == "SVD" and loop in ("2400", "2410", "2420", "2430"):
            n_svd += 1
            proc = (seg[3].split(comp) + [""] * 7)[:7]
            adjudication = {"pcn": pcn, "line_number": line_number, "adjudication_index": n_svd,
                            "payer_id": _el(seg, 1), "paid_amount": _money(_el(seg, 2)),
                            "procedure_qualifier": proc[0] or None, "procedure_code": proc[1] or None,
                            "modifier_1": proc[2] or None, "modifier_2": proc[3] or None,
                            "modifier_3": proc[4] or None, "modifier_4": proc[5] or None,
                            "description": proc[6] or None, "revenue_code": _el(seg, 4),
                            "paid_units": _qty(_el(seg, 5)),
                            "bundled_line_number": int(seg[6]) if _el(seg, 6) else None,
                            "adjudication_date": None, "remaining_patient_liability": None}
            adjudications.append(adjudication)
            loop = "2430"
        elif sid in ("LIN",) and loop == "2400":
            loop = "2410"
        elif sid == "NM1" and loop in ("2400", "2410", "2420"):
            loop = "2420"
        elif sid in ("LQ", "FRM") and loop == "2430":
            loop = "2440"
        elif sid == "DTP" and loop == "2430" and seg[1] == "573":
            adjudication["adjudication_date"] = _d8(seg[3])
        elif sid == "AMT" and loop == "2430" and seg[1] == "EAF":
            adjudication["remaining_patient_liability"] = _money(seg[2])
        if sid == "CAS" and loop in ("2320", "2430"):
            for j in range(6):
                reason, amount, quantity = (_el(seg, 2 + 3 * j), _el(seg, 3 + 3 * j), _el(seg, 4 + 3 * j))
                if reason is None and amount is None:
                    continue
                row = {"pcn": pcn, "payer_index": None, "line_number": None, "adjudication_index": None,
                       "group_code": seg[1], "reason_code": reason, "amount": _money(amount), "quantity": _qty(quantity)}
                if loop == "2320":
                    row["payer_index"] = payer["payer_index"]
                else:
                    row.update(line_number=adjudication["line_number"],
                               adjudication_index=adjudication["adjudication_index"])
                adjustments.append(row)
    return {"other_payers": payers, "line_adjudications": adjudications, "other_payer_adjustments": adjustments}


def read_rows(batch: ClaimBatch, name: str) -> list[dict]:
    """A COB table's rows with CLM01 instead of the claim id."""
    pcn = dict(zip(batch["claims"]["claim_id"].to_pylist(), batch["claims"]["patient_control_number"].to_pylist()))
    return [{"pcn": pcn[r.pop("claim_id")], **r} for r in batch[name].to_pylist()]


# --------------------------------------------------------------------------- reader


@pytest.mark.parametrize("name", COB_SAMPLES)
def test_cob_tables_hold_what_the_file_says(x12_samples, name):
    data = (x12_samples / name).read_bytes()
    expected = cob_from_raw(data)
    batch = read_837(data)
    assert expected["other_payers"], f"{name} holds 2320 loops"
    for table in COB_TABLES:
        assert read_rows(batch, table) == expected[table], (name, table)


def test_every_837_sample_reads_its_cob_loops(x12_samples):
    """Over all 837 samples: as many 2320 / 2430 / CAS triplets as the raw segments hold, and
    no COB row without its claim (a sample without COB loops gives empty tables)."""
    total = 0
    for name in samples_837(x12_samples):
        data = (x12_samples / name).read_bytes()
        expected, batch = cob_from_raw(data), read_837(data)
        claim_ids = set(batch["claims"]["claim_id"].to_pylist())
        for table in COB_TABLES:
            assert batch[table].num_rows == len(expected[table]), (name, table)
            assert set(batch[table]["claim_id"].to_pylist()) <= claim_ids
            total += batch[table].num_rows
    assert total > 20


def test_the_cob_example_in_money(x12_samples):
    """demo.cob.example3.B balances as a secondary payer checks it: the charge (CLM02) is the
    primary's payment (AMT*D) plus every adjustment (claim and line CAS), and the patient's
    remaining liability (AMT*EAF) is the PR (patient responsibility) adjustments."""
    data = (x12_samples / "x12__demo.cob.example3.B.837").read_bytes()
    segs, _ = raw_segments(data)
    [amt_d] = [Decimal(s[2]) for s in segs if s[0] == "AMT" and s[1] == "D"]
    svd02 = [Decimal(s[2]) for s in segs if s[0] == "SVD"]
    batch = read_837(data)
    [payer] = batch["other_payers"].to_pylist()
    assert payer["paid_amount"] == amt_d
    lines = batch["line_adjudications"]
    assert lines["paid_amount"].to_pylist() == svd02
    assert set(lines["payer_id"].to_pylist()) == {payer["payer_id"]}  # the lines' payer is the 2330B payer
    charge = batch["claims"]["total_charge"][0].as_py()
    cas = batch["other_payer_adjustments"]
    assert charge == payer["paid_amount"] + pc.sum(cas["amount"]).as_py()
    patient = pc.sum(cas.filter(pc.equal(cas["group_code"], "PR"))["amount"]).as_py()
    assert patient == payer["remaining_patient_liability"]


def _pyx12_cob(path: Path) -> tuple[list, list, list]:
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12context

    reader = pyx12.x12context.X12ContextReader(pyx12.params.params(), pyx12.error_handler.errh_null(), str(path))
    payers, adjudications, cas = [], [], []

    def triplets(node):
        for c in node.select("CAS"):
            for j in range(6):
                reason, amount = c.get_value(f"CAS{2 + 3 * j:02d}"), c.get_value(f"CAS{3 + 3 * j:02d}")
                if reason or amount:
                    cas.append((c.get_value("CAS01"), reason, Decimal(amount)))

    for node in reader.iter_segments("2300"):
        if node.id != "2300":
            continue
        pcn = node.get_value("CLM01")
        for p in node.select("2320"):
            paid = p.get_value("AMT[D]02")
            payers.append((pcn, p.get_value("SBR01"), p.get_value("2330B/NM109"), p.get_value("2330A/NM109"),
                           Decimal(paid) if paid else None))
            triplets(p)
        for line in node.select("2400"):
            for a in line.select("2430"):
                adjudications.append((pcn, a.get_value("SVD01"), Decimal(a.get_value("SVD02")),
                                      a.get_value("SVD03-2"), _d8(a.get_value("DTP[573]03"))))
                triplets(a)
    return payers, adjudications, cas


def _ours(batch):
    payers = [(r["pcn"], r["payer_responsibility"], r["payer_id"], r["subscriber_id"], r["paid_amount"])
              for r in read_rows(batch, "other_payers")]
    adjudications = [(r["pcn"], r["payer_id"], r["paid_amount"], r["procedure_code"], r["adjudication_date"])
                     for r in read_rows(batch, "line_adjudications")]
    cas = [(r["group_code"], r["reason_code"], r["amount"]) for r in read_rows(batch, "other_payer_adjustments")]
    return payers, adjudications, sorted(cas)


@pytest.mark.parametrize("name", ["x12-parser__x12_complex.txt", "x12__demo.cob.example4.837",
                                  "x12__demo.cob.example3.B.837"])
def test_against_pyx12(x12_samples, tmp_path, name):
    """pyx12's loop tree (X222A1 map) finds the same 2320/2430 loops. The X222A2 samples are read
    by pyx12 as X222A1 (the same loops; pyx12 has no A2 map)."""
    path = x12_samples / name
    batch = read_837(path)
    if b"X222A2" in path.read_bytes()[:400]:
        relabeled = tmp_path / "a1.837"
        relabeled.write_bytes(path.read_bytes().replace(b"005010X222A2", b"005010X222A1"))
        path = relabeled
    payers, adjudications, cas = _pyx12_cob(path)
    ours = _ours(batch)
    assert payers and payers == ours[0]
    assert adjudications == ours[1]
    assert sorted(cas) == ours[2]


@pytest.mark.parametrize("block_size", [200, 1024, 4096])
def test_streaming_with_tiny_blocks(x12_samples, block_size):
    """COB loops straddle block boundaries: the streamed batches are the whole read, and each
    COB row comes in the batch of its claim."""
    for name in COB_SAMPLES + ["x12-parser__x12_many_claims.txt"]:
        path = x12_samples / name
        batches = list(iter_837(path, block_size=block_size))
        whole, streamed = read_837(path), ClaimBatch.concat(batches)
        for table in COB_TABLES:
            assert streamed[table].equals(whole[table]), (name, table, block_size)
        for b in batches:
            ids = set(b["claims"]["claim_id"].to_pylist())
            for table in COB_TABLES:
                assert set(b[table]["claim_id"].to_pylist()) <= ids, (name, table)


def test_bad_cob_values_are_reported_and_the_claim_loads(x12_samples):
    data = (x12_samples / "x12__demo.cob.example3.B.837").read_bytes()
    bad = (data.replace(b"AMT*D*39.15", b"AMT*D*39,15").replace(b"SVD*999996666*40.00", b"SVD*999996666*4O.00")
           .replace(b"CAS*CO*42*3.00", b"CAS*CO*42*THREE").replace(b"DTP*573*D8*20051015", b"DTP*573*D8*20051315", 1))
    assert bad.count(b"39,15") == bad.count(b"4O.00") == bad.count(b"THREE") == bad.count(b"20051315") == 1
    batch = read_837(bad)
    assert batch["claims"].num_rows == 1 and batch["lines"].num_rows == 3
    issues = {(r["code"], r["column"], r["loop"], r["segment_id"]) for r in batch["read_issues"].to_pylist()}
    assert {("X12-BAD-VALUE", "AMT02", "2320", "AMT"), ("X12-BAD-VALUE", "SVD02", "2430", "SVD"),
            ("X12-BAD-VALUE", "CAS03", "2430", "CAS"), ("X12-BAD-VALUE", "DTP03", "2430", "DTP")} <= issues
    segs, _ = raw_segments(bad)
    for r in batch["read_issues"].to_pylist():  # each names the segment it is about
        assert segs[r["segment_index"] - 1][0] == r["segment_id"]
    [payer] = batch["other_payers"].to_pylist()
    assert payer["paid_amount"] is None and payer["remaining_patient_liability"] == Decimal("36.89")
    paid = batch["line_adjudications"]["paid_amount"].to_pylist()
    assert paid[0] is None and paid[1:] == [Decimal("15.00"), Decimal("21.04")]
    assert batch["line_adjudications"]["adjudication_date"].to_pylist()[0] is None
    line_cas = batch["other_payer_adjustments"].filter(pc.is_valid(batch["other_payer_adjustments"]["line_number"]))
    assert line_cas.to_pylist()[0]["reason_code"] == "42" and line_cas.to_pylist()[0]["amount"] is None


# --------------------------------------------------------------------------- writer


def test_written_cob_loops_segment_by_segment(x12_samples):
    """A corrected claim carries its 2320/2330A/2330B and 2430 loops exactly as sent (the writer
    copies the claim's segments), after the 2310 providers and before the first LX."""
    path = x12_samples / "x12__demo.cob.example3.B.837"
    batch = read_837(path)
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    buf = io.StringIO()
    write_837(batch, buf, frequency="7", original_claim_numbers={claim_id: "ICN01"}, created=WHEN)
    source, _ = raw_segments(path.read_bytes())
    written, _ = raw_segments(buf.getvalue().encode())

    def cob(segs):
        ids = [s[0] for s in segs]
        sbr = [i for i, s in enumerate(ids) if s == "SBR"]
        return segs[sbr[1]:ids.index("LX")], segs[ids.index("LX"):ids.index("SE")]

    assert cob(written) == cob(source)
    assert ["SBR", "P", "01", "", "", "", "", "", "", "12"] in written and ["OI", "", "", "Y", "P", "", "Y"] in written
    ids = [s[0] for s in written]
    assert int(written[ids.index("SE")][1]) == ids.index("SE") - ids.index("ST") + 1


def test_cob_output_passes_pyx12(x12_samples, tmp_path, pyx12_validate):
    """pyx12 finds nothing in the written 2320/2330/2430 loops that it does not find in the
    source's (read as X222A1: pyx12 has no A2 map)."""
    from tests.x12.x12diff import pyx12_findings

    path = x12_samples / "x12__demo.cob.example4.837"
    batch = read_837(path)
    [claim_id] = batch["claims"]["claim_id"].to_pylist()
    out = tmp_path / "out.837"
    write_837(batch, out, sender=SENDER, frequency="7", original_claim_numbers={claim_id: "ICN01"}, newlines=True,
              created=WHEN)
    assert "SVD*59999*80.00*HC:99203:25**1.00" in out.read_text()  # as sent
    before, after = pyx12_findings(pyx12_validate, path, tmp_path), pyx12_findings(pyx12_validate, out, tmp_path)
    assert not after - before


def test_an_other_payer_without_a_payer_is_kept_as_sent(x12_samples):
    """demo.cob.example3.A has a 2320 without its 2330B payer: the reader warns, the writer makes
    nothing up (the loop is written as the source has it)."""
    path = x12_samples / "x12__demo.cob.example3.A.837"
    batch = read_837(path)
    [issue] = batch["read_issues"].to_pylist()
    segs, _ = raw_segments(path.read_bytes())
    assert (issue["code"], issue["loop"], issue["severity"]) == ("X12-MISSING-SEGMENT", "2330B", "warning")
    assert segs[issue["segment_index"] - 1][:2] == ["SBR", "S"]  # placed at the 2320 SBR
    buf = io.StringIO()
    write_837(batch, buf, created=WHEN)
    assert "NM1*PR" not in buf.getvalue().split("SBR*S")[1]
    assert read_837(buf.getvalue().encode())["read_issues"]["code"].to_pylist() == ["X12-MISSING-SEGMENT"]


# --------------------------------------------------------------------------- storage


def test_convert_writes_the_cob_tables_and_an_older_folder_still_loads(x12_samples, tmp_path):
    path = x12_samples / "x12__demo.cob.example3.B.837"
    _, written = convert([path], tmp_path / "new")
    names = {p.name for p in written}
    assert {f"{t}.parquet" for t in COB_TABLES} <= names
    con = duckdb.connect()
    load_into(con, [tmp_path / "new"], "claims")
    assert con.execute("select count(*) from other_payer_adjustments").fetchone()[0] == 3
    # a folder written before the COB tables existed: the other tables load, the COB tables are empty
    old = tmp_path / "old"
    old.mkdir()
    for p in written:
        if p.name not in {f"{t}.parquet" for t in COB_TABLES}:
            (old / p.name).write_bytes(p.read_bytes())
    for views in (False, True):
        con = duckdb.connect()
        added = load_into(con, [old], "claims", parquet_views=views)
        assert added["claims"] == 1 and added["lines"] == 3
        for table in COB_TABLES:
            assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            assert columns == CLAIM_TABLES[table].names
