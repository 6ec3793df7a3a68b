"""SQL pieces for the edits that judge the drug given (JW/JZ, units, package).

``line_facts`` carries, beside the billed ``procedure_code`` and ``units``, the drug given:
``drug_code`` (the code the CMS crosswalk assigns the line's NDC when the billed code is not
it; else the billed code), ``code_swapped`` (they differ) and ``drug_units`` (the units in the
drug code's billing unit, see ``engine._drug_units``). Edits that depend on the drug read those,
so a Prolia NDC billed as J1327 gets its JW/JZ and units findings in the same run as RC104's
code finding, and name the code they judged by :func:`code_label`.
"""

from __future__ import annotations


def units_text(expr: str) -> str:
    """A quantity as text without a '.000' tail (60.000 -> 60)."""
    return (f"(CASE WHEN {expr} = floor({expr}) THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR)"
            f" ELSE CAST(CAST({expr} AS DOUBLE) AS VARCHAR) END)")


def code_label(a: str = "lf") -> str:
    """The code a drug finding judged: the billed code, or after a swap the NDC's code with
    what was billed ("J0897 (the code of NDC 55513071001; billed as J1327 x 12)")."""
    return (f"(CASE WHEN {a}.code_swapped THEN {a}.drug_code || ' (the code of NDC ' || {a}.ndc11 || '; billed as '"
            f" || {a}.procedure_code || ' x ' || coalesce({units_text(f'{a}.units')}, '?') || ')' ELSE {a}.procedure_code END)")
