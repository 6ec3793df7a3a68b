"""ICD-10-CM diagnoses on drug claims: valid and billable on the date of service, pointed to."""

from ..registry import edit

#: the ICD-10-CM diagnoses of a claim (837 qualifiers ABK/ABF/ABJ/APR..., CSV/FHIR: none): the
#: ICD-9 qualifiers (BK, BF...) of claims before October 2015 are not checked against ICD-10-CM
_ICD10_DX = "coalesce(category, 'diagnosis') = 'diagnosis' AND code IS NOT NULL AND coalesce(qualifier, 'A') LIKE 'A%'"
_DOTTED = "(substr({c}, 1, 3) || CASE WHEN length({c}) > 3 THEN '.' || substr({c}, 4) ELSE '' END)"
#: the claims carrying a diagnosis that some held list lacks or does not bill (few in a batch),
#: each with the release that decides on its first date of service: the CDC ICD-10-CM list of
#: the date where one is held ('cdc' sorts before 'cms'), else the partial CMS Section 111 list
_DECIDED = """
    WITH rel AS (
      SELECT DISTINCT release, list, valid_from, valid_to FROM icd10_dos
    ), k AS (
      SELECT DISTINCT code FROM diagnoses WHERE """ + _ICD10_DX + """
    ), bad AS (
      SELECT DISTINCT k.code FROM k CROSS JOIN rel
      LEFT JOIN icd10_dos i ON i.code = k.code AND i.release = rel.release AND i.list = rel.list
      WHERE i.code IS NULL OR NOT coalesce(i.billable, true)
    ), suspect AS (
      -- EXISTS: no bad code (the usual batch) skips probing every diagnosis, then every line
      SELECT d.claim_id, d.position, d.code FROM diagnoses d JOIN bad ON bad.code = d.code
      WHERE """ + _ICD10_DX.replace("category", "d.category").replace("code IS", "d.code IS").replace("qualifier", "d.qualifier") + """
        AND EXISTS (SELECT 1 FROM bad)
    ), c AS (
      SELECT lf.claim_id, min(lf.service_date) AS dos
      FROM line_facts lf JOIN (SELECT DISTINCT claim_id FROM suspect) s ON s.claim_id = lf.claim_id
      WHERE EXISTS (SELECT 1 FROM suspect)
      GROUP BY lf.claim_id
    ), cd AS (
      SELECT c.claim_id, c.dos, r.release, r.list,
             row_number() OVER (PARTITION BY c.claim_id ORDER BY r.list) AS rn
      FROM c JOIN rel r ON c.dos >= r.valid_from AND c.dos < r.valid_to
    ), d AS (
      SELECT s.claim_id, s.position, s.code, cd.dos, cd.release, cd.list,
             CASE WHEN cd.list = 'cdc' THEN 'CDC ICD-10-CM ' || cd.release
                  ELSE 'CMS Section 111 valid-code list ' || cd.release END AS list_name
      FROM suspect s JOIN cd ON cd.claim_id = s.claim_id AND cd.rn = 1
    ), ch AS (
      -- a header's first billable code below it (a code of three characters or more only)
      SELECT d.claim_id, d.position, min(x.code) AS child
      FROM d JOIN icd10_dos x ON x.release = d.release AND x.list = d.list AND substr(x.code, 1, 3) = substr(d.code, 1, 3)
      WHERE x.billable AND length(d.code) >= 3 AND length(x.code) > length(d.code)
        AND substr(x.code, 1, length(d.code)) = d.code
      GROUP BY d.claim_id, d.position
    ), cdc_codes AS (
      SELECT DISTINCT x.code FROM icd10_dos x JOIN (SELECT DISTINCT code FROM d) dc ON dc.code = x.code WHERE x.list = 'cdc'
    ), judged AS (
      SELECT d.*, i.code IS NOT NULL AS listed, coalesce(i.billable, false) AS billable, ch.child,
             cc.code IS NOT NULL AS in_some_cdc
      FROM d LEFT JOIN icd10_dos i ON i.code = d.code AND i.release = d.release AND i.list = d.list
      LEFT JOIN ch ON ch.claim_id = d.claim_id AND ch.position = d.position
      LEFT JOIN cdc_codes cc ON cc.code = d.code
    )
"""

