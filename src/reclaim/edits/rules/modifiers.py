"""Drug modifiers: JW/JZ discarded-drug reporting and 340B (TB)."""

from ..registry import edit

RC301 = edit(
    code="RC301",
    name="jw-jz-missing",
    severity="error",
    category="modifiers",
    message="{procedure_code} on {service_date} has neither JZ nor a JW line: {policy} requires JW/JZ on separately payable single-dose drugs from {required_from}",
    fix="add JZ if nothing was discarded; otherwise bill the discarded units on a separate line with JW",
    fix_action="add_modifier",
    denials=("CARC 16", "CARC 4", "RARC MA130"),
    doc="""
    ## What it checks
    Under a policy that requires JW/JZ (Medicare: dates of service from 2023-07-01), drug lines
    of a separately payable code (one with an ASP payment limit on the date of service, not
    listed as exempt in the policy) that carry neither JZ nor JW, when the claim has no JW line
    for the same code and date. Rural health clinics and FQHCs (type of bill 71x/77x) are exempt.

    ## Why it matters
    Since 2023-10-01 Medicare returns claims without a required JW/JZ as unprocessable (CMS does
    not publish the exact codes; expect CARC 16 or CARC 4 with RARC MA130), and CMS uses the data
    for the discarded-drug refund; the line is not paid until corrected.

    ## Example
    J0897 x 60 (Prolia, one 60 mg syringe, nothing discarded) on 2025-11-03 with no modifier.

    ## Fix
    Add JZ when nothing was discarded; when drug was discarded, bill it on its own line with JW
    (and the administered units without JZ). `--fix` adds JZ, which asserts nothing was
    discarded: review before sending.

    ## Source
    CMS JW/JZ policy (CY2023 PFS final rule; JZ required from 2023-07-01) [CGS-JZ] [HHS-CR13056]
    [NAHRI-FAQ]; separately payable = a row in the CMS ASP pricing file in force (e.g. 2025-Q4).
    The CMS files do not flag multi-dose containers: list such codes under `jw_jz.exempt_hcpcs`.
    """,
    sql="""
    WITH jw AS (
      SELECT DISTINCT claim_id, procedure_code, service_date FROM line_facts WHERE has_jw
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, p.name AS policy,
           p.jwjz_required_from AS required_from, lf.at_risk AS dollars_at_risk, 'JZ' AS fix_value
    FROM line_facts lf
    JOIN policies p ON p.policy_id = lf.policy_id
    LEFT JOIN jw ON jw.claim_id = lf.claim_id AND jw.procedure_code = lf.procedure_code AND jw.service_date = lf.service_date
    LEFT JOIN policy_jwjz_exempt x ON x.policy_id = lf.policy_id AND x.hcpcs = lf.procedure_code
    WHERE p.jwjz_required_from IS NOT NULL AND lf.service_date >= p.jwjz_required_from
      AND lf.is_drug AND lf.payment_limit IS NOT NULL AND x.hcpcs IS NULL
      AND NOT lf.has_jw AND NOT lf.has_jz AND jw.claim_id IS NULL
      AND NOT lf.rhc_fqhc_bill
    """,
)

RC302 = edit(
    code="RC302",
    name="jw-and-jz-together",
    severity="error",
    category="modifiers",
    message="{procedure_code} on {service_date} carries JZ (nothing discarded) but line {jw_line} bills JW (discarded drug)",
    fix="remove JZ from this line: the JW line says drug was discarded",
    fix_action="remove_modifier",
    denials=("CARC 4", "CARC 16"),
    doc="""
    ## What it checks
    A claim billing the same drug code on the same date of service with JZ on one line and JW
    on another (or both on one line).

    ## Why it matters
    JZ says zero drug was discarded; JW bills discarded drug. Both for the same drug and date
    contradict each other and the line is returned or denied (CARC 4, modifier inconsistent).

    ## Example
    J9271 x 150 -JZ and J9271 x 50 -JW on the same date.

    ## Fix
    Keep JW on the waste line and bill the administered units without JZ (or remove the JW line
    if nothing was discarded). `--fix` removes JZ.

    ## Source
    CMS JW/JZ FAQ as summarised in domain-facts §3.1 [QPRO-JZ] [NOR-JW] [CGS-JZ].
    """,
    sql="""
    WITH jw AS (
      SELECT claim_id, procedure_code, service_date, min(line_number) AS jw_line
      FROM line_facts WHERE has_jw GROUP BY claim_id, procedure_code, service_date
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, jw.jw_line,
           lf.at_risk AS dollars_at_risk, 'JZ' AS fix_value
    FROM line_facts lf
    JOIN jw ON jw.claim_id = lf.claim_id AND jw.procedure_code = lf.procedure_code AND jw.service_date = lf.service_date
    WHERE lf.has_jz
    """,
)

RC303 = edit(
    code="RC303",
    name="jw-under-one-unit",
    severity="error",
    category="modifiers",
    message="JW line bills {units} units of {procedure_code}: discarded drug under one billing unit is not billed",
    denials=("CARC 16", "CARC 151"),
    doc="""
    ## What it checks
    Lines with JW whose units are below one billing unit.

    ## Why it matters
    Waste is rounded down to whole billing units; less than one unit of waste is not billable,
    and when one unit already covers dose plus waste the administered line carries JZ instead.
    Such JW lines are denied (CARC 16 / CARC 151) or recouped as overpayment ("incorrect billing
    and will result in an overpayment").

    ## Example
    J1745-JW x 0.5 (5 mg of infliximab discarded; the unit is 10 mg).

    ## Fix
    Delete the JW line; bill the administered units (rounded up) with JZ.

    ## Source
    domain-facts §1.4 and §3.1 [ACR-WASTE] [NOR-JZ-DME] [CMS-RAC74].
    """,
    sql="""
    SELECT claim_id, line_number, units, procedure_code, service_date, at_risk AS dollars_at_risk
    FROM line_facts
    WHERE has_jw AND units IS NOT NULL AND units < 1
    """,
)

