"""Put every dollar of every remittance in exactly one category (DuckDB over Arrow).

Per claim, an 835 balances as ``CLP03 = CLP04 + sum(CAS amounts)`` (claim- and line-level CAS),
and per transaction ``BPR02 = sum(CLP04) - sum(PLB)`` (domain-facts 11). The ``dollars`` table
has one row per CAS amount and one per paid amount, so that summing it by category gives the
835's own totals:

* a CAS amount takes the category of its taxonomy rule (:mod:`reclaim.recovery.taxonomy`,
  ``rule_id``: the rule's texts stay in the taxonomy, not on every dollar);
  a ``denial`` on a line (or claim) that was still paid becomes ``partial_denial``;
* paid = SVC03 per line; a claim whose CLP04 differs from the sum of its SVC03 (claim-level
  CAS, claims without SVC) gets a claim-level ``paid`` row for the difference;
* everything on a reversal (CLP02 = 22) is ``reversal`` (amounts are negated by the payer);
* a claim that does not balance gets an ``unbalanced`` row for the difference, so nothing is
  lost and the summary shows it;
* PLB amounts go to the separate ``provider_dollars`` table (category ``provider_level``), and
  netted by reason code and reference into ``plb_net`` (:mod:`reclaim.recovery.plb`).
"""

from __future__ import annotations

import duckdb

from . import plb

RULES_SQL = """
create or replace temp table cas as
select a.*, row_number() over () as cas_id from adjustments a;

create or replace temp table cas_rarc as
select c.cas_id, rm.code as rarc
from cas c join remarks rm
  on rm.remit_claim_id = c.remit_claim_id
 and (rm.line_index = c.line_index or rm.line_index is null);

create or replace temp table cas_rule as
with cand as (
    -- rules for the CARC itself, plus the wildcard rules (equi-join + a tiny cross join)
    select c.cas_id, c.group_code as g, t.* from cas c join taxonomy t on t.carc = c.reason_code
    union all
    select c.cas_id, c.group_code, t.* from cas c cross join (select * from taxonomy where carc = '*') t
)
select k.cas_id, k.rule_id
from cand k
left join cas_rarc x on x.cas_id = k.cas_id and x.rarc = k.rarc
where (k.group_code = k.g or k.group_code = '*') and (k.rarc = '*' or x.rarc is not null)
qualify row_number() over (
    partition by k.cas_id
    order by (k.category <> 'unmapped') desc, (k.group_code <> '*') desc, (k.carc <> '*') desc,
             (k.rarc <> '*') desc) = 1;
"""

DOLLARS_SQL = """
create or replace temp table dollars as
with rarcs as (
    select remit_claim_id, line_index, string_agg(distinct code, ',' order by code) as rarcs
    from remarks group by all
), claim_rarcs as (
    select remit_claim_id, rarcs from rarcs where line_index is null
), svc_paid as (
    select remit_claim_id, sum(paid) as svc_paid, count(*) as n_lines from remit_lines group by all
), cas_sum as (
    select remit_claim_id, sum(amount) as cas_total from adjustments group by all
), cas_rows as (
    select c.remit_claim_id, c.line_index, 'CAS' as source, c.group_code, c.reason_code,
           c.amount, c.quantity,
           case when rc.claim_status = '22' then 'reversal'
                when t.category = 'denial'
                     and coalesce(rl.paid, rc.paid) <> 0 and rc.claim_status <> '4' then 'partial_denial'
                else t.category end as category,
           t.rule_id, t.category as rule_category, t.denial_reason, t.edit_category, t.recoverable,
           t.medicare_action, t.commercial_action, t.default_odds,
           coalesce(lr.rarcs, cr.rarcs) as rarcs
    from cas c
    join cas_rule r using (cas_id)
    join taxonomy t on t.rule_id = r.rule_id
    join remit_claims rc using (remit_claim_id)
    left join remit_lines rl on rl.remit_claim_id = c.remit_claim_id and rl.line_index = c.line_index
    left join rarcs lr on lr.remit_claim_id = c.remit_claim_id and lr.line_index = c.line_index
    left join claim_rarcs cr on cr.remit_claim_id = c.remit_claim_id
), paid_rows as (
    select rl.remit_claim_id, rl.line_index, 'SVC03' as source, rl.paid as amount
    from remit_lines rl
    union all
    select rc.remit_claim_id, null, 'CLP04', rc.paid - coalesce(s.svc_paid, 0)
    from remit_claims rc left join svc_paid s using (remit_claim_id)
    where rc.paid - coalesce(s.svc_paid, 0) <> 0
), unbalanced as (
    select rc.remit_claim_id, null::integer as line_index, 'CLP03' as source,
           rc.total_charge - rc.paid - coalesce(s.cas_total, 0) as amount
    from remit_claims rc left join cas_sum s using (remit_claim_id)
    where rc.total_charge - rc.paid - coalesce(s.cas_total, 0) <> 0
)
select remit_claim_id, line_index, source, group_code, reason_code, amount, quantity, category,
       rule_id, rule_category, denial_reason, edit_category, recoverable, medicare_action, commercial_action,
       default_odds, rarcs
from cas_rows
union all by name
select p.remit_claim_id, p.line_index, p.source, p.amount,
       case when rc.claim_status = '22' then 'reversal' else 'paid' end as category
from paid_rows p join remit_claims rc using (remit_claim_id)
union all by name
-- CLP03 - CLP04 - sum(CAS) is not zero: the 835 does not balance for this claim
select u.*, 'unbalanced' as category from unbalanced u;

create or replace temp table provider_dollars as
select p.*, 'provider_level' as category from provider_adjustments p;
"""


def classify(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``cas_rule``, ``dollars`` and ``provider_dollars`` on ``con``.

    ``con`` must have the remit views and ``taxonomy`` (see :func:`reclaim.recovery.taxonomy.load`).
    """
    con.execute(RULES_SQL)
    con.execute(DOLLARS_SQL)
    plb.net(con)
