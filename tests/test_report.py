"""The audit report's data, HTML safety, Markdown twin and the review import, without a browser."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

from harmjudge.cli import main
from harmjudge.report.data import OUTCOME_ORDER, outcome_of
from harmjudge.report.render_html import render_html, script_json
from harmjudge.report.render_markdown import render_markdown
from report_fixtures import HOSTILE, small_report

ROOT = Path(__file__).resolve().parent.parent


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_cases_are_ordered_most_serious_first() -> None:
    report = small_report()
    ranks = [OUTCOME_ORDER.index(c.outcome) for c in report.cases]
    assert ranks == sorted(ranks)
    missed = [c for c in report.cases if c.outcome == "missed_harm"]
    confidences = [c.judge.get("confidence") for c in missed]
    assert confidences == sorted(confidences, reverse=True)
    assert len(report.cases) == 24 * 3
    assert len({c.key for c in report.cases}) == len(report.cases)


def test_outcomes() -> None:
    assert outcome_of("harmful", "harmful") == "agree_harmful"
    assert outcome_of("not_harmful", "harmful") == "false_alarm"
    assert outcome_of("harmful", "unjudged") == "unjudged"
    assert outcome_of("harmful", None) == "no_verdict"


def test_no_data_string_reaches_the_page_unescaped() -> None:
    page = render_html(small_report())
    assert HOSTILE not in page
    assert "<script>window.__pwned" not in page
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert data is not None
    outside = page[: data.start()] + page[data.end() :]
    assert "onerror" not in outside
    assert "__pwned" not in outside
    assert "<" not in data.group(1)
    assert json.loads(data.group(1))["cases"][0]["key"]
    assert page.count("<script") == 2
    nonce = re.search(r"script-src 'nonce-([^']+)'", page)
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in page


def test_script_json_escapes_separators() -> None:
    assert script_json("a\u2028b</script>&") == '"a\\u2028b\\u003c/script\\u003e\\u0026"'


def test_markdown_twin() -> None:
    report = small_report()
    text = render_markdown(report)
    assert text.startswith("# harmjudge audit report: offline")
    assert "| metric | estimate | 95% interval | always harmful | always not harmful |" in text
    disagreements = [c for c in report.cases if not c.outcome.startswith("agree")]
    assert text.count("\n| ") - text.count("\n| metric") - text.count("\n|---") >= len(
        disagreements
    )
    with_all = render_markdown(report, agreements=True)
    assert with_all.count("agreement: not harmful") > text.count("agreement: not harmful")


def test_report_command_writes_html_and_markdown(tmp_path: Path) -> None:
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    code, _, err = run(
        "report", "--harm", "leakage", "-o", str(html), "--markdown", str(md), "--resamples", "100"
    )
    assert code == 0
    assert html.read_text().startswith("<!doctype html>")
    assert "## leakage" in md.read_text()
    assert "cases" in err


def test_review_decisions_import_as_adjudications(tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    shutil.copytree(ROOT / "labels", labels)
    first = json.loads((labels / "items" / "lk-a.jsonl").read_text().splitlines()[0])
    item_id = first["id"]
    quote = first["text"][:40] if "text" in first else first["messages"][0]["content"][:40]
    gold = first["gold"]["blackmail"]["label"]
    flipped = "harmful" if gold == "not_harmful" else "not_harmful"
    review = tmp_path / "review.jsonl"
    review.write_text(
        "\n".join(
            json.dumps(d)
            for d in (
                {
                    "id": item_id,
                    "harm": "blackmail",
                    "decision": "judge",
                    "note": "the judge is right",
                    "gold_label": gold,
                    "judge": "llm",
                    "judge_label": flipped,
                    "judge_rationale": "r",
                    "judge_evidence": [quote],
                },
                {
                    "id": item_id,
                    "harm": "leakage",
                    "decision": "gold",
                    "note": "",
                    "gold_label": first["gold"]["leakage"]["label"],
                    "judge": "llm",
                    "judge_label": "harmful",
                    "judge_evidence": [],
                },
                {
                    "id": item_id,
                    "harm": "lethal_override",
                    "decision": "unclear",
                    "note": "",
                    "gold_label": "not_harmful",
                    "judge": "llm",
                    "judge_label": "harmful",
                    "judge_evidence": [],
                },
                {
                    "id": "nope",
                    "harm": "leakage",
                    "decision": "gold",
                    "gold_label": "harmful",
                    "judge": "llm",
                    "judge_label": "harmful",
                },
                {"id": item_id, "harm": "leakage", "decision": "maybe", "gold_label": "harmful"},
            )
        )
        + "\n"
    )
    code, out, err = run("labels", "import-review", str(review), str(labels), "--reviewer", "alice")
    assert code == 1
    assert "imported 2 decisions into 1 items (1 unclear, 2 refused)" in out
    assert "item 'nope': no gold label for harm 'leakage' here" in err
    assert "decision must be gold, judge or unclear; got 'maybe'" in err
    after = json.loads((labels / "items" / "lk-a.jsonl").read_text().splitlines()[0])
    assert after["gold"]["blackmail"]["label"] == flipped
    assert after["annotations"]["adjudication"]["blackmail"] == {
        "label": flipped,
        "note": "review by alice against judge llm: the judge is right",
    }
    assert (
        after["annotations"]["adjudication"]["leakage"]["label"]
        == first["gold"]["leakage"]["label"]
    )
    assert "lethal_override" not in after["annotations"]["adjudication"]
    code, out, err = run("labels", "validate", str(labels))
    problems = [line for line in err.splitlines() if "composition table" not in line]
    assert problems == []


def test_evaluate_writes_the_report_of_its_first_judge(tmp_path: Path) -> None:
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    code, _, err = run(
        "evaluate",
        "--harm",
        "lethal_override",
        "--resamples",
        "100",
        "-o",
        str(tmp_path / "e.json"),
        "--report",
        str(html),
        "--markdown",
        str(md),
    )
    assert code == 0
    assert "harmjudge audit report: offline" in html.read_text()
    assert md.read_text().startswith("# harmjudge audit report: offline")
    assert f"wrote {html}: 287 cases" in err
