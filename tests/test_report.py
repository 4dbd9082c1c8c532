"""The audit report's data, HTML safety, Markdown twin and the review import, without a browser."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harmjudge.cli import main
from harmjudge.report.assets import JS
from harmjudge.report.data import OUTCOME_ORDER, case_key, outcome_of
from harmjudge.report.render_html import render_html, script_json
from harmjudge.report.render_markdown import render_markdown
from report_fixtures import HOSTILE, HOSTILE_ID, HOSTILE_JUDGE, small_report

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


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_no_data_string_reaches_the_page_unescaped() -> None:
    # Markup in the judge's name, the split, the version, an id, a tag, notes, metadata, the
    # verdict record and the transcript (see report_fixtures.small_report).
    report = replace(small_report(judge=HOSTILE_JUDGE), split=HOSTILE, harmjudge_version=HOSTILE)
    page = render_html(report)
    assert HOSTILE not in page
    assert "<script>window.__pwned" not in page
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert data is not None
    assert "<" not in data.group(1)
    payload = json.loads(data.group(1))
    assert HOSTILE_ID in {c["id"] for c in payload["cases"]}
    parser = _Tags()
    parser.feed(page)
    handlers = [(t, a) for t, a in parser.tags if any(name.startswith("on") for name in a)]
    assert handlers == []
    assert not {"img", "b"} & {t for t, _ in parser.tags}
    assert [t for t, _ in parser.tags].count("script") == 2
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None
    assert html.unescape(title.group(1)) == f"harmjudge audit report: {HOSTILE_JUDGE}"
    nonce = re.search(r"script-src 'nonce-([^']+)'", page)
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in page


def test_the_page_script_never_writes_html() -> None:
    # Runs everywhere (the browser tests need Chromium): every string the script puts on the
    # page goes through a text node or textContent, never through an HTML parser.
    page = render_html(small_report(2))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser"):
        assert sink not in JS, sink
        assert sink not in page, sink
    assert "createTextNode(String(text))" in JS


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


def test_markdown_escapes_every_string_from_the_data() -> None:
    report = replace(small_report(judge=HOSTILE_JUDGE), split=HOSTILE, harmjudge_version=HOSTILE)
    text = render_markdown(report, agreements=True)
    for markup in ("<script", "</script", "<img", "<b ", "</pre>"):
        assert markup not in text
    assert f"| {html.escape(HOSTILE_ID, quote=False)} |" in text
    assert text.startswith(f"# harmjudge audit report: {html.escape(HOSTILE_JUDGE, quote=False)}")


@pytest.mark.parametrize(
    "ids", [("run.1", "run_1"), ("a b", "a_b", "a_20b"), ("é", "_c3_a9"), ("x-", "x_2d")]
)
def test_case_keys_differ_for_different_ids(ids: tuple[str, ...]) -> None:
    keys = {case_key(i, "leakage") for i in ids}
    assert len(keys) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", k) for k in keys)


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
