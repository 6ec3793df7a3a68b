"""``reclaim claims replace|void``: replacement (frequency 7) and void (8) claims of claims already
sent, written in the file's own format from the file itself (docs/claim-files.md)."""

from __future__ import annotations

from pathlib import Path

import click


def _claims_by_pcn(batch, wanted: list[tuple[str, str | None]]) -> tuple[list[str], dict[str, str]]:
    """claim ids and {claim_id: payer claim number} of ``wanted`` (CLM01, number or None)."""
    from ..errors import ReclaimError

    pcns = batch["claims"]["patient_control_number"].to_pylist()
    ids = batch["claims"]["claim_id"].to_pylist()
    claim_ids, numbers = [], {}
    for pcn, number in wanted:
        hits = [cid for cid, p in zip(ids, pcns) if p == pcn]
        if not hits:
            raise ReclaimError(f"no claim with patient control number (CLM01) {pcn} in the input",
                               hint="give the claim's CLM01 as sent (reclaim check lists them)")
        if len(hits) > 1:
            raise ReclaimError(f"{len(hits)} claims have patient control number {pcn} in the input: correct them "
                               "from a file that holds only the one to replace or void")
        claim_ids.append(hits[0])
        if number:
            numbers[hits[0]] = number
    return claim_ids, numbers


def _run(settings, files, claim, output, frequency: str) -> None:
    from ..claims.io import read_claims
    from ..claims.x12.writer import envelope_from_settings
    from ..edits.fix import check_output_name, input_format, write_fixed

    wanted = []
    for value in claim:
        pcn, _, number = value.partition("=")
        wanted.append((pcn.strip(), number.strip() or None))
    batch = read_claims(list(files))
    claim_ids, numbers = _claims_by_pcn(batch, wanted)
    check_output_name(output, input_format(batch, claim_ids))
    written = write_fixed(batch, output, claim_ids=claim_ids, frequency=frequency, original_claim_numbers=numbers,
                          **envelope_from_settings(settings))
    kind = "replacement" if frequency == "7" else "void"
    click.echo(f"{written['claims']} {kind} claim(s) (frequency {frequency}, with the payer's claim number) "
               f"written to {output}")
    for gap in written.get("gaps") or []:
        click.secho(f"note: {gap}", fg="yellow", err=True)


_CLAIM_HELP = ("CLM01=PAYER_CLAIM_NUMBER: the claim (its patient control number as sent) and the payer's claim "
               "control number (835 CLP07, ICN/DCN) for REF*F8; without =..., the claim's own original claim "
               "number. Repeatable.")


@click.group("claims")
def command() -> None:
    """Replacement and void claims for claims already sent (837, CSV or Excel; written in the
    input's format, everything but the frequency and the payer's claim number kept)."""


@command.command("replace")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--claim", "claim", multiple=True, required=True, metavar="CLM01[=ICN]", help=_CLAIM_HELP)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write, in the input's format (the name must say so: .837, .csv, .xlsx).")
@click.pass_obj
def replace(settings, files, claim, output) -> None:
    """Write replacement claims (CLM05-3 = 7, REF*F8 = the payer's claim number) of FILES' claims."""
    _run(settings, files, claim, output, "7")


@command.command("void")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--claim", "claim", multiple=True, required=True, metavar="CLM01[=ICN]", help=_CLAIM_HELP)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write, in the input's format (the name must say so: .837, .csv, .xlsx).")
@click.pass_obj
def void(settings, files, claim, output) -> None:
    """Write void claims (CLM05-3 = 8, REF*F8 = the payer's claim number) of FILES' claims."""
    _run(settings, files, claim, output, "8")
