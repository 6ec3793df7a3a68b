"""Write claims of the normalized model as X12 5010 837P / 837I: corrected, replacement and
void claims that a clearinghouse accepts.

A claim read from an 837 is written **from its own segments**: the reader keeps the byte offset
of each claim's CLM, of its billing provider / subscriber / patient HL segments and of its
transaction's ISA, GS and ST (``x12_*_offset`` columns, ``lines.source_position``); the writer
copies those segments from the source file and patches only the elements whose model column
differs from what the segment says (CLM01/02/05, REF*F8/G1, HI, SV1/SV2 code, modifiers,
description, charge, unit basis, units, place of service, pointers, LIN/CTP). Every other
segment and element (addresses, contacts, PRV, REF, DMG, PWK, NTE, K3, CL1, provider loops,
2320/2330 loops, ...) survives exactly as sent. What the writer could not patch is caught by
reading the output back and comparing it with the model (a ``ReclaimError`` names the column),
so a change is never dropped silently.

Envelope and routing: ISA (sender, receiver, qualifiers, ISA15 usage...), GS and the 1000A/1000B
header come from the interchange and transaction each claim came in; ``sender``, ``receiver``
and ``usage`` override them only when given. Claims whose envelopes differ (another receiver,
another sender, test vs production) go into separate interchanges of the output; one ST/SE per
source transaction (split at 5,000 claims). Control numbers are new and unique in the file
(ISA13 from ``control_number``, GS06 and ST02 counted from 1), BHT03/04/05 and the ISA/GS dates
are the writing time; SE01, GE01 and IEA01 are counted; HL segments are renumbered from 1 per
transaction with their parent ids and child codes.

A replacement (frequency 7) or void (8) carries ``REF*F8`` with the payer's claim control number
(domain-facts §10.4: required when CLM05-3 is 7 or 8), taken from ``original_claim_numbers`` or
the claim's ``original_claim_number``; the writer refuses to write one without it. CLM05-3 is the
only CLM element a frequency change touches.

Claims without an X12 source (read from CSV, Excel or FHIR) are generated from the model
(``_generated``): one interchange from the ``sender``/``receiver`` given, with what the model
holds; what it cannot write is listed in ``WriteResult.gaps`` and docs/claim-files.md.

Claims are formatted one by one (a writer of corrected claims handles hundreds, not
millions); the checks before writing are columnar.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from ...errors import ReclaimError
from ..model import CLAIMS, DIAGNOSES, LINES, ClaimBatch
from .tokenizer import Delimiters, _guess_bare_st, parse_isa

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
    """The envelope keywords of :func:`write_837` from the settings, field by field: ``sender``
    from ``submitter_id/_name/_phone``, ``receiver`` from ``receiver_id/_name`` (a Party holding
    only the fields that are set: an unset one keeps the envelope the claims came with; None when
    none is set) and ``usage`` (ISA15) from ``x12_usage`` (None where unset: the input's ISA15)."""
    sender = Party(id=settings.submitter_id, name=settings.submitter_name, contact_phone=settings.submitter_phone) \
        if (settings.submitter_id or settings.submitter_name or settings.submitter_phone) else None
    receiver = Party(id=settings.receiver_id, name=settings.receiver_name) \
        if (settings.receiver_id or settings.receiver_name) else None
    return {"sender": sender, "receiver": receiver, "usage": settings.x12_usage or None}


def _merged(given: Party | None, default: Party | None) -> Party | None:
    """``given``'s fields where set, else ``default``'s (None when neither has an id)."""
    if given is None:
        return default
    if default is None:
        return given if given.id else None
    return Party(id=given.id or default.id, name=given.name or default.name,
                 contact_name=given.contact_name or default.contact_name,
                 contact_phone=given.contact_phone or default.contact_phone,
                 qualifier=given.qualifier if given.id else default.qualifier)


@dataclass(frozen=True)
class WriteResult:
    claims: int
    transactions: int
    groups: int
    segments: int  # all segments of the interchange, ISA..IEA
    interchange_control: str  # ISA13 of the first interchange
    #: TR3-required content the model does not hold, so the file lacks it (fix before sending)
    gaps: tuple[str, ...] = ()
    interchanges: int = 1
    #: claims written from their source segments (the rest were generated from the model)
    from_source: int = 0


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
    control_number: int | None = None,
    usage: str | None = None,
    created: _dt.datetime | None = None,
    newlines: bool = False,
    sources: Mapping[str, str | Path | bytes] | None = None,
) -> WriteResult:
    """Write the claims of ``batch`` (or only ``claim_ids``) as 837 interchanges to ``out``
    (a path, or a text/binary stream).

    ``frequency`` overrides CLM05-3 for every claim written: ``"7"`` replacement, ``"8"`` void.
    ``original_claim_numbers`` maps claim_id -> the payer's claim control number (835 CLP07)
    for REF*F8. ``sender``/``receiver``/``usage`` (ISA15 ``P``/``T``) override the envelope the
    claims came with (required for claims without one: CSV, Excel, FHIR). ``control_number`` is
    the first ISA13 (default: from the time, ``%j%H%M%S``). ``sources`` maps file_id -> the
    source file (path or bytes) when it is not at ``files.path`` (claims read from bytes).
    """
    if frequency is not None and frequency not in ("1", "7", "8"):
        raise ReclaimError(f"frequency must be 1 (original), 7 (replacement) or 8 (void), got {frequency!r}")
    now = created or _dt.datetime.now()
    if control_number is None:
        control_number = int(now.strftime("%j%H%M%S"))
    if not 0 < control_number < 10**9:
        raise ReclaimError(f"control_number must be 1..999999999, got {control_number}")
    if usage is not None and usage not in ("P", "T"):
        raise ReclaimError(f"usage (ISA15) must be P (production) or T (test), got {usage!r}")
    for party in (sender, receiver):
        if party is not None and any(ch in f"{party.id}{party.name}{party.contact_name}{party.contact_phone}"
                                     for ch in _DELIMITERS):
            raise ReclaimError(f"sender/receiver {party.id!r} holds an X12 delimiter")
    claims = batch["claims"]
    if claim_ids is not None:
        wanted = pa.array(list(claim_ids), pa.string())
        unknown = pc.filter(wanted, pc.invert(pc.is_in(wanted, value_set=claims["claim_id"])))
        if len(unknown):
            raise ReclaimError(f"claim id(s) not in the batch: {', '.join(unknown.to_pylist()[:5])}")
        claims = claims.filter(pc.is_in(claims["claim_id"], value_set=wanted))
    if not claims.num_rows:
        raise ReclaimError("no claims to write")
    originals = dict(original_claim_numbers or {})
    claim_rows = claims.to_pylist()
    missing_f8 = []
    for c in claim_rows:
        freq = frequency or c["frequency_code"] or "1"
        original = originals.get(c["claim_id"]) or c["original_claim_number"]
        if freq in ("7", "8") and not original:
            missing_f8.append(c["claim_id"])
        c["_frequency"], c["_original"] = freq, original if freq in ("7", "8") else c["original_claim_number"]
        c["_frequency_asked"] = frequency is not None
        if any(ch in (c["_original"] or "") for ch in _DELIMITERS):
            raise ReclaimError(f"original claim number of claim {c['claim_id']} holds an X12 delimiter")
    if missing_f8:
        raise ReclaimError(
            f"frequency 7/8 needs the payer's claim control number (REF*F8) for claim(s) {', '.join(missing_f8[:5])}",
            hint="pass original_claim_numbers (the ICN/DCN from the 835 CLP07) or fill original_claim_number")

    from_source = [c for c in claim_rows if c.get("x12_clm_offset") is not None]
    generated = [c for c in claim_rows if c.get("x12_clm_offset") is None]
    chunks: list[bytes] = []
    stats = {"claims": 0, "transactions": 0, "groups": 0, "segments": 0, "interchanges": 0}
    controls: list[str] = []
    gaps: list[str] = []
    if from_source:
        written = _SourceWriter(batch, sources, sender, receiver, usage, now, newlines).write(
            from_source, control_number, chunks, stats, controls)
        _verify(batch, written, b"".join(chunks))
        control_number = (control_number + stats["interchanges"] - 1) % (10**9 - 1) + 1
    if generated:
        text, gen_stats, gen_gaps = _generated(batch, claims.filter(pc.is_null(claims["x12_clm_offset"])), generated,
                                               sender=sender, receiver=receiver, usage=usage or "P",
                                               control_number=control_number, now=now, newlines=newlines)
        chunks.append(text.encode("utf-8"))
        for k, v in gen_stats.items():
            stats[k] += v
        controls.append(f"{control_number:09d}")
        gaps.extend(gen_gaps)
    _emit(out, b"".join(chunks))
    return WriteResult(claims=len(claim_rows), transactions=stats["transactions"], groups=stats["groups"],
                       segments=stats["segments"], interchange_control=controls[0], gaps=tuple(gaps),
                       interchanges=stats["interchanges"], from_source=len(from_source))


