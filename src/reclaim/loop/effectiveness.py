"""Edit effectiveness from real outcomes: which edits would have prevented what payers denied.

``edit_effectiveness(claims, remits, *, store, policies=None) -> Effectiveness`` replays the edit
catalog (:func:`reclaim.edits.check`) on historical submitted claims, matches the remittances to
them (:mod:`reclaim.recovery.matching`), classifies every remit dollar
(:mod:`reclaim.recovery.classify`) and scores each edit against what the payers did.

Per submitted line (a claim-level finding counts for every line of its claim):

* **answered**: at least one remit line (not a reversal) answers it;
* **adverse**: money withheld in a denial category (``denial``/``partial_denial``: a denied
  line, or units/amount cut on a paid one); its denial codes are the group-CARCs and RARCs of
  those adjustments;
* **relevant to an edit**: adverse, with a denial code the edit declares it prevents
  (``Edit.denials``): a RARC the edit declares, or else a CARC it declares when none of the
  line's RARCs points to another edit (CO-16 + M119 is an NDC denial, relevant to the NDC
  edits, not to the units edits that also declare CARC 16).

Per edit: ``flagged`` (lines with a finding), ``flagged_answered``, ``flagged_adverse`` (any
reason), ``prevented`` (flagged and relevant: the true positives), ``relevant``;
``precision = prevented / flagged_answered`` (how often a flag meant a denial this edit
prevents), ``recall = prevented / relevant`` (how many of the denials it claims it caught) and
``dollars_protected`` (the denied amounts on the prevented lines). ``uncovered`` lists the
adverse lines no edit flagged, by group-CARC: the denial categories no edit covers yet
(``no edit declares it``) or covers but missed.

``observed_odds(claims, remits)`` turns the same history into the worklist's observed outcome
table (payer, kind, reason, recovered, resolved) that :func:`reclaim.recovery.worklist.prioritize`
reads: a denial is *resolved* when the same CLM01 (or its replacement, REF*F8 = CLP07) was
adjudicated again for the same code and date of service, *recovered* if that later remit paid
it; a denial older than ``resolve_after_days`` with no new adjudication is resolved, not recovered.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..claims.model import MONEY, ClaimBatch, RemitBatch
from . import _common

BY_EDIT = pa.schema(
    [
        ("edit", pa.string()),
        ("name", pa.string()),
        ("category", pa.string()),
        ("severity", pa.string()),
        ("declared", pa.string()),  # the denial codes the edit says it prevents
        ("flagged", pa.int64()),
        ("flagged_answered", pa.int64()),
        ("flagged_adverse", pa.int64()),
        ("prevented", pa.int64()),
        ("relevant", pa.int64()),
        ("precision", pa.float64()),
        ("recall", pa.float64()),
        ("dollars_protected", MONEY),
        ("flagged_paid_in_full", pa.int64()),
        ("flagged_changed", pa.int64()),  # flagged lines the payer changed (code, units, modifiers, NDC)
    ]
)

UNCOVERED = pa.schema(
    [
        ("reason", pa.string()),  # group-CARC, e.g. CO-50
        ("carc", pa.string()),
        ("rarcs", pa.string()),
        ("denial_reason", pa.string()),  # the taxonomy's kind of denial
        ("lines", pa.int64()),
        ("dollars", MONEY),
        ("declared_by", pa.string()),  # edits that declare this CARC (and missed these lines)
        ("coverage", pa.string()),  # "no edit declares it" | "declared, missed"
    ]
)

OBSERVED = pa.schema([("payer_id", pa.string()), ("kind", pa.string()), ("reason", pa.string()),
                      ("recovered", pa.int64()), ("resolved", pa.int64())])

FLAGS_SCHEMA = pa.schema([("edit", pa.string()), ("claim_id", pa.string()), ("line_number", pa.int32()),
                          ("severity", pa.string())])

_DENIAL_CODE = re.compile(r"^(CARC|RARC)\s+([A-Z0-9]+)$")

OUTCOME_SQL = """
create or replace temp table line_outcome as
with answered as (
    select lm.claim_id, lm.line_number, lm.remit_claim_id, lm.line_index, rl.paid, rc.transaction_id
    from line_match lm join remit_claims rc using (remit_claim_id) join remit_lines rl using (remit_claim_id, line_index)
    where coalesce(rc.claim_status, '') <> '22'
), loss as (
    select remit_claim_id, line_index, sum(amount) as denied,
           list(distinct reason_code) as carcs,
           list_distinct(flatten(list(string_split(coalesce(rarcs, ''), ',')))) as rarcs,
           arg_max(group_code || '-' || reason_code, amount) as main_reason,
           arg_max(denial_reason, amount) as denial_reason
    from dollars where source = 'CAS' and category in ('denial', 'partial_denial') and line_index is not null
    group by remit_claim_id, line_index
)
select a.claim_id, a.line_number, any_value(p.payer_id) as payer_id, sum(a.paid) as paid,
       coalesce(sum(l.denied), 0) as denied_amount, coalesce(sum(l.denied), 0) > 0 as adverse,
       list_distinct(flatten(list(coalesce(l.carcs, [])))) as carcs,
       list_filter(list_distinct(flatten(list(coalesce(l.rarcs, [])))), x -> x <> '') as rarcs,
       arg_max(l.main_reason, l.denied) as main_reason, arg_max(l.denial_reason, l.denied) as denial_reason
