"""The audit report as Markdown: the same summary and cases, without transcripts, for diffs in
code review."""

from __future__ import annotations

from html import escape

from harmjudge.report.data import OUTCOME_TITLES, ReportData
from harmjudge.report.render_text import format_number, metric_rows


def _cell(text: object) -> str:
    """``text`` as inert Markdown table text: HTML escaped (Markdown renders raw HTML), the
    cell separator escaped, on one line."""
    return escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ReportData, *, agreements: bool = False) -> str:
    """Summary tables per harm, then one row per disagreement (and agreements if asked)."""
    judge = report.evaluation.judges[report.judge]
    confidence = report.evaluation.settings.confidence
    lines = [
        f"# harmjudge audit report: {_cell(report.judge)}",
        "",
        f"Gold labels, {_cell(report.split)} split; harmjudge {_cell(report.harmjudge_version)}.",
        "",
    ]
    for harm in report.harms:
        result = judge.overall[harm]
        cov = result.coverage
        lines += [
            f"## {harm}",
            "",
            f"{cov.gold} gold items: {cov.scored} scored, {cov.unjudged} unjudged, {cov.missing} without a verdict. "
            f"Confusion: tp {result.confusion.tp}, fp {result.confusion.fp}, fn {result.confusion.fn}, tn {result.confusion.tn}.",
            "",
        ]
        header, *body = metric_rows(result, confidence=confidence)
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        lines.append("")
    lines += [
        "## Cases",
        "",
        "| outcome | id | harm | gold | judge | confidence | judge rationale | judge evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case in report.cases:
        if not agreements and case.outcome.startswith("agree"):
            continue
        evidence = " / ".join(f"“{q}”" for q in case.judge.get("evidence", []))
        lines.append(
            f"| {OUTCOME_TITLES[case.outcome]} | {_cell(case.item_id)} | {case.harm} | {case.gold['label']} | "
            f"{case.judge.get('label') or 'none'} | {format_number(case.judge.get('confidence'))} | "
            f"{_cell(case.judge.get('rationale', ''))} | {_cell(evidence)} |"
        )
    return "\n".join(lines) + "\n"
