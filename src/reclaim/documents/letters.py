"""Appeal letters (PDF and DOCX) for worklist items, from templates a practice can edit.

One Jinja text template (``templates/appeal_letter.txt.j2``) and one wording file
(``templates/arguments.yaml``: title and request per action, argument per kind of denial) are
rendered to a small block markup (``# `` heading, ``## `` sub-heading, ``- `` bullet,
``[ ] `` checklist item, blank line = paragraph), which :func:`write_pdf` (reportlab) and
:func:`write_docx` (python-docx) lay out. A practice copies the folder, edits the wording and
passes it with ``templates_dir``.

Facts in a letter come from the submitted claim, the remittance, and named releases in the
reference store: the HCPCS descriptor and billing unit (HCPCS release), the official CARC/RARC
texts (their list release), the ASP payment limit (ASP quarter), the ICD-10 descriptions, and
the JW/JZ rule with its sources from the payer policy. Letters hold patient identifiers (the
payer needs them); nothing about the patient is logged.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import jinja2
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ..claims.model import ClaimBatch

#: actions that get a letter
LETTER_ACTIONS = ("reopening", "redetermination", "appeal", "corrected_claim", "send_documentation",
                  "dispute_underpayment")


@dataclass
class Letter:
    item_id: str
    title: str
    text: str
    blocks: list[tuple[str, str]] = field(default_factory=list)


def _templates_dir(templates_dir: str | Path | None) -> Path:
    if templates_dir:
        path = Path(templates_dir)
        if not (path / "appeal_letter.txt.j2").is_file() or not (path / "arguments.yaml").is_file():
            from ..errors import ConfigError

            raise ConfigError(f"{path}: a letter templates folder needs appeal_letter.txt.j2 and arguments.yaml",
                              hint="Copy src/reclaim/documents/templates and edit the copy.")
        return path
    return Path(str(resources.files("reclaim.documents").joinpath("templates")))


def _row(table: pa.Table, **eq: Any) -> dict[str, Any] | None:
    mask = None
    for col, value in eq.items():
        m = pc.equal(table[col], value)
        mask = m if mask is None else pc.and_(mask, m)
    rows = table.filter(mask).to_pylist() if table.num_rows else []
    return rows[0] if rows else None


def _dx_dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


class _Facts(dict):
    """format_map that leaves unknown {placeholders} visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _jw_jz_rule(policies) -> str | None:
    try:
        from ..policy import builtin_policy

        medicare = builtin_policy("medicare")
        if medicare.jw_jz and medicare.jw_jz.required_from:
            return (f"JW/JZ: {medicare.name} requires JW (discarded amount) or JZ (no discarded amount) on "
                    f"single-dose-container drugs from {medicare.jw_jz.required_from.isoformat()} — "
                    f"{medicare.jw_jz.source}")
    except Exception:  # the policy module is optional for letters; the citation is then omitted
        return None
    return None


