"""Checks shared by the commands' options, run before any work starts: an output that cannot be
written, a size DuckDB would not parse, a ``format`` setting a command cannot print, each is a
one-line error (or note) saying what to do, not a traceback after minutes of work."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from ..errors import ReclaimError


class MemorySize(click.ParamType):
    """A memory size as DuckDB takes it: a number and a unit (``2GB``, ``512MB``, ``1.5GiB``)."""

    name = "SIZE"
    _PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB|K|M|G|T)\s*$", re.IGNORECASE)
    _BYTES = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
    #: below this DuckDB cannot even hold its first blocks
    MINIMUM = 64 * 2**20

    def convert(self, value, param, ctx):
        match = self._PATTERN.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a memory size: give a number and a unit, e.g. 2GB, 512MB or 4GiB", param, ctx)
        number, unit = float(match.group(1)), match.group(2).lower()
        if number * self._BYTES[unit if unit.endswith("ib") else unit[0]] < self.MINIMUM:
            self.fail(f"{value!r} is too little memory for the run's database: give at least 64MB", param, ctx)
        return f"{match.group(1)}{match.group(2)}"


def output_file(path: Path, option: str = "-o") -> Path:
    """``path`` if a file can be written there, else a :class:`ReclaimError` that says why."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise ReclaimError(f"{option} {path} is a folder", hint=f"give a file name, e.g. {option} {path / 'out'}")
    if not parent.exists():
        raise ReclaimError(f"{option} {path}: the folder {parent} does not exist",
                           hint=f"create it (mkdir -p {parent}) or choose another {option}")
    if not parent.is_dir():
        raise ReclaimError(f"{option} {path}: {parent} is a file, not a folder", hint=f"choose another {option}")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ReclaimError(f"{option} {path}: you may not write there",
                           hint=f"choose a folder you own for {option}, or fix its permissions")
    return path


def output_folder(path: Path, option: str = "-o", example: str = "./out") -> Path:
    """``path``, created when missing, if files can be written in it; else a :class:`ReclaimError`."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ReclaimError(f"{option} {path} is a file, not a folder", hint=f"give a folder name for {option}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReclaimError(f"{option} {path}: cannot create this folder ({exc.strerror or type(exc).__name__})",
                           hint=f"choose a folder you may write in for {option}, e.g. {option} {example}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ReclaimError(f"{option} {path}: you may not write in this folder",
                           hint=f"choose a folder you own for {option}, or fix its permissions")
    return path


def output_format(settings, flag: str | None, supported: tuple[str, ...], command: str) -> str:
    """The ``--format`` flag, else the ``format`` setting when ``command`` can print it, else text.
    A setting the command cannot print is said on stderr, not silently ignored."""
    if flag:
        return flag
    if settings.format in supported:
        return settings.format
    click.secho(f"note: the format setting ({settings.format!r}, from RECLAIM_FORMAT or reclaim.toml) is not an "
                f"output of `reclaim {command}` ({', '.join(supported)}): printing text", fg="yellow", err=True)
    return "text"
