"""FHIR R4 ``Claim`` and ``ExplanationOfBenefit`` resources into the normalized model.

Input: a Bundle (JSON), a single resource (JSON), or NDJSON (one resource per line, as a
FHIR bulk export writes them). Each Claim and EOB is validated with the R4B models of
``fhir.resources`` (R4B changed nothing in Claim/EOB from R4 4.0.1); a resource that fails
validation becomes ``read_issues`` rows naming its JSON path (``entry[3].resource.item[0].
sequence``) and is skipped, the others load. References to Patient, Organization,
Practitioner, Location and Coverage are resolved inside the Bundle (fullUrl or
``Type/id``), in ``contained`` (``#id``), or from a ``Reference.identifier``.

The mapping (CARIN Blue Button / Da Vinci conventions where the core spec is silent) is
documented field by field in ``docs/claim-files.md``. Highlights:

* HCPCS/CPT from ``item.productOrService`` codings with system
  ``https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets`` or ``http://www.ama-assn.org/go/cpt``;
* NDC (``http://hl7.org/fhir/sid/ndc``) from ``item.detail[].productOrService`` with the
  detail's quantity, or a second coding of ``item.productOrService``;
* EOB adjudication categories: ``submitted`` -> charge, ``benefit`` / ``paidtoprovider`` -> paid,
  ``eligible`` -> allowed, ``deductible`` / ``coinsurance`` / ``copay`` -> PR-1 / PR-2 / PR-3
  adjustments; ``denialreason`` and other categories whose ``reason`` is a CARC become
  adjustments with that CARC (group code null: FHIR does not carry one); RARCs -> remarks.

Resources are documents, not rows, so they are walked one by one; the tables are built
once at the end.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pydantic

from .csv import conform, ndc11
from .io import concat_issues, file_identity, files_table, make_issues
from .model import (
    ADJUSTMENTS, CLAIMS, DIAGNOSES, LINES, PAYMENTS, REMARKS, REMIT_CLAIMS, REMIT_LINES, TRANSACTIONS,
    ClaimBatch, RemitBatch,
)

__all__ = ["read_fhir", "SYSTEMS"]

#: code systems read (and the ones the writer of a FHIR export should use)
SYSTEMS = {
    "hcpcs": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "cpt": "http://www.ama-assn.org/go/cpt",
    "ndc": "http://hl7.org/fhir/sid/ndc",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "icd10": "http://hl7.org/fhir/sid/icd-10",
    "npi": "http://hl7.org/fhir/sid/us-npi",
    "tin": "urn:oid:2.16.840.1.113883.4.4",
    "pos": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
    "revenue": "https://www.nubc.org/CodeSystem/RevenueCodes",
    "carc": "https://x12.org/codes/claim-adjustment-reason-codes",
    "rarc": "https://x12.org/codes/remittance-advice-remark-codes",
}
_PROCEDURE_SYSTEMS = {SYSTEMS["hcpcs"], SYSTEMS["cpt"], "urn:oid:2.16.840.1.113883.6.285", "urn:oid:2.16.840.1.113883.6.12"}
_ICD_SYSTEMS = {SYSTEMS["icd10cm"], SYSTEMS["icd10"], "urn:oid:2.16.840.1.113883.6.90"}
# X12 837 relationship codes (SBR02) for FHIR subscriber-relationship codes
_RELATIONSHIP = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
_SEX = {"male": "M", "female": "F", "other": "U", "unknown": "U"}
# FHIR/UCUM quantity units -> 837 CTP05-1 (domain-facts §4.2: F2 IU, GR gram, ME mg, ML, UN)
_NDC_UNITS = {"ml": "ML", "g": "GR", "gr": "GR", "mg": "ME", "me": "ME", "[iu]": "F2", "iu": "F2", "f2": "F2",
              "un": "UN", "{unit}": "UN", "1": "UN", "{each}": "UN", "ea": "UN"}
# patient-responsibility categories -> CARC (1 deductible, 2 coinsurance, 3 copayment)
_PR_CARC = {"deductible": "1", "coinsurance": "2", "copay": "3"}
_PAID = ("benefit", "paidtoprovider")


def _models():
    from fhir.resources.R4B.claim import Claim
    from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit

    return {"Claim": Claim, "ExplanationOfBenefit": ExplanationOfBenefit}


# --------------------------------------------------------------------------- input


def _resources(path: Path, data: bytes, identity: dict, issues: list) -> Iterator[tuple[dict, str, int | None, str | None]]:
    """(resource dict, JSON path prefix, NDJSON line, Bundle fullUrl) for every resource."""
    text = data.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    docs: list[tuple[Any, int | None]] = []
    try:
        docs = [(json.loads(text), None)]
    except json.JSONDecodeError as whole_error:
        if stripped.startswith("{") and "\n" in stripped.strip():
            for lineno, line in enumerate(text.splitlines(), 1):  # NDJSON
                if not line.strip():
                    continue
                try:
                    docs.append((json.loads(line), lineno))
                except json.JSONDecodeError as exc:
                    issues.append(make_issues(identity, code="FHIR-JSON", line=lineno, skipped="line",
                                              message=f"not valid JSON at column {exc.colno}: {exc.msg}"))
        else:
            issues.append(make_issues(
                identity, code="FHIR-JSON", skipped="file", line=whole_error.lineno,
                message=f"not valid JSON at line {whole_error.lineno} column {whole_error.colno}: {whole_error.msg}"))
            return
    for doc, lineno in docs:
        if not isinstance(doc, dict) or "resourceType" not in doc:
            issues.append(make_issues(identity, code="FHIR-NOT-RESOURCE", line=lineno, skipped="line" if lineno else "file",
                                      message="expected a FHIR resource: a JSON object with resourceType"))
            continue
        if doc["resourceType"] == "Bundle":
            for i, entry in enumerate(doc.get("entry") or []):
                res = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(res, dict):
                    yield res, f"entry[{i}].resource", lineno, entry.get("fullUrl")
                else:
                    issues.append(make_issues(identity, code="FHIR-NOT-RESOURCE", line=lineno, column=f"entry[{i}]",
                                              skipped="nothing", message="Bundle entry without a resource"))
        else:
            yield doc, doc["resourceType"], lineno, None


def _loc(prefix: str, loc: tuple) -> str:
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# --------------------------------------------------------------------------- helpers


class _Refs:
    """Resolve references inside one file: Bundle fullUrl, Type/id, contained #id."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict] = {}

    def add(self, res: dict, full_url: str | None) -> None:
        rid = res.get("id")
        if rid:
            self.by_key[f"{res['resourceType']}/{rid}"] = res
        if full_url:
            self.by_key[full_url] = res

    def get(self, ref, owner) -> dict | None:
        if ref is None:
            return None
        target = getattr(ref, "reference", None)
        if target:
            if target.startswith("#"):
                for c in getattr(owner, "contained", None) or []:
                    if getattr(c, "id", None) == target[1:]:
                        return c.model_dump(mode="json")
                return None
            if target in self.by_key:
                return self.by_key[target]
            tail = "/".join(target.rstrip("/").split("/")[-2:])  # absolute URL -> Type/id
            return self.by_key.get(tail)
        ident = getattr(ref, "identifier", None)
        if ident is not None:  # a logical reference carries its identifier itself
            return {"identifier": [ident.model_dump(mode="json")], "name": getattr(ref, "display", None)}
        return None