# --------------------------------------------------------------------------- from the source segments

#: segments that end a claim (2300 and its loops) or an HL loop
_LOOP_END = frozenset({"HL", "CLM", "SE", "GE", "IEA", "ST", "GS", "ISA"})
#: 2300 segments that come before its REF segments (TR3 order), and REF qualifiers in TR3 order
_BEFORE_REF = frozenset({"CLM", "DTP", "CL1", "PWK", "CN1", "AMT"})
_REF_ORDER_837P = ["4N", "F5", "EW", "9F", "G1", "F8", "X4", "9A", "9C", "LX", "D9", "EA", "P4", "1J"]
_REF_ORDER_837I = ["4N", "9F", "G1", "F8", "9A", "9C", "LX", "D9", "DD", "EA", "P4", "G4", "1J"]
#: segments after which a 2300 loop ends (2310 providers, 2320 other payers, 2400 lines)
_END_2300 = frozenset({"NM1", "SBR", "LX", "SV1", "SV2"})
#: segments after which a 2400 line's own segments end (2410 drug, 2420 providers, 2430, 2440)
_END_2400 = frozenset({"LIN", "NM1", "SVD", "LQ", "FRM"})
_NOT_WRITTEN = ("claim_id", "transaction_id", "file_id", "x12_clm_offset", "x12_billing_offset",
                "x12_subscriber_offset", "x12_patient_offset", "source_position")


