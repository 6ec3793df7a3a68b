"""A new release arrives: what it changes, and what that means for this practice.

``diff_releases(store, dataset_or_all, old_release, new_release, *, claims=None, worklist=None)``
compares two releases held side by side in the reference store (``reclaim data import`` keeps
every release) and returns a :class:`ChangeReport`:

* ``changes`` (:data:`CHANGES`), one row per change:
  HCPCS ``added`` / ``terminated`` / ``reinstated`` / ``redescribed`` / ``unit_changed``
  (the billing unit parsed from the descriptor) and ``new_biosimilar`` (an added code whose
  descriptor says biosimilar, for a molecule the older release already had a code for);
  ASP ``price_up`` / ``price_down`` (with the percentage) / ``price_added`` / ``price_removed``;
  crosswalk ``ndc_added`` / ``ndc_removed`` / ``ndc_units_changed``; MUE ``mue_changed`` /
  ``mue_added`` / ``mue_removed``;
* ``impact`` (:data:`IMPACT`): the changes that touch the practice, joined with its claims
  (lines billing the code or NDC, units, the dollar effect of a price change at the same
  volume, lines above a new MUE, lines on a terminated code after its last date) and its open
  worklist items (open underpayment items of a re-priced code with a date of service in the
  new release's period are re-priced) and the payer policy rules that name the code (or, for a
  new biosimilar, the rules that name its reference codes but not it), each with what to do.

Releases are named as the store names them: ``2025-Q4`` (ASP, crosswalk, MUE) and ``2025-10``
(HCPCS). Either form is accepted for either dataset: a quarter means the HCPCS file of its first
month and a month means the quarter that contains it. The report names each release's label and
provenance, and warns when one is not an official file (e.g. a test fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa

from ..claims.model import ClaimBatch
from ..errors import ReclaimError
from . import _common

DATASETS = ("hcpcs", "asp_pricing", "ndc_crosswalk", "mue")
#: the short names the CLI accepts
ALIASES = {"all": DATASETS, "hcpcs": ("hcpcs",), "asp": ("asp_pricing",), "asp_pricing": ("asp_pricing",),
           "crosswalk": ("ndc_crosswalk",), "ndc_crosswalk": ("ndc_crosswalk",), "mue": ("mue",)}

CHANGES = pa.schema(
    [
        ("dataset", pa.string()),
        ("change", pa.string()),
        ("code", pa.string()),
        ("ndc11", pa.string()),
        ("setting", pa.string()),  # MUE setting
        ("old_value", pa.string()),
        ("new_value", pa.string()),
        ("pct_change", pa.float64()),  # payment limit change, percent
        ("effective", pa.date32()),  # first day the new value applies
        ("detail", pa.string()),
    ]
)

IMPACT = pa.schema(
    [
        ("dataset", pa.string()),
        ("change", pa.string()),
        ("code", pa.string()),
        ("ndc11", pa.string()),
        ("lines", pa.int64()),  # the practice's lines concerned by this change
        ("lines_billed", pa.int64()),  # all its lines with this code (procedure code or modifier)
        ("claims", pa.int64()),
        ("units", pa.decimal128(18, 3)),
        ("dollar_effect", pa.decimal128(18, 2)),  # payment change at the same volume (price changes)
        ("open_items", pa.int64()),  # open worklist items with this code
        ("items_repriced", pa.int64()),  # open underpayment items whose expected payment changes
        ("policies", pa.string()),  # payer policy rules naming the code ("commercial-example prior_auth:...")
        ("action", pa.string()),
    ]
)


class ReleaseDiffError(ReclaimError):
    """The releases asked for are not in the store."""


@dataclass
class ChangeReport:
    old_release: str
    new_release: str
    datasets: tuple[str, ...]
    #: per dataset: {"old": {...release row}, "new": {...}} (label, provenance, effective dates)
    releases: dict[str, dict[str, dict[str, Any]]]
    changes: pa.Table
    impact: pa.Table
    notes: list[str] = field(default_factory=list)
    #: what the practice data held: lines/claims read, open worklist items
    practice: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for dataset, change in zip(self.changes["dataset"].to_pylist(), self.changes["change"].to_pylist()):
            key = f"{dataset}.{change}"
            out[key] = out.get(key, 0) + 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        return {"old_release": self.old_release, "new_release": self.new_release, "datasets": list(self.datasets),
                "releases": self.releases, "counts": self.counts(), "practice": self.practice,
                "changes": self.changes.to_pylist(), "impact": self.impact.to_pylist(), "notes": self.notes}


# -- release names ------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def release_for(dataset: str, name: str) -> str:
    """The store's release name of ``dataset`` for ``name`` (``2025-Q4`` or ``2025-10``)."""
    name = name.strip()
    if m := _QUARTER.match(name):
        year, q = int(m.group(1)), int(m.group(2))
        return f"{year}-{3 * q - 2:02d}" if dataset == "hcpcs" else f"{year}-Q{q}"
    if m := _MONTH.match(name):
        year, month = int(m.group(1)), int(m.group(2))
        return name if dataset == "hcpcs" else f"{year}-Q{(month - 1) // 3 + 1}"
    return name


