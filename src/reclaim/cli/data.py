"""``reclaim data``: import official reference files, pull them from the publishers, show status.

``import DIR`` reads every recognized official file under DIR into the reference store
(atomically); ``pull`` downloads a dataset's official zips and imports them; ``status`` lists the
releases in the store, what is not loaded, and the drug descriptors whose unit is not parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..config import Settings
from . import terminal


def _run_import(settings: Settings, work) -> None:
    from .options import output_folder

    output_folder(settings.home_path, "--home", example="~/reclaim")
    with terminal.Progress("importing") as bar:
        report = work(lambda name, done, total: bar(f"importing {Path(name).name}", done, total))
    for item in report.loaded:
        click.echo(f"loaded {item.dataset} {item.release}: {item.rows.num_rows:,} rows from {item.path.name}")
    for path, reason in report.skipped:
        click.echo(f"skipped {path.name}: {reason}", err=True)
    click.echo(f"reference store: {report.store}")


@click.group("data")
def command() -> None:
    """Reference data: import, pull, status."""


@command.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def import_(settings: Settings, folder: Path) -> None:
    """Import the official files under FOLDER (a failed import leaves the store unchanged)."""
    from ..refdata.store import import_dir

    _run_import(settings, lambda step: import_dir(folder, settings.store_path, progress=step, bundled_icd10=True))


@command.command("pull")
@click.option("--dataset", type=click.Choice(["hcpcs", "asp", "mue", "icd10", "coverage", "opps"]), multiple=True,
              help="Dataset(s) to download (default: hcpcs and asp).")
@click.option("--release", metavar="ID", help="Release, e.g. 2026-01 / 2026-Q3 (quarterly) or FY2026 (ICD-10).")
@click.option("--base-url", metavar="URL", hidden=True, help="Replace the publishers' host (mirrors, tests).")
@click.pass_obj
def pull(settings: Settings, dataset: tuple[str, ...], release: str | None, base_url: str | None) -> None:
    """Download official releases from the publishers and import them."""
    from ..refdata import sources

    if settings.refdata_source not in ("cms", ""):
        folder = Path(settings.refdata_source).expanduser()
        click.echo(f"refdata_source is the folder {folder}: importing it instead of downloading", err=True)
        from ..refdata.store import import_dir

        _run_import(settings, lambda step: import_dir(folder, settings.store_path, progress=step, bundled_icd10=True))
        return

    def fetched(url: str, done: int, total: int | None) -> None:
        if total and terminal.interactive():  # a log file gets no carriage-return lines
            click.echo(f"\r{url.rsplit('/', 1)[-1]}: {done * 100 // total}%", nl=False, err=True)

    for name in dataset or ("hcpcs", "asp"):
        _run_import(settings, lambda step, name=name: sources.pull(
            name, settings.store_path, release=release, base_url=base_url, progress=fetched, import_progress=step))


@command.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None, help="Output format.")
@click.option("--wide", is_flag=True, help="One line per file with the whole sha256 (for a wide terminal or a file).")
@click.pass_obj
def status(settings: Settings, fmt: str | None, wide: bool) -> None:
    """Releases in the reference store (dataset, release, dates in force, rows, file, sha256),
    datasets not loaded, unparsed drug units."""
    from ..refdata.store import RefStore
    from .options import output_format

    with RefStore.open(settings) as store:
        rows = store.status()
        unparsed = store.unparsed_units()
        today = store.currency()
    fmt = output_format(settings, fmt, ("text", "json"), "data status")
    if fmt == "json":
        payload = {"store": str(settings.store_path), "releases": rows, "in_force_today": today,
                   "unparsed_drug_units": [{"release": u["release"], "code": u["code"]} for u in unparsed]}
        click.echo(json.dumps(payload, default=str, indent=2))
        return
    click.echo(f"reference store {settings.store_path}")
    for line in _status_lines(rows, wide, terminal.width()):
        click.echo(line)
    click.echo("newest release held per dataset, today")
    for line in _currency_lines(today, terminal.width()):
        click.echo(line)
    click.echo(f"drug descriptors with no parsable billing unit: {len(unparsed)}")
    click.echo("    (`reclaim data status --format json` lists them; in the store: view hcpcs_unparsed_units)")


def _currency_lines(today: list[dict], fit: int | None) -> list[str]:
    """Per dataset: the newest release held, its dates, whether it covers today, and what that
    means (wrapped on an indented line under it)."""
    import textwrap

    from .terminal import Column, table

    shown = [{"label": r["label"], "newest": r["newest_release"] or "",
              "span": f"{r['effective_from'] or ''} .. {r['effective_to'] or ''}",
              "covers": {True: "yes", False: "NO", None: "n/a"}[r["covers_today"]], "message": r["message"] or ""}
             for r in today]
    lines = table(shown, [Column("dataset", "label"), Column("newest", "newest"), Column("in force", "span"),
                          Column("covers today", "covers")], fit)
    out = lines[:2]
    for line, r in zip(lines[2:], shown):
        out.append(line)
        if r["message"]:
            out += textwrap.wrap(r["message"], max((fit or 10_000) - 4, 40), initial_indent="    ",
                                 subsequent_indent="    ", break_on_hyphens=False)
    return out


def _status_lines(rows: list[dict], wide: bool, fit: int | None) -> list[str]:
    """One line per file (dataset, release, dates in force, rows), its file name, sha256 (12
    characters; whole with --wide or in JSON) and notes on an indented line under it, wrapped at
    words to the terminal; --wide puts everything on the one line."""
    import textwrap

    from .terminal import Column, table

    shown = []
    for r in rows:
        span = "" if r["effective_from"] is None else f"{r['effective_from']} .. {r['effective_to'] or ''}"
        notes = r["notes"] if r["provenance"] in ("official", "") else f"[{r['provenance']}] {r['notes']}".strip()
        sha = r["sha256"] if wide else r["sha256"][:12]
        shown.append({**r, "span": span, "rows_": f"{r['rows']:,}", "notes": notes, "sha": sha})
    columns = [Column("dataset", "dataset"), Column("release", "release"), Column("in force", "span"),
               Column("rows", "rows_", ">")]
    if wide:
        columns += [Column("file", "file"), Column("sha256", "sha"), Column("notes", "notes")]
        return table(shown, columns)
    lines = table(shown, columns)
    out = lines[:2]
    for line, r in zip(lines[2:], shown):
        out.append(line)
        detail = "; ".join(part for part in (f"{r['file']} (sha256 {r['sha']})" if r["file"] else "", r["notes"])
                           if part)
        if detail:
            out += textwrap.wrap(detail, max((fit or 10_000) - 4, 40), initial_indent="    ",
                                 subsequent_indent="    ", break_on_hyphens=False)
    return out


@command.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--dataset", type=click.Choice(["all", "hcpcs", "asp", "crosswalk", "mue"]), default="all",
              help="Compare one dataset only (default: all).")
@click.option("--claims", "claim_files", multiple=True, type=click.Path(exists=True),
              help="Your claims (837/CSV/FHIR files or a `reclaim convert` Parquet folder): what the changes touch.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default=None,
              help="Output format (default: the format setting, else text).")
@click.pass_obj
def diff(settings: Settings, old: str, new: str, dataset: str, claim_files: tuple[str, ...], fmt: str | None) -> None:
    """What release NEW changes against OLD (e.g. 2025-Q4 2026-Q1), and what it means for your claims."""
    from ..loop.release_diff import report
    from .options import output_format

    fmt = output_format(settings, fmt, ("text", "json", "markdown"), "data diff")

    click.echo(report(settings, old, new, dataset=dataset, claim_files=claim_files, fmt=fmt), nl=False)
