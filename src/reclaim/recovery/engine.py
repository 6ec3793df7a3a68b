"""``recover()``: from remittances and submitted claims to a ranked, persisted worklist.

Inputs go straight into DuckDB tables named after the model (``remit_claims``, ``lines``...):
files stream through :func:`reclaim.claims.io.load_into` block by block (nothing but one batch
in Python memory), Arrow batches are inserted into the same tables, so every later step runs
on one kind of input. The connection is in memory with a ``memory_limit`` and a temporary
spill directory, so large inputs spill to disk instead of growing the process.

Steps, each a set of DuckDB statements (no per-claim Python):
match (:mod:`.matching`) -> classify dollars (:mod:`.classify`) -> expected payment
(:mod:`.underpayment`) -> items, actions, deadlines (:mod:`.worklist`) -> root cause from the
edit catalog (:mod:`.rootcause`, run only on the claims of the worklist's patients) -> priority
(odds from the store's history) -> persisted in the worklist store (:mod:`reclaim.store`) when
a database URL is given.

The result keeps the connection: its tables (``items``, ``dollars``, ``line_match``...) are read
into Arrow when first asked for, and :meth:`RecoveryResult.adjudication_diff` compares the
submitted and adjudicated lines on the same match (nothing is matched twice).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..claims.model import REMIT_TABLES, ClaimBatch, RemitBatch
from . import acks, classify, keys, reconcile, matching, rootcause, taxonomy, terms as terms_mod, underpayment, worklist

log = logging.getLogger(__name__)

#: DuckDB's memory for one run; beyond it, tables and joins spill to a temporary directory
MEMORY_LIMIT = "2GB"

#: worklist columns exported and persisted, in display order (no patient names, birth dates or member ids)
ITEM_COLUMNS = (
    "item_id", "natural_key", "priority", "amount", "kind", "reason", "reasons", "rarcs",
    "explanation", "official_text", "root_cause", "root_cause_edit", "preventable", "action", "action_text",
    "deadline", "deadline_rule", "days_left", "deadline_passed", "odds",
    "payer_id", "payer_name", "terms_id", "patient_control_number", "payer_claim_control_number",
    "claim_status", "claim_id", "line_number", "line_index", "line_control_number", "procedure_code",
    "modifier_1", "modifier_2", "service_date", "units_paid", "line_charge", "line_paid",
    "remit_date", "trace_number", "file_id", "remit_claim_id", "edit_category", "denial_reason", "carc",
    # where a letter goes (the 835's N1*PR / N3 / N4 / PER) and which program's rules it may cite (CLP06)
    "claim_filing_indicator", "terms_name", "payer_address_1", "payer_address_2", "payer_city", "payer_state",
    "payer_zip", "payer_contact_function", "payer_contact_name", "payer_contact_phone", "payer_contact_email",
    "payee_name", "payee_id_qualifier", "payee_id",
)


#: past outcomes per (payer, kind, reason): what ``worklist.prioritize`` takes as ``observed``
OUTCOMES = pa.schema([("payer_id", pa.string()), ("kind", pa.string()), ("reason", pa.string()),
                      ("recovered", pa.int64()), ("resolved", pa.int64())])

#: the result's tables, read from the run's connection when first asked for (ids as strings)
RESULT_SQL = {
    "items": "select * from items_final order by priority desc, deadline nulls last, amount desc, item_id",
    "dollars": "select * from dollars_out order by remit_claim_id, line_index nulls first, source",
    "provider_dollars": "select * from provider_dollars",
    "claim_match": "select * from claim_match_out",
    "line_match": "select * from line_match_out",
    "unmatched": "select * from unmatched_out order by remit_claim_id, line_index nulls first",
    "underpayments": "select * from underpayments_out order by remit_claim_id, line_index",
    "unpriced": "select * from unpriced_out",
    "write_offs": "select * from write_offs_out order by remit_claim_id, line_index",
    "dispositions": "select * from dispositions order by remit_claim_id, line_index nulls first, source",
    "plb": "select * from plb_net order by transaction_id, reason_code, reference",
    "denied": "select * from denied",
    # every submitted claim's acknowledgment state (recovery/acks.py)
    "claim_status": "select * from claim_status order by claim_id nulls last, patient_control_number",
}


class _Run:
    """The run's DuckDB connection and its spill directory, closed together (also when the
    result is garbage-collected)."""

    def __init__(self, memory_limit: str) -> None:
        self.spill = tempfile.mkdtemp(prefix="reclaim-recover-")
        self.con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": self.spill})
        self.con.execute("set enable_progress_bar = false")
        self._finalizer = weakref.finalize(self, _Run._close, self.con, self.spill)

    @staticmethod
    def _close(con, spill: str) -> None:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)

    def close(self) -> None:
        self._finalizer()


@dataclass
class RecoveryResult:
    """Everything ``recover`` found. ``items`` is the ranked worklist; it and the other tables
    (``dollars``, ``provider_dollars``, ``claim_match``, ``line_match``, ``unmatched``,
    ``underpayments``, ``unpriced``, ``write_offs``: denied dollars with no recovery path, e.g.
    CO-29) are Arrow tables read from the run's database when first used."""

    summary: dict[str, pa.Table]
    read_issues: pa.Table
    as_of: dt.date
    #: rows read per input table (remit_claims, remit_lines, claims, lines...)
    counts: dict[str, int] = field(default_factory=dict)
    #: notes on what could not be done (edit catalog unavailable, no reference store...)
    notes: list[str] = field(default_factory=list)
    #: filled when the worklist was saved: new items, items already known (unchanged)
    saved: dict[str, int] = field(default_factory=dict)
    #: the edit catalog's findings on the worklist patients' claims (reclaim.edits.FINDINGS), for fixes
    findings: pa.Table | None = None
    #: seconds per step of the run (load, match, classify, ...): where the time went
    timings: dict[str, float] = field(default_factory=dict)
    _run: _Run | None = field(default=None, repr=False)
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)
    _claims: ClaimBatch | None = field(default=None, repr=False)
    _diff: object = field(default=None, repr=False)

    def table(self, name: str) -> pa.Table:
        """One of the run's tables (see :data:`RESULT_SQL`) as Arrow, read once."""
        if name not in self._tables:
            if self._run is None:
                raise RuntimeError("this recovery result is closed")
            self._tables[name] = _arrow(self._run.con, RESULT_SQL[name])
        return self._tables[name]

    items = property(lambda self: self.table("items"))
    dollars = property(lambda self: self.table("dollars"))
    provider_dollars = property(lambda self: self.table("provider_dollars"))
    claim_match = property(lambda self: self.table("claim_match"))
    line_match = property(lambda self: self.table("line_match"))
    unmatched = property(lambda self: self.table("unmatched"))
    underpayments = property(lambda self: self.table("underpayments"))
    unpriced = property(lambda self: self.table("unpriced"))
    write_offs = property(lambda self: self.table("write_offs"))
    #: every dollar row with its one disposition (paid, worklist, patient_share, no_action...)
    dispositions = property(lambda self: self.table("dispositions"))
    #: PLB entries netted per reason code and reference, with their disposition
    plb = property(lambda self: self.table("plb"))
    #: every denied claim (CLP02 = 4) and unpaid line: its items, or why nothing can be done
    denied = property(lambda self: self.table("denied"))
    claim_status = property(lambda self: self.table("claim_status"))

    def count(self, name: str) -> int:
        """Rows of one of the run's tables, without reading it into Arrow."""
        if name in self._tables:
            return self._tables[name].num_rows
        if self._run is None:
            raise RuntimeError("this recovery result is closed")
        return self._run.con.execute(f"select count(*) from ({RESULT_SQL[name]})").fetchone()[0]

    @property
    def claims(self) -> ClaimBatch:
        """The submitted claims of the worklist's patients (what letters and corrected claims
        need, and what the edit catalog ran on): bounded by the worklist, not by the input."""
        if self._claims is None:
            if self._run is None:
                raise RuntimeError("this recovery result is closed")
            self._claims = _worklist_claims(self._run.con)
        return self._claims

    @property
    def remits(self) -> RemitBatch:
        """Every remittance table read, as Arrow (the whole input: for small runs)."""
        if "remits" not in self._tables:
            con = self._run.con
            self._tables["remits"] = RemitBatch(tables={
                name: _arrow(con, f'select * from "{keys.input_table(name)}"') for name in REMIT_TABLES})
        return self._tables["remits"]

    def adjudication_diff(self, store=None):
        """Submitted vs adjudicated, line by line (:mod:`reclaim.loop.adjudication_diff`), on this
        run's match; computed once."""
        if self._diff is None:
            from ..loop.adjudication_diff import compare

            self._diff = compare(self._run.con, store, model_ids=keys.to_model_ids)
        return self._diff

    def close(self) -> None:
        """Free the run's database (the tables already read stay usable)."""
        if self._run is not None:
            self._run.close()
            self._run = None


