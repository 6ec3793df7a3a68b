"""Settings: one config file, overridden by environment variables, overridden by flags.

Resolution order (later wins):

1. built-in defaults (below);
2. the config file: ``$RECLAIM_CONFIG`` if set, else ``./reclaim.toml``, else
   ``~/.config/reclaim/reclaim.toml`` (the first that exists);
3. environment variables ``RECLAIM_<NAME>`` (e.g. ``RECLAIM_HOME``, ``RECLAIM_ENGINE``);
4. command-line flags (``reclaim --home DIR ...``), passed to :func:`load` as overrides.

A setting's name is the same in all four places (``home`` / ``RECLAIM_HOME`` / ``--home``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError


def _default_home() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "reclaim")


@dataclass(frozen=True)
class Settings:
    #: folder holding reclaim's own data: the reference store, the worklist database
    home: str = field(default_factory=_default_home)
    #: where official releases come from: a local folder, or "cms" for the publishers' URLs
    refdata_source: str = "cms"
    #: edit engine: "duckdb" (in-process) or "spark"
    engine: str = "duckdb"
    #: worklist/web database URL; empty = SQLite file in ``home``
    db_url: str = ""
    #: payer policy file used when none is given on the command line; empty = built-in Medicare
    policy: str = ""
    #: default output format of reports on the terminal
    format: str = "text"
    #: threshold (dollars) below which an underpayment is not worth a worklist row
    underpayment_threshold: float = 5.0
    #: web app: largest accepted upload, in megabytes (bigger files are refused with 413)
    max_upload_mb: int = 200
    #: web app: a signed-in session expires after this many minutes without a request
    session_minutes: int = 480
    #: Spark master for ``engine = "spark"``: ``local[N]`` on one machine, or a cluster
    #: (``spark://host:7077``, ``yarn``, ``k8s://...``)
    spark_master: str = "local[2]"
    #: the envelope of the 837s reclaim writes (fixed and corrected claims): the submitter
    #: (ISA06, GS02, 1000A) and receiver (ISA08, GS03, 1000B) ids your payer or clearinghouse
    #: gave you. Unset, the envelope of the 837 the claims came from is reused; claims read from
    #: CSV, Excel or FHIR have none, so writing them as X12 needs these.
    submitter_id: str = ""
    submitter_name: str = ""
    submitter_phone: str = ""
    receiver_id: str = ""
    receiver_name: str = ""
    #: ISA15 of the 837s reclaim writes: "P" production, "T" test (for a clearinghouse's test lane);
    #: empty = the ISA15 of the 837 the claims came from (P for claims read from CSV, Excel, FHIR)
    x12_usage: str = ""
    #: the billing provider's state (two letters, e.g. TX): chooses the Medicare contractor (MAC)
    #: whose Medicare Coverage Database articles decide diagnosis coverage (RC604)
    billing_state: str = ""
    #: who signs recovery letters and whom the payer calls back (the letters' signature block)
    letter_contact_name: str = ""
    letter_contact_title: str = ""
    letter_contact_phone: str = ""
    letter_contact_email: str = ""

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser()

    @property
    def store_path(self) -> Path:
        """The reference store (DuckDB file) built by ``reclaim data import``."""
        return self.home_path / "refdata.duckdb"

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.home_path / 'reclaim.sqlite'}"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_CHOICES = {"engine": ("duckdb", "spark"), "format": ("text", "json", "csv", "markdown"), "x12_usage": ("", "P", "T")}


def config_file() -> Path | None:
    explicit = os.environ.get("RECLAIM_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"RECLAIM_CONFIG points to {path}, which is not a file")
        return path
    for candidate in (Path("reclaim.toml"), Path.home() / ".config" / "reclaim" / "reclaim.toml"):
        if candidate.is_file():
            return candidate
    return None


def _coerce(name: str, value: Any, origin: str) -> Any:
    f = _FIELDS[name]
    kind = f.type if isinstance(f.type, type) else {"str": str, "float": float, "int": int}.get(str(f.type), str)
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: setting '{name}' must be a {kind.__name__}, got {value!r}") from None
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(f"{origin}: setting '{name}' must be one of {', '.join(_CHOICES[name])}, got {value!r}")
    return value


def load(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build the settings from defaults, config file, environment and ``overrides``."""
    values: dict[str, Any] = {}
    path = config_file()
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        section = data.get("reclaim", data)
        for name, value in section.items():
            if name not in _FIELDS:
                raise ConfigError(f"{path}: unknown setting '{name}' (known: {', '.join(sorted(_FIELDS))})")
            values[name] = _coerce(name, value, str(path))
    for name in _FIELDS:
        env = os.environ.get(f"RECLAIM_{name.upper()}")
        if env is not None and env != "":
            values[name] = _coerce(name, env, f"RECLAIM_{name.upper()}")
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in _FIELDS:
            raise ConfigError(f"unknown setting '{name}'")
        values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return Settings(**values)
