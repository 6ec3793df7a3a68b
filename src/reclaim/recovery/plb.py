"""Provider-level adjustments (PLB) by their reason code (X12 PLB03-1).

A PLB amount is not a claim's: it changes the payment (``sum(CLP04) - sum(PLB04) = BPR02``;
positive decreases it, negative increases it). Payers often send an entry and its reversal under
one reference (``CS:ref -181.55`` and ``CS:ref 181.55``), so entries are netted per transaction,
provider, fiscal period, reason code and reference first (``plb_net``); then, by the code's row in
``recovery/data/plb_codes.csv``:

* net zero: offsetting entries, nothing moved;
* net negative: money paid to the provider (interest, a temporary allowance...);
* net positive under a recovery code (WO overpayment recovery, CS adjustment, J1, WU...): a
  ``recoupment`` worklist item (review it, dispute it if not owed);
* net positive under any other code (90 early payment allowance, 72 authorized return, FB
  forwarding balance, IR IRS withholding...): no action, with the code's reason: an allowance
  or a balance carried between payments is not a recoupment.

A code the list does not know is a recoupment to review (never silently ignored).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import duckdb
import pyarrow as pa

SCHEMA = pa.schema([("code", pa.string()), ("meaning", pa.string()), ("when_reduced", pa.string()),
                    ("no_action_reason", pa.string()), ("rationale", pa.string())])


@lru_cache(maxsize=1)
def codes() -> pa.Table:
    """``plb_codes.csv`` as Arrow (code, meaning, when_reduced: recoupment | no_action, ...)."""
    text = resources.files("reclaim.recovery").joinpath("data/plb_codes.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    for line, row in enumerate(rows, start=2):
        if row["when_reduced"] not in ("recoupment", "no_action"):
            raise ValueError(f"plb_codes.csv line {line}: when_reduced must be recoupment or no_action")
        if row["when_reduced"] == "no_action" and not row["no_action_reason"]:
            raise ValueError(f"plb_codes.csv line {line}: a no_action code needs its reason")
    return pa.Table.from_pylist([{k: (v or None) for k, v in r.items()} for r in rows], schema=SCHEMA)


PLB_NET_SQL = """
create or replace temp table plb_net as
select p.transaction_id, any_value(p.file_id) as file_id, p.provider_id, p.fiscal_period_date, p.reason_code,
       p.reference, count(*) as entries,
       sum(p.amount)::decimal(18, 2) as amount,
       coalesce(sum(p.amount) filter (where p.amount > 0), 0)::decimal(18, 2) as reductions,
       coalesce(-sum(p.amount) filter (where p.amount < 0), 0)::decimal(18, 2) as increases,
       any_value(c.meaning) as meaning,
       case when sum(p.amount) = 0 then 'no_action'
            when sum(p.amount) < 0 then 'paid'
            when any_value(c.when_reduced) = 'no_action' then 'no_action'
            else 'worklist' end as disposition,
       case when sum(p.amount) = 0 then 'offsetting entries net to zero'
            when sum(p.amount) < 0 then 'money to the provider'
            when any_value(c.when_reduced) = 'no_action' then any_value(c.no_action_reason)
            when any_value(c.code) is null then 'review_recoupment (code not in the PLB list)'
            else 'review_recoupment' end as detail
from provider_adjustments p left join plb_codes c on c.code = p.reason_code
group by p.transaction_id, p.provider_id, p.fiscal_period_date, p.reason_code, p.reference
"""


def net(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``plb_net`` (one row per transaction, provider, fiscal period, reason and reference)."""
    con.register("plb_codes", codes())
    con.execute(PLB_NET_SQL)