from answered a
left join payments p on p.transaction_id = a.transaction_id
left join loss l on l.remit_claim_id = a.remit_claim_id and l.line_index = a.line_index
group by a.claim_id, a.line_number
"""

SCORE_SQL = """
create or replace temp table flagged as
select distinct f.edit, l.claim_id, l.line_number
from flags f join lines l on l.claim_id = f.claim_id and (f.line_number is null or f.line_number = l.line_number);

create or replace temp table relevance as
-- relevant = a RARC the edit declares, or a CARC it declares on a line none of whose RARCs
-- another edit declares (see the module doc); all equi-joins on the exploded codes
with adverse as (select claim_id, line_number, carcs, rarcs, denied_amount from line_outcome where adverse),
line_rarc as (select claim_id, line_number, unnest(rarcs) as code from adverse),
line_carc as (select claim_id, line_number, unnest(carcs) as code from adverse),
rarc_hit as (
    select distinct e.edit, r.claim_id, r.line_number
    from line_rarc r join edit_codes e on e.kind = 'RARC' and e.code = r.code
), claimed_rarc_lines as (select distinct claim_id, line_number from rarc_hit),
carc_hit as (
    select distinct e.edit, c.claim_id, c.line_number
    from line_carc c join edit_codes e on e.kind = 'CARC' and e.code = c.code
    anti join claimed_rarc_lines x on x.claim_id = c.claim_id and x.line_number = c.line_number
)
select h.edit, h.claim_id, h.line_number, a.denied_amount
from (select * from rarc_hit union select * from carc_hit) h
join adverse a on a.claim_id = h.claim_id and a.line_number = h.line_number;

create or replace temp table flagged_lines as select distinct claim_id, line_number from flagged;

create or replace temp table by_edit as
with f as (
    select fl.edit, fl.claim_id, fl.line_number, o.claim_id is not null as answered,
           coalesce(o.adverse, false) as adverse, coalesce(o.paid, 0) as paid,
           r.edit is not null as relevant, r.denied_amount, pc.claim_id is not null as changed
    from flagged fl
    left join line_outcome o using (claim_id, line_number)
    left join relevance r on r.edit = fl.edit and r.claim_id = fl.claim_id and r.line_number = fl.line_number
    left join payer_changed pc on pc.claim_id = fl.claim_id and pc.line_number = fl.line_number
), agg as (
    select edit, count(*) as flagged, count(*) filter (where answered) as flagged_answered,
           count(*) filter (where adverse) as flagged_adverse, count(*) filter (where relevant) as prevented,
           coalesce(sum(denied_amount) filter (where relevant), 0) as dollars_protected,
           count(*) filter (where answered and not adverse) as flagged_paid_in_full,
           count(*) filter (where changed) as flagged_changed
    from f group by edit
), rel as (select edit, count(*) as relevant from relevance group by edit)
select c.edit, c.name, c.category, c.severity, c.declared,
       coalesce(a.flagged, 0) as flagged, coalesce(a.flagged_answered, 0) as flagged_answered,
       coalesce(a.flagged_adverse, 0) as flagged_adverse, coalesce(a.prevented, 0) as prevented,
       coalesce(r.relevant, 0) as relevant,
       case when a.flagged_answered > 0 then a.prevented / a.flagged_answered end as precision,
       case when r.relevant > 0 then coalesce(a.prevented, 0) / r.relevant end as recall,
       coalesce(a.dollars_protected, 0)::decimal(18, 2) as dollars_protected,
       coalesce(a.flagged_paid_in_full, 0) as flagged_paid_in_full,
       coalesce(a.flagged_changed, 0) as flagged_changed
