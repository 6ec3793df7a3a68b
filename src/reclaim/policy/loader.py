"""Read payer policy YAML files and turn them into the tables the edit engine joins.

Errors name the file, the key path inside it (``prior_auth[0].hcpcs``) and what was expected.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import yaml
from pydantic import ValidationError

from ..errors import ReclaimError
from .schema import Policy

#: the policies used when none is given
BUILTIN = ("medicare", "medicaid")
#: the built-in defaults: a claim no policy given matches gets the one whose filing indicators
#: (SBR09) have its own (medicare: MA/MB, medicaid: MC), else ``commercial`` (payer-neutral)
DEFAULTS = ("medicare", "medicaid", "commercial")


class PolicyError(ReclaimError):
    """A payer policy file is missing, not YAML, or does not follow the schema."""

    hint = "see docs/check.md (Payer policies) for the format; src/reclaim/policy/policies/medicare.yaml is an example"


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_policy(text: str, origin: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        raise PolicyError(f"{origin}:{place} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: expected a mapping of policy keys (id, name, ...) at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(e['loc'])}: {e['msg']}" + (f" (got {e['input']!r})" if e["type"] != "missing" and not isinstance(e["input"], dict) else "") for e in exc.errors())
        raise PolicyError(f"{origin}: {problems}") from None


def builtin_policy(name: str) -> Policy:
    if name not in DEFAULTS:
        raise PolicyError(f"no built-in policy {name!r} (built in: {', '.join(DEFAULTS)})")
    text = resources.files(__package__).joinpath("policies", f"{name}.yaml").read_text(encoding="utf-8")
    return parse_policy(text, f"built-in policy {name}")


def builtin_policies() -> list[Policy]:
    return [builtin_policy(name) for name in BUILTIN]


def load_policy(source: str | Path) -> Policy:
    """A policy from a YAML file, or a built-in one by name (``medicare``, ``medicaid``,
    ``commercial``)."""
    if str(source) in DEFAULTS:
        return builtin_policy(str(source))
    path = Path(source)
    if not path.is_file():
        raise PolicyError(f"{path}: policy file not found")
    return parse_policy(path.read_text(encoding="utf-8"), str(path))


def load_policies(sources: list[str | Path] | None) -> list[Policy]:
    """Policies in the order given (the first is the default for claims no policy matches);
    none given = the built-in Medicare then Medicaid policies."""
    policies = [load_policy(s) for s in sources] if sources else builtin_policies()
    seen: set[str] = set()
    for p in policies:
        if p.id in seen:
            raise PolicyError(f"two policies have the id {p.id!r}; ids must be unique")
        seen.add(p.id)
    return policies


def default_policies(given: list[Policy]) -> list[Policy]:
    """The built-in defaults (:data:`DEFAULTS`) whose id is not among the policies given: they
    adjudicate the claims no given policy matches (see :func:`policy_tables`)."""
    ids = {p.id for p in given}
    return [builtin_policy(name) for name in DEFAULTS if name not in ids]


def _months_before(day: dt.date, months: int) -> dt.date:
    """``day`` minus calendar months (the 31st becomes the month's last day)."""
    import calendar

    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def filing_limit(p: Policy, date_of_check: dt.date) -> tuple[str | None, dt.date | None]:
    """The policy's timely filing limit as text ('365-day', '12-month') and the first date of
    service still in time on ``date_of_check`` (None: not checked)."""
    if p.timely_filing_days is not None:
        return f"{p.timely_filing_days}-day", date_of_check - dt.timedelta(days=p.timely_filing_days)
    if p.timely_filing_months is not None:
        return f"{p.timely_filing_months}-month", _months_before(date_of_check, p.timely_filing_months)
    return None, None


def policy_tables(policies: list[Policy], edit_codes: list[str], known_codes: list[str] | None = None,
                  defaults: list[Policy] = (), date_of_check: dt.date | None = None) -> dict[str, pa.Table]:
    """The policies as small Arrow tables (one row per fact), joined by the edits' SQL.
    ``edit_codes`` are the edits being run; ``known_codes`` the whole catalog (what a policy may
    name; default: ``edit_codes``). ``defaults`` (:func:`default_policies`) follow the policies
    given: a claim gets the given policy matching its payer id, else its filing indicator, else a
    given policy that names no payer (a catch-all); failing those, the default matching its
    filing indicator, else the default that names none (``commercial``). ``date_of_check``
    (default today) dates the timely filing cutoffs."""
    known = known_codes or edit_codes
    as_of = date_of_check or dt.date.today()
    rows: dict[str, list[dict]] = {k: [] for k in ("policies", "policy_match", "policy_edits", "policy_jwjz_exempt", "policy_prior_auth", "policy_frequency", "policy_coverage")}
    n_given = len(policies)
    policies = [*policies, *defaults]
    for priority, p in enumerate(policies):
        rows["policies"].append(
            {
                "policy_id": p.id,
                "priority": priority,
                "name": p.name,
                "ndc_required": p.ndc.required,
                "jwjz_required_from": p.jw_jz.required_from,
                "noc_units": p.noc.units,
                "noc_description_required": p.noc.description_required,
                "covered_340b": p.entity_340b.covered_entity,
                "modifier_340b": p.entity_340b.modifier,
                "timely_filing_days": p.timely_filing_days,
                "filing_limit": filing_limit(p, as_of)[0],
                "filing_cutoff": filing_limit(p, as_of)[1],
                "is_default": priority >= n_given,
                "not_checked": "; ".join(p.not_checked) or None,
            }
        )
        # kinds, strongest first: payer_id, filing, any (a given policy naming no payer),
        # default_filing, default_any
        prefix = "default_" if priority >= n_given else ""
        for value in p.applies_to.payer_ids:
            rows["policy_match"].append({"policy_id": p.id, "kind": prefix + "payer_id", "value": value})
        for value in p.applies_to.claim_filing_indicators:
            rows["policy_match"].append({"policy_id": p.id, "kind": prefix + "filing", "value": value})
        if not p.applies_to.payer_ids and not p.applies_to.claim_filing_indicators:
            rows["policy_match"].append({"policy_id": p.id, "kind": prefix + "any", "value": None})
        ignored = {c for c in edit_codes for sel in p.edits.ignore if c.startswith(sel.strip().upper())}
        for sel in p.edits.ignore:
            if not any(c.startswith(sel.strip().upper()) for c in known):
                raise PolicyError(f"policy {p.id}: edits.ignore names {sel!r}, which matches no edit")
        for code in p.edits.severity:
            if code not in known:
                raise PolicyError(f"policy {p.id}: edits.severity names {code!r}, which is not an edit code")
        for code in edit_codes:
            rows["policy_edits"].append(
                {"policy_id": p.id, "code": code, "enabled": code not in ignored, "severity": p.edits.severity.get(code)}
            )
        for code in p.jw_jz.exempt_hcpcs:
            rows["policy_jwjz_exempt"].append({"policy_id": p.id, "hcpcs": code})
        for rule in p.prior_auth:
            for code in rule.hcpcs:
                for pos in rule.places_of_service or [None]:
                    for proc in rule.with_procedures or [None]:
                        rows["policy_prior_auth"].append(
                            {"policy_id": p.id, "rule_id": rule.id, "hcpcs": code, "place_of_service": pos, "with_procedure": proc, "source": rule.source}
                        )
        for rule in p.frequency:
            for code in rule.hcpcs:
                for ndc in rule.ndcs or [None]:
                    rows["policy_frequency"].append(
                        {"policy_id": p.id, "rule_id": rule.id, "hcpcs": code, "ndc11": ndc, "max_units": Decimal(str(rule.max_units)),
                         "period_days": rule.period_days, "source": rule.source}
                    )
        for rule in p.coverage:
            for code in rule.hcpcs:
                for dx in rule.covered_icd10:
                    rows["policy_coverage"].append(
                        {"policy_id": p.id, "rule_id": rule.id, "hcpcs": code, "icd10": dx.rstrip("*"),
                         "is_prefix": dx.endswith("*"), "title": rule.title, "source": rule.source,
                         "effective_from": rule.effective_from, "effective_to": rule.effective_to})
    return {name: pa.Table.from_pylist(data, schema=POLICY_SCHEMAS[name]) for name, data in rows.items()}


POLICY_SCHEMAS = {
    "policy_coverage": pa.schema(
        [("policy_id", pa.string()), ("rule_id", pa.string()), ("hcpcs", pa.string()), ("icd10", pa.string()),
         ("is_prefix", pa.bool_()), ("title", pa.string()), ("source", pa.string()),
         ("effective_from", pa.date32()), ("effective_to", pa.date32())]
    ),
    "policies": pa.schema(
        [("policy_id", pa.string()), ("priority", pa.int32()), ("name", pa.string()), ("ndc_required", pa.string()),
         ("jwjz_required_from", pa.date32()), ("noc_units", pa.string()), ("noc_description_required", pa.bool_()),
         ("covered_340b", pa.bool_()), ("modifier_340b", pa.string()), ("timely_filing_days", pa.int32()),
         ("filing_limit", pa.string()), ("filing_cutoff", pa.date32()), ("is_default", pa.bool_()), ("not_checked", pa.string())]
    ),
    "policy_match": pa.schema([("policy_id", pa.string()), ("kind", pa.string()), ("value", pa.string())]),
    "policy_edits": pa.schema([("policy_id", pa.string()), ("code", pa.string()), ("enabled", pa.bool_()), ("severity", pa.string())]),
    "policy_jwjz_exempt": pa.schema([("policy_id", pa.string()), ("hcpcs", pa.string())]),
    "policy_prior_auth": pa.schema(
        [("policy_id", pa.string()), ("rule_id", pa.string()), ("hcpcs", pa.string()), ("place_of_service", pa.string()),
         ("with_procedure", pa.string()), ("source", pa.string())]
    ),
    "policy_frequency": pa.schema(
        [("policy_id", pa.string()), ("rule_id", pa.string()), ("hcpcs", pa.string()), ("ndc11", pa.string()), ("max_units", pa.decimal128(18, 3)),
         ("period_days", pa.int32()), ("source", pa.string())]
    ),
}
