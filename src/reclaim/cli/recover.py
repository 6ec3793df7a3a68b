"""``reclaim recover REMITS... --claims CLAIMS...``: explain remittances, build the worklist.

Writes into ``-o OUTDIR``: worklist.csv/.xlsx/.json, summary-*.csv, summary.xlsx, charts (PNG),
unmatched.csv, write-offs.csv, corrected-claims.837 (replacement claims) and letters/ (PDF and
DOCX per item), saves the worklist in the database (``--db``, default the ``database_url``
setting) and prints the top of the ranked worklist. The files stream into a DuckDB database
(one batch in memory at a time, ``--memory-limit``, spilling beyond it), see docs/recover.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .options import MemorySize, output_folder
from .terminal import Column, Progress, table, width


def _money(value) -> str:
    return "" if value is None else f"${value:,.2f}"


def _history_outcomes(claim_paths, remit_paths, as_of: dt.date):
    """Observed recovery outcomes of past claims and their remittances (None without history):
    a denied line counts as recovered when a later remittance paid it, as resolved once
    re-adjudicated or decided more than 120 days before ``as_of``
    (reclaim.loop.effectiveness.observed_odds_files: the files stream into DuckDB, so a long
    history need not fit in memory)."""
    if not claim_paths and not remit_paths:
        return None
    if not claim_paths or not remit_paths:
        raise click.UsageError("--history-claims and --history-remits go together: the past claims and their remittances")
    from ..loop.effectiveness import observed_odds_files

    outcomes, counts = observed_odds_files(list(claim_paths), list(remit_paths), as_of=as_of)
    issues = counts["read_issues"]
    click.echo(f"History: {counts['claims']} claims, {counts['remit_claims']} remittance claims; "
               f"{sum(outcomes['resolved'].to_pylist())} resolved denials set the odds of "
               f"{outcomes.num_rows} (payer, kind, reason) group(s)"
               + (f"; {issues} read issue(s) in the history files, those parts skipped" if issues else ""))
    return outcomes


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("remits", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--claims", "claims", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Submitted claims (837P/837I, CSV, XLSX, FHIR; files or folders). Repeat for several.")
@click.option("--history-claims", "history_claims", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Past submitted claims (files or folders); with --history-remits, their outcomes set the recovery odds.")
@click.option("--history-remits", "history_remits", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="The remittances (835) of the past claims given with --history-claims.")
@click.option("--policy", "policies", multiple=True, metavar="P",
              help="Payer policy for the edit catalog (built-in name or YAML file). Repeat for several.")
@click.option("--terms", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recovery terms (contract pricing, deadlines) for your payers; see docs/recover.md.")
@click.option("--db", "db", metavar="URL", help="Worklist database (sqlite:///... or postgresql://...).")
@click.option("--no-save", is_flag=True, help="Do not save the worklist in the database.")
@click.option("-o", "--out", "out", type=click.Path(file_okay=False, path_type=Path), default=Path("recover-out"),
              show_default=True, help="Folder for the worklist, summary, corrected claims and letters.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Count deadlines from this day (default today).")
@click.option("--threshold", type=float, help="Underpayments below this many dollars are not listed (setting underpayment_threshold).")
@click.option("--templates", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Your copy of the letter templates folder.")
@click.option("--letters/--no-letters", default=True, show_default=True, help="Write appeal letters (PDF, DOCX).")
@click.option("--top", type=int, default=15, show_default=True, help="How many worklist rows to print.")
@click.option("--request-status-after", "status_after", type=int, default=None, metavar="DAYS",
              help="Write status-requests.276: a 276 claim status request for the submitted claims with no "
                   "answer (no 835, not rejected) DAYS or more after their 837 was created.")
@click.option("--memory-limit", "memory_limit", default=None, type=MemorySize(),
              help="Memory for the run's database (e.g. 2GB, the default); beyond it, it spills to a temporary folder.")
@click.pass_obj
def command(settings, remits, claims, history_claims, history_remits, policies, terms, db, no_save, out, as_of, threshold, templates, letters, top,
            memory_limit, status_after):
    """Explain remittances (835) against the submitted claims and rank what can be recovered."""
    from ..documents.letters import contact_from_settings, write_letters
    from ..recovery import recover
    from ..recovery import terms as terms_mod
    from ..recovery.engine import MEMORY_LIMIT
    from ..recovery.corrected import write_corrected_claims
    from ..recovery.export import write_outputs
    from ..refdata.store import RefStore

    output_folder(out)
    if policies:  # a bad policy is said now, not after the files are read
        from ..policy import load_policies

        load_policies(list(policies))
    store = RefStore.open(settings)
    as_of_date = as_of.date() if as_of else dt.date.today()
    db_url = None if no_save else (db or settings.database_url)
    history = _history_outcomes(history_claims, history_remits, as_of_date)
    step = Progress("reading and explaining the remittances")
    result = recover(
        list(remits), list(claims) or None, store=store, policies=list(policies) or ([settings.policy] if settings.policy else None),
        terms=terms_mod.load(terms), db_url=db_url,
        threshold=settings.underpayment_threshold if threshold is None else threshold, as_of=as_of_date,
        history=history, memory_limit=memory_limit or MEMORY_LIMIT,
    )
    step("writing the worklist, summary and charts")
    files = write_outputs(result, out)
    step("writing the corrected claims")
    from ..claims.x12.writer import envelope_from_settings
    from ..errors import ReclaimError

    try:
        corrected = write_corrected_claims(result, out / "corrected-claims.837", **envelope_from_settings(settings))
    except ReclaimError as exc:  # e.g. CSV claims and no envelope configured: the rest of the run stands
        corrected = {"path": None, "claims": 0, "changes": None}
        click.secho(f"note: no corrected claims written: {exc}" + (f" ({exc.hint})" if exc.hint else ""),
                    fg="yellow", err=True)
    step("writing the appeal letters")
    written = write_letters(result.items, result.claims, store, out / "letters", templates_dir=templates,
                            today=as_of_date, policies=list(policies) or None,
                            contact=contact_from_settings(settings)) if letters else []
    step.stop()

    issues = result.read_issues.num_rows
    remit_claims = result.counts.get("remit_claims", 0)
    click.echo(f"{remit_claims} remittance claims, {result.count('claim_match')} matched to submitted claims, "
               f"{result.count('unmatched')} unmatched (see unmatched.csv)"
               + (f"; {issues} read issues (see read-issues.csv)" if issues else ""))
    for note in result.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)
    from ..recovery.reconcile import text_lines

    click.echo("\nReconciliation with the remittances (summary-reconciliation.csv; denied claims in denied.csv):")
    for line in text_lines(result.summary["reconciliation"]):
        click.echo(line)
    items = result.items.to_pylist()
    total = sum((i["amount"] for i in items if i["kind"] != "patient_responsibility"), start=0)
    share = sum((i["amount"] for i in items if i["kind"] == "patient_responsibility"), start=0)
    click.echo(f"\nWorklist: {len(items)} items, {_money(total)} at stake from payers, {_money(share)} patient share "
               f"to bill (deadlines as of {as_of_date.isoformat()})\n")
    from .worklist import WORKLIST_COLUMNS, table_row

    rows = [{"n": str(n), **table_row(i)} for n, i in enumerate(items[:top], 1)]
    for line in table(rows, [Column("#", "n", ">", drop=8), *WORKLIST_COLUMNS], width()):
        click.echo(line)
    if len(items) > top:
        click.echo(f"... {len(items) - top} more in {out / 'worklist.csv'}")
    click.echo("")
    changes = result.adjudication_diff(store)  # what the payers changed, line by line (same match)
    changes.write_csv(out / "payer-changes.csv")
    for line in changes.headlines():
        click.echo(f"Payer change: {line}")
    click.echo(f"{changes.findings.num_rows} submitted-vs-adjudicated difference(s) in {out / 'payer-changes.csv'}\n")
    if db_url:
        click.echo(f"Saved to the worklist database: {result.saved.get('inserted', 0)} new, "
                   f"{result.saved.get('unchanged', 0)} already known (`reclaim worklist` to work them)")
    for note in corrected.get("notes") or []:
        click.secho(f"note: {note}", fg="yellow", err=True)
    if corrected["path"]:
        click.echo(f"Corrected claims: {corrected['claims']} replacement claim(s) in {', '.join(corrected['paths'])}"
                   + (f" ({corrected['changes'].num_rows} field fix(es) applied from the edit catalog)"
                      if corrected["changes"].num_rows else ""))
    if written:
        click.echo(f"Letters: {len(written)} (PDF + DOCX) in {out / 'letters'}")
    click.echo(f"Worklist and summary: {out}/worklist.csv, worklist.xlsx, summary.xlsx, "
               + ", ".join(Path(p).name for p in files["summary"] if p.endswith(".png")))
    _acknowledgments(result, out, status_after, settings.x12_usage)
    status = _exit_status(result, out)
    result.close()
    click.get_current_context().exit(status)


def _exit_status(result, out: Path) -> int:
    """2 when an input file could not be read at all (empty, binary, the wrong kind) or no
    remittance claim was read: the run's outputs stand for the rest, but a script must notice."""
    from .failures import FAILED, error, unread_inputs

    unread = unread_inputs(result.read_issues)
    if unread:
        error(f"{unread}: left out of the worklist",
              f"each file's reason is in {out / 'read-issues.csv'}; fix or remove those files and run again")
        return FAILED
    if not result.counts.get("remit_claims", 0) and not _acknowledged(result):
        error("nothing was recovered: no remittance claims (or acknowledgments) were read from the input",
              "give 835 remittance files (or FHIR ExplanationOfBenefit, or 999/277CA acknowledgments) as REMITS, "
              "and the claims with --claims")
        return FAILED
    return 0