class _Segment(list):
    """A segment's elements (element 0 is the id), with the byte offset it had in its source
    (None for a segment the writer adds)."""

    offset: int | None = None

    @classmethod
    def of(cls, elements, offset=None) -> "_Segment":
        seg = cls(elements)
        seg.offset = offset
        return seg

    def get(self, k: int) -> str:
        return self[k] if k < len(self) else ""

    def set(self, k: int, value: str) -> None:
        while len(self) <= k:
            self.append("")
        self[k] = value
        while len(self) > 2 and self[-1] == "":
            self.pop()


class _Source:
    """One source X12 file held in memory: its segments read on demand from byte offsets."""

    def __init__(self, data: bytes):
        self.data = data
        self._delimiters: dict = {}

    def delimiters(self, isa_offset: int | None, st_offset: int) -> Delimiters:
        key = isa_offset if isa_offset is not None else ("ST", st_offset)
        if key not in self._delimiters:
            self._delimiters[key] = parse_isa(self.data, isa_offset)[0] if isa_offset is not None else \
                _guess_bare_st(self.data, st_offset)
        return self._delimiters[key]

    def segments(self, offset: int, d: Delimiters, stop: frozenset = _LOOP_END, one: bool = False) -> list[_Segment]:
        """The segment at ``offset`` and those after it, up to the first whose id is in ``stop``
        (the reader's CR/LF handling: line breaks anywhere are not part of the segment)."""
        data, term = self.data, d.segment.encode("latin-1")
        strip = b"\r\n" if term not in (b"\n", b"\r") else (b"\r" if term == b"\n" else b"\n")
        out: list[_Segment] = []
        pos, n = offset, len(data)
        while pos < n:
            end = data.find(term, pos)
            if end < 0:
                end = n
            raw = data[pos:end]
            lead = len(raw) - len(raw.lstrip(strip))
            text = raw.translate(None, strip).decode("latin-1")
            pos = end + 1
            if not text.strip(" \t\x00"):
                continue
            elements = text.split(d.element)
            seg_id = elements[0] = elements[0].strip(" \t\x00")  # indentation is layout, like line breaks
            if out and seg_id in stop:
                break
            out.append(_Segment.of(elements, end - len(raw) + lead))
            if one:
                break
        return out


def _open_sources(batch: ClaimBatch, file_ids: set[str], sources) -> dict[str, _Source]:
    files = {r["file_id"]: r for r in batch["files"].to_pylist()}
    out = {}
    for fid in sorted(file_ids):
        given = (sources or {}).get(fid)
        row = files.get(fid) or {}
        if isinstance(given, (bytes, bytearray, memoryview)):
            data = bytes(given)
        else:
            path = Path(given) if given is not None else (Path(row["path"]) if row.get("path") not in (None, "<bytes>") else None)
            if path is None or not path.is_file():
                where = f"at {path}" if path is not None else "(the claims were read from bytes)"
                raise ReclaimError(
                    f"the 837 the claims were read from is not available {where}: corrected claims are written "
                    "from the original segments", hint="read the claims from the file again, or pass "
                    "sources={file_id: path or bytes} to write_837")
            data = path.read_bytes()
        if row.get("sha256") and hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise ReclaimError(f"the 837 {row.get('path')} changed since its claims were read (sha256 differs)",
                               hint="read the claims from the file again, then write them")
        out[fid] = _Source(data)
    return out


@dataclass
class _Entry:
    """One claim to write: its source HL loops and its (patched) claim segments."""

    claim: dict
    billing: int
    subscriber: int
    patient: int | None
    hl: dict  # source offset -> segments of that HL loop
    segments: list


