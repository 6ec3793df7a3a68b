"""Code validity and drug identity: is the procedure code (and each modifier) valid on the
date of service, and is it the code the NDC's drug is billed under?"""

from ..drug import units_text
from ..registry import edit

#: lines whose NDC the CMS crosswalk assigns to another code than the billed one (RC103 NOC,
#: RC104 specific), with the code swap's fix: the NDC's code and the units of the dose given
#: (line_facts.drug_units, converted through both codes' billing units), or why that is not
#: mechanical (no single code, no known dose, a dose above what the NDC quantity holds)
SWAP_SQL = """
    SELECT w.*, CASE WHEN w.fix_value IS NOT NULL THEN """ + units_text("w.drug_units") + """ END AS new_units
    FROM (
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.ndc11, lf.units, lf.drug_units, lf.is_noc, lf.xw_listed,
           lf.ndc_code_count, k.ndc_code_max, k.ndc_drug_name AS drug, k.ndc_code AS specific, k.ndc_release AS release,
           lf.at_risk AS dollars_at_risk,
           CASE lf.drug_units_source
                WHEN 1 THEN 'the dose the line description states'
                WHEN 2 THEN """ + units_text("lf.units") + """ || ' x ' || """ + units_text("k.billed_unit_amount") + """ || ' ' || k.billed_unit_uom
                            || ' = ' || """ + units_text("lf.units * k.billed_unit_amount") + """ || ' ' || k.billed_unit_uom || '; '
                            || k.drug_code || ' is ' || """ + units_text("k.unit_amount") + """ || ' ' || k.unit_uom || ' per unit'
                WHEN 3 THEN 'what ' || """ + units_text("lf.ndc_quantity") + """ || ' ' || lf.ndc_unit || ' of the NDC holds, CMS crosswalk '
                            || k.ndc_release
           END AS units_from,
           CASE WHEN lf.ndc_code_count > 1 THEN 'the crosswalk assigns the NDC to more than one code'
                WHEN NOT lf.code_swapped THEN lf.procedure_code || ' is not a drug code: report the NDC on the line of the drug given ('
                     || k.ndc_code || '), or bill that drug'
                WHEN lf.drug_units IS NULL THEN 'the dose cannot be known: ' || lf.procedure_code || ' has no billing unit in '
                     || coalesce(k.drug_unit_family, '?') || ', and neither the description nor the NDC quantity states the dose;'
                     || ' state the units of ' || k.drug_code || ' for the dose given'
                WHEN lf.ndc_max_units IS NOT NULL AND lf.drug_units > lf.ndc_max_units
                  THEN """ + units_text("lf.units") + """ || ' units of ' || lf.procedure_code || ' are '
                       || """ + units_text("lf.drug_units") + """ || ' units of ' || k.drug_code || ', more than the '
                       || """ + units_text("lf.ndc_max_units") + """ || ' units the NDC quantity holds: state the units of the dose given'
           END AS not_mechanical,
           CASE WHEN lf.code_swapped AND lf.drug_units IS NOT NULL
                     AND (lf.ndc_max_units IS NULL OR lf.drug_units <= lf.ndc_max_units)
                THEN k.drug_code || ' x ' || """ + units_text("lf.drug_units") + """ END AS fix_value
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.ndc11 IS NOT NULL AND lf.ndc_code_count >= 1 AND k.ndc_code <> lf.procedure_code AND NOT lf.xw_listed
    ) w
"""

