"""Coverage by diagnosis: a drug line whose diagnoses the coverage in force does not list.

The coverage documents that apply to a drug line (:data:`COVERAGE_RULES`):

* Medicare claims (filing indicator MA/MB): the Medicare Coverage Database billing-and-coding
  articles of the MAC serving the billing provider's state (setting ``billing_state``), in force
  on the date of service, that list the line's HCPCS code (reference store ``coverage_*``, the
  newest MCD export held);
* every claim: the ``coverage`` lists of its payer policy (YAML) for the code, in force on the date.

Where none applies, the line is not checked, and the run says so once
(:mod:`reclaim.edits.in_force`): "diagnosis coverage not checked: no coverage data for ...".
"""

from ..registry import edit

_DOTTED = "(substr({c}, 1, 3) || CASE WHEN length({c}) > 3 THEN '.' || substr({c}, 4) ELSE '' END)"

#: the coverage documents applying to each drug line: (claim_id, line_number, procedure_code,
#: service_date, at_risk, kind mcd|policy, doc_id, doc_key, display_id, title); usable alone
#: (``WITH ... SELECT * FROM rules``) by the run's notes
COVERAGE_RULES = """
WITH rp AS (SELECT max(billing_state) AS billing_state FROM run_params),
cand AS (
  SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.policy_id, lf.at_risk
  FROM line_facts lf WHERE lf.is_drug AND lf.service_date IS NOT NULL
), medicare AS (
  SELECT claim_id FROM claim_facts WHERE upper(claim_filing_indicator) IN ('MA', 'MB')
), latest AS (
  SELECT max(release) AS release FROM ref_coverage_articles
), mac_articles AS (
  -- the articles of the MAC(s) serving the billing state, for the drug codes of the batch
  SELECT DISTINCT a.release, a.article_id, a.article_version, coalesce(a.display_id, 'A' || a.article_id) AS display_id,
         a.title, a.effective_date, a.end_date, h.hcpcs, j.term_date
  FROM ref_coverage_articles a
  JOIN latest ON latest.release = a.release
  JOIN ref_coverage_hcpcs h ON h.release = a.release AND h.article_id = a.article_id AND h.article_version = a.article_version
  JOIN ref_coverage_contractors ac ON ac.article_id = a.article_id AND ac.article_version = a.article_version
  JOIN ref_coverage_jurisdictions j ON j.contractor_id = ac.contractor_id AND j.contractor_type_id = ac.contractor_type_id
       AND j.contractor_version = ac.contractor_version
  JOIN ref_coverage_states s ON s.state_id = j.state_id
  JOIN rp ON s.state_abbrev = rp.billing_state
  WHERE h.hcpcs IN (SELECT DISTINCT procedure_code FROM cand)
), rules AS (
  SELECT c.claim_id, c.line_number, c.procedure_code, c.service_date, c.at_risk, 'mcd' AS kind,
         m.article_id AS doc_id, m.article_version AS doc_key, m.display_id, m.title
  FROM cand c JOIN medicare md ON md.claim_id = c.claim_id
  JOIN mac_articles m ON m.hcpcs = c.procedure_code
   AND (m.effective_date IS NULL OR c.service_date >= m.effective_date)
   AND (m.end_date IS NULL OR c.service_date <= m.end_date)
   AND (m.term_date IS NULL OR c.service_date <= m.term_date)
  UNION ALL
  SELECT c.claim_id, c.line_number, c.procedure_code, c.service_date, c.at_risk, 'policy' AS kind,
         pc.rule_id AS doc_id, pc.policy_id AS doc_key, pc.rule_id AS display_id, pc.title
  FROM cand c
  JOIN (SELECT DISTINCT policy_id, rule_id, hcpcs, title, effective_from, effective_to FROM policy_coverage) pc
    ON pc.policy_id = c.policy_id AND pc.hcpcs = c.procedure_code
   AND (pc.effective_from IS NULL OR c.service_date >= pc.effective_from)
   AND (pc.effective_to IS NULL OR c.service_date <= pc.effective_to)
)
"""

