"""``reclaim rules``: list the edit catalog, or show one edit's documentation."""

from __future__ import annotations

import click

from . import terminal


@click.command("rules")
@click.argument("code", required=False)
@click.option("--docs", "as_docs", is_flag=True, help="Print the whole catalog as Markdown (docs/edits.md).")
@click.option("--effectiveness", is_flag=True, help="Score each edit against your remittances (--claims, --remits).")
@click.option("--claims", "claim_files", multiple=True, type=click.Path(exists=True), help="Submitted claims (history).")
@click.option("--remits", "remit_files", multiple=True, type=click.Path(exists=True), help="Their 835 remittances.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default=None,
              help="--effectiveness output (default: the format setting, else text).")
@click.pass_obj
def command(settings, code: str | None, as_docs: bool, effectiveness: bool, claim_files, remit_files, fmt: str | None) -> None:
    """List the edits `reclaim check` runs; `reclaim rules RC101` explains one."""
    if effectiveness:
        from ..loop.effectiveness import report_files
        from .options import output_format

        fmt = output_format(settings, fmt, ("text", "json", "markdown"), "rules --effectiveness")

        click.echo(report_files(claim_files, remit_files, settings=settings, fmt=fmt), nl=False)
        return
    from ..edits import catalog
    from ..edits.docs import render, render_edit
    from ..errors import ReclaimError

    if as_docs:
        click.echo(render(), nl=False)
        return
    edits = catalog()
    if code:
        e = edits.get(code.upper())
        if e is None:
            raise ReclaimError(f"no edit {code!r}", hint="`reclaim rules` lists the codes")
        terminal.markdown(render_edit(e, level=1))
        return
    rows = [{"code": e.code, "name": e.name, "severity": e.severity, "category": e.category,
             "fix": "fix" if e.fix_action else "", "summary": e.summary} for e in edits.values()]
    _listing(rows, terminal.width())


def _listing(rows: list[dict], fit: int | None) -> None:
    """One line per edit. On a terminal the line fits the width: the category goes first (it is
    the code's hundreds: RC3xx modifiers), then the summary is cut at a word with an ellipsis;
    piped, every summary stays whole."""
    keys = ["code", "name", "severity", "category", "fix"]
    widths = {k: max(len(r[k]) for r in rows) for k in keys}

    def indent() -> int:
        return sum(widths[k] for k in keys) + 2 * len(keys)

    if fit and fit - indent() < 40:
        keys.remove("category")
    for r in rows:
        head = "  ".join(f"{r[k]:<{widths[k]}}" for k in keys) + "  "
        summary = r["summary"]
        room = (fit - indent() - 1) if fit else None
        if room is not None and len(summary) > room:
            summary = summary[: max(room - 1, 0)].rsplit(" ", 1)[0].rstrip(",;:(") + "…"
        click.echo(head + summary)
    if fit:
        click.echo("`reclaim rules CODE` explains one edit; `reclaim rules --docs` prints them all")
