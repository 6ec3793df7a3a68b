"""The billing guide for one HCPCS code (``reclaim code J0897``) and the NDC look-up (``reclaim ndc``).

:func:`build_guide` gathers, for a code and a date of service, every fact a biller needs from the
reference store (``docs/refdata-store.md``): descriptors and billing unit, status on the date,
coded fields with their meanings, the ASP payment limit of the quarter in force with the cost of
a typical package, MUEs, the NDCs that map to the code, the drug modifiers, related codes (same
active ingredient), covered diagnoses and the common denials with their fix. Every fact carries the
release it came from (``source``); absent data is said in words ("no MUE table loaded"), never
left out silently. Rendering lives in :mod:`reclaim.documents.guide_render`.

Only DuckDB queries run here (no pyarrow): a warm look-up is a dozen indexed point queries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import weakref
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ..errors import UnknownCodeError
from ..refdata.ndc import format_ndc, ndc_problem, normalize_ndc
from .guide_sources import cite_text, tags
from .guide_tables import COMMON_DENIALS, DRUG_MODIFIERS, CodeTables, code_tables

__all__ = ["Guide", "NdcInfo", "SearchHit", "build_guide", "lookup_ndc", "search_codes", "parse_code"]

CENT = Decimal("0.01")
_CODE = re.compile(r"^[A-Z]\d{4}$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
#: NOC drug codes (domain-facts §1.5 [WAMUIR-J] [PRIORITY-NDC]); also any descriptor saying so
_NOC_WORDS = re.compile(r"not otherwise (classified|specified)|unclassified|\bnoc\b|\bnos\b", re.I)
#: FDA biologic suffix: four lowercase letters after a hyphen ("denosumab-bbdz")
_SUFFIX = re.compile(r"-[a-z]{4}$")
#: leading descriptor words that name the form or route, not the ingredient
_FORM_WORDS = {"injection", "infusion", "instillation", "inhalation solution", "oral", "implant", "topical"}

DATASET_NAMES = {
    "hcpcs": "CMS HCPCS", "asp_pricing": "CMS ASP pricing", "ndc_crosswalk": "CMS ASP NDC-HCPCS crosswalk",
    "noc_crosswalk": "CMS ASP NOC crosswalk", "mue": "CMS NCCI MUE", "carc": "X12 CARC", "rarc": "X12 RARC",
    "coverage": "CMS MCD coverage articles", "opps_addendum_b": "CMS OPPS Addendum B",
    "hcpcs_code_tables": "CMS HCPCS record layout code tables (DERIVED)",
}


# ---------------------------------------------------------------------------------------------
# the guide


@dataclass
class Status:
    state: str  # active | not yet effective | terminated
    summary: str
    add_date: dt.date | None
    effective_date: dt.date | None
    termination_date: dt.date | None
    action_code: str | None
    action_meaning: str | None
    replacements: list[str]
    source: str


@dataclass
class Indicator:
    field: str  # coverage_code | betos | pricing_indicator
    label: str
    code: str | None
    meaning: str | None
    source: str


@dataclass
class DoseCost:
    drug_name: str
    ndc: str
    billing_units: Decimal  # per item (vial, syringe)
    payment: Decimal  # billing_units x payment limit
    coinsurance: Decimal | None


@dataclass
class Payment:
    quarter: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    payment_limit: Decimal | None
    dosage: str | None
    coinsurance_pct: Decimal | None
    notes: str | None
    covers_date_of_service: bool
    per_item: list[DoseCost]
    source: str


@dataclass
class MueRow:
    setting: str
    mue_value: int | None
    mai: str | None
    mai_text: str | None
    rationale: str | None
    source: str


@dataclass
class OppsRow:
    """The code's line in CMS OPPS Addendum B of the quarter in force (hospital outpatient)."""

    quarter: str
    effective_from: dt.date
    effective_to: dt.date
    status_indicator: str | None
    meaning: str | None
    apc: str | None
    relative_weight: Decimal | None
    payment_rate: Decimal | None
    minimum_copay: Decimal | None
    source: str


#: what the SIs a drug carries mean for its payment (OPPS status indicators [NOR-SI])
OPPS_SI_MEANING = {
    "N": "packaged: no separate OPPS payment (paid within the APC of the service it goes with)",
    "K": "separately payable non-pass-through drug or biological: paid at the APC rate",
    "G": "pass-through drug or biological: paid separately at the APC rate",
}