RC601 = edit(
    code="RC601",
    name="diagnosis-not-valid-on-dos",
    severity="error",
    category="diagnosis",
    message="diagnosis {dx} (position {position}) is not an ICD-10-CM code in force on {dos} ({list_name}){detail}",
    denials=("CARC 146", "CARC 16", "RARC M76"),
    doc="""
    ## What it checks
    Each ICD-10-CM diagnosis on a claim against the ICD-10-CM list in force on the claim's first
    date of service: the CDC's list of that fiscal year (in force from October 1; the April
    update from April 1). A code the list does not hold at all is reported here; a category
    header that the list holds but does not bill is RC603. Where no CDC release covering the date
    is held, the partial CMS Section 111 list decides, and only for codes no CDC release held
    knows (that list omits whole chapters such as Z). A date no list covers is not checked: the
    run says so once.

    ## Why it matters
    A diagnosis that is not valid on the date of service is rejected or denied with CARC 146
    "Diagnosis was invalid for the date(s) of service reported" (or CARC 16 with RARC M76
    "Missing/incomplete/invalid diagnosis or condition"); the drug line pointing to it is unpaid.

    ## Example
    E11.A (added to ICD-10-CM on October 1, 2025) on a claim dated 2025-09-30; M81.00 (M81.0 has
    no children) on any date.

    ## Fix
    Use a code valid on the date of service (the CDC ICD-10-CM tabular of that fiscal year).

    ## Source
    [CDC-ICD10CM] CDC/NCHS ICD-10-CM tabular of the fiscal year in force (reference store `icd10`,
    `source_format` cdc_tabular / cdc_order / cdc_codes); [CMS-S111] CMS Section 111 valid ICD-10
    list where it is the only list held; [X12-CARC] CARC 146, 16.
    """,
    sql=_DECIDED + """
    SELECT claim_id, CAST(NULL AS INTEGER) AS line_number, CAST(NULL AS DATE) AS service_date,
           CAST(NULL AS VARCHAR) AS procedure_code, """ + _DOTTED.format(c="code") + """ AS dx, position, dos, list_name,
           CASE WHEN list = 'cdc' THEN '' ELSE ', nor in any CDC ICD-10-CM release held' END AS detail,
           CAST(NULL AS DECIMAL(18,2)) AS dollars_at_risk
    FROM judged
    WHERE NOT listed AND child IS NULL AND (list = 'cdc' OR NOT in_some_cdc)
    """,
)

RC603 = edit(
    code="RC603",
    name="diagnosis-header-code",
    severity="error",
    category="diagnosis",
    message="diagnosis {dx} (position {position}) is a category header, not a billable code, in {list_name}: "
            "code to the highest specificity (e.g. {child})",
    denials=("CARC 16", "RARC M81", "RARC MA130"),
    doc="""
    ## What it checks
    Each ICD-10-CM diagnosis of a claim that the list in force on its first date of service holds
    as a category or subcategory with codes below it (billable = a code with no children), such
    as M81 "Osteoporosis without current pathological fracture" or Z51 instead of Z51.11. Where
    only the CMS Section 111 list (billable codes only) covers the date, a code of that list's
    codes' stems is a header too.

    ## Why it matters
    Only complete codes are billable: a header code is rejected before adjudication (CARC 16
    "Claim/service lacks information", RARC MA130 unprocessable claim) or denied with RARC M81
    "You are required to code to the highest level of specificity". It is a coding problem with
    a known answer, not an unknown code (RC601).

    ## Example
    M81 (a category) instead of M81.0 on a Prolia claim.

    ## Fix
    Code to the highest specificity: one of the codes under the header in the tabular (the
    finding names the first).

    ## Source
    [CDC-ICD10CM] CDC/NCHS ICD-10-CM tabular of the fiscal year in force (Official Guidelines
    Section I.B.2, "Level of detail in coding"); [X12-RARC] RARC M81, MA130.
    """,
    sql=_DECIDED + """
    SELECT claim_id, CAST(NULL AS INTEGER) AS line_number, CAST(NULL AS DATE) AS service_date,
           CAST(NULL AS VARCHAR) AS procedure_code, """ + _DOTTED.format(c="code") + """ AS dx, position, list_name,
           """ + _DOTTED.format(c="child") + """ AS child, CAST(NULL AS DECIMAL(18,2)) AS dollars_at_risk
    FROM judged
    WHERE NOT billable AND child IS NOT NULL
    """,
)

