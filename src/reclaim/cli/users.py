"""``reclaim users``: manage the web app's users and API tokens.

The first admin is created here (``reclaim users add NAME --role admin``); there is no default
user and no default password. Passwords are prompted for (hidden, twice) or read from standard
input with ``--password-stdin`` for provisioning scripts; never from a flag, so they do not land
in shell history or the process list. Every change is written to the audit log (via ``cli``).
"""

from __future__ import annotations

import sys

import click

from ..config import Settings


def _engine(settings: Settings):
    from ..web.db import engine_for

    return engine_for(settings.database_url)


def _read_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: standard input held no password line")
        return password
    return click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


def _audit(engine, action: str, target: str, detail: dict | None = None) -> None:
    import getpass

    from ..web import audit

    audit.record(engine, None, action, target, detail, via="cli", user_name=f"cli:{getpass.getuser()}")


@click.group("users")
def command() -> None:
    """Manage web app users (roles: biller, manager, admin) and API tokens."""


@command.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["biller", "manager", "admin"]), default="biller", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def add(settings: Settings, name: str, role: str, password_stdin: bool) -> None:
    """Create user NAME with ROLE, prompting for the password."""
    from ..web.auth import add_user

    engine = _engine(settings)
    user = add_user(engine, name, role, _read_password(name, password_stdin))
    _audit(engine, "user.create", user.name, {"role": role})
    click.echo(f"created {role} {user.name}")


@command.command("list")
@click.pass_obj
def list_(settings: Settings) -> None:
    """List users, their roles and whether they may sign in."""
    from ..web.auth import list_users

    rows = list_users(_engine(settings))
    if not rows:
        click.echo("no users yet: create the first admin with `reclaim users add NAME --role admin`")
    for row in rows:
        state = "active" if row["active"] else "disabled"
        click.echo(f"{row['name']:<24} {row['role']:<8} {state:<8} since {row['created_at']:%Y-%m-%d}")


@command.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_obj
def passwd(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (signs out their open sessions)."""
    from ..web.auth import set_password

    engine = _engine(settings)
    set_password(engine, name, _read_password(name, password_stdin))
    _audit(engine, "user.password", name)
    click.echo(f"password changed for {name}; their sessions were signed out")


@command.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["biller", "manager", "admin"]))
@click.pass_obj
def role(settings: Settings, name: str, role: str) -> None:
    """Change the role of NAME."""
    from ..web.auth import set_role

    engine = _engine(settings)
    set_role(engine, name, role)
    _audit(engine, "user.role", name, {"role": role})
    click.echo(f"{name} is now {role}")


@command.command("disable")
@click.argument("name")
@click.pass_obj
def disable(settings: Settings, name: str) -> None:
    """Stop NAME from signing in; ends their sessions and revokes their API tokens."""
    from ..web.auth import set_active

    engine = _engine(settings)
    set_active(engine, name, False)
    _audit(engine, "user.disable", name)
    click.echo(f"{name} disabled")


@command.command("enable")
@click.argument("name")
@click.pass_obj
def enable(settings: Settings, name: str) -> None:
    """Let a disabled user sign in again."""
    from ..web.auth import set_active

    engine = _engine(settings)
    set_active(engine, name, True)
    _audit(engine, "user.enable", name)
    click.echo(f"{name} enabled")


@command.command("token")
@click.argument("name")
@click.option("--label", default="script", show_default=True, help="What the token is for (listed with `reclaim users tokens`).")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True,
              help="read: GET requests only; write: also changes.")
@click.option("--days", type=click.IntRange(1, 366), default=90, show_default=True, help="Days until it expires.")
@click.option("--revoke", is_flag=True, help="Revoke all of NAME's tokens instead of issuing one.")
@click.option("--revoke-id", type=int, metavar="ID", help="Revoke only token ID of NAME (see `reclaim users tokens`).")
@click.pass_obj
def token(settings: Settings, name: str, label: str, scope: str, days: int, revoke: bool, revoke_id: int | None) -> None:
    """Issue an API token for NAME (printed once; send it as `Authorization: Bearer TOKEN`)."""
    from ..web.auth import issue_token, revoke_token, revoke_tokens

    engine = _engine(settings)
    if revoke_id is not None:
        revoke_token(engine, revoke_id, owner=name)
        _audit(engine, "token.revoke", name, {"token": revoke_id})
        click.echo(f"revoked token {revoke_id} of {name}")
        return
    if revoke:
        count = revoke_tokens(engine, name)
        _audit(engine, "token.revoke", name, {"count": count})
        click.echo(f"revoked {count} token(s) of {name}")
        return
    secret = issue_token(engine, name, label, scope=scope, days=days)
    _audit(engine, "token.issue", name, {"scope": scope, "days": days})
    click.echo(secret)
    click.echo(f"store it now: it is not shown again ({scope}, expires in {days} days)", err=True)


@command.command("tokens")
@click.argument("name", required=False)
@click.pass_obj
def tokens(settings: Settings, name: str | None) -> None:
    """List API tokens (never their values): id, user, name, scope, expiry, last use, state."""
    from ..web.auth import list_tokens

    def day(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "never"

    for t in list_tokens(_engine(settings), name):
        click.echo(f"{t['id']:>5}  {t['user']:<16} {t['label']:<24} {t['scope']:<5}  expires {day(t['expires_at'])}  "
                   f"last used {day(t['last_used_at'])}  {t['state']}")


@command.command("unlock")
@click.argument("name")
@click.pass_obj
def unlock(settings: Settings, name: str) -> None:
    """Clear the sign-in waits of NAME (after many failed sign-ins)."""
    from ..web import throttle
    from ..web.auth import get_user

    engine = _engine(settings)
    get_user(engine, name)
    cleared = throttle.unlock(engine, name)
    _audit(engine, "user.unlock", name, {"keys": cleared})
    click.echo(f"{name}: sign-in waits cleared ({cleared})")
