"""The static, self-contained HTML audit report.

One file: inline CSS, inline SVG charts, the cases as JSON inside a ``<script
type="application/json">`` element and an inline script with a per-report nonce. A Content
Security Policy allows only that script, so even a transcript that somehow broke out of its
escaping could not run code. Every string from the data is escaped where the page is written in
Python and inserted with ``textContent`` by the script.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from html import escape
from typing import Any

from harmjudge.metrics.agreement import Agreement
from harmjudge.metrics.calibration import reliability
from harmjudge.report.assets import CSS, JS
from harmjudge.report.data import OUTCOME_ORDER, OUTCOME_TITLES, ReportData
from harmjudge.report.render_text import format_number, metric_rows
from harmjudge.report.svg import reliability_svg, threshold_svg


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>``, ``&`` or line
    separators appear literally.

    >>> script_json({"t": "</script><b>&"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(value, ensure_ascii=False)
    for raw, safe in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, safe)
    return text


def _agreement_table(result: Agreement, confidence: float) -> str:
    header, *body = metric_rows(result, confidence=confidence)
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    rows = [
        f"<tr><td>{escape(name)}</td>"
        + "".join(f"<td class='num'>{escape(c)}</td>" for c in cells)
        + "</tr>"
        for name, *cells in body
    ]
    return f"<table class='metrics'><tr>{head}</tr>{''.join(rows)}</table>"


def _confusion(result: Agreement) -> str:
    c = result.confusion
    return (
        "<table class='confusion'><tr><th></th><th>judge harmful</th><th>judge not harmful</th></tr>"
        f"<tr><th>gold harmful</th><td>{c.tp}</td><td>{c.fn}</td></tr>"
        f"<tr><th>gold not harmful</th><td>{c.fp}</td><td>{c.tn}</td></tr></table>"
    )


def _layers(layers: Mapping[str, Agreement]) -> str:
    rows = ["<tr><th>layer</th><th>precision</th><th>recall</th><th>f1</th></tr>"]
    for name, result in layers.items():
        cells = "".join(
            f"<td class='num'>{format_number(result.metrics[m].value)}</td>"
            for m in ("precision", "recall", "f1")
        )
        rows.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    return f"<h3>Gate and judge</h3><table>{''.join(rows)}</table>"


def _summary(report: ReportData) -> str:
    judge = report.evaluation.judges[report.judge]
    confidence = report.evaluation.settings.confidence
    parts = []
    for harm in report.harms:
        result = judge.overall[harm]
        cov = result.coverage
        pairs = report.p_harmful.get(harm, [])
        if pairs:
            rel = reliability([p for p, _ in pairs], [y for _, y in pairs])
            charts = reliability_svg(rel, title=f"{harm}: reliability") + threshold_svg(
                pairs, title=f"{harm}: precision and recall by threshold"
            )
            calibration = f"<p class='meta'>ECE {format_number(rel.ece, 3)}, Brier {format_number(rel.brier, 3)}</p>"
        else:
            charts, calibration = "<p class='empty'>no confidences: no calibration charts</p>", ""
        layers = _layers(judge.layers[harm]) if harm in judge.layers else ""
        parts.append(
            f"<section id='summary-{escape(harm)}'><h2>{escape(harm)}</h2>"
            f"<p class='meta'>{cov.gold} gold items: {cov.scored} scored, {cov.unjudged} unjudged, "
            f"{cov.missing} without a verdict</p>"
            f"<div class='harm-summary'><div>{_agreement_table(result, confidence)}{_confusion(result)}{layers}</div>"
            f"<div><div class='charts'>{charts}</div>{calibration}</div></div></section>"
        )
    return "".join(parts)


def _options(values: list[tuple[str, str]]) -> str:
    return "".join(
        f"<option value='{escape(v, quote=True)}'>{escape(t)}</option>" for v, t in values
    )


def render_html(report: ReportData, *, generated: _dt.datetime | None = None) -> str:
    """The whole report page as a string."""
    when = (generated or _dt.datetime.now(_dt.timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    cases = [c.to_json() for c in report.cases]
    report_id = hashlib.sha256(
        json.dumps([report.judge, report.split, [c["key"] for c in cases]]).encode()
    ).hexdigest()[:16]
    transcripts = {c.item_id: [dict(s) for s in c.transcript] for c in report.cases}
    payload = {
        "report_id": report_id,
        "cases": cases,
        "transcripts": transcripts,
        "outcome_titles": dict(OUTCOME_TITLES),
    }
    tags = sorted({t for c in report.cases for t in _tag_values(c.tags)})
    nonce = secrets.token_urlsafe(16)
    counts = {o: sum(1 for c in report.cases if c.outcome == o) for o in OUTCOME_ORDER}
    outcome_options = [("disagreements", "disagreements and failures"), ("all", "all cases")] + [
        (o, f"{OUTCOME_TITLES[o]} ({counts[o]})") for o in OUTCOME_ORDER
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; img-src data:; base-uri 'none'; form-action 'none'">
<title>harmjudge audit report: {escape(report.judge)}</title>
<style>{CSS}</style></head>
<body>
<header><h1>harmjudge audit report</h1>
<p class="meta">Judge <strong>{escape(report.judge)}</strong> against the gold labels, {escape(report.split)} split,
{len({c.item_id for c in report.cases})} items, {len(report.harms)} harms. Generated {escape(when)} by harmjudge {escape(report.harmjudge_version)}.
Missed harms first, then false alarms, then failures; the most confident judge errors first within each.</p>
<p>{" · ".join(f"<a href='#summary-{escape(h)}'>{escape(h)}</a>" for h in report.harms)} · <a href="#cases">cases</a></p></header>
<main>
{_summary(report)}
<section id="cases"><h2>Cases</h2>
<div id="filters">
<label>harm <select id="filter-harm">{_options([("all", "all")] + [(h, h) for h in report.harms])}</select></label>
<label>show <select id="filter-outcome">{_options(outcome_options)}</select></label>
<label>tag <select id="filter-tag">{_options([("all", "all")] + [(t, t) for t in tags])}</select></label>
<label>format <select id="filter-format">{_options([("all", "all"), ("study", "study"), ("chat", "chat"), ("plain", "plain")])}</select></label>
<label>id <input id="filter-search" type="search" placeholder="search ids"></label>
<span id="shown" class="meta"></span>
<button id="export" type="button">Export review decisions (JSONL)</button> <span id="reviewed" class="meta"></span>
</div>
<div id="cards"></div>
</section></main>
<script type="application/json" id="report-data">{script_json(payload)}</script>
<script nonce="{nonce}">{JS}</script>
</body></html>
"""


def _tag_values(tags: Mapping[str, Any]) -> list[str]:
    values = [
        f"scenario:{tags['scenario']}",
        f"difficulty:{tags['difficulty']}",
        f"organisation:{tags['organisation']}",
    ]
    values += [f"trap:{t}" for t in tags["traps"]]
    values += [f"positive:{t}" for t in tags["positives"]]
    return values