@dataclass
class NdcRow:
    ndc: str
    labeler: str | None
    drug_name: str | None
    package_size: str | None
    package_quantity: str | None
    billing_units_per_item: Decimal | None
    billing_units_per_package: Decimal | None
    payment_per_package: Decimal | None


@dataclass
class ModifierInfo:
    code: str
    descriptor: str | None
    status: str
    termination_date: dt.date | None
    when: str
    cite: str  # the cited documents' titles (docs/sources.md)
    source: str
    cite_ids: list[str] = field(default_factory=list)  # their ids in docs/sources.md


@dataclass
class RelatedCode:
    code: str
    descriptor: str
    relation: str
    status: str


@dataclass
class Diagnosis:
    article_id: str
    icd10: str
    description: str | None


@dataclass
class Denial:
    carc: str
    carc_text: str | None
    rarc: str | None
    rarc_text: str | None
    cause: str
    fix: str
    cite: str  # the cited documents' titles (docs/sources.md)
    cite_ids: list[str] = field(default_factory=list)


@dataclass
class SourceFile:
    dataset: str
    release: str
    file: str
    sha256: str
    provenance: str


@dataclass
class Guide:
    """Everything the guide states about one code on one date of service, each with its source."""

    code: str
    kind: str  # procedure | modifier
    date_of_service: dt.date
    long_description: str | None
    short_description: str | None
    descriptor_source: str
    billing_unit: dict[str, str] | None
    billing_unit_note: str | None
    status: Status
    indicators: list[Indicator]
    payment: Payment | None
    payment_note: str | None
    mue: list[MueRow]
    mue_note: str | None
    ndcs: list[NdcRow]
    ndc_source: str | None
    ndc_note: str | None
    modifiers: list[ModifierInfo]
    related: list[RelatedCode]
    diagnoses: list[Diagnosis]
    diagnoses_note: str | None
    denials: list[Denial]
    warnings: list[str] = field(default_factory=list)
    sources: list[SourceFile] = field(default_factory=list)
    #: hospital outpatient (837I): the code's OPPS Addendum B line, or why there is none
    opps: OppsRow | None = None
    opps_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, Decimals as exact strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------
# helpers over the store


@dataclass
class _StoreFacts:
    """What does not change while a read-only store is open: its releases and loaded tables."""

    releases: dict[Any, dict[str, Any]]
    loaded: set[str]
    latest_hcpcs: str | None
    code_tables: CodeTables


_FACTS: "weakref.WeakKeyDictionary[Any, _StoreFacts]" = weakref.WeakKeyDictionary()
_OPTIONAL_TABLES = ("asp_pricing", "ndc_crosswalk", "noc_crosswalk", "mue", "coverage_icd10", "opps_addendum_b")


def _facts(store: Any) -> _StoreFacts:
    facts = _FACTS.get(store)
    if facts is None:
        row = store.con.execute(
            "SELECT release FROM hcpcs GROUP BY release ORDER BY max(release_effective) DESC LIMIT 1").fetchone()
        # (dataset, release) -> row, and dataset -> its newest row (releases() sorts oldest first)
        rows = store.releases()
        by_release: dict[Any, dict[str, Any]] = {(r["dataset"], r["release"]): r for r in rows}
        by_release.update({r["dataset"]: r for r in rows})
        facts = _StoreFacts(by_release,
                            {t for t in _OPTIONAL_TABLES if store.loaded(t)}, row[0] if row else None,
                            code_tables(store))
        _FACTS[store] = facts
    return facts


class _Sources:
    """Release labels ("CMS HCPCS 2025-10") and the files behind them, for the guide's footer."""

    def __init__(self, store: Any):
        self.rows = _facts(store).releases
        self.used: dict[str, SourceFile] = {}

    def label(self, dataset: str, release: str | None = None) -> str:
        """'CMS HCPCS 2025-10', and note the file of that release for the Sources section."""
        row = self.rows.get((dataset, release)) if release else self.rows.get(dataset)
        name = DATASET_NAMES.get(dataset, dataset)
        release = release or (row["release"] if row else "?")
        if row:
            self.used[dataset] = SourceFile(dataset, release, row["file_name"], row["sha256"][:12],
                                            row["provenance"])
        return f"{name} {release}"


