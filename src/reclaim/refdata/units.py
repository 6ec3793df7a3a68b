"""The billing unit of a HCPCS drug code, read from its long descriptor.

One billing unit is the dose in the descriptor: "Injection, denosumab, 1 mg" bills 60 units for
a 60 mg dose (domain-facts §1.3 [CMS-RAC74]; use the long descriptor, not the 28-character short
one [RTA-UNITS]). The ASP pricing file states the same unit a second time ("HCPCS Code Dosage",
"1 MG"); the same grammar reads both, so the two official statements can be compared.

The parser returns None rather than guessing when the descriptor states no single dose:
combination doses ("7.5 mg/2.5 mg", "acetaminophen 10 mg and ibuprofen 3 mg"), ranges
("less than or equal to 100 mg", "up to 28 days of therapy"), NOC codes ("Unclassified drugs")
and whole-product codes without a unit. ``tests/refdata/test_units.py`` lists those codes.

How the dose is chosen among several phrases in a descriptor:
  * phrases inside parentheses are qualifiers ("1 microgram (40 i.u.)", "(up to 50 usp units)");
  * concentrations ("mg/ml", "0.36 mg per 0.25 cc") and container sizes ("provided in 1.1 mg
    vial") are not the unit;
  * an explicit "per ..." phrase wins ("per study dose, up to 6 millicuries" bills per dose),
    otherwise the last dose phrase (the unit ends the descriptor by CMS convention);
  * "(500 ml = 1 unit)" states the unit outright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["BillingUnit", "DOSE_IN_TEXT", "DOSE_TWICE_IN_TEXT", "dose_in_text", "parse_billing_unit", "units_agree"]


@dataclass(frozen=True)
class BillingUnit:
    """One billing unit: ``amount`` of ``uom`` (normalized), as written in ``text``."""

    amount: Decimal
    #: normalized unit of measure: mg, mcg, g, ml, units, iu, usp units, million units, kiu, meq,
    #: mci, uci, sq cm, million pfu, billion vector genomes, dose, study dose, vial, each,
    #: infusion, treatment, implant, instillation
    uom: str
    #: the phrase of the descriptor the unit was read from ("1 mg", "per 10 mg", "up to 5 ml")
    text: str

    def __str__(self) -> str:
        amount = format(self.amount.normalize(), "f")
        return f"{amount} {self.uom}"


# spelled forms -> normalized unit; longest spellings first so "million units" beats "units"
_UOM_SPELLINGS: list[tuple[str, str]] = [
    (r"billion\s+vector\s+genomes", "billion vector genomes"),
    (r"million\s+(?:plaque\s+forming\s+units|pfu)", "million pfu"),
    (r"million\s+(?:units|unit)", "million units"),
    (r"usp\s+(?:units|unit)", "usp units"),
    (r"square\s+(?:centimeters|centimeter|cenitmeter|cm)|sq\.?\s*cm", "sq cm"),
    (r"millicuries|millicurie|mci", "mci"),
    (r"microcuries|microcurie|uci|µci", "uci"),
    (r"milligrams|milligram|mg", "mg"),
    (r"micrograms|microgram|mcg|µg", "mcg"),
    (r"grams|gram|gm|g", "g"),
    (r"milliliters|milliliter|ml|cc", "ml"),
    (r"kiu", "kiu"),
    (r"i\.\s?u\.?|iu", "iu"),
    (r"units|unit", "units"),
    (r"meq", "meq"),
]
# units that are a countable thing, written without an amount ("per vial", "per therapeutic dose")
_COUNT_SPELLINGS: list[tuple[str, str]] = [
    (r"study\s+dose", "study dose"),
    (r"(?:therapeutic\s+)?dose", "dose"),
    (r"single[\s-](?:use|dose)\s+vial|vial", "vial"),
    (r"each|ea", "each"),
    (r"infusion", "infusion"),
    (r"treatment", "treatment"),
    (r"implant", "implant"),
    (r"instillation", "instillation"),
]
_UOM_BY_SPELLING = [(re.compile(rf"(?:{s})", re.I), u) for s, u in _UOM_SPELLINGS + _COUNT_SPELLINGS]

_AMOUNT = r"(?<![\w.^])(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_MEASURE = "|".join(s for s, _ in _UOM_SPELLINGS)
_COUNT = "|".join(s for s, _ in _COUNT_SPELLINGS)
_DOSE = re.compile(
    rf"""
    (?P<prefix>\b(?:per(?:\s+factor\s+[ivx]+)?|up\s+to)\s+)?
    (?:
        {_AMOUNT}\s*(?P<uom>{_MEASURE})(?![a-z])
      | \b(?P<bare>{_MEASURE})(?![a-z])                         # "per ml", "per milligram"
      | (?:(?P<count_amount>1)\s+)?\b(?P<count>{_COUNT})(?![a-z])  # "per vial", "1 dose"
    )
    """,
    re.I | re.X,
)
# "(500 ml = 1 unit)": the unit stated outright
_EQUALS_ONE_UNIT = re.compile(rf"{_AMOUNT}\s*(?P<uom>{_MEASURE})\s*=\s*1\s+unit\b", re.I)
_CONCENTRATION_AFTER = re.compile(rf"\s*(?:/\s*(?:ml|cc)\b|per\s+(?:[\d.]+\s*)?(?:ml|cc)\b)", re.I)
_COMBINATION_AFTER = re.compile(r"\s*/\s*[a-z-]*\s*\d", re.I)
_RANGE_BEFORE = re.compile(r"(?:less\s+than\s+or\s+equal\s+to|greater\s+than|over|minimum\s+of)\s*$", re.I)
_CONTAINER_BEFORE = re.compile(r"provided\s+in\s*$", re.I)
_PART_BREAK = re.compile(r"[,;]")
_AND = re.compile(r"\band\b", re.I)
# "single unit dosage form (354 mg)", "single unit dose applicator (3.2 mg)": the parenthesis is the unit
_SINGLE_UNIT_FORM = re.compile(rf"single\s+unit\s+dos(?:e|age)\s+\w+(?:\s+\w+)?\s*\(\s*{_AMOUNT}\s*(?P<uom>{_MEASURE})\s*\)", re.I)


def _uom(spelling: str) -> str:
    spelling = " ".join(spelling.lower().split())
    for pattern, uom in _UOM_BY_SPELLING:
        if pattern.fullmatch(spelling):
            return uom
    raise AssertionError(f"unit spelling {spelling!r} matched the grammar but has no normalized form")


def _paren_depths(text: str) -> list[int]:
    depths, depth = [], 0
    for char in text:
        if char == "(":
            depth += 1
        depths.append(depth)
        if char == ")":
            depth = max(0, depth - 1)
    return depths


def parse_billing_unit(descriptor: str) -> BillingUnit | None:
    """The billing unit stated in a HCPCS long descriptor (or an ASP "HCPCS Code Dosage"), or None
    when the text states no single dose (combination, range, NOC, no unit): never a guess."""
    if not descriptor or not descriptor.strip():
        return None
    text = " ".join(descriptor.split())
    stated = _EQUALS_ONE_UNIT.search(text)
    if stated:
        return BillingUnit(Decimal(stated["amount"].replace(",", "")), _uom(stated["uom"]), stated.group(0))

    depths = _paren_depths(text)
    candidates: list[re.Match[str]] = []
    combined_parts: set[int] = set()
    for match in _DOSE.finditer(text):
        has_per = bool(match["prefix"]) and match["prefix"].lower().startswith("per")
        if (match["bare"] and not has_per) or (match["count"] and not (has_per or match["count_amount"])):
            continue  # a unit word without an amount or "per" is prose ("single unit dosage form")
        start = match.start("prefix") if match["prefix"] else match.start()
        if depths[start] > 0:
            continue  # a qualifier inside parentheses
        before, after = text[:start], text[match.end() :]
        if _RANGE_BEFORE.search(before):
            return None  # "less than or equal to 100 mg": a dose range, not a unit
        if _CONTAINER_BEFORE.search(before) or _CONCENTRATION_AFTER.match(after):
            continue
        part = len(_PART_BREAK.findall(before))
        if _COMBINATION_AFTER.match(after) or (before.rstrip().endswith("/") and match["amount"]):
            combined_parts.add(part)
        candidates.append(match)
    if not candidates:
        single = _SINGLE_UNIT_FORM.search(text)
        if single:
            return BillingUnit(Decimal(single["amount"].replace(",", "")), _uom(single["uom"]), single.group(0))
        return None
    with_per = [m for m in candidates if m["prefix"] and m["prefix"].lower().startswith("per")]
    chosen = (with_per or candidates)[-1]
    chosen_part = len(_PART_BREAK.findall(text[: chosen.start()]))
    same_part = [m for m in candidates if len(_PART_BREAK.findall(text[: m.start()])) == chosen_part]
    if chosen_part in combined_parts or len(same_part) > 1:
        return None  # two doses in one phrase ("10 mg/10 mg", "x 3 mg and y 3 mg"): a combination
    for other in candidates:
        if other is not chosen and other["amount"]:
            between = text[min(other.end(), chosen.end()) : max(other.start(), chosen.start())]
            if _AND.search(between):
                return None  # "albuterol, up to 2.5 mg and ipratropium bromide, up to 0.5 mg"
    if chosen["count"]:
        return BillingUnit(Decimal(1), _uom(chosen["count"]), chosen.group(0).strip())
    amount = Decimal(chosen["amount"].replace(",", "")) if chosen["amount"] else Decimal(1)
    return BillingUnit(amount, _uom(chosen["uom"] or chosen["bare"]), chosen.group(0).strip())


def units_agree(a: BillingUnit | None, b: BillingUnit | None) -> bool:
    """Whether two statements of a billing unit name the same amount of the same thing."""
    return a is not None and b is not None and a.amount == b.amount and a.uom == b.uom


# The dose a claim line's description states ("PROLIA 60 MG", "infliximab 500mg IV"): a number
# and a unit of mass or units, not a concentration ("60 MG/ML") and not part of a longer number
# or word. Written once for Python, DuckDB (RE2) and Spark (Java): no look-around, no
# backslashes; matched against the upper-cased text. Group 1 is the amount, group 2 the unit.
DOSE_IN_TEXT = "(?:^|[^0-9.])([0-9]+(?:[.][0-9]+)?) ?(MG|MCG|GM|G|UNITS|UNIT|IU)(?:[^A-Z/]|$)"
#: a second dose phrase after the first: the text states more than one dose, so none is taken
DOSE_TWICE_IN_TEXT = DOSE_IN_TEXT + ".*[0-9] ?(?:MG|MCG|GM|G|UNITS|UNIT|IU)(?:[^A-Z/]|$)"
_DOSE_UOM = {"MG": "mg", "MCG": "mcg", "G": "g", "GM": "g", "IU": "iu", "UNIT": "units", "UNITS": "units"}


def dose_in_text(text: str | None) -> tuple[Decimal, str] | None:
    """The one dose a line description states, as (amount, normalized unit), or None when it
    states none or more than one (the engine's SQL applies the same two patterns)."""
    if not text:
        return None
    upper = text.upper()
    found = re.search(DOSE_IN_TEXT, upper)
    if not found or re.search(DOSE_TWICE_IN_TEXT, upper):
        return None
    return Decimal(found.group(1)), _DOSE_UOM[found.group(2)]