RC101 = edit(
    code="RC101",
    name="procedure-code-invalid-on-dos",
    severity="error",
    category="code",
    message="{procedure_code} is not valid on {service_date}: {reason}",
    denials=("CARC 181", "RARC M84", "RARC M20"),
    doc="""
    ## What it checks
    Each HCPCS Level II code on a line (a letter and four digits) against the CMS HCPCS file
    release in force on the line's date of service: the code must be in the file, added on or
    before the date of service, and not terminated before it (`TERM DT` is the last valid date).
    A code the file does not list at all is judged only on dates from the oldest release held:
    the file keeps add and termination dates for the codes it lists, but a code deleted years
    before it is simply absent, so on a 2004 claim its absence proves nothing.

    ## Why it matters
    A code that does not exist or is not valid on the date of service is denied with CARC 181
    "Procedure code was invalid on the date of service" (RARC M84 "Medical code sets used must be
    the codes in effect at the time of service"). Biosimilar Q-codes are added quarterly, so a
    claim dated before a code's add date is a frequent cause.

    ## Example
    Q5157 (denosumab-bmwo) was added 2025-10-01; a line Q5157 x 60 dated 2025-09-15 is flagged.

    ## Fix
    Bill the code in force on the date of service (see `reclaim code`), or correct the date.

    ## Source
    CMS HCPCS Level II file, `ADD DT` / `TERM DT` columns (release in the reference store, e.g.
    HCPC2025_OCT_ANWEB); domain-facts §1.2 [HCPCS-LAYOUT] [OPENEMR-BU].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.at_risk AS dollars_at_risk,
           CASE WHEN NOT lf.hcpcs_known THEN 'not in the CMS HCPCS file in force on that date'
                WHEN coalesce(lf.add_date, lf.effective_date) > lf.service_date
                  THEN 'not yet effective (added ' || CAST(coalesce(lf.add_date, lf.effective_date) AS VARCHAR) || ', HCPCS ' || k.hcpcs_release || ')'
                ELSE 'terminated (last valid date ' || CAST(lf.termination_date AS VARCHAR) || ', HCPCS ' || k.hcpcs_release || ')'
           END AS reason
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    -- a code the file does not list is judged only on dates the file is in force: before the
    -- oldest release held, a code since deleted from the file may have been valid
    CROSS JOIN (SELECT min(release_effective) AS held_from FROM hcpcs_dos) r
    -- conditions run in the order written: the date test (few lines fail it) before the pattern
    WHERE ((NOT lf.hcpcs_known AND lf.service_date >= r.held_from)
           OR coalesce(lf.add_date, lf.effective_date) > lf.service_date
           OR lf.termination_date < lf.service_date)
      AND lf.hcpcs_qualified
      AND regexp_matches(lf.procedure_code, '^[A-V][0-9]{4}$')
    """,
)

