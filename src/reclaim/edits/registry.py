"""The edit catalog: every edit reclaim runs, with its documentation and its SQL.

An edit is declared once, in its family's module under ``reclaim.edits.rules`` (``codes``,
``units``, ``modifiers``, ``ndc``, ``pricing``...), by calling :func:`edit`. The declaration
holds everything: the stable code (``RC101``), a kebab-case name, the default severity, the
category, the message template (``{name}`` placeholders are columns the SQL returns), an
optional fix (a template for people and a machine action for ``--fix``), the five-part doc
block, and the SQL itself: a query in DuckDB dialect over the engine's views (see
``docs/check.md``) returning one row per finding with at least ``claim_id``, ``line_number``,
``service_date`` and ``procedure_code`` (the line's; NULL for a claim-level finding). The engine runs the same SQL on DuckDB or, transpiled by sqlglot, on Spark.

Adding an edit is a one-file job: add an ``edit(...)`` call to a family module (or a new
module under ``rules/``; every module there is imported) and a YAML case file
``edits/cases/<CODE>.yaml``; the test suite and ``docs/edits.md`` pick both up.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

SEVERITIES = ("error", "warning", "info")
CATEGORIES = {
    "code": "Procedure and modifier codes valid on the date of service, code matches the drug",
    "units": "Billing units: whole units, the HCPCS dose, what the package holds, MUE",
    "modifiers": "Drug modifiers: JW/JZ discarded-drug reporting, 340B (TB/JG), site (PO/PN)",
    "ndc": "National Drug Code on the line: present, well formed, qualified, with a quantity",
    "noc": "Not-otherwise-classified drug codes: description and units",
    "diagnosis": "ICD-10-CM diagnosis valid on the date of service and covered for the drug",
    "policy": "Payer policy: prior authorization, frequency and dose limits, site of care, duplicates",
    "payment": "Charges and expected payment",
}
#: what --fix knows how to apply (see reclaim.edits.fix)
FIX_ACTIONS = (
    "set_units",
    "set_procedure_code",
    "set_ndc",
    "set_ndc_qualifier",
    "add_modifier",
    "remove_modifier",
    "replace_modifier",
)
DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "Fix", "Source")
CODE_PATTERN = re.compile(r"^RC\d{3}$")
CASES_DIR = Path(__file__).parent / "cases"


@dataclass(frozen=True)
class Edit:
    code: str
    name: str
    severity: str
    category: str
    message: str
    doc: str
    sql: str
    fix: str | None = None
    fix_action: str | None = None
    #: fix text when a value in ``fix`` is missing (e.g. no single NDC to suggest)
    fix_fallback: str | None = None
    #: CARC / RARC codes this edit prevents (shown in listings; the doc explains them)
    denials: tuple[str, ...] = ()
    family: str = ""
    sections: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def summary(self) -> str:
        return self.sections["What it checks"].split("\n\n")[0].replace("\n", " ")

    @property
    def manual_fix(self) -> str:
        """The fix of a finding that has no mechanical one: what a person checks, from the doc's
        Fix section (its first paragraph, without the sentences about ``--fix``)."""
        text = " ".join(self.sections["Fix"].split("\n\n")[0].split())
        kept = [s for s in re.split(r"(?<=[.;])\s+(?=[A-Z`])", text) if "--fix" not in s]
        return "no mechanical fix: " + (" ".join(kept) or text)

    @property
    def denials_text(self) -> str:
        """The CARC / RARC codes the edit prevents, as one string (``CARC 16, RARC N430``)."""
        return ", ".join(self.denials)

    @property
    def message_args(self) -> list[str]:
        return _placeholders(self.message)

    @property
    def fix_args(self) -> list[str]:
        return _placeholders(self.fix or "")

    @property
    def cases_path(self) -> Path:
        return CASES_DIR / f"{self.code}.yaml"


_CATALOG: dict[str, Edit] = {}


def _placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _split_doc(code: str, doc: str) -> dict[str, str]:
    """Split a doc block into its ``## Heading`` sections; all five are required."""
    parts = re.split(r"^## +(.+?)\s*$", _dedent(doc), flags=re.MULTILINE)
    sections = {title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2])}
    missing = [s for s in DOC_SECTIONS if not sections.get(s)]
    if missing:
        raise ValueError(f"edit {code}: doc block lacks section(s) {missing} (need {list(DOC_SECTIONS)})")
    return sections


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")


def edit(
    *,
    code: str,
    name: str,
    severity: str,
    category: str,
    message: str,
    doc: str,
    sql: str,
    fix: str | None = None,
    fix_action: str | None = None,
    fix_fallback: str | None = None,
    denials: tuple[str, ...] = (),
) -> Edit:
    """Declare an edit and add it to the catalog (called at import of a rules module)."""
    if not CODE_PATTERN.match(code):
        raise ValueError(f"edit code {code!r} must look like RC101")
    if code in _CATALOG:
        raise ValueError(f"edit code {code} declared twice")
    if severity not in SEVERITIES:
        raise ValueError(f"edit {code}: severity must be one of {SEVERITIES}")
    if category not in CATEGORIES:
        raise ValueError(f"edit {code}: category must be one of {sorted(CATEGORIES)}")
    if fix_action is not None and fix_action not in FIX_ACTIONS:
        raise ValueError(f"edit {code}: fix_action must be one of {FIX_ACTIONS}")
    if fix_action is not None and fix is None:
        raise ValueError(f"edit {code}: a machine fix needs a fix text for people")
    if not denials:
        raise ValueError(f"edit {code}: name the CARC/RARC denial(s) it prevents (denials=...)")
    import inspect

    module = inspect.currentframe().f_back.f_globals.get("__name__", "")  # type: ignore[union-attr]
    item = Edit(
        code=code,
        name=name,
        severity=severity,
        category=category,
        message=message,
        doc=_dedent(doc),
        sql=_dedent(sql),
        fix=fix,
        fix_action=fix_action,
        fix_fallback=fix_fallback,
        denials=tuple(denials),
        family=module.rsplit(".", 1)[-1],
        sections=_split_doc(code, doc),
    )
    _CATALOG[code] = item
    return item


def catalog() -> dict[str, Edit]:
    """All edits, by code, in code order (imports every module of ``reclaim.edits.rules``)."""
    from . import rules

    for info in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{info.name}")
    return dict(sorted(_CATALOG.items()))


def resolve(select: list[str] | None = None, ignore: list[str] | None = None) -> list[Edit]:
    """Edits chosen by ``--select`` / ``--ignore``: codes (RC101), prefixes (RC1, RC30) or
    categories (units). Unknown selectors are an error, like a linter's."""
    from ..errors import ReclaimError

    edits = catalog()

    def matches(selector: str) -> list[str]:
        sel = selector.strip()
        found = [c for c, e in edits.items() if c.startswith(sel.upper()) or e.category == sel.lower() or e.name == sel.lower()]
        if not found:
            raise ReclaimError(
                f"no edit matches {selector!r}",
                hint="codes look like RC101; prefixes (RC1) and categories (" + ", ".join(CATEGORIES) + ") work too; see `reclaim rules`",
            )
        return found

    chosen = set(edits) if not select else {c for s in select for c in matches(s)}
    for s in ignore or []:
        chosen -= set(matches(s))
    return [edits[c] for c in sorted(chosen)]