class _SourceWriter:
    def __init__(self, batch, sources, sender, receiver, usage, now, newlines):
        self.batch, self.sources_arg = batch, sources
        self.sender, self.receiver, self.usage, self.now = sender, receiver, usage, now
        self.newlines = newlines

    def write(self, claim_rows: list[dict], control_number: int, chunks: list, stats: dict, controls: list) -> list[dict]:
        """Append the interchanges to ``chunks``; the claims in the order written."""
        batch = self.batch
        sources = _open_sources(batch, {c["file_id"] for c in claim_rows}, self.sources_arg)
        # source HLs with a child HL in the source (keys: (file, offset)); their HL04 is 0 when
        # none of their children is written
        every = batch["claims"].select(["file_id", "x12_billing_offset", "x12_subscriber_offset", "x12_patient_offset"])
        self.had_children = set()
        for r in every.to_pylist():
            self.had_children.add((r["file_id"], r["x12_billing_offset"]))
            if r["x12_patient_offset"] is not None:
                self.had_children.add((r["file_id"], r["x12_subscriber_offset"]))
        txns = {r["transaction_id"]: r for r in batch["transactions"].filter(pc.is_in(
            batch["transactions"]["transaction_id"], value_set=pa.array({c["transaction_id"] for c in claim_rows}))).to_pylist()}
        ids = pa.array([c["claim_id"] for c in claim_rows], pa.string())
        lines_by_pos: dict[tuple, dict] = {}
        for r in batch["lines"].filter(pc.is_in(batch["lines"]["claim_id"], value_set=ids)).to_pylist():
            lines_by_pos[(r["claim_id"], r["source_position"])] = r
        dx_by_claim: dict[str, list[dict]] = {}
        for r in batch["diagnoses"].filter(pc.is_in(batch["diagnoses"]["claim_id"], value_set=ids)).to_pylist():
            dx_by_claim.setdefault(r["claim_id"], []).append(r)
        file_order = {fid: i for i, fid in enumerate(batch["files"]["file_id"].to_pylist())}
        claim_rows = sorted(claim_rows, key=lambda c: (file_order.get(c["file_id"], len(file_order)), c["file_id"],
                                                       c["x12_clm_offset"]))
        # interchange key -> (ISA, delimiters, {group key -> (GS, {transaction -> (header, [entries])})})
        interchanges: dict = {}
        for c in claim_rows:
            t = txns.get(c["transaction_id"])
            if t is None or t["x12_st_offset"] is None:
                raise ReclaimError(f"claim {c['claim_id']}: its transaction is not in the batch (the 837 writer copies "
                                   "the envelope from it)")
            src = sources[c["file_id"]]
            d = src.delimiters(t["x12_isa_offset"], t["x12_st_offset"])
            isa, gs = self._envelope(src, d, t)
            isa_key = (tuple(v for k, v in enumerate(isa) if k not in (9, 10, 13)), d)
            gs_key = tuple(gs.get(k) for k in (1, 2, 3, 7, 8))
            groups = interchanges.setdefault(isa_key, (isa, d, {}))[2]
            transactions = groups.setdefault(gs_key, (gs, {}))[1]
            txn_key = (c["file_id"], t["x12_st_offset"])
            if txn_key not in transactions:
                transactions[txn_key] = (self._header(src, d, t), [])
            hl = {}
            for off in (c["x12_billing_offset"], c["x12_subscriber_offset"], c["x12_patient_offset"]):
                if off is not None:
                    hl[off] = src.segments(off, d)
            if c["x12_billing_offset"] is None or c["x12_subscriber_offset"] is None:
                raise ReclaimError(f"claim {c['claim_id']} has no billing provider / subscriber HL in its source")
            segs = src.segments(c["x12_clm_offset"], d)
            segs = _patch_claim(segs, c, lines_by_pos, dx_by_claim.get(c["claim_id"], []), d)
            transactions[txn_key][1].append(_Entry(c, c["x12_billing_offset"], c["x12_subscriber_offset"],
                                                   c["x12_patient_offset"], hl, segs))
        written: list[dict] = []
        gs06 = st02 = 0
        sep_after = "\n" if self.newlines else ""
        for isa, d, groups in interchanges.values():
            isa13 = f"{control_number:09d}"
            control_number = control_number % (10**9 - 1) + 1
            controls.append(isa13)
            out_isa = _Segment.of(isa)
            out_isa.set(9, self.now.strftime("%y%m%d"))
            out_isa.set(10, self.now.strftime("%H%M"))
            out_isa.set(13, isa13)
            segments = [out_isa]
            for gs, transactions in groups.values():
                gs06 += 1
                out_gs = _Segment.of(gs)
                out_gs.set(4, self.now.strftime("%Y%m%d"))
                out_gs.set(5, self.now.strftime("%H%M"))
                out_gs.set(6, str(gs06))
                segments.append(out_gs)
                n_st = 0
                for header, entries in transactions.values():
                    for start in range(0, len(entries), MAX_CLAIMS_PER_TRANSACTION):
                        st02 += 1
                        n_st += 1
                        chunk = entries[start:start + MAX_CLAIMS_PER_TRANSACTION]
                        segments.extend(self._transaction(header, chunk, f"{st02:04d}", isa13))
                        written.extend(e.claim for e in chunk)
                        stats["transactions"] += 1
                segments.append(_Segment.of(["GE", str(n_st), str(gs06)]))
                stats["groups"] += 1
            segments.append(_Segment.of(["IEA", str(len(groups)), isa13]))
            stats["interchanges"] += 1
            stats["segments"] += len(segments)
            term = d.segment + sep_after
            text = term.join(d.element.join(seg) for seg in segments) + term
            chunks.append(text.encode("latin-1", errors="replace"))
        stats["claims"] += len(written)
        return written

    def _envelope(self, src: _Source, d: Delimiters, t: dict) -> tuple[list, _Segment]:
        """The source's ISA and GS with the explicit overrides (sender, receiver, usage)."""
        if t["x12_isa_offset"] is not None and t["x12_gs_offset"] is not None:
            isa = src.segments(t["x12_isa_offset"], d, one=True)[0]
            gs = src.segments(t["x12_gs_offset"], d, one=True)[0]
        else:  # a bare ST file: the envelope must come from the settings
            if not (self.sender and self.sender.id and self.receiver and self.receiver.id):
                raise ReclaimError("the claims' 837 has no ISA/GS envelope: sender and receiver are unknown",
                                   hint="set submitter_id, submitter_name, receiver_id and receiver_name in reclaim.toml")
            isa = _Segment.of(["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "", "ZZ", "", "", "", d.repetition or REPETITION,
                               "00501", "", "0", "P", d.component])
            gs = _Segment.of(["GS", "HC", "", "", "", "", "", "X", t["implementation"] or IMPLEMENTATIONS["professional"]])
        isa, gs = _Segment.of(list(isa)), _Segment.of(list(gs))
        if self.sender is not None and self.sender.id:
            isa.set(5, self.sender.qualifier)
            isa.set(6, self.sender.id[:15].ljust(15))
            gs.set(2, self.sender.id)
        if self.receiver is not None and self.receiver.id:
            isa.set(7, self.receiver.qualifier)
            isa.set(8, self.receiver.id[:15].ljust(15))
            gs.set(3, self.receiver.id)
        if self.usage is not None:
            isa.set(15, self.usage)
        return isa, gs

    def _header(self, src: _Source, d: Delimiters, t: dict) -> list[_Segment]:
        """ST, BHT and the 1000A/1000B loops of the source transaction (up to its first HL),
        with the submitter / receiver overrides."""
        header = [_Segment.of(list(s)) for s in src.segments(t["x12_st_offset"], d)]
        sender, receiver = self.sender, self.receiver
        for seg in header:  # each field the settings set; the source's for the others
            if seg[0] == "NM1" and seg.get(1) == "41" and sender is not None:
                if sender.name:
                    seg.set(3, sender.name)
                if sender.id:
                    seg.set(8, "46")
                    seg.set(9, sender.id)
            elif seg[0] == "PER" and sender is not None and sender.contact_phone:
                seg[1:] = ["IC", sender.contact_name or seg.get(2), "TE", sender.contact_phone]
            elif seg[0] == "NM1" and seg.get(1) == "40" and receiver is not None:
                if receiver.name:
                    seg.set(3, receiver.name)
                if receiver.id:
                    seg.set(8, "46")
                    seg.set(9, receiver.id)
        return header

    def _transaction(self, header: list, entries: list[_Entry], st02: str, isa13: str) -> list[_Segment]:
        now = self.now
        out: list[_Segment] = []
        for seg in header:
            seg = _Segment.of(list(seg))
            if seg[0] == "ST":
                seg.set(2, st02)
            elif seg[0] == "BHT":
                seg.set(3, f"{isa13}{st02}")
                seg.set(4, now.strftime("%Y%m%d"))
                seg.set(5, now.strftime("%H%M"))
            out.append(seg)
        hls: list[_Segment] = []
        number = 0
        open_billing = open_subscriber = open_patient = None  # (source offset, HL number written)

        hl_sources: list[tuple] = []  # (file, offset) of each HL written

        def emit_hl(loop: list, parent: str, file_id: str) -> str:
            nonlocal number
            number += 1
            first = _Segment.of(list(loop[0]))
            first.set(1, str(number))
            first.set(2, parent)
            hls.append(first)
            hl_sources.append((file_id, loop[0].offset))
            out.append(first)
            out.extend(loop[1:])
            return str(number)

        for e in entries:
            if open_billing is None or open_billing[0] != e.billing:
                open_billing = (e.billing, emit_hl(e.hl[e.billing], "", e.claim["file_id"]))
                open_subscriber = open_patient = None
            if open_subscriber is None or open_subscriber[0] != e.subscriber or (
                    e.patient is None and open_patient is not None):
                open_subscriber = (e.subscriber, emit_hl(e.hl[e.subscriber], open_billing[1], e.claim["file_id"]))
                open_patient = None
            if e.patient is not None and (open_patient is None or open_patient[0] != e.patient):
                open_patient = (e.patient, emit_hl(e.hl[e.patient], open_subscriber[1], e.claim["file_id"]))
            out.extend(e.segments)
        parents = {h.get(2) for h in hls}
        for h, source in zip(hls, hl_sources):
            # HL04: 1 when a child HL follows; 0 when none does although the source had one (its
            # claims are not written); else as the source says
            if h[1] in parents:
                h.set(4, "1")
            elif source in self.had_children:
                h.set(4, "0")
        out.append(_Segment.of(["SE", str(len(out) + 1), st02]))
        return out


