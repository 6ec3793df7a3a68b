"""Reconciliation: every dollar of every remittance in exactly one place, tied to the 835's totals.

``dispositions`` gives each dollar row of ``dollars`` (one per CAS amount and per paid amount,
see :mod:`.classify`) one disposition, so that per claim they add up to CLP03:

``paid``
    SVC03 / CLP04 (a reversal's negative payment too: money taken back);
``worklist``
    a recoverable denial, partial denial or unmapped adjustment, under the item that carries it
    (``item_id``; detail = the item's action), and the underpaid part of a line's contractual
    reduction (detail ``dispute_underpayment``; the rest of that reduction stays ``no_action``);
``patient_share``
    group PR: bill the patient or the secondary payer (the claim's ``patient_responsibility``
    item);
``no_action``
    expected reductions, with the reason (``contractual reduction``, ``capitation agreement: no
    separate payment``, ``sequestration``, ``prior payer``, a reversal's adjustments);
``written_off``
    denied with no recovery path (CO-29 timely filing), listed in ``write-offs.csv``;
``unbalanced``
    the 835 itself does not balance for this claim: the difference is shown, not lost.

Provider-level dollars (PLB) are reconciled beside them, by reason code (:mod:`.plb`), never
added to claim dollars: ``sum(CLP04) - sum(PLB) = BPR02``.

``reconciliation`` is the table the summary shows (text, CSV, XLSX, JSON, the web dashboard):
per file and payer, rows of (section, item, claims, amount), whose sections each sum to the
file's own totals: ``status`` (claims and CLP03 by CLP02) and ``disposition`` sum to the
charges; ``cas_group`` to the CAS total; ``plb`` to the PLB total; ``totals`` carries CLP03,
CLP04, SVC03, CAS, PLB, BPR02 themselves. ``denied`` lists every denied claim (CLP02 = 4) and
every line paid nothing, with where its dollars went (item ids, or the no-action reason).
"""

from __future__ import annotations

import duckdb

#: CLP02 claim status codes (domain-facts 11)
STATUS_LABELS = {
    "1": "processed as primary", "2": "processed as secondary", "3": "processed as tertiary", "4": "denied",
    "19": "primary, forwarded", "20": "secondary, forwarded", "21": "tertiary, forwarded",
    "22": "reversal of previous payment", "23": "not our claim, forwarded", "25": "predetermination pricing only",
}

#: the reason shown for no-action dollars, by the taxonomy row's denial_reason, else its category
NO_ACTION_LABELS = {
    "capitation": "capitation agreement: no separate payment",
    "contractual": "contractual reduction (fee schedule or contract)",
    "sequestration": "Medicare sequestration (federal reduction)",
    "prior_payer": "prior payer's payment or adjustment",
    "reversal": "reversal of a previous payment",
    "presumptive_payment": "presumptive payment adjustment (settles an earlier advance payment)",
    "excess_of_charges": "processed in excess of charges",
}

DISPOSITIONS = ("paid", "worklist", "patient_share", "no_action", "written_off", "unbalanced")

DISPOSITION_SQL = """
create or replace temp table dispositions as
with loss_items as (
    select remit_claim_id, line_index, kind, item_id, action from items_final
    where kind in ('denial', 'partial_denial', 'unmapped')
), pr_items as (
    select remit_claim_id, item_id from items_final where kind = 'patient_responsibility'
), under_items as (
    select remit_claim_id, line_index, item_id, amount from items_final where kind = 'underpayment'
), labels as (
    select * from (values {labels}) t(key, label)
), rows_ as (
    select d.remit_claim_id, d.line_index, d.source, d.group_code, d.reason_code, d.category, d.amount,
           case when d.category = 'paid' then 'paid'
                when d.category = 'reversal' and d.source <> 'CAS' then 'paid'
                when d.category = 'unbalanced' then 'unbalanced'
                when d.category = 'patient_responsibility' then 'patient_share'
                when d.category in ('denial', 'partial_denial', 'unmapped') and d.recoverable
                     and li.item_id is not null then 'worklist'
                when d.category in ('denial', 'partial_denial', 'unmapped') and not d.recoverable then 'written_off'
                else 'no_action' end as disposition,
           case when d.category in ('paid', 'unbalanced') then d.category
                when d.category = 'reversal' and d.source <> 'CAS' then 'reversal'
                when d.category = 'patient_responsibility' then 'bill_patient_or_secondary'
                when d.category in ('denial', 'partial_denial', 'unmapped') and d.recoverable
                     and li.item_id is not null then li.action
                when d.category in ('denial', 'partial_denial', 'unmapped') and not d.recoverable
                     then coalesce(replace(d.denial_reason, '_', ' '), 'no recovery path')
                else coalesce(lr.label, lc.label, replace(d.category, '_', ' ')) end as detail,
           case when d.category = 'patient_responsibility' then pi.item_id
                when d.category in ('denial', 'partial_denial', 'unmapped') then li.item_id end as item_id
    from dollars_out d
    left join loss_items li on li.remit_claim_id = d.remit_claim_id and li.line_index is not distinct from d.line_index
         and li.kind = d.category
    left join pr_items pi on pi.remit_claim_id = d.remit_claim_id
    left join labels lr on lr.key = d.denial_reason
    left join labels lc on lc.key = d.category
)
select * from rows_
union all by name
-- the underpaid part of a line's contractual reduction is at stake; the rest stays expected
select u.remit_claim_id, u.line_index, 'underpayment' as source, u.amount, 'worklist' as disposition,
       'dispute_underpayment' as detail, u.item_id, 'contractual' as category
from under_items u
union all by name
select u.remit_claim_id, u.line_index, 'underpayment' as source, -u.amount as amount, 'no_action' as disposition,
       (select label from labels where key = 'contractual') as detail, null as item_id, 'contractual' as category
from under_items u
"""

