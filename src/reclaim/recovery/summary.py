"""Summary of a recovery run: dollars by category, payer, code and edit.

* ``by_category``: every 835 dollar by category (sums to the remittances' charges), plus
  provider-level adjustments;
* ``by_payer`` / ``by_code``: denied, partially denied, patient responsibility, contractual
  and paid dollars, and the underpaid shortfall, per payer and per procedure code;
* ``by_edit``: denied dollars per root-cause edit (what ``reclaim check`` would have prevented),
  written-off denials included;
* ``by_action``: worklist dollars at stake per action and kind.

``preventable``: denied dollars a catalog edit flags on the submitted claim. Recovered dollars
come from the worklist store (items people marked ``recovered``): ``recovered`` (per payer, code
and kind) is added when the run saves to a database.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa


def _arrow(con, sql: str) -> pa.Table:
    res = con.execute(sql).arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def summarize(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The summary tables of the run on ``con`` (its ``items_final`` worklist, ``dollars``...)."""
    out = {
        "by_category": _arrow(con, """
            select category, count(*) as adjustments, sum(amount)::decimal(18, 2) as amount
            from (select category, amount from dollars union all
                  select category, amount from provider_dollars)
            group by all order by category"""),
        "by_payer": _arrow(con, """
            with d as (
                select coalesce(p.payer_name, p.payer_id, '(unknown payer)') as payer, d.category, d.amount
                from dollars d join remit_claims rc using (remit_claim_id)
                left join payments p using (transaction_id)
            ), u as (
                select coalesce(p.payer_name, p.payer_id, '(unknown payer)') as payer,
                       sum(greatest(u.shortfall, 0)) as underpaid
                from underpayments u join remit_claims rc using (remit_claim_id)
                left join payments p using (transaction_id) group by all
            )
            , pv as (
                select coalesce(payer_name, payer_id, '(unknown payer)') as payer,
                       sum(amount) filter (where preventable) as preventable
                from items_final group by all
            )
            select payer,
                   sum(amount) filter (where category = 'paid')::decimal(18, 2) as paid,
                   sum(amount) filter (where category = 'denial')::decimal(18, 2) as denied,
                   sum(amount) filter (where category = 'partial_denial')::decimal(18, 2) as partially_denied,
                   sum(amount) filter (where category = 'patient_responsibility')::decimal(18, 2) as patient_responsibility,
                   sum(amount) filter (where category = 'contractual')::decimal(18, 2) as contractual,
                   any_value(u.underpaid)::decimal(18, 2) as underpaid,
                   any_value(pv.preventable)::decimal(18, 2) as preventable
            from d left join u using (payer) left join pv using (payer) group by all order by payer"""),
        "by_code": _arrow(con, """
            with d as (
                select coalesce(rl.procedure_code, '(claim level)') as procedure_code, d.category, d.amount
                from dollars d left join remit_lines rl using (remit_claim_id, line_index)
            ), u as (
                select procedure_code, sum(greatest(shortfall, 0)) as underpaid from underpayments group by all
            ), pv as (
                select procedure_code, sum(amount) filter (where preventable) as preventable
                from items_final where procedure_code is not null group by all
            )
            select procedure_code,
                   sum(amount) filter (where category = 'paid')::decimal(18, 2) as paid,
                   sum(amount) filter (where category = 'denial')::decimal(18, 2) as denied,
                   sum(amount) filter (where category = 'partial_denial')::decimal(18, 2) as partially_denied,
                   sum(amount) filter (where category = 'patient_responsibility')::decimal(18, 2) as patient_responsibility,
                   any_value(u.underpaid)::decimal(18, 2) as underpaid,
                   any_value(pv.preventable)::decimal(18, 2) as preventable
            from d left join u using (procedure_code) left join pv using (procedure_code)
            group by all order by procedure_code"""),
        "by_edit": _arrow(con, """
            -- preventable dollars by edit: worklist denials and written-off ones (CO-29: RC704)
            select coalesce(root_cause_edit, '(no edit would have caught it)') as edit,
                   count(*) as items, sum(amount)::decimal(18, 2) as denied
            from (select root_cause_edit, amount from items_final where kind in ('denial', 'partial_denial')
                  union all select root_cause_edit, amount from write_offs)
            group by all order by denied desc, edit"""),
        "by_action": _arrow(con, """
            select action, kind, count(*) as items, sum(amount)::decimal(18, 2) as at_stake,
                   sum(amount) filter (where preventable)::decimal(18, 2) as preventable
            from items_final group by all order by at_stake desc"""),
        # ties to the 835s per file and payer (reclaim.recovery.reconcile)
        "reconciliation": _arrow(con, """
            select * from reconciliation order by file, payer,
                list_position(['totals', 'status', 'cas_group', 'disposition', 'plb'], section), item"""),
    }
    return out
