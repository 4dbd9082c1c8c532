"""The audit report in a real browser: Debian's Chromium driven by Playwright, no download.

Checks what an auditor relies on: the page runs without console errors, injected markup stays
inert, filters change what is shown, evidence is highlighted at the quoted text, a link opens
its case, and the review export is valid JSONL. A screenshot is kept in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harmjudge.report.render_html import render_html
from report_fixtures import HOSTILE, small_report, write

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As this machine's notes advise: no sandbox as root, and no background network traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():  # fail, never skip: CI must not pass without these tests
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): the report's browser tests need Debian's "
            "chromium; install it with apt-get install chromium (the README's test command does)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    return write(folder / "report.html", render_html(small_report()))


class Opened:
    def __init__(self, page: Page, problems: list[str]) -> None:
        self.page = page
        self.problems = problems


@pytest.fixture
def opened(browser: Browser, report_file: Path) -> Iterator[Opened]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(report_file.as_uri())
    page.wait_for_selector("article.card")
    yield Opened(page, problems)
    context.close()


def show_details(card: Locator) -> None:
    """Open a card's details. The page opens a disagreement near the viewport by itself (an
    IntersectionObserver), possibly between a look at the card and a click on its toggle, and
    a click on an open card closes it: so click until the details are visible."""
    body = card.locator(".body")
    for _ in range(3):
        if body.is_visible():
            return
        card.locator("button.toggle").click()
        with contextlib.suppress(PlaywrightTimeout):
            body.wait_for(state="visible", timeout=2000)
    assert body.is_visible()


def visible_cards(page: Page) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "article.card:not([hidden])",
        "cards => cards.map(c => ({harm: c.dataset.harm, outcome: c.dataset.outcome, id: c.id}))",
    )


def test_no_console_errors_and_injected_markup_stays_inert(opened: Opened) -> None:
    page = opened.page
    hostile = next(c for c in small_report().cases if c.gold["rationale"] == HOSTILE)
    assert page.evaluate("window.__pwned") is None
    page.goto(page.url.split("#")[0] + "#case-" + hostile.key)
    card = page.locator(f"#case-{hostile.key}")
    card.locator(".segment pre").first.wait_for()
    text = card.inner_text()
    assert "<script>window.__pwned = 1</script>" in text
    assert HOSTILE in text
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0
    assert page.locator("b[onmouseover]").count() == 0
    assert opened.problems == []


def test_filters_change_what_is_shown(opened: Opened) -> None:
    page = opened.page
    default = visible_cards(page)
    assert default
    assert all(
        c["outcome"] in ("missed_harm", "false_alarm", "unjudged", "no_verdict") for c in default
    )
    page.select_option("#filter-outcome", "all")
    everything = visible_cards(page)
    assert len(everything) == 72
    page.select_option("#filter-harm", "leakage")
    leakage = visible_cards(page)
    assert leakage
    assert {c["harm"] for c in leakage} == {"leakage"}
    page.select_option("#filter-format", "chat")
    chat = visible_cards(page)
    assert 0 < len(chat) < len(leakage)
    shown = page.inner_text("#shown")
    assert shown.startswith(f"{len(chat)} of 72")
    page.select_option("#filter-format", "all")
    page.select_option("#filter-harm", "all")
    tags = page.eval_on_selector_all("#filter-tag option", "o => o.map(x => x.value)")
    trap = next(t for t in tags if t.startswith("trap:"))
    page.select_option("#filter-tag", trap)
    assert 0 < len(visible_cards(page)) < 72
    assert opened.problems == []


def test_evidence_is_highlighted_at_the_quotes(opened: Opened) -> None:
    page = opened.page
    report = small_report()
    case = next(
        c for c in report.cases if c.outcome.startswith("agree_harmful") and c.judge.get("evidence")
    )
    page.goto(page.url.split("#")[0] + "#case-" + case.key)
    card = page.locator(f"#case-{case.key}")
    card.locator("mark.evidence-judge").first.wait_for()
    marked = card.locator("mark.evidence-judge").all_inner_texts()
    folded = {" ".join(m.split()) for m in marked}
    for quote in case.judge["evidence"]:
        assert " ".join(quote.split()) in " ".join(folded) or any(
            " ".join(quote.split()) in m for m in folded
        )
    gold_marks = card.locator("mark.evidence-gold").all_inner_texts()
    assert gold_marks, "gold evidence is highlighted too"
    assert opened.problems == []


def test_review_export_is_valid_jsonl(opened: Opened, tmp_path: Path) -> None:
    page = opened.page
    first = page.locator("article.card:not([hidden])").first
    show_details(first)
    first.locator("input[value=judge]").check()
    first.locator("textarea").fill("judge is right: see the second email")
    second = page.locator("article.card:not([hidden])").nth(1)
    show_details(second)
    second.locator("input[value=unclear]").check()
    assert page.inner_text("#reviewed") == "2 reviewed"
    with page.expect_download() as download_info:
        page.click("#export")
    target = tmp_path / "review.jsonl"
    download_info.value.save_as(target)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 2
    decisions = {r["decision"] for r in rows}
    assert decisions == {"judge", "unclear"}
    judged = next(r for r in rows if r["decision"] == "judge")
    assert judged["note"] == "judge is right: see the second email"
    assert set(judged) >= {"id", "harm", "gold_label", "judge", "judge_label", "judge_evidence"}
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-review.png"))
    assert opened.problems == []


def test_screenshot_of_the_summary(opened: Opened) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "report-summary.png"
    opened.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
