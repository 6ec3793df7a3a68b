"""Hospital outpatient (837I) drugs under OPPS: what the status indicator of CMS OPPS Addendum B
says about separate payment (see docs/hospital-outpatient.md)."""

from ..drug import code_label
from ..registry import edit

RC802 = edit(
    code="RC802",
    name="packaged-drug-billed-for-payment",
    severity="info",
    category="payment",
    message="{code} on {service_date} is packaged under OPPS (status indicator N, Addendum B {release}): Medicare makes no separate payment for its ${charge} charge{alone}",
    fix="expect no separate payment for this line (its charge stays on the claim: CMS sets packaged payment from reported charges); do not appeal its zero payment{alone_fix}",
    denials=("CARC 97",),
    doc="""
    ## What it checks
    Drug lines of institutional (837I) claims whose code has OPPS status indicator N (packaged)
    in the CMS OPPS Addendum B quarter in force on the date of service, billed with a charge while
    the CMS ASP file lists a payment limit for the code (so a biller reading the ASP file expects
    it paid). The message says too when no other line of the claim has a status indicator other
    than N (the drug is billed alone, with nothing it can be packaged into).

    ## Why it matters
    Under OPPS a packaged drug is paid within the APC of the service it goes with: its line shows
    no separate payment (CARC 97, "The benefit for this service is included in the
    payment/allowance for another service/procedure that has already been adjudicated"). That
    is not a denial to appeal, and an underpayment computed from the ASP limit is not owed. A
    packaged drug billed alone is paid nothing at all.

    ## Example
    J7050 (normal saline, SI N) x 4, charge $40.00, with 96365 on a 13x claim of 2025-11-04.

    ## Fix
    No change to the line: keep reporting the charge (CMS uses packaged charges to set APC
    rates). Bill the service the drug was given with when it is missing.

    ## Source
    CMS OPPS Addendum B of the quarter (status indicator N) [CMS-OPPS-ADDB]; OPPS status
    indicators (N = packaged, no separate payment) [NOR-SI] [NOR-SI-A]; X12 CARC list 2025-12 (CARC 97).
    """,
    sql="""
    WITH paid AS (
      -- claims with a line OPPS pays separately (a known status indicator other than N)
      SELECT DISTINCT claim_id FROM line_facts WHERE institutional AND opps_si IS NOT NULL AND opps_si <> 'N'
    )
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, """ + code_label() + """ AS code, lf.service_date, lf.charge,
           o.release,
           CASE WHEN paid.claim_id IS NULL THEN '; no other line of the claim is paid separately under OPPS' ELSE '' END AS alone,
           CASE WHEN paid.claim_id IS NULL THEN ', and bill the service the drug was given with' ELSE '' END AS alone_fix,
           lf.expected_payment AS dollars_at_risk
    FROM line_facts lf
    JOIN opps_dos o ON o.hcpcs = lf.drug_code AND lf.service_date >= o.valid_from AND lf.service_date < o.valid_to
    LEFT JOIN paid ON paid.claim_id = lf.claim_id
    WHERE lf.institutional AND lf.opps_si = 'N' AND lf.is_drug AND lf.payment_limit IS NOT NULL
      AND lf.charge > 0
    """,
)