# -- SQL per dataset: one row per change --------------------------------------------------------

HCPCS_SQL = """
with o as (select * from ref.main.hcpcs where release = $old),
     n as (select * from ref.main.hcpcs where release = $new),
     both_ as (
    select coalesce(n.code, o.code) as code, o.code is not null as in_old, n.code is not null as in_new,
           o.long_description as old_desc, n.long_description as new_desc,
           o.termination_date as old_term, n.termination_date as new_term,
           o.unit_amount as old_amt, o.unit_uom as old_uom, n.unit_amount as new_amt, n.unit_uom as new_uom,
           coalesce(n.add_date, n.effective_date) as new_start, n.release_effective as new_effective,
           n.is_drug as new_is_drug, n.kind
    from o full join n on o.code = n.code
)
select 'hcpcs' as dataset, 'added' as change, code, null as ndc11, null as setting, null as old_value,
       new_desc as new_value, null::double as pct_change, coalesce(new_start, new_effective) as effective,
       'new ' || kind || ' code' as detail
from both_ where in_new and not in_old
union all
select 'hcpcs', 'terminated', code, null, null, null, new_term::varchar, null, new_term + 1,
       'last date of service ' || new_term::varchar || ' (TERM DT, inclusive)'
from both_ where in_old and in_new and new_term is not null and old_term is distinct from new_term
     and (old_term is null or new_term < old_term)
union all
select 'hcpcs', 'reinstated', code, null, null, old_term::varchar, null, null, new_effective,
       'termination date ' || old_term::varchar || ' removed'
from both_ where in_old and in_new and old_term is not null and new_term is null
union all
select 'hcpcs', 'terminated', code, null, null, null, null, null, new_effective,
       'no longer in the file'
from both_ where in_old and not in_new
union all
select 'hcpcs', 'redescribed', code, null, null, old_desc, new_desc, null, new_effective, 'long descriptor changed'
from both_ where in_old and in_new and old_desc is distinct from new_desc
union all
select 'hcpcs', 'unit_changed', code, null, null,
       old_amt::double || ' ' || old_uom, new_amt::double || ' ' || new_uom, null, new_effective,
       'the billing unit in the descriptor changed: units billed must change with it'
from both_ where in_old and in_new and new_is_drug and old_amt is not null and new_amt is not null
     and (old_amt <> new_amt or old_uom is distinct from new_uom)
union all
select 'hcpcs', 'new_biosimilar', b.code, null, null, string_agg(distinct r.code, ' ' order by r.code), b.new_desc, null,
       coalesce(b.new_start, b.new_effective),
       'biosimilar of ' || b.molecule || ' (reference codes: ' || string_agg(distinct r.code, ', ' order by r.code) || ')'
from (select *, regexp_extract(lower(new_desc), '^injection,\\s*([a-z]+)', 1) as molecule from both_
      where in_new and not in_old and lower(new_desc) like '%biosimilar%') b
join (select code, regexp_extract(lower(long_description), '^injection,\\s*([a-z]+)', 1) as molecule from o
      where termination_date is null) r
  on r.molecule = b.molecule and b.molecule <> ''
group by b.code, b.new_desc, b.new_start, b.new_effective, b.molecule
"""

