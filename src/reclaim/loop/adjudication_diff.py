"""Submitted vs adjudicated, line by line: what the payer changed on each claim it paid or denied.

``adjudication_diff(claims, remits, *, store=None) -> AdjudicationDiff`` matches every 835 claim
and line to the 837 (the recovery matcher, :mod:`reclaim.recovery.matching`), then compares
them. Each difference is one row of ``findings`` (:data:`FINDINGS`), with ``kind``:

``code_changed``
    SVC01 (adjudicated) is another HCPCS code than the 837 line (SVC06 carries the original).
``modifier_dropped`` / ``modifier_added``
    a modifier of the 837 line is missing from SVC01, or SVC01 has one the line did not.
``units_cut``
    units paid (SVC05, summed over split lines) below the billed units (SV104) on a paid line.
``ndc_changed``
    the payer adjudicated on an NDC (SVC01-1 = N4) other than the one billed (LIN03).
``line_split``
    one submitted line came back as several SVC lines.
``line_bundled``
    a line paid 0 with CARC 97, B15 or 236 (included in another service's payment).
``line_not_adjudicated``
    a line of a matched claim that no SVC line answers.
``line_adjustments_unbalanced`` / ``claim_adjustments_unbalanced``
    SVC02 - line CAS != SVC03, or CLP04 != sum(SVC03) - claim-level CAS (domain-facts 11).

``dollar_effect`` is what the difference cost (positive = the practice received less); its
``dollar_basis`` says how it was computed: units cut x the rate paid for the other units,
the ASP payment limits in force of the two codes x units (a named release), the line's denied
amount, or the amount the 835 does not account for. ``expected`` says whether a rule explains
it (a code the billed NDC crosswalks to, a terminated modifier, units beyond what the NDC
quantity supports or the MUE, bundling, no payment effect); ``basis`` says which, so the rest
(``expected`` false) is worth disputing. ``by_payer`` summarizes the share of compared lines
each payer changes, per kind and code ("ACME HEALTH PLAN cuts J9271 units on 12% of lines").
Reversals (CLP02 = 22) are not compared: they restate an earlier payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pyarrow as pa

from ..claims.model import MONEY, QUANTITY, ClaimBatch, RemitBatch
from . import _common

FINDINGS = pa.schema(
    [
        ("kind", pa.string()),
        ("payer_id", pa.string()),
        ("payer_name", pa.string()),
        ("claim_id", pa.string()),
        ("patient_control_number", pa.string()),  # CLM01 = CLP01 (an identifier the practice holds)
        ("payer_claim_control_number", pa.string()),  # CLP07
        ("remit_claim_id", pa.string()),
        ("line_number", pa.int32()),  # 837 LX
        ("line_index", pa.int32()),  # 835 SVC position (first one for split lines)
        ("service_date", pa.date32()),
        ("procedure_code", pa.string()),  # as submitted
        ("submitted", pa.string()),  # what the 837 said (code:modifiers, units, NDC...)
        ("adjudicated", pa.string()),  # what the 835 says
        ("units_billed", QUANTITY),
        ("units_paid", QUANTITY),
        ("dollar_effect", MONEY),  # positive = paid less because of this difference; null = unknown
        ("dollar_basis", pa.string()),
        ("expected", pa.bool_()),
        ("basis", pa.string()),  # the rule that explains it, or why it is worth disputing
        ("reasons", pa.string()),  # the line's CAS group-CARC codes
        ("rarcs", pa.string()),
    ]
)

BY_PAYER = pa.schema(
    [
        ("payer_id", pa.string()),
        ("payer_name", pa.string()),
        ("kind", pa.string()),
        ("procedure_code", pa.string()),
        ("lines_compared", pa.int64()),  # this payer's adjudicated lines of this code
        ("lines_affected", pa.int64()),
        ("share", pa.float64()),
        ("dollars", MONEY),
        ("dollars_disputable", MONEY),  # paid less, not explained by a rule: never a negative effect
        ("dollars_in_favour", MONEY),  # differences that paid the practice more (reported, never disputed)
        ("summary", pa.string()),
    ]
)

#: CARCs that mean "included in the payment for another service" (domain-facts 9.2)
BUNDLING_CARCS = ("97", "B15", "236")

#: kind -> verb for the payer summary sentence
VERBS = {
    "code_changed": "changes the code of",
    "modifier_dropped": "drops a modifier on",
    "modifier_added": "adds a modifier on",
    "units_cut": "cuts units on",
    "ndc_changed": "adjudicates another NDC on",
    "line_split": "splits",
    "line_bundled": "bundles",
    "line_not_adjudicated": "does not report",
    "line_adjustments_unbalanced": "sends unbalanced adjustments on",
    "claim_adjustments_unbalanced": "sends claim totals that do not add up on",
}

PAIRS_SQL = """
create or replace temp table pairs as
with leftover as (
    -- remit lines the matcher left over (a split line's extra SVCs when there is no REF*6R)
    select rl.remit_claim_id, rl.line_index, coalesce(rl.original_procedure_code, rl.procedure_code) as code,
           rl.service_date
    from remit_lines rl anti join line_match x using (remit_claim_id, line_index)
), answered as (
    select distinct lm.remit_claim_id, lm.claim_id, lm.line_number, l.procedure_code, l.service_date
    from line_match lm join lines l on l.claim_id = lm.claim_id and l.line_number = lm.line_number
), split_rest as (
    -- the rest of a split line: same remit claim, code and date as a line another SVC answers
    select lo.remit_claim_id, lo.line_index, a.claim_id, a.line_number, 'split' as line_method
    from leftover lo join answered a on a.remit_claim_id = lo.remit_claim_id and a.procedure_code = lo.code
    where lo.service_date is null or a.service_date is null or a.service_date = lo.service_date
    qualify row_number() over (partition by lo.remit_claim_id, lo.line_index order by a.line_number) = 1
), lm as (
    select lm.* from (select * from line_match union all by name select * from split_rest) lm
    join remit_claims rc using (remit_claim_id)
    where coalesce(rc.claim_status, '') <> '22'
), line_cas as (
    select remit_claim_id, line_index,
           string_agg(group_code || '-' || reason_code, ' ' order by group_code, reason_code) as reasons,
           coalesce(sum(amount), 0) as cas_total,
           bool_or(reason_code in ({bundling})) as bundled
    from adjustments where line_index is not null group by all
), line_rarc as (
    select remit_claim_id, line_index, string_agg(distinct code, ' ' order by code) as rarcs
    from remarks where line_index is not null group by all
), line_loss as (
    select remit_claim_id, line_index, sum(amount) as denied
    from dollars where source = 'CAS' and category in ('denial', 'partial_denial') and line_index is not null
    group by all
)
select lm.remit_claim_id, lm.line_index, lm.claim_id, lm.line_number,
       p.payer_id, coalesce(p.payer_name, c.payer_name) as payer_name,
       c.patient_control_number, rc.payer_claim_control_number,
       coalesce(l.service_date, rl.service_date, c.statement_from) as dos,
       l.procedure_code as sub_code,
       list_filter([l.modifier_1, l.modifier_2, l.modifier_3, l.modifier_4], m -> m is not null) as sub_mods,
       l.units as sub_units, l.charge as sub_charge, l.ndc11 as sub_ndc, l.ndc_quantity as sub_ndc_qty,
       rl.procedure_qualifier as adj_qualifier,
       case when rl.procedure_qualifier = 'N4' then coalesce(rl.original_procedure_code, l.procedure_code)
            else rl.procedure_code end as adj_code,
       case when rl.procedure_qualifier = 'N4' then rl.procedure_code end as adj_ndc,
       case when rl.procedure_qualifier = 'N4'
            then list_filter([rl.original_modifier_1, rl.original_modifier_2, rl.original_modifier_3,
                              rl.original_modifier_4], m -> m is not null)
            else list_filter([rl.modifier_1, rl.modifier_2, rl.modifier_3, rl.modifier_4], m -> m is not null)
       end as adj_mods,
       rl.units_paid, rl.charge as adj_charge, rl.paid as adj_paid,
       coalesce(lc.cas_total, 0) as cas_total, coalesce(lc.bundled, false) as bundled,
       lc.reasons, lr.rarcs, coalesce(ll.denied, 0) as denied
from lm
join remit_lines rl using (remit_claim_id, line_index)
join remit_claims rc using (remit_claim_id)
left join payments p on p.transaction_id = rc.transaction_id
join lines l on l.claim_id = lm.claim_id and l.line_number = lm.line_number
join claims c on c.claim_id = lm.claim_id
left join line_cas lc using (remit_claim_id, line_index)
left join line_rarc lr using (remit_claim_id, line_index)
left join line_loss ll using (remit_claim_id, line_index)
"""

# one row per submitted line that the payer answered (split lines summed), with reference facts
PER_LINE_SQL = """
create or replace temp table per_line_base as
select claim_id, line_number, remit_claim_id,
       min(line_index) as line_index, count(*) as svc_lines,
       sum(units_paid) as units_paid, sum(adj_paid) as paid, sum(adj_charge) as adj_charge,
       sum(denied) as denied, bool_or(bundled) as bundled,
       string_agg(distinct reasons, ' ') as reasons, string_agg(distinct rarcs, ' ') as rarcs,
       any_value(payer_id) as payer_id, any_value(payer_name) as payer_name,
       any_value(patient_control_number) as patient_control_number,
       any_value(payer_claim_control_number) as payer_claim_control_number,
       any_value(dos) as dos, any_value(sub_code) as sub_code, any_value(sub_mods) as sub_mods,
       any_value(sub_units) as sub_units, any_value(sub_charge) as sub_charge,
       any_value(sub_ndc) as sub_ndc, any_value(sub_ndc_qty) as sub_ndc_qty,
       arg_min(adj_code, line_index) as adj_code, arg_min(adj_mods, line_index) as adj_mods,
       arg_min(adj_qualifier, line_index) as adj_qualifier, arg_min(adj_ndc, line_index) as adj_ndc
from pairs group by claim_id, line_number, remit_claim_id;

-- the reference facts in force, once per distinct (code, NDC, adjudicated code and NDC, date)
create or replace temp table line_ref as
with k as (select distinct sub_code, sub_ndc, adj_code, adj_ndc, dos from per_line_base),
xw as (
    select k.sub_code, k.sub_ndc, k.adj_code, k.adj_ndc, k.dos,
           max(x.billing_units) filter (where x.hcpcs = k.sub_code) as ndc_units_per_item,
           coalesce(bool_or(x.hcpcs = k.adj_code), false) as ndc_is_adj_code,
           coalesce(bool_or(x.hcpcs = k.sub_code), false) as ndc_is_sub_code,
           max(x.release) as xw_release
    from k join ref_ndc_crosswalk_dos x
      on x.ndc11 = k.sub_ndc and k.dos >= x.valid_from and (x.valid_to is null or k.dos < x.valid_to)
     and k.dos <= x.effective_to
    group by all
), adj_xw as (
    select k.adj_ndc, k.dos, list(distinct x.hcpcs) as adj_ndc_codes
    from (select distinct adj_ndc, dos from k where adj_ndc is not null) k
    join ref_ndc_crosswalk_dos x
      on x.ndc11 = k.adj_ndc and k.dos >= x.valid_from and (x.valid_to is null or k.dos < x.valid_to)
    group by all
)
select k.*, xw.ndc_units_per_item, coalesce(xw.ndc_is_adj_code, false) as ndc_is_adj_code,
       coalesce(xw.ndc_is_sub_code, false) as ndc_is_sub_code, xw.xw_release, ax.adj_ndc_codes,
       a1.payment_limit as sub_limit, a2.payment_limit as adj_limit, a1.release as asp_release,
       m.mue_value, m.release as mue_release, h.termination_date as sub_code_terminated
from k
left join xw on xw.sub_code is not distinct from k.sub_code and xw.sub_ndc is not distinct from k.sub_ndc
     and xw.adj_code is not distinct from k.adj_code and xw.adj_ndc is not distinct from k.adj_ndc and xw.dos is not distinct from k.dos
left join adj_xw ax on ax.adj_ndc = k.adj_ndc and ax.dos is not distinct from k.dos
left join ref_asp_pricing_dos a1 on a1.hcpcs = k.sub_code and k.dos >= a1.valid_from
     and (a1.valid_to is null or k.dos < a1.valid_to) and k.dos <= a1.effective_to
left join ref_asp_pricing_dos a2 on a2.hcpcs = k.adj_code and k.dos >= a2.valid_from
     and (a2.valid_to is null or k.dos < a2.valid_to) and k.dos <= a2.effective_to
left join ref_mue_dos m on m.hcpcs = k.sub_code and m.setting = 'practitioner' and k.dos >= m.valid_from
     and (m.valid_to is null or k.dos < m.valid_to)
left join hcpcs_latest h on h.code = k.sub_code and h.termination_date < k.dos;

create or replace temp table per_line as
select b.*, r.* exclude (sub_code, sub_ndc, adj_code, adj_ndc, dos),
       least(b.sub_units, coalesce(b.sub_ndc_qty * r.ndc_units_per_item, b.sub_units)) as entitled_units
from per_line_base b
left join line_ref r on r.sub_code is not distinct from b.sub_code and r.sub_ndc is not distinct from b.sub_ndc
     and r.adj_code is not distinct from b.adj_code and r.adj_ndc is not distinct from b.adj_ndc
     and r.dos is not distinct from b.dos;
"""

FINDINGS_SQL = """
create or replace temp table findings as
with code_changed as (
    select *, 'code_changed' as kind,
           sub_code || ' ' || sub_units::double || ' units' as submitted,
           adj_code || ' ' || units_paid::double || ' units' as adjudicated,
           case when sub_limit is not null and adj_limit is not null
                then round((sub_limit - adj_limit) * units_paid, 2) end as dollar_effect,
           case when sub_limit is not null and adj_limit is not null
                then 'ASP ' || asp_release || ' payment limits: ' || sub_code || ' ' || sub_limit::varchar
                     || ', ' || adj_code || ' ' || adj_limit::varchar || ' per unit, x ' || units_paid::double || ' units'
                else 'no ASP payment limit in force for both codes: effect unknown' end as dollar_basis,
           case when sub_code_terminated is not null then true
                when ndc_is_adj_code and not ndc_is_sub_code then true
                else false end as expected,
           case when sub_code_terminated is not null
                     then sub_code || ' was terminated on ' || sub_code_terminated::varchar || ' (HCPCS): the payer used a valid code'
                when ndc_is_adj_code and not ndc_is_sub_code
                     then 'the billed NDC crosswalks to ' || adj_code || ', not ' || sub_code || ' (ASP crosswalk ' || xw_release || '): bill ' || adj_code
                when ndc_is_sub_code
                     then 'the billed NDC crosswalks to ' || sub_code || ' (ASP crosswalk ' || xw_release || '): dispute the recoding'
                else 'no rule explains the recoding: ask the payer for the policy, dispute if none' end as basis
    from per_line where adj_code <> sub_code
), mods as (
    select *, unnest(list_filter(sub_mods, m -> not list_contains(adj_mods, m))) as modifier, 'modifier_dropped' as kind
    from per_line where adj_code = sub_code
    union all
    select *, unnest(list_filter(adj_mods, m -> not list_contains(sub_mods, m))) as modifier, 'modifier_added' as kind
    from per_line where adj_code = sub_code
), mods_out as (
    select m.*, sub_code || coalesce(':' || nullif(array_to_string(sub_mods, ':'), ''), '') as submitted,
           adj_code || coalesce(':' || nullif(array_to_string(adj_mods, ':'), ''), '') as adjudicated,
           denied as dollar_effect,
           case when denied > 0 then 'amount denied on the line' else 'no amount denied on the line' end as dollar_basis,
           (h.mod_terminated is not null or denied = 0) as expected,
           case when h.mod_terminated is not null
                     then modifier || ' was terminated on ' || h.mod_terminated::varchar || ' (HCPCS): invalid on this date of service'
                when denied = 0 then 'no payment effect'
                when kind = 'modifier_dropped' then 'the line was reduced after the payer dropped ' || modifier || ': dispute with the documentation supporting it'
                else 'the line was reduced after the payer added ' || modifier || ': ask why' end as basis
    from mods m
    left join (select code as mod_code, termination_date as mod_terminated from hcpcs_latest) h
           on h.mod_code = m.modifier and h.mod_terminated < m.dos
), units_cut as (
    select *, 'units_cut' as kind,
           sub_code || ' ' || sub_units::double || ' units' || coalesce(', NDC ' || sub_ndc || ' x ' || sub_ndc_qty::double, '') as submitted,
           units_paid::double || ' units paid' as adjudicated,
           round(paid / units_paid * greatest(least(entitled_units, coalesce(mue_value, entitled_units)) - units_paid, 0), 2)
               as dollar_effect,
           'units cut that the NDC quantity and MUE support (' || greatest(least(entitled_units, coalesce(mue_value, entitled_units)) - units_paid, 0)::double
               || ') x the rate paid for the other units (' || round(paid / units_paid, 4)::varchar || ' per unit)' as dollar_basis,
           case when ndc_units_per_item is not null and sub_ndc_qty is not null
                     and sub_units > sub_ndc_qty * ndc_units_per_item then true
                when mue_value is not null and units_paid >= mue_value and sub_units > mue_value then true
                else false end as expected,
           case when ndc_units_per_item is not null and sub_ndc_qty is not null
                     and sub_units > sub_ndc_qty * ndc_units_per_item
                     then 'billed ' || sub_units::double || ' units but the NDC quantity ' || sub_ndc_qty::double
                          || ' x ' || ndc_units_per_item::double || ' units per item (ASP crosswalk ' || xw_release
                          || ') supports ' || (sub_ndc_qty * ndc_units_per_item)::double || ': correct the units'
                when mue_value is not null and units_paid >= mue_value and sub_units > mue_value
                     then 'paid up to the MUE of ' || mue_value::varchar || ' (' || mue_release || ')'
                when ndc_units_per_item is not null and sub_ndc_qty is not null
                     then 'the NDC quantity ' || sub_ndc_qty::double || ' x ' || ndc_units_per_item::double
                          || ' units per item (ASP crosswalk ' || xw_release || ') supports the billed units: dispute'
                else 'no rule explains the cut: dispute with the administration record' end as basis
    from per_line where paid > 0 and units_paid < sub_units
), ndc_changed as (
    select *, 'ndc_changed' as kind,
           'NDC ' || coalesce(sub_ndc, '(none)') as submitted, 'NDC ' || adj_ndc as adjudicated,
           denied as dollar_effect,
           case when denied > 0 then 'amount denied on the line' else 'no amount denied on the line' end as dollar_basis,
           (list_contains(coalesce(adj_ndc_codes, []), sub_code) and denied = 0) as expected,
           case when list_contains(coalesce(adj_ndc_codes, []), sub_code) and denied = 0
                     then 'both NDCs crosswalk to ' || sub_code || ': no payment effect'
                when list_contains(coalesce(adj_ndc_codes, []), sub_code)
                     then 'both NDCs crosswalk to ' || sub_code || ' yet the line was reduced: dispute'
                else 'the adjudicated NDC does not crosswalk to ' || sub_code || ' on this date: dispute' end as basis
    from per_line where adj_ndc is not null and adj_ndc is distinct from sub_ndc
), split as (
    select *, 'line_split' as kind,
           sub_code || ' ' || sub_units::double || ' units, charge ' || sub_charge::varchar as submitted,
           svc_lines || ' SVC lines, ' || units_paid::double || ' units, charge ' || adj_charge::varchar as adjudicated,
           0::decimal(18, 2) as dollar_effect, 'the split itself moves no money (see units_cut)' as dollar_basis,
           true as expected, 'payers may report one line as several (TR3 2110 loop per adjudicated service)' as basis
    from per_line where svc_lines > 1
), bundled as (
    select *, 'line_bundled' as kind,
           sub_code || ' ' || sub_units::double || ' units' as submitted, 'paid 0 (' || reasons || ')' as adjudicated,
           case when sub_limit is not null then round(sub_limit * sub_units, 2) end as dollar_effect,
           case when sub_limit is not null
                then 'ASP ' || asp_release || ' payment limit ' || sub_limit::varchar || ' x ' || sub_units::double || ' units'
                else 'no ASP payment limit in force: effect unknown' end as dollar_basis,
           true as expected,
           'included in the payment for another service (CARC 97/B15/236): dispute only if the service was distinct' as basis
    from per_line where paid = 0 and bundled
), line_unbalanced as (
    select p.*, 'line_adjustments_unbalanced' as kind,
           'charge ' || p.adj_charge::varchar as submitted,
           'paid ' || p.adj_paid::varchar || ', adjustments ' || p.cas_total::varchar as adjudicated,
           p.adj_charge - p.cas_total - p.adj_paid as dollar_effect,
           'SVC02 - sum(line CAS) - SVC03' as dollar_basis, false as expected,
           'the 835 line does not balance (domain-facts 11): ask the payer to account for the difference' as basis
    from pairs p where p.adj_charge - p.cas_total <> p.adj_paid
), remit_with_lines as (
    select distinct remit_claim_id from remit_lines
), answered_lines as (
    select distinct claim_id, line_number from line_match
), not_adjudicated as (
    select l.claim_id, l.line_number, cm.remit_claim_id, null::integer as line_index,
           p.payer_id, coalesce(p.payer_name, c.payer_name) as payer_name, c.patient_control_number,
           rc.payer_claim_control_number, coalesce(l.service_date, c.statement_from) as dos,
           l.procedure_code as sub_code, l.units as sub_units, null::decimal(18, 3) as units_paid,
           null as reasons, null as rarcs, 'line_not_adjudicated' as kind,
           l.procedure_code || ' ' || l.units::double || ' units, charge ' || l.charge::varchar as submitted,
           'no SVC line' as adjudicated, l.charge as dollar_effect, 'the line charge, not accounted for' as dollar_basis,
           false as expected, 'the payer did not report this line: ask for its adjudication' as basis
    from claim_match cm
    semi join remit_with_lines w on w.remit_claim_id = cm.remit_claim_id
    join remit_claims rc on rc.remit_claim_id = cm.remit_claim_id
    left join payments p on p.transaction_id = rc.transaction_id
    join claims c on c.claim_id = cm.claim_id
    join lines l on l.claim_id = cm.claim_id
    anti join answered_lines a on a.claim_id = l.claim_id and a.line_number = l.line_number
    where coalesce(rc.claim_status, '') <> '22'
), svc_sum as (
    select remit_claim_id, sum(paid) as svc_paid from remit_lines group by remit_claim_id
), claim_cas_sum as (
    select remit_claim_id, sum(amount) as claim_cas from adjustments where line_index is null group by remit_claim_id
), claim_sums as (
    select rc.remit_claim_id, rc.total_charge, rc.paid, rc.payer_claim_control_number, rc.patient_control_number,
           rc.transaction_id, s.svc_paid, coalesce(a.claim_cas, 0) as claim_cas
    from remit_claims rc
    join svc_sum s using (remit_claim_id)
    left join claim_cas_sum a using (remit_claim_id)
    where coalesce(rc.claim_status, '') <> '22'
), claim_unbalanced as (
    select cm.claim_id, null::integer as line_number, s.remit_claim_id, null::integer as line_index,
           p.payer_id, p.payer_name, s.patient_control_number, s.payer_claim_control_number,
           null::date as dos,
           null as sub_code, null::decimal(18, 3) as sub_units, null::decimal(18, 3) as units_paid,
           null as reasons, null as rarcs, 'claim_adjustments_unbalanced' as kind,
           'lines paid ' || s.svc_paid::varchar || ', claim adjustments ' || s.claim_cas::varchar as submitted,
           'CLP04 ' || s.paid::varchar as adjudicated,
           s.svc_paid - s.claim_cas - s.paid as dollar_effect,
           'sum(SVC03) - claim-level CAS - CLP04' as dollar_basis, false as expected,
           'the claim payment does not equal its lines less claim-level adjustments (domain-facts 11): ask the payer to account for the difference' as basis
    from claim_sums s
    left join claim_match cm using (remit_claim_id)
    left join payments p on p.transaction_id = s.transaction_id
    where s.svc_paid is not null and s.svc_paid - s.claim_cas <> s.paid
)
select {columns} from code_changed
union all by name select {columns} from mods_out
union all by name select {columns} from units_cut
union all by name select {columns} from ndc_changed
union all by name select {columns} from split
union all by name select {columns} from bundled
union all by name select {columns} from line_unbalanced
union all by name select {columns} from not_adjudicated
union all by name select {columns} from claim_unbalanced
"""

FINDING_COLUMNS = """kind, payer_id, payer_name, claim_id, patient_control_number, payer_claim_control_number,
    remit_claim_id, line_number, line_index, dos as service_date, sub_code as procedure_code, submitted,
    adjudicated, sub_units as units_billed, units_paid, dollar_effect::decimal(18, 2) as dollar_effect,
    dollar_basis, expected, basis, reasons, rarcs"""

BY_PAYER_SQL = """
with compared as (
    select payer_id, any_value(payer_name) as payer_name, sub_code as procedure_code, count(*) as lines_compared
    from per_line group by payer_id, sub_code
), affected as (
    select payer_id, any_value(payer_name) as payer_name, kind, procedure_code,
           count(distinct coalesce('c' || claim_id, 'r' || remit_claim_id) || ':' || coalesce(line_number, -1)) as lines_affected,
           coalesce(sum(dollar_effect), 0) as dollars,
           coalesce(sum(dollar_effect) filter (where not expected and dollar_effect > 0), 0) as dollars_disputable,
           coalesce(-sum(dollar_effect) filter (where dollar_effect < 0), 0) as dollars_in_favour
    from findings group by all
)
select a.payer_id, coalesce(c.payer_name, a.payer_name, a.payer_id) as payer_name, a.kind, a.procedure_code,
       coalesce(c.lines_compared, 0) as lines_compared, a.lines_affected,
       case when c.lines_compared > 0 then a.lines_affected / c.lines_compared end as share,
       a.dollars::decimal(18, 2) as dollars, a.dollars_disputable::decimal(18, 2) as dollars_disputable,
       a.dollars_in_favour::decimal(18, 2) as dollars_in_favour
from affected a left join compared c on c.payer_id is not distinct from a.payer_id
     and c.procedure_code is not distinct from a.procedure_code
order by a.dollars_disputable desc, a.lines_affected desc, a.payer_id, a.kind, a.procedure_code
"""


@dataclass
class AdjudicationDiff:
    """What the payers changed: ``findings`` (:data:`FINDINGS`), ``by_payer`` (:data:`BY_PAYER`),
    the number of submitted lines compared, and what could not be matched."""

    findings: pa.Table
    by_payer: pa.Table
    lines_compared: int
    unmatched: pa.Table
    notes: list[str] = field(default_factory=list)

    def for_claim(self, claim_id: str) -> pa.Table:
        """The findings of one submitted claim (the web app's claim page)."""
        import pyarrow.compute as pc

        return self.findings.filter(pc.equal(self.findings["claim_id"], claim_id))

    def headlines(self, limit: int = 5) -> list[str]:
        """The payer behaviours worth a look, most disputable dollars first (for `reclaim recover`)."""
        rows = [r for r in self.by_payer.to_pylist() if r["dollars_disputable"] or r["kind"] in ("units_cut", "code_changed")]
        return [r["summary"] for r in rows[:limit]]

    def write_csv(self, path) -> None:
        """All findings as CSV (no patient data: CLM01, payer claim number, codes, amounts)."""
        import pyarrow.csv as pacsv

        pacsv.write_csv(self.findings, str(path))

    def summary(self) -> dict[str, Any]:
        rows = self.findings.select(["kind", "expected", "dollar_effect"]).to_pylist()
        kinds: dict[str, dict[str, Any]] = {}
        for r in rows:
            k = kinds.setdefault(r["kind"], {"findings": 0, "expected": 0, "dollars": 0, "dollars_disputable": 0,
                                             "dollars_in_favour": 0})
            k["findings"] += 1
            k["expected"] += bool(r["expected"])
            effect = r["dollar_effect"] or 0
            k["dollars"] += effect
            if effect < 0:  # the payer paid more than billed terms give: reported, never disputed
                k["dollars_in_favour"] -= effect
            elif not r["expected"]:
                k["dollars_disputable"] += effect
        return {"lines_compared": self.lines_compared, "findings": self.findings.num_rows,
                "by_kind": {k: {**v, **{m: str(v[m]) for m in ("dollars", "dollars_disputable", "dollars_in_favour")}}
                            for k, v in sorted(kinds.items())},
                "notes": list(self.notes)}


def _sentence(row: dict[str, Any]) -> str:
    """'ACME HEALTH PLAN cuts units on 28% of J9271 lines (10 of 36), $62,401.20 effect, ...'"""
    verb = VERBS.get(row["kind"], row["kind"])
    scope = f"{row['procedure_code']} lines" if row["procedure_code"] else "claims"
    share = f"{row['share']:.0%} of " if row["share"] is not None else ""
    of = f" ({row['lines_affected']} of {row['lines_compared']})" if row["lines_compared"] else f" ({row['lines_affected']})"
    favour = row.get("dollars_in_favour") or 0
    paid_less = (row["dollars"] or 0) + favour  # the positive effects alone
    money = f", ${paid_less:,} paid less" if paid_less else ""
    dispute = f", ${row['dollars_disputable']:,} worth disputing" if row["dollars_disputable"] else ""
    more = f", ${favour:,} in the practice's favour (not disputed)" if favour else ""
    return f"{row['payer_name']} {verb} {share}{scope}{of}{money}{dispute}{more}"


def compare(con, store: Any = None, *, model_ids: Callable[[Any, str], str] | None = None) -> AdjudicationDiff:
    """The diff on a connection that already has the batch tables and ``claim_match`` /
    ``line_match`` (:func:`reclaim.recovery.matching.match`) and ``dollars``
    (:func:`reclaim.recovery.classify.classify`): what the recovery engine calls on its own run
    (:meth:`reclaim.recovery.RecoveryResult.adjudication_diff`), so nothing is matched twice.
    ``model_ids(con, table)``: the ``select`` giving a table with the model's string ids when the
    connection joins on other keys (:func:`reclaim.recovery.keys.to_model_ids`)."""

    def with_ids(table: str) -> str:
        return f"({model_ids(con, table)})" if model_ids else table

    notes = []
    if not _common.attach_reference(con, store):
        notes.append("no reference store: code changes and bundled lines are not priced, "
                     "and NDC/MUE/termination rules cannot explain differences")
    con.execute("""create or replace temp view hcpcs_latest as
                   select * from ref_hcpcs_dos where release = (select max(release) from ref_hcpcs_dos)""")
    con.execute(PAIRS_SQL.format(bundling=", ".join(f"'{c}'" for c in BUNDLING_CARCS)))
    con.execute(PER_LINE_SQL)
    con.execute(FINDINGS_SQL.format(columns=FINDING_COLUMNS))
    findings = _common.arrow(con, f"select * from {with_ids('findings')} "
                                  "order by payer_id, kind, patient_control_number, line_number")
    by_payer = _common.arrow(con, BY_PAYER_SQL)
    rows = by_payer.to_pylist()
    summaries = pa.array([_sentence(r) for r in rows], pa.string())
    by_payer = by_payer.append_column("summary", summaries)
    lines = con.execute("select count(*) from per_line").fetchone()[0]
    unmatched = _common.arrow(con, f"select * from {with_ids('unmatched')}")
    return AdjudicationDiff(findings.cast(FINDINGS), by_payer.cast(BY_PAYER), lines, unmatched, notes)


def adjudication_diff(claims: ClaimBatch, remits: RemitBatch, *, store: Any = None) -> AdjudicationDiff:
    """Compare every matched 837 line with its 835 line(s); ``store``: a RefStore, Settings or
    store path (prices, crosswalk, MUE and HCPCS terminations explain and price differences)."""
    from ..recovery import classify, matching, taxonomy

    con = _common.connect(claims, remits)
    try:
        con.register("taxonomy", taxonomy.load())
        matching.match(con)
        classify.classify(con)
        return compare(con, store)
    finally:
        con.close()