from catalog c left join agg a using (edit) left join rel r using (edit)
order by dollars_protected desc, prevented desc, flagged desc, edit;

create or replace temp table uncovered as
with missed as (
    select o.* from line_outcome o anti join flagged_lines f using (claim_id, line_number)
    where o.adverse
), carc_edits as (
    select code as carc, string_agg(distinct edit, ' ' order by edit) as declared_by
    from edit_codes where kind = 'CARC' group by code
)
select m.main_reason as reason, split_part(m.main_reason, '-', 2) as carc,
       nullif(array_to_string(list_sort(list_distinct(flatten(list(list_filter(m.rarcs, x -> x <> ''))))), ' '), '') as rarcs,
       any_value(m.denial_reason) as denial_reason, count(*) as lines, sum(m.denied_amount)::decimal(18, 2) as dollars,
       any_value(ce.declared_by) as declared_by,
       case when any_value(ce.declared_by) is null then 'no edit declares it' else 'declared, missed' end as coverage
from missed m left join carc_edits ce on ce.carc = split_part(m.main_reason, '-', 2)
group by m.main_reason
order by dollars desc, lines desc, reason;
"""

OBSERVED_SQL = """
with denial as (
    select o.claim_id, o.line_number, o.payer_id, o.main_reason as reason,
           case when o.paid > 0 then 'partial_denial' else 'denial' end as kind,
           c.patient_control_number as clm01, l.procedure_code, l.service_date,
           min(coalesce(p.payment_date, p.production_date)) as decided,
           list(distinct rc.payer_claim_control_number) as icns
    from line_outcome o
    join claims c using (claim_id)
    join lines l using (claim_id, line_number)
    join line_match lm using (claim_id, line_number)
    join remit_claims rc on rc.remit_claim_id = lm.remit_claim_id
    left join payments p on p.transaction_id = rc.transaction_id
    where o.adverse
    group by all
), later as (
    select c.patient_control_number as clm01, c.original_claim_number, l.procedure_code, l.service_date,
           rl.paid, coalesce(p.payment_date, p.production_date) as decided
    from line_match lm
    join claims c on c.claim_id = lm.claim_id
    join lines l on l.claim_id = lm.claim_id and l.line_number = lm.line_number
    join remit_lines rl on rl.remit_claim_id = lm.remit_claim_id and rl.line_index = lm.line_index
    join remit_claims rc on rc.remit_claim_id = lm.remit_claim_id
    left join payments p on p.transaction_id = rc.transaction_id
    where coalesce(rc.claim_status, '') <> '22'
), again as (
    -- the same CLM01 adjudicated later, or a replacement claim whose REF*F8 is this denial's CLP07
    select d.claim_id, d.line_number, la.paid, la.decided
    from denial d join later la on la.clm01 = d.clm01 and la.procedure_code = d.procedure_code
         and la.service_date is not distinct from d.service_date and la.decided > d.decided
    union all
    select d.claim_id, d.line_number, la.paid, la.decided
    from (select *, unnest(icns) as icn from denial) d
    join later la on la.original_claim_number = d.icn and la.clm01 <> d.clm01
         and la.procedure_code = d.procedure_code and la.service_date is not distinct from d.service_date
         and la.decided > d.decided
), outcome as (
    select d.payer_id, d.kind, d.reason, d.decided,
           coalesce(bool_or(a.paid > 0), false) as recovered, count(a.decided) > 0 as readjudicated
    from denial d left join again a using (claim_id, line_number)
    group by d.claim_id, d.line_number, d.payer_id, d.kind, d.reason, d.decided
)
select payer_id, kind, reason,
       count(*) filter (where recovered) as recovered,
       count(*) filter (where readjudicated or decided <= $cutoff) as resolved
