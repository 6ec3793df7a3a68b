"""Not-otherwise-classified drug codes (J3490, J3590, J9999...): the description that names the
drug and dose, and the payer's unit convention."""

from ..registry import edit

RC501 = edit(
    code="RC501",
    name="noc-description-missing",
    severity="error",
    category="noc",
    message="{procedure_code} ({descriptor}) has no drug description: name the drug, dose and route in SV101-7",
    denials=("CARC 16", "RARC N350", "RARC M123"),
    doc="""
    ## What it checks
    Lines billed with a NOC code (the CMS long description says "unclassified" or "not otherwise
    classified") without a line description (837P SV101-7 / 837I SV202-7), when the policy
    requires one (Medicare and most payers).

    ## Why it matters
    The payer prices a NOC line by hand from the description; without it the line is rejected as
    unprocessable (CARC 16 with RARC N350 "Missing/incomplete/invalid description of service for a
    Not Otherwise Classified (NOC) code" or M123 "Missing/incomplete/invalid name, strength, or
    dosage of the drug furnished").

    ## Example
    J3490 x 1 with no SV101-7.

    ## Fix
    Put the drug name, strength and total dose administered (and the NDC) in SV101-7, e.g.
    "vasopressin 20 units IV".

    ## Source
    Medicare MAC NOC instructions [PALM-NOC] [WPS-NOC]; 5010 TR3 SV101-7; CMS HCPCS long
    descriptors (NOC codes); domain-facts §1.5.
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, k.long_description AS descriptor, lf.at_risk AS dollars_at_risk
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id
    LEFT JOIN key_facts k ON k.fact_key = lf.fact_key
    WHERE lf.is_noc AND p.noc_description_required AND NOT lf.has_description
    """,
)

RC502 = edit(
    code="RC502",
    name="noc-units-convention",
    severity="error",
    category="noc",
    message="{procedure_code} billed with {units} units; {policy} wants NOC drugs billed as 1 unit with the dose in the description",
    fix="bill 1 unit and state the total dose in SV101-7",
    fix_action="set_units",
    denials=("CARC 16", "RARC M123"),
    doc="""
    ## What it checks
    Under a policy whose NOC convention is `units: one`, NOC lines billed with a quantity other
    than 1.

    ## Why it matters
    Some contractors (e.g. WPS) instruct "Do not quantity-bill NOC drugs": 1 unit in SV104 and the
    dose in the description; more than one unit makes the line unprocessable (RARC M123). Others
    (e.g. Palmetto) want the dose administered, so this is a payer setting.

    ## Example
    J3490 x 20 ("vasopressin 20 units") under a 1-unit payer.

    ## Fix
    Bill 1 unit and put the total dose in the description. `--fix` sets the units to 1.

    ## Source
    [WPS-NOC] (1 unit) vs [PALM-NOC] (dose administered): domain-facts §1.5; payer policy
    `noc.units`.
    """,
    sql="""
    SELECT lf.claim_id, lf.line_number, lf.procedure_code, lf.service_date, lf.units, p.name AS policy, lf.at_risk AS dollars_at_risk, '1' AS fix_value
    FROM line_facts lf JOIN policies p ON p.policy_id = lf.policy_id
    WHERE lf.is_noc AND p.noc_units = 'one' AND lf.units IS NOT NULL AND lf.units <> 1
    """,
)
