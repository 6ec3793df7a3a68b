"""The denial taxonomy: CARC x group x RARC -> category, explanation, action, odds.

The taxonomy is data (``recovery/data/taxonomy.csv``), one row per rule:

``carc, group, rarc``
    what the rule matches; ``*`` matches anything. The most specific matching rule wins,
    in this order: a mapped row before an ``unmapped`` one, then an exact group, then an
    exact CARC, then an exact RARC (a RARC on the same line, or on the claim via MOA/MIA).
    The group decides liability first: ``PR-96`` is the patient's, ``CO-96`` a denial.
``category``
    where the dollars go: ``contractual`` (not a loss), ``patient_responsibility``,
    ``sequestration``, ``prior_payer``, ``denial`` or ``unmapped``. Denials become
    ``partial_denial`` when the line was still paid, and everything on a reversal
    (CLP02 = 22) becomes ``reversal`` (see :mod:`reclaim.recovery.classify`).
``denial_reason``, ``edit_category``
    the kind of denial, and the edit-catalog categories (``|``-separated) whose edits would
    have caught it: root cause is found by category, so it works whatever the edit codes are.
``recoverable``, ``medicare_action``, ``commercial_action``, ``default_odds``
    whether money can come back, how (see :data:`ACTIONS`), and the default odds of
    recovering it (replaced by observed rates once the worklist has history).
``explanation``, ``rationale``
    plain English for the biller, and why the row says what it says (domain-facts tags).

Every CARC the X12 list marks current has a row, mapped or explicitly ``unmapped``
(tested against the official list). The official CARC/RARC texts are not copied here: they
come from the reference store at run time (:func:`official_texts`).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import pyarrow as pa

CATEGORIES = (
    "paid",
    "contractual",
    "patient_responsibility",
    "sequestration",
    "prior_payer",
    "denial",
    "partial_denial",
    "reversal",
    "unmapped",
    "unbalanced",
)
#: categories that are money lost unless someone acts
LOSS_CATEGORIES = ("denial", "partial_denial", "unmapped", "patient_responsibility")

#: action -> what the biller does (shown in the worklist)
ACTIONS = {
    "reopening": "Request a reopening (clerical error fix) with the corrected data",
    "redetermination": "File a redetermination (level 1 appeal) with supporting records",
    "appeal": "File an appeal with the payer, with supporting records",
    "corrected_claim": "Send a corrected claim (frequency 7, REF*F8 = payer claim number)",
    "new_claim": "Submit a new claim with the complete, correct information",
    "send_documentation": "Send the requested documentation",
    "bill_patient_or_secondary": "Bill the secondary payer, or the patient",
    "bill_other_payer": "Bill the correct (primary) payer",
    "dispute_underpayment": "Dispute the payment amount (underpaid against the fee schedule or contract)",
    "review_recoupment": "Review the recoupment/offset and dispute it if not owed",
    "review": "Review the adjustment: read the official code texts",
    "write_off": "Write off (no recovery path)",
    "none": "No action",
}

COLUMNS = (
    "carc",
    "group",
    "rarc",
    "category",
    "denial_reason",
    "edit_category",
    "recoverable",
    "medicare_action",
    "commercial_action",
    "default_odds",
    "explanation",
    "rationale",
)

SCHEMA = pa.schema(
    [
        ("rule_id", pa.int32()),  # row number in taxonomy.csv (1 = first rule)
        ("carc", pa.string()),
        ("group_code", pa.string()),
        ("rarc", pa.string()),
        ("category", pa.string()),
        ("denial_reason", pa.string()),
        ("edit_category", pa.string()),
        ("recoverable", pa.bool_()),
        ("medicare_action", pa.string()),
        ("commercial_action", pa.string()),
        ("default_odds", pa.float64()),
        ("explanation", pa.string()),
        ("rationale", pa.string()),
    ]
)


class TaxonomyError(ValueError):
    """The taxonomy file is malformed (a packaging bug, caught by the tests)."""


@lru_cache(maxsize=1)
def load() -> pa.Table:
    """The taxonomy as an Arrow table (column ``group`` is renamed ``group_code``)."""
    text = resources.files("reclaim.recovery").joinpath("data/taxonomy.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise TaxonomyError(f"taxonomy.csv: header must be {','.join(COLUMNS)}, got {reader.fieldnames}")
    cols: dict[str, list] = {name: [] for name in SCHEMA.names}
    for line, row in enumerate(reader, start=2):
        if row["category"] not in CATEGORIES:
            raise TaxonomyError(f"taxonomy.csv line {line}: unknown category {row['category']!r}")
        for key in ("medicare_action", "commercial_action"):
            if row[key] not in ACTIONS:
                raise TaxonomyError(f"taxonomy.csv line {line}: unknown {key} {row[key]!r}")
        if row["recoverable"] not in ("yes", "no"):
            raise TaxonomyError(f"taxonomy.csv line {line}: recoverable must be yes or no")
        odds = float(row["default_odds"])
        if not 0.0 <= odds <= 1.0:
            raise TaxonomyError(f"taxonomy.csv line {line}: default_odds must be within 0..1")
        cols["rule_id"].append(line - 1)
        cols["carc"].append(row["carc"].strip().upper())
        cols["group_code"].append(row["group"].strip().upper())
        cols["rarc"].append(row["rarc"].strip().upper())
        cols["category"].append(row["category"])
        cols["denial_reason"].append(row["denial_reason"] or None)
        cols["edit_category"].append(row["edit_category"] or None)
        cols["recoverable"].append(row["recoverable"] == "yes")
        cols["medicare_action"].append(row["medicare_action"])
        cols["commercial_action"].append(row["commercial_action"])
        cols["default_odds"].append(odds)
        cols["explanation"].append(row["explanation"])
        cols["rationale"].append(row["rationale"])
    return pa.table(cols, schema=SCHEMA)


def official_texts(store) -> tuple[pa.Table, pa.Table, str | None]:
    """CARC and RARC texts (code, description) and the CARC release, from the reference store.

    Returns empty tables when no store is given, so that classification still works; the
    worklist then says the official text is unavailable rather than inventing one.
    """
    empty = pa.table({"code": pa.array([], pa.string()), "description": pa.array([], pa.string())})
    if store is None:
        return empty, empty, None
    con = store.con
    # materialize each result before the next query (a streaming result dies with the next execute)
    carc = _table(con.execute("select code, description from carc").arrow())
    rarc = _table(con.execute("select code, description from rarc").arrow())
    row = con.execute("select max(release) from carc").fetchone()
    return carc, rarc, row[0] if row else None


def _table(result) -> pa.Table:
    return result.read_all() if hasattr(result, "read_all") else result