def parse_code(text: str) -> str:
    """Normalize a code the user typed (case, spaces); raise a clear error when it is not a HCPCS code."""
    code = re.sub(r"[\s.-]", "", text or "").upper()
    if _CODE.match(code) or _MODIFIER.match(code):
        return code
    if normalize_ndc(text) is not None:
        raise UnknownCodeError(f"{text!r} is an NDC, not a HCPCS code",
                               hint=f"Use `reclaim ndc {text.strip()}` for the HCPCS code and units of an NDC.")
    if re.fullmatch(r"\d{4}[0-9A-Z]", code):
        raise UnknownCodeError(
            f"{text!r} looks like a CPT code (Level I, AMA): reclaim reads HCPCS Level II codes only",
            hint="Level II codes are one letter and four digits, e.g. J0897.")
    raise UnknownCodeError(
        f"{text!r} is not a HCPCS Level II code: expected one letter and four digits (e.g. J0897) "
        "or a two-character modifier (e.g. JW)")


def _closest(store: Any, code: str, release: str, limit: int = 5) -> list[tuple[str, str]]:
    """Real codes near a mistyped one: within two edits, same letter, nearest number first."""
    rows = store.con.execute(
        """SELECT code, long_description FROM hcpcs WHERE release = ? AND length(code) = length(?)
           ORDER BY levenshtein(code, ?) > 2, left(code, 1) <> left(?, 1),
                    abs(try_cast(substr(code, 2) AS INTEGER) - try_cast(substr(?, 2) AS INTEGER)) NULLS LAST,
                    levenshtein(code, ?), code
           LIMIT ?""", [release, code, code, code, code, code, limit]).fetchall()
    return [(c, d or "") for c, d in rows]


def _latest_hcpcs_release(store: Any) -> str | None:
    return _facts(store).latest_hcpcs


def _status(row: dict[str, Any], on: dt.date, tables: Any, source: str) -> Status:
    add, eff, term = row["add_date"], row["effective_date"], row["termination_date"]
    start = add or eff
    replacements = list(row.get("xrefs") or [])
    if start is not None and on < start:
        state, summary = "not yet effective", f"added {start}, after the date of service {on}"
    elif term is not None and on > term:
        state = "terminated"
        summary = f"{term} was the last valid date of service"
        if replacements:
            summary += f"; replaced by {', '.join(replacements)} (HCPCS cross-reference)"
        else:
            summary += "; the HCPCS file names no replacement"
    else:
        state = "active"
        summary = f"valid on {on}" + (f" (last valid date of service {term})" if term else "")
    action = row.get("action_code")
    return Status(state, summary, add, eff, term, action, tables.meaning("action_code", action), replacements,
                  source)


def _ingredient(description: str) -> str | None:
    """The active ingredient named first in a drug descriptor, without its biologic suffix:
    "Injection, denosumab-bbdz (jubbonti/wyost), biosimilar, 1 mg" -> "denosumab"."""
    text = re.sub(r"\([^)]*\)", " ", description.lower())
    for part in (p.strip() for p in text.split(",")):
        if not part or part in _FORM_WORDS:
            continue
        words = []
        for word in part.split():
            if re.search(r"\d", word) or word in ("and", "for", "per", "up", "biosimilar", "excludes"):
                break
            words.append(word)
        phrase = _SUFFIX.sub("", " ".join(words)).strip()
        return phrase if len(phrase) >= 4 else None
    return None