def build_letter(item: dict[str, Any], claims: ClaimBatch | None, store=None, *,
                 templates_dir: str | Path | None = None, today: dt.date | None = None,
                 policies=None, contact: dict[str, str] | None = None) -> Letter:
    """Render the letter of one worklist item (a row of ``RecoveryResult.items``).

    ``contact``: the signature block (name, title, phone, email: the ``letter_contact_*``
    settings, :func:`contact_from_settings`). The payer's address and attention line come from
    the item (the 835's N1*PR / N3 / N4 / PER); the arguments and citations fit the payer's
    program (CLP06: Medicare rules only in a Medicare letter)."""
    folder = _templates_dir(templates_dir)
    wording = yaml.safe_load((folder / "arguments.yaml").read_text(encoding="utf-8"))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=False,
                             undefined=jinja2.ChainableUndefined, keep_trailing_newline=True)
    template = env.get_template("appeal_letter.txt.j2")

    claim = line = None
    diagnoses: list[dict[str, Any]] = []
    if claims is not None and item.get("claim_id"):
        claim = _row(claims["claims"], claim_id=item["claim_id"])
        if item.get("line_number") is not None:
            line = _row(claims["lines"], claim_id=item["claim_id"], line_number=item["line_number"])
        dx = claims["diagnoses"]
        if dx.num_rows:
            diagnoses = sorted(dx.filter(pc.equal(dx["claim_id"], item["claim_id"])).to_pylist(),
                               key=lambda d: d["position"])
    claim = claim or {}
    line = line or {}
    dos = item.get("service_date") or line.get("service_date")
    code = item.get("procedure_code") or line.get("procedure_code")

    program = payer_program(item)
    citations: list[str] = []
    hcpcs = {"description": None, "unit": None}
    if store is not None and code:
        h = store.hcpcs(code, dos)
        if h:
            hcpcs = {"description": h["long_description"], "unit": h.get("unit_text")}
            citations.append(f"HCPCS {code}: \"{h['long_description']}\""
                             + (f", billing unit {h['unit_text']}" if h.get("unit_text") else "")
                             + f" — CMS HCPCS Level II file, release {h['release']}")
        asp = store.asp(code, dos) if program == "medicare" or item.get("kind") == "underpayment" else None
        if asp and asp.get("payment_limit") is not None and asp.get("covers_dos"):
            limit = f"{_money(asp['payment_limit'])} per {asp['dosage']}"
            citations.append(f"Medicare payment limit for {code}: {limit}, coinsurance {_num(asp['coinsurance_pct'])}% "
                             f"— CMS ASP pricing file {asp['release']}" if program == "medicare" else
                             f"CMS ASP payment limit for {code} (the basis of the contract rate): {limit} "
                             f"— CMS ASP pricing file {asp['release']}")
    dx_rows = []
    for d in diagnoses:
        desc = None
        if store is not None:
            found = store.icd10(d["code"], dos)
            if found:
                desc = found["long_description"]
                if not any("ICD-10-CM" in c for c in citations):
                    citations.append(f"ICD-10-CM descriptions — {found['release']} code list")
        dx_rows.append({"code_dotted": _dx_dotted(d["code"]), "description": desc or ""})
    if store is not None and diagnoses and code and program == "medicare":
        cov = store.con.execute("select count(*) from coverage_hcpcs where hcpcs = ?", [code]).fetchone() \
            if _has_table(store, "coverage_hcpcs") else (0,)
        if cov and cov[0]:
            citations.append(f"Medicare coverage article(s) listing {code}: see the enclosed covered diagnosis list")

    reasons = []
    for rc in (item.get("reasons") or item.get("reason") or "").split():
        if not _ADJUSTMENT.match(rc):  # an underpayment's reason is a sentence, not codes
            continue
        group, _, carc = rc.partition("-")
        text = None
        if store is not None and carc:
            found = store.carc(carc)
            if found:
                text = f"{found['description']} (X12 CARC list, release {found['release']})"
        reasons.append({"code": rc, "text": text or item.get("official_text") or "see the remittance"})
    for rarc in (item.get("rarcs") or "").split(","):
        if rarc and store is not None:
            found = store.rarc(rarc)
            if found:
                reasons.append({"code": rarc, "text": f"{found['description']} (X12 RARC list, release {found['release']})"})

    if not reasons and item.get("kind") == "underpayment":
        reasons.append({"code": "Payment", "text": f"paid {_money(item.get('line_paid'))}, below the rate the "
                                                   f"{item.get('terms_name') or 'payer'} terms give ({_money(_expected(item))})"})
    mods = " ".join(m for m in (line.get("modifier_1"), line.get("modifier_2"), line.get("modifier_3"),
                                line.get("modifier_4")) if m)
    action = item.get("action") or "appeal"
    reason_key = item.get("denial_reason") or ("underpayment" if item.get("kind") == "underpayment" else "default")
    jw = _jw_jz_rule(policies) if program == "medicare" else None  # JW/JZ is a Medicare Part B rule
    if reason_key == "modifier" and jw:
        citations.append(jw)
    facts = _Facts(
        code=code or "", units=_num(line.get("units")), modifiers=mods or "none", dos=dos,
        payer_claim_number=item.get("payer_claim_control_number") or "-", amount=item.get("amount"),
        paid=_money(item.get("line_paid")).lstrip("$"), hcpcs_unit=hcpcs["unit"] or "the HCPCS unit",
        expected=_money(_expected(item)).lstrip("$"), underpayment_basis=_basis(item.get("explanation")),
        modifier_argument=("the corrected line carries JZ (no amount discarded) or a separate JW line for the "
                           "discarded amount, as the JW/JZ policy requires." if jw else
                           "the corrected line carries the required modifier."),
    )
    words = wording.get("actions", {}).get(action, wording["actions"]["appeal"])
    reason_words = wording.get("reasons", {}).get(reason_key) or wording["reasons"]["default"]
    correction = None
    if action in ("reopening", "corrected_claim") and item.get("root_cause_edit"):
        correction = f"Correction: {item['root_cause']}"

    if program != "medicare" and item.get("kind") == "underpayment" and item.get("terms_name"):
        citations.append(f"{item['terms_name']}: the rate for {code} under your agreement with us")
    checklist = _checklist(item, claim, line, diagnoses, program=program, drug=_is_drug(code, line))
    text = template.render(
        practice={"name": claim.get("billing_name") or item.get("payee_name"),
                  "npi": claim.get("billing_npi") or (item.get("payee_id") if item.get("payee_id_qualifier") == "XX" else None),
                  "tax_id": claim.get("billing_tax_id"), "address": claim.get("billing_address")},
        payer=_payer_block(item, claim),
        patient={"name": " ".join(p for p in (claim.get("patient_first_name"), claim.get("patient_last_name")) if p),
                 "member_id": claim.get("patient_id") or claim.get("subscriber_id")},
        signer=_signature(contact, claim, item.get("payee_name")),
        claim={"patient_control_number": item.get("patient_control_number"),
               "payer_claim_number": item.get("payer_claim_control_number"),
               "remit_date": item.get("remit_date"), "trace_number": item.get("trace_number")},
        line={"service_date": dos, "code": code, "modifiers": mods,
              # CPT codes (five digits) are the AMA's: the HCPCS Level II file has no descriptor for them
              "code_system": "CPT" if re.match(r"^\d{4}[0-9FTU]$", code or "") else "HCPCS", "units": _num(line.get("units") or item.get("units_paid")),
              "ndc": line.get("ndc11") or line.get("ndc"), "ndc_quantity": _num(line.get("ndc_quantity")),
              "ndc_unit": line.get("ndc_unit"), "charge": _money(item.get("line_charge") or line.get("charge")),
              "paid": _money(item.get("line_paid"))},
        hcpcs=hcpcs, diagnoses=dx_rows, amount=_money(item.get("amount")), reasons=reasons,
        title=words["title"].format_map(facts), request=words["request"].format_map(facts),
        argument=" ".join(reason_words["argument"].format_map(facts).split()),
        correction=correction, citations=citations, checklist=checklist,
        today=(today or dt.date.today()).isoformat(),
    )
    text = re.sub(r"\n{3,}", "\n\n", text)
    return Letter(item_id=item["item_id"], title=words["title"].format_map(facts), text=text, blocks=_blocks(text))