# --------------------------------------------------------------------------- patches


def _blank(value) -> str:
    return "" if value is None else str(value)


def _same_text(text: str, value) -> bool:
    return (text or None) == (value if value != "" else None)


def _same_number(text: str, value) -> bool:
    if value is None or not text:
        return value is None and not text
    try:
        return Decimal(text) == Decimal(value)
    except ArithmeticError:
        return False


def _safe(value: str, forbidden: str) -> str:
    if forbidden and any(ch in value for ch in forbidden):
        raise ReclaimError(f"a corrected value holds an X12 delimiter of its file ({' '.join(forbidden)}): it cannot "
                           "be written without changing it", hint="fix the value (codes and numbers hold no delimiters)")
    return value


def _patch_composite(element: str, comp: str, wanted: dict[int, object], forbidden: str = "") -> str:
    """``element`` with components ``wanted`` (0-based) set, only where they differ."""
    parts = element.split(comp) if element else []
    changed = False
    for j, value in wanted.items():
        current = parts[j] if j < len(parts) else ""
        if _same_text(current, value if not isinstance(value, int) else str(value)):
            continue
        while len(parts) <= j:
            parts.append("")
        parts[j] = _safe(_blank(value), forbidden)
        changed = True
    if not changed:
        return element
    while parts and parts[-1] == "":
        parts.pop()
    return comp.join(parts)


