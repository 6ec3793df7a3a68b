"""Generate examples/history: three months of synthetic drug claims (837P) and their remittances
(835) with realistic payer behaviour, for the closed-loop reports (docs/closed-loop.md).

SYNTHETIC DATA: no real patient, provider or payer. Codes, NDCs, billing units, payment limits
and coinsurance come from the official CMS ASP 2025-Q4 files in ../shared/refdata (read at run
time, never copied), so every price the remittances carry is ASP-based arithmetic, not invented.

Run: ``.venv/bin/python examples/history/generate.py [--out DIR] [--claims-per-month N]``.
The same seed gives byte-identical files.

Practice: Valley Infusion Clinic (NPI 1234567893). Payers:

* Medicare Part B (MB, 01112): ASP limit x units, PR-2 coinsurance from the ASP file,
  CO-253 2% sequestration on the Medicare share, CO-45 for the rest (domain-facts 5, 11);
* ACME Health Plan (CI, ACME01): ASP + 15%, 10% coinsurance;
* State Medicaid (MC, SKMCD): ASP limit, no coinsurance, adjudicates some lines on the NDC.

Behaviours, each on a share of lines (see ``SCENARIOS``): edit-catchable denials (missing JZ,
missing NDC, terminated JG modifier, fractional units, units in milligrams), denials no edit
catches (medical necessity, no precertification, COB, duplicate, timely filing), payer changes
(J9271 unit cuts by ACME, dropped or added modifiers, code swaps to a biosimilar, NDC swaps,
split lines, saline bundled into the drug, a claim total short of its lines), and corrected
claims (frequency 7 with REF*F8) paid in the next cycle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "refdata" / "cms_asp" / "2025-Q4"
SEED = 20251001
CENT = Decimal("0.01")

#: (code, NDC, units per dose, diagnosis): real crosswalk NDCs; units = the usual dose in HCPCS units
DRUGS = [
    ("J0897", "55513-0710-01", Decimal(60), "M810"),    # Prolia 60 mg
    ("J0897", "55513-0730-01", Decimal(120), "C7951"),  # Xgeva 120 mg
    ("J1745", "57894-0030-01", Decimal(50), "K5090"),   # Remicade 500 mg
    ("J9271", "00006-3026-02", Decimal(200), "C3490"),  # Keytruda 200 mg (2 x 100 mg vials)
    ("J9035", "50242-0060-01", Decimal(40), "C187"),    # Avastin 400 mg (4 x 100 mg vials)
    ("J2506", "55513-0190-01", Decimal(12), "D701"),    # Neulasta 6 mg
]
SALINE = ("J7050", "00264-5802-10", Decimal(2))  # 500 cc normal saline, bundled by some payers
INFLECTRA = ("J1745", "00069-0809-01", "Q5103")  # biosimilar NDC billed under the reference code
MVASI = "Q5107"  # bevacizumab biosimilar a payer may swap J9035 to

PAYERS = {
    "MB": ("MEDICARE PART B", "01112"),
    "CI": ("ACME HEALTH PLAN", "ACME01"),
    "MC": ("STATE MEDICAID", "SKMCD"),
}

#: (scenario, payer filing codes it applies to, weight): what happens to a claim
SCENARIOS = [
    ("clean", "MB CI MC", 60),
    ("missing_jz", "MB CI", 6),          # RC301 -> CO-4 (Medicare); ACME pays and adds JZ
    ("missing_ndc", "MC", 4),            # RC401 -> CO-16 + M119
    ("jg_modifier", "MB", 2),            # RC102 (JG terminated 2024-12-31) -> CO-4
    ("fractional_units", "MB MC", 2),    # RC201 -> CO-16 + N430
    ("units_in_mg", "CI", 2),            # RC203 -> units cut to the dose (CO-151)
    ("biosimilar_ndc", "MB", 2),         # RC104 -> payer recodes J1745 to Q5103
    ("not_medically_necessary", "MB", 3),  # CO-50 + N386: no edit (no coverage data)
    ("no_precert", "CI", 3),             # CO-197: no edit
    ("cob", "MC", 2),                    # CO-22: no edit
    ("duplicate", "MB CI MC", 1),        # OA-18
    ("timely_filing", "CI", 1),          # CO-29
    ("j9271_unit_cut", "CI", 6),         # ACME cuts Keytruda to 100 units (CO-151)
    ("drops_modifier", "CI", 4),         # ACME reports the line without JZ (no money)
    ("swap_to_biosimilar", "CI", 2),     # ACME pays J9035 as Q5107 (dispute)
    ("ndc_swap", "MC", 3),               # Medicaid adjudicates on another Prolia NDC
    ("split_line", "CI", 2),             # one J9271 line paid as two SVC of 100
    ("short_claim_total", "CI", 1),      # CLP04 25.00 below the lines' payments
]


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """X12 number: no trailing zeros (1762.80 -> 1762.8, 60.000 -> 60)."""
    text = format(Decimal(value).normalize(), "f")
    return text


def load_asp(folder: Path = SHARED) -> tuple[dict, dict]:
    """Payment limit/coinsurance per code and billing units per NDC item, from the mirror."""
    import sys

    sys.path.insert(0, str(REPO / "src"))
    from reclaim.refdata import asp

    pricing = asp.load(folder / "asp_pricing.csv", "asp_pricing")[0].rows.to_pylist()
    xwalk = asp.load(folder / "asp_crosswalk.csv", "ndc_crosswalk")[0].rows.to_pylist()
    limits = {r["hcpcs"]: (Decimal(r["payment_limit"]), Decimal(r["coinsurance_pct"]))
              for r in pricing if r["payment_limit"] is not None}
    units = {(r["ndc_hyphenated"], r["hcpcs"]): Decimal(r["billing_units"]) for r in xwalk if r["billing_units"]}
    return limits, units


@dataclass
class Line:
    code: str
    mods: list[str]
    units: Decimal
    charge: Decimal
    dos: dt.date
    ndc: str | None
    ndc_qty: Decimal | None
    lcn: str | None


@dataclass
class Claim:
    clm01: str
    payer: str
    member: str
    first: str
    dx: str
    lines: list[Line]
    freq: str = "1"
    original_icn: str | None = None
    scenario: str = "clean"

    @property
    def total(self) -> Decimal:
        return sum((ln.charge for ln in self.lines), Decimal(0))


@dataclass
class Svc:
    code: str
    mods: list[str]
    charge: Decimal
    paid: Decimal
    units: Decimal
    dos: dt.date
    lcn: str | None
    cas: list[tuple[str, str, Decimal, Decimal | None]] = field(default_factory=list)
    rarcs: list[str] = field(default_factory=list)
    orig: tuple[str, list[str]] | None = None  # SVC06 when the payer changed the code or modifiers
    qualifier: str = "HC"
    allowed: Decimal | None = None
    orig_units: Decimal | None = None  # SVC07 when the payer paid other units than billed


@dataclass
class Remit:
    claim: Claim
    status: str
    icn: str
    svcs: list[Svc]
    paid_override: Decimal | None = None  # CLP04 that differs from the lines (payer error)


class Generator:
    def __init__(self, claims_per_month: int, seed: int = SEED):
        self.rng = random.Random(seed)
        self.limits, self.bill_units = load_asp()
        self.per_month = claims_per_month
        self.counter = 0
        self.icn = 2525300000000
        self.patients = {p: [(self._member(), f"P{p}{i:03d}") for i in range(40)] for p in PAYERS}

    def _member(self) -> str:
        letters = "ACDEFGHJKMNPQRTUVWXY"
        r = self.rng
        return (f"{r.randint(1, 9)}{r.choice(letters)}{r.choice(letters)}{r.randint(0, 9)}{r.choice(letters)}"
                f"{r.choice(letters)}{r.randint(0, 9)}{r.choice(letters)}{r.choice(letters)}{r.randint(10, 99)}")

    def next_icn(self) -> str:
        self.icn += 1
        return str(self.icn)

    # -- claims ------------------------------------------------------------------------------
    def charge(self, code: str, units: Decimal) -> Decimal:
        """The clinic's chargemaster: 160% of the ASP limit per unit."""
        return money(money(self.limits[code][0] * Decimal("1.6")) * units)

    def drug_line(self, code: str, ndc: str, units: Decimal, dos: dt.date, lcn: str, mods=("JZ",)) -> Line:
        per_item = self.bill_units[(ndc, code)]
        qty = (units / per_item).to_integral_value(rounding="ROUND_CEILING")
        return Line(code, list(mods), units, self.charge(code, units), dos, ndc, qty, lcn)

    def claim(self, payer: str, dos: dt.date) -> Claim:
        rng = self.rng
        self.counter += 1
        clm01 = f"VH{self.counter:05d}"
        names = [s for s, kinds, _ in SCENARIOS if payer in kinds.split()]
        weights = [w for s, kinds, w in SCENARIOS if payer in kinds.split()]
        scenario = rng.choices(names, weights)[0]
        code, ndc, units, dx = rng.choice(DRUGS)
        if scenario in ("j9271_unit_cut", "split_line"):
            code, ndc, units, dx = DRUGS[3]
        elif scenario == "units_in_mg" or scenario == "biosimilar_ndc":
            code, ndc, units, dx = DRUGS[2]
        elif scenario == "swap_to_biosimilar":
            code, ndc, units, dx = DRUGS[4]
        elif scenario in ("ndc_swap", "fractional_units"):
            code, ndc, units, dx = DRUGS[0]
        member, first = rng.choice(self.patients[payer])
        lines = [self.drug_line(code, ndc, units, dos, f"{clm01}-1")]
        first_line = lines[0]
        if scenario == "missing_jz":
            first_line.mods = []
        elif scenario == "missing_ndc":
            first_line.ndc, first_line.ndc_qty = None, None
        elif scenario == "jg_modifier":
            first_line.mods = ["JG", "JZ"]
        elif scenario == "fractional_units":
            first_line.units = units + Decimal("0.5")
            first_line.charge = self.charge(code, first_line.units)
        elif scenario == "units_in_mg":
            first_line.units = units * 10  # 500 "units" for 500 mg of a 10 mg code
            first_line.charge = self.charge(code, first_line.units)
        elif scenario == "biosimilar_ndc":
            first_line.ndc = INFLECTRA[1]
        if rng.random() < 0.25 and scenario not in ("missing_ndc",):
            lines.append(self.drug_line(*SALINE, dos, f"{clm01}-2"))
        if rng.random() < 0.15:  # some practices send no REF*6R: matching falls back to code + date
            for ln in lines:
                ln.lcn = None
        return Claim(clm01, payer, member, first, dx, lines, scenario=scenario)

    # -- adjudication ------------------------------------------------------------------------
    def priced(self, payer: str, code: str, units: Decimal, charge: Decimal) -> tuple[Decimal, list, Decimal]:
        """(paid, CAS rows, allowed) for a payable line."""
        limit, coins = self.limits[code]
        if payer == "MB":
            allowed = money(limit * units)
            pr = money(allowed * coins / 100)
            seq = money((allowed - pr) * Decimal("0.02"))
            paid = allowed - pr - seq
            cas = [("CO", "45", charge - allowed, None), ("CO", "253", seq, None), ("PR", "2", pr, None)]
        elif payer == "CI":
            allowed = money(limit * Decimal("1.15") * units)
            pr = money(allowed * Decimal("0.10"))
            paid = allowed - pr
            cas = [("CO", "45", charge - allowed, None), ("PR", "2", pr, None)]
        else:
            allowed = money(limit * units)
            paid = allowed
            cas = [("CO", "45", charge - allowed, None)]
        return paid, [c for c in cas if c[2] != 0], allowed

    def pay(self, claim: Claim, ln: Line, code: str | None = None, units: Decimal | None = None) -> Svc:
        code = code or ln.code
        units = ln.units if units is None else units
        paid, cas, allowed = self.priced(claim.payer, code, units, ln.charge)
        return Svc(code, list(ln.mods), ln.charge, paid, units, ln.dos, ln.lcn, cas, allowed=allowed)

    def deny(self, ln: Line, group: str, carc: str, rarcs=()) -> Svc:
        return Svc(ln.code, list(ln.mods), ln.charge, Decimal(0), ln.units, ln.dos, ln.lcn,
                   [(group, carc, ln.charge, None)], list(rarcs))

    def adjudicate(self, claim: Claim) -> Remit:
        s, payer, rng = claim.scenario, claim.payer, self.rng
        drug, *rest = claim.lines
        svcs: list[Svc] = []
        if s == "missing_jz" and payer == "MB" and claim.freq == "1":
            first = self.deny(drug, "CO", "4", ["N822"]) if rng.random() < 0.5 else self.deny(drug, "CO", "16", ["MA130"])
        elif s == "missing_jz":  # ACME pays, and reports the line with the JZ it assumed
            first = self.pay(claim, drug)
            first.mods, first.orig = ["JZ"], (drug.code, [])
        elif s == "missing_ndc":
            first = self.deny(drug, "CO", "16", ["M119"])
        elif s == "jg_modifier":
            first = self.deny(drug, "CO", "4", ["N519"])
        elif s == "fractional_units":
            first = self.deny(drug, "CO", "16", ["N430"])
        elif s == "units_in_mg":
            dose = drug.units / 10
            first = self.pay(claim, drug, units=dose)
            cut_charge = money(drug.charge * (drug.units - dose) / drug.units)
            first.cas = [("CO", "151", cut_charge, drug.units - dose)] + \
                self.priced(payer, drug.code, dose, drug.charge - cut_charge)[1]
            first.paid = self.priced(payer, drug.code, dose, drug.charge - cut_charge)[0]
            first.rarcs, first.orig_units = ["N430"], drug.units
        elif s == "biosimilar_ndc":
            first = self.pay(claim, drug, code=INFLECTRA[2])
            first.orig = (drug.code, list(drug.mods))
            first.rarcs = ["N657"]
        elif s == "not_medically_necessary":
            first = self.deny(drug, "CO", "50", ["N386"])
        elif s == "no_precert":
            first = self.deny(drug, "CO", "197")
        elif s == "cob":
            first = self.deny(drug, "CO", "22")
        elif s == "duplicate":
            first = self.deny(drug, "OA", "18")
        elif s == "timely_filing":
            first = self.deny(drug, "CO", "29")
        elif s == "j9271_unit_cut":
            cut = Decimal(100)
            cut_charge = money(drug.charge * cut / drug.units)
            paid, cas, allowed = self.priced(payer, drug.code, drug.units - cut, drug.charge - cut_charge)
            first = Svc(drug.code, list(drug.mods), drug.charge, paid, drug.units - cut, drug.dos, drug.lcn,
                        [("CO", "151", cut_charge, cut)] + cas, ["N362"], allowed=allowed, orig_units=drug.units)
        elif s == "drops_modifier":
            first = self.pay(claim, drug)
            first.mods, first.orig = [], (drug.code, list(drug.mods))
        elif s == "swap_to_biosimilar":
            first = self.pay(claim, drug, code=MVASI)
            first.orig = (drug.code, list(drug.mods))
        elif s == "ndc_swap":
            first = self.pay(claim, drug)
            first.qualifier, first.code, first.mods = "N4", "55513071021", []
            first.orig = (drug.code, list(drug.mods))
        elif s == "split_line":
            half_units, half_charge = drug.units / 2, money(drug.charge / 2)
            parts = []
            for charge in (half_charge, drug.charge - half_charge):
                paid, cas, allowed = self.priced(payer, drug.code, half_units, charge)
                parts.append(Svc(drug.code, list(drug.mods), charge, paid, half_units, drug.dos, drug.lcn, cas,
                                 orig=(drug.code, list(drug.mods)), allowed=allowed))
            svcs.extend(parts)
            first = None
        else:
            first = self.pay(claim, drug)
        if first is not None:
            svcs.append(first)
        for ln in rest:  # saline
            if payer in ("CI", "MC") and first is not None and first.paid > 0:
                svcs.append(Svc(ln.code, list(ln.mods), ln.charge, Decimal(0), ln.units, ln.dos, ln.lcn,
                                [("CO", "97", ln.charge, None)], ["M144"] if payer == "MC" else []))
            elif first is not None and first.paid == 0:
                svcs.append(self.deny(ln, *first.cas[0][:2], first.rarcs))
            else:
                svcs.append(self.pay(claim, ln))
        status = "4" if all(v.paid == 0 for v in svcs) else "1"
        remit = Remit(claim, status, self.next_icn(), svcs)
        if s == "short_claim_total":
            remit.paid_override = sum(v.paid for v in svcs) - Decimal("25.00")
        return remit

    def corrected(self, claim: Claim, icn: str) -> Claim:
        """A replacement claim (frequency 7, REF*F8 = payer claim number) with JZ added."""
        lines = [Line(ln.code, ln.mods or ["JZ"], ln.units, ln.charge, ln.dos, ln.ndc, ln.ndc_qty, ln.lcn)
                 for ln in claim.lines]
        return Claim(claim.clm01, claim.payer, claim.member, claim.first, claim.dx, lines, freq="7",
                     original_icn=icn, scenario="corrected")

    # -- the months --------------------------------------------------------------------------
    def run(self) -> dict[str, tuple[list[Claim], list[Remit]]]:
        """Cycle name (YYYY-MM) -> (claims submitted, remittances received) per payer key."""
        cycles: dict[str, tuple[list[Claim], list[Remit]]] = {}
        carry: list[tuple[Claim, str]] = []
        for month in (10, 11, 12, 13):
            year, mon = (2025, month) if month <= 12 else (2026, month - 12)
            claims: list[Claim] = [self.corrected(c, icn) for c, icn in carry]
            carry = []
            if month <= 12:
                for _ in range(self.per_month):
                    payer = self.rng.choices(list(PAYERS), [5, 3, 2])[0]
                    day = self.rng.randint(1, 28)
                    claims.append(self.claim(payer, dt.date(year, mon, day)))
            remits = []
            for c in claims:
                remit = self.adjudicate(c)
                remits.append(remit)
                if c.scenario == "missing_jz" and c.payer == "MB" and self.rng.random() < 0.7:
                    carry.append((c, remit.icn))
                if c.scenario == "duplicate":  # the original was paid in the same cycle
                    first = Claim(c.clm01 + "A", c.payer, c.member, c.first, c.dx, c.lines, scenario="clean")
                    claims.append(first)
                    remits.append(self.adjudicate(first))
            cycles[f"{year}-{mon:02d}"] = (claims, remits)
        return cycles


