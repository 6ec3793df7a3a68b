"""Write claims of the normalized model as X12 5010 837P / 837I, e.g. corrected claims.

:func:`write_837` takes a :class:`~reclaim.claims.model.ClaimBatch` (from any reader, or
built by the recovery step) and writes one interchange: one ISA/IEA, one GS/GE per claim
type (837P ``005010X222A1``, 837I ``005010X223A2``), one ST/SE per 5,000 claims. A
replacement (frequency 7) or void (8) carries ``REF*F8`` with the payer's claim control number
(domain-facts §10.4: required when CLM05-3 is 7 or 8), taken from ``original_claim_numbers``
or the claim's ``original_claim_number``; the writer refuses to write one without it.

What the writer guarantees: control numbers that match (ISA13 = IEA02, GS06 = GE02,
ST02 = SE02), SE01 = the segments from ST to SE, GE01 = the transactions in the group,
IEA01 = the groups, HL numbering with parent ids and child codes, LX numbering from 1 per
claim; the 837 round trip read -> write -> read gives back every column the 837 carries.

Coordination of benefits is written back: each ``other_payers`` row as a 2320 loop (SBR, CAS,
AMT*D/A8/EAF, OI) with its 2330A subscriber and 2330B payer (NM1, DTP*573) after the 2310
providers, and each ``line_adjudications`` row as a 2430 loop (SVD, CAS, DTP*573, AMT*EAF)
after its line's 2420 loops, in TR3 order: a secondary payer needs the primary's paid amount
and adjustments (without them it denies, CARC 22).

What it cannot write because the model does not hold it (the reader does not keep it): the
subscriber's address (2010BA N3/N4), provider names of 2310/2420 loops (NM103 is left empty),
837I CL1, CLM06-CLM09 (written as Y, A, Y, Y: signature on file, assigned, benefits assigned,
release signed), and in COB loops SBR05 (insurance type code), OI04, MOA/MIA,
2330A/2330B addresses and REF, and the 2330C-G provider loops. Those are listed in
docs/claim-files.md.

Claims are formatted one by one (a writer of corrected claims handles hundreds, not
millions); the checks before writing are columnar.
"""

from __future__ import annotations

import datetime as _dt
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from ...errors import ReclaimError
from ..model import ClaimBatch

__all__ = ["write_837", "Party", "WriteResult", "IMPLEMENTATIONS"]

IMPLEMENTATIONS = {"professional": "005010X222A1", "institutional": "005010X223A2"}
MAX_CLAIMS_PER_TRANSACTION = 5000  # TR3 1.4.1: 5000 CLM per ST-SE
ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
_DELIMITERS = ELEMENT + COMPONENT + REPETITION + TERMINATOR

# HI qualifier order and grouping (837I has one HI per kind; 837P puts all diagnoses in one)
_HI_ORDER_837I = [("ABK", "BK"), ("ABJ", "BJ"), ("APR", "PR"), ("ABN", "BN"), ("ABF", "BF"), ("DR",),
                  ("BBR", "BR", "CAH"), ("BBQ", "BQ"), ("BI",), ("BH",), ("BE",), ("BG",), ("TC",)]
_HI_ORDER_837P = [("ABK", "BK", "ABF", "BF"), ("BG",), ("BP", "BO")]


@dataclass(frozen=True)
class Party:
    """Submitter (sender) or receiver: ISA06/08, GS02/03 and the 1000A/1000B NM1."""

    id: str
    name: str = ""
    contact_name: str = ""  # 1000A PER02
    contact_phone: str = ""  # 1000A PER04
    qualifier: str = "ZZ"  # ISA05/07


def envelope_from_settings(settings) -> dict:
    """The envelope keywords of :func:`write_837` from the settings: ``sender`` and ``receiver``
    from ``submitter_*`` / ``receiver_*`` (None where unset: the envelope the claims came with is
    reused) and ``usage`` (ISA15) from ``x12_usage``."""
    sender = Party(id=settings.submitter_id, name=settings.submitter_name,
                   contact_phone=settings.submitter_phone) if settings.submitter_id else None
    receiver = Party(id=settings.receiver_id, name=settings.receiver_name) if settings.receiver_id else None
    return {"sender": sender, "receiver": receiver, "usage": settings.x12_usage}


