"""Small inline SVG charts for the report: no external assets, no plotting library."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from harmjudge.metrics.calibration import Reliability
from harmjudge.metrics.rates import GroupRate

WIDTH, HEIGHT, PAD = 260, 220, 34


def _x(value: float) -> float:
    return PAD + value * (WIDTH - PAD - 10)


def _y(value: float) -> float:
    return HEIGHT - PAD - value * (HEIGHT - PAD - 10)


def _frame(title: str, x_label: str, y_label: str) -> list[str]:
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(0)}" class="axis"/>',
        f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(0)}" y2="{_y(1)}" class="axis"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{_x(tick)}" y="{_y(0) + 14}" class="tick" text-anchor="middle">{tick:g}</text>'
        )
        parts.append(
            f'<text x="{_x(0) - 6}" y="{_y(tick) + 4}" class="tick" text-anchor="end">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{_x(0.5)}" y="{HEIGHT - 4}" class="label" text-anchor="middle">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="10" y="{_y(0.5)}" class="label" text-anchor="middle" '
        f'transform="rotate(-90 10 {_y(0.5)})">{escape(y_label)}</text>'
    )
    return parts


def reliability_svg(result: Reliability, *, title: str) -> str:
    """Observed harmful rate against mean P(harmful) per bin; the diagonal is perfect calibration;
    a dot's area grows with the bin's count."""
    parts = _frame(title, "mean P(harmful)", "observed harmful")
    parts.append(f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" class="diagonal"/>')
    largest = max((b.count for b in result.bins), default=1) or 1
    for b in result.bins:
        if b.count == 0 or math.isnan(b.mean_p):
            continue
        radius = 2.5 + 6 * math.sqrt(b.count / largest)
        parts.append(
            f'<circle cx="{_x(b.mean_p):.1f}" cy="{_y(b.observed):.1f}" r="{radius:.1f}" class="dot">'
            f"<title>{b.count} items: mean P {b.mean_p:.2f}, observed {b.observed:.2f}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def threshold_svg(pairs: Sequence[tuple[float, bool]], *, title: str) -> str:
    """Precision and recall of 'harmful when P(harmful) >= t' for t from 0 to 1."""
    parts = _frame(title, "threshold on P(harmful)", "precision / recall")
    positives = sum(1 for _, y in pairs if y)
    precision_points: list[str] = []
    recall_points: list[str] = []
    for step in range(101):
        t = step / 100
        tp = sum(1 for p, y in pairs if p >= t and y)
        flagged = sum(1 for p, _ in pairs if p >= t)
        if flagged:
            precision_points.append(f"{_x(t):.1f},{_y(tp / flagged):.1f}")
        if positives:
            recall_points.append(f"{_x(t):.1f},{_y(tp / positives):.1f}")
    if precision_points:
        parts.append(f'<polyline points="{" ".join(precision_points)}" class="precision"/>')
    if recall_points:
        parts.append(f'<polyline points="{" ".join(recall_points)}" class="recall"/>')
    parts.append(
        f'<text x="{_x(0.62)}" y="{_y(0.14)}" class="legend precision-text">precision</text>'
    )
    parts.append(f'<text x="{_x(0.62)}" y="{_y(0.04)}" class="legend recall-text">recall</text>')
    parts.append("</svg>")
    return "".join(parts)


def rates_svg(rows: Sequence[GroupRate], *, title: str) -> str:
    """A dot-and-interval plot of harm rates: one line per group and harm, the observed rate
    (filled dot, Wilson interval) and, when measured, the corrected rate (open dot, bootstrap
    interval) on a 0–100 % axis. Labels are escaped: group values come from transcripts."""
    names = [" · ".join(v for _, v in r.group) + f" · {r.harm} (n={r.judged})" for r in rows]
    label_w = 20 + 7 * max((len(n) for n in names), default=10)  # ~7 px a character at 12 px
    plot_w, row_h, top = 420, 22, 46
    height = top + row_h * len(rows) + 40

    def x(value: float) -> float:
        return label_w + value * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {label_w + plot_w + 30} {height}" '
        f'width="{label_w + plot_w + 30}" height="{height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
        '<text x="10" y="36" fill="#333">● observed (Wilson 95 %)   ○ corrected for the '
        "judge's errors (dashed: bootstrap 95 %)</text>",
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{x(tick)}" y1="{top - 4}" x2="{x(tick)}" y2="{height - 34}" stroke="#ddd"/>'
            f'<text x="{x(tick)}" y="{height - 20}" text-anchor="middle">{tick:.0%}</text>'
        )
    for i, (row, name) in enumerate(zip(rows, names, strict=True)):
        y = top + row_h * i + row_h / 2
        parts.append(f'<text x="{label_w - 8}" y="{y + 4}" text-anchor="end">{escape(name)}</text>')
        for est, low, high, dy, fill, dash in (
            (row.rate, row.low, row.high, -3, "#1f4e99", ""),
            *(
                ((c.corrected, c.low, c.high, 4, "white", ' stroke-dasharray="4 2"'),)
                if (c := row.corrected) is not None and c.defined
                else ()
            ),
        ):
            if math.isnan(est):
                continue
            if not (math.isnan(low) or math.isnan(high)):
                parts.append(
                    f'<line x1="{x(low):.1f}" y1="{y + dy}" x2="{x(high):.1f}" y2="{y + dy}" '
                    f'stroke="#1f4e99" stroke-width="2"{dash}/>'
                )
            parts.append(
                f'<circle cx="{x(est):.1f}" cy="{y + dy}" r="4" fill="{fill}" stroke="#1f4e99"/>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
