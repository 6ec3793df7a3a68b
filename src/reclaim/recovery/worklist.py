"""Worklist items: one row per recoverable item, with action, deadline and priority.

Items come from five sources (``kind``):

* ``denial`` / ``partial_denial`` / ``unmapped``: a remit line (or claim-level CAS) with money
  in those categories that the taxonomy marks recoverable (CO-29 timely filing is not: it is
  listed in ``write_offs`` instead); the largest adjustment names the reason;
* ``patient_responsibility``: the PR total of a claim (bill the secondary payer or patient);
* ``underpayment``: a paid line whose shortfall exceeds the threshold;
* ``recoupment``: a reversal (CLP02 = 22) not fully re-paid in the same remittances (unless the
  re-adjudication carries its own denial item: that item holds the dispute), or a net positive
  PLB recovery (:mod:`.plb`: offsetting entries, allowances and balances forward are not).

Action: the taxonomy's Medicare or commercial action, by the payer's terms. Deadline: the
terms' rule for that action, counted from the remittance date (BPR16, else DTM*405) or the
date of service. Priority score = amount at stake x odds of recovery x urgency, where urgency
is 1 with no deadline or more than 90 days left, rising linearly to 2 on the deadline day, and
0 once the deadline has passed (the item stays listed, marked ``deadline_passed``).

Natural key (re-importing the same 835 changes nothing; :data:`NATURAL_KEY_PARTS`): payer id,
payment trace (TRN02), CLP01, CLP07, CLP02 and the claim's occurrence among claims sharing those
in its transaction, the line (SVC position), the kind and the adjustment (group-CARC, or the PLB
reference): what identifies the same problem in the payer's terms, not the file it came in. Two
claims never share a key; the same claim in two payments (or under two payers) keeps both.
"""

from __future__ import annotations

import datetime as dt

import duckdb

#: default odds for the kinds the taxonomy does not price (industry practice, UNVERIFIED:
#: domain-facts 9.2 "U"); observed rates replace them once the worklist has history
DEFAULT_ODDS = {"underpayment": 0.60, "recoupment": 0.20}
#: days before a deadline when urgency starts rising
URGENCY_WINDOW_DAYS = 90
#: resolved items a (payer, kind, reason) needs before observed rates weigh as much as defaults
PRIOR_WEIGHT = 5

