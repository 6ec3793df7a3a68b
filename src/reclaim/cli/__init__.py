"""The ``reclaim`` command line.

Each sub-command lives in its own module of this package (``reclaim.cli.code`` holds
``reclaim code``...) and exposes a click command named ``command``. Modules are imported
only when their command runs, so ``reclaim code J0897`` does not pay for Spark or the web app.

Interfaces hold no logic: every command calls a library function and formats its result.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from .. import __version__

#: command name -> module under reclaim.cli (add a line here to add a command)
COMMANDS: dict[str, tuple[str, str]] = {
    "code": ("code", "Billing guide for a HCPCS code, or --search by drug name."),
    "ndc": ("ndc", "HCPCS code and billing units for an NDC."),
    "data": ("data", "Reference data: pull, import, status, diff."),
    "convert": ("convert", "Read claim/remittance files, write normalized Parquet tables."),
    "check": ("check", "Lint claims before submission."),
    "claims": ("claims", "Replacement and void claims of claims already sent."),
    "rules": ("rules", "List the edit catalog, or explain one edit."),
    "recover": ("recover", "Explain remittances, build the recovery worklist."),
    "worklist": ("worklist", "List and update worklist items."),
    "serve": ("serve", "Run the web app and REST API."),
    "users": ("users", "Manage web app users."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _module_exists(module)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS or not _module_exists(COMMANDS[name][0]):
            return None
        module = importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(f"{__name__}.{module}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reclaim")
@click.option("--home", metavar="DIR", help="Folder for reclaim's data (reference store, worklist). Env: RECLAIM_HOME.")
@click.option("--refdata-source", metavar="DIR|cms", help="Where official releases come from. Env: RECLAIM_REFDATA_SOURCE.")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), help="Edit engine. Env: RECLAIM_ENGINE.")
@click.option("--db-url", metavar="URL", help="Worklist database (sqlite:///... or postgresql://...). Env: RECLAIM_DB_URL.")
@click.pass_context
def cli(ctx: click.Context, **overrides) -> None:
    """reclaim: get paid, correctly, for the drugs you administer."""
    from .. import config

    ctx.obj = config.load(overrides)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the CLI; every failure becomes a one-line message and exit
    status 2 (see reclaim.cli.failures), `check` exits 1 when errors remain."""
    from .failures import run

    sys.exit(run(lambda: cli.main(args=argv, prog_name="reclaim", standalone_mode=False)))