ASP_SQL = """
with o as (select * from ref.main.asp_pricing where release = $old),
     n as (select * from ref.main.asp_pricing where release = $new),
     eff as (select min(effective_from) as d from n),
     both_ as (
    select coalesce(n.hcpcs, o.hcpcs) as code, o.hcpcs is not null as in_old, n.hcpcs is not null as in_new,
           o.payment_limit as old_limit, n.payment_limit as new_limit, n.dosage
    from o full join n on o.hcpcs = n.hcpcs
)
select 'asp_pricing' as dataset,
       case when not in_old or old_limit is null then 'price_added'
            when not in_new or new_limit is null then 'price_removed'
            when new_limit > old_limit then 'price_up' else 'price_down' end as change,
       code, null as ndc11, null as setting, old_limit::varchar as old_value, new_limit::varchar as new_value,
       case when old_limit > 0 and new_limit is not null
            then round((new_limit - old_limit) / old_limit * 100, 2)::double end as pct_change,
       (select d from eff) as effective,
       case when new_limit is not null and old_limit is not null
            then 'payment limit per ' || coalesce(dosage, 'unit') || ' ' || old_limit::varchar || ' -> ' || new_limit::varchar
            when new_limit is not null then 'payment limit ' || new_limit::varchar || ' per ' || coalesce(dosage, 'unit')
            else 'no payment limit in the new quarter' end as detail
from both_
where old_limit is distinct from new_limit
"""

CROSSWALK_SQL = """
with o as (select hcpcs, ndc11, max(billing_units) as bu, max(drug_name) as drug from ref.main.ndc_crosswalk
           where release = $old and ndc11 is not null group by all),
     n as (select hcpcs, ndc11, max(billing_units) as bu, max(drug_name) as drug from ref.main.ndc_crosswalk
           where release = $new and ndc11 is not null group by all),
     eff as (select min(effective_from) as d from ref.main.ndc_crosswalk where release = $new)
select 'ndc_crosswalk' as dataset,
       case when o.ndc11 is null then 'ndc_added' when n.ndc11 is null then 'ndc_removed' else 'ndc_units_changed' end,
       coalesce(n.hcpcs, o.hcpcs) as code, coalesce(n.ndc11, o.ndc11) as ndc11, null as setting,
       o.bu::double::varchar as old_value, n.bu::double::varchar as new_value, null::double as pct_change,
       (select d from eff) as effective,
       coalesce(n.drug, o.drug) || case when o.ndc11 is null then ': ' || n.bu::double || ' billing units per item'
                                        when n.ndc11 is null then ': no longer crosswalks to ' || o.hcpcs
                                        else ': billing units per item ' || o.bu::double || ' -> ' || n.bu::double end
from o full join n on o.hcpcs = n.hcpcs and o.ndc11 = n.ndc11
where o.ndc11 is null or n.ndc11 is null or o.bu is distinct from n.bu
"""

MUE_SQL = """
with o as (select * from ref.main.mue where release = $old),
     n as (select * from ref.main.mue where release = $new),
     eff as (select min(effective_from) as d from n)
select 'mue' as dataset,
       case when o.hcpcs is null then 'mue_added' when n.hcpcs is null then 'mue_removed' else 'mue_changed' end,
       coalesce(n.hcpcs, o.hcpcs) as code, null as ndc11, coalesce(n.setting, o.setting) as setting,
       o.mue_value::varchar as old_value, n.mue_value::varchar as new_value,
       case when o.mue_value > 0 and n.mue_value is not null
            then round((n.mue_value - o.mue_value) / o.mue_value * 100, 2)::double end,
       (select d from eff) as effective,
       coalesce(n.setting, o.setting) || ' MUE' || coalesce(', MAI ' || n.mai, ', MAI ' || o.mai)
           || case when o.mai is distinct from n.mai and o.mai is not null and n.mai is not null
                   then ' (was MAI ' || o.mai || ')' else '' end
from o full join n on o.hcpcs = n.hcpcs and o.setting = n.setting
where o.hcpcs is null or n.hcpcs is null or o.mue_value <> n.mue_value or o.mai is distinct from n.mai
"""

