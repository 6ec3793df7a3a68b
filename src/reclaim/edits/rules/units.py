"""Billing units: whole units of the HCPCS descriptor's dose, no more than the NDC package
holds, not milligrams typed into a 10 mg code, within the MUE."""

from ..drug import code_label
from ..registry import edit

RC201 = edit(
    code="RC201",
    name="fractional-units",
    severity="error",
    category="units",
    message="{units} units of {procedure_code} is not a whole number of billing units",
    fix="bill {rounded} units (round up to the next whole unit; JW waste is rounded down)",
    fix_action="set_units",
    denials=("CARC 16", "RARC N430", "CARC 153"),
    doc="""
    ## What it checks
    Drug lines (HCPCS pricing indicator 51, drugs) whose units are not a whole number.

    ## Why it matters
    Units are multiples of the dose in the HCPCS long descriptor; a fractional quantity is
    rejected or priced wrongly (RARC N430 "Procedure code is inconsistent with the units
    billed"). CMS: when the dose is not a multiple of the descriptor, "the provider rounds to the
    next highest unit".

    ## Example
    J1745 (infliximab, 10 mg) billed 35.5 units for 355 mg: bill 36.

    ## Fix
    Round the administered units up to the next whole unit (waste on a JW line is rounded
    down). `--fix` rounds administered lines up; JW lines are left for a person to decide.

    ## Source
    CMS Recovery Audit approved issue 0074 citing Pub. 100-04 Ch.17 §§10, 40, 70, 90.2;
    domain-facts §1.4 [CMS-RAC74] [RTA-UNITS] [ACR-WASTE].
    """,
    sql="""
    SELECT claim_id, line_number, units, procedure_code, service_date, at_risk AS dollars_at_risk,
           CAST(CAST(CASE WHEN has_jw THEN floor(units) ELSE ceil(units) END AS BIGINT) AS VARCHAR) AS rounded,
           CASE WHEN NOT has_jw THEN CAST(CAST(ceil(units) AS BIGINT) AS VARCHAR) END AS fix_value
    FROM line_facts
    -- floor() is DECIMAL(18,0): cast back to the units' scale, or the comparison widens every
    -- line's units to a 128-bit decimal (4x the cost). A line billed under another code than its
    -- NDC's is RC103/RC104's: their fix converts the units into whole units of the NDC's code
    WHERE is_drug AND units IS NOT NULL AND units <> CAST(floor(units) AS DECIMAL(18,3)) AND NOT code_swapped
    """,
)

RC202 = edit(
    code="RC202",
    name="units-exceed-ndc-package",
    severity="error",
    category="units",
    message="{units} units of {code} exceed what {ndc_quantity} {ndc_unit} of NDC {ndc11} ({drug}) holds: {max_units} units ({per_item} per item, CMS crosswalk {release})",
    denials=("CARC 151", "CARC 153", "RARC N430"),
    doc="""
    ## What it checks
    Drug lines whose units exceed the billing units contained in the NDC quantity reported on
    the line: the CMS crosswalk's billable units per item times the number of items (CTP04 with
    unit UN), or times the volume divided by the item size, rounded up (unit ML). A line billed
    under another code than the one the crosswalk assigns its NDC (RC103/RC104) is judged as
    the NDC's code, its units converted through both codes' billing units.

    ## Why it matters
    Units above what was opened cannot have been administered or discarded; payers deny or
    reduce them (CARC 151/153) and RAC audits target excessive drug units (J0897 and J1745 are on
    the CMS RAC list; Prolia's main error was incorrect units).

    ## Example
    J0897 x 120 with NDC 55513-0710-01 (Prolia), quantity UN 1: one syringe holds 60 units.

    ## Fix
    Bill the units actually administered (plus documented waste on a JW line), or correct the
    NDC quantity if more items were used.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (BILLUNITS, PKG SIZE; quarter in force); domain-facts §0, §1.3,
    §1.4 [CMS-RAC74] [FCSO-PROLIA].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.drug_units AS units, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date,
           lf.ndc_quantity, lf.ndc_unit, lf.ndc11, k.drug_name AS drug,
           CAST(lf.ndc_max_units AS DECIMAL(18,3)) AS max_units, lf.xw_units_per_item AS per_item, k.xw_release AS release,
           lf.at_risk AS dollars_at_risk
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.is_drug AND lf.ndc_max_units IS NOT NULL AND lf.drug_units > lf.ndc_max_units
      -- units typed as milligrams are RC203's finding
      AND NOT coalesce(lf.unit_amount > 1 AND CAST(lf.drug_units / lf.unit_amount AS DECIMAL(18,3)) <= lf.ndc_max_units
                       AND CAST(lf.drug_units / lf.unit_amount AS DECIMAL(18,3)) = floor(CAST(lf.drug_units / lf.unit_amount AS DECIMAL(18,3))), false)
    """,
)