def _set_element(seg: _Segment, k: int, value, number: bool = False, forbidden: str = "") -> None:
    current = seg.get(k)
    same = _same_number(current, value) if number else _same_text(current, value)
    if not same:
        seg.set(k, _safe(_fmt(value) if number else _blank(value), forbidden))


def _patch_claim(segs: list[_Segment], c: dict, lines_by_pos: dict, dx_rows: list[dict], d: Delimiters) -> list[_Segment]:
    """The claim's source segments with the model's changed columns written into them."""
    comp, bad = d.component, d.element + d.component + d.segment + (d.repetition or "")
    segs = [_Segment.of(list(s), s.offset) for s in segs]
    institutional = c["claim_type"] == "institutional"
    clm = segs[0]
    _set_element(clm, 1, c["patient_control_number"], forbidden=bad)
    _set_element(clm, 2, c["total_charge"], number=True, forbidden=bad)
    clm05 = {0: c["facility_type_code"] if institutional else c["place_of_service"]}
    if c["_frequency_asked"] or c["frequency_code"] is not None:  # a source without CLM05-3 keeps none
        clm05[2] = c["_frequency"]
    clm.set(5, _patch_composite(clm.get(5), comp, clm05, bad))
    end = next((i for i, s in enumerate(segs) if i and s[0] in _END_2300), len(segs))
    order = _REF_ORDER_837I if institutional else _REF_ORDER_837P
    end = _set_ref(segs, end, "F8", c["_original"], order, bad)
    end = _set_ref(segs, end, "G1", c["prior_auth_number"], order, bad)
    anchors = [i for i, s in enumerate(segs) if s[0] == "LX" or (s[0] in ("SV1", "SV2") and segs[i - 1][0] != "LX")]
    # HI belongs in 2300; the reader also takes one sent after a 2310 provider loop
    _patch_hi(segs, end, anchors[0] if anchors else len(segs), dx_rows, not institutional, comp, bad)
    anchors = [i for i, s in enumerate(segs) if s[0] == "LX" or (s[0] in ("SV1", "SV2") and segs[i - 1][0] != "LX")]
    for j in reversed(range(len(anchors))):  # from the last line: inserts do not move the ones before
        start, stop = anchors[j], (anchors[j + 1] if j + 1 < len(anchors) else len(segs))
        line = lines_by_pos.get((c["claim_id"], segs[start].offset))
        if line is not None:
            _patch_line(segs, start, stop, line, institutional, comp, bad)
    return segs


def _set_ref(segs: list[_Segment], end: int, qualifier: str, value, order: list[str], bad: str) -> int:
    """Set (or add, or remove) the 2300 REF with ``qualifier``; returns the new end of 2300."""
    at = next((i for i in range(1, end) if segs[i][0] == "REF" and segs[i].get(1) == qualifier), None)
    if at is not None:
        if value:
            _set_element(segs[at], 2, value, forbidden=bad)
        else:
            del segs[at]
            end -= 1
        return end
    if not value:
        return end
    rank = order.index(qualifier) if qualifier in order else len(order)
    insert = 1
    for i in range(1, end):
        s = segs[i]
        ref_before = s[0] == "REF" and (order.index(s.get(1)) if s.get(1) in order else len(order)) < rank
        if s[0] in _BEFORE_REF or ref_before:
            insert = i + 1
    segs.insert(insert, _Segment.of(["REF", qualifier, _safe(value, bad)]))
    return end + 1


def _hi_rows(segs: list[_Segment], at: list[int], comp: str) -> list[tuple]:
    """(category, qualifier, code, date, amount, poa, (segment, element)) of the HI segments at
    ``at``, read as the reader reads them (empty elements and elements without a code skipped)."""
    from .reader837 import HI_CATEGORY

    rows = []
    for i in at:
        for k, element in enumerate(segs[i][1:], 1):
            parts = element.split(comp) + [""] * 9
            if not element or not parts[1]:
                continue
            date = _dt.datetime.strptime(parts[3], "%Y%m%d").date() if parts[2] == "D8" and parts[3] else None
            amount = Decimal(parts[4]) if parts[4] else None
            rows.append((HI_CATEGORY.get(parts[0], "other"), parts[0], parts[1].upper().replace(".", ""), date, amount,
                         parts[8] or None, (i, k)))
    return rows