SQL = {"hcpcs": HCPCS_SQL, "asp_pricing": ASP_SQL, "ndc_crosswalk": CROSSWALK_SQL, "mue": MUE_SQL}

IMPACT_SQL = """
with line_dos as (
    select l.*, coalesce(l.service_date, c.statement_from) as dos from lines l join claims c using (claim_id)
), usage as (
    -- one row per line and code it uses: its procedure code and each modifier (JG, JW...)
    select procedure_code as code, ndc11, claim_id, units, dos from line_dos
    union all
    select unnest(list_distinct(list_filter([modifier_1, modifier_2, modifier_3, modifier_4], m -> m is not null)))
           as code, null, claim_id, null, dos
    from line_dos
), by_code as (
    select code, count(*) as lines, count(distinct claim_id) as claims, sum(units) as units,
           max(units) as max_units
    from usage group by code
), items as (
    select procedure_code as code, count(*) as open_items,
           count(*) filter (where kind = 'underpayment' and service_date >= $new_from) as items_repriced
    from open_items group by procedure_code
), rules as (
    select hcpcs as code, string_agg(distinct policy_id || ' ' || rule, ', ' order by policy_id || ' ' || rule) as policies
    from policy_codes group by hcpcs
), joined as (
    select ch.*, coalesce(b.lines, 0) as lines, pr.policies,
           -- a new biosimilar that the rules naming its reference codes do not name yet
           (select string_agg(distinct pc.policy_id || ' ' || pc.rule, ', ')
              from policy_codes pc
             where ch.change = 'new_biosimilar' and list_contains(string_split(ch.old_value, ' '), pc.hcpcs)
               and not exists (select 1 from policy_codes q where q.policy_id = pc.policy_id and q.rule = pc.rule
                               and q.hcpcs = ch.code)) as policies_missing, coalesce(b.claims, 0) as claims, b.units,
           coalesce(i.open_items, 0) as open_items, coalesce(i.items_repriced, 0) as items_repriced,
           -- lines concerned by this change specifically
           case when ch.change like 'ndc_%' then
                     (select count(*) from usage u where u.ndc11 = ch.ndc11)
                when ch.change = 'terminated' and ch.effective is not null then
                     (select count(*) from usage u where u.code = ch.code and u.dos >= ch.effective)
                when ch.change in ('mue_changed', 'mue_added') and ch.new_value is not null then
                     (select count(*) from usage u where u.code = ch.code and u.units > try_cast(ch.new_value as decimal(18, 3)))
                else b.lines end as concerned,
           case when ch.change in ('price_up', 'price_down') and b.units is not null
                then round(b.units * (try_cast(ch.new_value as decimal(18, 4)) - try_cast(ch.old_value as decimal(18, 4))), 2) end as dollar_effect,
           (select string_agg(distinct r, ' ') from (select unnest(string_split(ch.old_value, ' ')) as r) s
             where ch.change = 'new_biosimilar' and r in (select code from by_code)) as billed_reference
    from changes ch
    left join by_code b on b.code = ch.code
    left join items i on i.code = ch.code
    left join rules pr on pr.code = ch.code
)
select dataset, change, code, ndc11, concerned as lines, lines as lines_billed, claims, units, dollar_effect,
       open_items, items_repriced, billed_reference, effective, old_value, new_value, pct_change,
       coalesce(policies, policies_missing) as policies, policies_missing
from joined
where (change like 'ndc_%' and concerned > 0) or (change not like 'ndc_%' and lines > 0)
   or open_items > 0 or billed_reference is not null or policies_missing is not null
   or (policies is not null and change not like 'ndc_%')
order by abs(coalesce(dollar_effect, 0)) desc, concerned desc, code
"""


def _action(r: dict[str, Any]) -> str:
    text = _change_action(r)
    if r.get("policies_missing"):
        return text + f" Payer policy rules that name its reference codes but not {r['code']}: {r['policies_missing']}."
    if r.get("policies"):
        return text + f" Payer policy rules naming {r['code']}: {r['policies']} (review them)."
    return text


