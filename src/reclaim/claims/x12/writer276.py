"""276 claim status request writer (005010X212): "what happened to these claims?".

Written for submitted claims that got no acknowledgment or stayed pended (``reclaim recover
--request-status-after DAYS``, :func:`reclaim.recovery.acks.write_status_requests`). One
interchange, one HR group, one transaction; an HL tree per payer and billing provider:

    HL 20 information source   NM1*PR (payer: 2010BB NM103/NM109 of the 837)
    HL 21 information receiver NM1*41 (the submitter: 1000A of the 837)
    HL 19 service provider     NM1*1P (billing provider NPI: 2010AA)
    HL 22 subscriber           DMG (when the subscriber is the patient), NM1*IL (2010BA)
    HL 23 dependent            DMG, NM1*QC (2010CA), when the patient is not the subscriber
      2200D/E TRN*1 (trace = CLM01, echoed in the 277's TRN02), REF*BLT (837I type of bill),
      REF*EJ (CLM01), AMT*T3 (CLM02), DTP*472 (the claim's service dates)

The envelope (ISA06/ISA08, GS02/GS03) is the one the claims were sent with (the 837's
sender and receiver), unless ``sender`` / ``receiver`` are given; claims sent to different
receivers go in one interchange each (control numbers ``control``, ``control + 1``...). A claim without payer id,
billing NPI, subscriber id or service date cannot be asked about: it is left out and listed in
the result's ``skipped`` (by CLM01, which the user holds).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

ELEMENT, COMPONENT, TERMINATOR = "*", ":", "~"
VERSION = "005010X212"


@dataclass
class StatusRequestResult:
    path: Path | None  # None when no claim could be asked about
    claims: int
    segments: int
    interchange_control: str
    #: (CLM01, what is missing) of the claims left out
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _seg(*elements) -> str:
    parts = ["" if e is None else str(e) for e in elements]
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return ELEMENT.join(parts)


def _clean(text) -> str:
    """Element text without the delimiters (a name with '*' would break the file)."""
    if text is None:
        return ""
    return str(text).translate({ord(c): " " for c in (ELEMENT, COMPONENT, TERMINATOR, "^")}).strip()


def _money(value) -> str:
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def _name(full: str | None) -> tuple[str, str, str]:
    """(NM102, NM103, NM104) from the model's ``LAST, FIRST`` (person) or organization name."""
    text = _clean(full)
    if ", " in (full or ""):
        last, first = full.split(", ", 1)
        return "1", _clean(last), _clean(first)
    return "2", text, ""


def write_276(tables: dict[str, pa.Table], out: str | Path, *, sender: str | None = None,
              receiver: str | None = None, usage: str | None = "P", control: int = 1,
              now: dt.datetime | None = None) -> StatusRequestResult:
    """A 276 asking about every claim of ``tables["claims"]`` (with ``lines`` for the service
    dates and ``transactions`` for the envelope and the 1000A submitter)."""
    usage = usage or "P"  # unset (the x12_usage setting's default): production
    if usage not in ("P", "T"):
        raise ValueError("usage (ISA15) must be P or T")
    now = now or dt.datetime.now()
    claims = tables["claims"].to_pylist()
    txns = {t["transaction_id"]: t for t in tables["transactions"].to_pylist()}
    dates: dict[str, list] = defaultdict(list)
    for line in tables["lines"].select(["claim_id", "service_date", "service_date_to"]).to_pylist():
        if line["service_date"]:
            dates[line["claim_id"]] += [line["service_date"], line["service_date_to"] or line["service_date"]]
    skipped, usable = [], []
    for c in claims:
        missing = [what for what, value in (("payer id", c["payer_id"]), ("billing provider NPI", c["billing_npi"]),
                                            ("subscriber id", c["subscriber_id"]),
                                            ("service date", c["statement_from"] or dates.get(c["claim_id"])))
                   if not value]
        if missing:
            skipped.append((c["patient_control_number"], ", ".join(missing)))
        else:
            usable.append(c)
    # one interchange per sender/receiver pair: a 276 goes where its claims went
    by_envelope: dict[tuple[str, str], list] = defaultdict(list)
    for c in usable:
        txn = txns.get(c["transaction_id"], {})
        pair = (_clean(sender or txn.get("sender_id") or ""), _clean(receiver or txn.get("receiver_id") or ""))
        if not all(pair):
            skipped.append((c["patient_control_number"], "interchange sender/receiver (give sender= and receiver=)"))
            continue
        by_envelope[pair].append(c)
    segments: list[str] = []
    claims_written = 0
    for n, ((isa_sender, isa_receiver), members) in enumerate(by_envelope.items()):
        segments += _interchange(members, txns, dates, isa_sender, isa_receiver, int(control) + n, usage, now)
        claims_written += len(members)
    out = Path(out)
    if not segments:  # nothing to ask about: no file (an empty 276 is not a valid transaction)
        return StatusRequestResult(None, 0, 0, f"{int(control):09d}", skipped)
    out.write_text(TERMINATOR.join(segments) + TERMINATOR + "\n", encoding="ascii", errors="replace")
    return StatusRequestResult(out, claims_written, len(segments), f"{int(control):09d}", skipped)