from outcome group by all
having count(*) filter (where readjudicated or decided <= $cutoff) > 0
order by payer_id, kind, reason
"""


@dataclass
class Effectiveness:
    """Scores of each edit against the payers' decisions on the same claims."""

    by_edit: pa.Table
    uncovered: pa.Table
    totals: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _catalog_tables(edits) -> tuple[pa.Table, pa.Table]:
    catalog = pa.table({
        "edit": [e.code for e in edits], "name": [e.name for e in edits], "category": [e.category for e in edits],
        "severity": [e.severity for e in edits], "declared": [", ".join(e.denials) for e in edits],
    })
    rows = []
    for e in edits:
        for d in e.denials:
            m = _DENIAL_CODE.match(d.strip().upper())
            if m:
                rows.append({"edit": e.code, "kind": m.group(1), "code": m.group(2)})
    codes = pa.Table.from_pylist(rows, schema=pa.schema([("edit", pa.string()), ("kind", pa.string()), ("code", pa.string())]))
    return catalog, codes


def _flags(findings: Any) -> pa.Table:
    """(edit, claim_id, line_number, severity) from :class:`reclaim.edits.Findings` or its table."""
    table = getattr(findings, "table", findings)
    if table is None:
        return FLAGS_SCHEMA.empty_table()
    cols = {"edit": table["code"], "claim_id": table["claim_id"], "line_number": table["line_number"],
            "severity": table["severity"] if "severity" in table.column_names else pa.nulls(table.num_rows, pa.string())}
    return pa.table(cols).cast(FLAGS_SCHEMA)


def _prepare(claims: ClaimBatch, remits: RemitBatch):
    return _outcomes(_common.connect(claims, remits))


def _outcomes(con):
    """Match, classify and compute each line's outcome on a connection holding the model's tables."""
    from ..recovery import classify, matching, taxonomy

    con.register("taxonomy", taxonomy.load())
    matching.match(con)
    classify.classify(con)
    con.execute(OUTCOME_SQL)
    return con


