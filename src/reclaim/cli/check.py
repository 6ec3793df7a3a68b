"""``reclaim check``: lint claim files before submission (a thin layer over reclaim.edits.check)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import click


def _split(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


def _money(value) -> str:
    return f"${float(value):,.2f}"


@click.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--policy", "policy_files", multiple=True, metavar="FILE|medicare|medicaid",
              help="Payer policy (repeatable). Each claim gets the policy matching its payer id, else its filing "
                   "indicator, else the first one. Default: the built-in Medicare and Medicaid policies.")
@click.option("--history", "history_files", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Earlier claims of the same patients (frequency limits, duplicates). Repeatable.")
@click.option("--select", multiple=True, metavar="CODES", help="Only these edits: codes, prefixes (RC3) or categories, comma-separated.")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these edits (same forms as --select).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default=None, help="Output format (default: text).")
@click.option("--fix", is_flag=True, help="Apply the mechanical fixes and write the corrected claims to -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where --fix writes the claims (837 or CSV, like the input).")
@click.option("--date-of-check", type=click.DateTime(["%Y-%m-%d"]), help="The date the check is run as of (default: today).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None, help="Edit engine (default: the setting, duckdb).")
@click.pass_obj
def command(settings, files, policy_files, history_files, select, ignore, fmt, fix, output, date_of_check, engine):
    """Lint claims (837P/837I, CSV, FHIR, or the Parquet tables `reclaim convert` writes) against
    the official code sets and payer policies.

    Exits 1 when errors remain, 0 otherwise."""
    from ..claims.io import read_claims
    from ..edits import check, check_files
    from ..edits.fix import apply_fixes, write_fixed
    from ..errors import ReclaimError
    from ..policy import load_policies
    from ..refdata.store import RefStore

    if fix and output is None:
        raise click.UsageError("--fix needs -o/--output: the file to write the corrected claims to")
    fmt = fmt or (settings.format if settings.format in ("text", "json", "csv") else "text")
    policies = load_policies(list(policy_files) or ([settings.policy] if settings.policy else None))
    as_of = date_of_check.date() if date_of_check else dt.date.today()
    with RefStore.open(settings) as store:
        run = dict(store=store, policies=policies, select=_split(select), ignore=_split(ignore),
                   engine=engine or settings.engine, date_of_check=as_of)
        changes = None
        if fix:
            # --fix rewrites the claims, so it holds them in memory (one 837 or one CSV)
            batch = read_claims(files)
            history = read_claims(history_files) if history_files else None
            findings = check(batch, history=history, **run)
            formats = set(batch["files"].column("format").to_pylist())
            if not formats <= {"x12", "csv"} or len(formats) != 1:
                raise ReclaimError(f"--fix writes one 837 or one CSV; the inputs are {sorted(formats)}",
                                   hint="run --fix on files of one format at a time")
            fixed, changes = apply_fixes(batch, findings.table)
            from ..claims.x12.writer import envelope_from_settings

            write_fixed(fixed, output, formats.pop(), **envelope_from_settings(settings))
            remaining = check(fixed, history=history, **run)
        else:
            # streamed: X12 block by block, Parquet read by the engine itself
            findings = check_files(files, history=history_files, **run)
    summary = findings.summary()
    issues = findings.read_issues
    if fmt == "json":
        payload = {"summary": summary, "findings": findings.table.to_pylist(), "read_issues": issues.to_pylist()}
        if changes is not None:
            payload["fixes"] = changes.to_pylist()
            payload["remaining"] = remaining.summary()
        click.echo(json.dumps(payload, default=str, indent=2))
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        sink = sys.stdout.buffer
        pacsv.write_csv(findings.table, sink)
    else:
        _text(findings, summary, issues)
        if changes is not None:
            _diff(batch, changes, output, remaining)
    errors = (remaining if changes is not None else findings).errors
    return 1 if errors else 0


def _natural(text: str) -> tuple:
    """Sort key that puts claim ':2' before ':10' (claim ids end in their ordinal in the file)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or ""))


