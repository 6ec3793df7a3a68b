"""Match remittance claims and lines to the submitted claims and lines (DuckDB joins).

Claim level, best method first (a remit claim takes its best-ranked candidate):

1. ``clm01+charge+frequency``: CLP01 = CLM01, CLP03 = CLM02 and CLP09 = CLM05-3;
2. ``clm01+charge``: CLP01 = CLM01 and CLP03 = CLM02;
3. ``clm01``: CLP01 = CLM01 (the payer may have reprocessed part of the charge);
4. ``payer_claim_number``: CLP07 = REF*F8 of a submitted replacement/void claim (the remit
   answers the claim that the replacement points at, under another CLM01);
5. ``patient+dos+code+charge``: NM1*QC member id = the claim's patient/subscriber id, and a
   line with the same service date, procedure code and charge (CLP01 mistyped or reassigned).

Line level, inside the matched claim, one submitted line per remit line:

1. ``line_control_number``: REF*6R on the 835 = REF*6R on the 837;
2. ``code+dos+charge``: submitted procedure code (SVC06 when the payer changed it, else SVC01),
   service date and charge; duplicates pair up in order;
3. ``code+order``: same procedure code, paired in order (no date on the remit line).

Views created on the connection: ``claim_match`` (remit_claim_id, claim_id, claim_method),
``line_match`` (remit_claim_id, line_index, claim_id, line_number, line_method),
``unmatched`` (what could not be matched, with the identifiers the user holds).
"""

from __future__ import annotations

import duckdb

CLAIM_SQL = """
create or replace temp table claim_match as
with by_clm01 as (
    select r.remit_claim_id, c.claim_id,
           case when r.total_charge = c.total_charge
                     and coalesce(r.frequency_code, '1') = coalesce(c.frequency_code, '1') then 1
                when r.total_charge = c.total_charge then 2
                else 3 end as rank_
    from remit_claims r join claims c on r.patient_control_number = c.patient_control_number
), by_icn as (
    select r.remit_claim_id, c.claim_id, 4 as rank_
    from remit_claims r join claims c on r.payer_claim_control_number = c.original_claim_number
), rest as (
    -- the fallback only looks at remit claims nothing else matched (all joins are equi-joins)
    select r.remit_claim_id, r.patient_id from remit_claims r
    anti join (select remit_claim_id from by_clm01 union select remit_claim_id from by_icn) m using (remit_claim_id)
    where r.patient_id is not null
), members as (
    select claim_id, patient_id as member from claims where patient_id is not null
    union
    select claim_id, subscriber_id from claims where subscriber_id is not null
), pairs as materialized (
    -- remit claim x submitted claim of the same member first, so the date/code/charge test
    -- below runs inside those pairs (joining on date/code/charge first would be quadratic)
    select r.remit_claim_id, m.claim_id from rest r join members m on m.member = r.patient_id
), pair_lines as materialized (
    select p.remit_claim_id, p.claim_id, rl.service_date,
           coalesce(rl.original_procedure_code, rl.procedure_code) as code, rl.charge
    from pairs p join remit_lines rl on rl.remit_claim_id = p.remit_claim_id
), by_patient as (
    -- one hash join on (claim, date, code, charge)
    select distinct pl.remit_claim_id, pl.claim_id, 5 as rank_
    from pair_lines pl
    join lines cl on cl.claim_id = pl.claim_id and cl.service_date = pl.service_date
                 and cl.procedure_code = pl.code and cl.charge = pl.charge
)
select remit_claim_id, claim_id,
       ['clm01+charge+frequency', 'clm01+charge', 'clm01', 'payer_claim_number',
        'patient+dos+code+charge'][rank_] as claim_method
from (select * from by_clm01 union all select * from by_icn union all select * from by_patient)
qualify row_number() over (partition by remit_claim_id order by rank_, claim_id desc) = 1
"""

