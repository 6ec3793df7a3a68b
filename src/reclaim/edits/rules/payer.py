"""Payer policy edits over a patient's claims: prior authorization (and site of care), frequency
and dose limits against history, duplicates, timely filing."""

from ..registry import edit

RC701 = edit(
    code="RC701",
    name="frequency-limit-exceeded",
    severity="error",
    category="policy",
    message="{units_in_period} units of {codes} for this patient in the {period_days} days up to {service_date} (earlier: {earlier}) exceed {max_units} ({rule_id}, {policy})",
    denials=("CARC 119", "CARC 151", "RARC N435"),
    doc="""
    ## What it checks
    For each frequency rule of the claim's policy (codes, optional NDCs, max units per period of
    days), the units the patient received of those codes within the period ending on the line's
    date of service, counting this batch and the `--history` claims (voided claims excluded).

    ## Why it matters
    Payers limit doses per interval (Prolia: 60 units every 6 months); a dose given too early is
    denied with CARC 119 "Benefit maximum for this time period or occurrence has been reached" or
    CARC 151, RARC N435 — and the drug cost is already sunk.

    ## Example
    Prolia J0897 x 60 on 2025-06-02 and again on 2025-09-02 for the same patient: 120 units in
    182 days where the policy allows 60.

    ## Fix
    Check the dosing schedule before administering; if the dose is medically necessary, get an
    authorization for the extra dose or bill with documentation for appeal.

    ## Source
    The payer policy's `frequency` rules (e.g. Prolia 60 units / 6 months [PH-0098]);
    domain-facts §2.2, §8.
    """,
    sql="""
    WITH rules AS (
      SELECT policy_id, rule_id, max(max_units) AS max_units, max(period_days) AS period_days,
             string_agg(DISTINCT hcpcs, '/') AS codes
      FROM policy_frequency GROUP BY policy_id, rule_id
    ), hit AS (
      -- the line's code and amount at risk ride along (one value per line): no join back to line_facts
      SELECT lf.claim_id, lf.line_number, lf.patient_id, lf.service_date, lf.procedure_code, lf.at_risk, lf.policy_id, f.rule_id
      FROM line_facts lf JOIN policy_frequency f ON f.policy_id = lf.policy_id AND f.hcpcs = lf.procedure_code
           AND (f.ndc11 IS NULL OR f.ndc11 = lf.ndc11)
      -- a superseded original is not checked (its replacement is) and not counted (patient_lines)
      LEFT JOIN superseded_claims s ON s.claim_id = lf.claim_id
      WHERE NOT lf.has_jw AND NOT lf.void_claim AND s.claim_id IS NULL
      GROUP BY lf.claim_id, lf.line_number, lf.patient_id, lf.service_date, lf.procedure_code, lf.at_risk, lf.policy_id, f.rule_id
    ), window_lines AS (
      SELECT h.claim_id, h.line_number, h.rule_id, h.policy_id, h.service_date, h.procedure_code, h.at_risk,
             p.units, p.service_date AS other_date,
             (p.claim_id = h.claim_id AND p.line_number = h.line_number AND p.source = 'batch') AS is_self
      FROM hit h
      JOIN patient_lines p ON p.patient_id = h.patient_id AND p.service_date <= h.service_date
      JOIN policy_frequency f ON f.policy_id = h.policy_id AND f.rule_id = h.rule_id AND f.hcpcs = p.procedure_code
           AND (f.ndc11 IS NULL OR f.ndc11 = p.ndc11)
      JOIN rules r ON r.policy_id = h.policy_id AND r.rule_id = h.rule_id
      WHERE date_diff('day', p.service_date, h.service_date) < r.period_days
        AND NOT coalesce('JW' IN (p.modifier_1, p.modifier_2, p.modifier_3, p.modifier_4), false)
        AND EXISTS (SELECT 1 FROM hit)  -- no line under a frequency rule: no patient line is probed
    ), totals AS (
      SELECT claim_id, line_number, rule_id, policy_id, service_date, procedure_code, at_risk, sum(units) AS units_in_period,
             string_agg(DISTINCT CASE WHEN NOT is_self THEN CAST(other_date AS VARCHAR) END, ', ') AS earlier
      FROM window_lines GROUP BY claim_id, line_number, rule_id, policy_id, service_date, procedure_code, at_risk
    )
    SELECT t.claim_id, t.line_number, t.units_in_period, r.codes, r.period_days, t.service_date, t.procedure_code,
           coalesce(t.earlier, 'none') AS earlier, r.max_units, t.rule_id, p.name AS policy,
           t.at_risk AS dollars_at_risk
    FROM totals t
    JOIN rules r ON r.policy_id = t.policy_id AND r.rule_id = t.rule_id
    JOIN policies p ON p.policy_id = t.policy_id
    WHERE t.units_in_period > r.max_units
    """,
)