def _load(con: duckdb.DuckDBPyConnection, source, want: str) -> dict[str, int]:
    """Files (paths) through ``load_into``, or a batch's Arrow tables, into the model's tables
    (created empty when there is no input)."""
    from ..claims.io import load_batch_into, load_into

    if source is None or isinstance(source, (ClaimBatch, RemitBatch)):
        batch = source if source is not None else (RemitBatch() if want == "remits" else ClaimBatch())
        return load_batch_into(con, batch, prefix=keys.INPUT_PREFIX)
    paths = [source] if isinstance(source, (str, Path)) else source  # one path is a list of one
    return load_into(con, [Path(p) for p in paths], want, prefix=keys.INPUT_PREFIX)


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


def _asp_quarters(store) -> pa.Table:
    """The ASP quarters held (release, effective_from, effective_to): a price is used only in its quarter."""
    empty = pa.table({"release": pa.array([], pa.string()), "effective_from": pa.array([], pa.date32()),
                      "effective_to": pa.array([], pa.date32())})
    if store is None:
        return empty
    res = store.con.execute("select release, min(effective_from) as effective_from, max(effective_to) as effective_to "
                            "from asp_pricing group by release").arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def _no_quarter_notes(con) -> list[str]:
    """Once per run: the remittance lines no ASP quarter held could price (no underpayment computed)."""
    row = con.execute("select min(service_date), max(service_date), count(*) from unpriced "
                      "where reason like 'no ASP pricing quarter held covers%'").fetchone()
    if not row[2]:
        return []
    newest = con.execute("select release, effective_from, effective_to from asp_quarters "
                         "order by effective_from desc limit 1").fetchone()
    held = f"the newest held is {newest[0]} ({newest[1]} to {newest[2]})" if newest else "none is held"
    span = str(row[0]) if row[0] == row[1] else f"{row[0]} to {row[1]}"
    return [f"no ASP pricing quarter in force on {span} ({row[2]:,} line(s)): {held}; their underpayment against "
            "the ASP limit was not computed (never against another quarter's) — pull the quarter of the date "
            "(reclaim data pull --dataset asp)"]