def _codings(concept) -> list:
    return list(getattr(concept, "coding", None) or []) if concept is not None else []


def _code(concept, systems: set[str] | None = None) -> str | None:
    for c in _codings(concept):
        if c.code and (systems is None or c.system in systems):
            return c.code
    return None


def _has_code(concept, *codes: str) -> bool:
    return any((c.code or "").lower() in codes for c in _codings(concept))


def _identifier(res: dict | None, system: str | None = None, type_code: str | None = None) -> str | None:
    for ident in (res or {}).get("identifier") or []:
        if system and ident.get("system") != system:
            continue
        if type_code and not any(c.get("code") == type_code for c in (ident.get("type") or {}).get("coding") or []):
            continue
        if ident.get("value"):
            return ident["value"]
    return None


def _name(res: dict | None) -> tuple[str | None, str | None]:
    if not res:
        return None, None
    name = res.get("name")
    if isinstance(name, str):
        return name, None
    for n in name or []:
        given = n.get("given") or []
        return n.get("family"), (given[0] if given else None)
    return None, None


def _money(m) -> Decimal | None:
    return getattr(m, "value", None) if m is not None else None


def _period(item, date_attr: str, period_attr: str):
    d = getattr(item, date_attr, None)
    if d is not None:
        return _date(d), None
    p = getattr(item, period_attr, None)
    if p is None:
        return None, None
    return _date(p.start), _date(p.end)