def _patch_hi(segs: list[_Segment], end: int, search_end: int, dx_rows: list[dict], professional: bool,
              comp: str, bad: str) -> None:
    """Write the model's diagnoses into the claim's HI segments (those before ``search_end``:
    2300, or out of order after a 2310 loop): element by element where each category has as
    many codes as the source, else all HI segments anew at the first one's place (or at the end
    of 2300, ``end``)."""
    at = [i for i in range(1, search_end) if segs[i][0] == "HI"]
    try:
        source = _by_category(_hi_rows(segs, at, comp))
    except (ValueError, ArithmeticError):
        source = None  # unreadable HI: the reader reported it; rewritten only if the model has rows
    model = sorted(dx_rows, key=lambda d: (d["category"] or "", d["position"] or 0))
    wanted = _by_category([(d["category"], d["qualifier"], d["code"], d["date"], d["amount"],
                            d["present_on_admission"], None) for d in model])
    if source is None and not dx_rows:
        return
    if source is not None and {k: len(v) for k, v in source.items()} == {k: len(v) for k, v in wanted.items()}:
        for category, rows in wanted.items():
            for have, want in zip(source[category], rows):
                if have[:5] == want[:5]:
                    continue
                i, k = have[5]
                change: dict[int, object] = {}
                if want[0] != have[0]:
                    change[0] = want[0]
                if want[1] != have[1]:
                    change[1] = want[1]
                if want[2] != have[2]:
                    change.update({2: "D8" if want[2] else None, 3: _d8(want[2]) if want[2] else None})
                if want[3] != have[3]:
                    change[4] = _fmt(want[3]) if want[3] is not None else None
                if want[4] != have[4]:
                    change[8] = want[4]
                segs[i].set(k, _patch_composite(segs[i][k], comp, change, bad))
        return
    new = [_Segment.of([_safe(v, bad.replace(comp, "")) for v in e]) for e in _hi_elements(model, professional, comp)]
    first = at[0] if at else next((i for i in range(1, end) if segs[i][0] == "HCP"), end)
    for i in reversed(at):
        del segs[i]
    segs[first:first] = new


def _by_category(rows: list[tuple]) -> dict:
    """category -> [(qualifier, code, date, amount, poa, where)] in file / position order."""
    out: dict = {}
    for r in rows:
        out.setdefault(r[0], []).append(r[1:])
    return out


def _hi_elements(dx_rows: list[dict], professional: bool, comp: str) -> list[list[str]]:
    """HI segments (as element lists) of the model's diagnosis rows, grouped like the generator's."""
    return [seg.split(ELEMENT) for seg in _hi_segments(dx_rows, professional)] if comp == COMPONENT else [
        [e.replace(COMPONENT, comp) for e in seg.split(ELEMENT)] for seg in _hi_segments(dx_rows, professional)]


def _patch_line(segs: list[_Segment], start: int, stop: int, line: dict, institutional: bool, comp: str,
                bad: str) -> None:
    sv_at = next((i for i in range(start, stop) if segs[i][0] in ("SV1", "SV2")), None)
    own_end = next((i for i in range(start + 1, stop) if segs[i][0] in _END_2400), stop)
    if sv_at is not None:
        sv = segs[sv_at]
        proc = {0: line["procedure_qualifier"], 1: line["procedure_code"], 2: line["modifier_1"],
                3: line["modifier_2"], 4: line["modifier_3"], 5: line["modifier_4"], 6: line["description"]}
        if sv[0] == "SV1":
            sv.set(1, _patch_composite(sv.get(1), comp, proc, bad))
            _set_element(sv, 2, line["charge"], number=True, forbidden=bad)
            _set_element(sv, 3, line["unit_basis"], forbidden=bad)
            _set_element(sv, 4, line["units"], number=True, forbidden=bad)
            _set_element(sv, 5, line["place_of_service"], forbidden=bad)
            pointers = {j: line[f"dx_pointer_{j + 1}"] for j in range(4)}
            current = [p for p in (sv.get(7).split(comp) if sv.get(7) else [])]
            if [int(p) if p.isdigit() else p for p in current if p] != [p for p in pointers.values() if p is not None]:
                sv.set(7, comp.join(str(p) for p in pointers.values() if p is not None))
        else:
            _set_element(sv, 1, line["revenue_code"], forbidden=bad)
            sv.set(2, _patch_composite(sv.get(2), comp, proc, bad))
            _set_element(sv, 3, line["charge"], number=True, forbidden=bad)
            _set_element(sv, 4, line["unit_basis"], forbidden=bad)
            _set_element(sv, 5, line["units"], number=True, forbidden=bad)
    lin_at = next((i for i in range(start, stop) if segs[i][0] == "LIN"), None)
    if lin_at is None and line["ndc"]:
        segs.insert(own_end, _Segment.of(["LIN", "", _safe(line["ndc_qualifier"] or "N4", bad), _safe(line["ndc"], bad)]))
        lin_at, stop = own_end, stop + 1
    elif lin_at is not None and not line["ndc"]:
        drop = [lin_at] + [i for i in range(lin_at + 1, stop) if segs[i][0] == "CTP"][:1]
        for i in reversed(drop):
            del segs[i]
        return
    if lin_at is None:
        return
    lin = segs[lin_at]
    _set_element(lin, 2, line["ndc_qualifier"] or lin.get(2), forbidden=bad)
    _set_element(lin, 3, line["ndc"], forbidden=bad)
    ctp_at = lin_at + 1 if lin_at + 1 < stop and segs[lin_at + 1][0] == "CTP" else None
    if ctp_at is None and line["ndc_quantity"] is not None:
        segs.insert(lin_at + 1, _Segment.of(["CTP", "", "", "", _fmt(line["ndc_quantity"]), _safe(_blank(line["ndc_unit"]), bad)]))
    elif ctp_at is not None:
        ctp = segs[ctp_at]
        _set_element(ctp, 4, line["ndc_quantity"], number=True, forbidden=bad)
        ctp.set(5, _patch_composite(ctp.get(5), comp, {0: line["ndc_unit"]}, bad))


