"""Code validity and drug identity: is the procedure code (and each modifier) valid on the
date of service, and is it the code the NDC's drug is billed under?"""

from ..registry import edit

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
    -- conditions run in the order written: the date test (few lines fail it) before the pattern
    WHERE (NOT lf.hcpcs_known
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
    Each modifier on a line against the modifiers in the CMS HCPCS file release in force on the
    date of service: it must exist, be added on or before the date, and not be terminated.

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
    2024-12-31; domain-facts §0 and §3.2 [ESS-HOSP] [FORVIS].
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
    ), tb AS (
      SELECT valid_from, valid_to, add_date, termination_date FROM hcpcs_dos WHERE kind = 'modifier' AND code = 'TB'
    )
    SELECT c.claim_id, c.line_number, c.modifier, c.service_date, c.procedure_code, c.at_risk AS dollars_at_risk,
           CASE WHEN NOT c.known THEN 'not a modifier in the CMS HCPCS file in force on that date'
                WHEN c.added > c.service_date THEN 'not yet effective (added ' || CAST(c.added AS VARCHAR) || ', HCPCS ' || c.release || ')'
                ELSE 'terminated (last valid date ' || CAST(c.termination_date AS VARCHAR) || ', HCPCS ' || c.release || ')'
           END AS reason,
           CASE WHEN c.modifier = 'JG' AND tb.valid_from IS NOT NULL THEN 'TB' END AS replacement,
           CASE WHEN c.modifier = 'JG' AND tb.valid_from IS NOT NULL THEN 'JG>TB' END AS fix_value
    FROM checked c
    LEFT JOIN tb ON c.service_date >= tb.valid_from AND c.service_date < tb.valid_to
         AND coalesce(tb.add_date, DATE '1900-01-01') <= c.service_date
         AND (tb.termination_date IS NULL OR tb.termination_date >= c.service_date)
    WHERE NOT c.known OR c.added > c.service_date OR c.termination_date < c.service_date
    """,
)

RC103 = edit(
    code="RC103",
    name="noc-code-with-specific-code",
    severity="error",
    category="code",
    message="{procedure_code} is a not-otherwise-classified code, but NDC {ndc11} ({drug}) is billed as {specific} in the CMS crosswalk ({release})",
    fix="bill {specific} instead of {procedure_code}, in units of its descriptor",
    fix_action="set_procedure_code",
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
    Bill the specific code named by the crosswalk; the units change to that code's descriptor
    (see RC201-RC203 after the change). `--fix` swaps the code when the NDC maps to exactly one.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (quarter in force, e.g. 2025-Q4); CMS HCPCS long descriptors;
    domain-facts §1.5 [OPENEMR-ARC] [PALM-NOC].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.ndc11, k.ndc_drug_name AS drug, k.ndc_code AS specific,
           k.ndc_release AS release, lf.at_risk AS dollars_at_risk,
           CASE WHEN lf.ndc_code_count = 1 THEN k.ndc_code END AS fix_value
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.is_noc AND lf.ndc11 IS NOT NULL AND lf.ndc_code_count >= 1 AND k.ndc_code <> lf.procedure_code
    """,
)

RC104 = edit(
    code="RC104",
    name="ndc-billed-under-other-code",
    severity="error",
    category="code",
    message="NDC {ndc11} ({drug}) is billed under {procedure_code}, but the CMS crosswalk ({release}) assigns it to {crosswalk_code}",
    fix="bill {crosswalk_code} (or correct the NDC to the product actually given)",
    fix_action="set_procedure_code",
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
    Bill the code the crosswalk names (units follow that code's descriptor), or correct the NDC
    if the wrong product was recorded. `--fix` swaps the code when the NDC maps to exactly one.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (quarter in force, e.g. 2025-Q4 asp_crosswalk); CMS HCPCS file;
    domain-facts §0, §2.1, §4.2 [WAMUIR-J] [OPENEMR-BU].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.ndc11, k.ndc_drug_name AS drug,
           CASE WHEN lf.ndc_code_count = 1 THEN k.ndc_code ELSE k.ndc_code || ' or ' || k.ndc_code_max END AS crosswalk_code,
           k.ndc_release AS release, lf.at_risk AS dollars_at_risk,
           CASE WHEN lf.ndc_code_count = 1 THEN k.ndc_code END AS fix_value
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE NOT lf.is_noc AND lf.ndc11 IS NOT NULL AND lf.ndc_code_count >= 1 AND NOT lf.xw_listed
    """,
)
