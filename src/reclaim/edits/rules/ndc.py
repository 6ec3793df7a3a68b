"""The NDC on drug lines (837 Loop 2410 LIN/CTP): present where the payer requires it,
11 digits 5-4-2, qualifier N4, a unit of measure and a quantity."""

from ..registry import edit

RC401 = edit(
    code="RC401",
    name="ndc-missing",
    severity="error",
    category="ndc",
    message="{procedure_code} has no NDC: {policy} requires one ({why})",
    fix="report NDC {suggested} (the only NDC the CMS crosswalk lists for {procedure_code})",
    fix_action="set_ndc",
    fix_fallback="report the NDC of the product administered (LIN02 N4, LIN03, CTP04 quantity, CTP05 unit)",
    denials=("CARC 16", "RARC M119"),
    doc="""
    ## What it checks
    Drug lines without an NDC where the claim's policy requires one: Medicaid on every drug
    line (`ndc.required: always`), Medicare and most commercial payers where the CMS
    NDC-HCPCS crosswalk lists NDCs for the code on the date of service (`crosswalked`). On
    institutional (837I) claims under `crosswalked`, a packaged drug (OPPS status indicator other
    than K or G in the Addendum B quarter in force) needs none; where no quarter held covers the
    date the line is judged as today and the run says the SI was not known.

    ## Why it matters
    Medicaid must collect manufacturer rebates on physician-administered drugs (Deficit
    Reduction Act of 2005); lines without an NDC are denied (CARC 16 with RARC M119).

    ## Example
    A Medicaid claim with J9271 x 200 and no LIN segment.

    ## Fix
    Report the NDC of the product administered in 2410 LIN03 with qualifier N4, and its
    quantity and unit in CTP04/CTP05. `--fix` fills the NDC only when the crosswalk lists exactly
    one NDC for the code.

    ## Source
    DRA 2005 §6002 / SSA §1927(a)(7) [SMDL-06-016] [MDCD-DRA]; 837P Loop 2410 [X12-RFI2151];
    CMS ASP NDC-HCPCS crosswalk (quarter in force); CMS OPPS Addendum B (status indicator, 837I) [CMS-OPPS-ADDB].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, p.name AS policy, lf.at_risk AS dollars_at_risk,
           CASE WHEN p.ndc_required = 'always' THEN 'NDC required on every drug line'
                ELSE 'the CMS crosswalk lists ' || CAST(lf.code_ndc_count AS VARCHAR) || ' NDC(s) for this code' END AS why,
           CASE WHEN lf.code_ndc_count = 1 THEN k.code_ndc_first END AS suggested,
           CASE WHEN lf.code_ndc_count = 1 THEN k.code_ndc_first END AS fix_value
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id
    LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.is_drug AND NOT lf.has_ndc
      AND (p.ndc_required = 'always' OR (p.ndc_required = 'crosswalked' AND lf.code_ndc_count > 0
                                         AND (lf.opps_si IS NULL OR lf.opps_si IN ('G', 'K'))))
    """,
)

RC402 = edit(
    code="RC402",
    name="ndc-not-11-digits",
    severity="error",
    category="ndc",
    message="NDC {ndc} is not in the 11-digit 5-4-2 form claims require{detail}",
    fix="report {ndc11}",
    fix_action="set_ndc",
    fix_fallback="report the 11-digit NDC printed on the package (5-4-2, pad the short segment with a leading zero)",
    denials=("CARC 16", "RARC M119"),
    doc="""
    ## What it checks
    NDCs on lines that cannot be read as an NDC at all, and, on X12 837 files (where LIN03 is sent
    as written), NDCs that are not 11 digits without hyphens: 10-digit package NDCs (4-4-2,
    5-3-2, 5-4-1) or hyphenated forms. CSV and FHIR inputs may print NDCs with hyphens: reclaim
    normalises them when it writes the 837.

    ## Why it matters
    Claims carry the NDC as 11 digits, 5-4-2, no hyphens; anything else is rejected as an
    invalid NDC (CARC 16, RARC M119) and the drug line is unpaid.

    ## Example
    61314-240-63 (Jubbonti, printed 5-3-2) must be reported as 61314024063.

    ## Fix
    Pad the short segment with a leading zero and drop the hyphens. `--fix` writes the 11-digit
    form when the NDC could be normalised.

    ## Source
    NDC 10-to-11 conversion and 837 LIN03 format, domain-facts §4.1-4.2 [NDC-DAISY]
    [NDC-DATAINSIGHT] [X12-RFI2151].
    """,
    sql="""
    SELECT claim_id, line_number, service_date, procedure_code, ndc, ndc11, at_risk AS dollars_at_risk,
           CASE WHEN ndc11 IS NULL THEN ' and cannot be read as an NDC' ELSE ' (it is ' || ndc11 || ')' END AS detail,
           ndc11 AS fix_value
    FROM line_facts
    WHERE has_ndc
      AND (ndc11 IS NULL OR (from_x12 AND NOT regexp_matches(ndc, '^[0-9]{11}$')))
    """,
)