def _acknowledgments(result, out: Path, status_after: int | None, usage: str) -> None:
    """claim-status.csv (every submitted claim's acknowledgment state) and, when asked, the 276."""
    from collections import Counter

    from ..recovery import acks
    from ..recovery.export import write_csv

    if not _acknowledged(result) and status_after is None:
        return  # no acknowledgment given: every claim would read "awaiting acknowledgment"
    status = result.claim_status
    if status.num_rows:
        write_csv(status, out / "claim-status.csv")
        states = Counter(status.column("state").to_pylist())
        click.echo("Claim status: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
                   + f" (see {out / 'claim-status.csv'})")
    if status_after is not None:
        written = acks.write_status_requests(result, out / "status-requests.276", days=status_after, usage=usage)
        if written.path:
            click.echo(f"Claim status requests: {written.claims} claim(s) with no answer after {status_after} days "
                       f"in {written.path}")
        else:
            click.echo(f"Claim status requests: no claim without an answer after {status_after} days")
        for pcn, missing in written.skipped:
            click.secho(f"note: claim {pcn} not in the 276: no {missing}", fg="yellow", err=True)


def _acknowledged(result) -> bool:
    """The run read acknowledgments (999 sets, 277/277CA claims, TA1s)."""
    return any(result.counts.get(t, 0) for t in ("ack_sets", "status_claims", "interchange_acks"))