def _verify(batch: ClaimBatch, written: list[dict], data: bytes) -> None:
    """Read the output back: every model column of the claims written must be what the batch
    says (with the frequency and REF*F8 asked for), else a change was not carried."""
    from .reader837 import read_837

    again = read_837(data)
    got = again["claims"].to_pylist()
    if len(got) != len(written):
        raise ReclaimError(f"the corrected 837 holds {len(got)} claims, {len(written)} were written (a bug: please report it)")
    wrong: dict[str, int] = {}

    def compare(table: str, expected: list[dict], actual: list[dict], names) -> None:
        if len(expected) != len(actual):
            wrong[f"{table} (count)"] = wrong.get(f"{table} (count)", 0) + 1
            return
        for e, a in zip(expected, actual):
            for name in names:
                if e.get(name) != a.get(name):
                    wrong[f"{table}.{name}"] = wrong.get(f"{table}.{name}", 0) + 1

    claim_names = [n for n in CLAIMS.names if n not in _NOT_WRITTEN]
    line_names = [n for n in LINES.names if n not in _NOT_WRITTEN]
    dx_names = [n for n in DIAGNOSES.names if n not in _NOT_WRITTEN]
    ids = pa.array([c["claim_id"] for c in written], pa.string())
    lines = _grouped(batch["lines"].filter(pc.is_in(batch["lines"]["claim_id"], value_set=ids)), "source_position")
    dx = _grouped(batch["diagnoses"].filter(pc.is_in(batch["diagnoses"]["claim_id"], value_set=ids)), None)
    lines_again, dx_again = _grouped(again["lines"], "source_position"), _grouped(again["diagnoses"], None)
    for c, g in zip(written, got):
        expected = dict(c, original_claim_number=c["_original"])
        if c["_frequency_asked"] or c["frequency_code"] is not None:
            expected["frequency_code"] = c["_frequency"]
            if c["claim_type"] == "institutional" and c["facility_type_code"]:
                expected["type_of_bill"] = c["facility_type_code"] + c["_frequency"]
        compare("claims", [expected], [g], claim_names)
        # an NDC a fix added is written as LIN*N4 (LIN02 is required; N4 is the NDC qualifier)
        want_lines = [dict(w, ndc_qualifier="N4") if w["ndc"] and not w["ndc_qualifier"] else w
                      for w in lines.get(c["claim_id"], [])]
        compare("lines", want_lines, lines_again.get(g["claim_id"], []), line_names)
        compare("diagnoses", dx.get(c["claim_id"], []), dx_again.get(g["claim_id"], []), dx_names)
    if wrong:
        raise ReclaimError(
            "the corrected 837 would not carry these changes of the model: "
            + ", ".join(f"{k} ({n} claim(s))" for k, n in sorted(wrong.items())),
            hint="the 837 writer patches CLM01/02/05, REF*F8/G1, HI, SV1/SV2, LIN and CTP; other changes "
                 "need the source file edited (docs/claim-files.md)")


def _grouped(table: pa.Table, order: str | None) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in table.to_pylist():
        out.setdefault(r["claim_id"], []).append(r)
    for rows in out.values():
        rows.sort(key=(lambda r: r[order] if r[order] is not None else -1) if order else
                  (lambda r: (r["category"] or "", r["position"] or 0)))
    return out


# --------------------------------------------------------------------------- generated from the model


def _generated(batch: ClaimBatch, claims: pa.Table, claim_rows: list[dict], *, sender, receiver, usage,
               control_number, now, newlines) -> tuple[str, dict, list[str]]:
    """One interchange generated from the model for claims without an X12 source."""
    ids = claims["claim_id"]
    lines = batch["lines"].filter(pc.is_in(batch["lines"]["claim_id"], value_set=ids))
    dx = batch["diagnoses"].filter(pc.is_in(batch["diagnoses"]["claim_id"], value_set=ids))
    _check_required(claims, lines)
    cob_tables = {name: batch[name].filter(pc.is_in(batch[name]["claim_id"], value_set=ids))
                  for name in ("other_payers", "line_adjudications", "other_payer_adjustments")}
    _check_delimiters({"claims": claims, "lines": lines, "diagnoses": dx, **cob_tables})
    cob = _Cob.of(cob_tables)

    default_sender, default_receiver = _default_parties(batch, claims)
    sender, receiver = _merged(sender, default_sender), _merged(receiver, default_receiver)
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
    stats = {"claims": len(claim_rows), "transactions": n_txn, "groups": n_groups, "segments": len(segments),
             "interchanges": 1}
    return text, stats, list(_gaps(claim_rows, sender, cob_tables["other_payers"]))


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


def _emit(out, data: bytes) -> None:
    if isinstance(out, (str, Path)):
        Path(out).write_bytes(data)
    elif isinstance(out, io.TextIOBase):
        out.write(data.decode("latin-1"))
    else:
        out.write(data)