RC102 = edit(
    code="RC102",
    name="modifier-invalid-on-dos",
    severity="error",
    category="code",
    message="modifier {modifier} is not valid on {service_date}: {reason}",
    fix="replace {modifier} with {replacement}",
    fix_action="replace_modifier",
    fix_fallback="remove or correct the modifier (see `reclaim code` for the modifiers in force)",
    denials=("CARC 182", "CARC 4"),
    doc="""
    ## What it checks
    Each HCPCS Level II modifier on a line against the modifiers in the CMS HCPCS file release
    in force on the date of service: it must exist, be added on or before the date, and not be
    terminated. Level I (CPT) modifiers, two digits (25, 59, 76, 91...), are valid codes outside
    that file: CPT is the AMA's code set, which the reference store does not hold, so they are
    not checked here (RC307 and RC308 say when one makes no sense on a drug line). A modifier the
    file does not list is judged only on dates from the oldest release held (see RC101).

    ## Why it matters
    An invalid modifier gets CARC 182 "Procedure modifier was invalid on the date of service".
    The 340B modifier JG was terminated on 2024-12-31; from 2025 every 340B drug line reports TB.
    A modifier that never existed (there is no "JN") is rejected the same way.

    ## Example
    J9271-JG dated 2025-11-04: JG's last valid date is 2024-12-31.

    ## Fix
    Replace JG with TB (the 340B modifier in force); remove or correct other invalid modifiers.
    `--fix` replaces JG with TB when TB is valid on the date of service.

    ## Source
    CMS HCPCS Level II file, modifier rows (`TERM DT`), e.g. HCPC2025_OCT_ANWEB: JG terminated
    2024-12-31; domain-facts §0 and §3.2 [ESS-HOSP] [FORVIS]. HCPCS Level I is CPT (AMA,
    numeric), Level II the CMS alphanumeric codes: domain-facts §1.1 [CMS-HCPCS-PROC]; the file
    holds Level II only (reference mirror MANIFEST).
    """,
    sql="""
    WITH m AS (
      SELECT claim_id, line_number, service_date, procedure_code, at_risk, modifier_1 AS modifier FROM line_facts WHERE modifier_1 IS NOT NULL
      UNION ALL SELECT claim_id, line_number, service_date, procedure_code, at_risk, modifier_2 FROM line_facts WHERE modifier_2 IS NOT NULL
      UNION ALL SELECT claim_id, line_number, service_date, procedure_code, at_risk, modifier_3 FROM line_facts WHERE modifier_3 IS NOT NULL
      UNION ALL SELECT claim_id, line_number, service_date, procedure_code, at_risk, modifier_4 FROM line_facts WHERE modifier_4 IS NOT NULL
    ), checked AS (
      SELECT m.*, h.code IS NOT NULL AS known, h.release, coalesce(h.add_date, h.effective_date) AS added, h.termination_date
      FROM m LEFT JOIN hcpcs_dos h ON h.kind = 'modifier' AND h.code = m.modifier
           AND m.service_date >= h.valid_from AND m.service_date < h.valid_to
      -- Level I (CPT) modifiers are two digits: not in the Level II file, and not invalid
      WHERE NOT regexp_matches(m.modifier, '^[0-9][0-9]$')
    ), tb AS (
      SELECT valid_from, valid_to, add_date, termination_date FROM hcpcs_dos WHERE kind = 'modifier' AND code = 'TB'
    ), held AS (
      -- a modifier the file does not list is judged only on dates the file is in force (RC101)
      SELECT min(release_effective) AS held_from FROM hcpcs_dos
    )
    SELECT c.claim_id, c.line_number, c.modifier, c.service_date, c.procedure_code, c.at_risk AS dollars_at_risk,
           CASE WHEN NOT c.known THEN 'not a modifier in the CMS HCPCS file in force on that date'
                WHEN c.added > c.service_date THEN 'not yet effective (added ' || CAST(c.added AS VARCHAR) || ', HCPCS ' || c.release || ')'
                ELSE 'terminated (last valid date ' || CAST(c.termination_date AS VARCHAR) || ', HCPCS ' || c.release || ')'
           END AS reason,
           CASE WHEN c.modifier = 'JG' AND tb.valid_from IS NOT NULL THEN 'TB' END AS replacement,
           CASE WHEN c.modifier = 'JG' AND tb.valid_from IS NOT NULL THEN 'JG>TB' END AS fix_value
    FROM checked c
    CROSS JOIN held
    LEFT JOIN tb ON c.service_date >= tb.valid_from AND c.service_date < tb.valid_to
         AND coalesce(tb.add_date, DATE '1900-01-01') <= c.service_date
         AND (tb.termination_date IS NULL OR tb.termination_date >= c.service_date)
    WHERE (NOT c.known AND c.service_date >= held.held_from) OR c.added > c.service_date OR c.termination_date < c.service_date
    """,
)

