"""``reclaim ndc``: the HCPCS code, billing units per item and package, drug, labeler and ASP
payment per package for an NDC written in any form (10 digits with hyphens, 11 digits, N4...)."""

from __future__ import annotations

import datetime as dt

import click

from ..config import Settings
from .code import FORMATS, _console, open_store, output_format


@click.command("ndc")
@click.argument("ndc")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Date of service (default: today).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: text).")
@click.pass_obj
def command(settings: Settings, ndc: str, on: dt.datetime | None, fmt: str | None) -> None:
    """HCPCS code and billing units for NDC (e.g. 55513-0710-01)."""
    from ..documents import guide, guide_render

    fmt = output_format(settings, fmt, "ndc")
    with open_store(settings) as store:
        info = guide.lookup_ndc(store, ndc, on.date() if on else None)
    if fmt == "json":
        click.echo(info.to_json())
    elif fmt == "markdown":
        click.echo(guide_render.ndc_markdown(info), nl=False)
    else:
        guide_render.render_ndc_text(info, _console())
