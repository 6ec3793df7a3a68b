"""Underpayments: what the payer should have paid for a drug line, against what it paid.

Expected payment, per matched drug line that was paid (not denied, not reversed):

* Medicare (terms ``coinsurance: asp_file``): expected allowed = ASP payment limit of the DOS
  quarter x units allowed (SVC05, else SVC07, else the submitted units); expected paid =
  (expected allowed - deductible on the line) x (1 - the code's official coinsurance % from the
  ASP file) x (1 - sequestration %). The coinsurance % is the file's, never an assumed 20%.
* Commercial (a terms entry with ``pricing``): expected allowed = percent x ASP payment limit x
  units, or the contract fee x units; expected paid = expected allowed - patient
  responsibility reported on the line - sequestration % (normally 0).

Actual allowed = AMT*B6 when sent, else SVC03 + patient responsibility + sequestration. A line
is underpaid when expected paid - paid exceeds the ``underpayment_threshold`` setting. Lines
whose code has no payment limit for the DOS quarter in the loaded releases are listed in
``unpriced`` (with the reason), never priced from another quarter.
"""

from __future__ import annotations

import duckdb

TERMS_SQL = """
create or replace temp table remit_terms as
with k as (
    select rc.remit_claim_id, coalesce(p.payer_id, c.payer_id) as payer_id,
           coalesce(rc.claim_filing_indicator, c.claim_filing_indicator) as filing_indicator
    from remit_claims rc
    left join payments p using (transaction_id)
    left join claim_match cm using (remit_claim_id)
    left join claims c on c.claim_id = cm.claim_id
), cand as (
    select k.remit_claim_id, tm.terms_id, tm.priority from k join terms_match tm on tm.payer_id = k.payer_id
    union all
    select k.remit_claim_id, tm.terms_id, tm.priority from k join terms_match tm on tm.filing_indicator = k.filing_indicator
    union all
    select k.remit_claim_id, tm.terms_id, tm.priority from k
    cross join (select * from terms_match where payer_id is null and filing_indicator is null) tm
)
select remit_claim_id, terms_id from cand
qualify row_number() over (partition by remit_claim_id order by priority) = 1
"""

LINE_MONEY_SQL = """
create or replace temp table line_money as
with adj as (
    select remit_claim_id, line_index,
           sum(amount) filter (where category = 'patient_responsibility') as patient_resp,
           sum(amount) filter (where category = 'patient_responsibility' and reason_code = '1') as deductible,
           sum(amount) filter (where category = 'sequestration') as sequestration,
           sum(amount) filter (where category in ('denial', 'partial_denial', 'unmapped')) as denied
    from dollars where source = 'CAS' and line_index is not null
    group by all
)
select rl.remit_claim_id, rl.line_index, lm.claim_id, lm.line_number,
       rl.procedure_code, rl.modifier_1, rl.modifier_2,
       coalesce(rl.service_date, l.service_date, rc.statement_from) as service_date,
       rl.charge, rl.paid,
       coalesce(rl.units_paid, rl.original_units, l.units) as units_allowed,
       coalesce(rl.allowed_amount,
                rl.paid + coalesce(a.patient_resp, 0) + coalesce(a.sequestration, 0)) as allowed,
       coalesce(a.patient_resp, 0) as patient_resp, coalesce(a.deductible, 0) as deductible,
       coalesce(a.sequestration, 0) as sequestration, coalesce(a.denied, 0) as denied,
       rt.terms_id, rc.claim_status
from remit_lines rl
join remit_claims rc using (remit_claim_id)
left join adj a on a.remit_claim_id = rl.remit_claim_id and a.line_index = rl.line_index
left join line_match lm on lm.remit_claim_id = rl.remit_claim_id and lm.line_index = rl.line_index
left join lines l on l.claim_id = lm.claim_id and l.line_number = lm.line_number
left join remit_terms rt on rt.remit_claim_id = rl.remit_claim_id
"""

EXPECTED_SQL = """
create or replace temp table priced as
select m.*, tp.terms_name, tp.basis, tp.percent, tp.sequestration_pct, tp.coinsurance_mode,
       tp.pricing_source, a.payment_limit, a.coinsurance_pct, a.release as asp_release, f.fee,
       case when tp.basis = 'asp_payment_limit' then a.payment_limit::double * m.units_allowed::double * tp.percent / 100
            when tp.basis = 'fee_schedule' then f.fee * m.units_allowed::double end as expected_allowed_raw
from line_money m
join terms_pricing tp using (terms_id)
left join asp a
  on a.hcpcs = m.procedure_code and m.service_date >= a.effective_from
 and (a.effective_to is null or m.service_date <= a.effective_to)
left join terms_fees f on f.terms_id = m.terms_id and f.hcpcs = m.procedure_code
where tp.basis is not null and m.claim_status <> '22' and m.paid > 0 and m.units_allowed is not null;

create or replace temp table unpriced as
select remit_claim_id, line_index, procedure_code, service_date, terms_id,
       case when basis = 'asp_payment_limit' and not exists (
                 select 1 from asp_quarters q where service_date >= q.effective_from
                    and (q.effective_to is null or service_date <= q.effective_to))
            then 'no ASP pricing quarter held covers the date of service (the newest held ends '
                 || coalesce((select cast(max(effective_to) as varchar) from asp_quarters), 'never: none is loaded')
                 || '): pull the quarter of the date (reclaim data pull --dataset asp)'
            when basis = 'asp_payment_limit'
            then 'no ASP payment limit for this code in the quarter of the date of service (loaded releases)'
            else 'no fee for this code in the contract terms' end as reason
from priced where expected_allowed_raw is null;

create or replace temp table underpayments as
with e as (
    select *, round(expected_allowed_raw, 2)::decimal(18, 2) as expected_allowed from priced
    where expected_allowed_raw is not null
), p as (
    select *,
           case when coinsurance_mode = 'asp_file'
                then round((expected_allowed::double - deductible::double)
                           * (1 - coinsurance_pct::double / 100) * (1 - sequestration_pct / 100), 2)
                else round((expected_allowed::double - patient_resp::double) * (1 - sequestration_pct / 100), 2)
           end::decimal(18, 2) as expected_paid
    from e
)
select *, (expected_paid - paid)::decimal(18, 2) as shortfall,
       (expected_allowed - allowed)::decimal(18, 2) as allowed_shortfall
from p
"""


def expected_payments(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``remit_terms``, ``line_money``, ``priced``, ``unpriced`` and ``underpayments``.

    Needs the views/tables of matching and classification, ``terms_*`` and ``asp``
    (the reference store's ``asp_pricing`` rows for the codes on the remittances).
    """
    con.execute(TERMS_SQL)
    con.execute(LINE_MONEY_SQL)
    con.execute(EXPECTED_SQL)
