"""``reclaim data``: import official reference files, pull them from the publishers, show status.

``import DIR`` reads every recognized official file under DIR into the reference store
(atomically); ``pull`` downloads a dataset's official zips and imports them; ``status`` lists the
releases in the store, what is not loaded, and the drug descriptors whose unit is not parsed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..config import Settings


def _progress():
    from rich.progress import BarColumn, Progress, TextColumn

    from rich.console import Console

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    console=Console(stderr=True), transient=True)


def _run_import(settings: Settings, work) -> None:
    from .options import output_folder

    output_folder(settings.home_path, "--home", example="~/reclaim")
    with _progress() as bar:
        task = bar.add_task("importing", total=None)

        def step(name: str, done: int, total: int) -> None:
            bar.update(task, description=name[-60:], completed=done, total=total)

        report = work(step)
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

    _run_import(settings, lambda step: import_dir(folder, settings.store_path, progress=step))


@command.command("pull")
@click.option("--dataset", type=click.Choice(["hcpcs", "asp", "mue", "icd10", "coverage"]), multiple=True,
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

        _run_import(settings, lambda step: import_dir(folder, settings.store_path, progress=step))
        return

    def fetched(url: str, done: int, total: int | None) -> None:
        if total:
            click.echo(f"\r{url.rsplit('/', 1)[-1]}: {done * 100 // total}%", nl=False, err=True)

    for name in dataset or ("hcpcs", "asp"):
        _run_import(settings, lambda step, name=name: sources.pull(
            name, settings.store_path, release=release, base_url=base_url, progress=fetched, import_progress=step))


@command.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None, help="Output format.")
@click.pass_obj
def status(settings: Settings, fmt: str | None) -> None:
    """Releases in the reference store, datasets not loaded, unparsed drug units."""
    from ..refdata.store import RefStore

    with RefStore.open(settings) as store:
        rows = store.status()
        unparsed = store.unparsed_units()
    fmt = fmt or ("json" if settings.format == "json" else "text")
    if fmt == "json":
        payload = {"store": str(settings.store_path), "releases": rows,
                   "unparsed_drug_units": [{"release": u["release"], "code": u["code"]} for u in unparsed]}
        click.echo(json.dumps(payload, default=str, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"reference store {settings.store_path}")
    for name in ("dataset", "release", "effective", "file", "sha256", "rows", "notes"):
        table.add_column(name, justify="right" if name == "rows" else "left")
    for r in rows:
        span = "" if r["effective_from"] is None else f"{r['effective_from']} .. {r['effective_to'] or ''}"
        notes = r["notes"] if r["provenance"] in ("official", "") else f"[{r['provenance']}] {r['notes']}"
        table.add_row(*(escape(str(v)) for v in (r["dataset"], r["release"], span, r["file"], r["sha256"],
                                                  f"{r['rows']:,}", notes)))
    Console(file=sys.stdout, width=200).print(table)
    click.echo(f"drug descriptors with no parsable billing unit: {len(unparsed)} "
               "(view hcpcs_unparsed_units; `reclaim data status --format json` lists them)")


@command.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--dataset", type=click.Choice(["all", "hcpcs", "asp", "crosswalk", "mue"]), default="all",
              help="Compare one dataset only (default: all).")
@click.option("--claims", "claim_files", multiple=True, type=click.Path(exists=True),
              help="Your claims (837/CSV/FHIR files or a `reclaim convert` Parquet folder): what the changes touch.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", help="Output format.")
@click.pass_obj
def diff(settings: Settings, old: str, new: str, dataset: str, claim_files: tuple[str, ...], fmt: str) -> None:
    """What release NEW changes against OLD (e.g. 2025-Q4 2026-Q1), and what it means for your claims."""
    from ..loop.release_diff import report

    click.echo(report(settings, old, new, dataset=dataset, claim_files=claim_files, fmt=fmt), nl=False)
