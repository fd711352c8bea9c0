"""Server-side SVG charts: geometry here, markup in ``followup/charts/*.svg`` templates.

Every chart takes the same rows as the table next to it ({"label", "count"}), so a chart never shows
a number the accessible table does not. Colours come from presentation attributes (no inline style,
so the CSP holds) and can be overridden in ``static/css/app.css``; WeasyPrint renders the same SVG in
the PDF.
"""

import math
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    label_x: float
    label_y: float
    value_x: float
    value_y: float


def _nice_max(value: int) -> int:
    """A round axis maximum ≥ value (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def column_chart(*, rows: list[dict], chart_id: str, title: str, description: str) -> SafeString:
    """Vertical bars, e.g. the trend by month."""
    width, height = 720, 260
    left, right, top, bottom = 40, 10, 20, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    maximum = _nice_max(max((r["count"] for r in rows), default=0))
    slot = plot_w / max(len(rows), 1)
    bar_w = slot * 0.7
    bars = []
    for i, row in enumerate(rows):
        h = plot_h * row["count"] / maximum
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(y, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label=row.get("short_label", row["label"]),
                value=row["count"],
                label_x=round(x + bar_w / 2, 1),
                label_y=height - bottom + 16,
                value_x=round(x + bar_w / 2, 1),
                value_y=round(y - 4, 1),
            )
        )
    ticks = [
        {"value": v, "y": round(top + plot_h - plot_h * v / maximum, 1)}
        for v in (0, maximum // 2 if maximum > 1 else 0, maximum)
    ]
    return render_to_string(
        "followup/charts/column_chart.svg",
        {
            "chart_id": chart_id,
            "title": title,
            "description": description,
            "bars": bars,
            "width": width,
            "height": height,
            "left": left,
            "right": width - right,
            "baseline": top + plot_h,
            "ticks": ticks,
        },
    )


def bar_chart(*, rows: list[dict], chart_id: str, title: str, description: str) -> SafeString:
    """Horizontal bars, e.g. the distribution by category."""
    label_w, width, row_h, top = 260, 720, 26, 10
    plot_w = width - label_w - 60
    height = top * 2 + row_h * max(len(rows), 1)
    maximum = max((r["count"] for r in rows), default=0) or 1
    bars = []
    for i, row in enumerate(rows):
        w = plot_w * row["count"] / maximum
        y = top + i * row_h
        label = row["label"] if len(row["label"]) <= 40 else row["label"][:39] + "…"
        bars.append(
            Bar(
                x=label_w,
                y=y + 4,
                width=round(w, 1),
                height=row_h - 8,
                label=label,
                value=row["count"],
                label_x=label_w - 6,
                label_y=y + row_h / 2 + 4,
                value_x=round(label_w + w + 6, 1),
                value_y=y + row_h / 2 + 4,
            )
        )
    return render_to_string(
        "followup/charts/bar_chart.svg",
        {
            "chart_id": chart_id,
            "title": title,
            "description": description,
            "bars": bars,
            "width": width,
            "height": height,
            "label_w": label_w,
        },
    )