def _text(findings, summary, issues) -> None:
    paths = dict(zip(findings.files.column("file_id").to_pylist(), findings.files.column("path").to_pylist()))
    file_order = {fid: i for i, fid in enumerate(findings.files.column("file_id").to_pylist())}
    claim_files = dict(zip(findings.claim_files.column("claim_id").to_pylist(),
                           findings.claim_files.column("file_id").to_pylist()))
    colors = {"error": "red", "warning": "yellow", "info": "blue"}
    current_file = current_claim = None
    rows = sorted(findings.table.to_pylist(), key=lambda r: (file_order.get(claim_files.get(r["claim_id"]), -1),
                                                             _natural(r["claim_id"]), r["line_number"] or 0, r["code"]))
    for r in rows:
        path = paths.get(claim_files.get(r["claim_id"]), "?")
        if path != current_file:
            click.secho(path, bold=True)
            current_file, current_claim = path, None
        if r["claim_id"] != current_claim:
            click.echo(f"  claim {r['patient_control_number']}  (policy {r['policy_id']})")
            current_claim = r["claim_id"]
        where = f"line {r['line_number']}" if r["line_number"] is not None else "claim"
        code = click.style(f"{r['code']} {r['severity']}", fg=colors.get(r["severity"]))
        click.echo(f"    {where:<8} {r['procedure_code'] or '':<6} {code}  {r['message']}")
        click.echo(f"{'':<21}fix: {r['fix'] or '?'}" + ("  [--fix]" if r["fix_action"] else ""))
        if r["denials"]:
            click.echo(f"{'':<21}prevents: {r['denials']}")
    for r in issues.to_pylist():
        place = ", ".join(f"{k} {r[k]}" for k in ("segment_index", "byte_offset", "line", "column") if r.get(k) is not None)
        click.secho(f"{r['path']}: {r['severity']} {r['code']} ({place}): {r['message']} [skipped: {r['skipped']}]", fg="yellow", err=True)
    sev = summary["by_severity"]
    click.echo("")
    click.secho(
        f"{summary['findings']} findings ({sev['error']} errors, {sev['warning']} warnings, {sev['info']} info) "
        f"on {summary['lines']} lines; {summary['claims_with_errors']} of {summary['claims']} claims have errors; "
        f"{_money(summary['dollars_at_risk'])} at risk on lines with errors",
        bold=True,
    )
    for row in summary["by_code"]:
        click.echo(f"  {row['code']} {row['name']:<36} {row['severity']:<7} {row['findings']:>5}  {_money(row['dollars_at_risk']):>14}")
    for row in summary.get("policies_applied", []):
        how = "default: no policy given matches these claims" if row["is_default"] else "given"
        click.echo(f"  policy {row['policy_id']} ({row['name']}; {how}): {row['claims']} claims"
                   + (f"; not checked: {row['not_checked']}" if row["not_checked"] else ""))
    fixable = sum(1 for a in findings.table.column("fix_action").to_pylist() if a)
    if fixable:
        click.echo(f"  {fixable} findings can be fixed mechanically with --fix -o FILE")
    if issues.num_rows:
        click.secho(f"  {issues.num_rows} problems reading the input (listed above on stderr); skipped parts were not checked", fg="yellow")
    for note in summary["notes"]:
        click.echo(f"  note: {note}")


def _diff(batch, changes, output, remaining) -> None:
    click.echo("")
    click.secho(f"--fix: {changes.num_rows} changes written to {output}", bold=True)
    order = {cid: i for i, cid in enumerate(batch["claims"].column("claim_id").to_pylist())}
    for r in sorted(changes.to_pylist(), key=lambda r: (order.get(r["claim_id"], -1), r["line_number"], r["field"])):
        click.echo(f"  claim {r['patient_control_number']} line {r['line_number']}: {r['field']}: "
                   + click.style(f"- {r['before'] or '(none)'}", fg="red") + " "
                   + click.style(f"+ {r['after'] or '(none)'}", fg="green") + f"   ({r['codes']})")
    click.echo(f"  after the fixes: {remaining.errors} errors remain (need a person: see the findings above)")