def _change_action(r: dict[str, Any]) -> str:
    code, eff = r["code"], r["effective"]
    n, items, repriced = r["lines"], r["open_items"], r["items_repriced"]
    since = f" from {eff}" if eff else ""
    queue = f"; {items} open worklist item(s) use it" if items else ""
    ch = r["change"]
    if ch == "terminated":
        return (f"{code} is invalid for dates of service{since}: {n} of the {r['lines_billed']} line(s) using it "
                f"in your data are on or after that date{queue}. Bill the valid code or modifier from then on "
                "(CARC 181/182).")
    if ch in ("price_up", "price_down"):
        pct = f"{r['pct_change']:+.1f}%" if r["pct_change"] is not None else ""
        money = f", {r['dollar_effect']:+,} at the volume of your data" if r["dollar_effect"] is not None else ""
        re_ = f"; {repriced} open underpayment item(s){since} re-priced" if repriced else ""
        return (f"{code}: payment limit {pct}{since} ({r['old_value']} -> {r['new_value']} per unit){money}; "
                f"{n} line(s) in your data{re_}. Update expected payments and the chargemaster.")
    if ch == "price_removed":
        return (f"{code} has no payment limit in the new quarter: {n} line(s) in your data; expect manual "
                f"pricing or a denial{queue}.")
    if ch == "price_added":
        return f"{code} now has a payment limit of {r['new_value']} per unit{since}: {n} line(s) in your data."
    if ch == "ndc_removed":
        return (f"NDC {r['ndc11']} no longer crosswalks to {code}{since}: {n} of your line(s) bill it. "
                "Check the NDC on new claims (CARC 16 / RARC M119).")
    if ch == "ndc_added":
        return f"NDC {r['ndc11']} now crosswalks to {code}{since}."
    if ch == "ndc_units_changed":
        return (f"NDC {r['ndc11']} of {code}: billing units per item {r['old_value']} -> {r['new_value']}{since}: "
                f"re-check units on the {n} line(s) billing it.")
    if ch in ("mue_changed", "mue_added"):
        return (f"{code}: MUE {r['old_value'] or 'none'} -> {r['new_value']}{since}: {n} of your "
                f"{r['lines_billed']} line(s) bill more units than the new value (the whole line is denied over the MUE).")
    if ch == "mue_removed":
        return f"{code}: no MUE in the new quarter (was {r['old_value']})."
    if ch == "new_biosimilar":
        billed = f" for a drug you bill ({r['billed_reference']})" if r["billed_reference"] else ""
        return f"New biosimilar {code}{since}{billed}: check payers' preferred-product rules before the next order."
    if ch in ("redescribed", "unit_changed"):
        return f"{code}: descriptor changed{since}: re-check billing units on its {n} line(s) in your data{queue}."
    if ch == "added":
        return f"New code {code}{since}."
    if ch == "reinstated":
        return f"{code} is valid again{since}."
    return ch


def _release_rows(con, dataset: str) -> list[dict[str, Any]]:
    table = "mue" if dataset == "mue" else dataset
    rows = _common.arrow(con, f"""
        select r.dataset, r.release, any_value(r.release_label) as label, string_agg(distinct r.provenance, ',') as provenance,
               min(r.effective_from) as effective_from, max(r.effective_to) as effective_to,
               string_agg(distinct r.file_name, ', ') as files
        from ref.main.releases r where r.table_name = '{table}' group by all""").to_pylist()
    return rows


def _open_items(worklist: Any) -> pa.Table:
    schema = pa.schema([("procedure_code", pa.string()), ("kind", pa.string()), ("service_date", pa.date32())])
    if worklist is None:
        return schema.empty_table()
    if isinstance(worklist, str):
        from ..store import WorklistStore

        worklist = WorklistStore(worklist)
    rows = worklist.list(status=("new", "in_progress", "submitted"))
    return pa.Table.from_pylist([{k: r.get(k) for k in schema.names} for r in rows], schema=schema)


