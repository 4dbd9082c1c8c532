"""Rendering results for people: terminal tables now; HTML and Markdown reports later."""

from harmjudge.report.render_text import format_confidence, verdict_table

__all__ = ["format_confidence", "verdict_table"]