RC702 = edit(
    code="RC702",
    name="prior-authorization-missing",
    severity="error",
    category="policy",
    message="{procedure_code}{where} needs prior authorization under {policy} ({rule_id}); the claim carries no authorization number",
    denials=("CARC 197", "CARC 15", "RARC N54"),
    doc="""
    ## What it checks
    Lines matching a prior-authorization rule of the claim's policy (the code; optionally only at
    given places of service — site of care — or only with given procedures on the same claim)
    when neither the line nor the claim carries an authorization number (REF*G1).

    ## Why it matters
    Without the authorization the line is denied with CARC 197 "Precertification/authorization/
    notification absent" (or CARC 15, authorization number missing); retro-authorization is rarely
    granted for drugs already given.

    ## Example
    Commercial payer: J1745 infliximab infused in a hospital outpatient department (POS 22)
    without an authorization, where the payer requires one outside office or home infusion.

    ## Fix
    Obtain the authorization before the service and report it in REF*G1 (2300 or 2400).

    ## Source
    The payer policy's `prior_auth` rules: e.g. Medicare hospital OPD prior authorization for
    botulinum toxin with CPT 64612/64615 [NOR-OPDPA]; commercial drug PA and site-of-care programs
    [PH-0098] [GEHA-XGEVA] [PREMERA] [ANTHEM-SOC]; domain-facts §8.
    """,
    sql="""
    WITH candidates AS (
      SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.place_of_service, lf.policy_id, lf.at_risk,
             a.rule_id, a.place_of_service AS rule_pos, a.with_procedure
      FROM line_facts lf
      JOIN policy_prior_auth a ON a.policy_id = lf.policy_id AND a.hcpcs = lf.procedure_code
           AND (a.place_of_service IS NULL OR a.place_of_service = lf.place_of_service)
      WHERE NOT lf.has_auth
    ), claim_procs AS (
      -- the codes on the claims a rule with a companion procedure applies to (not every claim's)
      SELECT DISTINCT l.claim_id, l.procedure_code FROM lines l
      JOIN (SELECT DISTINCT claim_id FROM candidates WHERE with_procedure IS NOT NULL) c ON c.claim_id = l.claim_id
    ), matched AS (
      SELECT c.claim_id, c.line_number, c.procedure_code, c.service_date, c.place_of_service, c.policy_id, c.rule_id,
             max(c.rule_pos) AS pos_rule, c.at_risk
      FROM candidates c
      LEFT JOIN claim_procs cp ON cp.claim_id = c.claim_id AND cp.procedure_code = c.with_procedure
      WHERE c.with_procedure IS NULL OR cp.claim_id IS NOT NULL
      GROUP BY c.claim_id, c.line_number, c.procedure_code, c.service_date, c.place_of_service, c.policy_id, c.rule_id, c.at_risk
    )
    SELECT m.claim_id, m.line_number, m.procedure_code, m.service_date, m.rule_id, p.name AS policy, m.at_risk AS dollars_at_risk,
           CASE WHEN m.pos_rule IS NULL THEN '' ELSE ' at place of service ' || m.place_of_service END AS where
    FROM matched m JOIN policies p ON p.policy_id = m.policy_id
    """,
)