def _policy_codes(policies: Any) -> pa.Table:
    """(policy_id, rule, hcpcs): every code a payer policy names (prior authorization, frequency
    limits, JW/JZ exemptions); ``policies``: Policy objects, files or built-in names (None: built-in)."""
    from ..policy import load_policies, policy_tables

    pol = policies if policies and not isinstance(policies[0], (str, Path)) else load_policies(policies or None)
    from ..edits import catalog

    tables = policy_tables(pol, [], known_codes=list(catalog()))
    rows = []
    for table, rule in (("policy_prior_auth", "prior_auth"), ("policy_frequency", "frequency"),
                        ("policy_jwjz_exempt", "jw_jz_exempt")):
        for r in tables[table].to_pylist():
            name = f"{rule}:{r['rule_id']}" if r.get("rule_id") else rule
            rows.append({"policy_id": r["policy_id"], "rule": name, "hcpcs": r["hcpcs"]})
    return pa.Table.from_pylist(rows, schema=pa.schema([("policy_id", pa.string()), ("rule", pa.string()),
                                                        ("hcpcs", pa.string())]))


def _claims(claims: ClaimBatch | Iterable[Path | str] | None) -> ClaimBatch:
    if claims is None:
        return ClaimBatch()
    if isinstance(claims, ClaimBatch):
        return claims
    paths = [Path(p) for p in claims]
    parquet = [p for p in paths if p.suffix == ".parquet" or (p.is_dir() and (p / "lines.parquet").is_file())]
    if parquet:
        # a `reclaim convert` Parquet history: the folder holding claims.parquet and lines.parquet
        import pyarrow.parquet as pq

        batches = []
        for p in parquet:
            folder = p if p.is_dir() else p.parent
            batches.append(ClaimBatch({name: pq.read_table(folder / f"{name}.parquet")
                                       for name in ("claims", "lines") if (folder / f"{name}.parquet").is_file()}))
        rest = [p for p in paths if p not in parquet]
        if rest:
            from ..claims.io import read_claims

            batches.append(read_claims(rest))
        return ClaimBatch.concat(batches)
    from ..claims.io import read_claims

    return read_claims(paths)


def diff_releases(
    store: Any,
    dataset_or_all: str,
    old_release: str,
    new_release: str,
    *,
    claims: ClaimBatch | Iterable[Path | str] | None = None,
    worklist: Any = None,
    policies: Any = None,
) -> ChangeReport:
    """What ``new_release`` changes against ``old_release`` (``dataset_or_all``: all, hcpcs, asp,
    crosswalk, mue), joined with the practice's ``claims`` (a ClaimBatch, claim files, or a
    Parquet history folder from ``reclaim convert``), open ``worklist`` items (a
    WorklistStore or its database URL) and payer ``policies`` (files, built-in names or Policy
    objects; default the built-in ones)."""
    if dataset_or_all not in ALIASES:
        raise ReleaseDiffError(f"unknown dataset {dataset_or_all!r}: one of {', '.join(ALIASES)}")
    datasets = ALIASES[dataset_or_all]
    batch = _claims(claims)
    con = _common.connect(batch)
    notes: list[str] = []
    try:
        path = _common.store_path(store)
        if path is None or not path.is_file():
            raise ReleaseDiffError(f"no reference store at {path}", hint="Build it with `reclaim data import DIR`.")
        con.execute(f"ATTACH '{path}' AS ref (READ_ONLY)")
        releases: dict[str, dict[str, dict[str, Any]]] = {}
        parts = []
        for dataset in datasets:
            old, new = release_for(dataset, old_release), release_for(dataset, new_release)
            held = {r["release"]: r for r in _release_rows(con, dataset)}
            missing = [r for r in (old, new) if r not in held]
            if missing:
                if dataset_or_all != "all":
                    have = ", ".join(sorted(held)) or "none"
                    raise ReleaseDiffError(
                        f"{dataset}: release {' and '.join(missing)} not in the reference store (it holds: {have})",
                        hint="Import both releases with `reclaim data import DIR`; `reclaim data status` lists them.")
                notes.append(f"{dataset}: release {' and '.join(missing)} not loaded: not compared")
                continue
            releases[dataset] = {"old": held[old], "new": held[new]}
            for side in ("old", "new"):
                row = held[old if side == "old" else new]
                if row["provenance"] != "official":
                    notes.append(f"{dataset} {row['release']} is not an official file ({row['provenance']}): "
                                 f"{row['label'] or row['files']}")
            parts.append(_common.arrow(con, SQL[dataset], {"old": old, "new": new}))
        if not parts:
            raise ReleaseDiffError(f"none of {', '.join(datasets)} has both releases {old_release} and {new_release}",
                                   hint="`reclaim data status` lists the releases in the store.")
        changes = pa.concat_tables([p.rename_columns(CHANGES.names).cast(CHANGES) for p in parts])
        con.register("changes", changes)
        con.register("open_items", _open_items(worklist))
        con.register("policy_codes", _policy_codes(policies))
        new_from = min((r["new"]["effective_from"] for r in releases.values() if r["new"]["effective_from"]),
                       default=dt.date.max)
        rows = _common.arrow(con, IMPACT_SQL, {"new_from": new_from}).to_pylist()
        for r in rows:
            r["action"] = _action(r)
        impact = pa.Table.from_pylist([{k: r[k] for k in IMPACT.names} for r in rows], schema=IMPACT)
        changes = _common.arrow(con, "select * from changes order by dataset, change, code, ndc11").cast(CHANGES)
    finally:
        con.close()
    practice = {"claims": batch["claims"].num_rows, "lines": batch["lines"].num_rows,
                "open_items": 0 if worklist is None else _open_items(worklist).num_rows}
    return ChangeReport(old_release, new_release, datasets, releases, changes, impact, notes, practice)


