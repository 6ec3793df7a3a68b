"""Root cause: which edit of the catalog would have caught a denial before submission.

The edit catalog runs on the submitted claims (:func:`reclaim.edits.check`); a denial's taxonomy
row names the catalog *categories* that catch it (``edit_category``, e.g. ``modifiers`` for
CO-4 + missing JZ, ``diagnosis`` for CO-11/50/167, ``units|policy`` for CO-119/151), so the
match does not depend on the edit codes the catalog ends with. A finding on the same claim and
line (or a claim-level finding) in one of those categories is the root cause; errors first.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

FINDINGS_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("line_number", pa.int32()),
        ("code", pa.string()),
        ("category", pa.string()),
        ("severity", pa.string()),
        ("message", pa.string()),
    ]
)


def findings_table(findings) -> pa.Table:
    """Normalize what :func:`reclaim.edits.check` returned to :data:`FINDINGS_SCHEMA`."""
    if findings is None:
        return FINDINGS_SCHEMA.empty_table()
    table = findings
    for attr in ("table", "to_arrow", "arrow"):
        if not isinstance(table, pa.Table) and hasattr(table, attr):
            table = getattr(table, attr)
            table = table() if callable(table) else table
    if not isinstance(table, pa.Table):
        raise TypeError(f"edit findings must be an Arrow table, got {type(findings).__name__}")
    cols = {}
    for field in FINDINGS_SCHEMA:
        if field.name in table.column_names:
            cols[field.name] = table[field.name].cast(field.type)
        elif field.name == "category" and "edit" in table.column_names:
            cols[field.name] = pa.nulls(table.num_rows, field.type)
        else:
            cols[field.name] = pa.nulls(table.num_rows, field.type)
    return pa.table(cols, schema=FINDINGS_SCHEMA)


ROOT_CAUSE_SQL = """
create or replace temp table root_cause as
select i.item_id, f.code as root_cause_edit, f.message as root_cause_message
from worklist i
join findings f
  on f.claim_id = i.claim_id
 and (f.line_number = i.line_number or f.line_number is null
      -- a front-end rejection is about the whole claim: a finding on any of its lines counts
      or (i.line_number is null and i.kind in ('rejection', 'pended')))
 and list_contains(string_split(i.edit_category, '|'), f.category)
where i.edit_category is not null
qualify row_number() over (
    partition by i.item_id
    order by case f.severity when 'error' then 0 when 'warning' then 1 else 2 end,
             (f.line_number is null), f.code) = 1
"""


def attach_root_cause(con: duckdb.DuckDBPyConnection, findings: pa.Table, *, catalog_ran: bool) -> None:
    """Add ``root_cause_edit`` and ``root_cause`` (a sentence) to ``worklist``."""
    con.register("findings_arrow", findings)
    con.execute("create or replace temp table findings as select * from findings_arrow")
    con.execute(ROOT_CAUSE_SQL)
    ran = "true" if catalog_ran else "false"
    con.execute(f"""
    create or replace temp table worklist as
    select w.*, rc.root_cause_edit,
           case when rc.root_cause_edit is not null
                     then rc.root_cause_edit || ': ' || rc.root_cause_message
                when w.kind not in ('denial', 'partial_denial', 'rejection', 'pended') then null
                when w.claim_id is null then 'submitted claim not found: cannot check it'
                when not {ran} then 'edit catalog not run'
                when w.edit_category is null then 'no edit checks for this kind of denial'
                else 'none of the edits in categories ' || replace(w.edit_category, '|', ', ')
                     || ' flags the submitted claim'
           end as root_cause,
           rc.root_cause_edit is not null as preventable
    from worklist w left join root_cause rc using (item_id)
    """)
