"""Render a billing guide, an NDC look-up or search hits: rich terminal text or Markdown.

The two renderers walk the same sections in the same order (:func:`sections`), so the terminal
and Markdown outputs cannot drift; JSON is ``Guide.to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterator

from .guide import Guide, NdcInfo, SearchHit

__all__ = ["sections", "render_markdown", "render_text", "ndc_markdown", "render_ndc_text", "search_markdown",
           "render_search_text"]



@dataclass
class Section:
    title: str
    lines: list[str]
    #: header row first; None when the section is only lines
    table: list[list[str]] | None = None
    #: sources of the section's facts
    notes: list[str] = field(default_factory=list)
    #: wide prose rows: the terminal shows one block per row instead of a table
    blocks: bool = False


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.{places}f}"


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def _abridged(text: str | None) -> str | None:
    """An X12 description without its "Usage:"/"Note:" tail (the JSON keeps the full text)."""
    if not text:
        return text
    head = text.split(" Usage:")[0].split(" Note:")[0].strip()
    return head if head == text else head + " [...]"


def sections(g: Guide) -> Iterator[Section]:
    """The guide's sections in order; both renderers walk these."""
    status = g.status
    dates = [f"added {status.add_date}" if status.add_date else None,
             f"action effective {status.effective_date}" if status.effective_date else None,
             f"terminated {status.termination_date}" if status.termination_date else None]
    action = f"action code {status.action_code} ({status.action_meaning or 'meaning not in the code table'})" \
        if status.action_code else None
    lines = [f"Long: {g.long_description}", f"Short: {g.short_description}"]
    if g.billing_unit:
        lines.append(f"Billing unit: {g.billing_unit['amount']} {g.billing_unit['uom']} "
                     f"(\"{g.billing_unit['text']}\": bill one unit per {g.billing_unit['text'].removeprefix('per ')})")
    elif g.billing_unit_note:
        lines.append(f"Billing unit: {g.billing_unit_note}")
    yield Section("Descriptor", lines, None, [g.descriptor_source])

    yield Section("Status", [f"{status.state.upper()}: {status.summary}", "; ".join(d for d in dates if d)]
                  + ([action] if action else []), None, [status.source])

    yield Section("Coded fields", [], [["field", "code", "meaning"]]
                  + [[i.label, i.code or "-", i.meaning or ("-" if not i.code else "not in the code table")]
                     for i in g.indicators], sorted({i.source for i in g.indicators}))

    if g.kind == "procedure":
        if g.payment:
            p = g.payment
            lines = [f"Payment limit {money(p.payment_limit, 3)} per {p.dosage or 'billing unit'} "
                     f"(ASP quarter {p.quarter}: {p.effective_from} to {p.effective_to})",
                     f"Coinsurance {p.coinsurance_pct}%" + (f" ({p.notes})" if p.notes else "")]
            table = None
            if p.per_item:
                lines.append("Per item (vial, syringe) from the crosswalk packages:")
                table = [["drug", "NDC", "units", "payment", f"coinsurance {p.coinsurance_pct}%"]] + [
                    [d.drug_name, d.ndc, f"{_num(d.billing_units)} x {money(p.payment_limit, 3)}", money(d.payment),
                     money(d.coinsurance)] for d in p.per_item]
            notes = [p.source]
            if not p.covers_date_of_service:
                notes.append(f"WARNING: this quarter ended {p.effective_to}, before the date of service")
            yield Section("Payment (Medicare Part B, ASP)", lines, table, notes)
        else:
            yield Section("Payment (Medicare Part B, ASP)", [g.payment_note or "no payment data"])

        if g.mue:
            yield Section("MUE", [], [["setting", "MUE", "MAI", "rationale"]]
                          + [[m.setting, str(m.mue_value), f"{m.mai} {m.mai_text or ''}".strip(), m.rationale or ""]
                             for m in g.mue], sorted({m.source for m in g.mue}))
        else:
            yield Section("MUE", [g.mue_note or ""])

        if g.opps:
            o = g.opps
            lines = [f"Status indicator {o.status_indicator or '-'}" + (f": {o.meaning}" if o.meaning else ""),
                     f"APC {o.apc or '-'}; payment rate {money(o.payment_rate, 3) if o.payment_rate is not None else 'none'}"
                     + (f"; minimum unadjusted copayment {money(o.minimum_copay)}" if o.minimum_copay is not None else "")
                     + f" (quarter {o.quarter}: {o.effective_from} to {o.effective_to})"]
            yield Section("Hospital outpatient (OPPS)", lines, None, [o.source])
        elif g.opps_note:
            yield Section("Hospital outpatient (OPPS)", [g.opps_note])

        if g.ndcs:
            yield Section("NDCs", [f"{len(g.ndcs)} NDC(s) map to {g.code}"],
                          [["NDC", "drug (labeler)", "size x qty", "units/item", "units/pkg", "ASP/pkg"]]
                          + [[n.ndc, f"{n.drug_name or ''} ({n.labeler or ''})",
                              f"{n.package_size or '?'} x {n.package_quantity or '?'}",
                              _num(n.billing_units_per_item), _num(n.billing_units_per_package),
                              money(n.payment_per_package)] for n in g.ndcs],
                          [g.ndc_source] if g.ndc_source else [])
        elif g.ndc_note:
            yield Section("NDCs", [g.ndc_note])

    if g.modifiers:
        yield Section("Modifiers", [], [["modifier", "descriptor", "status", "when it applies", "cite"]]
                      + [[m.code, m.descriptor or "-", m.status, m.when, m.cite] for m in g.modifiers],
                      sorted({m.source for m in g.modifiers}), blocks=True)

    if g.kind == "procedure" and (g.related or g.denials):
        if g.related:
            yield Section("Related codes", [], [["code", "descriptor", "relation", "status"]]
                          + [[r.code, r.descriptor, r.relation, r.status] for r in g.related], [g.descriptor_source])
        else:
            yield Section("Related codes", ["no other code names the same active ingredient"], None,
                          [g.descriptor_source])

        if g.diagnoses:
            yield Section("Covered diagnoses", [], [["article", "ICD-10-CM", "description"]]
                          + [[d.article_id, d.icd10, d.description or ""] for d in g.diagnoses])
        else:
            yield Section("Covered diagnoses", [g.diagnoses_note or ""])

        if g.denials:
            yield Section("Common denials", [], [["CARC", "RARC", "cause", "fix", "cite"]]
                          + [[f"{d.carc}: {_abridged(d.carc_text) or 'not in the loaded CARC list'}",
                              f"{d.rarc}: {_abridged(d.rarc_text) or 'not in the loaded RARC list'}" if d.rarc else "",
                              d.cause, d.fix, d.cite] for d in g.denials],
                          sorted({s.dataset.upper() + " " + s.release for s in g.sources
                                  if s.dataset in ("carc", "rarc")}), blocks=True)

    if g.warnings:
        yield Section("Warnings", g.warnings)
    yield Section("Sources", [], [["dataset", "release", "file", "sha256", "provenance"]]
                  + [[s.dataset, s.release, s.file, s.sha256, s.provenance] for s in g.sources])


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(_md_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return out


def render_markdown(g: Guide) -> str:
    out = [f"# {g.code}: billing guide for date of service {g.date_of_service}", ""]
    for sec in sections(g):
        out += [f"## {sec.title}", ""]
        out += [f"- {line}" for line in sec.lines if line]
        if sec.lines:
            out.append("")
        if sec.table:
            out += _md_table(sec.table) + [""]
        out += [f"_Source: {'; '.join(sec.notes)}_", ""] if sec.notes else []
    return "\n".join(out).rstrip() + "\n"


def render_text(g: Guide, console) -> None:  # console: rich.console.Console
    from rich.table import Table
    from rich.padding import Padding
    from rich.text import Text

    console.rule(f"[bold]{g.code}[/bold]  {g.long_description}  (date of service {g.date_of_service})")
    for sec in sections(g):
        console.print(f"\n[bold cyan]{sec.title}[/bold cyan]")
        for line in sec.lines:
            if line:
                console.print(Padding(Text(line), (0, 0, 0, 2), expand=False))
        if sec.table and sec.blocks:
            header = sec.table[0]
            for row in sec.table[1:]:
                console.print(Padding(Text(row[0], style="bold"), (0, 0, 0, 2), expand=False))
                for name, value in zip(header[1:], row[1:]):
                    if value:
                        console.print(Padding(Text(f"{name}: {value}"), (0, 0, 0, 6), expand=False))
        elif sec.table:
            t = Table(show_header=True, header_style="bold", box=None, padding=(0, 2, 0, 0), pad_edge=False)
            for i, header in enumerate(sec.table[0]):
                t.add_column(header, overflow="fold", no_wrap=i == 0)
            for row in sec.table[1:]:
                t.add_row(*row)
            console.print(Padding(t, (0, 0, 0, 2), expand=False))
        for note in sec.notes:
            console.print(Padding(Text(f"source: {note}", style="dim"), (0, 0, 0, 2), expand=False))


def ndc_markdown(info: NdcInfo) -> str:
    out = [f"# NDC {info.ndc} (date of service {info.date_of_service})", ""]
    rows = [["HCPCS", "descriptor", "drug", "labeler", "pkg size", "pkg qty", "units/item", "units/package",
             "payment limit", "ASP/package"]]
    for r in info.rows:
        rows.append([r["hcpcs"], r["hcpcs_description"] or "", r["drug_name"], r["labeler"] or "",
                     r["package_size"] or "", r["package_quantity"] or "", _num(r["billing_units_per_item"]),
                     _num(r["billing_units_per_package"]),
                     f"{money(r['payment_limit'], 3)} per {r['hcpcs_dosage']} ({r['asp_quarter']})"
                     if r["payment_limit"] is not None else "no ASP row", money(r["payment_per_package"])])
    out += _md_table(rows) + ["", f"_Source: {info.source}_"]
    out += [f"- WARNING: {w}" for w in info.warnings]
    return "\n".join(out) + "\n"


def render_ndc_text(info: NdcInfo, console) -> None:
    console.rule(f"[bold]NDC {info.ndc}[/bold]  (date of service {info.date_of_service})")
    for r in info.rows:
        console.print(f"\n[bold cyan]{r['hcpcs']}[/bold cyan]  {r['hcpcs_description']}", highlight=False)
        console.print(f"  Drug: {r['drug_name']}   Labeler: {r['labeler']}", highlight=False, markup=False)
        console.print(f"  Package: size {r['package_size']}, quantity {r['package_quantity']}", highlight=False)
        console.print(f"  Billing units: {_num(r['billing_units_per_item'])} per item, "
                      f"{_num(r['billing_units_per_package'])} per package (1 unit = {r['hcpcs_dosage']})",
                      highlight=False)
        if r["payment_limit"] is not None:
            console.print(f"  ASP: {money(r['payment_limit'], 3)} per unit ({r['asp_quarter']}) -> "
                          f"{money(r['payment_per_package'])} per package", highlight=False)
        else:
            console.print("  ASP: no payment limit in force on the date of service (see the warnings)"
                          if r["asp_quarter"] is None else f"  ASP: no row in the pricing file {r['asp_quarter']}",
                          highlight=False)
    console.print(f"  [dim]source: {info.source}[/dim]", highlight=False)
    for w in info.warnings:
        console.print(f"  [yellow]WARNING: {w}[/yellow]", highlight=False)


def search_markdown(query: str, hits: list[SearchHit]) -> str:
    out = [f"# Search: {query}", ""]
    if not hits:
        return "\n".join(out + ["No code matches every word."]) + "\n"
    out += _md_table([["code", "descriptor", "brands (ASP crosswalk)", "status"]]
                     + [[h.code, h.long_description, ", ".join(h.brands), h.status] for h in hits])
    return "\n".join(out) + "\n"


def render_search_text(query: str, hits: list[SearchHit], console) -> None:
    from rich.table import Table

    if not hits:
        console.print(f"No code matches every word of {query!r}.", highlight=False)
        return
    t = Table("code", "descriptor", "brands (ASP crosswalk)", "status", box=None, padding=(0, 1), pad_edge=False)
    for h in hits:
        t.add_row(h.code, h.long_description, ", ".join(h.brands), h.status)
    console.print(t)