RC602 = edit(
    code="RC602",
    name="drug-line-without-diagnosis",
    severity="error",
    category="diagnosis",
    message="{procedure_code} points to no diagnosis on the claim{detail}",
    denials=("CARC 16", "CARC 11"),
    doc="""
    ## What it checks
    Drug lines whose diagnosis pointers (SV107) are empty or point past the claim's diagnoses.
    Institutional (837I) service lines (SV2) carry no diagnosis pointer: the claim's diagnoses
    (HI, principal ABK) apply to every line, so an 837I drug line fails only on a claim without
    diagnoses.

    ## Why it matters
    Coverage of a drug depends on the diagnosis it treats; a line without a valid pointer is
    rejected (CARC 16) or denied as inconsistent with the diagnosis (CARC 11).

    ## Example
    J0897 with SV107 = 3 on a claim with two diagnoses.

    ## Fix
    Point the line (SV107) to the diagnosis the drug treats, adding it to HI if missing.

    ## Source
    ASC X12 5010 837P TR3 (005010X222A1), SV107 composite diagnosis code pointer [X12-RFI433]
    the X12 005010 SV2 (837I service line) has no diagnosis pointer element [STEDI-SV2];
    CARC 11 and 16 (X12 CARC list 2025-12); domain-facts §9.2.
    """,
    sql="""
    WITH no_dx AS (
      -- pointer 1 (most lines) fails only on a claim without diagnoses: those claims (few) are
      -- found once, so the diagnoses are counted only for the claims of the other lines
      SELECT DISTINCT c.claim_id FROM claims c LEFT JOIN diagnoses d ON d.claim_id = c.claim_id WHERE d.claim_id IS NULL
    ), cand AS (
      SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.at_risk, lf.dx_pointer_1
      FROM line_facts lf LEFT JOIN no_dx ON no_dx.claim_id = lf.claim_id
      WHERE lf.is_drug AND (no_dx.claim_id IS NOT NULL
                            -- 837I lines have no pointer (SV2): the claim's diagnoses apply
                            OR (NOT lf.institutional AND (lf.dx_pointer_1 IS NULL OR lf.dx_pointer_1 <> 1)))
    ), dx AS (
      SELECT d.claim_id, count(*) AS n
      FROM diagnoses d JOIN (SELECT DISTINCT claim_id FROM cand) c ON c.claim_id = d.claim_id
      GROUP BY d.claim_id
    )
    SELECT cand.claim_id, cand.line_number, cand.procedure_code, cand.service_date, cand.at_risk AS dollars_at_risk,
           CASE WHEN cand.dx_pointer_1 IS NULL THEN '' ELSE ' (pointer ' || CAST(cand.dx_pointer_1 AS VARCHAR) || ', the claim has '
                || CAST(coalesce(dx.n, 0) AS VARCHAR) || ' diagnoses)' END AS detail
    FROM cand LEFT JOIN dx ON dx.claim_id = cand.claim_id
    WHERE cand.dx_pointer_1 IS NULL OR cand.dx_pointer_1 > coalesce(dx.n, 0) OR cand.dx_pointer_1 < 1
    """,
)