RC703 = edit(
    code="RC703",
    name="duplicate-line",
    severity="error",
    category="policy",
    message="{procedure_code} x {units} on {service_date} is billed again: same patient, provider, date, code, modifiers and units as {first}",
    denials=("CARC 18",),
    doc="""
    ## What it checks
    Drug lines repeating another line of the same patient and billing provider with the same
    date of service, code, modifiers and units, in this batch or in the `--history` claims; on a
    not-otherwise-classified code the NDC too (J3490 names no drug: two J3490 lines, saline and
    heparin, are different drugs, not duplicates). A replacement claim (frequency 7) takes the
    place of the original it replaces (same CLM01, billing NPI and patient, X12 RFI 1945): the
    original is not compared with it or with other claims; voided claims, and the originals they
    void, are left out.

    ## Why it matters
    The second line is denied as an exact duplicate (CARC 18) and repeated duplicates draw
    audits; often the same claim was exported twice or a line was keyed twice.

    ## Example
    J9271 x 200 on 2025-11-04 on claim PCN-1 and again on PCN-2 for the same patient.

    ## Fix
    Remove the repeated line or claim. If the drug really was given twice that day, bill it as one
    line with the total units, or with the modifier the payer requires for a repeat service.

    ## Source
    X12 CARC 18 "Exact duplicate claim/service" (CARC list 2025-12) [OPENEMR-BU]; Medicare
    treats wrong duplicate denials as clerical reopenings [CFR-405.980]; domain-facts §9.2.
    """,
    sql="""
    WITH repeated AS (
      -- the hashes of the keys billed more than once (few): only their lines are ranked below,
      -- on the exact key (a hash shared by different keys only adds lines to rank); counting one
      -- integer per line is far cheaper than grouping or sorting nine columns. duplicate_key is
      -- that hash, computed once per line in line_facts (patient_lines for history lines)
      SELECT duplicate_key AS k FROM patient_lines GROUP BY 1 HAVING count(*) > 1
    ), pl AS (
      -- a replacement is not a duplicate of the original it replaces: patient_lines has no line
      -- of a superseded original (superseded_claims), and none of a void
      SELECT pl.*, CASE WHEN pl.is_noc THEN coalesce(pl.ndc11, '') ELSE '' END AS ndc,
             coalesce(pl.modifier_1, '') AS m1, coalesce(pl.modifier_2, '') AS m2,
             coalesce(pl.modifier_3, '') AS m3, coalesce(pl.modifier_4, '') AS m4
      FROM patient_lines pl JOIN repeated r ON r.k = pl.duplicate_key
    ), p AS (
      SELECT pl.*, row_number() OVER (
               PARTITION BY pl.patient_id, pl.billing_npi, pl.service_date, pl.procedure_code, pl.ndc, pl.m1, pl.m2, pl.m3, pl.m4, pl.units
               ORDER BY CASE WHEN pl.source = 'history' THEN 0 ELSE 1 END, pl.claim_id, pl.line_number) AS n,
             first_value(coalesce(pl.patient_control_number, pl.claim_id) || ' line ' || CAST(pl.line_number AS VARCHAR)) OVER (
               PARTITION BY pl.patient_id, pl.billing_npi, pl.service_date, pl.procedure_code, pl.ndc, pl.m1, pl.m2, pl.m3, pl.m4, pl.units
               ORDER BY CASE WHEN pl.source = 'history' THEN 0 ELSE 1 END, pl.claim_id, pl.line_number) AS first
      FROM pl
    )
    SELECT p.claim_id, p.line_number, p.procedure_code, p.units, p.service_date, p.first, p.at_risk AS dollars_at_risk
    FROM p
    WHERE p.source = 'batch' AND p.n > 1 AND p.is_drug
    """,
)

RC704 = edit(
    code="RC704",
    name="timely-filing-limit",
    severity="error",
    category="policy",
    message="date of service {service_date} is {age} days before {date_of_check}: past the {limit} filing limit of {policy}",
    denials=("CARC 29",),
    doc="""
    ## What it checks
    Under a policy with a timely filing limit (Medicare: 12 months, counted as 365 days;
    Medicaid: 12 months), lines whose date of service is before the first date still in time on
    the date of the check (`--date-of-check`, default today). A policy without a limit (the
    payer-neutral default for commercial payers, whose limit is in their contract) is not checked.

    ## Why it matters
    Claims filed late are denied with CARC 29 "The time limit for filing has expired"; Medicare
    allows only the exceptions of Pub. 100-04 Ch.1 §70 and the provider cannot bill the patient.

    ## Example
    A Medicare line dated 2024-10-01 checked on 2025-12-15; a Medicaid line dated 2024-11-20
    checked on 2025-12-15 (past 12 months).

    ## Fix
    Submit at once if an exception applies (and document it); otherwise the amount is a write-off.

    ## Source
    Medicare timely filing, ACA §6404 (12 months from the date of service) [FCSO-TF] [NOR-TF]
    [CMS-FAQ-TF]; Medicaid: 12 months from the date of service, 42 CFR 447.45(d)(1); payer policy
    `timely_filing_days` / `timely_filing_months`; domain-facts §10.1.
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.service_date, lf.procedure_code, rp.date_of_check, p.filing_limit AS limit, p.name AS policy,
           date_diff('day', lf.service_date, rp.date_of_check) AS age, lf.at_risk AS dollars_at_risk
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id CROSS JOIN run_params rp
    WHERE p.filing_cutoff IS NOT NULL AND lf.original_claim AND lf.service_date < p.filing_cutoff
    """,
)
