"""Drug modifiers: JW/JZ discarded-drug reporting, 340B (TB), and modifiers that make no sense
on a drug line. The drug is the one the NDC says was given (line_facts.drug_code, see
reclaim.edits.drug): a Prolia NDC billed as J1327 is judged as J0897."""

from ..drug import code_label, units_text
from ..registry import edit

RC301 = edit(
    code="RC301",
    name="jw-jz-missing",
    severity="error",
    category="modifiers",
    message="{code} on {service_date} has neither JZ nor a JW line: {policy} requires JW/JZ on separately payable single-dose drugs from {required_from}",
    fix="add JZ if nothing was discarded; otherwise bill the discarded units on a separate line with JW",
    fix_action="add_modifier",
    denials=("CARC 16", "CARC 4", "RARC MA130"),
    doc="""
    ## What it checks
    Under a policy that requires JW/JZ (Medicare: dates of service from 2023-07-01), drug lines
    of a separately payable code (one with an ASP payment limit on the date of service, not
    listed as exempt in the policy) that carry neither JZ nor JW, when the claim has no JW line
    for the same code and date. Rural health clinics and FQHCs (type of bill 71x/77x) are exempt.
    On institutional (837I) claims the OPPS status indicator of the Addendum B quarter in force
    decides: only separately payable drugs (SI K, G) need JW/JZ; a packaged drug (SI N...) does
    not. Where no Addendum B quarter held covers the date, the line is judged as today and the run
    says the SI was not known. The drug is the one the NDC says was given: a Prolia NDC billed as J1327 (no ASP row) is
    judged as J0897, in the same run as RC104's code finding.

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
    [NAHRI-FAQ]; separately payable = a row in the CMS ASP pricing file in force (e.g. 2025-Q4)
    and, on 837I, OPPS status indicator G or K in CMS OPPS Addendum B of the quarter [CMS-OPPS-ADDB] (JW/JZ
    applies to SI G and K [NAHRI-FAQ], not to packaged drugs [BRACCO]). The CMS files do not flag multi-dose containers: list such codes under `jw_jz.exempt_hcpcs`.
    """,
    sql="""
    WITH jw AS (
      SELECT DISTINCT claim_id, drug_code, service_date FROM line_facts WHERE has_jw
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date, p.name AS policy,
           p.jwjz_required_from AS required_from, lf.at_risk AS dollars_at_risk, 'JZ' AS fix_value
    FROM line_facts lf
    JOIN policies p ON p.policy_id = lf.policy_id
    LEFT JOIN jw ON jw.claim_id = lf.claim_id AND jw.drug_code = lf.drug_code AND jw.service_date = lf.service_date
    LEFT JOIN policy_jwjz_exempt x ON x.policy_id = lf.policy_id AND x.hcpcs = lf.drug_code
    WHERE p.jwjz_required_from IS NOT NULL AND lf.service_date >= p.jwjz_required_from
      AND lf.is_drug AND lf.payment_limit IS NOT NULL AND x.hcpcs IS NULL
      AND NOT lf.has_jw AND NOT lf.has_jz AND jw.claim_id IS NULL
      AND NOT lf.rhc_fqhc_bill
      -- 837I: separately payable under OPPS (SI G/K); an unknown SI is judged as before
      AND (lf.opps_si IS NULL OR lf.opps_si IN ('G', 'K'))
    """,
)

RC302 = edit(
    code="RC302",
    name="jw-and-jz-together",
    severity="error",
    category="modifiers",
    message="{code} on {service_date} carries JZ (nothing discarded) but line {jw_line} bills JW (discarded drug)",
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
      SELECT claim_id, drug_code, service_date, min(line_number) AS jw_line
      FROM line_facts WHERE has_jw GROUP BY claim_id, drug_code, service_date
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date, jw.jw_line,
           lf.at_risk AS dollars_at_risk, 'JZ' AS fix_value
    FROM line_facts lf
    JOIN jw ON jw.claim_id = lf.claim_id AND jw.drug_code = lf.drug_code AND jw.service_date = lf.service_date
    WHERE lf.has_jz
    """,
)

RC303 = edit(
    code="RC303",
    name="jw-under-one-unit",
    severity="error",
    category="modifiers",
    message="JW line bills {units} units of {code}: discarded drug under one billing unit is not billed",
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
    SELECT lf.claim_id, lf.line_number, lf.drug_units AS units, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date,
           lf.at_risk AS dollars_at_risk
    FROM line_facts lf
    WHERE lf.has_jw AND lf.drug_units IS NOT NULL AND lf.drug_units < 1
    """,
)