def _related(store: Any, row: dict[str, Any], on: dt.date) -> list[RelatedCode]:
    ingredient = _ingredient(row["long_description"] or "")
    if not ingredient:
        return []
    pattern = r"\b" + re.escape(ingredient) + r"(-[a-z]{4})?\b"
    rows = store.con.execute(
        """SELECT code, long_description, add_date, termination_date FROM hcpcs
           WHERE release = ? AND is_drug AND code <> ? AND regexp_matches(lower(long_description), ?)
           ORDER BY termination_date IS NOT NULL, code""", [row["release"], row["code"], pattern]).fetchall()
    this_is_biosimilar = "biosimilar" in (row["long_description"] or "").lower()
    related = []
    for code, desc, add, term in rows:
        is_biosimilar = "biosimilar" in desc.lower()
        if is_biosimilar:
            relation = f"biosimilar ({ingredient})"
        elif this_is_biosimilar and not re.search(rf"{re.escape(ingredient)}-[a-z]{{4}}", desc.lower()):
            relation = f"reference product ({ingredient})"
        else:
            relation = f"same ingredient ({ingredient}), other product, strength or use"
        if term is not None and on > term:
            status = f"terminated {term}"
        elif add is not None and on < add:
            status = f"not yet effective (added {add})"
        else:
            status = "active"
        related.append(RelatedCode(code, desc, relation, status))
    return related


def _quarter_in_force(store: Any, table: str, on: dt.date) -> str | None:
    """The quarterly release of ``table`` in force on ``on`` (None when no release held covers it)."""
    found = store.in_force(table, on)
    return found["release"] if found else None


def _not_held(store: Any, table: str, what: str, on: dt.date, pull: str) -> str:
    """'no ASP payment limit in force on 2026-12-03: the newest held is CMS ASP pricing 2025-Q4
    (2025-10-01 to 2025-12-31) — pull the current quarter (reclaim data pull --dataset asp)'."""
    newest = store.newest(table)
    if newest is None:
        return f"no {what} in force on {on}: none loaded ({pull})"
    name = DATASET_NAMES.get(table, table)
    return (f"no {what} in force on {on}: the newest held is {name} {newest['release']} "
            f"({newest['effective_from']} to {newest['effective_to']}) — {pull}")


def _payment(store: Any, code: str, on: dt.date, crosswalk: list[dict[str, Any]], sources: _Sources,
             warnings: list[str]) -> tuple[Payment | None, str | None]:
    if "asp_pricing" not in _facts(store).loaded:
        return None, "no ASP pricing file loaded"
    row = store.asp(code, on)
    if row is None:
        quarter = _quarter_in_force(store, "asp_pricing", on)
        if quarter is None:  # a price is never taken from another quarter
            return None, _not_held(store, "asp_pricing", "ASP payment limit", on,
                                   "pull the quarter of the date (reclaim data pull --dataset asp)")
        return None, (f"{code} has no row in the ASP pricing file {quarter}: no national ASP payment limit this "
                      "quarter. The file's note 2: absence from it 'does not indicate whether Medicare covers a "
                      "drug'; the local Medicare contractor (MAC) decides")
    source = sources.label("asp_pricing", row["release"])
    covers = True  # store.asp answers only from the quarter in force
    limit, pct = row["payment_limit"], row["coinsurance_pct"]
    per_item: list[DoseCost] = []
    seen: set[tuple[str, Decimal]] = set()
    for x in crosswalk:
        units = x["billing_units"]
        key = ((x["drug_name"] or "").strip(), units)
        if limit is None or units is None or units <= 0 or key in seen:
            continue
        seen.add(key)
        amount = (units * limit).quantize(CENT, ROUND_HALF_UP)
        share = (amount * pct / 100).quantize(CENT, ROUND_HALF_UP) if pct is not None else None
        per_item.append(DoseCost(key[0], x["ndc_hyphenated"], units, amount, share))
    return Payment(row["release"], row["effective_from"], row["effective_to"], limit, row["dosage"], pct,
                   row["notes"], covers, per_item, source), None


def _opps(store: Any, code: str, on: dt.date, sources: _Sources) -> tuple[OppsRow | None, str | None]:
    """The OPPS Addendum B line of the quarter in force on ``on``; never another quarter's."""
    if "opps_addendum_b" not in _facts(store).loaded:
        return None, ("no CMS OPPS Addendum B loaded: the hospital outpatient status indicator, APC and payment "
                      "are not known (reclaim data pull --dataset opps)")
    row = store.opps(code, on)
    if row is None:
        quarter = _quarter_in_force(store, "opps_addendum_b", on)
        if quarter is None:
            return None, _not_held(store, "opps_addendum_b", "OPPS Addendum B", on,
                                   "pull the quarter of the date (reclaim data pull --dataset opps)")
        return None, f"{code} has no line in CMS OPPS Addendum B {quarter}"
    si = row["status_indicator"]
    return OppsRow(row["release"], row["effective_from"], row["effective_to"], si, OPPS_SI_MEANING.get(si or ""),
                   row["apc"], row["relative_weight"], row["payment_rate"], row["minimum_copay"],
                   sources.label("opps_addendum_b", row["release"])), None