_ADJUSTMENT = re.compile(r"^(CO|PR|OA|PI|CR)-[A-Z0-9]{1,3}$")


def payer_program(item: dict[str, Any]) -> str:
    """'medicare', 'medicaid' or 'commercial', from the claim filing indicator the payer sent
    (CLP06: MA/MB Medicare, MC Medicaid) or the Medicare terms: which rules a letter may cite."""
    filing = (item.get("claim_filing_indicator") or "").upper()
    if filing in ("MA", "MB") or item.get("terms_id") == "medicare":
        return "medicare"
    return "medicaid" if filing == "MC" else "commercial"


def _money(value) -> str:
    if value in (None, "", "-"):
        return "-"
    try:
        from decimal import Decimal

        return f"${Decimal(str(value)):,.2f}"
    except Exception:
        return "-"


def _payer_block(item: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    """The payer's name, attention line and mailing address, as the 835 gave them."""
    city = ", ".join(p for p in (item.get("payer_city"), " ".join(
        p for p in (item.get("payer_state"), _zip(item.get("payer_zip"))) if p)) if p)
    address = [a for a in (item.get("payer_address_1"), item.get("payer_address_2"), city) if a]
    reach = " · ".join(p for p in (_phone(item.get("payer_contact_phone")), item.get("payer_contact_email")) if p)
    return {"name": item.get("payer_name") or claim.get("payer_name") or item.get("payer_id") or "Claims department",
            "id": item.get("payer_id") or claim.get("payer_id"),
            "attention": item.get("payer_contact_name"), "address": address, "reach": reach}


def _zip(value: str | None) -> str | None:
    return f"{value[:5]}-{value[5:]}" if value and len(value) == 9 and value.isdigit() else value


def _phone(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else value


def contact_from_settings(settings) -> dict[str, str]:
    """The letters' signature block from the ``letter_contact_*`` settings."""
    return {k: getattr(settings, f"letter_contact_{k}", "") or "" for k in ("name", "title", "phone", "email")}


def _signature(contact: dict[str, str] | None, claim: dict[str, Any], payee: str | None = None) -> list[str]:
    contact = contact or {}
    lines = [contact.get("name"), contact.get("title"), claim.get("billing_name") or payee or "Billing office",
             " · ".join(p for p in (_phone(contact.get("phone")), contact.get("email")) if p)]
    return [line for line in lines if line]


def _is_drug(code: str | None, line: dict[str, Any]) -> bool:
    """A drug line: a J or Q code, or a line that reports an NDC (837 LIN*N4)."""
    return bool(line.get("ndc11") or line.get("ndc") or re.match(r"^[JQ]\d{4}$", code or ""))


def _num(value):
    """60.000 -> 60, 1.500 -> 1.5 (quantities are decimal(18, 3))."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _has_table(store, name: str) -> bool:
    return bool(store.con.execute(
        "select count(*) from information_schema.tables where table_name = ?", [name]).fetchone()[0])


def _basis(explanation: str | None) -> str:
    """'Paid 10 but the X terms give 20 (50 units at 0.4 per unit, ...).' -> '(50 units at ...)'"""
    match = re.search(r"\((.*)\)\.?$", explanation or "")
    return f"({match.group(1)})" if match else ""


def _expected(item: dict[str, Any]) -> str:
    match = re.search(r"expected ([0-9.]+)", item.get("reason") or "")
    return match.group(1) if match else "-"


def _checklist(item, claim, line, diagnoses, *, program: str, drug: bool) -> list[str]:
    """The records to enclose: drug records only on a drug line, Medicare's JW/JZ and ABN only
    in a Medicare letter, the authorization only when it matters."""
    items = ["Copy of the remittance advice (835/ERA) page for this claim"]
    if diagnoses:
        items.append("Physician order and progress note documenting the diagnosis ("
                     + ", ".join(_dx_dotted(d["code"]) for d in diagnoses) + ") and the indication")
    elif not drug:
        items.append("Physician order and the note documenting the service")
    if drug:
        discarded = "dose given and dose discarded (JW/JZ)" if program == "medicare" else \
            "dose given and any amount discarded"
        items.append(f"Drug administration record: drug, NDC and lot, {discarded}, route, administration "
                     "site and date, administering clinician")
        codes = {d["code"] for d in diagnoses}
        if any(c.startswith(("M80", "M81")) for c in codes):
            items.append("Bone density (DEXA) report and fracture-risk assessment supporting osteoporosis treatment")
        if any(c.startswith("C") for c in codes):
            items.append("Pathology report and treatment plan (regimen, cycle, dosing by weight or flat dose)")
        if (item.get("procedure_code") or line.get("procedure_code")) == "J0897":
            items.append("Calcium and vitamin D results before the denosumab dose")
    items.append("Signed patient consent (and the ABN, when one was given)" if program == "medicare"
                 else "Signed patient consent")
    pa_number = claim.get("prior_auth_number") or line.get("prior_auth_number")
    if pa_number:
        items.append(f"Prior authorization approval (number {pa_number})")
    elif item.get("denial_reason") == "prior_auth":
        items.append("Prior authorization approval, or the retro-authorization request")
    if item.get("kind") == "underpayment":
        items.append("The fee schedule or contract page giving the rate for this code and quarter")
    if item.get("action") == "corrected_claim":
        items.append("The corrected claim (frequency 7 with REF*F8 = the payer claim number)")
    return items


_BLOCK = re.compile(r"^(# |## |- |\[ \] )?(.*)$")


def _blocks(text: str) -> list[tuple[str, str]]:
    """Block markup -> [(kind, text)] with kind h1, h2, bullet, check, para."""
    blocks: list[tuple[str, str]] = []
    para: list[str] = []

    def flush():
        if para:
            blocks.append(("para", "\n".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line:
            flush()
            continue
        prefix, body = _BLOCK.match(line).groups()
        kind = {"# ": "h1", "## ": "h2", "- ": "bullet", "[ ] ": "check"}.get(prefix or "")
        if kind:
            flush()
            blocks.append((kind, body))
        else:
            para.append(line)
    flush()
    return blocks


def write_pdf(letter: Letter, path: str | Path) -> Path:
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    style = {"h1": styles["Heading2"], "h2": styles["Heading4"], "para": styles["BodyText"],
             "bullet": styles["BodyText"], "check": styles["BodyText"]}
    story = []
    for kind, body in letter.blocks:
        text = escape(body).replace("\n", "<br/>")
        if kind == "bullet":
            story.append(Paragraph(text, style[kind], bulletText="•"))
        elif kind == "check":
            story.append(Paragraph("[  ] " + text, style[kind]))
        else:
            story.append(Paragraph(text, style[kind]))
        if kind == "para":
            story.append(Spacer(1, 4))
    path = Path(path)
    doc = SimpleDocTemplate(str(path), pagesize=LETTER, leftMargin=0.9 * inch, rightMargin=0.9 * inch,
                            topMargin=0.8 * inch, bottomMargin=0.8 * inch, title=letter.title,
                            author="reclaim", invariant=1)
    doc.build(story)
    return path


def write_docx(letter: Letter, path: str | Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = letter.title
    document.core_properties.author = "reclaim"
    for kind, body in letter.blocks:
        if kind == "h1":
            document.add_heading(body, level=1)
        elif kind == "h2":
            document.add_heading(body, level=2)
        elif kind == "bullet":
            document.add_paragraph(body, style="List Bullet")
        elif kind == "check":
            document.add_paragraph("☐ " + body)
        else:
            p = document.add_paragraph()
            for i, part in enumerate(body.split("\n")):
                if i:
                    p.add_run().add_break()
                p.add_run(part)
    path = Path(path)
    document.save(str(path))
    return path


def write_letters(items: pa.Table, claims: ClaimBatch | None, store, out_dir: str | Path, *,
                  templates_dir: str | Path | None = None, today: dt.date | None = None,
                  policies=None, limit: int | None = None, contact: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """PDF + DOCX letters for the items whose action gets one (best priority first);
    returns [{item_id, pdf, docx}]."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for item in items.to_pylist():
        if item.get("action") not in LETTER_ACTIONS or item.get("deadline_passed"):
            continue
        letter = build_letter(item, claims, store, templates_dir=templates_dir, today=today, policies=policies,
                              contact=contact)
        stem = f"{item['item_id']}-{item['action']}"
        written.append({"item_id": item["item_id"], "pdf": str(write_pdf(letter, out / f"{stem}.pdf")),
                        "docx": str(write_docx(letter, out / f"{stem}.docx"))})
        if limit and len(written) >= limit:
            break
    return written
