"""The charts of the « Extrait » boxes as small inline SVG, written by hand.

Nothing is loaded from a network and no library is needed: a bar chart for the choices of
a closed question, a histogram with its mean and median for a scale. Text is escaped; the
SVG carries a <title> and the same counts are in a table beside it for screen readers.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 600
BAR_COLOUR = "#000091"  # the French State's blue, as the report's bars
MEAN_COLOUR = "#c9191e"
MEDIAN_COLOUR = "#18753c"


def _number(value: float) -> str:
    """French decimals, at most two: 4.85 -> « 4,85 », 5.0 -> « 5 »."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def bar_chart(bars: list[dict[str, Any]], title: str) -> str:
    """Horizontal bars, one per choice, the count and share at the end of each."""
    row, label_w, top = 24, 250, 6
    shown = [b for b in bars]
    height = top + row * len(shown) + 6
    biggest = max((b["n"] or 0 for b in shown), default=0) or 1
    room = WIDTH - label_w - 100
    parts = [(f'<svg class="graphique" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
             f"<title>{escape(title)}</title>")]
    for i, b in enumerate(shown):
        y = top + i * row
        label = b["label"] if len(b["label"]) <= 36 else b["label"][:35] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" '
                     f'font-size="12">{escape(label)}</text>')
        if b["n"] is None:
            parts.append(f'<text x="{label_w}" y="{y + 16}" font-size="12" fill="#666">'
                         f"effectif masqué (petit groupe)</text>")
            continue
        w = round(room * b["n"] / biggest, 1)
        share = f" ({_number(100 * b['share'])} %)" if b.get("share") is not None else ""
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="16" '
                     f'fill="{BAR_COLOUR}"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 16}" font-size="12">'
                     f"{b['n']}{share}</text>")
    parts.append("</svg>")
    return "".join(parts)


def histogram(bins: list[dict[str, Any]], mean: float | None, median: float | None,
              title: str) -> str:
    """Vertical bars, one per value (or bin), with the mean and the median as lines."""
    left, bottom, top, plot_h = 36, 40, 22, 140
    height = top + plot_h + bottom
    n = max(1, len(bins))
    step = (WIDTH - left - 10) / n
    biggest = max((b["n"] for b in bins), default=0) or 1
    parts = [(f'<svg class="graphique" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">'
             f"<title>{escape(title)}</title>"),
             (f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - 10}" y2="{top + plot_h}" '
             f'stroke="#666"/>')]
    for i, b in enumerate(bins):
        h = round(plot_h * b["n"] / biggest, 1)
        x = round(left + i * step + 2, 1)
        parts.append(f'<rect x="{x}" y="{top + plot_h - h}" width="{round(step - 4, 1)}" '
                     f'height="{h}" fill="{BAR_COLOUR}"/>')
        parts.append(f'<text x="{round(x + (step - 4) / 2, 1)}" y="{top + plot_h - h - 4}" '
                     f'text-anchor="middle" font-size="11">{b["n"]}</text>')
        parts.append(f'<text x="{round(x + (step - 4) / 2, 1)}" y="{top + plot_h + 16}" '
                     f'text-anchor="middle" font-size="11">{escape(b["label"])}</text>')

    def position(value: float) -> float | None:
        for i, b in enumerate(bins):
            if b["low"] <= value <= b["high"] or (b["low"] < value < b["high"]):
                span = (b["high"] - b["low"]) or 1
                inside = 0.5 if b["low"] == b["high"] else (value - b["low"]) / span
                return round(left + (i + inside) * step, 1)
        for i in range(len(bins) - 1):  # between two integer bars
            if bins[i]["high"] < value < bins[i + 1]["low"]:
                gap = bins[i + 1]["low"] - bins[i]["high"]
                return round(left + (i + 0.5 + (value - bins[i]["high"]) / gap) * step, 1)
        return None

    legend = []
    for value, colour, name, dash in ((mean, MEAN_COLOUR, "moyenne", "6 3"),
                                      (median, MEDIAN_COLOUR, "médiane", "2 2")):
        if value is None or (x := position(value)) is None:
            continue
        parts.append(f'<line x1="{x}" y1="{top - 4}" x2="{x}" y2="{top + plot_h}" '
                     f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
        legend.append((colour, f"{name} {_number(value)}"))
    for i, (colour, text) in enumerate(legend):
        x = left + i * 150
        parts.append(f'<text x="{x}" y="{height - 6}" font-size="12" fill="{colour}">'
                     f"— {escape(text)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def box_chart(box: dict[str, Any]) -> str:
    """The chart of an « Extrait » box (closed.extract_box)."""
    title = f"Réponses à « {box['column']} »"
    if box["kind"] == "scale":
        return histogram(box.get("bins") or [], box.get("mean"), box.get("median"), title)
    return bar_chart(box.get("bars") or [], title)
