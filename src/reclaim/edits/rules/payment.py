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
    CMS ASP pricing file, Payment Limit (ASP+6%) of the quarter in force (e.g. 2025-Q4);
    domain-facts §5 [USC-1847A] [CMS-ASP].
    """,
    sql="""
    SELECT claim_id, line_number, charge, units, procedure_code, expected_payment AS expected,
           payment_limit AS limit, asp_release AS release,
           CAST(expected_payment - charge AS DECIMAL(18,2)) AS dollars_at_risk
    FROM line_facts
    WHERE payment_limit IS NOT NULL AND units > 0 AND NOT has_jw AND charge IS NOT NULL AND charge < expected_payment
    """,
)