ITEMS_SQL = """
create or replace temp table item_base as
with loss as (
    select d.remit_claim_id, d.line_index, d.category as kind,
           sum(d.amount) over w as amount,
           d.group_code || '-' || d.reason_code as reason,
           string_agg(distinct d.group_code || '-' || d.reason_code, ' ') over w as reasons,
           d.rarcs, d.denial_reason, d.edit_category, d.medicare_action, d.commercial_action,
           d.default_odds, t.explanation, d.reason_code as carc
    from dollars d join taxonomy t on t.rule_id = d.rule_id
    where d.source = 'CAS' and d.category in ('denial', 'partial_denial', 'unmapped') and d.recoverable
    window w as (partition by d.remit_claim_id, d.line_index, d.category)
    qualify row_number() over (partition by d.remit_claim_id, d.line_index, d.category
                               order by d.amount desc, d.reason_code) = 1
), pr as (
    select remit_claim_id, null::integer as line_index, 'patient_responsibility' as kind,
           sum(amount) as amount, arg_max(group_code || '-' || reason_code, amount) as reason,
           string_agg(distinct group_code || '-' || reason_code, ' ') as reasons,
           null as rarcs, null as denial_reason, null as edit_category,
           'bill_patient_or_secondary' as medicare_action, 'bill_patient_or_secondary' as commercial_action,
           max(default_odds) as default_odds,
           'Patient responsibility (deductible, coinsurance, copay): bill the secondary payer, or the patient.' as explanation,
           arg_max(reason_code, amount) as carc
    from dollars where category = 'patient_responsibility' and source = 'CAS'
    group by remit_claim_id having sum(amount) > 0
), line_contractual as (
    -- an underpayment is money the payer kept as a contractual reduction: at stake is never
    -- more than what the line was reduced by (the 835's own dollars)
    select remit_claim_id, line_index, sum(amount) as contractual
    from dollars where category = 'contractual' and line_index is not null group by all
), under as (
    select u.*, least(u.shortfall, coalesce(lc.contractual, 0)) as at_stake
    from underpayments u left join line_contractual lc using (remit_claim_id, line_index)
), under_items as (
    select remit_claim_id, line_index, 'underpayment' as kind, at_stake as amount,
           'expected ' || expected_paid || ', paid ' || paid as reason, null as reasons, null as rarcs,
           'underpayment' as denial_reason, 'payment' as edit_category,
           'dispute_underpayment' as medicare_action, 'dispute_underpayment' as commercial_action,
           {under_odds} as default_odds,
           'Paid ' || paid || ' but the ' || coalesce(terms_name, 'payer') || ' terms give '
             || expected_paid || ' (' || units_allowed::double || ' units at '
             || coalesce(payment_limit::varchar, fee::varchar) || ' per unit'
             || case when coinsurance_mode = 'asp_file'
                     then ', coinsurance ' || coinsurance_pct || '% from ASP ' || asp_release
                          || ', sequestration ' || sequestration_pct || '%' else '' end
             || ').' as explanation,
           null as carc
    from under where at_stake > {threshold}
), reversal as (
    select rv.remit_claim_id, null::integer as line_index, 'recoupment' as kind,
           (-rv.paid - coalesce(sum(rp.paid), 0))::decimal(18, 2) as amount,
           'CLP02-22' as reason, null as reasons, null as rarcs, 'reversal' as denial_reason, null as edit_category,
           'review_recoupment' as medicare_action, 'review_recoupment' as commercial_action,
           {recoup_odds} as default_odds,
           'Previous payment reversed (CLP02 = 22) and not re-paid in full in these remittances: check the payer''s reason and dispute it if the original payment was right.' as explanation,
           null as carc
    from remit_claims rv
    left join remit_claims rp
      on rp.patient_control_number = rv.patient_control_number and rp.claim_status <> '22'
     and rp.remit_claim_id <> rv.remit_claim_id
    where rv.claim_status = '22'
      -- a re-adjudication that carries its own denial item already holds the dispute (the
      -- units cut, the code denied): the same dollars are not a second, recoupment item
      and not exists (select 1 from loss l join remit_claims rp2 using (remit_claim_id)
                      where rp2.patient_control_number = rv.patient_control_number and rp2.claim_status <> '22')
    group by rv.remit_claim_id, rv.paid
    having -rv.paid - coalesce(sum(rp.paid), 0) > 0
)
select * from loss union all by name select * from pr
union all by name select * from under_items union all by name select * from reversal
"""

ENRICH_SQL = """
create or replace temp table items as
with base as (
    select b.*, rc.patient_control_number, rc.payer_claim_control_number, rc.claim_status,
           rc.file_id, rc.transaction_id, p.payer_id, p.payer_name, rc.claim_filing_indicator,
           p.payer_address_1, p.payer_address_2, p.payer_city, p.payer_state, p.payer_zip,
           p.payer_contact_function, p.payer_contact_name, p.payer_contact_phone, p.payer_contact_email,
           p.payee_name, p.payee_id_qualifier, p.payee_id,
           coalesce(p.payment_date, p.production_date) as remit_date, p.trace_number,
           rl.line_control_number, rl.procedure_code, rl.modifier_1, rl.modifier_2,
           coalesce(rl.units_paid, rl.original_units) as units_paid, rl.charge as line_charge, rl.paid as line_paid,
           coalesce(rl.service_date, lm_line.service_date, rc.statement_from, first_dos.dos) as service_date,
           cm.claim_id, lm.line_number, rt.terms_id, tp.terms_name, tp.coinsurance_mode,
           -- a PLB item's id (it has no remit claim): keyed by what the payer sent
           null::varchar as plb_key
    from item_base b
    join remit_claims rc using (remit_claim_id)
    left join payments p using (transaction_id)
    left join remit_lines rl on rl.remit_claim_id = b.remit_claim_id and rl.line_index = b.line_index
    left join claim_match cm on cm.remit_claim_id = b.remit_claim_id
    left join line_match lm on lm.remit_claim_id = b.remit_claim_id and lm.line_index = b.line_index
    left join lines lm_line on lm_line.claim_id = lm.claim_id and lm_line.line_number = lm.line_number
    left join (select remit_claim_id, min(service_date) as dos from remit_lines group by all) first_dos
           on first_dos.remit_claim_id = b.remit_claim_id
    left join remit_terms rt on rt.remit_claim_id = b.remit_claim_id
    left join terms_pricing tp on tp.terms_id = rt.terms_id
), act as (
    select *, case when coinsurance_mode = 'asp_file' then medicare_action else commercial_action end as action
    from base
), dl as (
    select a.*, d.source as deadline_rule,
           case when d.from_ = 'determination' then a.remit_date
                when d.from_ = 'service_date' then a.service_date end as deadline_start,
           d.days, d.months
    from act a left join terms_deadlines d on d.terms_id = a.terms_id and d.action = a.action
)
select *,
       (deadline_start + to_days(coalesce(days, 0)) + to_months(coalesce(months, 0)))::date as deadline
from dl
"""

