"""ICD-10-CM diagnoses on drug claims: valid and billable on the date of service, pointed to."""

from ..registry import edit

RC601 = edit(
    code="RC601",
    name="diagnosis-not-valid-on-dos",
    severity="warning",
    category="diagnosis",
    message="diagnosis {code} (position {position}) {problem}",
    denials=("CARC 146", "RARC M81"),
    doc="""
    ## What it checks
    Each ICD-10-CM diagnosis on a claim against the ICD-10-CM release in force on the claim's
    first date of service: the code must be listed and billable (a category header such as M81 is
    not a billable code).

    ## Why it matters
    A diagnosis that is not valid on the date of service is denied with CARC 146 "Diagnosis was
    invalid for the date(s) of service reported"; a header code with RARC M81 "You are required to
    code to the highest level of specificity". The drug line pointing to it is unpaid.

    ## Example
    M81 (a category) instead of M81.0 on a Prolia claim.

    ## Fix
    Code to the highest specificity valid on the date of service (see `reclaim code` / the ICD-10-CM
    tabular).

    ## Source
    ICD-10-CM code list of the fiscal year in force (reference store `icd10`; the mirror holds the
    CMS FY2025 valid-code list, which is not the full CDC file, so a missing code is a warning,
    not an error); domain-facts §2.4, §9.2.
    """,
    sql="""
    WITH rel AS (
      SELECT DISTINCT release, valid_from, valid_to FROM icd10_dos
    ), bad AS (
      -- the batch's distinct codes that some release lacks or does not bill (few): only claims
      -- carrying one need their date of service
      SELECT DISTINCT coalesce(k.code, '') AS code_key
      FROM (SELECT DISTINCT code FROM diagnoses) k CROSS JOIN rel
      LEFT JOIN icd10_dos i ON i.code = k.code AND i.release = rel.release
      WHERE i.code IS NULL OR NOT coalesce(i.billable, true)
    ), suspect AS (
      -- EXISTS: no bad code (the usual batch) skips probing every diagnosis, then every line
      SELECT d.* FROM diagnoses d JOIN bad ON bad.code_key = coalesce(d.code, '') WHERE EXISTS (SELECT 1 FROM bad)
    ), c AS (
      SELECT lf.claim_id, min(lf.service_date) AS dos
      FROM line_facts lf JOIN (SELECT DISTINCT claim_id FROM suspect) s ON s.claim_id = lf.claim_id
      WHERE EXISTS (SELECT 1 FROM suspect)
      GROUP BY lf.claim_id
    ), d AS (
      SELECT d.claim_id, d.position, d.code, c.dos, rel.release AS release
      FROM suspect d JOIN c ON c.claim_id = d.claim_id
      JOIN rel ON c.dos >= rel.valid_from AND c.dos < rel.valid_to
    )
    SELECT d.claim_id, CAST(NULL AS INTEGER) AS line_number, CAST(NULL AS DATE) AS service_date,
           CAST(NULL AS VARCHAR) AS procedure_code, d.code, d.position,
           CASE WHEN i.code IS NULL THEN 'is not in the ICD-10-CM list in force on ' || CAST(d.dos AS VARCHAR) || ' (' || d.release || ')'
                ELSE 'is not billable (a category, not a complete code) in ' || d.release END AS problem,
           CAST(NULL AS DECIMAL(18,2)) AS dollars_at_risk
    FROM d LEFT JOIN icd10_dos i ON i.code = d.code AND i.release = d.release
    WHERE i.code IS NULL OR NOT coalesce(i.billable, true)
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

    ## Why it matters
    Coverage of a drug depends on the diagnosis it treats; a line without a valid pointer is
    rejected (CARC 16) or denied as inconsistent with the diagnosis (CARC 11).

    ## Example
    J0897 with SV107 = 3 on a claim with two diagnoses.

    ## Fix
    Point the line (SV107) to the diagnosis the drug treats, adding it to HI if missing.

    ## Source
    ASC X12 5010 837P TR3 (005010X222A1), SV107 composite diagnosis code pointer [X12-RFI433];
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
      WHERE lf.is_drug AND (lf.dx_pointer_1 IS NULL OR lf.dx_pointer_1 <> 1 OR no_dx.claim_id IS NOT NULL)
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
