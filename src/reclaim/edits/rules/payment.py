"""Charges against the expected payment."""

from ..registry import edit

RC801 = edit(
    code="RC801",
    name="charge-below-payment-limit",
    severity="warning",
    category="payment",
    message="charge ${charge} for {units} units of {procedure_code} is below the Medicare payment limit ${expected} (${limit} per unit, ASP {release})",
    denials=("CARC 45",),
    doc="""
    ## What it checks
    Drug lines whose charge is below the ASP payment limit in force on the date of service
    times the units billed.

    ## Why it matters
    Payers pay the lesser of the charge and the allowance (the remittance shows no CARC 45
    reduction because there is nothing to reduce): a charge below the Medicare payment limit
    leaves the difference unpaid on every claim (most commercial contracts pay a percent
    of charges or of ASP, so the loss repeats there too). It usually means a stale charge master.

    ## Example
    J0897 x 60 charged $1,500.00 while the 2025-Q4 limit is 60 x $29.380 = $1,762.80.

    ## Fix
    Update the charge master so drug charges are at least the current payment limit per unit.

    ## Source
    CMS ASP pricing file, Payment Limit (ASP+6%) of the quarter in force on the date of service
    (e.g. 2025-Q4), never another quarter's: where no quarter held covers the date the line is
    not compared and the run says so once; on 837I only separately payable drugs (OPPS status
    indicator G or K in Addendum B of the quarter [CMS-OPPS-ADDB]) are compared;
    domain-facts §5 [USC-1847A] [CMS-ASP].
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.charge, lf.units, lf.procedure_code, lf.service_date, lf.expected_payment AS expected,
           lf.payment_limit AS limit, k.asp_release AS release,
           CAST(lf.expected_payment - lf.charge AS DECIMAL(18,2)) AS dollars_at_risk
    FROM line_facts lf LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.payment_limit IS NOT NULL AND lf.units > 0 AND NOT lf.has_jw AND lf.charge IS NOT NULL
      AND lf.charge < lf.expected_payment
      -- 837I: a packaged drug (OPPS SI other than G/K) is not paid separately (RC802)
      AND (lf.opps_si IS NULL OR lf.opps_si IN ('G', 'K'))
    """,
)