# -- rendering ---------------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    return str(value)


def render(report: ChangeReport, fmt: str = "text") -> str:
    """The report as ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps(report.to_dict(), default=_json_default, indent=2)
    md = fmt == "markdown"
    out: list[str] = []
    title = f"Release diff {report.old_release} -> {report.new_release}"
    out += [f"# {title}", ""] if md else [title, "=" * len(title)]
    for dataset, sides in report.releases.items():
        o, n = sides["old"], sides["new"]
        line = (f"{dataset}: {o['release']} ({o['provenance']}) -> {n['release']} ({n['provenance']}, "
                f"effective {n['effective_from'] or '?'})")
        out.append(f"- {line}" if md else line)
    for note in report.notes:
        out.append(f"> **note:** {note}" if md else f"note: {note}")
    p = report.practice
    out += ["", f"Practice data: {p.get('claims', 0)} claims, {p.get('lines', 0)} lines, "
                f"{p.get('open_items', 0)} open worklist items.", ""]
    out += ["## What it means for you", ""] if md else ["What it means for you", "---------------------"]
    if report.impact.num_rows == 0:
        out.append("Nothing in your claims or open worklist is affected.")
    for r in report.impact.to_pylist():
        out.append(f"- {r['action']}" if md else f"* {r['action']}")
    out += ["", "## All changes", ""] if md else ["", "All changes", "-----------"]
    counts = report.counts()
    out.append(", ".join(f"{k}: {v}" for k, v in counts.items()) or "no changes")
    out.append("")
    if md:
        out += ["| dataset | change | code | NDC | old | new | % | effective |", "|---|---|---|---|---|---|---|---|"]
    for r in report.changes.to_pylist():
        pct = f"{r['pct_change']:+.2f}" if r["pct_change"] is not None else ""
        old = (r["old_value"] or "")[:60]
        new = (r["new_value"] or "")[:60]
        if md:
            out.append(f"| {r['dataset']} | {r['change']} | {r['code']} | {r['ndc11'] or ''} | {old} | {new} | {pct} | "
                       f"{r['effective'] or ''} |")
        else:
            out.append(f"{r['dataset']:<13} {r['change']:<17} {r['code'] or '':<6} {r['ndc11'] or '':<11} "
                       f"{old} -> {new} {pct}".rstrip())
    return "\n".join(out) + "\n"


def report(settings: Any, old: str, new: str, *, dataset: str = "all", claim_files: Iterable[str] = (),
           fmt: str = "text", worklist: bool = True) -> str:
    """``reclaim data diff``: the change report rendered; the open worklist is read from the
    settings' database when it exists."""
    worklist_db = None
    if worklist:
        url = settings.database_url
        if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).is_file():
            worklist_db = url
    policies = None if not settings.policy else ["medicare", "medicaid", settings.policy]
    result = diff_releases(settings.store_path, dataset, old, new, claims=list(claim_files) or None,
                           worklist=worklist_db, policies=policies)
    return render(result, fmt)