def _date(value):
    """A date from a FHIR date/dateTime (model value or raw string); partial dates -> None."""
    import datetime as _dt

    if value is None or isinstance(value, _dt.datetime):
        return value.date() if value is not None else None
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _ident_of(ref_obj) -> str | None:
    ident = getattr(ref_obj, "identifier", None)
    return getattr(ident, "value", None) if ident is not None else None


def _claim_key(res, patient_account_first: bool = True) -> str | None:
    """CLM01 / CLP01: identifier typed 'pat' (CARIN patient account number), else the
    first identifier, else the resource id."""
    idents = list(res.identifier or [])
    for ident in idents:
        if _has_code(ident.type, "pat") and ident.value:
            return ident.value
    for ident in idents:
        if not _has_code(ident.type, "uc") and ident.value:
            return ident.value
    return res.id


def _unique_claim_id(res) -> str | None:
    for ident in res.identifier or []:
        if _has_code(ident.type, "uc") and ident.value:
            return ident.value
    return None


def _procedure(item) -> dict:
    """HCPCS/CPT code, modifiers, NDC of a Claim/EOB item."""
    pos = item.productOrService
    out: dict[str, Any] = {
        "procedure_code": (_code(pos, _PROCEDURE_SYSTEMS) or "").upper() or None,
        "procedure_qualifier": None,
        "description": getattr(pos, "text", None),
    }
    if out["procedure_code"]:
        out["procedure_qualifier"] = "HC"
    mods = [m for concept in (item.modifier or []) for m in [(_code(concept) or "").upper()] if m]
    for i in range(4):
        out[f"modifier_{i + 1}"] = mods[i] if i < len(mods) else None
    out["_extra_modifiers"] = len(mods) > 4
    return out


def _ndc(item) -> dict:
    """NDC from item.detail (with its quantity) or a second coding of productOrService."""
    for detail in getattr(item, "detail", None) or []:
        code = _code(detail.productOrService, {SYSTEMS["ndc"]})
        if code:
            q = detail.quantity
            unit = None
            if q is not None:
                unit = _NDC_UNITS.get((q.code or q.unit or "").lower(), (q.code or None))
            return {"ndc": code, "ndc_quantity": q.value if q is not None else None, "ndc_unit": unit}
    code = _code(item.productOrService, {SYSTEMS["ndc"]})
    return {"ndc": code, "ndc_quantity": None, "ndc_unit": None}


# --------------------------------------------------------------------------- Claim