RC203 = edit(
    code="RC203",
    name="units-look-like-milligrams",
    severity="error",
    category="units",
    message="{units} units of {code} ({descriptor}) look like the dose in {uom}: one unit is {unit_amount} {uom}, so the dose is {expected} units",
    fix="bill {expected} units",
    fix_action="set_units",
    denials=("CARC 151", "CARC 153", "RARC N430"),
    doc="""
    ## What it checks
    Lines of a code whose billing unit is more than one unit of measure (e.g. "10 mg") where
    the units exceed what the NDC quantity holds (or the MUE), but units divided by the
    descriptor dose fit: the dose in milligrams was entered instead of billing units.

    ## Why it matters
    Billing 500 units of J1745 (infliximab, 10 mg) for a 500 mg dose claims ten times the drug;
    the line is denied (MUE, CARC 151/153) or, worse, paid and later recovered by audit.

    ## Example
    J1745 x 500 with NDC 57894-0030-01 (Remicade 100 mg vial, 10 units per vial), UN 5:
    the dose is 500 mg = 50 units.

    ## Fix
    Divide by the descriptor dose: bill 50 units. `--fix` sets the units.

    ## Source
    CMS HCPCS long descriptor (dose per unit), CMS ASP NDC-HCPCS crosswalk (units per item),
    NCCI MUE when loaded; domain-facts §1.3 [CMS-RAC74] [MMP-UNITS].
    """,
    sql="""
    WITH b AS (
      SELECT *, coalesce(ndc_max_units, mue_value) AS bound, CAST(drug_units / unit_amount AS DECIMAL(18,3)) AS exp_units
      FROM line_facts
      WHERE is_drug AND unit_amount > 1 AND drug_units IS NOT NULL
    )
    SELECT b.claim_id, b.line_number, b.drug_units AS units, b.procedure_code, """ + code_label("b") + """ AS code, b.service_date,
           coalesce(k.drug_description, k.asp_dosage) AS descriptor,
           CAST(b.unit_amount AS DECIMAL(18,3)) AS unit_amount,
           coalesce(k.unit_uom, upper(regexp_extract(k.asp_dosage, '[A-Za-z]+', 0))) AS uom,
           CAST(CAST(b.exp_units AS BIGINT) AS VARCHAR) AS expected,
           -- after a code swap the units are RC103/RC104's fix (a second --fix pass sees this one)
           CASE WHEN NOT b.code_swapped THEN CAST(CAST(b.exp_units AS BIGINT) AS VARCHAR) END AS fix_value,
           CAST(b.payment_limit * (b.drug_units - b.exp_units) AS DECIMAL(18,2)) AS dollars_at_risk
    FROM b LEFT JOIN key_facts k ON k.fact_key = b.fact_key
    WHERE b.units > b.bound AND b.exp_units <= b.bound AND b.exp_units = floor(b.exp_units)
    """,
)