def edit_effectiveness(
    claims: ClaimBatch,
    remits: RemitBatch,
    *,
    store: Any = None,
    policies: Any = None,
    findings: Any = None,
    edits: list | None = None,
    engine: str = "duckdb",
) -> Effectiveness:
    """Replay the edit catalog on ``claims`` and score it against ``remits``.

    ``store``: the reference store the edits read (a RefStore, Settings or path);
    ``policies``: payer policies for the edits (default built-in); ``findings``: the edits'
    findings when already computed (then the catalog is not run again); ``edits``: the
    :class:`reclaim.edits.Edit` list to score (default: the whole catalog).
    """
    from ..edits import resolve

    edits = edits if edits is not None else resolve(None, None)
    notes: list[str] = []
    if findings is None:
        findings = replay_edits(claims, store=store, policies=policies, edits=edits, engine=engine)
        notes += list(findings.notes)
    catalog, codes = _catalog_tables(edits)
    con = _prepare(claims, remits)
    try:
        from .adjudication_diff import compare

        # what the payer changed on each line (part 1): an edit that predicts it was right too
        diff = compare(con, store)
        notes += diff.notes
        con.execute("""create or replace temp table payer_changed as
                       select distinct claim_id, line_number from findings
                       where kind in ('code_changed', 'units_cut', 'modifier_dropped', 'modifier_added', 'ndc_changed')""")
        con.register("catalog", catalog)
        con.register("edit_codes", codes)
        con.register("flags", _flags(findings))
        con.execute(SCORE_SQL)
        by_edit = _common.arrow(con, "select * from by_edit").cast(BY_EDIT)
        uncovered = _common.arrow(con, "select * from uncovered").cast(UNCOVERED)
        t = con.execute("""
            with o as (
                select o.*, f.claim_id is not null as flagged,
                       p.claim_id is not null as prevented
                from line_outcome o
                left join flagged_lines f using (claim_id, line_number)
                left join (select distinct r.claim_id, r.line_number from relevance r
                           semi join flagged f on f.edit = r.edit and f.claim_id = r.claim_id
                                and f.line_number = r.line_number) p using (claim_id, line_number)
            )
            select (select count(*) from lines), count(*), count(*) filter (where adverse),
                   coalesce(sum(denied_amount), 0), count(*) filter (where adverse and flagged),
                   coalesce(sum(denied_amount) filter (where adverse and prevented), 0),
                   (select count(*) from flagged_lines)
            from o""").fetchone()
    finally:
        con.close()
    totals = {"lines": t[0], "answered": t[1], "adverse": t[2], "denied_dollars": t[3],
              "adverse_flagged": t[4], "dollars_protected": t[5], "lines_flagged": t[6],
              "adverse_unflagged": t[2] - t[4]}
    if t[1] < t[0]:
        notes.append(f"{t[0] - t[1]} submitted line(s) have no remittance in the data: not scored")
    return Effectiveness(by_edit, uncovered, totals, notes)


def replay_edits(claims: ClaimBatch, *, store: Any, policies: Any = None, edits: list | None = None,
                 engine: str = "duckdb"):
    """Run the edit catalog on historical claims as of their submission: the date of check is the
    latest transaction date (BHT04/GS04) in the batch, so time-based edits (timely filing) judge
    the claims as they stood when sent, not today. Returns :class:`reclaim.edits.Findings`."""
    from ..edits import check

    if store is None:
        raise ValueError("replaying the edits needs the reference store")
    created = [d for d in claims["transactions"]["created"].to_pylist() if d]
    return check(claims, store=_store_arg(store), policies=policies,
                 select=None if edits is None else [e.code for e in edits], engine=engine,
                 date_of_check=max(created) if created else None)


def _store_arg(store: Any) -> Any:
    """The edit engine takes a RefStore or the store file path."""
    return store if hasattr(store, "con") else _common.store_path(store)


def observed_odds(claims: ClaimBatch, remits: RemitBatch, *, as_of: dt.date | None = None,
                  resolve_after_days: int = 120) -> pa.Table:
    """Observed recovery outcomes per (payer_id, kind, reason) from the history itself, in the
    shape :func:`reclaim.recovery.worklist.prioritize` takes as ``observed`` (see module doc)."""
    con = _prepare(claims, remits)
    try:
        return _observed(con, as_of, resolve_after_days)
    finally:
        con.close()


def observed_odds_files(claim_files, remit_files, *, as_of: dt.date | None = None, resolve_after_days: int = 120,
                        memory_limit: str = "2GB") -> tuple[pa.Table, dict[str, int]]:
    """:func:`observed_odds` of history files (paths: X12, CSV/XLSX, FHIR, ``reclaim convert``
    Parquet), streamed into DuckDB block by block (:func:`reclaim.claims.io.load_into`) with a
    memory cap that spills to a temporary folder: a year of claims need not fit in memory.
    Returns the table and counts: ``claims``, ``remit_claims``, ``read_issues``."""
    import tempfile
    from pathlib import Path

    import duckdb

    from ..claims.io import load_into

    with tempfile.TemporaryDirectory(prefix="reclaim-history-") as spill:
        con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": spill})
        try:
            con.execute("set enable_progress_bar = false")
            loaded = load_into(con, [Path(p) for p in claim_files], "claims")
            loaded.update(load_into(con, [Path(p) for p in remit_files], "remits"))
            counts = {"claims": loaded.get("claims", 0), "remit_claims": loaded.get("remit_claims", 0),
                      "read_issues": con.execute("select count(*) from read_issues").fetchone()[0]}
            return _observed(_outcomes(con), as_of, resolve_after_days), counts
        finally:
            con.close()