def _claim_rows(claim, claim_id: str, refs: _Refs, ctx: dict, out: dict) -> None:
    file_id = ctx["file_id"]
    patient = refs.get(claim.patient, claim)
    provider = refs.get(claim.provider, claim)
    insurer = refs.get(claim.insurer, claim)
    facility = refs.get(claim.facility, claim)
    insurance = sorted(claim.insurance or [], key=lambda i: (not i.focal, i.sequence or 0))
    coverage = refs.get(insurance[0].coverage, claim) if insurance else None
    rendering = None
    for member in claim.careTeam or []:
        if _has_code(member.role, "rendering", "performing", "primary", "attending"):
            rendering = refs.get(member.provider, claim)
            break
    claim_type = "institutional" if _has_code(claim.type, "institutional") else (
        "professional" if _has_code(claim.type, "professional") else None)
    tob = admission = None
    for info in claim.supportingInfo or []:
        if _has_code(info.category, "typeofbill"):
            tob = _code(info.code)
        if _has_code(info.category, "admissionperiod") and info.timingPeriod is not None:
            admission = _date(info.timingPeriod.start)
    tob = tob[-3:] if tob else None
    original = None
    for rel in claim.related or []:
        if _has_code(rel.relationship, "prior") and rel.reference is not None:
            original = rel.reference.value
    last, first = _name(patient)
    pos_codes = [_code(item.locationCodeableConcept) for item in claim.item or []]
    start, end = _period(claim, "_none", "billablePeriod")
    sequence = insurance[0].sequence if insurance else None
    out["claims"].append({
        "claim_id": claim_id, "transaction_id": file_id, "file_id": file_id, "claim_type": claim_type,
        "patient_control_number": _claim_key(claim), "total_charge": _money(claim.total),
        # CLM05-1: the claim's place of service is the first line's (FHIR has it per item only)
        "place_of_service": next((p for p in pos_codes if p), None),
        "facility_type_code": tob[:2] if tob else None, "type_of_bill": tob,
        "frequency_code": tob[2] if tob else None,
        "original_claim_number": original,
        "prior_auth_number": next((p for i in insurance for p in (i.preAuthRef or [])), None),
        "referral_number": _ident_of(claim.referral),
        "statement_from": start, "statement_to": end, "admission_date": admission,
        "billing_npi": _identifier(provider, SYSTEMS["npi"]), "billing_name": _name(provider)[0],
        "billing_tax_id": _identifier(provider, SYSTEMS["tin"]),
        "rendering_npi": _identifier(rendering, SYSTEMS["npi"]), "facility_npi": _identifier(facility, SYSTEMS["npi"]),
        "payer_id": _identifier(insurer), "payer_name": _name(insurer)[0],
        "payer_responsibility": {1: "P", 2: "S", 3: "T"}.get(sequence),
        "group_number": next((c.get("value") for c in (coverage or {}).get("class") or []
                              if any(x.get("code") == "group" for x in (c.get("type") or {}).get("coding") or [])), None),
        "subscriber_id": (coverage or {}).get("subscriberId"),
        "relationship_code": next((_RELATIONSHIP.get(c.get("code")) for c in
                                   ((coverage or {}).get("relationship") or {}).get("coding") or []), None),
        "patient_id": _identifier(patient, type_code="MB") or _identifier(patient),
        "patient_last_name": last, "patient_first_name": first,
        "patient_birth_date": _date((patient or {}).get("birthDate")), "patient_sex": _SEX.get((patient or {}).get("gender")),
    })
    for dx in claim.diagnosis or []:
        code = _code(dx.diagnosisCodeableConcept, _ICD_SYSTEMS)
        if not code:
            ctx["issue"](code="FHIR-DIAGNOSIS", column=f"{ctx['prefix']}.diagnosis[{dx.sequence}]", severity="warning",
                         message="diagnosis without an ICD-10 coding (system http://hl7.org/fhir/sid/icd-10-cm): not loaded")
            continue
        principal = any(_has_code(t, "principal") for t in dx.type or []) or dx.sequence == 1
        out["diagnoses"].append({
            "claim_id": claim_id, "position": dx.sequence, "qualifier": "ABK" if principal else "ABF",
            "code": code.replace(".", "").upper(), "present_on_admission": (_code(dx.onAdmission) or "").upper() or None,
        })
    for idx, item in enumerate(claim.item or []):
        proc = _procedure(item)
        path = f"{ctx['prefix']}.item[{idx}]"
        if not proc["procedure_code"] and not _code(item.revenue):
            ctx["issue"](code="FHIR-PROCEDURE", column=f"{path}.productOrService", severity="warning",
                         message="no HCPCS/CPT coding (system https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets "
                                 "or http://www.ama-assn.org/go/cpt): procedure_code left empty")
        if proc.pop("_extra_modifiers"):
            ctx["issue"](code="FHIR-MODIFIERS", column=f"{path}.modifier", severity="warning",
                         message="more than 4 modifiers: the first 4 are kept (an 837 line carries 4)")
        served, served_to = _period(item, "servicedDate", "servicedPeriod")
        pointers = list(item.diagnosisSequence or [])[:4]
        ndc = _ndc(item)
        out["lines"].append({
            "claim_id": claim_id, "line_number": item.sequence, "service_date": served, "service_date_to": served_to,
            **proc, "revenue_code": _code(item.revenue), "charge": _money(item.net),
            "unit_basis": "UN" if item.quantity is not None else None,
            "units": item.quantity.value if item.quantity is not None else None,
            "place_of_service": _code(item.locationCodeableConcept),
            **{f"dx_pointer_{i + 1}": (pointers[i] if i < len(pointers) else None) for i in range(4)},
            "ndc_qualifier": "N4" if ndc["ndc"] else None, **ndc,
        })