RC204 = edit(
    code="RC204",
    name="mue-exceeded",
    severity="error",
    category="units",
    message="{units} units of {procedure_code} on {service_date} exceed the MUE of {mue_value} ({scope}, MAI {mai}; {table} table {release})",
    denials=("RARC N362", "CARC 151"),
    doc="""
    ## What it checks
    Units against the NCCI Medically Unlikely Edit in force on the date of service, from the
    table of the claim's setting: outpatient hospital for 837I, DME supplier when the billing
    provider's taxonomy is a DME supplier's (NUCC 332B...), practitioner otherwise. MAI 1: each
    line alone. MAI 2 and 3: the units summed per beneficiary, per provider (billing NPI), per
    date of service, over this batch and the history. A replacement claim (frequency 7) stands
    for the original it replaces (same CLM01, billing NPI and patient): the two are not added up; a
    voided claim counts for nothing.

    ## Why it matters
    Units over the MUE deny the **entire line** (RARC N362 "The number of Days or Units of Service
    exceeds our acceptable maximum"). MAI 2 limits are absolute (policy); MAI 3 can be paid on
    appeal with records; MAI 1 lines can be split with a modifier.

    ## Example
    J0897 (MUE 120, MAI 3, practitioner table 2026-Q2) billed 120 units on one claim and 60 on
    another by the same provider for the same patient and date: 180 units.

    ## Fix
    Correct the units; for MAI 1 report additional units on another line with an appropriate
    modifier when documented; for MAI 3 send documentation of medical necessity.

    ## Source
    CMS NCCI MUE tables (practitioner, outpatient hospital, DME supplier; quarter in force):
    "units of service ... for a single beneficiary on a single date of service" by one provider;
    MAI since April 2013; domain-facts §6 [NGS-MUE] [PALM-MUE] [FCSO-MUE]. Replacement claims
    replace the original (CLM05-3 = 7; CLM01 kept) [X12-RFI1945] [EMRPMS-837].
    """,
    sql="""
    WITH mue_codes AS (SELECT DISTINCT procedure_code FROM line_facts WHERE mue_value IS NOT NULL),
    per_dos AS (
      -- summed only for codes that have an MUE (most drug codes in a batch may have none);
      -- patient_lines has no line a replacement or void supersedes
      SELECT pl.patient_id, pl.billing_npi, pl.procedure_code, pl.service_date, sum(pl.units) AS day_units
      FROM patient_lines pl JOIN mue_codes mc ON mc.procedure_code = pl.procedure_code
      GROUP BY pl.patient_id, pl.billing_npi, pl.procedure_code, pl.service_date
    ), checked AS (
      -- a superseded original is not checked (its replacement is)
      SELECT lf.* FROM line_facts lf LEFT JOIN superseded_claims s ON s.claim_id = lf.claim_id
      WHERE lf.mue_value IS NOT NULL AND s.claim_id IS NULL AND NOT lf.void_claim
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.mue_value, lf.mai,
           CASE WHEN lf.mai = '1' THEN lf.units ELSE d.day_units END AS units,
           CASE WHEN lf.mai = '1' THEN 'this line' ELSE 'this patient, provider and date of service' END AS scope,
           m.setting AS table, m.release, lf.at_risk AS dollars_at_risk
    FROM checked lf
    LEFT JOIN per_dos d ON d.patient_id = lf.patient_id AND d.billing_npi IS NOT DISTINCT FROM lf.billing_npi
         AND d.procedure_code = lf.procedure_code AND d.service_date = lf.service_date
    LEFT JOIN claim_facts c ON c.claim_id = lf.claim_id
    LEFT JOIN mue_dos m ON m.hcpcs = lf.procedure_code
         AND m.setting = c.mue_setting
         AND lf.service_date >= m.valid_from AND lf.service_date < m.valid_to
    WHERE (lf.mai = '1' AND lf.units > lf.mue_value) OR (coalesce(lf.mai, '2') <> '1' AND d.day_units > lf.mue_value)
    """,
)
