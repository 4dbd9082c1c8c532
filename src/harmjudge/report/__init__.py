"""Rendering results for people: terminal tables now; HTML and Markdown reports later."""

from harmjudge.report.render_text import (
    evaluation_report,
    format_confidence,
    format_number,
    verdict_table,
)

__all__ = ["evaluation_report", "format_confidence", "format_number", "verdict_table"]
