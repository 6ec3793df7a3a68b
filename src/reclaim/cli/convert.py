"""``reclaim convert FILES... -o DIR``: read claim and remittance files, write the normalized tables.

Every table of the model goes to its own file in DIR (``claims.parquet``, ``lines.parquet``,
``remit_claims.parquet``...), with ``files``, ``transactions`` and ``read_issues`` shared by
both kinds. A summary goes to stderr: files read, claims read, what was skipped and why.
Exit status 1 when any file or claim was skipped, so a script notices. X12 files are read
and written block by block (``claims.io.convert``), so memory stays flat for any file size.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("convert")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the tables (created when missing).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "json"]), default="parquet", show_default=True,
              help="File format of the tables; json = one object per line.")
@click.option("--quiet", is_flag=True, help="No progress lines, only the summary.")
@click.option("--validate", is_flag=True,
              help="Also run pyx12's full TR3 check on each X12 file; its findings go to DIR/pyx12_findings.csv.")
def command(files: tuple[Path, ...], out_dir: Path, fmt: str, quiet: bool, validate: bool) -> int:
    """Read X12 837/835, CSV/XLSX claim exports and FHIR Claim/EOB files (or folders of
    them) and write the normalized tables to DIR."""
    from ..claims.io import convert
    from .options import output_folder

    output_folder(out_dir)

    def progress(done: int, total: int, path: Path) -> None:
        if not quiet and total > 1:
            click.echo(f"[{done}/{total}] {path}", err=True)

    # streamed: tables are appended as X12 blocks are read, so memory stays flat
    s, written = convert(files, out_dir, fmt, progress=progress)
    by_format = ", ".join(f"{n} {f}" for f, n in sorted(s["files_by_format"].items()))
    click.echo(f"files: {s['files']} ({by_format or 'none readable'})", err=True)
    click.echo(f"claims: {s['claims']} ({s['lines']} lines); remittance claims: {s['remit_claims']} "
               f"({s['remit_lines']} lines)", err=True)
    click.echo(f"issues: {s['errors']} errors, {s['warnings']} warnings (details in {out_dir / ('read_issues.' + fmt)})",
               err=True)
    for row in s["skipped"]:
        click.echo(f"  skipped {row['count']} {row['what']}(s): {row['code']}", err=True)
    click.echo(f"wrote {len(written)} tables to {out_dir}", err=True)
    if validate:
        _validate(files, out_dir)
    return 1 if s["skipped"] else 0


def _validate(files: tuple[Path, ...], out_dir: Path) -> None:
    """pyx12's implementation-guide findings next to ours: counts on stderr, details (which may
    quote claim values) only in the output file."""
    import csv

    from ..claims.io import _expand
    from ..claims.x12 import sniff, validate_with_pyx12

    target = out_dir / "pyx12_findings.csv"
    fields = ["file", "level", "transaction_control", "segment_count", "line", "segment_id", "element",
              "code", "message", "value"]
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for path in _expand(files):
            if sniff(path) is None:
                continue
            findings = validate_with_pyx12(path)
            writer.writerows({"file": str(path), **f} for f in findings)
            click.echo(f"pyx12: {len(findings)} finding(s) in {path}", err=True)
    click.echo(f"pyx12 findings: {target}", err=True)