#: the worklist's claims and every other claim of the same patients: the edit catalog's
#: patient-scoped edits (duplicates, frequency limits) see the same lines as on the whole batch
WORKLIST_CLAIMS_SQL = """
create or replace temp table worklist_claims as
with item_claims as (
    select distinct claim_id from worklist where claim_id is not null
    union  -- written-off denials too: their root cause (CO-29: the timely-filing edit) counts as preventable
    select cm.claim_id from write_offs w join claim_match cm using (remit_claim_id)
),
patients as (
    select distinct c.patient_id from claims_out c join item_claims i using (claim_id) where c.patient_id is not null
)
select claim_id from item_claims
union
select c.claim_id from claims_out c join patients p using (patient_id)
"""


def _worklist_claims(con: duckdb.DuckDBPyConnection) -> ClaimBatch:
    """The submitted claims of the worklist's patients, as a batch (bounded by the worklist,
    not by the input)."""
    con.execute(WORKLIST_CLAIMS_SQL)
    tables = {
        "claims": _arrow(con, "select c.* from claims_out c semi join worklist_claims using (claim_id)"),
        "lines": _arrow(con, "select l.* from lines_out l semi join worklist_claims using (claim_id) "
                             "order by claim_id, line_number"),
        "diagnoses": _arrow(con, "select d.* from diagnoses_out d semi join worklist_claims using (claim_id)"),
    }
    # the claims' files and transactions (the edit catalog reads the format, the 837 writer the parties)
    tables["files"] = _arrow(con, "select f.* from files f where f.file_id in (select file_id from claims_out c "
                                  "semi join worklist_claims using (claim_id))")
    tables["transactions"] = _arrow(con, "select t.* from transactions t where t.transaction_id in "
                                         "(select transaction_id from claims_out c semi join worklist_claims using (claim_id))")
    return ClaimBatch(tables=tables)


