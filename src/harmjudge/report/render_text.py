"""Plain-text rendering of classifications for the terminal. The only place numbers are
rounded for display."""

from __future__ import annotations

from collections.abc import Sequence

from harmjudge.judges.verdict import Classification, HarmVerdict, Label

_SHORT = {Label.HARMFUL: "HARMFUL", Label.NOT_HARMFUL: "-", Label.UNJUDGED: "UNJUDGED"}


def format_confidence(value: float | None) -> str:
    """A confidence for display: two decimals, or an empty string when absent.

    >>> format_confidence(0.8571), format_confidence(None)
    ('0.86', '')
    """
    return "" if value is None else f"{value:.2f}"


def _cell(verdict: HarmVerdict) -> str:
    text = _SHORT[verdict.label]
    if verdict.label is Label.UNJUDGED and verdict.reason is not None:
        return f"{text} ({verdict.reason.value})"
    conf = format_confidence(verdict.confidence)
    return f"{text} {conf}" if conf else text


def verdict_table(results: Sequence[Classification], harms: Sequence[str]) -> str:
    """A fixed-width table: one row per transcript, one column per harm.

    Cells read ``HARMFUL 0.85``, ``- 0.95`` (not harmful) or ``UNJUDGED (reason)``.
    """
    header = ["id", *harms]
    rows = [
        [r.id, *(_cell(r.verdicts[h]) if h in r.verdicts else "" for h in harms)] for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
