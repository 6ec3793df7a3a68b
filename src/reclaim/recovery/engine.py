"""``recover()``: from remittances and submitted claims to a ranked, persisted worklist.

Steps, each a set of DuckDB statements over the Arrow tables (no per-claim Python):
match (:mod:`.matching`) -> classify dollars (:mod:`.classify`) -> expected payment
(:mod:`.underpayment`) -> items, actions, deadlines (:mod:`.worklist`) -> root cause from the
edit catalog (:mod:`.rootcause`) -> priority (odds from the store's history) -> persisted in the
worklist store (:mod:`reclaim.store`) when a database URL is given.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..claims.model import ClaimBatch, RemitBatch
from . import classify, matching, rootcause, taxonomy, terms as terms_mod, underpayment, worklist

log = logging.getLogger(__name__)

#: worklist columns exported and persisted, in display order (no patient names, birth dates or member ids)
ITEM_COLUMNS = (
    "item_id", "natural_key", "priority", "amount", "kind", "reason", "reasons", "rarcs",
    "explanation", "official_text", "root_cause", "root_cause_edit", "preventable", "action", "action_text",
    "deadline", "deadline_rule", "days_left", "deadline_passed", "odds",
    "payer_id", "payer_name", "terms_id", "patient_control_number", "payer_claim_control_number",
    "claim_status", "claim_id", "line_number", "line_index", "line_control_number", "procedure_code",
    "modifier_1", "modifier_2", "service_date", "units_paid", "line_charge", "line_paid",
    "remit_date", "trace_number", "file_id", "remit_claim_id", "edit_category", "denial_reason", "carc",
)


#: past outcomes per (payer, kind, reason): what ``worklist.prioritize`` takes as ``observed``
OUTCOMES = pa.schema([("payer_id", pa.string()), ("kind", pa.string()), ("reason", pa.string()),
                      ("recovered", pa.int64()), ("resolved", pa.int64())])


@dataclass
class RecoveryResult:
    """Everything ``recover`` found. Tables are Arrow; ``items`` is the ranked worklist."""

    items: pa.Table
    dollars: pa.Table
    provider_dollars: pa.Table
    claim_match: pa.Table
    line_match: pa.Table
    unmatched: pa.Table
    underpayments: pa.Table
    unpriced: pa.Table
    #: denied dollars with no recovery path (e.g. CO-29 timely filing), per line
    write_offs: pa.Table
    summary: dict[str, pa.Table]
    read_issues: pa.Table
    as_of: dt.date
    #: notes on what could not be done (edit catalog unavailable, no reference store...)
    notes: list[str] = field(default_factory=list)
    #: filled when the worklist was saved: new items, items already known (unchanged)
    saved: dict[str, int] = field(default_factory=dict)
    claims: ClaimBatch | None = None
    remits: RemitBatch | None = None
    #: the edit catalog's findings on the submitted claims (reclaim.edits.FINDINGS), for fixes
    findings: pa.Table | None = None


def _connect(remits: RemitBatch, claims: ClaimBatch) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("payments", "remit_claims", "remit_lines", "adjustments", "remarks", "provider_adjustments"):
        con.register(name, remits[name])
    for name in ("claims", "lines", "diagnoses"):
        con.register(name, claims[name])
    con.register("taxonomy", taxonomy.load())
    return con


def _asp_rows(store, codes: list[str]) -> pa.Table:
    empty = pa.table({"hcpcs": pa.array([], pa.string()), "effective_from": pa.array([], pa.date32()),
                      "effective_to": pa.array([], pa.date32()), "payment_limit": pa.array([], pa.decimal128(18, 3)),
                      "coinsurance_pct": pa.array([], pa.decimal128(9, 3)), "release": pa.array([], pa.string())})
    if store is None or not codes:
        return empty
    res = store.con.execute(
        "select hcpcs, effective_from, effective_to, payment_limit, coinsurance_pct, release "
        "from asp_pricing where hcpcs in (select unnest(?)) and payment_limit is not null", [codes]).arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def _run_edits(claims: ClaimBatch, store, policies) -> tuple[pa.Table | None, bool, str | None]:
    """Run the edit catalog on the submitted claims; (raw findings, ran, note)."""
    if claims["claims"].num_rows == 0:
        return None, False, None
    if store is None:
        return None, False, "no reference store: root causes not computed"
    from ..edits import check

    found = check(claims, store=store, policies=policies or None)
    return found.table, True, None


def _arrow(con, sql: str) -> pa.Table:
    res = con.execute(sql).arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def _combined_outcomes(*sources: pa.Table | None) -> pa.Table | None:
    """(payer_id, kind, reason, recovered, resolved) summed over several sources of outcomes
    (the worklist store's resolved items, a claim/remittance history); None when there is none."""
    tables = [t.select(list(OUTCOMES.names)).cast(OUTCOMES) for t in sources if t is not None]
    if not tables:
        return None
    con = duckdb.connect()
    try:
        con.register("outcomes", pa.concat_tables(tables))
        return _arrow(con, "select payer_id, kind, reason, sum(recovered)::bigint as recovered, "
                           "sum(resolved)::bigint as resolved from outcomes group by all").cast(OUTCOMES)
    finally:
        con.close()


def recover(
    remits: RemitBatch | list,
    claims: ClaimBatch | list | None = None,
    *,
    store=None,
    policies=None,
    terms: list[terms_mod.Terms] | None = None,
    db_url: str | None = None,
    threshold: float = 5.0,
    as_of: dt.date | None = None,
    run_edits: bool = True,
    history: pa.Table | None = None,
) -> RecoveryResult:
    """Explain ``remits`` against the submitted ``claims`` and build the ranked worklist.

    ``remits`` / ``claims``: batches, or lists of paths (files or folders, any format
    :mod:`reclaim.claims.io` reads);
    ``store``: the reference store (CARC/RARC texts, ASP prices, the edit catalog's data);
    ``policies``: payer policies for the edit catalog; ``terms``: recovery terms
    (:func:`reclaim.recovery.terms.load`, default built-in); ``db_url``: when given, the
    worklist is saved there (idempotent) and past outcomes there set the odds;
    ``threshold``: dollars below which an underpayment is not listed; ``as_of``: the day
    deadlines are counted from (default today); ``history``: observed outcomes of past claims and
    remittances (:func:`reclaim.loop.effectiveness.observed_odds`), added to the worklist
    store's own outcomes to set the odds.
    """
    if not isinstance(remits, RemitBatch):
        from ..claims.io import read_remits

        remits = read_remits([Path(p) for p in remits])
    if claims is not None and not isinstance(claims, ClaimBatch):
        from ..claims.io import read_claims

        claims = read_claims([Path(p) for p in claims])
    claims = claims if claims is not None else ClaimBatch()
    as_of = as_of or dt.date.today()
    terms = terms if terms is not None else terms_mod.builtin()
    notes: list[str] = []
    con = _connect(remits, claims)
    for name, table in terms_mod.tables(terms).items():
        con.register(name, table)

    matching.match(con)
    classify.classify(con)

    codes = [r[0] for r in con.execute("select distinct procedure_code from remit_lines where procedure_code is not null").fetchall()]
    con.register("asp", _asp_rows(store, codes))
    if store is None:
        notes.append("no reference store: official CARC/RARC texts and ASP prices unavailable (run `reclaim data import`)")
    underpayment.expected_payments(con)
    worklist.build_items(con, threshold=threshold)

    observed = None
    db = None
    if db_url:
        from ..store import WorklistStore

        db = WorklistStore(db_url)
        observed = db.observed_outcomes()
    worklist.prioritize(con, as_of=as_of, observed=_combined_outcomes(observed, history))

    raw_findings, ran, note = (None, False, "edit catalog not run") if not run_edits \
        else _run_edits(claims, store, policies)
    if note:
        notes.append(note)
    rootcause.attach_root_cause(con, rootcause.findings_table(raw_findings), catalog_ran=ran)

    carc, rarc, _release = taxonomy.official_texts(store)
    con.register("carc_text", carc)
    con.register("action_text", pa.table({"action": list(taxonomy.ACTIONS), "action_text": list(taxonomy.ACTIONS.values())}))
    items = _arrow(con, f"""
        select {', '.join(ITEM_COLUMNS)}
        from (select w.*, ct.description as official_text, acts.action_text
              from worklist w
              left join carc_text ct on ct.code = w.carc
              left join action_text acts on acts.action = w.action) w
        order by priority desc, deadline nulls last, amount desc, item_id
    """)
    from . import summary as summary_mod

    result = RecoveryResult(
        items=items,
        dollars=_arrow(con, "select * from dollars order by remit_claim_id, line_index nulls first, source"),
        provider_dollars=_arrow(con, "select * from provider_dollars"),
        claim_match=_arrow(con, "select * from claim_match"),
        line_match=_arrow(con, "select * from line_match"),
        unmatched=_arrow(con, "select * from unmatched order by remit_claim_id, line_index nulls first"),
        underpayments=_arrow(con, "select * from underpayments order by remit_claim_id, line_index"),
        unpriced=_arrow(con, "select * from unpriced"),
        write_offs=_arrow(con, "select * from write_offs order by remit_claim_id, line_index"),
        findings=raw_findings,
        summary={},
        read_issues=pa.concat_tables([remits["read_issues"], claims["read_issues"]]),
        as_of=as_of,
        notes=notes,
        claims=claims,
        remits=remits,
    )
    result.summary = summary_mod.summarize(con, result)
    con.close()
    if db is not None:
        result.saved = db.upsert_items(result.items)
        result.summary["recovered"] = db.recovered()
        log.info("worklist saved: %d new, %d unchanged", result.saved["inserted"], result.saved["unchanged"])
    return result