def _run_edits(con, store, policies, as_of) -> tuple[ClaimBatch | None, pa.Table | None, bool, str | None]:
    """Run the edit catalog on the worklist patients' claims, as of ``as_of`` (timely filing is
    judged on that day); (those claims, raw findings, ran, note)."""
    if store is None:
        return None, None, False, "no reference store: root causes not computed"
    claims = _worklist_claims(con)
    if claims["claims"].num_rows == 0:
        return claims, None, False, None
    from ..edits import check

    found = check(claims, store=store, policies=policies or None, date_of_check=as_of)
    return claims, found.table, True, None


def _arrow(con, sql: str) -> pa.Table:
    res = con.execute(sql).arrow()
    return res.read_all() if hasattr(res, "read_all") else res


def _check_unique_items(con) -> None:
    """Two worklist items never share a natural key or an id (the store would merge them)."""
    dup = con.execute("select count(*) - count(distinct natural_key), count(*) - count(distinct item_id) "
                      "from items_final").fetchone()
    if dup != (0, 0):
        raise RuntimeError(f"worklist identity broken: {dup[0]} duplicate natural keys, {dup[1]} duplicate ids "
                           "(a bug in reclaim.recovery.worklist.KEY_SQL)")


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
    memory_limit: str = MEMORY_LIMIT,
) -> RecoveryResult:
    """Explain ``remits`` against the submitted ``claims`` and build the ranked worklist.

    ``remits`` / ``claims``: batches, or paths (files or folders, any format
    :func:`reclaim.claims.io.load_into` reads: X12, CSV/XLSX, FHIR, ``reclaim convert`` Parquet);
    files are streamed, a file of the wrong kind or that cannot be read is a ``read_issues``
    row and the others are still recovered;
    ``store``: the reference store (CARC/RARC texts, ASP prices, the edit catalog's data);
    ``policies``: payer policies for the edit catalog; ``terms``: recovery terms
    (:func:`reclaim.recovery.terms.load`, default built-in); ``db_url``: when given, the
    worklist is saved there (idempotent) and past outcomes there set the odds;
    ``threshold``: dollars below which an underpayment is not listed; ``as_of``: the day
    deadlines are counted from (default today); ``history``: observed outcomes of past claims and
    remittances (:func:`reclaim.loop.effectiveness.observed_odds`), added to the worklist
    store's own outcomes to set the odds; ``memory_limit``: DuckDB's memory for the run
    (beyond it, it spills to a temporary directory).
    """
    as_of = as_of or dt.date.today()
    terms = terms if terms is not None else terms_mod.builtin()
    notes: list[str] = []
    run = _Run(memory_limit)
    try:
        return _recover(run, remits, claims, store=store, policies=policies, terms=terms, db_url=db_url,
                        threshold=threshold, as_of=as_of, run_edits=run_edits, history=history, notes=notes)
    except BaseException:
        run.close()
        raise