RECONCILIATION_SQL = """
create or replace temp table recon_claims as
select rc.remit_claim_id, rc.transaction_id, coalesce(f.path, rc.file_id) as file, f.sha256 as file_sha256,
       coalesce(p.payer_name, p.payer_id, '(unknown payer)') as payer,
       rc.claim_status, rc.total_charge, rc.paid
from in_remit_claims rc left join in_payments p using (transaction_id) left join in_files f on f.file_id = rc.file_id;

create or replace temp table recon_txn as
select p.transaction_id, coalesce(f.path, p.file_id) as file, f.sha256 as file_sha256,
       coalesce(p.payer_name, p.payer_id, '(unknown payer)') as payer, p.payment_amount
from in_payments p left join in_files f on f.file_id = p.file_id;

create or replace temp table reconciliation as
with status_labels as (select * from (values {statuses}) t(code, label)),
rows_ as (
select file, payer, 'status' as section, claim_status || ' ' || coalesce(any_value(sl.label), 'other') as item,
       count(*) as claims, sum(total_charge)::decimal(18, 2) as amount
from recon_claims left join status_labels sl on sl.code = claim_status group by file, payer, claim_status
union all
select c.file, c.payer, 'cas_group', a.group_code, count(distinct a.remit_claim_id), sum(a.amount)::decimal(18, 2)
from in_adjustments a join recon_claims c using (remit_claim_id) group by all
union all
select c.file, c.payer, 'disposition', d.disposition || ': ' || d.detail, count(distinct d.remit_claim_id),
       sum(d.amount)::decimal(18, 2)
from dispositions d join recon_claims c using (remit_claim_id) group by all having sum(d.amount) <> 0
union all
select t.file, t.payer, 'plb', n.reason_code || ' ' || coalesce(lower(n.meaning), '(code not in the PLB list)')
       || ': ' || n.disposition || ' (' || n.detail || ')', count(*), sum(n.amount)::decimal(18, 2)
from plb_net n join recon_txn t using (transaction_id) group by all
union all
select file, payer, 'totals', 'CLP03 charges', count(*), sum(total_charge)::decimal(18, 2) from recon_claims group by all
union all
select file, payer, 'totals', 'CLP04 paid', count(*), sum(paid)::decimal(18, 2) from recon_claims group by all
union all
select c.file, c.payer, 'totals', 'SVC03 paid (lines)', count(distinct l.remit_claim_id), sum(l.paid)::decimal(18, 2)
from in_remit_lines l join recon_claims c using (remit_claim_id) group by all
union all
select c.file, c.payer, 'totals', 'CAS adjustments', count(distinct a.remit_claim_id), sum(a.amount)::decimal(18, 2)
from in_adjustments a join recon_claims c using (remit_claim_id) group by all
union all
select t.file, t.payer, 'totals', 'PLB provider-level (net)', count(*), sum(p.amount)::decimal(18, 2)
from in_provider_adjustments p join recon_txn t using (transaction_id) group by all
union all
select file, payer, 'totals', 'BPR02 payment', count(*), sum(payment_amount)::decimal(18, 2) from recon_txn group by all
)
-- the file's sha256 says which file it is (a re-import replaces its rows in the worklist store)
select r.*, f.file_sha256
from rows_ r left join (select file, any_value(file_sha256) as file_sha256 from recon_txn group by all) f using (file)
"""

