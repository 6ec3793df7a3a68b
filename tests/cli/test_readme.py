"""The README tells the truth about the command line (#19.5) and the package metadata is current
(#19.6): every option the README gives a command is an option of that command (or a global one)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import click

from reclaim.cli import cli

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command ``words`` name, and the words after it."""
    ctx = click.Context(cli)
    command: click.Command = cli
    while words and isinstance(command, click.Group):
        sub = command.get_command(ctx, words[0])
        if sub is None:
            break
        command, words = sub, words[1:]
    return command, words


def _options(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option) for opt in (*p.opts, *p.secondary_opts)}


def _uses() -> list[tuple[str, list[str]]]:
    """(where, words after `reclaim`) for each command in the README's shell blocks and each
    `reclaim ...` / `<command> --option` in inline code."""
    uses = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line.startswith("reclaim "):
                words = shlex.split(line.replace("[", " ").replace("]", " "))[1:]
                uses.append((line, words))
    names = "|".join(["check", "recover", "convert", "code", "ndc", "rules", "worklist", "serve", "users", "data"])
    for inline in re.findall(rf"`(?:reclaim )?((?:{names})(?: [a-z]+)? --[^`]*)`", README):
        uses.append((inline, shlex.split(inline)))
    return uses


def test_every_option_the_readme_names_exists():
    uses = _uses()
    assert len(uses) > 20
    global_options = _options(cli)
    wrong = []
    for where, words in uses:
        command, rest = _command(words)
        known = _options(command) | global_options | {"--help", "-h"}
        for word in rest:
            option = word.split("=", 1)[0].split("|", 1)[0]
            if option.startswith("-") and option not in known:
                wrong.append(f"{where!r}: {command.name} has no option {option}")
    assert not wrong, "\n".join(wrong)


def test_the_readme_states_what_is_true_today():
    assert "recover --db-url" not in README and "(`--db URL`, else the `db_url` setting)" in README
    assert "a terminated code names its\nreplacement when the HCPCS file gives one" in README
    assert "## Exit status and terminal output" in README
    status_help = _command(["data", "status"])[0]
    assert "--wide" in _options(status_help) and "sha256 (whole: --wide, --format json)" in README


def test_license_is_an_spdx_expression():
    """`license = {text = ...}` is deprecated (setuptools warns at every install, stops in 2027)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "Apache-2.0"
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])  # PEP 639 support
