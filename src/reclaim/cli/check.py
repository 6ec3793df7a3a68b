"""``reclaim check``: lint claim files before submission (a thin layer over reclaim.edits.check)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import click

from .terminal import Progress


def _split(values: tuple[str, ...]) -> list[str] | None:
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


#: what `check --format` prints
FORMATS = ("text", "json", "csv", "markdown")


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
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="Output format (default: the format setting, else text); markdown for a ticket or a wiki.")
@click.option("--fix", is_flag=True, help="Apply the mechanical fixes and write the corrected claims to -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where --fix writes the claims, in the input's format (837, CSV or Excel): the name must say so.")
@click.option("--frequency", type=click.Choice(["7", "8"]), default=None,
              help="With --fix, for claims already sent: write them as replacements (7) or voids (8); each needs "
                   "the payer's claim number in the input (REF*F8 / original_claim_number). "
                   "For other numbers: reclaim claims replace|void.")
@click.option("--date-of-check", type=click.DateTime(["%Y-%m-%d"]), help="The date the check is run as of (default: today).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None, help="Edit engine (default: the setting, duckdb).")
@click.pass_obj
def command(settings, files, policy_files, history_files, select, ignore, fmt, fix, output, frequency, date_of_check,
            engine):
    """Lint claims (837P/837I, CSV, FHIR, or the Parquet tables `reclaim convert` writes) against
    the official code sets and payer policies.

    Exit status: 0 when every input was read and checked clean, 1 when errors remain, 2 when an
    input file could not be read at all or no claim was checked."""
    from ..claims.io import read_claims
    from ..edits import check, check_files
    from ..edits.fix import check_output_name, fix_until_clean, input_format, write_fixed
    from ..policy import load_policies
    from ..refdata.store import RefStore
    from .options import output_file, output_format

    if fix and output is None:
        raise click.UsageError("--fix needs -o/--output: the file to write the corrected claims to")
    if frequency and not fix:
        raise click.UsageError("--frequency goes with --fix (it says how the corrected claims are written)")
    if output is not None and not fix:
        raise click.UsageError("-o/--output is where --fix writes the corrected claims; without --fix nothing is "
                               "written (to keep the report, redirect it: --format json > report.json)")
    if output is not None:
        output_file(output)
    fmt = output_format(settings, fmt, FORMATS, "check")
    policies = load_policies(list(policy_files) or ([settings.policy] if settings.policy else None))
    as_of = date_of_check.date() if date_of_check else dt.date.today()
    step = Progress(f"checking the claims ({engine or settings.engine})")
    with RefStore.open(settings) as store:
        run = dict(store=store, policies=policies, select=_split(select), ignore=_split(ignore),
                   engine=engine or settings.engine, date_of_check=as_of, billing_state=settings.billing_state)
        changes = None
        if fix:
            # --fix rewrites the claims, so it holds them in memory (one 837 or one CSV)
            batch = read_claims(files, progress=step.files("reading"))
            check_output_name(output, input_format(batch))  # the input's own format, before the work
            step(f"checking {batch['lines'].num_rows:,} lines ({run['engine']})")
            history = read_claims(history_files) if history_files else None
            # fixes until nothing mechanical is left (a code swap makes its units and JW/JZ fixable)
            fixed, changes, findings, remaining, _ = fix_until_clean(batch, lambda b: check(b, history=history, **run))
            from ..claims.x12.writer import envelope_from_settings

            write_fixed(fixed, output, frequency=frequency, **envelope_from_settings(settings))
        else:
            # streamed: X12 block by block, Parquet read by the engine itself
            findings = check_files(files, history=history_files, **run,
                                   progress=step.files("reading", then=f"running the edits ({run['engine']})"))
    step.stop()
    summary = findings.summary()
    issues = findings.read_issues
    if fmt == "json":
        payload = {"summary": summary, "findings": findings.table.to_pylist(), "read_issues": issues.to_pylist()}
        if changes is not None:
            payload["fixes"] = changes.to_pylist()
            payload["remaining"] = remaining.summary()
            payload["remaining_findings"] = remaining.table.to_pylist()
        click.echo(json.dumps(payload, default=str, indent=2))
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        sink = sys.stdout.buffer
        pacsv.write_csv(findings.table, sink)
    elif fmt == "markdown":
        click.echo(_markdown(findings, summary, issues, changes, remaining if changes is not None else None), nl=False)
    else:
        _text(findings, summary, issues)
        if changes is not None:
            _diff(batch, changes, output, remaining)
    errors = (remaining if changes is not None else findings).errors
    click.get_current_context().exit(_exit_status(issues, summary, errors))


def _exit_status(issues, summary, errors: int) -> int:
    """2 when an input file could not be read at all or no claim was checked (a clean report
    of nothing must not pass a script's test), 1 when errors remain, 0 when all is clean."""
    from .failures import FAILED, error, unread_inputs

    unread = unread_inputs(issues)
    if unread:
        error(f"{unread}: not checked",
              "each file's reason is listed with the read issues; fix or remove those files and run again")
        return FAILED
    if not summary["claims"]:
        error("nothing was checked: no claims were read from the input",
              "give claim files (837P/837I, CSV, XLSX, FHIR Claim) or the tables `reclaim convert` writes")
        return FAILED
    return 1 if errors else 0


def _natural(text: str) -> tuple:
    """Sort key that puts claim ':2' before ':10' (claim ids end in their ordinal in the file)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or ""))


def _ordered(findings) -> list[tuple[str, dict]]:
    """(path, finding) in reading order: file as given, claim as in the file, line, edit code."""
    paths = dict(zip(findings.files.column("file_id").to_pylist(), findings.files.column("path").to_pylist()))
    file_order = {fid: i for i, fid in enumerate(findings.files.column("file_id").to_pylist())}
    claim_files = dict(zip(findings.claim_files.column("claim_id").to_pylist(),
                           findings.claim_files.column("file_id").to_pylist()))
    rows = sorted(findings.table.to_pylist(), key=lambda r: (file_order.get(claim_files.get(r["claim_id"]), -1),
                                                             _natural(r["claim_id"]), r["line_number"] or 0, r["code"]))
    return [(paths.get(claim_files.get(r["claim_id"]), "?"), r) for r in rows]


def _text(findings, summary, issues) -> None:
    colors = {"error": "red", "warning": "yellow", "info": "blue"}
    current_file = current_claim = None
    for path, r in _ordered(findings):
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
        place = f" ({place})" if place else ""
        click.secho(f"{r['path']}: {r['severity']} {r['code']}{place}: {r['message']} [skipped: {r['skipped']}]", fg="yellow", err=True)
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
    click.echo(f"  after the fixes: {remaining.errors} errors remain (need a person):")
    for r in sorted(remaining.table.to_pylist(), key=lambda r: (order.get(r["claim_id"], -1), r["line_number"] or 0, r["code"])):
        where = f"line {r['line_number']}" if r["line_number"] is not None else "claim"
        click.echo(f"    claim {r['patient_control_number']} {where}: {r['code']} {r['severity']}  {r['message']}")

def _markdown(findings, summary, issues, changes, remaining) -> str:
    """The report as Markdown (a ticket, a wiki page, a pull request): the totals, one table of
    findings per file, the totals by edit, what could not be read, and the --fix changes."""
    def cell(value) -> str:
        return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")

    def rows_of(header: list[str], rows: list[list]) -> list[str]:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
            "| " + " | ".join(cell(v) for v in row) + " |" for row in rows]

    sev = summary["by_severity"]
    out = ["# reclaim check", "",
           f"{summary['findings']} findings ({sev['error']} errors, {sev['warning']} warnings, {sev['info']} info) "
           f"on {summary['lines']} lines; {summary['claims_with_errors']} of {summary['claims']} claims have errors; "
           f"{_money(summary['dollars_at_risk'])} at risk on lines with errors.", ""]
    by_file: dict[str, list[dict]] = {}
    for path, r in _ordered(findings):
        by_file.setdefault(path, []).append(r)
    for path, rows in by_file.items():
        out += [f"## {path}", ""]
        out += rows_of(["claim", "policy", "line", "code", "edit", "severity", "message", "fix"],
                       [[r["patient_control_number"], r["policy_id"], r["line_number"] or "claim", r["procedure_code"],
                         r["code"], r["severity"], r["message"],
                         (r["fix"] or "") + (" (--fix)" if r["fix_action"] else "")] for r in rows])
        out.append("")
    if summary["by_code"]:
        out += ["## By edit", ""]
        out += rows_of(["edit", "name", "severity", "findings", "at risk"],
                       [[r["code"], r["name"], r["severity"], r["findings"], _money(r["dollars_at_risk"])]
                        for r in summary["by_code"]])
        out.append("")
    if issues.num_rows:
        out += ["## Not read", ""]
        place = ("segment_index", "byte_offset", "line", "column")
        out += rows_of(["file", "issue", "where", "message", "skipped"],
                       [[r["path"], r["code"], ", ".join(f"{k} {r[k]}" for k in place if r.get(k) is not None),
                         r["message"], r["skipped"]] for r in issues.to_pylist()])
        out.append("")
    if changes is not None:
        out += ["## --fix changes", ""]
        out += rows_of(["claim", "line", "field", "before", "after", "edits"],
                       [[r["patient_control_number"], r["line_number"], r["field"], r["before"] or "(none)",
                         r["after"] or "(none)", r["codes"]] for r in changes.to_pylist()])
        out += ["", f"After the fixes: {remaining.errors} errors remain (they need a person).", ""]
    out += [f"- note: {note}" for note in summary["notes"]]
    return "\n".join(out).rstrip("\n") + "\n"
