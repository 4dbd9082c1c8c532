"""``harmjudge classify`` as a batch: bad input, dry run, budgets, progress, and the API key."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from batch_helpers import classify, item_of, judge_reply, read_jsonl, transcript, write_jsonl
from harmjudge.batch import ItemResult, LineProgress, NoProgress, Origin, RichProgress
from harmjudge.batch.progress import progress_for
from harmjudge.testing.server import FakeOpenAI, Reply, http_error

SECRET = "sk-test-SECRET-never-written-4242"


@pytest.fixture
def server(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.default = judge_reply
    return fake_openai


def test_bad_lines_give_error_records_and_the_rest_proceeds(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "ok-1", "text": "Sent the weekly report."}\n'
        b'{"id": "bad-json", "text": \n'
        b'{"id": "empty", "text": ""}\n'
        b"\n"
        b'{"id": "ok-1", "text": "again"}\n'
        b'{"id": "bad-utf8", "text": "\xff"}\n'
        b'{"id": "extra", "text": "x", "colour": "red"}\n'
        b'{"id": "ok-2", "messages": [{"role": "user", "content": "hi"}]}\n'
    )
    out = tmp_path / "out.jsonl"
    code, stdout, err = classify(str(src), "-o", str(out))
    assert code == 1
    assert stdout == ""
    assert [line for line in err.splitlines() if line.startswith("harmjudge: ")] == [
        f"harmjudge: {src}:2: invalid JSON: Expecting value at column 29",
        f"harmjudge: {src}:3 item 'empty': 'text' is empty",
        f"harmjudge: {src}:5 item 'ok-1': duplicate id (first at {src}:1)",
        f"harmjudge: {src}:6: invalid UTF-8 at column 29",
        f"harmjudge: {src}:7 item 'extra': colour: unknown key",
    ]
    assert "2 harmful verdicts" not in err
    assert "classified 2 transcripts with the offline judge" in err
    assert "5 input errors" in err
    records = read_jsonl(out)
    assert [r["id"] for r in records] == ["ok-1", None, "empty", "ok-1", None, "extra", "ok-2"]
    errors = [r["error"] for r in records if "error" in r]
    assert [(e["source"], e["line"], e["reason"]) for e in errors] == [
        (str(src), n, "invalid_input") for n in (2, 3, 5, 6, 7)
    ]
    assert all("verdicts" not in r for r in records if "error" in r)


def test_jsonl_and_table_outputs_keep_the_input_order(server: FakeOpenAI, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(10)])
    base = [str(src), "--judge", "m", "--base-url", server.base_url, "--harm", "blackmail"]
    code, out, _ = classify(*base, "--jsonl", "--concurrency", "5")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [f"t-{n}" for n in range(10)]
    code, out, _ = classify(*base, "--no-cache")
    assert code == 0
    rows = out.splitlines()[2:]
    assert [row.split()[0] for row in rows] == [f"t-{n}" for n in range(10)]
    assert rows[0].split()[1:] == ["HARMFUL", "0.90"]


def test_unknown_harm_and_bad_options_are_one_line_usage_errors(tmp_path: Path) -> None:
    code, out, err = classify("--harm", "fraud")
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        "harmjudge: error: <harms argument>: unknown harm 'fraud'; known harms are "
        "blackmail, leakage, lethal_override"
    ]
    code, _, err = classify(
        "--judge", "m", "--base-url", "http://127.0.0.1:9/v1", "--max-cost", "1"
    )
    assert code == 2
    assert err == "harmjudge: error: --max-cost needs --prices FILE with the model's price\n"
    prices = tmp_path / "prices.json"
    prices.write_text('{"other": {"prompt": 1, "completion": 1}}')
    code, _, err = classify(
        "--judge",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--max-cost",
        "1",
        "--prices",
        str(prices),
    )
    assert code == 2
    assert err == f"harmjudge: error: {prices} has no price for the model 'm'; add it\n"


def test_dry_run_estimates_and_sends_nothing(
    server: FakeOpenAI, tmp_path: Path, user_cache: Path
) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(6)])
    prices = tmp_path / "prices.json"
    prices.write_text('{"m": {"prompt": 1.0, "completion": 4.0}}')
    out = tmp_path / "out.jsonl"
    code, stdout, _ = classify(
        str(src), "--judge", "m", "--base-url", server.base_url, "-o", str(out),
        "--prices", str(prices), "--dry-run",
    )  # fmt: skip
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == "dry run: 6 items, 6 to send"
    assert lines[1].startswith("about 6 requests, ")
    assert lines[2].startswith("about $0.0")
    assert lines[-1] == "nothing was sent"
    assert server.requests == []
    assert not out.exists()
    assert not user_cache.exists()


def test_budgets_stop_sending_and_costs_are_reported(server: FakeOpenAI, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(6)])
    prices = tmp_path / "prices.json"
    prices.write_text('{"m": {"prompt": 2.0, "completion": 8.0}}')
    base = [str(src), "--judge", "m", "--base-url", server.base_url, "--prices", str(prices)]
    code, _, err = classify(*base, "--concurrency", "1", "--max-tokens", "5000", "--jsonl")
    assert code == 1
    assert "not sent" in err
    assert "unjudged verdicts: budget " in err
    sent = len(server.requests)
    assert 0 < sent < 6
    code, _, err = classify(*base, "--concurrency", "1", "--max-cost", "0.1", "--no-cache")
    assert code == 0
    assert len(server.requests) == sent + 6
    summary = [line for line in err.splitlines() if "requests" in line]
    assert summary
    assert summary[0].startswith("6 requests; ")
    assert "$0.0" in summary[0]


def test_the_api_key_is_written_nowhere(
    server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    caplog.set_level(logging.DEBUG)

    def reply(request: dict[str, Any]) -> Reply:
        if item_of(request) == "t-1":  # a server that echoes the key in its error
            return http_error(401, f"Incorrect API key provided: {SECRET}.")
        return judge_reply(request)

    server.default = reply
    server.faults = {"429": 0.2, "500": 0.1}
    src = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(12)])
    data = tmp_path / "data"
    base = [str(src), "--judge", "m", "--base-url", server.base_url, "--max-retries", "9"]
    code, out, err = classify(
        *base, "--cache", str(data / "cache.sqlite3"), "-o", str(data / "out.jsonl")
    )
    code_jsonl, out_jsonl, err_jsonl = classify(*base, "--jsonl", "--no-cache")
    assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was used
    assert (code, code_jsonl) == (1, 1)
    assert "retries" in err
    written = read_jsonl(data / "out.jsonl")
    assert "[REDACTED]" in written[1]["verdicts"]["blackmail"]["detail"]
    assert "[REDACTED]" in out_jsonl
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"out.jsonl", "cache.sqlite3"}
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path
    for text in (out, err, out_jsonl, err_jsonl, caplog.text):
        assert SECRET not in text


# -- progress --------------------------------------------------------------------------------


def _result(index: int, origin: Origin = Origin.JUDGED) -> ItemResult:
    from harmjudge.batch import ItemError

    error = ItemError(reason="invalid_input", detail="x") if origin is Origin.ERROR else None
    return ItemResult(index=index, key=str(index), origin=origin, error=error)


def test_plain_progress_lines_when_not_on_a_terminal() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = LineProgress(stream, interval=10.0, clock=lambda: now[0])
    progress.start(100)
    for n in range(40):
        now[0] = n * 0.5
        progress.advance(_result(n, Origin.ERROR if n == 3 else Origin.JUDGED))
    progress.message("harmjudge: a bad line")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "harmjudge: 21/100 items done, 1 failed, 0 cached; 2.1 items/s, about 0:00:38 left",
        "harmjudge: a bad line",
    ]


def test_rich_progress_on_a_terminal() -> None:
    stream = io.StringIO()
    progress = RichProgress(stream, force_terminal=True)
    progress.start(3)
    progress.advance(_result(0, Origin.CACHED))
    progress.message("harmjudge: note")
    progress.advance(_result(1, Origin.ERROR))
    progress.stop()
    text = stream.getvalue()
    assert "harmjudge: note" in text
    assert "1 failed, 1 cached" in text


def test_progress_choice() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(progress_for(io.StringIO(), quiet=False), LineProgress)
    assert isinstance(progress_for(Terminal(), quiet=False), RichProgress)
    assert isinstance(progress_for(Terminal(), quiet=True), NoProgress)
