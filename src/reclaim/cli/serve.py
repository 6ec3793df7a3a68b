"""``reclaim serve``: run the web app and REST API with uvicorn.

Safe defaults: listens on 127.0.0.1 only (``--host 0.0.0.0`` is a deliberate choice, and is
meant to sit behind a TLS proxy), uvicorn's own access log is off (it prints query strings)
and replaced by reclaim's, which logs method, path, status and time only.
"""

from __future__ import annotations

import ipaddress
import os

import click

from ..config import Settings

#: uvicorn logging: its access log off, reclaim's PHI-free access log on
LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "reclaim": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--db", "db_url", metavar="URL", help="Database (sqlite:///FILE or postgresql://...); default: the db_url setting.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--quiet", is_flag=True, help="No access log.")
@click.option("--behind-proxy", metavar="PROXY_IP", help="Trust X-Forwarded-Proto/For from this TLS proxy address "
              "(then session cookies are marked Secure).")
@click.pass_obj
def command(settings: Settings, host: str, port: int, db_url: str | None, workers: int, quiet: bool,
            behind_proxy: str | None) -> None:
    """Run the web app and REST API."""
    import uvicorn

    from ..web.auth import list_users
    from ..web.db import engine_for

    url = db_url or settings.database_url
    if not any(u["role"] == "admin" and u["active"] for u in list_users(engine_for(url))):
        click.secho("no admin yet: create one with `reclaim users add NAME --role admin` (there is no default user)",
                    fg="yellow", err=True)
    if not _is_loopback(host):
        click.secho(f"listening on {host}: reachable from other machines; serve it behind TLS (a reverse proxy)",
                    fg="yellow", err=True)
    # worker processes build the app from the settings: hand them ours through the environment
    os.environ["RECLAIM_HOME"] = settings.home
    os.environ["RECLAIM_DB_URL"] = url
    config = dict(LOG_CONFIG, loggers=dict(LOG_CONFIG["loggers"]))
    if quiet:
        config["loggers"]["reclaim.web.access"] = {"handlers": [], "level": "CRITICAL", "propagate": False}
    click.echo(f"reclaim web app on http://{host}:{port}/ ({workers} worker{'s' if workers > 1 else ''})", err=True)
    uvicorn.run("reclaim.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=config, server_header=False, proxy_headers=bool(behind_proxy),
                forwarded_allow_ips=behind_proxy or None)