RC304 = edit(
    code="RC304",
    name="jw-plus-administered-exceed-package",
    severity="error",
    category="modifiers",
    message="administered {administered} + discarded {discarded} units of {procedure_code} exceed the {capacity} units in the NDC quantity billed ({drug}, CMS crosswalk {release})",
    fix="bill {allowed_waste} JW units (package minus administered)",
    fix_action="set_units",
    fix_fallback="delete the JW line: the package holds no more than the administered units",
    denials=("CARC 151", "CARC 16"),
    doc="""
    ## What it checks
    For each drug billed with a JW line, the administered units plus the JW units (same claim,
    code, date of service) against the billing units in the NDC quantity reported (CMS crosswalk
    billable units per item x items).

    ## Why it matters
    Medicare pays administered plus discarded drug up to the amount in the vial or package;
    more waste than the package could hold is an overpayment and is denied (CARC 151) or recouped.

    ## Example
    J1745 x 35 and J1745-JW x 10 with NDC 57894-0030-01 (100 mg vial = 10 units), UN 4:
    4 vials hold 40 units, so the waste is 5 units, not 10.

    ## Fix
    Bill JW units = package units - administered units. `--fix` sets the JW line's units.

    ## Source
    CMS discarded drug policy (payment up to the labeled package amount) [CMS-DDU] [NOR-JW];
    CMS ASP NDC-HCPCS crosswalk (billable units per item, quarter in force).
    """,
    sql="""
    WITH jw AS (
      -- the groups with a JW line (few): only their lines are summed
      SELECT DISTINCT claim_id, procedure_code, service_date FROM line_facts WHERE is_drug AND has_jw
    ), g AS (
      SELECT lf.claim_id, lf.procedure_code, lf.service_date,
             sum(CASE WHEN lf.has_jw THEN 0 ELSE lf.units END) AS administered,
             sum(CASE WHEN lf.has_jw THEN lf.units ELSE 0 END) AS discarded,
             max(lf.ndc_max_units) AS capacity, max(k.drug_name) AS drug, max(k.xw_release) AS release
      FROM line_facts lf
      JOIN jw ON jw.claim_id = lf.claim_id AND jw.procedure_code = lf.procedure_code AND jw.service_date = lf.service_date
      LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
      WHERE lf.is_drug
      GROUP BY lf.claim_id, lf.procedure_code, lf.service_date
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, g.administered, g.discarded, g.capacity, g.drug, g.release,
           CASE WHEN g.capacity > g.administered THEN CAST(CAST(g.capacity - g.administered AS BIGINT) AS VARCHAR) END AS allowed_waste,
           CASE WHEN g.capacity > g.administered THEN CAST(CAST(g.capacity - g.administered AS BIGINT) AS VARCHAR) END AS fix_value,
           CAST(lf.payment_limit * (g.administered + g.discarded - g.capacity) AS DECIMAL(18,2)) AS dollars_at_risk
    FROM line_facts lf
    JOIN g ON g.claim_id = lf.claim_id AND g.procedure_code = lf.procedure_code AND g.service_date = lf.service_date
    WHERE lf.has_jw AND g.capacity IS NOT NULL AND g.administered + g.discarded > g.capacity
    """,
)

RC305 = edit(
    code="RC305",
    name="340b-modifier-missing",
    severity="error",
    category="modifiers",
    message="{procedure_code} on {service_date}: {policy} marks this entity as a 340B covered entity, but the line carries no {modifier}",
    fix="add {modifier} if the drug was acquired under 340B",
    fix_action="add_modifier",
    denials=("CARC 4",),
    doc="""
    ## What it checks
    Under a policy whose `entity_340b.covered_entity` is true, separately payable drug lines
    (an ASP payment limit on the date of service) without the entity's 340B modifier (TB).

    ## Why it matters
    From 2024-01-01 every 340B covered entity billing separately payable Part B drugs reports
    a 340B modifier (TB; JG ended 2024-12-31). CMS uses it for the Part B inflation rebate;
    missing modifiers are returned as inconsistent (CARC 4) and are a compliance finding.

    ## Example
    A 340B hospital bills J9271 x 200 on 2025-11-04 with no TB.

    ## Fix
    Add TB when the drug was purchased under 340B. `--fix` adds it: review for non-340B stock.

    ## Source
    CMS 340B modifier instructions (CY2024 OPPS) [ESS-HOSP] [FORVIS] [RXTRAIL]; CMS HCPCS
    2025-10 (JG terminated 2024-12-31).
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, p.name AS policy, p.modifier_340b AS modifier,
           lf.at_risk AS dollars_at_risk, p.modifier_340b AS fix_value
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id
    WHERE p.covered_340b AND lf.is_drug AND lf.payment_limit IS NOT NULL
      -- a JG line is RC102's finding (JG ended 2024-12-31), not a missing modifier
      AND NOT lf.has_tb AND NOT lf.has_jg
    """,
)