RC304 = edit(
    code="RC304",
    name="jw-plus-administered-exceed-package",
    severity="error",
    category="modifiers",
    message="administered {administered} + discarded {discarded} units of {code} exceed the {capacity} units in the NDC quantity billed ({drug}, CMS crosswalk {release})",
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
      SELECT DISTINCT claim_id, drug_code, service_date FROM line_facts WHERE is_drug AND has_jw
    ), g AS (
      SELECT lf.claim_id, lf.drug_code, lf.service_date,
             sum(CASE WHEN lf.has_jw THEN 0 ELSE lf.drug_units END) AS administered,
             sum(CASE WHEN lf.has_jw THEN lf.drug_units ELSE 0 END) AS discarded,
             max(lf.ndc_max_units) AS capacity, max(k.drug_name) AS drug, max(k.xw_release) AS release
      FROM line_facts lf
      JOIN jw ON jw.claim_id = lf.claim_id AND jw.drug_code = lf.drug_code AND jw.service_date = lf.service_date
      LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
      WHERE lf.is_drug
      GROUP BY lf.claim_id, lf.drug_code, lf.service_date
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date,
           g.administered, g.discarded, g.capacity, g.drug, g.release,
           CASE WHEN g.capacity > g.administered THEN CAST(CAST(g.capacity - g.administered AS BIGINT) AS VARCHAR) END AS allowed_waste,
           -- after a code swap the units are RC103/RC104's fix (a second --fix pass sees this one)
           CASE WHEN g.capacity > g.administered AND NOT lf.code_swapped
                THEN CAST(CAST(g.capacity - g.administered AS BIGINT) AS VARCHAR) END AS fix_value,
           CAST(lf.payment_limit * (g.administered + g.discarded - g.capacity) AS DECIMAL(18,2)) AS dollars_at_risk
    FROM line_facts lf
    JOIN g ON g.claim_id = lf.claim_id AND g.drug_code = lf.drug_code AND g.service_date = lf.service_date
    WHERE lf.has_jw AND g.capacity IS NOT NULL AND g.administered + g.discarded > g.capacity
    """,
)

RC305 = edit(
    code="RC305",
    name="340b-modifier-missing",
    severity="error",
    category="modifiers",
    message="{code} on {service_date}: {policy} marks this entity as a 340B covered entity, but the line carries no {modifier}",
    fix="add {modifier} if the drug was acquired under 340B",
    fix_action="add_modifier",
    denials=("CARC 4",),
    doc="""
    ## What it checks
    Under a policy whose `entity_340b.covered_entity` is true, separately payable drug lines
    (an ASP payment limit on the date of service) without the entity's 340B modifier (TB). On
    837I the OPPS status indicator decides (SI K or G; packaged drugs, SI N, need none); where no
    Addendum B quarter held covers the date the line is judged as today and the run says so.

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
    2025-10 (JG terminated 2024-12-31); CMS OPPS Addendum B of the quarter (status indicator) [CMS-OPPS-ADDB].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date, p.name AS policy,
           p.modifier_340b AS modifier,
           lf.at_risk AS dollars_at_risk, p.modifier_340b AS fix_value
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id
    WHERE p.covered_340b AND lf.is_drug AND lf.payment_limit IS NOT NULL
      AND (lf.opps_si IS NULL OR lf.opps_si IN ('G', 'K'))
      -- a JG line is RC102's finding (JG ended 2024-12-31), not a missing modifier
      AND NOT lf.has_tb AND NOT lf.has_jg
    """,
)

RC306 = edit(
    code="RC306",
    name="jz-with-drug-left-in-package",
    severity="error",
    category="modifiers",
    message="{code} x {units} carries JZ (nothing discarded), but {ndc_quantity} {ndc_unit} of NDC {ndc11} ({drug}) holds {max_units} units (CMS crosswalk {release}): {waste} units are unaccounted for",
    fix="bill the {waste} discarded units on a separate line with JW (and drop JZ), or correct the NDC or its quantity to the package actually used",
    denials=("CARC 16", "CARC 4"),
    doc="""
    ## What it checks
    Drug lines with JZ whose units are at least one billing unit fewer than what the NDC quantity
    on the line holds (CMS crosswalk billable units per item x items), when the claim has no JW
    line for the same drug and date of service (that contradiction is RC302's).

    ## Why it matters
    JZ attests that nothing of a single-dose container was discarded. Fewer units than the
    package holds means either drug was discarded, which Medicare requires on its own JW line
    (since 2017), or the NDC or quantity does not match what was used: a contradiction
    auditors look for in the JW/JZ data CMS collects for the discarded-drug refund. CMS
    publishes no specific denial code for JW/JZ errors: expect CARC 16 or CARC 4 on review.

    ## Example
    J0897 x 60 -JZ with NDC 55513-0730-01 (Xgeva, one 120 mg vial = 120 units of J0897): 60 units
    are unaccounted for. J0897 x 6 -JZ with one Prolia syringe (60 units): 54.

    ## Fix
    Bill the discarded units on a separate line with JW and remove JZ, or correct the NDC (Prolia
    rather than Xgeva) or its quantity. Not mechanical: only the record says which.

    ## Source
    JW/JZ definitions and the separate JW line: domain-facts §3.1 [MODS-CS] [NOR-JW] [CGS-JZ];
    waste is billed in whole units, rounded down (less than one unit is not billed) [ACR-WASTE]
    [NOR-JZ-DME]; CMS ASP NDC-HCPCS crosswalk (BILLUNITS, quarter in force): 55513-0730-01 =
    120 units, 55513-0710-01 = 60 units of J0897 (domain-facts §0).
    """,
    sql="""
    WITH jw AS (
      SELECT DISTINCT claim_id, drug_code, service_date FROM line_facts WHERE has_jw
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date,
           lf.drug_units AS units, lf.ndc_quantity, lf.ndc_unit, lf.ndc11, k.drug_name AS drug, k.xw_release AS release,
           lf.ndc_max_units AS max_units, """ + units_text("floor(lf.ndc_max_units - lf.drug_units)") + """ AS waste,
           CAST(lf.payment_limit * floor(lf.ndc_max_units - lf.drug_units) AS DECIMAL(18,2)) AS dollars_at_risk
    FROM line_facts lf
    LEFT JOIN jw ON jw.claim_id = lf.claim_id AND jw.drug_code = lf.drug_code AND jw.service_date = lf.service_date
    LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.has_jz AND lf.is_drug AND lf.ndc_max_units IS NOT NULL AND lf.drug_units IS NOT NULL
      AND lf.ndc_max_units - lf.drug_units >= 1 AND jw.claim_id IS NULL
    """,
)


def _drug_line_modifiers(modifiers: tuple[str, ...]) -> str:
    """The drug lines' modifiers among ``modifiers``, one row each (filtered in each branch: a
    handful of rows, never every modifier of the batch)."""
    listed = ", ".join(f"'{m}'" for m in modifiers)
    return "\n      UNION ALL\n".join(
        f"""      SELECT claim_id, line_number, procedure_code, service_date, drug_code, code_swapped, ndc11, units, at_risk,
             modifier_{i} AS modifier
      FROM line_facts WHERE modifier_{i} IN ({listed}) AND is_drug"""
        for i in range(1, 5)
    )


#: bilateral (Level I 50) and anatomic modifiers (HCPCS Level II: sides, eyelids, fingers, toes)
_ANATOMIC = ("50", "RT", "LT", "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
             "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9")
#: distinct procedural service (Level I 59) and its CMS subsets X{EPSU}
_DISTINCT = ("59", "XE", "XS", "XP", "XU")


RC307 = edit(
    code="RC307",
    name="anatomic-modifier-on-drug",
    severity="warning",
    category="modifiers",
    message="modifier {modifier} ({meaning}) on drug code {code}: bilateral and anatomic modifiers do not apply to drug codes (the units state the total dose given) unless the payer's policy asks for one",
    fix="remove {modifier} and bill the total dose (both sides, every site) in units on one line, unless this payer's policy asks for it",
    denials=("CARC 4",),
    doc="""
    ## What it checks
    Drug lines (HCPCS drug codes) carrying the bilateral modifier 50 (Level I, CPT) or an
    anatomic modifier: RT, LT, eyelids E1-E4, fingers FA and F1-F9, toes TA and T1-T9.

    ## Why it matters
    Laterality and body site describe procedures; a drug is paid on its dose, and the units
    must state the total dose administered. Modifier 50 is for procedures whose bilateral
    surgery indicator allows it; on a drug line the payer may reject the modifier or halve the
    dose (CARC 4, procedure inconsistent with the modifier). A warning, not an error: some
    payers ask for a side on some drug injections (a payer example is J3301-50), and whether
    the bilateral indicator of J-codes ever allows 50 is not in the official files reclaim holds.

    ## Example
    J0897 -RT x 60 (denosumab is given subcutaneously: there is no side to bill).

    ## Fix
    Remove the modifier and bill the total dose in units, unless the payer's policy asks for it.

    ## Source
    Modifier meanings: CMS HCPCS Level II file (modifier rows RT, LT, E1-E4, FA, F1-F9, TA, T1-T9;
    e.g. HCPC2025_OCT_ANWEB: RT "Right side", E1 "Upper left, eyelid"); 50 is Level I (CPT), not
    in that file. Modifier 50 only where the MPFS bilateral surgery indicator is 1 or 3 [NOR-50];
    units = total dose administered [CMS-RAC74]; "flag 50/RT/LT on J/Q drug lines as a warning,
    not an error": domain-facts §3.4 [AAPC-POD50]. No official text extends this to the eyelid,
    finger and toe modifiers: they are body sites like RT/LT (HCPCS file descriptors).
    """,
    sql="""
    WITH m AS (
""" + _drug_line_modifiers(_ANATOMIC) + """
    )
    SELECT m.claim_id, m.line_number, m.procedure_code, m.service_date, m.modifier, m.at_risk AS dollars_at_risk,
           """ + code_label("m") + """ AS code,
           CASE WHEN m.modifier = '50' THEN 'bilateral procedure, Level I (CPT)'
                ELSE coalesce(lower(h.long_description), 'anatomic site') END AS meaning
    FROM m
    LEFT JOIN hcpcs_dos h ON h.kind = 'modifier' AND h.code = m.modifier
         AND m.service_date >= h.valid_from AND m.service_date < h.valid_to
    """,
)

RC308 = edit(
    code="RC308",
    name="distinct-service-modifier-on-drug",
    severity="warning",
    category="modifiers",
    message="modifier {modifier} ({meaning}) on drug code {code}: 59 and XE/XS/XP/XU bypass NCCI procedure-to-procedure edits; on a drug line it is unusual, check that it is needed",
    fix="remove {modifier} unless the record documents a distinct service that an NCCI edit would otherwise bundle",
    denials=("CARC 236", "CARC 4"),
    doc="""
    ## What it checks
    Drug lines carrying modifier 59 (Level I, CPT: distinct procedural service) or one of its
    CMS subsets XE, XS, XP, XU.

    ## Why it matters
    59 and X{EPSU} tell the payer that a service is distinct so that an NCCI
    procedure-to-procedure edit does not bundle it; they are audited when used without a
    documented distinct service (an unsupported one turns into a CARC 236 or CARC 4 denial or
    a recoupment). On a drug line they rarely have a purpose: a warning that a person should
    check, not an invalid code (the modifiers are valid).

    ## Example
    J1745 -59 x 50.

    ## Fix
    Remove the modifier unless the record documents a distinct service an NCCI edit would
    otherwise bundle.

    ## Source
    X{EPSU} are CMS subsets of 59 (MLN MM8863) used to bypass NCCI PTP edits: domain-facts §3.3
    [XMODS-CODE] [XE-SQL]; their descriptors: CMS HCPCS Level II file (e.g. HCPC2025_OCT_ANWEB XE
    "Separate encounter..."); 59 is Level I (CPT), not in that file; CARC 236 (NCCI
    incompatibility) and CARC 97 advice: domain-facts §9.2.
    """,
    sql="""
    WITH m AS (
""" + _drug_line_modifiers(_DISTINCT) + """
    )
    SELECT m.claim_id, m.line_number, m.procedure_code, m.service_date, m.modifier, m.at_risk AS dollars_at_risk,
           """ + code_label("m") + """ AS code,
           CASE WHEN m.modifier = '59' THEN 'distinct procedural service, Level I (CPT)'
                ELSE coalesce(lower(h.long_description), 'distinct service') END AS meaning
    FROM m
    LEFT JOIN hcpcs_dos h ON h.kind = 'modifier' AND h.code = m.modifier
         AND m.service_date >= h.valid_from AND m.service_date < h.valid_to
    """,
)