def _mue(store: Any, code: str, on: dt.date, sources: _Sources) -> tuple[list[MueRow], str | None]:
    if "mue" not in _facts(store).loaded:
        return [], "no MUE table loaded (load the CMS NCCI MUE files with `reclaim data import`)"
    # the settings loaded (practitioner / outpatient_hospital / dme), without importing the loader
    settings = [r[0] for r in store.con.execute("SELECT DISTINCT setting FROM mue ORDER BY setting").fetchall()]
    in_force = {s: store.in_force("mue", on, "setting = ?", [s]) for s in settings}
    if not any(in_force.values()):  # never another quarter's value
        return [], _not_held(store, "mue", "MUE table", on,
                             "pull the quarter of the date (reclaim data pull --dataset mue)")
    rows = []
    for setting in settings:
        row = store.mue(code, setting, on) if in_force[setting] else None
        if row is not None:
            rows.append(MueRow(setting, row.get("mue_value"), row.get("mai"), row.get("mai_text"),
                               row.get("rationale"), sources.label("mue", row["release"])))
    quarters = ", ".join(sorted({f["release"] for f in in_force.values() if f}))
    return rows, (None if rows else f"no MUE for {code} in the MUE tables in force on {on} ({quarters})")


def _diagnoses(store: Any, code: str, sources: _Sources) -> tuple[list[Diagnosis], str | None]:
    if "coverage_icd10" not in _facts(store).loaded:
        return [], "no coverage data loaded (load the CMS Medicare Coverage Database article export)"
    rows = store.con.execute(
        """SELECT DISTINCT i.article_id, i.icd10, i.description FROM coverage_hcpcs h
           JOIN coverage_icd10 i USING (release, article_id, article_version)
           WHERE h.hcpcs = ? ORDER BY i.article_id, i.icd10""", [code]).fetchall()
    sources.label("coverage")
    if not rows:
        return [], f"no loaded coverage article lists {code}"
    return [Diagnosis(a, i, d) for a, i, d in rows], None


def _modifiers(store: Any, release: str, on: dt.date, sources: _Sources) -> list[ModifierInfo]:
    codes = [rule.code for rule in DRUG_MODIFIERS]
    found = {code: (desc, term) for code, desc, term in store.con.execute(
        f"SELECT code, long_description, termination_date FROM hcpcs WHERE release = ? AND code IN "
        f"({', '.join('?' for _ in codes)})", [release, *codes]).fetchall()}
    source = sources.label("hcpcs", release)
    out = []
    for rule in DRUG_MODIFIERS:
        if rule.code not in found:
            out.append(ModifierInfo(rule.code, None, "not in the loaded HCPCS file", None, rule.when, cite_text(rule.cite),
                                    source, tags(rule.cite)))
            continue
        desc, term = found[rule.code]
        status = f"terminated {term}: invalid on {on}" if term and on > term else "valid on the date of service"
        out.append(ModifierInfo(rule.code, desc, status, term, rule.when, cite_text(rule.cite), source, tags(rule.cite)))
    return out


def _code_texts(store: Any, table: str, codes: set[str], sources: _Sources) -> dict[str, str]:
    """Newest description of each CARC or RARC code, in one query."""
    if not codes:
        return {}
    rows = store.con.execute(
        f"""SELECT code, description, release FROM "{table}" WHERE code IN ({', '.join('?' for _ in codes)})
            QUALIFY row_number() OVER (PARTITION BY code ORDER BY release DESC) = 1""", sorted(codes)).fetchall()
    for _, _, release in rows[:1]:
        sources.label(table, release)
    return {code: desc for code, desc, _ in rows}


def _denials(store: Any, is_noc: bool, sources: _Sources) -> list[Denial]:
    rows = [r for r in COMMON_DENIALS if r.applies_to != "noc" or is_noc]
    carc = _code_texts(store, "carc", {r.carc for r in rows}, sources)
    rarc = _code_texts(store, "rarc", {r.rarc for r in rows if r.rarc}, sources)
    return [Denial(r.carc, carc.get(r.carc), r.rarc, rarc.get(r.rarc) if r.rarc else None, r.cause, r.fix,
                   cite_text(r.cite), tags(r.cite)) for r in rows]


