"""Hand-made X12 835s for recovery tests: each test writes the remittance that reproduces what it
checks (balanced the way the TR3 balances: CLP03 - CAS = CLP04, sum(CLP04) - sum(PLB) = BPR02),
read back through the real 835 reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


def money(value) -> str:
    d = Decimal(str(value)).quantize(Decimal("0.01"))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass
class Line:
    code: str
    charge: Decimal
    paid: Decimal
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (group, carc, amount)
    rarcs: list[str] = field(default_factory=list)
    units: int = 1
    date: str = "20251103"


@dataclass
class Claim:
    pcn: str
    status: str
    icn: str
    lines: list[Line] = field(default_factory=list)
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)  # claim-level CAS
    moa: list[str] = field(default_factory=list)  # claim-level RARCs (MOA)
    filing: str = "MC"
    patient: str = "DOE"

    @property
    def charge(self) -> Decimal:
        if self.lines:
            return sum((l.charge for l in self.lines), Decimal(0))
        return sum((a for _, _, a in self.cas), Decimal(0)) + self.paid_claim

    paid_claim: Decimal = Decimal(0)  # CLP04 of a claim without lines
    clp04: Decimal | None = None  # a CLP04 that does not balance (what some payers send)

    @property
    def paid(self) -> Decimal:
        if self.clp04 is not None:
            return self.clp04
        return sum((l.paid for l in self.lines), Decimal(0)) if self.lines else self.paid_claim


@dataclass
class Payment:
    claims: list[Claim]
    trace: str = "TRACE0001"
    payer: str = "ACME HEALTH PLAN"
    payer_id: str = "ACME01"
    plb: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (reason code, reference, amount)
    date: str = "20251205"


def _cas(group_rows) -> list[str]:
    by_group: dict[str, list] = {}
    for group, carc, amount in group_rows:
        by_group.setdefault(group, []).append((carc, amount))
    out = []
    for group, rows in by_group.items():
        for start in range(0, len(rows), 6):
            out.append("CAS*" + group + "".join(f"*{c}*{money(a)}*" for c, a in rows[start:start + 6]).rstrip("*"))
    return out


def transaction(payment: Payment, st: str) -> list[str]:
    plb_total = sum((a for _, _, a in payment.plb), Decimal(0))
    total = sum((c.paid for c in payment.claims), Decimal(0)) - plb_total
    segs = [f"ST*835*{st}", f"BPR*I*{money(total)}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*888888888*DA*654321*{payment.date}",
            f"TRN*1*{payment.trace}*1512345678", f"DTM*405*{payment.date}",
            f"N1*PR*{payment.payer}*XV*{payment.payer_id}", "N3*PO BOX 1000", "N4*SPRINGFIELD*IL*62701",
            "PER*BL*PROVIDER SERVICES*TE*8005551212",
            "N1*PE*SUNRISE ONCOLOGY*XX*1234567893"]
    for n, claim in enumerate(payment.claims, 1):
        segs.append(f"LX*{n}")
        pr = sum((a for l in claim.lines for g, _, a in l.cas if g == "PR"), Decimal(0)) + \
            sum((a for g, _, a in claim.cas if g == "PR"), Decimal(0))
        segs.append(f"CLP*{claim.pcn}*{claim.status}*{money(claim.charge)}*{money(claim.paid)}*{money(pr)}*{claim.filing}*{claim.icn}*11*1")
        segs += _cas(claim.cas)
        segs.append(f"NM1*QC*1*{claim.patient}*JANE****MI*W123456789")
        if claim.moa:
            segs.append("MOA***" + "*".join(claim.moa))
        for line in claim.lines:
            segs.append(f"SVC*HC:{line.code}*{money(line.charge)}*{money(line.paid)}**{line.units}")
            segs.append(f"DTM*472*{line.date}")
            segs += _cas(line.cas)
            for rarc in line.rarcs:
                segs.append(f"LQ*HE*{rarc}")
    if payment.plb:
        segs.append("PLB*1234567893*20251231*" + "*".join(f"{code}:{ref}*{money(a)}" for code, ref, a in payment.plb))
    segs.append(f"SE*{len(segs) + 1}*{st}")
    return segs


def build(*payments: Payment) -> str:
    """An interchange with one 835 transaction per payment."""
    body = []
    for n, payment in enumerate(payments, 1):
        body += transaction(payment, f"{n:04d}")
    segs = ["ISA*00*          *00*          *ZZ*ACME01         *ZZ*SUNRISE        *251205*1200*^*00501*000000001*0*P*:",
            "GS*HP*ACME01*SUNRISE*20251205*1200*1*X*005010X221A1", *body, f"GE*{len(payments)}*1", "IEA*1*000000001"]
    return "~\n".join(segs) + "~\n"


def line(code, charge, paid, *cas, rarcs=(), units=1) -> Line:
    return Line(code, Decimal(str(charge)), Decimal(str(paid)),
                [(g, c, Decimal(str(a))) for g, c, a in cas], list(rarcs), units)
