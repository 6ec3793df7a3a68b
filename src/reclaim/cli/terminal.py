"""Terminal layout shared by the commands: the width to fit, tables whose columns fit it, Markdown
rendered on a terminal, and progress shown only where a person watches.

On a terminal, output fits its width (``COLUMNS`` overrides it); piped or redirected, lines are
whole (nothing dropped or cut, so ``grep`` and files get everything) and there is no progress.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

import click


def width() -> int | None:
    """Columns to fit: ``COLUMNS`` when set, the terminal's width on a terminal, else None (whole lines)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def interactive() -> bool:
    """Someone watches stderr: progress may be drawn there."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    align: str = "<"  # "<" left, ">" right
    #: when the table is too wide, columns with a higher number are dropped first (0: never)
    drop: int = 0
    #: may be cut (with an ellipsis) when dropping is not enough; the widest such column is cut first
    shrink: bool = False


def table(rows: Sequence[dict], columns: Sequence[Column], fit: int | None = None, rule: bool = True) -> list[str]:
    """Lines of a plain table (header, a rule unless ``rule=False``, rows): each column as wide as its widest value, so
    nothing overflows into the next; to fit ``fit`` columns, low-value columns are dropped, then
    shrinkable ones cut with an ellipsis. ``rows`` hold display strings under the columns' keys."""
    cols = list(columns)
    widths = {c.key: max([len(c.header)] + [len(str(r.get(c.key) or "")) for r in rows]) for c in cols}

    def total() -> int:
        return sum(widths[c.key] for c in cols) + 2 * (len(cols) - 1)

    if fit:
        for victim in sorted((c for c in cols if c.drop), key=lambda c: -c.drop):
            if total() <= fit:
                break
            cols.remove(victim)
        while total() > fit:
            shrinkable = [c for c in cols if c.shrink and widths[c.key] > max(len(c.header), 6)]
            if not shrinkable:
                break
            widths[max(shrinkable, key=lambda c: widths[c.key]).key] -= 1  # the widest first, evenly

    def cell(c: Column, value) -> str:
        text = str(value if value is not None else "")
        if len(text) > widths[c.key]:
            text = text[: widths[c.key] - 1] + "…"
        return f"{text:{c.align}{widths[c.key]}}"

    header = "  ".join(cell(c, c.header) for c in cols).rstrip()
    lines = [header, "-" * len(header)] if rule else [header]
    lines += ["  ".join(cell(c, r.get(c.key)) for c in cols).rstrip() for r in rows]
    return lines


def markdown(text: str) -> None:
    """Markdown rendered on a terminal (headings, bold, lists, code), the Markdown source otherwise
    (a file or a pipe gets text that renders anywhere)."""
    if not sys.stdout.isatty():
        click.echo(text.rstrip("\n"))
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console(width=width()).print(Markdown(text))


class Progress:
    """A transient progress line on stderr (spinner, stage, files done, time), on a terminal only;
    elsewhere every call does nothing. Started at once; stopped by :meth:`stop`, at the end of a
    ``with`` block, or when the running click command ends (whatever way it ends)."""

    def __init__(self, description: str):
        self._bar = None
        if not interactive():
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn)
        from rich.progress import Progress as Bar

        self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self._task = self._bar.add_task(description, total=None)
        self._bar.start()
        ctx = click.get_current_context(silent=True)
        if ctx is not None:
            ctx.call_on_close(self.stop)

    def __call__(self, description: str | None = None, done: int | None = None, total: int | None = None) -> None:
        """A new stage (``description``), and/or ``done`` of ``total`` steps."""
        if self._bar is None:
            return
        fields: dict = {"description": description} if description else {}
        if done is not None:
            fields["completed"] = done
        if total is not None:
            fields["total"] = total
        self._bar.update(self._task, **fields)

    def files(self, verb: str, then: str | None = None) -> Callable[[int, int, object], None]:
        """A ``progress(done, total, path)`` callback for the readers: "``verb`` NAME" per file,
        and ``then`` (the next stage) once the last file is done."""
        def update(done: int, total: int, path) -> None:
            last = then is not None and done >= total
            self(then if last else f"{verb} {getattr(path, 'name', path)}", done, total)

        return update

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