RC604 = edit(
    code="RC604",
    name="diagnosis-not-covered-for-drug",
    severity="error",
    category="diagnosis",
    message="{procedure_code} on {service_date}: none of its diagnoses ({dx}) is covered for it by {doc}{more}",
    fix="no mechanical fix: check the diagnosis against the covered list of {doc}; correct it if miscoded, "
        "otherwise the payer will deny the drug (get an ABN and bill GA, or appeal with the records)",
    denials=("CARC 50", "CARC 167", "CARC 11", "RARC N115"),
    doc="""
    ## What it checks
    Drug lines whose pointed diagnoses (SV107) include none of the ICD-10-CM codes that the
    coverage in force lists for the line's HCPCS code: on Medicare claims (MA/MB) the billing-and-
    coding articles of the Medicare Coverage Database of the MAC serving the billing provider's
    state (setting `billing_state`), in force on the date of service; on any claim the covered
    diagnosis lists of its payer policy (YAML `coverage:`, e.g. a Medicaid or commercial drug
    policy). A line is covered when one pointed diagnosis is in one applicable list. Lines of a
    code no loaded coverage lists are not checked; the run says so once.

    ## Why it matters
    Diagnosis coverage is the largest class of drug denials: CARC 50 "not deemed a medical
    necessity", CARC 167 "This (these) diagnosis(es) is (are) not covered" (with RARC N115 naming
    the LCD), CARC 11 "The diagnosis is inconsistent with the procedure". The whole drug line is
    denied; Medicare patients cannot be billed without an ABN.

    ## Example
    J0897 (denosumab) pointing to Z00.00 only, where the MAC's article covers M81.0 and C79.51.

    ## Fix
    Correct the diagnosis if it was miscoded (point the line to the covered diagnosis documented
    in the record); otherwise expect the denial: an ABN signed before the service (GA modifier)
    lets the patient be billed, and an appeal needs the records.

    ## Source
    [CMS-MCD] CMS Medicare Coverage Database, billing-and-coding article (its id and title in the
    finding), ICD-10-CM codes that support medical necessity; [CMS-PIM-13] Medicare Program
    Integrity Manual ch. 13 (LCDs); the payer's drug policy named in the YAML list; [X12-CARC]
    CARC 50, 167, 11.
    """,
    sql=COVERAGE_RULES + """
    , ptr AS (
      -- the diagnoses each checked line points to
      SELECT DISTINCT l.claim_id, l.line_number, d.code
      FROM lines l JOIN (SELECT DISTINCT claim_id, line_number FROM rules) r
        ON r.claim_id = l.claim_id AND r.line_number = l.line_number
      JOIN diagnoses d ON d.claim_id = l.claim_id
       AND d.position IN (l.dx_pointer_1, l.dx_pointer_2, l.dx_pointer_3, l.dx_pointer_4)
      WHERE d.code IS NOT NULL
    ), covered AS (
      SELECT r.claim_id, r.line_number FROM rules r JOIN ptr p ON p.claim_id = r.claim_id AND p.line_number = r.line_number
      JOIN ref_coverage_icd10 i ON i.article_id = r.doc_id AND i.article_version = r.doc_key AND i.icd10 = p.code
      WHERE r.kind = 'mcd'
      UNION
      SELECT r.claim_id, r.line_number FROM rules r JOIN ptr p ON p.claim_id = r.claim_id AND p.line_number = r.line_number
      JOIN policy_coverage pc ON pc.policy_id = r.doc_key AND pc.rule_id = r.doc_id AND pc.hcpcs = r.procedure_code
       AND (pc.icd10 = p.code OR (pc.is_prefix AND substr(p.code, 1, length(pc.icd10)) = pc.icd10))
      WHERE r.kind = 'policy'
    ), uncovered AS (
      SELECT r.* FROM rules r
      LEFT JOIN covered c ON c.claim_id = r.claim_id AND c.line_number = r.line_number
      WHERE c.claim_id IS NULL
        AND EXISTS (SELECT 1 FROM ptr p WHERE p.claim_id = r.claim_id AND p.line_number = r.line_number)
    ), docs AS (
      SELECT claim_id, line_number, procedure_code, service_date, max(at_risk) AS at_risk,
             min(CASE WHEN kind = 'mcd' THEN 'MCD article ' || display_id || ' "' || title || '"'
                      ELSE 'payer policy ' || doc_key || ' ' || display_id || ' "' || title || '"' END) AS doc,
             count(*) AS n
      FROM uncovered GROUP BY claim_id, line_number, procedure_code, service_date
    ), dx AS (
      SELECT p.claim_id, p.line_number, string_agg(""" + _DOTTED.format(c="p.code") + """, ', ' ORDER BY p.code) AS dx
      FROM ptr p JOIN docs d ON d.claim_id = p.claim_id AND d.line_number = p.line_number
      GROUP BY p.claim_id, p.line_number
    )
    SELECT d.claim_id, d.line_number, d.procedure_code, d.service_date, x.dx, d.doc,
           CASE WHEN d.n > 1 THEN ' (nor by the ' || CAST(d.n - 1 AS VARCHAR) || ' other list(s) that apply)' ELSE '' END AS more,
           d.at_risk AS dollars_at_risk
    FROM docs d JOIN dx x ON x.claim_id = d.claim_id AND x.line_number = d.line_number
    """,
)