DENIED_SQL = """
create or replace temp table denied as
with targets as (
    -- every denied claim (and a claim without lines paid nothing), and every line paid nothing
    -- on a claim that was not reversed
    select remit_claim_id, null::integer as line_index, 'claim' as level, total_charge as charge
    from in_remit_claims rc
    where claim_status = '4'
       or (claim_status <> '22' and paid = 0 and total_charge > 0
           and not exists (select 1 from in_remit_lines l where l.remit_claim_id = rc.remit_claim_id))
    union all
    select l.remit_claim_id, l.line_index, 'line', l.charge
    from in_remit_lines l join in_remit_claims rc using (remit_claim_id)
    where l.paid = 0 and l.charge > 0 and rc.claim_status not in ('4', '22')
)
select t.level, rc.patient_control_number, rc.payer_claim_control_number, rc.claim_status, t.line_index,
       rl.procedure_code, t.charge::decimal(18, 2) as charge,
       coalesce(sum(x.amount) filter (where x.disposition = 'worklist'), 0)::decimal(18, 2) as worklist,
       coalesce(sum(x.amount) filter (where x.disposition = 'patient_share'), 0)::decimal(18, 2) as patient_share,
       coalesce(sum(x.amount) filter (where x.disposition = 'no_action'), 0)::decimal(18, 2) as no_action,
       coalesce(sum(x.amount) filter (where x.disposition = 'written_off'), 0)::decimal(18, 2) as written_off,
       coalesce(sum(x.amount) filter (where x.disposition = 'paid'), 0)::decimal(18, 2) as paid,
       coalesce(sum(x.amount) filter (where x.disposition = 'unbalanced'), 0)::decimal(18, 2) as unbalanced,
       string_agg(distinct x.item_id, ' ' order by x.item_id) as item_ids,
       string_agg(distinct x.detail, '; ' order by x.detail)
           filter (where x.disposition in ('no_action', 'written_off')) as no_action_reasons,
       t.remit_claim_id
from targets t join in_remit_claims rc using (remit_claim_id)
left join in_remit_lines rl on rl.remit_claim_id = t.remit_claim_id and rl.line_index = t.line_index
left join dispositions x on x.remit_claim_id = t.remit_claim_id and (t.level = 'claim' or x.line_index = t.line_index)
group by t.level, t.remit_claim_id, t.line_index, rc.patient_control_number, rc.payer_claim_control_number,
         rc.claim_status, rl.procedure_code, t.charge
order by rc.patient_control_number, t.remit_claim_id, t.line_index nulls first
"""


def _values(pairs) -> str:
    return ", ".join("(" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in pair) + ")" for pair in pairs)


def reconcile(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``dispositions``, ``reconciliation`` and ``denied`` on the run's connection (after
    ``items_final``)."""
    con.execute(DISPOSITION_SQL.format(labels=_values(NO_ACTION_LABELS.items())))
    con.execute(RECONCILIATION_SQL.format(statuses=_values(STATUS_LABELS.items())))
    con.execute(DENIED_SQL)


def text_lines(table, detail_limit: int = 10) -> list[str]:
    """The reconciliation as text, per file and payer: the 835's totals, claims by status, CAS by
    group, where the dollars went, PLB by reason code, and whether each section ties (the
    sections only for the first ``detail_limit`` files and payers; the CSV has them all)."""
    from collections import defaultdict
    from decimal import Decimal
    from pathlib import Path

    groups: dict = defaultdict(list)
    for row in table.to_pylist():
        groups[(row["file"], row["payer"])].append(row)
    titles = {"status": "claims by status (CLP02, CLP03)", "cas_group": "adjustments by group (CAS)",
              "disposition": "where the charged dollars went", "plb": "provider-level (PLB) by reason code"}
    out = []
    for n, ((file, payer), rows) in enumerate(groups.items()):
        totals = {r["item"]: r["amount"] for r in rows if r["section"] == "totals"}
        sums: dict = defaultdict(Decimal)
        for r in rows:
            sums[r["section"]] += r["amount"]
        charges, cas, plb = (totals.get(k, Decimal(0)) for k in ("CLP03 charges", "CAS adjustments",
                                                                 "PLB provider-level (net)"))
        ok = sums["status"] == charges == sums["disposition"] and sums["cas_group"] == cas and sums["plb"] == plb
        if "BPR02 payment" in totals:
            ok = ok and totals.get("CLP04 paid", Decimal(0)) - plb == totals["BPR02 payment"]
        out.append(f"{Path(file).name} / {payer}: " + ", ".join(f"{k} ${v:,.2f}" for k, v in totals.items())
                   + ("  -> ties to the cent" if ok else "  -> DOES NOT TIE: see summary-reconciliation.csv"))
        if n >= detail_limit:  # the one-line tie check for every file; the sections are in the CSV
            continue
        for section, title in titles.items():
            part = [r for r in rows if r["section"] == section]
            if part:
                out.append(f"  {title}:")
                out += [f"    {r['item']:<78} {r['claims']:>6}  ${r['amount']:>14,.2f}" for r in part]
    return out