# --------------------------------------------------------------------------- EOB


def _adjudication_rows(adjudications, remit_claim_id: str, line_index, charge, out: dict) -> tuple[Decimal | None, Decimal | None, Decimal]:
    """Adjustments and remarks of one item (or the claim); returns (paid, allowed, patient share)."""
    paid_by_category: dict[str, Decimal] = {}
    allowed = None
    patient = Decimal(0)
    adjusted = Decimal(0)
    denials = []
    for adj in adjudications or []:
        cat = next((c.code.lower() for c in _codings(adj.category) if c.code), "")
        amount = _money(adj.amount)
        reasons = _codings(adj.reason)
        carc = next((c.code for c in reasons if c.system == SYSTEMS["carc"] and c.code), None)
        for c in reasons:
            if c.system == SYSTEMS["rarc"] and c.code:
                out["remarks"].append({"remit_claim_id": remit_claim_id, "line_index": line_index,
                                       "source": "FHIR", "code": c.code})
        if cat in _PAID:
            paid_by_category[cat] = paid_by_category.get(cat, Decimal(0)) + (amount or Decimal(0))
        elif cat == "eligible":
            allowed = amount
        elif cat in _PR_CARC and amount:
            out["adjustments"].append({"remit_claim_id": remit_claim_id, "line_index": line_index, "group_code": "PR",
                                       "reason_code": carc or _PR_CARC[cat], "amount": amount})
            patient += amount
            adjusted += amount
        elif cat == "denialreason":
            denials.append(carc or _code(adj.reason))
        elif carc and amount:  # noncovered, discount...: a dollar amount explained by a CARC
            out["adjustments"].append({"remit_claim_id": remit_claim_id, "line_index": line_index, "group_code": None,
                                       "reason_code": carc, "amount": amount})
            adjusted += amount
    # SVC03 is what the provider is paid: 'paidtoprovider' (CARIN) when given, else 'benefit'
    paid = paid_by_category.get("paidtoprovider", paid_by_category.get("benefit"))
    if denials:
        # the denied dollars are what is left of the charge once paid and patient share are out
        rest = (charge or Decimal(0)) - (paid or Decimal(0)) - adjusted
        for i, reason in enumerate(denials):
            out["adjustments"].append({"remit_claim_id": remit_claim_id, "line_index": line_index, "group_code": None,
                                       "reason_code": reason, "amount": rest if (i == 0 and rest > 0) else Decimal(0)})
    return paid, allowed, patient


