"""Front-end rejections and claim status: 999, TA1, 277CA and 277 into the worklist.

A claim rejected at the front door (a 999 rejecting its 837 transaction set, a 277CA with an
A3/A6/A7/A8 status) never produces an 835, so without this it never reaches the worklist.

``recover`` hands its input paths to :func:`split_inputs`: acknowledgment and claim status
files (:func:`reclaim.claims.x12.sniff_ack`) are streamed into ``acks_in_<table>`` DuckDB tables
(:data:`reclaim.claims.model.ACK_TABLES`), the rest goes to the 835 reader as before. Then, on the
run's connection (every step one SQL statement, no per-claim Python):

1. **events** (``ack_events``): one row per (acknowledgment, claim).
   * 999: each AK2 is matched to the submitted 837 transaction by AK102 = GS06 and AK202 = ST02
     (the one whose ISA08 is the 999's ISA06 first); IK5 accepts or rejects the whole
     transaction set, so every claim of it gets the set's state. Each IK3/IK4 error is placed
     on the claim its CTX names (CTX01-2 = CLM01), else on every claim of the set, and says
     which loop, segment and element (``CLM02 in segment 22``) with the TR3's code text.
     A set whose 837 was not given still gives one event per claim its CTX names (or one for
     the set), so no rejection is lost.
   * TA1: an interchange rejected (TA104 R) rejects every claim of the 837 interchange whose
     ISA13 it names (TA101), with the TA105 note; an accepted TA1 only says the envelope was read.
   * 277CA / 277: each claim (2200D TRN) is matched to the submitted claim by patient control
     number (277CA TRN02, 277 REF*EJ = CLM01), with the total charge (STC04 = CLM02) and the
     service dates (DTP*472) agreeing when both sides have them. Its latest claim-level STC
     sets the state: A0/A1/A2/A5 accepted, A3/A4/A6/A7/A8 rejected, P* and R* pended, F*
     finalized, E*/D0 no status; the category and status code texts come from the reference
     store's X12 Claim Status Category and Claim Status code lists (``reclaim data import``).
2. **claim_status**: every submitted claim with its latest state, ``submitted, awaiting
   acknowledgment`` when no acknowledgment names it (an accepted one closes that state), or
   ``adjudicated (835)`` when a remittance matched it; plus the acknowledgments whose claim was
   not given.
3. **items**: each claim whose latest state is rejected or pended (and that no 835 answered)
   becomes a worklist item (kind ``rejection`` / ``pended``) with the claim's charge,
   the action (a rejected claim was never accepted: fix it and submit it again as a new claim;
   a pended one: follow up), and the filing deadline of the payer's terms (``new_claim``,
   counted from the date of service). ``edit_category`` names the edit catalog categories that
   check what the rejection points at (HI -> diagnosis, SV1/SV2 -> code, LIN/CTP -> ndc; for a
   277CA, the status code's text), so the root-cause step links the item to the check edit
   that would have caught it, when one flags the claim.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from ..claims.model import ACK_TABLES, AckBatch

#: prefix of the acknowledgment tables in the recovery run's database
PREFIX = "acks_in_"

#: default odds (industry practice, UNVERIFIED like worklist.DEFAULT_ODDS): a front-end rejection
#: fixed and resubmitted in time is usually paid; a pended claim is followed up
DEFAULT_ODDS = {"rejection": 0.90, "pended": 0.50}

#: IK304 implementation segment syntax error codes (005010X231A1)
SEGMENT_ERRORS = {
    "1": "unrecognized segment ID", "2": "unexpected segment", "3": "required segment missing",
    "4": "loop occurs over maximum times", "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set", "7": "segment not in proper sequence",
    "8": "segment has data element errors", "I4": "implementation \"not used\" segment present",
    "I6": "implementation dependent segment missing", "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use", "I9": "implementation dependent \"not used\" segment present",
}
#: IK403 implementation data element syntax error codes (005010X231A1)
ELEMENT_ERRORS = {
    "1": "required data element missing", "2": "conditional required data element missing",
    "3": "too many data elements", "4": "data element too short", "5": "data element too long",
    "6": "invalid character in data element", "7": "invalid code value", "8": "invalid date",
    "9": "invalid time", "10": "exclusion condition violated", "12": "too many repetitions",
    "13": "too many components", "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing", "I10": "implementation \"not used\" data element present",
    "I11": "implementation too few repetitions", "I12": "implementation pattern match failure",
    "I13": "implementation dependent \"not used\" data element present",
}
#: IK501 / AK901 acknowledgment codes (005010X231A1)
SET_STATUS = {"A": "accepted", "E": "accepted with errors", "M": "rejected (message authentication code failed)",
              "P": "partially accepted", "R": "rejected", "W": "rejected (assurance failed)",
              "X": "rejected (content after decryption could not be analyzed)"}
#: TA105 interchange note codes (X12 005010 control segments), the ones a rejection names
TA1_NOTES = {
    "000": "no error", "001": "interchange control number in the header and trailer do not match",
    "002": "standard in the control standards identifier not supported", "003": "version of the controls not supported",
    "004": "segment terminator invalid", "005": "invalid interchange ID qualifier for sender",
    "006": "invalid interchange sender ID", "007": "invalid interchange ID qualifier for receiver",
    "008": "invalid interchange receiver ID", "009": "unknown interchange receiver ID",
    "014": "invalid interchange date value", "015": "invalid interchange time value",
    "017": "invalid interchange version ID value", "018": "invalid interchange control number value",
    "020": "invalid test indicator value", "021": "invalid number of included groups value",
    "022": "invalid control structure", "023": "improper (premature) end-of-file (transmission)",
    "024": "invalid interchange content (e.g. invalid GS segment)", "025": "duplicate interchange control number",
    "026": "invalid data element separator", "027": "invalid component element separator",
}

#: STC01-3 entity identifier codes most 277CA rejections name, and the 837P loop to fix (005010X222A1)
ENTITIES = {
    "85": ("billing provider", "2010AA"), "87": ("pay-to provider", "2010AB"), "82": ("rendering provider", "2310B"),
    "77": ("service facility", "2310C"), "DN": ("referring provider", "2310A"), "DK": ("ordering provider", "2420E"),
    "71": ("attending provider", "2310A (837I)"), "IL": ("subscriber", "2010BA"), "QC": ("patient", "2010CA"),
    "PR": ("payer", "2010BB"), "41": ("submitter", "1000A"), "40": ("receiver", "1000B"),
}


def _code_table(codes: dict, value_name: str) -> pa.Table:
    return pa.table({"code": list(codes), value_name: list(codes.values())})


def split_inputs(source):
    """(acknowledgment files, the rest of ``source``): ``source`` as ``recover`` takes it (a
    batch, a path, a list of paths or folders, or None). The rest is None when nothing is left."""
    if source is None or not isinstance(source, (str, Path, list, tuple)):
        return [], source
    from ..claims.io import _expand
    from ..claims.x12 import sniff_ack

    paths = [source] if isinstance(source, (str, Path)) else list(source)
    files = _expand([Path(p) for p in paths])
    acks = [p for p in files if p.is_file() and sniff_ack(p)]
    if not acks:
        return [], source
    rest = [p for p in files if p not in acks]
    return acks, (rest or None)


def load(con: duckdb.DuckDBPyConnection, paths: list[Path], *, issues_table: str | None = None) -> dict[str, int]:
    """Stream acknowledgment files into ``acks_in_<table>`` (created empty when there are none);
    their read issues are also appended to ``issues_table`` (the run's read issues)."""
    from ..claims.io import _unreadable, load_batch_into
    from ..claims.x12 import iter_ack
    from ..errors import InputFormatError

    added = load_batch_into(con, AckBatch(), prefix=PREFIX)
    for path in paths:
        try:
            for batch in iter_ack(path):
                for name, n in load_batch_into(con, batch, prefix=PREFIX).items():
                    added[name] += n
        except InputFormatError as exc:
            load_batch_into(con, AckBatch(tables={"read_issues": _unreadable(path, str(exc), "IO-UNREADABLE")}),
                            prefix=PREFIX)
    if issues_table:
        con.execute(f'insert into "{issues_table}" by name select * from "{PREFIX}read_issues"')
    return {name: n for name, n in added.items() if name in ACK_TABLES and name not in ("files", "read_issues")}


def _status_texts(con: duckdb.DuckDBPyConnection, store) -> None:
    """``csc_text`` (category) and ``csc_code_text`` (status code) from the reference store, empty
    when it has none (the items then say the text is not loaded)."""
    empty = pa.table({"code": pa.array([], pa.string()), "description": pa.array([], pa.string())})
    for table, name in (("claim_status_categories", "csc_category_text"), ("claim_status_codes", "csc_code_text")):
        rows = empty
        if store is not None:
            try:
                res = store.con.execute(f"select code, arg_max(description, release) as description from {table} "
                                        "group by code").arrow()
                rows = res.read_all() if hasattr(res, "read_all") else res
            except duckdb.Error:  # a store built before these lists existed
                rows = empty
        con.register(name, rows)


EVENTS_SQL = """
create or replace temp table ack_events as
with set_match as (
    select s.ack_set_id, s.status as set_status, s.error_codes, ak.created as ack_date, s.file_id as ack_file_id,
           t.transaction_id as claim_transaction_id
    from acks_in_ack_sets s
    join acks_in_transactions ak on ak.transaction_id = s.transaction_id
    left join transactions t
      on t.transaction_type in ('837P', '837I') and t.group_control = s.group_control
     and t.transaction_control = s.set_control
    qualify row_number() over (partition by s.ack_set_id
                               order by coalesce(t.receiver_id = ak.sender_id, false) desc, t.transaction_id) = 1
), errors as (
    select e.ack_set_id, e.claim_key, e.error_index,
           coalesce(e.segment_id || lpad(e.element_position::varchar, 2, '0')
                    || coalesce('-' || e.component_position::varchar, ''), e.segment_id) as element_name,
           coalesce(e.segment_id || lpad(e.element_position::varchar, 2, '0')
                    || coalesce('-' || e.component_position::varchar, ''), e.segment_id)
             || ' (segment ' || coalesce(e.segment_position::varchar, '?')
             || coalesce(', loop ' || e.loop_id, '') || '): '
             || coalesce(ee.text, se.text, 'error ' || coalesce(e.element_error, e.segment_error, '?'))
             || coalesce(' (IK4 ' || e.element_error || ', data element ' || e.element_reference || ')',
                         ' (IK3 ' || e.segment_error || ')', '') as text,
           case when e.segment_id = 'HI' then 'diagnosis'
                when e.segment_id in ('LIN', 'CTP') then 'ndc'
                when e.segment_id in ('SV1', 'SV2') and e.element_position in (4, 5) then 'units'
                when e.segment_id in ('SV1', 'SV2') then 'code|modifiers|noc' end as edit_category
    from acks_in_ack_errors e
    left join ik403_text ee on ee.code = e.element_error and e.element_position is not null
    left join ik304_text se on se.code = e.segment_error
), set_claims as (
    -- the claims of the acknowledged set; a set whose 837 was not given: the claims its CTX name
    select sm.*, c.claim_id, c.patient_control_number
    from set_match sm join claims c on c.transaction_id = sm.claim_transaction_id
    union all by name
    select sm.*, null as claim_id, k.claim_key as patient_control_number
    from set_match sm
    left join (select distinct ack_set_id, claim_key from errors where claim_key is not null) k using (ack_set_id)
    where sm.claim_transaction_id is null or not exists (select 1 from claims c where c.transaction_id = sm.claim_transaction_id)
), set_claim_errors as (
    select sc.ack_set_id, sc.set_status, sc.error_codes, sc.ack_date, sc.ack_file_id, sc.claim_id,
           sc.patient_control_number,
           string_agg(e.text, '; ' order by e.error_index) as error_text,
           string_agg(distinct e.element_name, ' ') as reasons,
           -- the first error's categories (the edit that would have caught it)
           arg_min(e.edit_category, e.error_index) filter (where e.edit_category is not null) as edit_category
    from set_claims sc
    left join errors e on e.ack_set_id = sc.ack_set_id
         and (e.claim_key is null or e.claim_key = sc.patient_control_number)
    group by sc.ack_set_id, sc.set_status, sc.error_codes, sc.ack_date, sc.ack_file_id, sc.claim_id,
             sc.patient_control_number
), e999 as (
    select sc.claim_id, sc.patient_control_number, '999' as source, sc.ack_file_id, sc.ack_date,
           sc.ack_set_id as event_key,
           case when sc.set_status in ('A', 'E') then 'accepted'
                when sc.set_status in ('R', 'M', 'W', 'X') then 'rejected' else 'no status' end as state,
           '999' as category, 'IK5-' || coalesce(sc.set_status, '?') as reason,
           '999 ' || coalesce(ss.text, 'status ' || coalesce(sc.set_status, 'missing'))
             || ' (IK5 ' || coalesce(sc.set_status, '?') || coalesce(', codes ' || sc.error_codes, '') || ')'
             || coalesce(': ' || sc.error_text, '') as detail,
           sc.reasons, sc.edit_category,
           null::varchar as payer_claim_control_number, null::decimal(18, 2) as ack_charge,
           null::varchar as entity_code
    from set_claim_errors sc
    left join ik5_text ss on ss.code = sc.set_status
), eta1 as (
    -- a TA1 rejecting an interchange (TA104 R) rejects every claim in it; an accepted one says
    -- only that the envelope was read (the 999 and 277CA that follow say more)
    select c.claim_id, c.patient_control_number, 'TA1' as source, ta.file_id as ack_file_id,
           ta.acknowledged_date as ack_date, ta.file_id || ':' || ta.acknowledged_control as event_key,
           'rejected' as state, 'TA1' as category, 'TA1-' || ta.status as reason,
           'TA1 interchange ' || ta.acknowledged_control || ' rejected (TA104 R'
             || coalesce(', TA105 ' || ta.note_code || coalesce(' ' || tn.text, ''), '') || ')' as detail,
           null as reasons, null as edit_category, null::varchar as payer_claim_control_number,
           null::decimal(18, 2) as ack_charge, null::varchar as entity_code
    from acks_in_interchange_acks ta
    join transactions t on t.transaction_type in ('837P', '837I') and t.interchange_control = ta.acknowledged_control
    join claims c on c.transaction_id = t.transaction_id
    left join ta1_text tn on tn.code = ta.note_code
    where ta.status = 'R'
), claim_dates as (
    select c.claim_id, c.patient_control_number, c.total_charge,
           coalesce(c.statement_from, min(l.service_date)) as date_from,
           coalesce(c.statement_to, max(coalesce(l.service_date_to, l.service_date))) as date_to
    -- only the claims a status can be about (their CLM01 is in a 277): no scan of every line
    from (select * from claims semi join acks_in_status_claims using (patient_control_number)) c
    left join lines l using (claim_id)
    group by c.claim_id, c.patient_control_number, c.total_charge, c.statement_from, c.statement_to
), st_match as (
    select sc.*, cd.claim_id as matched_claim_id
    from acks_in_status_claims sc
    left join claim_dates cd
      on cd.patient_control_number = sc.patient_control_number
     and (sc.total_charge is null or cd.total_charge is null or cd.total_charge = sc.total_charge)
     and (sc.service_from is null or cd.date_from is null
          or (sc.service_from <= cd.date_to and coalesce(sc.service_to, sc.service_from) >= cd.date_from))
    where sc.transaction_type in ('277CA', '277')
    qualify row_number() over (partition by sc.status_claim_id
                               order by (cd.total_charge = sc.total_charge) desc nulls last, cd.claim_id) = 1
), latest_stc as (
    select * from acks_in_claim_statuses where line_index is null
    qualify dense_rank() over (partition by status_claim_id order by status_date desc nulls last, status_index desc) = 1
), stc as (
    select s.status_claim_id, s.status_date,
           arg_min(s.category_code, s.composite) as category_code,
           arg_min(s.category_code || ':' || coalesce(s.status_code, ''), s.composite) as reason,
           arg_min(s.entity_code, s.composite) as entity_code,
           string_agg(s.category_code || ':' || coalesce(s.status_code, '') || coalesce(':' || s.entity_code, ''), ' '
                      order by s.composite) as reasons,
           string_agg(s.category_code || ':' || coalesce(s.status_code, '') || ' '
                      || coalesce(cat.description, '(category text not loaded)') || ' - '
                      || coalesce(code.description, '(status code text not loaded: import the X12 Claim Status Code list)')
                      || coalesce(' [entity ' || s.entity_code || coalesce(' ' || ent.name || ', loop ' || ent.loop, '') || ']', ''),
                      '; ' order by s.composite) as detail,
           string_agg(distinct case when lower(code.description) like '%diagnosis%' then 'diagnosis'
                                    when lower(code.description) like '%drug code%'
                                      or code.description like '%NDC%' then 'ndc'
                                    when lower(code.description) like '%modifier%' then 'modifiers'
                                    when lower(code.description) like '%procedure code%'
                                      or code.description like '%HCPCS%' then 'code|modifiers|noc'
                                    when lower(code.description) like '%units%' then 'units' end, '|') as edit_category
    from latest_stc s
    left join csc_category_text cat on cat.code = s.category_code
    left join csc_code_text code on code.code = s.status_code
    left join entity_text ent on ent.code = s.entity_code
    group by s.status_claim_id, s.status_date
), e277 as (
    select m.matched_claim_id as claim_id, m.patient_control_number, m.transaction_type as source,
           m.file_id as ack_file_id, coalesce(s.status_date, t.created) as ack_date, m.status_claim_id as event_key,
           case when s.category_code in ('A0', 'A1', 'A2', 'A5') then 'accepted'
                when s.category_code in ('A3', 'A4', 'A6', 'A7', 'A8') then 'rejected'
                when s.category_code like 'P%' or s.category_code like 'R%' then 'pended'
                when s.category_code like 'F%' then 'finalized' else 'no status' end as state,
           s.category_code as category, s.reason,
           m.transaction_type || ' STC ' || coalesce(s.detail, 'without a claim-level status') as detail,
           s.reasons, s.edit_category, m.payer_claim_control_number, m.total_charge as ack_charge, s.entity_code
    from st_match m
    left join stc s using (status_claim_id)
    left join acks_in_transactions t on t.transaction_id = m.transaction_id
)
select *, 0 as source_order from eta1
union all by name select *, 1 as source_order from e999
union all by name select *, 2 as source_order from e277
"""

STATUS_SQL = """
create or replace temp table ack_latest as
select * from ack_events
qualify row_number() over (partition by coalesce(claim_id, source || ':' || event_key || ':'
                                                 || coalesce(patient_control_number, ''))
                           order by ack_date desc nulls last, source_order desc, event_key desc) = 1;
create or replace temp table claim_status as
select c.claim_id, c.patient_control_number, c.payer_id, c.total_charge, t.created as submitted,
       case when cm.claim_id is not null then 'adjudicated (835)'
            when l.state is null then 'submitted, awaiting acknowledgment' else l.state end as state,
       l.source, l.reason, l.detail, l.ack_date, l.ack_file_id, c.file_id
from claims c
left join transactions t using (transaction_id)
left join ack_latest l using (claim_id)
left join (select distinct claim_id from claim_match where claim_id is not null) cm using (claim_id)
union all by name
select null as claim_id, patient_control_number, null as payer_id, ack_charge as total_charge, null as submitted,
       state, source, reason, detail, ack_date, ack_file_id, null as file_id
from ack_latest where claim_id is null
"""

ITEMS_SQL = """
insert into items by name
with rej as (
    select l.*, c.payer_id, c.payer_name, c.claim_filing_indicator, c.total_charge,
           coalesce(cd.date_from, l.ack_date) as dos, fl.procedure_code, fl.modifier_1, fl.modifier_2
    from ack_latest l
    left join claims c using (claim_id)
    -- the date of service and the first line (which drug the item is about) of these claims only
    left join (select claim_id, coalesce(min(c2.statement_from), min(l2.service_date)) as date_from
               from claims c2 left join lines l2 using (claim_id)
               where claim_id in (select claim_id from ack_latest where state in ('rejected', 'pended'))
               group by claim_id) cd using (claim_id)
    left join (select claim_id, arg_min(procedure_code, line_number) as procedure_code,
                      arg_min(modifier_1, line_number) as modifier_1, arg_min(modifier_2, line_number) as modifier_2
               from lines
               where claim_id in (select claim_id from ack_latest where state in ('rejected', 'pended'))
               group by claim_id) fl using (claim_id)
    where l.state in ('rejected', 'pended')
      and (l.claim_id is null or l.claim_id not in (select claim_id from claim_match where claim_id is not null))
), termed as (
    select r.*, coalesce(
             (select tm.terms_id from terms_match tm where tm.payer_id = r.payer_id order by tm.priority limit 1),
             (select tm.terms_id from terms_match tm where tm.filing_indicator = r.claim_filing_indicator
              order by tm.priority limit 1),
             (select tm.terms_id from terms_match tm where tm.payer_id is null and tm.filing_indicator is null
              order by tm.priority limit 1)) as terms_id
    from rej r
)
select case when state = 'rejected' then 'rejection' else 'pended' end as kind,
       coalesce(total_charge, ack_charge, 0)::decimal(18, 2) as amount,
       reason, reasons, null as rarcs,
       case when state = 'rejected' then 'front_end_rejection' else 'pended' end as denial_reason,
       edit_category,
       case when state = 'rejected' then 'new_claim' else 'review' end as action,
       case when state = 'rejected' then 'new_claim' else 'review' end as medicare_action,
       case when state = 'rejected' then 'new_claim' else 'review' end as commercial_action,
       case when state = 'rejected' then {rejected_odds} else {pended_odds} end as default_odds,
       case when state = 'rejected'
            then 'Rejected before adjudication: ' || rtrim(detail, '.') || '. The payer never accepted this claim (no 835 will '
                 || 'come): fix it and submit it again as a new claim before the filing deadline.'
            else 'Pended: ' || rtrim(detail, '.') || '. Follow up with the payer (a 276 status request, or the '
                 || 'information it asked for) before the filing deadline.' end as explanation,
       null as carc, patient_control_number, payer_claim_control_number, category as claim_status,
       ack_file_id as file_id, payer_id, payer_name, ack_date as remit_date, claim_id, dos as service_date,
       procedure_code, modifier_1, modifier_2,
       t.terms_id, tp.terms_name, tp.coinsurance_mode, d.source as deadline_rule, dos as deadline_start,
       d.days, d.months,
       -- the filing deadline only where the payer's terms give one
       case when d.terms_id is not null
            then (dos + to_days(coalesce(d.days, 0)) + to_months(coalesce(d.months, 0)))::date end as deadline
from termed t
left join terms_pricing tp using (terms_id)
left join terms_deadlines d on d.terms_id = t.terms_id and d.action = 'new_claim'
"""


def build(con: duckdb.DuckDBPyConnection, *, store=None) -> None:
    """``ack_events``, ``ack_latest``, ``claim_status``, and the worklist items of rejected and
    pended claims (appended to ``items``; run after :func:`reclaim.recovery.worklist.build_items`)."""
    con.register("ik304_text", _code_table(SEGMENT_ERRORS, "text"))
    con.register("ik403_text", _code_table(ELEMENT_ERRORS, "text"))
    con.register("ik5_text", _code_table(SET_STATUS, "text"))
    con.register("ta1_text", _code_table(TA1_NOTES, "text"))
    con.register("entity_text", pa.table({"code": list(ENTITIES), "name": [v[0] for v in ENTITIES.values()],
                                          "loop": [v[1] for v in ENTITIES.values()]}))
    _status_texts(con, store)
    con.execute(EVENTS_SQL)
    con.execute(STATUS_SQL)
    con.execute(ITEMS_SQL.format(rejected_odds=DEFAULT_ODDS["rejection"],
                                 pended_odds=DEFAULT_ODDS["pended"]))


def no_response(con: duckdb.DuckDBPyConnection, *, as_of: dt.date, days: int) -> pa.Table:
    """The submitted claims with no answer ``days`` or more after their 837 was created (BHT04):
    awaiting acknowledgment, accepted (999 or 277CA) but with no 835, pended, or without a status;
    what a 276 claim status request asks about. Rejected claims are worklist items instead."""
    res = con.execute(f"""
        select cs.claim_id from claim_status cs
        where cs.claim_id is not null and cs.state not in ('rejected', 'finalized', 'adjudicated (835)')
          and cs.submitted is not null and cs.submitted <= date '{as_of.isoformat()}' - to_days({int(days)})
        order by cs.claim_id""").arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def write_status_requests(result, out: str | Path, *, days: int, usage: str = "P", sender: str | None = None,
                          receiver: str | None = None):
    """A 276 (:func:`reclaim.claims.x12.writer276.write_276`) for the run's claims with no answer
    ``days`` or more after their 837 was created (:func:`no_response`). Returns the writer's
    result (``path`` None when there was no such claim)."""
    from ..claims.x12.writer276 import write_276

    if result._run is None:
        raise RuntimeError("this recovery result is closed")
    con = result._run.con
    ids = no_response(con, as_of=result.as_of, days=days)
    con.register("status_request_ids", ids)

    def arrow(sql: str) -> pa.Table:
        res = con.execute(sql).arrow()
        return res.read_all() if hasattr(res, "read_all") else res

    tables = {
        "claims": arrow("select c.* from claims_out c semi join status_request_ids using (claim_id) "
                        "order by c.claim_id"),
        "lines": arrow("select l.* from lines_out l semi join status_request_ids using (claim_id)"),
        "transactions": arrow("select * from transactions where transaction_id in (select transaction_id from "
                              "claims_out semi join status_request_ids using (claim_id))"),
    }
    return write_276(tables, out, sender=sender, receiver=receiver, usage=usage)