def _interchange(usable, txns, dates, isa_sender, isa_receiver, control, usage, now) -> list[str]:
    ctl = f"{int(control):09d}"
    body = [_seg("ST", "276", "0001", VERSION),
            _seg("BHT", "0010", "13", f"RECLAIM{ctl}", now.strftime("%Y%m%d"), now.strftime("%H%M"))]
    groups: dict[tuple, list] = defaultdict(list)
    for c in usable:
        groups[(c["payer_id"], c["payer_name"], c["billing_npi"], c["billing_name"], c["transaction_id"])].append(c)
    hl = 0
    for (payer_id, payer_name, npi, billing_name, txn_id), members in groups.items():
        txn = txns.get(txn_id, {})
        hl += 1
        source = hl
        body += [_seg("HL", hl, "", "20", "1"), _seg("NM1", "PR", "2", _clean(payer_name) or "PAYER", "", "", "", "",
                                                      "PI", _clean(payer_id))]
        hl += 1
        receiver_hl = hl
        body += [_seg("HL", hl, source, "21", "1"),
                 _seg("NM1", "41", "2", _clean(txn.get("submitter_name")) or isa_sender, "", "", "", "", "46",
                      _clean(txn.get("submitter_id")) or isa_sender)]
        hl += 1
        provider_hl = hl
        q, last, first = _name(billing_name)
        body += [_seg("HL", hl, receiver_hl, "19", "1"), _seg("NM1", "1P", q, last or "PROVIDER", first, "", "", "",
                                                               "XX", _clean(npi))]
        for c in members:
            body += _claim(c, dates, hl + 1, provider_hl)
            hl += 2 if _is_dependent(c) else 1
    body.append(_seg("SE", len(body) + 1, "0001"))
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{isa_sender[:15]:<15}*ZZ*{isa_receiver[:15]:<15}*{now:%y%m%d}*{now:%H%M}"
           f"*^*00501*{ctl}*0*{usage}*{COMPONENT}")
    return [isa, _seg("GS", "HR", isa_sender, isa_receiver, now.strftime("%Y%m%d"), now.strftime("%H%M"),
                      int(control), "X", VERSION)] + body + [_seg("GE", "1", int(control)), _seg("IEA", "1", ctl)]


def _is_dependent(c: dict) -> bool:
    return bool(c["patient_last_name"]) and (c["relationship_code"] or "18") != "18"


def _claim(c: dict, dates, hl: int, provider_hl: int) -> list[str]:
    """HL 22 (and HL 23 for a dependent) with the claim's 2200D/E segments."""
    dependent = _is_dependent(c)
    out = [_seg("HL", hl, provider_hl, "22", "1" if dependent else "0")]
    if not dependent and c["patient_birth_date"]:
        out.append(_seg("DMG", "D8", c["patient_birth_date"].strftime("%Y%m%d"), _clean(c["patient_sex"])))
    out.append(_seg("NM1", "IL", "1", _clean(c["subscriber_last_name"]) or "UNKNOWN",
                    _clean(c["subscriber_first_name"]), "", "", "", "MI", _clean(c["subscriber_id"])))
    if dependent:
        out.append(_seg("HL", hl + 1, hl, "23"))
        if c["patient_birth_date"]:
            out.append(_seg("DMG", "D8", c["patient_birth_date"].strftime("%Y%m%d"), _clean(c["patient_sex"])))
        out.append(_seg("NM1", "QC", "1", _clean(c["patient_last_name"]), _clean(c["patient_first_name"])))
    pcn = _clean(c["patient_control_number"])
    out.append(_seg("TRN", "1", pcn))
    if c.get("type_of_bill"):
        out.append(_seg("REF", "BLT", _clean(c["type_of_bill"])))
    out.append(_seg("REF", "EJ", pcn))
    if c["total_charge"] is not None:
        out.append(_seg("AMT", "T3", _money(c["total_charge"])))
    span = [d for d in ([c["statement_from"], c["statement_to"]] if c["statement_from"] else dates[c["claim_id"]])
            if d]
    start, end = min(span), max(span)
    out.append(_seg("DTP", "472", "RD8", f"{start:%Y%m%d}-{end:%Y%m%d}") if end != start
               else _seg("DTP", "472", "D8", f"{start:%Y%m%d}"))
    return out