PLB_ITEMS_SQL = """
insert into items by name
-- one item per net recovery (plb_net: entries under one reference netted, allowances and
-- balances carried forward are not recoupments); keyed by what the payer sent, not by the file
select 'PLB:' || coalesce(p.provider_id, '') || ':' || coalesce(p.fiscal_period_date::varchar, '') || ':'
       || p.reason_code || ':' || coalesce(p.reference, '') as plb_key,
       'recoupment' as kind, p.amount, 'PLB-' || p.reason_code as reason,
       'provider_level' as denial_reason, 'review_recoupment' as action,
       'review_recoupment' as medicare_action, 'review_recoupment' as commercial_action,
       {recoup_odds} as default_odds,
       'Provider-level adjustment (PLB ' || p.reason_code || coalesce(' ' || lower(p.meaning), '')
         || coalesce(', reference ' || p.reference, '')
         || '): money offset from this payment. Check which claim it recovers and dispute it if not owed.' as explanation,
       p.file_id, p.transaction_id, pay.payer_id, pay.payer_name,
       pay.payer_address_1, pay.payer_address_2, pay.payer_city, pay.payer_state, pay.payer_zip,
       pay.payer_contact_function, pay.payer_contact_name, pay.payer_contact_phone, pay.payer_contact_email,
       coalesce(pay.payment_date, pay.production_date) as remit_date, pay.trace_number,
       p.reason_code as carc
from plb_net p left join payments pay using (transaction_id)
where p.disposition = 'worklist'
"""


WRITE_OFFS_SQL = """
create or replace temp table write_offs as
select d.remit_claim_id, d.line_index, rc.patient_control_number, rc.payer_claim_control_number,
       rl.procedure_code, string_agg(d.group_code || '-' || d.reason_code, ' ') as reasons,
       sum(d.amount)::decimal(18, 2) as amount, any_value(t.explanation) as explanation
from dollars d join remit_claims rc using (remit_claim_id) join taxonomy t on t.rule_id = d.rule_id
left join remit_lines rl on rl.remit_claim_id = d.remit_claim_id and rl.line_index = d.line_index
where d.source = 'CAS' and d.category in ('denial', 'partial_denial') and not d.recoverable
group by all
"""


def build_items(con: duckdb.DuckDBPyConnection, *, threshold: float) -> None:
    """Create ``items`` (before root cause, odds and priority) and ``write_offs`` on ``con``."""
    con.execute(WRITE_OFFS_SQL)
    con.execute(ITEMS_SQL.format(threshold=float(threshold), under_odds=DEFAULT_ODDS["underpayment"],
                                 recoup_odds=DEFAULT_ODDS["recoupment"]))
    con.execute(ENRICH_SQL)
    con.execute(PLB_ITEMS_SQL.format(recoup_odds=DEFAULT_ODDS["recoupment"]))


