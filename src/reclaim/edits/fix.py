"""Apply the mechanical fixes findings carry (``reclaim check --fix``).

A finding's ``fix_action``/``fix_value`` says what to change on its line: units, procedure
code with its units (``J0897 x 60``: a code swap always converts the units, see RC103/RC104),
NDC, NDC qualifier, or a modifier to add, remove or replace (``JG>TB``). All fixes of one
check are applied in one relational pass (DuckDB over the Arrow tables); when two edits set the
same field of a line, the lower edit code wins (a code swap, RC1xx, before a units change,
RC2xx). Claims whose lines change are marked as changed; nothing else is touched.

:func:`apply_fixes` returns the fixed batch and the changes (claim, line, field, before,
after) for the diff the CLI shows. :func:`fix_until_clean` checks and fixes again until no
mechanical fix is left (as code linters do: a fix can make another edit's fix possible),
bounded to :data:`MAX_ROUNDS`. :func:`write_fixed` writes an 837 (through the 837 writer) or a
CSV in the claim template's columns (``examples/claims-template.csv``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa

from ..claims.model import LINES, ClaimBatch

CHANGES = pa.schema(
    [("claim_id", pa.string()), ("patient_control_number", pa.string()), ("line_number", pa.int32()),
     ("field", pa.string()), ("before", pa.string()), ("after", pa.string()), ("codes", pa.string())]
)

_FIXED_LINES = """
WITH fx AS (
  SELECT claim_id, line_number, code, fix_action, fix_value FROM findings WHERE fix_action IS NOT NULL
), per_line AS (
  SELECT claim_id, line_number,
         arg_min(fix_value, code) FILTER (WHERE fix_action = 'set_units') AS units,
         -- a code swap 'J0897 x 60' sets the code and its units together
         split_part(arg_min(fix_value, code) FILTER (WHERE fix_action = 'set_procedure_code'), ' x ', 1) AS procedure_code,
         nullif(split_part(arg_min(fix_value, code) FILTER (WHERE fix_action = 'set_procedure_code'), ' x ', 2), '') AS swap_units,
         arg_min(fix_value, code) FILTER (WHERE fix_action = 'set_ndc') AS ndc,
         arg_min(fix_value, code) FILTER (WHERE fix_action = 'set_ndc_qualifier') AS ndc_qualifier,
         coalesce(list(fix_value ORDER BY code) FILTER (WHERE fix_action = 'add_modifier'), []) AS adds,
         coalesce(list(fix_value ORDER BY code) FILTER (WHERE fix_action = 'remove_modifier'), []) AS removes,
         coalesce(list(fix_value ORDER BY code) FILTER (WHERE fix_action = 'replace_modifier'), []) AS replaces,
         string_agg(DISTINCT code, ',' ORDER BY code) AS codes
  FROM fx GROUP BY claim_id, line_number
), mods AS (
  SELECT l.claim_id, l.line_number, p.adds, p.removes,
         list_transform(
           list_filter([l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4], m -> m IS NOT NULL),
           m -> coalesce(split_part(list_filter(p.replaces, r -> split_part(r, '>', 1) = m)[1], '>', 2), m)
         ) AS replaced
  FROM lines l JOIN per_line p ON p.claim_id = l.claim_id AND p.line_number = l.line_number
), new_mods AS (
  SELECT claim_id, line_number,
         list_concat(list_filter(replaced, m -> NOT list_contains(removes, m)),
                     list_filter(list_distinct(adds), a -> NOT list_contains(replaced, a))) AS m
  FROM mods
)
SELECT l.* REPLACE (
         CASE WHEN p.swap_units IS NOT NULL THEN CAST(p.swap_units AS DECIMAL(18,3))
              WHEN p.units IS NOT NULL THEN CAST(p.units AS DECIMAL(18,3)) ELSE l.units END AS units,
         coalesce(p.procedure_code, l.procedure_code) AS procedure_code,
         coalesce(p.ndc, l.ndc) AS ndc,
         coalesce(p.ndc, l.ndc11) AS ndc11,
         coalesce(p.ndc_qualifier, l.ndc_qualifier) AS ndc_qualifier,
         CASE WHEN nm.m IS NULL THEN l.modifier_1 ELSE nm.m[1] END AS modifier_1,
         CASE WHEN nm.m IS NULL THEN l.modifier_2 ELSE nm.m[2] END AS modifier_2,
         CASE WHEN nm.m IS NULL THEN l.modifier_3 ELSE nm.m[3] END AS modifier_3,
         CASE WHEN nm.m IS NULL THEN l.modifier_4 ELSE nm.m[4] END AS modifier_4
       ), p.codes AS fix_codes