def _eob_rows(eob, remit_claim_id: str, refs: _Refs, ctx: dict, out: dict) -> None:
    file_id = ctx["file_id"]
    patient = refs.get(eob.patient, eob)
    insurer = refs.get(eob.insurer, eob)
    last, first = _name(patient)
    rendering = None
    for member in eob.careTeam or []:
        if _has_code(member.role, "rendering", "performing", "primary"):
            rendering = refs.get(member.provider, eob)
            break
    totals = {}
    for t in eob.total or []:
        cat = next((c.code.lower() for c in _codings(t.category) if c.code), "")
        totals[cat] = _money(t.amount)
    received = None
    for info in eob.supportingInfo or []:
        if _has_code(info.category, "clmrecvddate"):
            received = _date(info.timingDate)
    line_denied = []
    line_paid = Decimal(0)
    patient_lines = Decimal(0)
    for idx, item in enumerate(eob.item or [], 1):
        proc = _procedure(item)
        proc.pop("_extra_modifiers")
        submitted = None
        for adj in item.adjudication or []:
            if _has_code(adj.category, "submitted"):
                submitted = _money(adj.amount)
        charge = submitted if submitted is not None else _money(item.net)
        paid, allowed, pr = _adjudication_rows(item.adjudication, remit_claim_id, idx, charge, out)
        line_paid += paid or Decimal(0)
        patient_lines += pr
        line_denied.append(any(_has_code(a.category, "denialreason") for a in item.adjudication or []) and not paid)
        served, served_to = _period(item, "servicedDate", "servicedPeriod")
        out["remit_lines"].append({
            "remit_claim_id": remit_claim_id, "line_index": idx, "procedure_qualifier": proc["procedure_qualifier"],
            "procedure_code": proc["procedure_code"], **{f"modifier_{i}": proc[f"modifier_{i}"] for i in range(1, 5)},
            "charge": charge, "paid": paid, "revenue_code": _code(item.revenue),
            "units_paid": item.quantity.value if item.quantity is not None else None,
            "service_date": served, "service_date_to": served_to, "allowed_amount": allowed,
        })
    _, _, pr_claim = _adjudication_rows(eob.adjudication, remit_claim_id, None, None, out)
    paid = totals.get("benefit", totals.get("paidtoprovider"))
    if paid is None and eob.payment is not None:
        paid = _money(eob.payment.amount)
    if paid is None and eob.item:
        paid = line_paid
    patient_resp = totals.get("memberliability")
    if patient_resp is None:
        parts = [totals[k] for k in _PR_CARC if totals.get(k) is not None]
        patient_resp = sum(parts, Decimal(0)) if parts else (patient_lines + pr_claim if eob.item else None)
    insurance = sorted(eob.insurance or [], key=lambda i: not i.focal)
    # CLP02: denied (4) when nothing is paid and every line carries a denial reason, else
    # processed as primary/secondary/tertiary by the focal coverage's order (1/2/3)
    sequence = ctx["eob_sequence"](insurance)
    denied = bool(line_denied) and all(line_denied) and not paid
    start, end = _period(eob, "_none", "billablePeriod")
    out["remit_claims"].append({
        "remit_claim_id": remit_claim_id, "transaction_id": file_id, "file_id": file_id,
        "patient_control_number": _claim_key(eob) if not eob.claim or not _ident_of(eob.claim) else _ident_of(eob.claim),
        "claim_status": "4" if denied else (str(sequence) if sequence else None),
        "total_charge": totals.get("submitted"), "paid": paid, "patient_responsibility": patient_resp,
        "payer_claim_control_number": _unique_claim_id(eob),
        "patient_id": _identifier(patient, type_code="MB") or _identifier(patient),
        "patient_last_name": last, "patient_first_name": first,
        "rendering_npi": _identifier(rendering, SYSTEMS["npi"]),
        "statement_from": start, "statement_to": end, "received_date": received,
    })
    payment = eob.payment
    out["payments"].append({
        "amount": _money(payment.amount) if payment is not None else None,
        "date": _date(payment.date) if payment is not None else None,
        "trace": getattr(getattr(payment, "identifier", None), "value", None) if payment is not None else None,
        "payer_name": _name(insurer)[0], "payer_id": _identifier(insurer),
    })


# --------------------------------------------------------------------------- entry point