KEY_SQL = """
create or replace temp table items_keyed as
with occurrence as (
    -- the n-th claim with the same CLP01, CLP07 and CLP02 in its payment (a payer can send one
    -- patient control number for several patients' claims, as the TR3's dental example does)
    select rc.remit_claim_id,
           row_number() over (partition by coalesce(p.payer_id, ''), coalesce(p.trace_number, ''),
                                           rc.patient_control_number, rc.payer_claim_control_number, rc.claim_status
                              order by rc.transaction_id, rc.remit_claim_id) as occurrence
    from remit_claims rc left join payments p using (transaction_id)
)
select i.*,
       concat_ws('|', coalesce(i.payer_id, ''), coalesce(i.trace_number, ''),
                 coalesce(i.patient_control_number, ''), coalesce(i.payer_claim_control_number, ''),
                 coalesce(i.claim_status, ''), coalesce(o.occurrence::varchar, ''),
                 coalesce(i.line_index::varchar, ''), i.kind,
                 case when i.plb_key is not null then i.plb_key
                      when i.kind = 'underpayment' then ''
                      else coalesce(i.reason, '') end) as key0
from items i left join occurrence o using (remit_claim_id);

-- safety net: whatever the payer repeated (one PLB reference in two transactions of one
-- payment...), two items never share a key; the n-th repeat gets '#n'
create or replace temp table items_keyed as
select * exclude (key0, n),
       key0 || case when n > 1 then '#' || n else '' end as natural_key
from (select *, row_number() over (partition by key0 order by transaction_id, remit_claim_id, amount) as n
      from items_keyed)
"""

#: what makes a worklist item itself (documented for the kinds other steps add, e.g. 999/277
#: acknowledgments): the payer, the payment (TRN02 trace), the claim as the payer names it
#: (CLP01, CLP07, CLP02 and its occurrence among claims sharing those in the transaction), the
#: line (SVC position), the kind, and the adjustment (group-CARC; PLB: provider, fiscal period,
#: reason, reference). ``item_id`` = the first 12 hex digits of its sha256.
NATURAL_KEY_PARTS = ("payer_id", "trace_number", "patient_control_number", "payer_claim_control_number",
                     "claim_status", "occurrence", "line_index", "kind", "adjustment")


def prioritize(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, observed=None) -> None:
    """Add ``natural_key``, ``item_id``, ``odds``, ``days_left``, ``deadline_passed`` and
    ``priority`` to the items (table ``worklist``; ranked when read, see ``engine.RESULT_SQL``).

    ``observed``: an Arrow table (payer_id, kind, reason, recovered, resolved) of past outcomes
    from the worklist store; odds = (recovered + PRIOR_WEIGHT x default) / (resolved + PRIOR_WEIGHT).
    """
    con.execute(KEY_SQL)
    if observed is None:
        con.execute("create or replace temp table observed as select null::varchar as payer_id, "
                    "null::varchar as kind, null::varchar as reason, 0 as recovered, 0 as resolved where false")
    else:
        con.register("observed_arrow", observed)
        con.execute("create or replace temp table observed as select * from observed_arrow")
    con.execute(f"""
    create or replace temp table worklist as
    with o as (
        select i.*, coalesce(ob.recovered, 0) as observed_recovered, coalesce(ob.resolved, 0) as observed_resolved,
               (coalesce(ob.recovered, 0) + {PRIOR_WEIGHT} * i.default_odds)
                 / (coalesce(ob.resolved, 0) + {PRIOR_WEIGHT}) as odds,
               (i.deadline - date '{as_of.isoformat()}')::integer as days_left
        from items_keyed i
        left join observed ob on coalesce(ob.payer_id, '') = coalesce(i.payer_id, '') and ob.kind = i.kind
             and coalesce(ob.reason, '') = coalesce(i.reason, '')
    )
    select substr(sha256(natural_key), 1, 12) as item_id, *,
           coalesce(days_left < 0, false) as deadline_passed,
           round(amount::double * odds *
                 case when days_left is null then 1.0
                      when days_left < 0 then 0.0
                      when days_left >= {URGENCY_WINDOW_DAYS} then 1.0
                      else 1.0 + ({URGENCY_WINDOW_DAYS} - days_left) / {URGENCY_WINDOW_DAYS}.0 end, 2) as priority
    from o
    """)