def _quarter_end(start: dt.date) -> dt.date:
    month = (start.month - 1) // 3 * 3 + 3
    return dt.date(start.year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def _crosswalk_past(row: dict[str, Any], on: dt.date) -> str:
    return (f"CMS ASP NDC-HCPCS crosswalk {row['release']} is the newest held ({row['effective_from']} to "
            f"{row['effective_to']}); its NDCs and billing units are shown for {on} per that release — pull the "
            "current quarter (reclaim data pull --dataset asp)")


# ---------------------------------------------------------------------------------------------
# public API


def build_guide(store: Any, code: str, on: dt.date | None = None) -> Guide:
    """The billing guide for ``code`` on the date of service ``on`` (default: today).

    ``store`` is a :class:`reclaim.refdata.store.RefStore`. Raises :class:`UnknownCodeError` for a
    malformed code or one not in the loaded HCPCS file (the message names the closest real codes).
    """
    on = on or dt.date.today()
    code = parse_code(code)
    release = _latest_hcpcs_release(store)
    if release is None:
        raise UnknownCodeError("no HCPCS release is loaded in the reference store",
                               hint="Run `reclaim data import DIR` with the CMS HCPCS file.")
    row = store.hcpcs(code, on)
    if row is None:
        close = _closest(store, code, release)
        listed = "; ".join(f"{c} ({d[:50]})" for c, d in close)
        error = UnknownCodeError(f"{code} is not in the loaded HCPCS file (release {release}). Closest codes: {listed}",
                                 hint="Search by drug name: `reclaim code --search WORDS`.")
        error.suggestions = [c for c, _ in close]  # type: ignore[attr-defined]
        raise error
    sources = _Sources(store)
    hcpcs_source = sources.label("hcpcs", row["release"])
    tables = _facts(store).code_tables
    if tables.file_name:
        sources.label("hcpcs_code_tables")  # listed with the other files in the Sources section
    derived = tables.label
    warnings: list[str] = []
    past_quarter = row.get("release_in_force", True) and on > _quarter_end(row["release_effective"])
    if past_quarter:  # said in place, in every section the file's facts are shown
        hcpcs_source += (f" (newest held; its quarter ended {_quarter_end(row['release_effective'])}, before {on}: "
                         "pull the current quarter)")
    status = _status(row, on, tables, hcpcs_source)
    if not row.get("release_in_force", True):
        warnings.append(f"the date of service {on} is before the earliest HCPCS release loaded ({row['release']}); "
                        "the code's own dates were used")
    elif past_quarter:
        # a quarterly file is in force until the next quarter's: say so where its facts are shown
        warnings.append(f"HCPCS {row['release']} is the newest held; {status.summary} per that release — "
                        "pull the current quarter (reclaim data pull --dataset hcpcs)")

    if status.state != "active":
        warnings.append(f"{code} is {status.state} on {on}: {status.summary}")
    indicators = [
        Indicator(field_, label, row.get(field_), tables.meaning(field_, row.get(field_)),
                  f"{hcpcs_source}; meaning: {derived}")
        for field_, label in (("coverage_code", "Medicare coverage"), ("betos", "BETOS"),
                              ("pricing_indicator", "Pricing indicator"))
    ]
    is_drug = bool(row.get("is_drug"))
    unit = unit_note = None
    if is_drug:
        if row.get("unit_amount") is not None:
            unit = {"amount": _plain(Decimal(row["unit_amount"])), "uom": row["unit_uom"],
                    "text": row["unit_text"], "source": f"{hcpcs_source} long descriptor"}
        else:
            unit_note = "the long descriptor states no single billing unit (combination, range or NOC code)"

    crosswalk: list[dict[str, Any]] = []
    payment = payment_note = ndc_note = ndc_source = None
    mue_rows: list[MueRow] = []
    mue_note = None
    opps_row: OppsRow | None = None
    opps_note = None
    ndcs: list[NdcRow] = []
    modifiers: list[ModifierInfo] = []
    related: list[RelatedCode] = []
    diagnoses: list[Diagnosis] = []
    diagnoses_note = None
    denials: list[Denial] = []
    if row["kind"] == "procedure":
        if "ndc_crosswalk" in _facts(store).loaded:
            crosswalk = store.crosswalk_by_hcpcs(code, on)
            if crosswalk:
                ndc_source = sources.label("ndc_crosswalk", crosswalk[0]["release"])
                if crosswalk[0]["covers_dos"] is False:
                    ndc_source += (f" (newest held; its quarter ended {crosswalk[0]['effective_to']}, before {on}: "
                                   "pull the current quarter)")
                    warnings.append(_crosswalk_past(crosswalk[0], on))
            elif is_drug:
                quarter = _quarter_in_force(store, "ndc_crosswalk", on)
                ndc_note = (f"no NDC maps to {code} in the ASP NDC-HCPCS crosswalk {quarter}" if quarter
                            else f"no ASP NDC-HCPCS crosswalk quarter loaded that is in force on {on}")
        elif is_drug:
            ndc_note = "no NDC-HCPCS crosswalk loaded"
        payment, payment_note = _payment(store, code, on, crosswalk, sources, warnings)
        limit = payment.payment_limit if payment else None
        for x in crosswalk:
            per_pkg = x["billing_units_per_package"]
            ndcs.append(NdcRow(x["ndc_hyphenated"], x["labeler"], x["drug_name"], x["package_size"],
                               x["package_quantity"], x["billing_units"], per_pkg,
                               (per_pkg * limit).quantize(CENT, ROUND_HALF_UP) if per_pkg is not None and limit
                               else None))
        mue_rows, mue_note = _mue(store, code, on, sources)
        opps_row, opps_note = _opps(store, code, on, sources)
        if is_drug:
            modifiers = _modifiers(store, row["release"], on, sources)
            related = _related(store, row, on)
            diagnoses, diagnoses_note = _diagnoses(store, code, sources)
            denials = _denials(store, bool(_NOC_WORDS.search(row["long_description"] or "")), sources)
    else:  # a modifier: say when it applies, if the guide knows
        rule = next((r for r in DRUG_MODIFIERS if r.code == code), None)
        if rule:
            modifiers = [ModifierInfo(code, row["long_description"], status.summary, row["termination_date"],
                                      rule.when, cite_text(rule.cite), hcpcs_source, tags(rule.cite))]
    source_files = list(sources.used.values())
    return Guide(code, row["kind"], on, row["long_description"], row["short_description"], hcpcs_source,
                 unit, unit_note, status, indicators, payment, payment_note, mue_rows, mue_note, ndcs, ndc_source, ndc_note,
                 modifiers, related, diagnoses, diagnoses_note, denials, warnings, source_files, opps_row, opps_note)


@dataclass
class SearchHit:
    code: str
    long_description: str
    status: str
    score: int
    brands: list[str]

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


def search_codes(store: Any, query: str, on: dt.date | None = None, limit: int = 20) -> list[SearchHit]:
    """Codes whose descriptors (or crosswalk drug names) contain every word of ``query``, best first:
    whole-word hits in the long descriptor, drug codes, active codes, shorter descriptors."""
    on = on or dt.date.today()
    words = [w.lower() for w in re.findall(r"[\w-]+", query or "")]
    release = _latest_hcpcs_release(store)
    if not words or release is None:
        return []
    conditions, score, params_where, params_score = [], [], [], []
    for word in words:
        conditions.append("(h.long_description ILIKE ? OR h.short_description ILIKE ? OR b.brands ILIKE ?)")
        params_where += [f"%{word}%"] * 3
        score.append("CASE WHEN regexp_matches(lower(h.long_description), ?) THEN 3 "
                     "WHEN b.brands ILIKE ? THEN 2 ELSE 1 END")
        params_score += [r"\b" + re.escape(word) + r"\b", f"%{word}%"]
    # brand names: the crosswalk's drug names per code, aggregated once
    brands = ("SELECT hcpcs, string_agg(DISTINCT trim(drug_name), ', ' ORDER BY trim(drug_name)) AS brands "
              "FROM ndc_crosswalk GROUP BY hcpcs")
    sql = f"""
        WITH b AS ({brands})
        SELECT h.code, h.long_description, h.add_date, h.termination_date, coalesce(b.brands, '') AS brands,
               ({' + '.join(score)}) + CASE WHEN h.is_drug THEN 2 ELSE 0 END AS score
        FROM hcpcs h LEFT JOIN b ON b.hcpcs = h.code
        WHERE h.release = ? AND {' AND '.join(conditions)}
        ORDER BY score DESC, (h.termination_date IS NOT NULL AND h.termination_date < ?), length(h.long_description),
                 h.code
        LIMIT ?"""
    rows = store.con.execute(sql, [*params_score, release, *params_where, on, limit]).fetchall()
    hits = []
    for code, desc, add, term, brands, score_ in rows:
        status = (f"terminated {term}" if term and on > term else
                  f"not yet effective (added {add})" if add and on < add else "active")
        hits.append(SearchHit(code, desc, status, int(score_), [b for b in brands.split(", ") if b]))
    return hits


@dataclass
class NdcInfo:
    """What the ASP crosswalk in force says about one NDC (one row per HCPCS code it maps to)."""

    query: str
    ndc: str  # 5-4-2 hyphenated
    date_of_service: dt.date
    rows: list[dict[str, Any]]
    source: str
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def lookup_ndc(store: Any, text: str, on: dt.date | None = None) -> NdcInfo:
    """The HCPCS code(s), billing units per item and package, drug, labeler and ASP payment per
    package for an NDC in any printed form. Raises :class:`UnknownCodeError` with the reason."""
    on = on or dt.date.today()
    ndc11 = normalize_ndc(text)
    if ndc11 is None:
        raise UnknownCodeError(f"not an NDC: {ndc_problem(text)}")
    hyphenated = format_ndc(ndc11)
    sources = _Sources(store)
    rows = store.crosswalk_by_ndc(ndc11, on) if "ndc_crosswalk" in _facts(store).loaded else []
    if not rows:
        noc = store.con.execute(
            "SELECT release, drug_generic_name FROM noc_crosswalk WHERE ndc11 = ? ORDER BY effective_from DESC LIMIT 1",
            [ndc11]).fetchone() if "noc_crosswalk" in _facts(store).loaded else None
        if noc:
            raise UnknownCodeError(
                f"NDC {hyphenated} is in the ASP NOC crosswalk {noc[0]} ({noc[1]}): it has no specific HCPCS code",
                hint="Bill it with the NOC code (e.g. J3490/J3590) and the drug description in SV101-7.")
        raise UnknownCodeError(
            f"NDC {hyphenated} is not in the ASP NDC-HCPCS crosswalk in force on {on}",
            hint="The crosswalk lists only NDCs priced under ASP; check the NDC on the package and the FDA NDC Directory.")
    warnings = []
    out = []
    for x in rows:
        asp = store.asp(x["hcpcs"], on)
        limit = asp["payment_limit"] if asp else None
        per_pkg = x["billing_units_per_package"]
        hcpcs = store.hcpcs(x["hcpcs"], on)
        out.append({
            "hcpcs": x["hcpcs"], "hcpcs_description": hcpcs["long_description"] if hcpcs else x["short_description"],
            "hcpcs_dosage": x["hcpcs_dosage"], "drug_name": (x["drug_name"] or "").strip(), "labeler": x["labeler"],
            "package_size": x["package_size"], "package_quantity": x["package_quantity"],
            "billing_units_per_item": x["billing_units"], "billing_units_per_package": per_pkg,
            "payment_limit": limit, "asp_quarter": asp["release"] if asp else _quarter_in_force(store, "asp_pricing", on),
            "payment_per_package": (per_pkg * limit).quantize(CENT, ROUND_HALF_UP) if limit and per_pkg else None,
        })
        if x["covers_dos"] is False:
            warnings.append(_crosswalk_past(x, on))
        if asp is None and store.in_force("asp_pricing", on) is None:
            warnings.append(_not_held(store, "asp_pricing", "ASP payment limit", on,
                                      "pull the quarter of the date (reclaim data pull --dataset asp)"))
    return NdcInfo(text, hyphenated, on, out, sources.label("ndc_crosswalk", rows[0]["release"]), sorted(set(warnings)))
