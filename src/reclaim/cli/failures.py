"""How a failed command reaches the user: one line saying what went wrong and what to do, never
a traceback.

:func:`run` wraps the whole command line (``reclaim.cli.main``). Exit statuses, the same for
every command: 0 done (clean), 1 done and problems remain (``check``: errors in the claims), 2 the
command could not do what was asked (bad option, unreadable input, unwritable output...),
130 interrupted. An unexpected exception is a bug: it is named by type and place in reclaim's
code, never by its message (which may quote claim data); ``RECLAIM_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback
from pathlib import Path
from typing import Callable

import click

from ..errors import ReclaimError

#: exit status of a command that could not do what was asked
FAILED = 2

#: click >= 8.2 raises this for a group run without arguments (8.1 printed help and exited 0)
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def error(message: str, hint: str | None = None) -> None:
    """Print ``error: message`` (and ``  hint: ...``) on stderr."""
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)


def run(invoke: Callable[[], object]) -> int:
    """Run ``invoke`` (click's non-standalone ``main``) and turn every failure into a message
    and an exit status."""
    try:
        status = invoke()
    except _NO_ARGS_IS_HELP as exc:  # bare `reclaim` (or `reclaim data`): help is the answer, like git
        click.echo(exc.ctx.get_help())
        return 0
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except ReclaimError as exc:
        error(str(exc), exc.hint)
        return FAILED
    except BrokenPipeError:  # `reclaim ... | head`: the reader left, nothing more to say
        _silence_stdout()
        return 1
    except OSError as exc:
        error(*os_error(exc))
        return FAILED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("RECLAIM_DEBUG"):
            raise
        error(*(database_error(exc) or unexpected(exc)))
        return FAILED
    return status if isinstance(status, int) else 0


def unread_inputs(issues) -> str | None:
    """"N input file(s) ... (a, b, c and 2 more)" for the files a ``read_issues`` table says were
    not read at all (skipped ``file``), else None."""
    import pyarrow.compute as pc

    unread = sorted(set(issues.filter(pc.equal(issues["skipped"], "file"))["path"].to_pylist()))
    if not unread:
        return None
    shown = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
    return f"{len(unread)} input file(s) could not be read at all ({shown})"


def os_error(exc: OSError) -> tuple[str, str]:
    """(message, hint) for a file the system would not read or write."""
    path = exc.filename
    reason = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    message = f"{path}: {reason}" if path else reason
    code = exc.errno
    if code == errno.ENOENT and path:
        parent = Path(path).parent
        if not parent.exists():
            return message, f"the folder {parent} does not exist: create it (mkdir -p {parent}) or choose another path"
        return message, "check the path (a typo? a file moved?)"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return message, "you may not read or write there: choose a folder you own, or fix its permissions"
    if code == errno.ENOSPC:
        return message, "the disk is full: free some space or write to another disk"
    if code == errno.EISDIR:
        return message, "this is a folder: give a file name"
    if code == errno.EEXIST:
        return message, "a file is in the way: this path must be a folder (choose another, or move the file)"
    if code == errno.ENOTDIR:
        return message, "a part of this path is a file, not a folder"
    return message, "check the path and its permissions"


def database_error(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a database URL that is malformed or a server that cannot be reached,
    else None. Only these SQLAlchemy errors are worded: others may quote a statement's values."""
    try:
        from sqlalchemy import exc as sa
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        return None
    hint = "check --db-url / the db_url setting: sqlite:///path/file.sqlite or postgresql://user@host/db"
    if isinstance(exc, (sa.ArgumentError, sa.NoSuchModuleError)):
        return f"the database URL is not usable: {str(exc).splitlines()[0]}", hint
    if isinstance(exc, sa.OperationalError) and exc.orig is not None:
        return f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}", hint
    return None


def unexpected(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for a bug: the exception's type and the innermost place in reclaim's
    code (its message is left out: it may quote claim data)."""
    name = type(exc).__name__
    if name == "OutOfMemoryException":  # DuckDB ran out of its memory limit
        return ("the run's database ran out of memory",
                "give it more (`reclaim recover --memory-limit 4GB`) or fewer files at a time")
    place = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        marker = f"{os.sep}reclaim{os.sep}"
        if marker in frame.filename:
            place = f" at reclaim{os.sep}{frame.filename.rsplit(marker, 1)[1]}:{frame.lineno}"
            break
    return (f"reclaim stopped on an unexpected error ({name}{place}); this is a bug, please report it",
            "RECLAIM_DEBUG=1 shows the traceback (it may quote claim data: do not post it publicly)")


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
