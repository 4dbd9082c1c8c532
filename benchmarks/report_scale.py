"""Build an audit report of about 5,000 cases and time it in headless Chromium.

    python benchmarks/report_scale.py

Copies the gold items under new ids until there are 1,667 items (5,001 cases over three harms),
judges them with the offline judge, writes the report, then measures in Debian's Chromium:
the time until every case header is on the page, and the time each filter change takes.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

from playwright.sync_api import sync_playwright

from harmjudge import Taxonomy, classify
from harmjudge.labels import load_gold
from harmjudge.metrics.binary import UndefinedMetricWarning
from harmjudge.metrics.evaluate import evaluate
from harmjudge.metrics.verdicts import table_from_classifications
from harmjudge.report.data import build_report
from harmjudge.report.render_html import render_html

ITEMS = 1667
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]


def main() -> None:
    base = [e.item for e in load_gold()]
    gold = [
        base[n % len(base)].model_copy(
            update={"id": f"{base[n % len(base)].id}-copy{n}", "split": "test"}
        )
        for n in range(ITEMS)
    ]
    taxonomy = Taxonomy.builtin()
    started = time.perf_counter()
    results = [classify(i.transcript(), judge="offline", taxonomy=taxonomy) for i in gold]
    judged = time.perf_counter() - started
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        evaluation = evaluate(
            gold, [table_from_classifications("offline", results)], slices=(), n_resamples=500
        )
    started = time.perf_counter()
    report = build_report(
        gold,
        {r.id: r.to_json() for r in results},
        evaluation,
        judge="offline",
        harms=("blackmail", "leakage", "lethal_override"),
        version="bench",
    )
    page_text = render_html(report)
    rendered = time.perf_counter() - started
    path = Path(tempfile.mkdtemp()) / "report.html"
    path.write_text(page_text, encoding="utf-8")
    size_mb = path.stat().st_size / 1e6
    print(
        f"{len(report.cases):,} cases from {ITEMS:,} items; offline judge {judged:.1f} s; report built in {rendered:.1f} s; {size_mb:.1f} MB"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function(
            f"document.querySelectorAll('article.card').length === {len(report.cases)}"
        )
        loaded = time.perf_counter() - started
        print(f"load until all {len(report.cases):,} case headers exist: {loaded:.2f} s")
        for control, value in (
            ("#filter-outcome", "all"),
            ("#filter-harm", "leakage"),
            ("#filter-format", "chat"),
            ("#filter-outcome", "disagreements"),
        ):
            elapsed = page.evaluate(
                """([control, value]) => { const t = performance.now(); const s = document.querySelector(control);
                     s.value = value; s.dispatchEvent(new Event('change')); return performance.now() - t; }""",
                [control, value],
            )
            shown = page.inner_text("#shown")
            print(f"filter {control}={value}: {elapsed:.0f} ms ({shown})")
        browser.close()


if __name__ == "__main__":
    main()