RC403 = edit(
    code="RC403",
    name="ndc-qualifier-not-n4",
    severity="error",
    category="ndc",
    message="NDC {ndc} has qualifier {qualifier}; the NDC qualifier is N4",
    fix="set the qualifier (LIN02) to N4",
    fix_action="set_ndc_qualifier",
    denials=("CARC 16", "RARC M119"),
    doc="""
    ## What it checks
    Lines with an NDC whose product/service id qualifier (837 LIN02) is missing or not N4.

    ## Why it matters
    N4 identifies an NDC in 5-4-2 form; without it the payer cannot read the drug and the line
    is returned (CARC 16, RARC M119).

    ## Example
    LIN**ND*55513071001 instead of LIN**N4*55513071001.

    ## Fix
    Set LIN02 to N4. `--fix` does it.

    ## Source
    837P/837I Loop 2410 LIN02 = N4 [X12-RFI2151] [OPENEMR-837P]; domain-facts §4.2.
    """,
    sql="""
    SELECT claim_id, line_number, service_date, procedure_code, ndc, coalesce(ndc_qualifier, '(none)') AS qualifier, at_risk AS dollars_at_risk,
           'N4' AS fix_value
    FROM line_facts
    -- a plain comparison first: upper() then runs only on the qualifiers that are not N4 already
    WHERE has_ndc AND ndc_qualifier IS DISTINCT FROM 'N4' AND coalesce(upper(ndc_qualifier), '') <> 'N4'
    """,
)

RC404 = edit(
    code="RC404",
    name="ndc-unit-or-quantity-missing",
    severity="error",
    category="ndc",
    message="NDC {ndc}: {problem}",
    denials=("CARC 16", "RARC N815", "RARC N816"),
    doc="""
    ## What it checks
    Lines with an NDC whose quantity (CTP04) is missing or not positive, or whose unit of
    measure (CTP05-1) is missing or not one of UN, ML, GR, F2, ME.

    ## Why it matters
    The payer converts the NDC quantity to rebate units; without a valid unit or count the
    line is denied with RARC N815 "Missing/Incomplete/Invalid NDC Unit Count" or N816
    "Missing/Incomplete/Invalid NDC Unit of Measure".

    ## Example
    LIN**N4*55513071001 with CTP****1*MG (MG is not an NDC unit; milligram is ME).

    ## Fix
    Report the quantity of the NDC's unit administered: UN for items (vials, syringes), ML for
    volume, GR grams, ME milligrams, F2 international units.

    ## Source
    837 CTP04/CTP05, NUCC 1500 instructions [NUCC-1500] [RESDAC-UOM] [X12-RFI591];
    RARC N815/N816 (X12 RARC list 2025-12).
    """,
    sql="""
    SELECT claim_id, line_number, service_date, procedure_code, ndc, at_risk AS dollars_at_risk,
           CASE WHEN ndc_unit IS NULL THEN 'no unit of measure (CTP05-1: UN, ML, GR, F2 or ME)'
                WHEN upper(ndc_unit) NOT IN ('UN', 'ML', 'GR', 'F2', 'ME') THEN 'unit of measure ' || ndc_unit || ' is not one of UN, ML, GR, F2, ME'
                ELSE 'no positive quantity (CTP04)' END AS problem
    FROM line_facts
    WHERE has_ndc
      AND (ndc_unit IS NULL OR upper(ndc_unit) NOT IN ('UN', 'ML', 'GR', 'F2', 'ME') OR ndc_quantity IS NULL OR ndc_quantity <= 0)
    """,
)

RC405 = edit(
    code="RC405",
    name="ndc-not-in-crosswalk",
    severity="warning",
    category="ndc",
    message="NDC {ndc11} is not in the CMS NDC-HCPCS crosswalk {release} under any code (it lists {code_ndcs} NDC(s) for {procedure_code}): nothing confirms it is a product billed as {procedure_code}",
    fix="check the NDC against the package of the product given (11 digits, 5-4-2); keep it if it is right",
    denials=("CARC 16", "RARC M119"),
    doc="""
    ## What it checks
    Lines of a specific (not NOC) drug code with a readable NDC that the CMS ASP NDC-HCPCS
    crosswalk in force on the date of service lists under no code, when the crosswalk lists
    NDCs for the billed code (a code it lists none for, such as one without an ASP price, has
    nothing to compare with). An NDC the crosswalk lists under another code than the billed one
    is RC103/RC104's error.

    ## Why it matters
    Payers check the NDC against the code billed; an NDC they cannot match (a typo, a product
    of another code, a withdrawn package) is denied with CARC 16 and RARC M119
    "Missing/incomplete/invalid/deactivated/withdrawn National Drug Code (NDC)", and Medicaid
    cannot claim the rebate. A warning, not an error: CMS says the crosswalk "is not intended
    to be a comprehensive list of all drugs/NDCs".

    ## Example
    J0897 x 60 with NDC 61314-0240-63 (Jubbonti, denosumab-bbdz): not in the 2025-Q4 crosswalk,
    so nothing confirms it is billed as J0897 (the biosimilar has its own code, Q5136).

    ## Fix
    Check the NDC on the package of the product given; keep it if it is right.

    ## Source
    CMS ASP NDC-HCPCS crosswalk (quarter in force, e.g. 2025-Q4) and its read-me ("not intended
    to be a comprehensive list", cms_crosswalk_reference); RARC M119 (X12 RARC list 2025-12);
    domain-facts §4.2-4.3 [OPENEMR-BU] [PRIORITY-NDC].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.service_date, lf.procedure_code, lf.ndc11, k.xw_in_force AS release,
           lf.code_ndc_count AS code_ndcs, lf.at_risk AS dollars_at_risk
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.is_drug AND NOT lf.is_noc AND lf.ndc11 IS NOT NULL AND lf.ndc_code_count = 0 AND lf.code_ndc_count > 0
      AND k.xw_in_force IS NOT NULL
    """,
)
