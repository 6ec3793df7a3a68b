"""Root cause: which edit of the catalog would have caught a denial before submission.

The edit catalog runs on the submitted claims (:func:`reclaim.edits.check`, at ``--as-of``: the
timely-filing edit counts from that day, not from today). Each edit declares the CARCs and RARCs
it prevents (``Edit.denials``: RC401 prevents CARC 16 with RARC M119...). A denial's candidate
edits are those declaring one of its CARCs (and, when the edit names RARCs and the item carries
one of the catalog's RARCs, a matching one); a finding of a candidate edit on the same claim and
line (or a claim-level finding) is the root cause, errors first. Otherwise the item says which
edits were checked and did not flag the claim, or that no edit covers that CARC yet.
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


def edit_categories() -> pa.Table:
    """(edit, category) of every edit of the catalog."""
    from ..edits.registry import catalog

    rows = [{"edit": code, "category": edit.category} for code, edit in sorted(catalog().items())]
    return pa.Table.from_pylist(rows, schema=pa.schema([("edit", pa.string()), ("category", pa.string())]))


def edit_denials() -> pa.Table:
    """(edit, carc, rarcs) for every CARC an edit of the catalog says it prevents
    (``reclaim.edits.registry.Edit.denials``); ``rarcs`` are the edit's RARCs (empty: any)."""
    from ..edits.registry import catalog

    rows = []
    for code, edit in sorted(catalog().items()):
        carcs = [d.split()[1] for d in edit.denials if d.startswith("CARC ")]
        rarcs = [d.split()[1] for d in edit.denials if d.startswith("RARC ")]
        rows += [{"edit": code, "carc": carc, "rarcs": rarcs} for carc in carcs]
    return pa.Table.from_pylist(rows, schema=pa.schema([("edit", pa.string()), ("carc", pa.string()),
                                                        ("rarcs", pa.list_(pa.string()))]))


ROOT_CAUSE_SQL = """
create or replace temp table item_carcs as
-- every CARC of a denial item (its reasons: 'CO-16 CO-4'), and its RARCs
select i.item_id, split_part(r.reason, '-', 2) as carc, string_split(coalesce(i.rarcs, ''), ',') as item_rarcs
from worklist i, unnest(string_split(coalesce(i.reasons, i.reason), ' ')) as r(reason)
where i.kind in ('denial', 'partial_denial') and r.reason like '%-%';

create or replace temp table item_edits as
-- the edits that say they prevent one of the item's CARCs; when some of them also name one of
-- the item's RARCs (CO-16 + M119: the NDC edits), only those
with cand as (
    select c.item_id, e.edit, list_has_any(e.rarcs, c.item_rarcs) as shares_rarc
    from item_carcs c join edit_denials e on e.carc = c.carc
)
select distinct item_id, edit from cand
qualify shares_rarc or not bool_or(shares_rarc) over (partition by item_id);

insert into item_edits
-- a front-end rejection (recovery/acks.py) names what is wrong, not a CARC: the edits of the
-- catalog categories it points at (edit_category: 'diagnosis', 'code|modifiers|noc'...)
select distinct i.item_id, e.edit
from worklist i, unnest(string_split(i.edit_category, '|')) as c(category)
join edit_categories e on e.category = c.category
where i.kind in ('rejection', 'pended') and i.edit_category is not null;

create or replace temp table root_cause as
select i.item_id, f.code as root_cause_edit, f.message as root_cause_message
from worklist i
join item_edits ie using (item_id)
join findings f
  on f.claim_id = i.claim_id and f.code = ie.edit
 and (f.line_number = i.line_number or f.line_number is null
      -- a front-end rejection is about the whole claim: a finding on any of its lines counts
      or (i.line_number is null and i.kind in ('rejection', 'pended')))
qualify row_number() over (
    partition by i.item_id
    order by case f.severity when 'error' then 0 when 'warning' then 1 else 2 end,
             (f.line_number is null), f.code) = 1
"""


def attach_root_cause(con: duckdb.DuckDBPyConnection, findings: pa.Table, *, catalog_ran: bool) -> None:
    """Add ``root_cause_edit`` and ``root_cause`` (a sentence) to ``worklist``: the catalog edit
    that flags the submitted claim line for a CARC (and RARC) it says it prevents."""
    con.register("findings_arrow", findings)
    con.execute("create or replace temp table findings as select * from findings_arrow")
    con.register("edit_denials", edit_denials())
    con.register("edit_categories", edit_categories())
    con.execute(ROOT_CAUSE_SQL)
    ran = "true" if catalog_ran else "false"
    con.execute(f"""
    create or replace temp table worklist as
    with covering as (
        select item_id, string_agg(edit, ', ' order by edit) as edits from item_edits group by all
    )
    select w.*, rc.root_cause_edit,
           case when rc.root_cause_edit is not null
                     then rc.root_cause_edit || ': ' || rc.root_cause_message
                when w.kind not in ('denial', 'partial_denial', 'rejection', 'pended') then null
                when cv.edits is null
                     then 'no edit covers ' || coalesce(replace(w.reasons, ' ', ', '), w.reason) || ' yet'
                when w.claim_id is null then 'submitted claim not found: cannot check it'
                when not {ran} then 'edit catalog not run'
                else 'none of ' || cv.edits || ' flags the submitted claim'
           end as root_cause,
           rc.root_cause_edit is not null as preventable
    from worklist w left join root_cause rc using (item_id) left join covering cv using (item_id)
    """)
    con.execute(WRITE_OFF_ROOT_CAUSE_SQL)


WRITE_OFF_ROOT_CAUSE_SQL = """
-- written-off denials (CO-29...) have no item, but their dollars were preventable all the same
create or replace temp table write_offs as
with w as (
    select w.*, cm.claim_id, lm.line_number from write_offs w
    left join claim_match cm using (remit_claim_id)
    left join line_match lm on lm.remit_claim_id = w.remit_claim_id and lm.line_index = w.line_index
), edits as (
    select distinct w.remit_claim_id, w.line_index, e.edit
    from w, unnest(string_split(w.reasons, ' ')) as r(reason)
    join edit_denials e on e.carc = split_part(r.reason, '-', 2)
), found as (
    select w.remit_claim_id, w.line_index, f.code, f.message
    from w join edits e on e.remit_claim_id = w.remit_claim_id and e.line_index is not distinct from w.line_index
    join findings f on f.claim_id = w.claim_id and f.code = e.edit
     and (f.line_number = w.line_number or f.line_number is null)
    qualify row_number() over (partition by w.remit_claim_id, w.line_index order by f.code) = 1
)
select w.* exclude (claim_id, line_number), f.code as root_cause_edit,
       coalesce(f.code || ': ' || f.message,
                case when not exists (select 1 from edits e where e.remit_claim_id = w.remit_claim_id
                                                           and e.line_index is not distinct from w.line_index)
                     then 'no edit covers ' || replace(w.reasons, ' ', ', ') || ' yet'
                     else 'no edit flags the submitted claim' end) as root_cause
from w left join found f on f.remit_claim_id = w.remit_claim_id and f.line_index is not distinct from w.line_index
"""