LINE_SQL = """
create or replace temp table line_match as
with rl as (
    select rl.remit_claim_id, rl.line_index, m.claim_id, rl.line_control_number,
           coalesce(rl.original_procedure_code, rl.procedure_code) as code,
           rl.service_date, rl.charge
    from remit_lines rl join claim_match m using (remit_claim_id)
), by_lcn as (
    select rl.remit_claim_id, rl.line_index, l.claim_id, l.line_number, 1 as rank_
    from rl join lines l on l.claim_id = rl.claim_id and l.line_control_number = rl.line_control_number
    where rl.line_control_number is not null
    qualify row_number() over (partition by rl.remit_claim_id, rl.line_index order by l.line_number) = 1
), rest1 as (
    select rl.* from rl anti join by_lcn b on b.remit_claim_id = rl.remit_claim_id and b.line_index = rl.line_index
), free1 as (
    select l.* from lines l semi join rl on rl.claim_id = l.claim_id
    anti join by_lcn b on b.claim_id = l.claim_id and b.line_number = l.line_number
), r_ord as (
    select *, row_number() over (partition by remit_claim_id, code, service_date, charge order by line_index) as ord
    from rest1 where service_date is not null
), l_ord as (
    select claim_id, line_number, procedure_code, service_date, charge,
           row_number() over (partition by claim_id, procedure_code, service_date, charge order by line_number) as ord
    from free1
), by_dos as (
    select r.remit_claim_id, r.line_index, l.claim_id, l.line_number, 2 as rank_
    from r_ord r join l_ord l
      on l.claim_id = r.claim_id and l.procedure_code = r.code and l.service_date = r.service_date
     and l.charge = r.charge and l.ord = r.ord
), rest2 as (
    select r.* from rest1 r anti join by_dos b on b.remit_claim_id = r.remit_claim_id and b.line_index = r.line_index
), free2 as (
    select f.* from free1 f anti join by_dos b on b.claim_id = f.claim_id and b.line_number = f.line_number
), by_order as (
    select r.remit_claim_id, r.line_index, l.claim_id, l.line_number, 3 as rank_
    from (select *, row_number() over (partition by remit_claim_id, code order by line_index) as ord from rest2) r
    join (select *, row_number() over (partition by claim_id, procedure_code order by line_number) as ord from free2) l
      on l.claim_id = r.claim_id and l.procedure_code = r.code and l.ord = r.ord
)
select remit_claim_id, line_index, claim_id, line_number,
       ['line_control_number', 'code+dos+charge', 'code+order'][rank_] as line_method
from (select * from by_lcn union all select * from by_dos union all select * from by_order)
"""

UNMATCHED_SQL = """
create or replace temp table unmatched as
select r.remit_claim_id, null::integer as line_index, r.patient_control_number,
       r.payer_claim_control_number, null::varchar as procedure_code, r.total_charge as charge,
       'claim' as level,
       'no submitted claim with CLM01 = CLP01, nor REF*F8 = CLP07, nor same member id + DOS + code + charge'
           as reason
from remit_claims r anti join claim_match m using (remit_claim_id)
union all
select rl.remit_claim_id, rl.line_index, r.patient_control_number, r.payer_claim_control_number,
       rl.procedure_code, rl.charge, 'line',
       'claim matched but no submitted line with the same REF*6R, nor code + DOS + charge, nor code'
from remit_lines rl
join remit_claims r using (remit_claim_id)
semi join claim_match m on m.remit_claim_id = rl.remit_claim_id
anti join line_match lm on lm.remit_claim_id = rl.remit_claim_id and lm.line_index = rl.line_index
"""


def match(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``claim_match``, ``line_match`` and ``unmatched`` on ``con``.

    ``con`` must have the views ``claims``, ``lines``, ``remit_claims``, ``remit_lines``.
    """
    con.execute(CLAIM_SQL)
    con.execute(LINE_SQL)
    con.execute(UNMATCHED_SQL)