def _recover(run: _Run, remits, claims, *, store, policies, terms, db_url, threshold, as_of, run_edits,
             history, notes) -> RecoveryResult:
    con = run.con
    timings: dict[str, float] = {}
    clock = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    ack_files, remits = acks.split_inputs(remits)  # 999/TA1/277CA/277 files go beside the 835s
    more_acks, claims = acks.split_inputs(claims)  # (or sit in the claims folder)
    ack_files += more_acks
    counts = _load(con, remits, "remits")
    for name, n in _load(con, claims, "claims").items():  # files, transactions, read_issues: both kinds
        counts[name] = counts.get(name, 0) + n
    counts.update(acks.load(con, ack_files, issues_table=keys.input_table("read_issues")))
    step("load")
    keys.attach(con)
    con.register("taxonomy", taxonomy.load())
    for name, table in terms_mod.tables(terms).items():
        con.register(name, table)
    step("keys")

    matching.match(con)
    step("match")
    classify.classify(con)
    step("classify")

    codes = [r[0] for r in con.execute("select distinct procedure_code from remit_lines where procedure_code is not null").fetchall()]
    con.register("asp", _asp_rows(store, codes))
    con.register("asp_quarters", _asp_quarters(store))
    if store is None:
        notes.append("no reference store: official CARC/RARC texts and ASP prices unavailable (run `reclaim data import`)")
    underpayment.expected_payments(con)
    step("expected_payments")
    notes += _no_quarter_notes(con)
    worklist.build_items(con, threshold=threshold)
    acks.build(con, store=store)  # front-end rejections and pended claims (recovery/acks.py)
    step("items")

    observed = None
    db = None
    if db_url:
        from ..store import WorklistStore

        db = WorklistStore(db_url)
        observed = db.observed_outcomes()
    worklist.prioritize(con, as_of=as_of, observed=_combined_outcomes(observed, history))
    keys.outputs(con)
    step("prioritize")

    claim_batch, raw_findings, ran, note = (None, None, False, "edit catalog not run") if not run_edits \
        else _run_edits(con, store, policies, as_of)
    if note:
        notes.append(note)
    rootcause.attach_root_cause(con, rootcause.findings_table(raw_findings), catalog_ran=ran)
    step("root_cause")

    carc, rarc, _release = taxonomy.official_texts(store)
    con.register("carc_text", carc)
    con.register("action_text", pa.table({"action": list(taxonomy.ACTIONS), "action_text": list(taxonomy.ACTIONS.values())}))
    con.execute(f"""
        create or replace temp table items_final as
        select {', '.join(ITEM_COLUMNS)}
        from (select w.*, ct.description as official_text, acts.action_text
              from worklist w
              left join carc_text ct on ct.code = w.carc
              left join action_text acts on acts.action = w.action) w
    """)
    _check_unique_items(con)
    reconcile.reconcile(con)
    from . import summary as summary_mod

    result = RecoveryResult(
        summary=summary_mod.summarize(con),
        read_issues=_arrow(con, f'select * from "{keys.input_table("read_issues")}"'),
        as_of=as_of, counts=counts, notes=notes, _claims=claim_batch, findings=raw_findings, timings=timings, _run=run,
    )
    step("summary")
    if db is not None:
        result.saved = db.upsert_items(result.items)
        db.save_reconciliation(result.summary["reconciliation"])
        result.summary["recovered"] = db.recovered()
        log.info("worklist saved: %d new, %d unchanged", result.saved["inserted"], result.saved["unchanged"])
        step("save")
    return result
