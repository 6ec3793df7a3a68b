"""Write a recovery run to files: worklist (CSV, XLSX, JSON), summary (CSV, XLSX, JSON, PNG charts;
the reconciliation with the 835s' totals is ``summary-reconciliation.csv``), denied claims and
lines with where their dollars went (``denied.csv``), unmatched remittances, write-offs, unpriced
lines and read issues (CSV).

The worklist files carry claim identifiers (CLM01, payer claim number) and no patient names,
birth dates or member ids.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
import datetime as dt

import pyarrow as pa

WORKLIST_COLUMNS = (
    "item_id", "priority", "amount", "kind", "reason", "rarcs", "explanation", "official_text", "root_cause",
    "action", "action_text", "deadline", "deadline_rule", "days_left", "odds", "payer_name", "payer_id",
    "patient_control_number", "payer_claim_control_number", "procedure_code", "modifier_1", "service_date",
    "units_paid", "line_charge", "line_paid", "remit_date",
)


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def write_csv(table: pa.Table, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(table.column_names)
        for row in table.to_pylist():
            writer.writerow(["" if v is None else _plain(v) for v in row.values()])
    return path


def write_xlsx(sheets: dict[str, pa.Table], path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, table in sheets.items():
        ws = wb.create_sheet(name[:31])
        ws.append(table.column_names)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in table.to_pylist():
            ws.append([_plain(v) for v in row.values()])
        ws.freeze_panes = "A2"
    wb.save(path)
    return path


def write_charts(summary: dict[str, pa.Table], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    by_cat = summary["by_category"].to_pylist()
    if by_cat:
        fig, ax = plt.subplots(figsize=(8, 4))
        labels = [r["category"] for r in by_cat]
        values = [float(r["amount"] or 0) for r in by_cat]
        ax.barh(labels, values, color="#4c72b0")
        ax.set_xlabel("dollars")
        ax.set_title("Where the billed dollars went")
        for i, v in enumerate(values):
            ax.text(v, i, f" ${v:,.0f}", va="center", fontsize=8)
        fig.tight_layout()
        path = out / "summary-by-category.png"
        fig.savefig(path, dpi=110, metadata={"Software": "reclaim"})
        plt.close(fig)
        written.append(path)
    by_action = summary["by_action"].to_pylist()
    if by_action:
        fig, ax = plt.subplots(figsize=(8, 4))
        labels = [f"{r['action']} ({r['kind']})" for r in by_action]
        values = [float(r["at_stake"] or 0) for r in by_action]
        ax.barh(labels, values, color="#dd8452")
        ax.set_xlabel("dollars at stake")
        ax.set_title("Worklist: dollars at stake by action")
        ax.invert_yaxis()
        fig.tight_layout()
        path = out / "worklist-by-action.png"
        fig.savefig(path, dpi=110, metadata={"Software": "reclaim"})
        plt.close(fig)
        written.append(path)
    return written


def write_outputs(result, out_dir: str | Path) -> dict[str, list[str]]:
    """Write every file of a run under ``out_dir``; returns {kind: [paths]}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    worklist = result.items.select([c for c in WORKLIST_COLUMNS if c in result.items.column_names])
    files: dict[str, list[str]] = {"worklist": [], "summary": [], "other": []}
    files["worklist"].append(str(write_csv(worklist, out / "worklist.csv")))
    files["worklist"].append(str(write_xlsx({"worklist": worklist}, out / "worklist.xlsx")))
    with open(out / "worklist.json", "w", encoding="utf-8") as fh:
        json.dump([{k: _plain(v) for k, v in r.items()} for r in worklist.to_pylist()], fh, indent=1)
    files["worklist"].append(str(out / "worklist.json"))
    for name, table in result.summary.items():
        files["summary"].append(str(write_csv(table, out / f"summary-{name.replace('_', '-')}.csv")))
    files["summary"].append(str(write_xlsx(result.summary, out / "summary.xlsx")))
    with open(out / "summary.json", "w", encoding="utf-8") as fh:  # every summary table, reconciliation first
        json.dump({name: [{k: _plain(v) for k, v in r.items()} for r in table.to_pylist()]
                   for name, table in sorted(result.summary.items(), key=lambda kv: kv[0] != "reconciliation")},
                  fh, indent=1)
    files["summary"].append(str(out / "summary.json"))
    files["summary"] += [str(p) for p in write_charts(result.summary, out)]
    files["other"].append(str(write_csv(result.unmatched, out / "unmatched.csv")))
    files["other"].append(str(write_csv(result.write_offs, out / "write-offs.csv")))
    # every denied claim and unpaid line: its worklist items, or why nothing can be done
    files["other"].append(str(write_csv(result.denied.drop_columns(["remit_claim_id"]), out / "denied.csv")))
    if result.read_issues.num_rows:
        files["other"].append(str(write_csv(result.read_issues, out / "read-issues.csv")))
    if result.unpriced.num_rows:
        files["other"].append(str(write_csv(result.unpriced, out / "unpriced.csv")))
    return files