RC103 = edit(
    code="RC103",
    name="noc-code-with-specific-code",
    severity="error",
    category="code",
    message="{procedure_code} is a not-otherwise-classified code, but NDC {ndc11} ({drug}) is billed as {specific} in the CMS crosswalk ({release})",
    fix="bill {specific} x {new_units} instead of {procedure_code} x {units} ({units_from})",
    fix_action="set_procedure_code",
    fix_fallback="bill the code the crosswalk names, in units of its descriptor; not mechanical: {not_mechanical}",
    denials=("CARC 189", "RARC N657"),
    doc="""
    ## What it checks
    Lines billed with a not-otherwise-classified (NOC) drug code (the HCPCS long description
    says "unclassified" / "not otherwise classified") whose NDC is assigned, in the CMS ASP
    NDC-HCPCS crosswalk in force on the date of service, to a specific code.

    ## Why it matters
    A NOC code billed when a specific code exists is denied with CARC 189 "Not otherwise
    classified or unlisted procedure code (CPT/HCPCS) was billed when there is a specific
    procedure code for this procedure/service", often with RARC N657.

    ## Example
    J3490 with NDC 55513-0710-01 (Prolia): the crosswalk assigns that NDC to J0897.

    ## Fix
    Bill the specific code named by the crosswalk, in units of its descriptor. `--fix` swaps the
    code when the NDC maps to exactly one, with the units of the dose given: the dose the line
    description states ("PROLIA 60 MG" -> J0897 x 60), else what the NDC quantity holds (one
    Prolia syringe = 60 units of J0897, CMS crosswalk), rounded up to a whole unit. When neither
    is known, or the dose is more than the NDC quantity holds, the fix is not mechanical and the
    finding says why.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (quarter in force, e.g. 2025-Q4: BILLUNITS per item); CMS HCPCS
    long descriptors (billing unit); rounding up: CMS Recovery Audit issue 0074 [CMS-RAC74];
    domain-facts §1.3-1.5 [OPENEMR-ARC] [PALM-NOC].
    """,
    sql="""
    SELECT s.*, s.specific AS crosswalk_code FROM (""" + SWAP_SQL + """) s
    WHERE s.is_noc
    """,
)

RC104 = edit(
    code="RC104",
    name="ndc-billed-under-other-code",
    severity="error",
    category="code",
    message="NDC {ndc11} ({drug}) is billed under {procedure_code}, but the CMS crosswalk ({release}) assigns it to {crosswalk_code}",
    fix="bill {crosswalk_code} x {new_units} instead of {procedure_code} x {units} ({units_from}), or correct the NDC to the product actually given",
    fix_action="set_procedure_code",
    fix_fallback="bill {crosswalk_code} in units of its descriptor, or correct the NDC to the product actually given; not mechanical: {not_mechanical}",
    denials=("CARC 16", "RARC M119", "CARC 181"),
    doc="""
    ## What it checks
    Lines with a specific (not NOC) HCPCS code and an NDC that the CMS ASP NDC-HCPCS crosswalk
    in force on the date of service assigns to a different code, and not to the billed one.

    ## Why it matters
    The NDC identifies the product given; the HCPCS code must describe that product. A mismatch
    is denied (CARC 16 with RARC M119 "Missing/incomplete/invalid/deactivated/withdrawn NDC", or
    an invalid-code denial), and Medicaid cannot claim the rebate. Denosumab billed as J1327
    (eptifibatide, an unrelated drug) is a known mistake.

    ## Example
    J1327 x 60 with NDC 55513-0710-01: the crosswalk assigns Prolia's NDC to J0897
    ("Injection, denosumab, 1 mg").

    ## Fix
    Bill the code the crosswalk names, in units of its descriptor, or correct the NDC if the
    wrong product was recorded. `--fix` swaps the code when the NDC maps to exactly one and
    converts the units through both codes' billing units (dose = units x the billed code's unit;
    new units = dose / the new code's unit, rounded up as CMS says): J1327 (5 mg) x 12 becomes
    J0897 (1 mg) x 60. A line description stating the dose wins; without a billing unit on the
    billed code, what the NDC quantity holds is the dose. When the dose cannot be known, or is
    more than the NDC quantity holds (J1327 x 60 would be 300 mg, one Prolia syringe holds
    60 mg), the fix is not mechanical and the finding says why.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (quarter in force, e.g. 2025-Q4 asp_crosswalk); CMS HCPCS file
    (long descriptors: J1327 "Injection, eptifibatide, 5 mg", J0897 "Injection, denosumab,
    1 mg"); units = dose / descriptor dose, rounded up [CMS-RAC74]; domain-facts §0, §1.3-1.4,
    §2.1, §4.2 [WAMUIR-J] [OPENEMR-BU].
    """,
    sql="""
    SELECT s.*, CASE WHEN s.ndc_code_count = 1 THEN s.specific ELSE s.specific || ' or ' || s.ndc_code_max END AS crosswalk_code
    FROM (""" + SWAP_SQL + """) s
    WHERE NOT s.is_noc AND NOT s.xw_listed
    """,
)