def _observed(con, as_of: dt.date | None, resolve_after_days: int) -> pa.Table:
    if as_of is None:
        as_of = con.execute("select max(coalesce(payment_date, production_date)) from payments").fetchone()[0] \
            or dt.date.today()
    cutoff = as_of - dt.timedelta(days=resolve_after_days)
    return _common.arrow(con, OBSERVED_SQL, {"cutoff": cutoff}).cast(OBSERVED)


def render(result: Effectiveness, fmt: str = "text") -> str:
    """The scores as ``text``, ``markdown`` or ``json``."""
    import json

    if fmt == "json":
        return json.dumps({"totals": result.totals, "by_edit": result.by_edit.to_pylist(),
                           "uncovered": result.uncovered.to_pylist(), "notes": result.notes}, default=str, indent=2)
    t = result.totals
    md = fmt == "markdown"
    pct = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    out = [("# " if md else "") + "Edit effectiveness on your history", ""]
    out.append(f"{t['lines']} submitted lines, {t['answered']} answered by a remittance, {t['adverse']} denied or "
               f"cut (${t['denied_dollars']:,}); {t['adverse_flagged']} of those were flagged by an edit, "
               f"{t['adverse_unflagged']} were not. Edits would have protected ${t['dollars_protected']:,}.")
    for note in result.notes:
        out.append(f"note: {note}")
    out += ["", ("## " if md else "") + "Per edit (most dollars protected first)", ""]
    header = ["edit", "name", "flagged", "answered", "denied", "prevented", "relevant", "precision", "recall",
              "protected $", "paid anyway", "payer changed"]
    rows = [[r["edit"], r["name"], r["flagged"], r["flagged_answered"], r["flagged_adverse"], r["prevented"],
             r["relevant"], pct(r["precision"]), pct(r["recall"]), f"{r['dollars_protected']:,}",
             r["flagged_paid_in_full"], r["flagged_changed"]]
            for r in result.by_edit.to_pylist()]
    out += _table(header, rows, md)
    out += ["", ("## " if md else "") + "Denials no edit flagged (by CARC)", ""]
    rows = [[r["reason"], r["rarcs"] or "", r["denial_reason"] or "", r["lines"], f"{r['dollars']:,}",
             r["coverage"] + (f" ({r['declared_by']})" if r["declared_by"] else "")]
            for r in result.uncovered.to_pylist()]
    out += _table(["reason", "RARCs", "kind", "lines", "dollars", "coverage"], rows, md)
    return "\n".join(out) + "\n"


def _table(header: list[str], rows: list[list[Any]], md: bool) -> list[str]:
    cells = [[str(c) for c in r] for r in rows]
    if md:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in cells]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells]


def report_files(claim_files, remit_files, *, settings, fmt: str = "text", policies=None) -> str:
    """``reclaim rules --effectiveness``: read the history files, replay, render."""
    from pathlib import Path

    from ..claims.io import read_claims, read_remits
    from ..errors import ReclaimError
    from ..refdata.store import RefStore

    if not claim_files or not remit_files:
        raise ReclaimError("--effectiveness needs the submitted claims (--claims) and their remittances (--remits)",
                           hint="e.g. reclaim rules --effectiveness --claims examples/history/claims "
                                "--remits examples/history/remits")
    claims = read_claims([Path(p) for p in claim_files])
    remits = read_remits([Path(p) for p in remit_files])
    if policies is None and getattr(settings, "policy", ""):
        policies = [settings.policy]
    with RefStore.open(settings) as store:
        result = edit_effectiveness(claims, remits, store=store, policies=policies, engine=settings.engine)
    skipped = claims["read_issues"].num_rows + remits["read_issues"].num_rows
    if skipped:
        result.notes.append(f"{skipped} problem(s) while reading the files: run `reclaim convert` on them for details")
    return render(result, fmt)