# -- X12 text ----------------------------------------------------------------------------------

def _isa(sender: str, receiver: str, when: dt.date, control: int) -> str:
    return (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*{when:%y%m%d}*0900*^*00501*"
            f"{control:09d}*0*T*:")


def write_837(claims: list[Claim], payer: str, when: dt.date, control: int) -> str:
    name, pid = PAYERS[payer]
    body = [
        "ST*837*0001*005010X222A1", f"BHT*0019*00*VH{control}*{when:%Y%m%d}*0900*CH",
        "NM1*41*2*VALLEY INFUSION CLINIC*****46*VALLEYINF", "PER*IC*BILLING OFFICE*TE*5555550100",
        f"NM1*40*2*{name}*****46*{pid}", "HL*1**20*1",
        "NM1*85*2*VALLEY INFUSION CLINIC*****XX*1234567893", "N3*100 MAIN STREET", "N4*SPRINGFIELD*IL*62701",
        "REF*EI*371234567",
    ]
    for n, c in enumerate(claims, 2):
        body += [f"HL*{n}*1*22*0", f"SBR*P*18*******{payer}", f"NM1*IL*1*TESTPATIENT*{c.first}****MI*{c.member}",
                 "N3*1 TEST STREET", "N4*SPRINGFIELD*IL*62701", "DMG*D8*19480312*F",
                 f"NM1*PR*2*{name}*****PI*{pid}", f"CLM*{c.clm01}*{c.total:.2f}***11:B:{c.freq}*Y*A*Y*Y"]
        if c.original_icn:
            body.append(f"REF*F8*{c.original_icn}")
        body.append(f"HI*ABK:{c.dx}")
        for i, ln in enumerate(c.lines, 1):
            proc = ":".join(["HC", ln.code, *ln.mods])
            body += [f"LX*{i}", f"SV1*{proc}*{ln.charge:.2f}*UN*{fmt(ln.units)}***1", f"DTP*472*D8*{ln.dos:%Y%m%d}"]
            if ln.lcn:
                body.append(f"REF*6R*{ln.lcn}")
            if ln.ndc:
                body += [f"LIN**N4*{ln.ndc.replace('-', '')}", f"CTP****{fmt(ln.ndc_qty)}*UN"]
    body.append(f"SE*{len(body) + 1}*0001")
    segs = [_isa("VALLEYINF", pid, when, control), f"GS*HC*VALLEYINF*{pid}*{when:%Y%m%d}*0900*{control}*X*005010X222A1",
            *body, f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(segs) + "~\n"


def write_835(remits: list[Remit], payer: str, when: dt.date, control: int) -> str:
    name, pid = PAYERS[payer]
    total = Decimal(0)
    claims_segs: list[str] = []
    for n, r in enumerate(remits, 1):
        c = r.claim
        line_paid = sum((v.paid for v in r.svcs), Decimal(0))
        paid = line_paid if r.paid_override is None else r.paid_override
        pr = sum((a[2] for v in r.svcs for a in v.cas if a[0] == "PR"), Decimal(0))
        total += paid
        claims_segs += [f"LX*{n}", f"CLP*{c.clm01}*{r.status}*{fmt(c.total)}*{fmt(paid)}*{fmt(pr) if pr else ''}*"
                        f"{payer}*{r.icn}*11*{c.freq}",
                        f"NM1*QC*1*TESTPATIENT*{c.first}****MI*{c.member}", f"DTM*050*{when:%Y%m%d}"]
        for v in r.svcs:
            svc01 = ":".join([v.qualifier, v.code, *v.mods])
            svc = f"SVC*{svc01}*{fmt(v.charge)}*{fmt(v.paid)}**{fmt(v.units)}"
            if v.orig or v.orig_units is not None:
                svc += "*" + (":".join(["HC", v.orig[0], *v.orig[1]]) if v.orig else "")
            if v.orig_units is not None:
                svc += f"*{fmt(v.orig_units)}"
            claims_segs += [svc, f"DTM*472*{v.dos:%Y%m%d}"]
            for group in dict.fromkeys(a[0] for a in v.cas):
                triplets = [f"{a[1]}*{fmt(a[2])}*{fmt(a[3]) if a[3] is not None else ''}" for a in v.cas if a[0] == group]
                claims_segs.append(f"CAS*{group}*" + "*".join(triplets).rstrip("*"))
            if v.lcn:
                claims_segs.append(f"REF*6R*{v.lcn}")
            if v.allowed is not None:
                claims_segs.append(f"AMT*B6*{fmt(v.allowed)}")
            for code in v.rarcs:
                claims_segs.append(f"LQ*HE*{code}")
    body = [
        "ST*835*0001",
        f"BPR*I*{fmt(total)}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*888888888*DA*654321*{when:%Y%m%d}",
        f"TRN*1*EFT{when:%Y%m%d}{control}*1512345678", f"DTM*405*{when:%Y%m%d}",
        f"N1*PR*{name}*XV*{pid}", "N3*PO BOX 6700", "N4*FARGO*ND*58108", "N1*PE*VALLEY INFUSION CLINIC*XX*1234567893",
        *claims_segs,
    ]
    body.append(f"SE*{len(body) + 1}*0001")
    segs = [_isa(pid, "VALLEYINF", when, control), f"GS*HP*{pid}*VALLEYINF*{when:%Y%m%d}*1200*{control}*X*005010X221A1",
            *body, f"GE*1*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(segs) + "~\n"


def generate(out: Path, claims_per_month: int = 160, seed: int = SEED) -> list[Path]:
    """Write the history under ``out`` (claims/, remits/); returns the files written."""
    cycles = Generator(claims_per_month, seed).run()
    written = []
    control = 1000
    for cycle, (claims, remits) in cycles.items():
        year, mon = map(int, cycle.split("-"))
        sent = dt.date(year, mon, 28) if mon != 1 or year != 2026 else dt.date(2026, 1, 10)
        paid_on = sent + dt.timedelta(days=18)
        for payer in PAYERS:
            mine = [c for c in claims if c.payer == payer]
            theirs = [r for r in remits if r.claim.payer == payer]
            if not mine:
                continue
            control += 1
            for sub, text in (("claims", write_837(mine, payer, sent, control)),
                              ("remits", write_835(theirs, payer, paid_on, control + 500))):
                path = out / sub / f"{cycle}-{payer.lower()}.{'837' if sub == 'claims' else '835'}"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="ascii", newline="")
                written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--claims-per-month", type=int, default=160)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    files = generate(args.out, args.claims_per_month, args.seed)
    size = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files, {size:,} bytes under {args.out}")


if __name__ == "__main__":
    main()
