"""``reclaim rules``: list the edit catalog, or show one edit's documentation."""

from __future__ import annotations

import click


@click.command("rules")
@click.argument("code", required=False)
@click.option("--docs", "as_docs", is_flag=True, help="Print the whole catalog as Markdown (docs/edits.md).")
@click.option("--effectiveness", is_flag=True, help="Score each edit against your remittances (--claims, --remits).")
@click.option("--claims", "claim_files", multiple=True, type=click.Path(exists=True), help="Submitted claims (history).")
@click.option("--remits", "remit_files", multiple=True, type=click.Path(exists=True), help="Their 835 remittances.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", help="--effectiveness output.")
@click.pass_obj
def command(settings, code: str | None, as_docs: bool, effectiveness: bool, claim_files, remit_files, fmt: str) -> None:
    """List the edits `reclaim check` runs; `reclaim rules RC101` explains one."""
    if effectiveness:
        from ..loop.effectiveness import report_files

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
        click.echo(render_edit(e, level=1))
        return
    width = max(len(e.name) for e in edits.values())
    for e in edits.values():
        fix = "fix" if e.fix_action else "   "
        click.echo(f"{e.code}  {e.name:<{width}}  {e.severity:<7}  {e.category:<9}  {fix}  {e.summary[:90]}")
