"""Server-rendered SVG charts (no script, no CDN): what a manager pastes into a report.

Labels are escaped; colours come from presentation attributes and CSS classes (the CSP allows
no inline style). Each chart has a <title> and a table twin on the page for screen readers.
"""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#3b6fb6", "#e07b53", "#5aa469", "#9b6fc3", "#d4a437", "#4aa3b5")


def _money_short(value: float) -> str:
    value = float(value)
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"${value / size:,.1f}{unit}"
    return f"${value:,.0f}"


def hbar(rows: list[dict], label: str, value: str, *, title: str, width: int = 560, fmt=_money_short) -> Markup:
    """Horizontal bars, largest first, one per row."""
    data = [(str(r.get(label) or "(none)"), float(r.get(value) or 0)) for r in rows if r.get(value)]
    if not data:
        return Markup('<p class="muted">No data yet.</p>')
    top = max(v for _, v in data) or 1.0
    bar_h, gap, left, right = 22, 8, 190, 80
    height = len(data) * (bar_h + gap) + 10
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (name, v) in enumerate(data):
        y = 5 + i * (bar_h + gap)
        w = max(1.0, (width - left - right) * v / top)
        short = name if len(name) <= 28 else name[:27] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(short)}</text>')
        parts.append(f'<rect class="bar-rect" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3"><title>{escape(name)}: {escape(fmt(v))}</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{escape(fmt(v))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns_with_rate(rows: list[dict], *, label: str, bars: str, rate: str, title: str, width: int = 980,
                      height: int = 260) -> Markup:
    """Columns (dollars) per period with a line (percentage) on a second axis."""
    data = [(str(r.get(label) or "(no date)")[:7], float(r.get(bars) or 0), float(r.get(rate) or 0)) for r in rows]
    if not data:
        return Markup('<p class="muted">No data yet.</p>')
    left, right, top_pad, bottom = 60, 50, 16, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max(v for _, v, _ in data) or 1.0
    step = plot_w / len(data)
    bar_w = min(60.0, step * 0.6)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}"/>']
    for frac in (0.0, 0.5, 1.0):
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_money_short(top * frac))}</text>')
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}">{100 * frac:.0f}%</text>')
    points = []
    for i, (name, v, pct) in enumerate(data):
        x = left + step * i + (step - bar_w) / 2
        h = plot_h * v / top
        parts.append(f'<rect class="bar-rect alt" x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                     f'<title>{escape(name)}: {escape(_money_short(v))} denied, {pct:.1f}% of claims</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 12}" text-anchor="middle">{escape(name)}</text>')
        points.append(f"{x + bar_w / 2:.1f},{top_pad + plot_h * (1 - min(pct, 100) / 100):.1f}")
    if len(points) > 1:
        parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    for p in points:
        cx, cy = p.split(",")
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="#b3261e"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def as_float(value) -> float:
    return float(value) if isinstance(value, (int, float, Decimal)) else 0.0