def read_fhir(path: Path | str) -> tuple[ClaimBatch, RemitBatch]:
    """Claims (from Claim resources) and remittances (from ExplanationOfBenefit resources)
    of one FHIR JSON or NDJSON file. Other resource types are used to resolve references."""
    path = Path(path)
    data = path.read_bytes()
    identity = file_identity(path, data)
    issues: list[pa.Table] = []  # file-level: both batches get them
    kind_issues: dict[str, list[pa.Table]] = {"Claim": [], "ExplanationOfBenefit": []}
    models = _models()
    entries = list(_resources(path, data, identity, issues))
    refs = _Refs()
    for res, _, _, full_url in entries:
        refs.add(res, full_url)
    out: dict[str, list] = {k: [] for k in ("claims", "diagnoses", "lines", "remit_claims", "remit_lines",
                                            "adjustments", "remarks", "payments")}
    counters = {"Claim": 0, "ExplanationOfBenefit": 0}
    for res, prefix, lineno, _ in entries:
        kind = res.get("resourceType")
        if kind not in models:
            continue
        key = _raw_key(res)
        try:
            model = models[kind].model_validate(res)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                kind_issues[kind].append(make_issues(
                    identity, code="FHIR-INVALID", line=lineno, column=_loc(prefix, err["loc"]), claim_key=key,
                    skipped="claim", message=f"{kind} does not conform to FHIR R4: {err['msg']}"))
            continue
        except (ValueError, TypeError) as exc:
            kind_issues[kind].append(make_issues(identity, code="FHIR-INVALID", line=lineno, column=prefix, claim_key=key,
                                      skipped="claim", message=f"{kind} does not conform to FHIR R4: {type(exc).__name__}"))
            continue
        counters[kind] += 1

        def issue(*, lineno=lineno, key=key, sink=kind_issues[kind], **kw):
            sink.append(make_issues(identity, line=lineno, claim_key=key, **kw))

        ctx = {"file_id": identity["file_id"], "prefix": prefix, "issue": issue,
               "eob_sequence": lambda ins: (ins[0].sequence if ins and getattr(ins[0], "sequence", None)
                                            else (1 if ins and ins[0].focal else None))}
        if kind == "Claim":
            _claim_rows(model, f"{identity['file_id']}:{counters[kind]}", refs, ctx, out)
        else:
            _eob_rows(model, f"{identity['file_id']}:{counters[kind]}", refs, ctx, out)
    for kind, other in (("Claim", "ExplanationOfBenefit"), ("ExplanationOfBenefit", "Claim")):
        if not counters[kind] and not kind_issues[kind] and not issues:
            kind_issues[kind].append(make_issues(
                identity, code="FHIR-NO-RESOURCES", severity="warning",
                message=f"no {kind} resource in the file ({counters[other]} {other} resources)"))
    files = files_table(identity, "fhir")
    claims = ClaimBatch(tables={
        "files": files, "read_issues": concat_issues(issues + kind_issues["Claim"]),
        "transactions": _transaction(identity, "claim") if counters["Claim"] else None,
        "claims": pa.Table.from_pylist(out["claims"], schema=CLAIMS),
        "diagnoses": pa.Table.from_pylist(out["diagnoses"], schema=DIAGNOSES),
        "lines": _lines_table(out["lines"]),
    })
    remits = RemitBatch(tables={
        "files": files, "read_issues": concat_issues(issues + kind_issues["ExplanationOfBenefit"]),
        "transactions": _transaction(identity, "eob") if counters["ExplanationOfBenefit"] else None,
        "payments": _payments(identity, out["payments"]) if out["payments"] else None,
        "remit_claims": pa.Table.from_pylist(out["remit_claims"], schema=REMIT_CLAIMS),
        "remit_lines": pa.Table.from_pylist(out["remit_lines"], schema=REMIT_LINES),
        "adjustments": pa.Table.from_pylist(out["adjustments"], schema=ADJUSTMENTS),
        "remarks": pa.Table.from_pylist(out["remarks"], schema=REMARKS),
    })
    return claims, remits


def _raw_key(res: dict) -> str | None:
    """The claim key of a resource that may not validate (for read_issues.claim_key)."""
    for ident in res.get("identifier") or []:
        if isinstance(ident, dict) and isinstance(ident.get("value"), str):
            return ident["value"]
    return res.get("id") if isinstance(res.get("id"), str) else None


def _lines_table(rows: list[dict]) -> pa.Table:
    table = pa.Table.from_pylist(rows, schema=LINES)
    if not rows:
        return table
    return table.set_column(LINES.get_field_index("ndc11"), "ndc11", ndc11(table["ndc"].combine_chunks()))


def _transaction(identity: dict, kind: str) -> pa.Table:
    return pa.Table.from_pylist([{"transaction_id": identity["file_id"], "file_id": identity["file_id"]}], schema=TRANSACTIONS)


def _payments(identity: dict, rows: list[dict]) -> pa.Table:
    """One PAYMENTS row per file: EOBs carry no BPR/TRN, so the payment is the sum of the
    EOB payment amounts; trace number and date only when every EOB agrees."""
    traces = {r["trace"] for r in rows}
    dates = {r["date"] for r in rows}
    amounts = [r["amount"] for r in rows if r["amount"] is not None]
    first = rows[0]
    return pa.Table.from_pylist([{
        "transaction_id": identity["file_id"], "file_id": identity["file_id"],
        "payment_amount": sum(amounts, Decimal(0)) if amounts else None,
        "payment_date": dates.pop() if len(dates) == 1 else None,
        "trace_number": traces.pop() if len(traces) == 1 else None,
        "payer_name": first["payer_name"], "payer_id": first["payer_id"],
    }], schema=PAYMENTS)
