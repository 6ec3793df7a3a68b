"""Billing units read from HCPCS long descriptors, checked over every drug code of the real
CMS HCPCS 2025-10 file and against the second official statement of the same unit, the
"HCPCS Code Dosage" column of the ASP 2025-Q4 pricing file."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from reclaim.refdata.units import BillingUnit, parse_billing_unit, units_agree

HCPCS = Path("cms_hcpcs/2025-10/HCPC2025_OCT_ANWEB.xlsx")
ASP = Path("cms_asp/2025-Q4/asp_pricing.csv")

# Drug codes (pricing indicator 51) whose descriptor states no single dose: None is the right
# answer, never a guess. Each group says why; the test fails if the set changes either way.
KNOWN_UNPARSEABLE = {
    # not otherwise classified / specified: the unit is the claim's description (domain-facts §1.5)
    "noc": {"A4641", "A9698", "J3490", "J3590", "J3591", "J7199", "J7599", "J7699", "J7799", "J7999",
            "J8498", "J8597", "J8999", "J9999", "Q0181", "Q4082", "Q4100", "Q9977"},
    # two or more ingredients each with its own dose ("10 mg/10 mg", "x 3 mg and y 125 mg")
    "combination": {"J0138", "J0211", "J0458", "J0668", "J0695", "J0702", "J0714", "J0741", "J0742",
                    "J0911", "J1454", "J2186", "J2543", "J2865", "J7356", "J7620", "J8655", "J9153", "J9298",
                    "Q9978"},
    # a dose or duration range, one unit per administration ("less than or equal to 100 mg")
    "range": {"J0577", "J0578", "J1560", "Q9991", "Q9992"},
    # a concentration only ("10 mg/ml") or no amount at all ("Nasal vaccine inhalation")
    "no unit stated": {"J0275", "J3265", "J3530"},
}

# Codes in both files whose two statements differ. Reviewed one by one: the wording differs
# (units vs iu/usp units, vial vs each), the ASP file sums or picks one ingredient of a
# combination, or it states a cell count where the HCPCS file bills per therapeutic dose.
KNOWN_DISAGREEMENTS = {
    "J0725": "HCPCS 'per 1,000 usp units' / ASP '1000 UNITS'",
    "J2724": "HCPCS '10 iu' / ASP '10 UNITS'",
    "J7171": "HCPCS '10 iu' / ASP '10 UNITS'",
    "J9266": "HCPCS 'per single dose vial' / ASP '1 EA'",
    "J0695": "combination; ASP sums it: '75mg (50mg cft/25mg taz)'",
    "J0714": "combination; ASP sums it: '.625 GM'",
    "J2543": "combination; ASP gives the total '1.125 GM'",
    "J1454": "combination; ASP gives palonosetron only '0.25 MG'",
    "J8655": "combination; ASP gives palonosetron only '0.5 MG'",
    "J1560": "HCPCS 'over 10 cc' (a range) / ASP '10 CC'",
    "Q2041": "HCPCS per therapeutic dose / ASP 'UP TO 200 MILLION CAR T CELLS'",
    "Q2042": "HCPCS per therapeutic dose / ASP 'up to 600 million CAR-positive viable T cells'",
    "Q2053": "HCPCS per therapeutic dose / ASP cell count",
    "Q2055": "HCPCS per therapeutic dose / ASP cell count",
    "Q2056": "HCPCS per therapeutic dose / ASP cell count",
}
# both sides unparseable on purpose (combination or range in both files)
BOTH_UNPARSEABLE = {"J0138", "J0577", "J0578", "J0702", "J0741", "J0742", "J0750", "J0751", "J2865",
                    "J7356", "J7620", "J9153", "J9298", "Q9991", "Q9992"}


@pytest.fixture(scope="module")
def hcpcs_rows(refdata_dir) -> dict[str, dict[str, str]]:
    workbook = openpyxl.load_workbook(refdata_dir / HCPCS, read_only=True)
    rows = workbook.active.iter_rows(values_only=True)
    header = [str(h).strip() for h in next(rows)]
    codes = {}
    for values in rows:
        row = {h: (str(v).strip() if v is not None else "") for h, v in zip(header, values)}
        if row["RECID"] == "3":
            codes[row["HCPC"]] = row
    workbook.close()
    return codes


@pytest.fixture(scope="module")
def asp_dosage(refdata_dir) -> dict[str, str]:
    with (refdata_dir / ASP).open(encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    header_at = next(i for i, row in enumerate(rows) if row and row[0].strip() == "HCPCS Code")
    col = rows[header_at].index("HCPCS Code Dosage")
    return {row[0].strip(): row[col] for row in rows[header_at + 1 :] if row and row[0].strip()}


@pytest.mark.parametrize(
    ("descriptor", "amount", "uom"),
    [
        ("Injection, denosumab, 1 mg", "1", "mg"),
        ("Injection, infliximab, excludes biosimilar, 10 mg", "10", "mg"),
        ("Injection, darbepoetin alfa, 1 microgram (for esrd on dialysis)", "1", "mcg"),
        ("Injection, epoetin alfa, 1000 units (for esrd on dialysis)", "1000", "units"),
        ("Injection, sulfur hexafluoride lipid microspheres, per ml", "1", "ml"),
        ("Injection, gadoterate meglumine, 0.1 ml", "0.1", "ml"),
        ("Injection, phenytoin sodium, per 50 mg", "50", "mg"),
        ("Injection, aprotonin, 10,000 kiu", "10000", "kiu"),
        ("Injection, interferon, gamma 1-b, 3 million units", "3", "million units"),
        ("Skin substitute, synthetic, resorbable, per square centimeter", "1", "sq cm"),
        ("Injection, pegaspargase, per single dose vial", "1", "vial"),
        ("Infusion, normal saline solution, sterile (500 ml = 1 unit)", "500", "ml"),
        ("Injection, thyrotropin alpha, 0.9 mg, provided in 1.1 mg vial", "0.9", "mg"),
        ("Indium in-111 ibritumomab tiuxetan, diagnostic, per study dose, up to 5 millicuries", "1", "study dose"),
        ("High osmolar contrast material, up to 149 mg/ml iodine concentration, per ml", "1", "ml"),
        ("Cellesta flowable amnion (25 mg per cc); per 0.5 cc", "0.5", "ml"),
        ("Injection, gamma globulin, intramuscular, 1 cc", "1", "ml"),
        ("Injection, factor viii (antihemophilic factor, recombinant), per factor viii i.u.", "1", "iu"),
        ("1 MG", "1", "mg"),  # the ASP "HCPCS Code Dosage" form
        ("150 IU", "150", "iu"),
        ("PER THERAPEUTIC DOSE", "1", "dose"),
        (".625 GM", "0.625", "g"),
    ],
)
def test_parses_descriptors(descriptor: str, amount: str, uom: str) -> None:
    unit = parse_billing_unit(descriptor)
    assert unit is not None and unit.amount == Decimal(amount) and unit.uom == uom
    assert unit.text.lower() in " ".join(descriptor.lower().split())


@pytest.mark.parametrize(
    "descriptor",
    ["", "   ", "Unclassified drugs", "Injection, aztreonam/avibactam, 7.5 mg/2.5 mg (10 mg)",
     "Injection, buprenorphine extended-release (sublocade), less than or equal to 100 mg",
     "Albuterol, up to 2.5 mg and ipratropium bromide, up to 0.5 mg, fda-approved final product",
     "Injection, torsemide, 10 mg/ml", "Nasal vaccine inhalation"],
)
def test_no_guess(descriptor: str) -> None:
    assert parse_billing_unit(descriptor) is None


def test_str() -> None:
    assert str(BillingUnit(Decimal("10.0"), "mg", "10 mg")) == "10 mg"
    assert str(BillingUnit(Decimal("1E+3"), "units", "1000 units")) == "1000 units"


def test_every_drug_code_of_the_hcpcs_file(hcpcs_rows) -> None:
    """All 1,568 pricing-indicator-51 codes: the unparseable ones are exactly the documented list."""
    drugs = {code: row for code, row in hcpcs_rows.items() if row["PRICE1"] == "51"}
    assert len(drugs) == 1568
    unparsed = {code for code, row in drugs.items() if parse_billing_unit(row["LONG DESCRIPTION"]) is None}
    expected = set().union(*KNOWN_UNPARSEABLE.values())
    assert unparsed == expected
    assert len(unparsed) / len(drugs) < 0.03  # 46 of 1,568


def test_agrees_with_the_asp_dosage(hcpcs_rows, asp_dosage) -> None:
    """The unit parsed from the HCPCS descriptor equals the ASP file's statement of it."""
    both = sorted(set(asp_dosage) & set(hcpcs_rows))
    assert len(both) == 978  # the other 34 ASP rows are CPT vaccine codes, absent from Level II
    agree, differ = [], {}
    for code in both:
        ours = parse_billing_unit(hcpcs_rows[code]["LONG DESCRIPTION"])
        theirs = parse_billing_unit(asp_dosage[code])
        if units_agree(ours, theirs):
            agree.append(code)
        elif not (ours is None and theirs is None):
            differ[code] = (ours, theirs)
    neither = set(both) - set(agree) - set(differ)
    assert neither == BOTH_UNPARSEABLE
    assert set(differ) == set(KNOWN_DISAGREEMENTS), {c: differ[c] for c in set(differ) ^ set(KNOWN_DISAGREEMENTS) if c in differ}
    assert len(agree) == 948  # 96.9% of the codes in both files


def test_domain_facts_examples(hcpcs_rows) -> None:
    """domain-facts §0/§1.3: J0897 1 mg, J1745 10 mg, J1327 5 mg, Q5136 1 mg."""
    for code, amount in (("J0897", "1"), ("J1745", "10"), ("J1327", "5"), ("Q5136", "1"), ("Q5159", "1")):
        unit = parse_billing_unit(hcpcs_rows[code]["LONG DESCRIPTION"])
        assert unit is not None and (unit.amount, unit.uom) == (Decimal(amount), "mg"), code
