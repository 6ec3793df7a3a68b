"""``reclaim code``: the billing guide for a HCPCS code, or ``--search`` by drug name or words.

Interfaces hold no logic: this module parses flags, calls :mod:`reclaim.documents.guide` and
prints with :mod:`reclaim.documents.guide_render`.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from ..config import Settings

FORMATS = ("text", "json", "markdown")


def output_format(settings: Settings, flag: str | None, command: str = "code") -> str:
    """The --format flag, else the format setting when the guide prints it, else text (saying so)."""
    from .options import output_format as resolve

    return resolve(settings, flag, FORMATS, command)


def open_store(settings: Settings):
    from ..refdata.store import RefStore

    return RefStore.open(settings)


@click.command("code")
@click.argument("code", required=False)
@click.option("--search", "search", metavar="WORDS", help="Find codes by drug name, brand or descriptor words.")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Date of service (default: today).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: text).")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Search results shown.")
@click.pass_obj
def command(settings: Settings, code: str | None, search: str | None, on: dt.datetime | None, fmt: str | None,
            limit: int) -> None:
    """Billing guide for CODE (e.g. J0897), or search with --search WORDS."""
    from ..documents import guide, guide_render

    if not code and not search:
        raise click.UsageError("give a HCPCS code (e.g. `reclaim code J0897`) or --search WORDS")
    if code and search:
        raise click.UsageError("give a code or --search, not both")
    fmt = output_format(settings, fmt)
    day = on.date() if on else None
    with open_store(settings) as store:
        if search:
            hits = guide.search_codes(store, search, day, limit)
            if fmt == "json":
                click.echo(json.dumps([h.to_dict() for h in hits], indent=2))
            elif fmt == "markdown":
                click.echo(guide_render.search_markdown(search, hits), nl=False)
            else:
                guide_render.render_search_text(search, hits, _console())
            return
        result = guide.build_guide(store, code, day)
    if fmt == "json":
        click.echo(result.to_json())
    elif fmt == "markdown":
        click.echo(guide_render.render_markdown(result), nl=False)
    else:
        guide_render.render_text(result, _console())


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)