@dataclass(frozen=True)
class WriteResult:
    claims: int
    transactions: int
    groups: int
    segments: int  # all segments of the interchange, ISA..IEA
    interchange_control: str
    #: TR3-required content the model does not hold, so the file lacks it (fix before sending)
    gaps: tuple[str, ...] = ()


def _fmt(value) -> str:
    """X12 numbers: no trailing zeros, no exponent (1762.80 -> 1762.8, 60.000 -> 60)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def _d8(value: _dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def _seg(*elements) -> str:
    parts = ["" if e is None else str(e) for e in elements]
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts)


def _comp(*components) -> str:
    parts = ["" if c is None else str(c) for c in components]
    while parts and parts[-1] == "":
        parts.pop()
    return COMPONENT.join(parts)


def _address(joined: str | None) -> tuple[list[str], list[str]] | None:
    """The reader joins N3-01, N3-02, N4-01..03 with ', ': split it back (N3 lines, N4)."""
    if not joined:
        return None
    parts = joined.split(", ")
    if len(parts) < 3:
        return None
    n3, n4 = parts[:-3], parts[-3:]
    if len(n3) > 2:  # a street line holding ', ' itself
        n3 = [", ".join(n3[:-1]), n3[-1]]
    return n3, n4


# --------------------------------------------------------------------------- checks


_KEYS = {"claim_id", "transaction_id", "file_id"}  # our join keys, never written


def _check_delimiters(tables: Mapping[str, pa.Table]) -> None:
    pattern = "[" + "".join("\\" + d for d in _DELIMITERS) + "]"
    for name, table in tables.items():
        for field in table.schema:
            if not pa.types.is_string(field.type) or field.name in _KEYS:
                continue
            hit = pc.fill_null(pc.match_substring_regex(table[field.name], pattern), False)
            if pc.any(hit).as_py():
                keys = table["claim_id"].filter(hit).unique().to_pylist()[:5]
                raise ReclaimError(
                    f"{name}.{field.name} of claim(s) {', '.join(keys)} holds an X12 delimiter "
                    f"({' '.join(_DELIMITERS)}): it cannot be written without changing it",
                    hint="fix the value in the source (names and notes must not contain * : ^ ~)")


def _check_required(claims: pa.Table, lines: pa.Table) -> None:
    """The elements without which there is no 837 at all (the edits judge the rest)."""
    problems = []
    for col in ("patient_control_number", "total_charge"):
        missing = claims.filter(pc.is_null(claims[col]))
        if missing.num_rows:
            problems.append(f"{col} missing on claim(s) {', '.join(missing['claim_id'].to_pylist()[:5])}")
    # CLM05-1: place of service (837P) / facility type code (837I), two characters
    is_claim_inst = pc.fill_null(pc.equal(claims["claim_type"], "institutional"), False)
    clm05 = pc.if_else(is_claim_inst, claims["facility_type_code"], claims["place_of_service"])
    bad05 = pc.invert(pc.fill_null(pc.match_substring_regex(clm05, r"^[0-9A-Z]{2}$"), False))
    if pc.any(bad05).as_py():
        problems.append("a 2-character place of service / facility type code (CLM05-1) on claim(s) "
                        + ", ".join(claims["claim_id"].filter(bad05).to_pylist()[:5]))
    institutional = claims.filter(is_claim_inst)["claim_id"]
    is_inst = pc.is_in(lines["claim_id"], value_set=institutional)
    # SV101 (837P) needs a procedure code; SV201 (837I) needs a revenue code
    needs = {"charge": None, "units": None, "service_date": None,
             "procedure_code": pc.invert(is_inst), "revenue_code": is_inst}
    for col, scope in needs.items():
        absent = pc.is_null(lines[col])
        if scope is not None:
            absent = pc.and_(absent, scope)
        missing = lines.filter(absent)
        if missing.num_rows:
            problems.append(f"line {col} missing on claim(s) {', '.join(sorted(set(missing['claim_id'].to_pylist()))[:5])}")
    no_lines = pc.invert(pc.is_in(claims["claim_id"], value_set=lines["claim_id"].unique()))
    if pc.any(no_lines).as_py():
        problems.append(f"claim(s) without service lines: {', '.join(claims['claim_id'].filter(no_lines).to_pylist()[:5])}")
    if problems:
        raise ReclaimError("cannot write an 837 without " + "; ".join(problems))


# --------------------------------------------------------------------------- one claim


def _hi_segments(dx_rows: list[dict], professional: bool) -> list[str]:
    out = []
    order = _HI_ORDER_837P if professional else _HI_ORDER_837I
    used = set()
    for group in order:
        picked = [d for d in dx_rows if d["qualifier"] in group]
        used.update(id(d) for d in picked)
        for start in range(0, len(picked), 12):
            out.append(_seg("HI", *(_hi_comp(d) for d in picked[start:start + 12])))
    rest = [d for d in dx_rows if id(d) not in used]
    for d in rest:  # qualifiers outside the lists above keep their own HI
        out.append(_seg("HI", _hi_comp(d)))
    return out


def _hi_comp(d: dict) -> str:
    fmt = "D8" if d.get("date") else ""
    return _comp(d["qualifier"], d["code"], fmt, _d8(d.get("date")), _fmt(d.get("amount")), "", "", "",
                 d.get("present_on_admission"))


def _cas_segments(adjustments: list[dict]) -> list[str]:
    """One CAS per group code (first-appearance order), up to 6 reason/amount/quantity triplets each."""
    by_group: dict[str, list[dict]] = {}
    for a in adjustments:
        by_group.setdefault(a["group_code"], []).append(a)
    out = []
    for group, rows in by_group.items():
        for start in range(0, len(rows), 6):
            triplets = [v for a in rows[start:start + 6] for v in (a["reason_code"], _fmt(a["amount"]), _fmt(a["quantity"]))]
            out.append(_seg("CAS", group, *triplets))
    return out


def _other_payer_segments(p: dict, adjustments: list[dict]) -> list[str]:
    """2320 other subscriber information, 2330A other subscriber, 2330B other payer."""
    s = [_seg("SBR", p["payer_responsibility"], p["relationship_code"], p["group_number"], p["group_name"],
              "", "", "", "", p["claim_filing_indicator"])]
    s.extend(_cas_segments(adjustments))
    for qualifier, column in (("D", "paid_amount"), ("A8", "non_covered_amount"), ("EAF", "remaining_patient_liability")):
        if p[column] is not None:
            s.append(_seg("AMT", qualifier, _fmt(p[column])))
    s.append(_seg("OI", "", "", p["benefits_assignment"], "", "", p["release_of_information"]))
    s.append(_seg("NM1", "IL", "1", p["subscriber_last_name"], p["subscriber_first_name"], "", "", "",
                  "MI" if p["subscriber_id"] else "", p["subscriber_id"]))
    if p["payer_name"] or p["payer_id"]:  # absent in the source: no empty NM1 (a gap of the result)
        s.append(_seg("NM1", "PR", "2", p["payer_name"], "", "", "", "", "PI" if p["payer_id"] else "", p["payer_id"]))
    if p["adjudication_date"]:
        s.append(_seg("DTP", "573", "D8", _d8(p["adjudication_date"])))
    return s


def _line_adjudication_segments(a: dict, adjustments: list[dict], professional: bool, lx_of: dict) -> list[str]:
    """2430: SVD (SVD06 renumbered like the LX it points at), CAS, DTP*573, AMT*EAF."""
    proc = _comp(a["procedure_qualifier"], a["procedure_code"], a["modifier_1"], a["modifier_2"], a["modifier_3"],
                 a["modifier_4"], a["description"])
    bundled = lx_of.get(a["bundled_line_number"], a["bundled_line_number"])
    s = [_seg("SVD", a["payer_id"], _fmt(a["paid_amount"]), proc, "" if professional else a["revenue_code"],
              _fmt(a["paid_units"]), bundled)]
    s.extend(_cas_segments(adjustments))
    if a["adjudication_date"]:
        s.append(_seg("DTP", "573", "D8", _d8(a["adjudication_date"])))
    if a["remaining_patient_liability"] is not None:
        s.append(_seg("AMT", "EAF", _fmt(a["remaining_patient_liability"])))
    return s


def _claim_segments(c: dict, dx: list[dict], lines: list[dict], frequency: str, original: str | None,
                    cob: "_Cob") -> list[str]:
    professional = c["claim_type"] != "institutional"
    s = []
    if professional:
        s.append(_seg("CLM", c["patient_control_number"], _fmt(c["total_charge"]), "", "",
                      _comp(c["place_of_service"], "B", frequency), "Y", "A", "Y", "Y"))
    else:
        s.append(_seg("CLM", c["patient_control_number"], _fmt(c["total_charge"]), "", "",
                      _comp(c["facility_type_code"], "A", frequency), "", "A", "Y", "Y"))
        if c["statement_from"]:
            s.append(_seg("DTP", "434", "RD8", f"{_d8(c['statement_from'])}-{_d8(c['statement_to'] or c['statement_from'])}"))
        if c["admission_date"]:
            s.append(_seg("DTP", "435", "D8", _d8(c["admission_date"])))
    if original:
        s.append(_seg("REF", "F8", original))
    if c["prior_auth_number"]:
        s.append(_seg("REF", "G1", c["prior_auth_number"]))
    if c["referral_number"]:
        s.append(_seg("REF", "9F", c["referral_number"]))
    if c["note"]:
        s.append(_seg("NTE", "ADD", c["note"]))
    s.extend(_hi_segments(dx, professional))
    # 2310 providers: 837P referring (DN) 2310A, rendering (82) 2310B, facility (77) 2310C;
    # 837I attending (71) 2310A, rendering (82) 2310D, facility (77) 2310E
    providers = [("DN", c.get("referring_npi")), ("82", c["rendering_npi"]), ("77", c["facility_npi"])] if professional \
        else [("71", c.get("attending_npi")), ("82", c["rendering_npi"]), ("77", c["facility_npi"]),
              ("DN", c.get("referring_npi"))]
    for qualifier, npi in providers:
        if npi:
            s.append(_seg("NM1", qualifier, "2" if qualifier == "77" else "1", "", "", "", "", "", "XX", npi))
    cid = c["claim_id"]
    for p in cob.payers.get(cid, []):
        s.extend(_other_payer_segments(p, cob.adjustments.get((cid, p["payer_index"], None, None), [])))
    lx_of = {line["line_number"]: number for number, line in enumerate(lines, 1) if line["line_number"] is not None}
    for number, line in enumerate(lines, 1):
        s.append(_seg("LX", number))
        proc = _comp(line["procedure_qualifier"] or "HC", line["procedure_code"], line["modifier_1"], line["modifier_2"],
                     line["modifier_3"], line["modifier_4"], line["description"])
        if professional:
            pointers = _comp(*(line[f"dx_pointer_{i}"] for i in range(1, 5)))
            s.append(_seg("SV1", proc, _fmt(line["charge"]), line["unit_basis"] or "UN", _fmt(line["units"]),
                          line["place_of_service"], "", pointers))
        else:
            s.append(_seg("SV2", line["revenue_code"], proc, _fmt(line["charge"]), line["unit_basis"] or "UN",
                          _fmt(line["units"])))
        if line["service_date_to"]:
            s.append(_seg("DTP", "472", "RD8", f"{_d8(line['service_date'])}-{_d8(line['service_date_to'])}"))
        else:
            s.append(_seg("DTP", "472", "D8", _d8(line["service_date"])))
        if line["prior_auth_number"]:
            s.append(_seg("REF", "G1", line["prior_auth_number"]))
        if line["line_control_number"]:
            s.append(_seg("REF", "6R", line["line_control_number"]))
        if line["note"]:
            s.append(_seg("NTE", "ADD", line["note"]))
        if line["ndc"]:
            s.append(_seg("LIN", "", line["ndc_qualifier"] or "N4", line["ndc"]))
            if line["ndc_quantity"] is not None:
                s.append(_seg("CTP", "", "", "", _fmt(line["ndc_quantity"]), line["ndc_unit"]))
        if line["rendering_npi"]:
            s.append(_seg("NM1", "82", "1", "", "", "", "", "", "XX", line["rendering_npi"]))
        for a in cob.lines.get((cid, line["line_number"]), []):
            key = (cid, None, line["line_number"], a["adjudication_index"])
            s.extend(_line_adjudication_segments(a, cob.adjustments.get(key, []), professional, lx_of))
    return s


@dataclass
class _Cob:
    """The claims' coordination-of-benefits rows, grouped for writing: other payers by claim,
    line adjudications by (claim, line number), CAS rows by the loop they belong to."""

    payers: dict
    lines: dict
    adjustments: dict

    @classmethod
    def of(cls, tables: Mapping[str, pa.Table]) -> "_Cob":
        """``tables``: other_payers, line_adjudications, other_payer_adjustments of the claims written."""
        def rows(name, order):
            table = tables[name]
            return table.sort_by([(k, "ascending") for k in order]).to_pylist() if order else table.to_pylist()

        payers: dict = {}
        for r in rows("other_payers", ["claim_id", "payer_index"]):
            payers.setdefault(r["claim_id"], []).append(r)
        lines: dict = {}
        for r in rows("line_adjudications", ["claim_id", "line_number", "adjudication_index"]):
            lines.setdefault((r["claim_id"], r["line_number"]), []).append(r)
        adjustments: dict = {}
        for r in rows("other_payer_adjustments", []):  # file order within each loop
            key = (r["claim_id"], r["payer_index"], r["line_number"], r["adjudication_index"])
            adjustments.setdefault(key, []).append(r)
        return cls(payers, lines, adjustments)


# --------------------------------------------------------------------------- interchange


def _default_parties(batch: ClaimBatch, claims: pa.Table) -> tuple[Party | None, Party | None]:
    txns = batch["transactions"].filter(pc.is_in(batch["transactions"]["transaction_id"],
                                                  value_set=claims["transaction_id"].unique()))
    if not txns.num_rows:
        return None, None
    t = txns.slice(0, 1).to_pylist()[0]
    sender = Party(id=t["submitter_id"] or t["sender_id"], name=t["submitter_name"] or "") if (
        t["submitter_id"] or t["sender_id"]) else None
    receiver = Party(id=t["receiver_id"], name=t["receiver_name"] or "") if t["receiver_id"] else None
    return sender, receiver


def write_837(
    batch: ClaimBatch,
    out: str | Path | IO,
    *,
    claim_ids: Iterable[str] | None = None,
    frequency: str | None = None,
    original_claim_numbers: Mapping[str, str] | None = None,
    sender: Party | None = None,
    receiver: Party | None = None,
    control_number: int = 1,
    usage: str = "P",
    created: _dt.datetime | None = None,
    newlines: bool = False,
) -> WriteResult:
    """Write the claims of ``batch`` (or only ``claim_ids``) as one 837 interchange to ``out``
    (a path, or a text/binary stream).

    ``frequency`` overrides CLM05-3 for every claim written: ``"7"`` replacement, ``"8"`` void.
    ``original_claim_numbers`` maps claim_id -> the payer's claim control number (835 CLP07)
    for REF*F8. ``sender``/``receiver`` default to the submitter and receiver of the
    transaction the claims were read from. ``control_number`` is ISA13 (GS06 and ST02 count
    from 1 inside it). ``usage`` is ISA15: ``P`` production, ``T`` test.
    """
    if frequency is not None and frequency not in ("1", "7", "8"):
        raise ReclaimError(f"frequency must be 1 (original), 7 (replacement) or 8 (void), got {frequency!r}")
    if not 0 < control_number < 10**9:
        raise ReclaimError(f"control_number must be 1..999999999, got {control_number}")
    claims = batch["claims"]
    if claim_ids is not None:
        wanted = pa.array(list(claim_ids), pa.string())
        unknown = pc.filter(wanted, pc.invert(pc.is_in(wanted, value_set=claims["claim_id"])))
        if len(unknown):
            raise ReclaimError(f"claim id(s) not in the batch: {', '.join(unknown.to_pylist()[:5])}")
        claims = claims.filter(pc.is_in(claims["claim_id"], value_set=wanted))
    if not claims.num_rows:
        raise ReclaimError("no claims to write")
    ids = claims["claim_id"]
    lines = batch["lines"].filter(pc.is_in(batch["lines"]["claim_id"], value_set=ids))
    dx = batch["diagnoses"].filter(pc.is_in(batch["diagnoses"]["claim_id"], value_set=ids))
    _check_required(claims, lines)
    cob_tables = {name: batch[name].filter(pc.is_in(batch[name]["claim_id"], value_set=ids))
                  for name in ("other_payers", "line_adjudications", "other_payer_adjustments")}
    _check_delimiters({"claims": claims, "lines": lines, "diagnoses": dx, **cob_tables})
    cob = _Cob.of(cob_tables)

    originals = dict(original_claim_numbers or {})
    claim_rows = claims.to_pylist()
    missing_f8 = []
    for c in claim_rows:
        freq = frequency or c["frequency_code"] or "1"
        original = originals.get(c["claim_id"]) or c["original_claim_number"]
        if freq in ("7", "8") and not original:
            missing_f8.append(c["claim_id"])
        c["_frequency"], c["_original"] = freq, original if freq in ("7", "8") else c["original_claim_number"]
    if missing_f8:
        raise ReclaimError(
            f"frequency 7/8 needs the payer's claim control number (REF*F8) for claim(s) {', '.join(missing_f8[:5])}",
            hint="pass original_claim_numbers (the ICN/DCN from the 835 CLP07) or fill original_claim_number")
    for c in claim_rows:
        if any(ch in (c["_original"] or "") for ch in _DELIMITERS):
            raise ReclaimError(f"original claim number of claim {c['claim_id']} holds an X12 delimiter")

    default_sender, default_receiver = _default_parties(batch, claims)
    sender, receiver = sender or default_sender, receiver or default_receiver
    if sender is None or receiver is None:
        raise ReclaimError("sender and receiver are unknown (the claims were not read from an X12 file)",
                           hint="set submitter_id, submitter_name, receiver_id and receiver_name in reclaim.toml "
                                "(or RECLAIM_SUBMITTER_ID...): the ids your payer or clearinghouse gave you")
    for party in (sender, receiver):
        if any(ch in f"{party.id}{party.name}{party.contact_name}{party.contact_phone}" for ch in _DELIMITERS):
            raise ReclaimError(f"sender/receiver {party.id!r} holds an X12 delimiter")

    lines_by_claim: dict[str, list[dict]] = {}
    for row in lines.sort_by([("claim_id", "ascending"), ("line_number", "ascending")]).to_pylist():
        lines_by_claim.setdefault(row["claim_id"], []).append(row)
    dx_by_claim: dict[str, list[dict]] = {}
    for row in dx.sort_by([("claim_id", "ascending"), ("position", "ascending")]).to_pylist():
        dx_by_claim.setdefault(row["claim_id"], []).append(row)

    now = created or _dt.datetime.now()
    isa13 = f"{control_number:09d}"
    segments: list[str] = [_seg(
        "ISA", "00", " " * 10, "00", " " * 10, sender.qualifier, sender.id[:15].ljust(15), receiver.qualifier,
        receiver.id[:15].ljust(15), now.strftime("%y%m%d"), now.strftime("%H%M"), REPETITION, "00501", isa13, "0",
        usage, COMPONENT)]
    n_groups = n_txn = 0
    for claim_type in ("professional", "institutional"):
        group_claims = [c for c in claim_rows if (c["claim_type"] or "professional") == claim_type]
        if not group_claims:
            continue
        n_groups += 1
        version = IMPLEMENTATIONS[claim_type]
        segments.append(_seg("GS", "HC", sender.id, receiver.id, now.strftime("%Y%m%d"), now.strftime("%H%M"),
                             n_groups, "X", version))
        group_txn = 0
        for start in range(0, len(group_claims), MAX_CLAIMS_PER_TRANSACTION):
            n_txn += 1
            group_txn += 1
            chunk = group_claims[start:start + MAX_CLAIMS_PER_TRANSACTION]
            segments.extend(_transaction(chunk, dx_by_claim, lines_by_claim, cob, f"{n_txn:04d}", version, sender,
                                         receiver, now))
        segments.append(_seg("GE", group_txn, n_groups))
    segments.append(_seg("IEA", n_groups, isa13))

    sep = TERMINATOR + ("\n" if newlines else "")
    text = sep.join(segments) + sep
    _emit(out, text)
    return WriteResult(claims=len(claim_rows), transactions=n_txn, groups=n_groups, segments=len(segments),
                       interchange_control=isa13, gaps=_gaps(claim_rows, sender, cob_tables["other_payers"]))


def _gaps(claims: list[dict], sender: Party, other_payers: pa.Table) -> tuple[str, ...]:
    gaps = []
    no_payer = other_payers.filter(pc.and_(pc.is_null(other_payers["payer_id"]), pc.is_null(other_payers["payer_name"])))
    if no_payer.num_rows:
        gaps.append("2330B NM1*PR: other payer without id or name on claim(s) "
                    + ", ".join(sorted(set(no_payer["claim_id"].to_pylist()))[:5]) + " (the source had none)")
    if not sender.contact_phone:
        gaps.append("1000A PER03/PER04: no submitter contact phone (pass sender=Party(..., contact_phone=...))")
    if any(c["rendering_npi"] or c["facility_npi"] or c.get("referring_npi") or c.get("attending_npi") for c in claims):
        gaps.append("2310 NM103: provider names are not in the model (only NPIs): loops written with NPI only")
    if any(c["facility_npi"] for c in claims):
        gaps.append("2310C/2310E N3/N4: service facility address is not in the model")
    if any(c["relationship_code"] not in (None, "18") for c in claims):
        gaps.append("2010CA N3/N4: patient address is not in the model")
    if any(c["claim_type"] == "institutional" for c in claims):
        gaps.append("837I 2300 CL1 (admission type, source, patient status) is not in the model")
    return tuple(gaps)


def _transaction(claims: list[dict], dx_by_claim, lines_by_claim, cob: _Cob, st02: str, version: str, sender: Party,
                 receiver: Party, now: _dt.datetime) -> list[str]:
    s = [_seg("ST", "837", st02, version),
         _seg("BHT", "0019", "00", st02, now.strftime("%Y%m%d"), now.strftime("%H%M"), "CH"),
         _seg("NM1", "41", "2", sender.name, "", "", "", "", "46", sender.id),
         _seg("PER", "IC", sender.contact_name, "TE" if sender.contact_phone else "", sender.contact_phone),
         _seg("NM1", "40", "2", receiver.name, "", "", "", "", "46", receiver.id)]
    # billing provider HLs in order of first appearance, their claims under them
    providers: dict[tuple, list[dict]] = {}
    for c in claims:
        key = (c["billing_npi"], c["billing_name"], c["billing_tax_id"], c["billing_address"])
        providers.setdefault(key, []).append(c)
    hl = 0
    for (npi, name, tax_id, address), provider_claims in providers.items():
        hl += 1
        parent = hl
        s.append(_seg("HL", hl, "", "20", "1"))
        s.append(_seg("NM1", "85", "2", name or "", "", "", "", "", "XX" if npi else "", npi))
        split = _address(address)
        if split:
            n3, n4 = split
            if n3:
                s.append(_seg("N3", *n3))
            s.append(_seg("N4", *n4))
        if tax_id:
            s.append(_seg("REF", "EI", tax_id))
        for c in provider_claims:
            hl += 1
            # a patient loop (2000C) only when the patient is not the subscriber
            self_pay = c["relationship_code"] in (None, "18")
            s.append(_seg("HL", hl, parent, "22", "0" if self_pay else "1"))
            s.append(_seg("SBR", c["payer_responsibility"] or "P", "18" if c["relationship_code"] == "18" else "",
                          c["group_number"],
                          "", "", "", "", "", c["claim_filing_indicator"]))
            s.append(_seg("NM1", "IL", "1", c["subscriber_last_name"], c["subscriber_first_name"], "", "", "",
                          "MI" if c["subscriber_id"] else "", c["subscriber_id"]))
            if self_pay and (c["patient_birth_date"] or c["patient_sex"]):
                s.append(_seg("DMG", "D8", _d8(c["patient_birth_date"]), c["patient_sex"]))
            s.append(_seg("NM1", "PR", "2", c["payer_name"], "", "", "", "", "PI" if c["payer_id"] else "", c["payer_id"]))
            if not self_pay:
                hl += 1
                s.append(_seg("HL", hl, hl - 1, "23", "0"))
                s.append(_seg("PAT", c["relationship_code"]))
                s.append(_seg("NM1", "QC", "1", c["patient_last_name"], c["patient_first_name"]))
                if c["patient_birth_date"] or c["patient_sex"]:
                    s.append(_seg("DMG", "D8", _d8(c["patient_birth_date"]), c["patient_sex"]))
            s.extend(_claim_segments(c, dx_by_claim.get(c["claim_id"], []), lines_by_claim.get(c["claim_id"], []),
                                     c["_frequency"], c["_original"], cob))
    s.append(_seg("SE", len(s) + 1, st02))
    return s


def _emit(out, text: str) -> None:
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(text.encode("utf-8"))
    elif isinstance(out, io.TextIOBase):
        out.write(text)
    else:
        out.write(text.encode("utf-8"))
