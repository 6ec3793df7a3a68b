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
bounded to :data:`MAX_ROUNDS`. :func:`write_fixed` writes the fixed claims in the format
they were read in (837, CSV, Excel), from their source file with only the changed values
rewritten (docs/claim-files.md). The writers derive what to patch from the model's columns, so a
fix only has to change the batch's columns (a line's charge with the claim's total_charge).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

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


#: the file names a corrected file of each input format may take (it is written in the input's format)
SUFFIXES = {"x12": (".837", ".x12", ".edi", ".txt", ".dat"), "csv": (".csv", ".tsv", ".txt"), "xlsx": (".xlsx",)}


def input_format(batch: ClaimBatch, claim_ids=None) -> str:
    """The one format (x12, csv, xlsx, fhir) of the files the batch's claims (or ``claim_ids``)
    were read from."""
    from ..errors import ReclaimError

    wanted = None if claim_ids is None else set(claim_ids)
    used = {f for c, f in zip(batch["claims"]["claim_id"].to_pylist(), batch["claims"]["file_id"].to_pylist())
            if wanted is None or c in wanted}
    formats = sorted({f["format"] for f in batch["files"].to_pylist() if f["file_id"] in used})
    if len(formats) != 1:
        raise ReclaimError(f"corrected claims are written in the format they were read in; these come in "
                           f"{', '.join(formats) or 'none'}", hint="correct the files of one format at a time")
    return formats[0]


def check_output_name(out: Path, fmt: str) -> None:
    """Refuse a file name whose extension says another format than the one written."""
    from ..errors import ReclaimError

    if fmt not in SUFFIXES:
        raise ReclaimError(f"corrected {fmt.upper()} files are not written yet: reclaim writes corrected 837, CSV and "
                           "Excel files", hint="export the claims as CSV or 837 from your system and correct those")
    if Path(out).suffix.lower() not in SUFFIXES[fmt]:
        label = {"x12": "837", "csv": "CSV", "xlsx": "Excel workbook"}[fmt]
        raise ReclaimError(f"{Path(out).name}: the claims were read from a {label}, so the corrected file is a {label} "
                           f"too; its name must end in {' or '.join(SUFFIXES[fmt])}",
                           hint=f"name the output e.g. {Path(out).stem}{SUFFIXES[fmt][0]}")


def write_fixed(batch: ClaimBatch, out: Path, *, sender=None, receiver=None, usage=None, claim_ids=None,
                frequency=None, original_claim_numbers=None, sources=None) -> dict:
    """Write the (fixed) claims in the format they were read in, from their source file: an 837
    through the 837 writer (the claims' own segments patched, their envelope unless
    ``sender``/``receiver``/``usage`` override it: ``writer.envelope_from_settings``), a CSV or
    Excel export through ``csv.write_corrected`` (every row and column kept). ``frequency`` /
    ``original_claim_numbers``: replacement (7) or void (8). ``sources``: file_id -> the source
    file when it is not where it was read from. Returns {path, format, claims, ...}."""
    fmt = input_format(batch, claim_ids)
    check_output_name(out, fmt)
    if fmt == "x12":
        from ..claims.x12.writer import write_837

        result = write_837(batch, out, claim_ids=claim_ids, frequency=frequency,
                           original_claim_numbers=original_claim_numbers, sender=sender, receiver=receiver,
                           usage=usage, sources=sources)
        return {"path": str(out), "format": fmt, "claims": result.claims, "interchanges": result.interchanges,
                "gaps": list(result.gaps)}
    from ..claims.csv import write_corrected

    claims = batch["claims"] if claim_ids is None else batch["claims"].filter(
        pa.compute.is_in(batch["claims"]["claim_id"], value_set=pa.array(list(claim_ids), pa.string())))
    file_ids = set(claims["file_id"].to_pylist())
    source = next(iter((sources or {}).get(f) for f in file_ids), None) if len(file_ids) == 1 else None
    return write_corrected(batch, out, claim_ids=claim_ids, frequency=frequency,
                           original_claim_numbers=original_claim_numbers, source=source)
