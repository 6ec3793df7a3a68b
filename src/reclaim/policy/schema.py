"""The payer policy file format (YAML), validated with pydantic.

A policy says how one payer (or one kind of coverage) adjudicates drug lines: which edits
apply and how severe they are, when an NDC is required, JW/JZ reporting, NOC unit
conventions, 340B modifiers, prior authorization (including site of care) and
frequency/dose limits. Every rule names its source (``source:``), so a finding built from
a policy can say where the rule comes from.

Unknown keys are errors (a typo must not silently disable a rule).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["error", "warning", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _codes(values: list[str]) -> list[str]:
    return [v.strip().upper() for v in values]


class AppliesTo(_Strict):
    #: SBR09 claim filing indicator codes (MB Medicare Part B, MC Medicaid, CI commercial, BL BCBS, HM HMO...)
    claim_filing_indicators: list[str] = Field(default_factory=list)
    #: 2010BB payer ids; a payer-id match wins over a filing-indicator match
    payer_ids: list[str] = Field(default_factory=list)

    _upper = field_validator("claim_filing_indicators", "payer_ids")(classmethod(lambda cls, v: _codes(v)))


class EditSettings(_Strict):
    #: edits this payer does not apply (codes, RC prefixes)
    ignore: list[str] = Field(default_factory=list)
    #: severity overrides, e.g. {RC801: info}
    severity: dict[str, Severity] = Field(default_factory=dict)


class NdcRule(_Strict):
    #: always: every drug line (Medicaid, DRA 2005); crosswalked: lines whose code has NDCs in the
    #: CMS crosswalk on the DOS; never: the payer does not want NDCs checked
    required: Literal["always", "crosswalked", "never"] = "crosswalked"
    source: str = ""


class JwJzRule(_Strict):
    #: first date of service on which JW/JZ is required; null = this payer does not require it
    required_from: dt.date | None = None
    #: codes exempt (multi-dose containers, packaged drugs) — the CMS files do not flag container type
    exempt_hcpcs: list[str] = Field(default_factory=list)
    source: str = ""

    _upper = field_validator("exempt_hcpcs")(classmethod(lambda cls, v: _codes(v)))


class NocRule(_Strict):
    #: one: bill 1 unit on NOC lines (WPS); dose: units = dose administered (Palmetto)
    units: Literal["one", "dose"] = "dose"
    description_required: bool = True
    source: str = ""


class Rule340B(_Strict):
    #: the billing entity is a 340B covered entity
    covered_entity: bool = False
    #: modifier this entity must report on 340B-acquired drugs (TB or JG; JG ended 2024-12-31)
    modifier: Literal["TB", "JG"] = "TB"
    source: str = ""


class PriorAuthRule(_Strict):
    id: str
    hcpcs: list[str]
    #: only at these places of service (site of care: e.g. 19/22 hospital outpatient); empty = anywhere
    places_of_service: list[str] = Field(default_factory=list)
    #: only when the claim also carries one of these procedure codes (e.g. CPT 64612 with botulinum toxin)
    with_procedures: list[str] = Field(default_factory=list)
    source: str

    _upper = field_validator("hcpcs", "with_procedures")(classmethod(lambda cls, v: _codes(v)))


class FrequencyRule(_Strict):
    id: str
    #: codes counted together (a drug and its biosimilars)
    hcpcs: list[str]
    #: at most this many units for the patient across these codes within period_days
    #: only lines with these NDCs (11 digits) count, e.g. Prolia but not Xgeva under J0897; empty = any
    ndcs: list[str] = Field(default_factory=list)
    max_units: float = Field(gt=0)
    period_days: int = Field(gt=0)
    source: str

    _upper = field_validator("hcpcs")(classmethod(lambda cls, v: _codes(v)))

    @field_validator("ndcs")
    @classmethod
    def _ndc11(cls, values: list[str]) -> list[str]:
        out = [v.replace("-", "").strip() for v in values]
        bad = [v for v in out if len(v) != 11 or not v.isdigit()]
        if bad:
            raise ValueError(f"NDCs must be 11 digits (5-4-2, hyphens allowed): {bad}")
        return out


class CoverageRule(_Strict):
    """The diagnoses a payer covers a drug for (Medicaid and commercial medical-benefit drug
    policies list them): a drug line pointing to none of them is RC604's finding."""

    id: str
    hcpcs: list[str]
    #: ICD-10-CM codes, with or without the dot; a code ending in '*' covers every code under it
    covered_icd10: list[str] = Field(min_length=1)
    #: the policy document's title, shown as the finding's source
    title: str
    source: str = ""
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    _upper = field_validator("hcpcs", "covered_icd10")(classmethod(lambda cls, v: [c.replace(".", "") for c in _codes(v)]))


class Policy(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    description: str = ""
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    edits: EditSettings = Field(default_factory=EditSettings)
    ndc: NdcRule = Field(default_factory=NdcRule)
    jw_jz: JwJzRule = Field(default_factory=JwJzRule)
    noc: NocRule = Field(default_factory=NocRule)
    entity_340b: Rule340B = Field(default_factory=Rule340B)
    #: claims must reach the payer within this many days of the (line) date of service; null = not checked
    timely_filing_days: int | None = Field(default=None, gt=0)
    #: or within this many calendar months (Medicaid: 12 months, 42 CFR 447.45(d)); give one of the two
    timely_filing_months: int | None = Field(default=None, gt=0)
    timely_filing_source: str = ""
    #: what this policy cannot know and so does not check (said once per run beside the claims it
    #: adjudicated: a payer-neutral default does not pretend to know a contract)
    not_checked: list[str] = Field(default_factory=list)
    prior_auth: list[PriorAuthRule] = Field(default_factory=list)
    frequency: list[FrequencyRule] = Field(default_factory=list)
    #: covered diagnoses per drug (RC604); Medicare claims also use the MCD articles of the MAC
    coverage: list[CoverageRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_filing_limit(self) -> "Policy":
        if self.timely_filing_days is not None and self.timely_filing_months is not None:
            raise ValueError("give timely_filing_days or timely_filing_months, not both")
        return self