FROM lines l
LEFT JOIN per_line p ON p.claim_id = l.claim_id AND p.line_number = l.line_number
LEFT JOIN new_mods nm ON nm.claim_id = l.claim_id AND nm.line_number = l.line_number
ORDER BY l.claim_id, l.line_number
"""

_FIELDS = ("procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "ndc_qualifier", "ndc")


def apply_fixes(batch: ClaimBatch, findings: pa.Table) -> tuple[ClaimBatch, pa.Table]:
    """The batch with every machine-applicable fix in ``findings`` applied, and the changes."""
    con = duckdb.connect()
    try:
        con.register("lines", batch["lines"])
        con.register("claims", batch["claims"])
        con.register("findings", findings)
        fixed = con.execute(_FIXED_LINES).to_arrow_table()
        con.register("fixed", fixed)
        diff_parts = " UNION ALL ".join(
            f"SELECT f.claim_id, c.patient_control_number, f.line_number, '{name}' AS field, "
            f"CAST(o.{name} AS VARCHAR) AS before, CAST(f.{name} AS VARCHAR) AS after, f.fix_codes AS codes "
            f"FROM fixed f JOIN lines o ON o.claim_id = f.claim_id AND o.line_number = f.line_number "
            f"JOIN claims c ON c.claim_id = f.claim_id "
            f"WHERE f.fix_codes IS NOT NULL AND o.{name} IS DISTINCT FROM f.{name}"
            for name in _FIELDS
        )
        changes = con.execute(f"SELECT * FROM ({diff_parts}) ORDER BY claim_id, line_number, field").to_arrow_table()
    finally:
        con.close()
    tables = dict(batch.tables)
    tables["lines"] = fixed.drop_columns(["fix_codes"]).select(LINES.names).cast(LINES)
    return ClaimBatch(tables=tables), changes.cast(CHANGES)


#: at most this many check-and-fix rounds: each round fixes what the previous one made fixable
#: (a code swap, then the units or modifiers of the new code); more means fixes undo each other
MAX_ROUNDS = 5


def fix_until_clean(batch: ClaimBatch, run_check, max_rounds: int = MAX_ROUNDS):
    """Check, apply the mechanical fixes, and check again until no finding carries one (a
    fixpoint) or ``max_rounds`` rounds ran. ``run_check(batch)`` returns the Findings of a
    batch. Returns (fixed batch, every change made in order, the first check's Findings, the
    last check's Findings: what remains for a person, and the rounds run)."""
    first = findings = run_check(batch)
    all_changes = []
    rounds = 0
    while rounds < max_rounds and _has_fix(findings.table):
        batch, changes = apply_fixes(batch, findings.table)
        rounds += 1
        if changes.num_rows == 0:
            break  # the fixes found change nothing: stop rather than loop
        all_changes.append(changes)
        findings = run_check(batch)
    changes = pa.concat_tables(all_changes) if all_changes else CHANGES.empty_table()
    return batch, changes, first, findings, rounds


def _has_fix(findings: pa.Table) -> bool:
    return findings.num_rows > 0 and any(a is not None for a in findings.column("fix_action").to_pylist())


def write_fixed(batch: ClaimBatch, out: Path, fmt: str, *, sender=None, receiver=None, usage: str = "P") -> None:
    """Write the fixed claims: ``x12`` through the 837 writer (``sender``/``receiver``/``usage``:
    the envelope from the settings, see ``writer.envelope_from_settings``; sender or receiver None
    keeps the claims' own), ``csv`` in the template's columns."""
    if fmt == "x12":
        from ..claims.x12.writer import write_837

        write_837(batch, out, sender=sender, receiver=receiver, usage=usage)
        return
    con = duckdb.connect()
    try:
        con.register("claims", batch["claims"])
        con.register("lines", batch["lines"])
        con.register("diagnoses", batch["diagnoses"])
        dx = ", ".join(f"max(CASE WHEN position = {i} THEN code END) AS diagnosis_{i}" for i in range(1, 13))
        rows = con.execute(
            f"""
            WITH d AS (SELECT claim_id, {dx} FROM diagnoses GROUP BY claim_id)
            SELECT c.patient_control_number, c.claim_type, c.patient_id, c.patient_last_name, c.patient_first_name,
                   c.patient_birth_date, c.patient_sex, c.payer_id, c.payer_name, c.claim_filing_indicator,
                   c.billing_npi, c.billing_name, c.billing_tax_id, c.rendering_npi, c.place_of_service,
                   c.type_of_bill, c.frequency_code, c.original_claim_number, c.prior_auth_number,
                   {", ".join(f"d.diagnosis_{i}" for i in range(1, 13))},
                   l.line_number, l.service_date, l.service_date_to, l.procedure_code,
                   l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4, l.description, l.revenue_code,
                   l.charge, l.units, l.dx_pointer_1, l.dx_pointer_2, l.dx_pointer_3, l.dx_pointer_4,
                   l.ndc, l.ndc_quantity, l.ndc_unit
            FROM lines l JOIN claims c ON c.claim_id = l.claim_id LEFT JOIN d ON d.claim_id = l.claim_id
            ORDER BY c.claim_id, l.line_number
            """
        )
        header = [d[0] for d in rows.description]
        data = rows.fetchall()
    finally:
        con.close()
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in data:
            writer.writerow(["" if v is None else v for v in row])
