"""The batch engine's parts on their own: retry policy, limiter, budget, records, cache, journal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harmjudge import Label, OfflineJudge, UnjudgedReason, UsageError, classify
from harmjudge.batch import (
    AdaptiveLimiter,
    BatchOptions,
    Budget,
    ItemEstimate,
    Journal,
    LengthPolicy,
    Price,
    PriceTable,
    Redactor,
    RetryPolicy,
    VerdictCache,
    classification_from_json,
    default_cache_path,
)
from harmjudge.batch.budget import BudgetMeter
from harmjudge.batch.records import ItemError, record_status
from harmjudge.batch.retry import failure_cause, parse_retry_after
from harmjudge.judges.verdict import Classification, HarmVerdict, Provenance, Usage, unjudged
from harmjudge.transcript.io import read_records

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "harmjudge" / "examples"


# -- retry policy ----------------------------------------------------------------------------


def test_full_jitter_stays_within_the_exponential_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, max_retries=10)
    for retry, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (8, 4.0)]:
        assert policy.delay(retry, None, 0.0) == 0.0
        delay = policy.delay(retry, None, 0.999)
        assert delay is not None
        assert cap * 0.99 < delay < cap


def test_retry_after_is_honoured_and_stretched_at_most_ten_percent() -> None:
    policy = RetryPolicy(base_delay=0.0, max_retry_after=60.0)
    assert policy.delay(0, 2.0, 0.0) == 2.0
    assert policy.delay(0, 2.0, 0.999) == pytest.approx(2.1998)
    assert policy.delay(0, 61.0, 0.5) is None  # longer than we wait: fail now
    assert RetryPolicy(max_retries=2).delay(2, 1.0, 0.5) is None


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"max_retries": -1}, "max_retries"), ({"base_delay": -1.0}, "base_delay")]
)
def test_retry_policy_validates(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(UsageError, match=f"The '{name}' parameter of RetryPolicy"):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert failure_cause(status) is None


@pytest.mark.parametrize(
    ("status", "cause"), [(408, "408"), (409, "409"), (429, "429"), (500, "5xx")]
)
def test_timeouts_conflicts_rate_limits_and_server_errors_are_retried(
    status: int, cause: str
) -> None:
    assert failure_cause(status) == cause


def test_parse_retry_after() -> None:
    assert parse_retry_after({"Retry-After-Ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    when = parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412470.0)
    assert when == 20.0


# -- adaptive limiter ------------------------------------------------------------------------


def test_limiter_halves_on_rate_limits_and_grows_back() -> None:
    now = [0.0]
    limiter = AdaptiveLimiter(16, clock=lambda: now[0], cooldown=1.0)
    limiter.on_rate_limited()
    assert limiter.limit == 8
    limiter.on_rate_limited()  # within the cooldown: one decrease per burst
    assert limiter.limit == 8
    now[0] = 2.0
    limiter.on_rate_limited()
    assert limiter.limit == 4
    assert limiter.lowest == 4
    for _ in range(4 + 5 + 6 + 7):  # one more slot per `limit` successes
        limiter.on_success()
    assert limiter.limit == 8
    for _ in range(1000):
        limiter.on_success()
    assert limiter.limit == 16


def test_fixed_limiter_never_changes() -> None:
    limiter = AdaptiveLimiter(4, adaptive=False)
    limiter.on_rate_limited()
    assert limiter.limit == 4


def test_limiter_bounds_requests_in_flight_and_a_rate_limit_stops_no_one() -> None:
    async def scenario() -> None:
        limiter = AdaptiveLimiter(2)
        await limiter.acquire()
        await limiter.acquire()
        third = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.01)
        assert not third.done()
        await limiter.release()
        await asyncio.wait_for(third, timeout=5)
        assert limiter.in_flight == 2
        await limiter.release()
        await limiter.release()
        limiter.on_rate_limited()  # one slot left: the others are not held back
        assert limiter.limit == 1
        await asyncio.wait_for(limiter.acquire(), timeout=5)
        assert limiter.in_flight == 1

    asyncio.run(scenario())


def test_limiter_validates() -> None:
    with pytest.raises(UsageError, match="The 'maximum' parameter of AdaptiveLimiter"):
        AdaptiveLimiter(0)


# -- secrets ---------------------------------------------------------------------------------


def test_redactor_learns_keys_from_headers_and_scrubs_escaped_copies() -> None:
    redactor = Redactor([None, "short"])
    redactor.learn_headers({"Authorization": "Bearer sk-live-abc\\def-123", "x-other": "1"})
    redactor.learn_headers({"api-key": "azure-key-0123456"})
    text = json.dumps({"detail": "key sk-live-abc\\def-123 and azure-key-0123456 and short"})
    scrubbed = redactor.scrub(text)
    assert "sk-live" not in scrubbed
    assert "azure-key" not in scrubbed
    assert "short" in scrubbed  # too short to be treated as a secret
    assert json.loads(scrubbed)["detail"] == "key [REDACTED] and [REDACTED] and short"


# -- budget, prices, length ------------------------------------------------------------------


def test_budget_reserves_estimates_and_stops_for_good() -> None:
    meter = BudgetMeter(Budget(max_tokens=1000))
    item = ItemEstimate(requests=1, prompt_tokens=300, completion_tokens=100)
    assert meter.try_reserve(item)
    assert meter.try_reserve(item)  # 800 reserved
    assert not meter.try_reserve(item)  # 1200 > 1000
    assert meter.exhausted
    meter.settle(item, Usage(requests=1, prompt_tokens=100, completion_tokens=0))
    assert not meter.try_reserve(ItemEstimate(prompt_tokens=1))  # exhausted stays exhausted
    assert meter.spent_tokens == 100
    assert "100 of 1000 tokens" in meter.detail()


def test_cost_budget_needs_a_price() -> None:
    price = Price(prompt=1.0, completion=2.0)
    meter = BudgetMeter(Budget(max_cost=0.01), price)
    assert meter.try_reserve(ItemEstimate(prompt_tokens=4000, completion_tokens=2000))  # $0.008
    assert not meter.try_reserve(ItemEstimate(prompt_tokens=4000, completion_tokens=0))
    with pytest.raises(UsageError, match="a cost limit needs the model's price"):
        BatchOptions(budget=Budget(max_cost=1.0))
    with pytest.raises(UsageError, match="The 'max_tokens' parameter of Budget"):
        Budget(max_tokens=-1)


def test_price_table(tmp_path: Path) -> None:
    good = tmp_path / "prices.json"
    good.write_text('{"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}')
    table = PriceTable.load(good)
    assert table["openai/gpt-4o-mini"] == Price(prompt=0.15, completion=0.6)
    assert "gpt-4o" not in table
    assert table["gpt-4o-mini"].cost(2_000_000, 1_000_000) == pytest.approx(0.9)
    bad = tmp_path / "bad.json"
    bad.write_text('{"m": {"prompt": -1, "completion": 1}}')
    with pytest.raises(UsageError, match=r"bad\.json: field 'm\.prompt': Input should be greater"):
        PriceTable.load(bad)
    with pytest.raises(UsageError, match="cannot read the price table"):
        PriceTable.load(tmp_path / "missing.json")


def test_length_policy() -> None:
    policy = LengthPolicy(max_input_tokens=100)
    assert not policy.too_long(ItemEstimate(largest_prompt=100))
    assert policy.too_long(ItemEstimate(largest_prompt=101))
    assert "about 101 tokens, over the limit of 100" in policy.detail(
        ItemEstimate(largest_prompt=101)
    )
    assert not LengthPolicy(max_input_tokens=None).too_long(ItemEstimate(largest_prompt=10**9))
    with pytest.raises(UsageError, match="max_input_tokens"):
        LengthPolicy(max_input_tokens=0)


# -- records ---------------------------------------------------------------------------------


def test_classifications_read_back_identically() -> None:
    for entry in read_records([EXAMPLES / "examples.jsonl"]):
        assert not isinstance(entry, Exception)
        result = classify(entry.record, judge=OfflineJudge())
        data = json.loads(json.dumps(result.to_json()))
        assert classification_from_json(data).to_json() == data


def test_unjudged_verdicts_read_back_and_status() -> None:
    verdicts = {
        "blackmail": unjudged("blackmail", UnjudgedReason.TRUNCATED, "cut", raw_reply='{"f'),
        "leakage": HarmVerdict(harm="leakage", label=Label.NOT_HARMFUL, confidence=0.5),
    }
    prov = Provenance(
        judge="llm", model="m", prompt_hash="p", schema_hash="s", taxonomy={}, harmjudge_version="0"
    )
    c = Classification(id="x", verdicts=verdicts, provenance=prov, usage=Usage(requests=2))
    data = json.loads(json.dumps(c.to_json()))
    assert classification_from_json(data).to_json() == data
    assert record_status(data) == "unjudged"
    budget = dict(data, verdicts={"blackmail": {"label": "unjudged", "reason": "budget"}})
    assert record_status(budget) == "budget"
    error = ItemError(reason="invalid_input", detail="bad", source="f.jsonl", line=3)
    assert record_status(error.to_json()) == "error"
    assert error.message() == "f.jsonl:3: bad"
    assert record_status(dict(data, verdicts={})) == "judged"


# -- cache -----------------------------------------------------------------------------------


def test_default_cache_path_per_platform() -> None:
    home = {"HOME": "/h"}
    assert default_cache_path(home, "linux").as_posix() == "/h/.cache/harmjudge/verdicts.sqlite3"
    assert default_cache_path(home, "darwin").as_posix().startswith("/h/Library/Caches/harmjudge")
    windows = default_cache_path({"HOME": "/h", "LOCALAPPDATA": "/l"}, "win32").as_posix()
    assert windows == "/l/harmjudge/Cache/verdicts.sqlite3"
    assert default_cache_path({"HARMJUDGE_CACHE_DIR": "/x", **home}, "linux").as_posix() == (
        "/x/verdicts.sqlite3"
    )


def test_cache_is_safe_under_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "c" / "verdicts.sqlite3"
    errors: list[BaseException] = []
    start = threading.Barrier(8)  # every writer opens the fresh file at the same moment

    def writer(n: int) -> None:
        try:
            start.wait()
            with VerdictCache(path) as cache:
                for i in range(100):
                    cache.put(f"{n}-{i}", json.dumps({"id": f"{n}-{i}"}))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with VerdictCache(path) as cache:
        assert len(cache) == 800
        assert cache.get("7-99") == {"id": "7-99"}
        assert cache.get("nope") is None


def test_opening_the_cache_waits_for_another_runs_lock(tmp_path: Path) -> None:
    # What a second run meets when it opens a fresh cache while the first one is switching the
    # file to WAL: a write lock held in rollback-journal mode. SQLite answers the switch with
    # "database is locked" at once, without waiting; the cache must wait for the lock instead.
    path = tmp_path / "verdicts.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.3, holder.execute, args=("COMMIT",))
    release.start()
    try:
        started = time.monotonic()
        with VerdictCache(path) as cache:
            waited = time.monotonic() - started
            cache.put("k", "{}")
            assert cache.get("k") == {}
    finally:
        release.join()
        holder.close()
    assert waited >= 0.2


def test_a_cache_failing_during_a_run_is_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = VerdictCache(tmp_path / "verdicts.sqlite3")
    cache.put("a", "{}")
    cache.close()  # every later call fails as a broken database would
    cache.put("b", "{}")
    assert cache.get("a") is None
    assert cache.broken
    assert caplog.text.count("going on without it") == 1


def test_unusable_cache_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="cannot open the verdict cache"):
        VerdictCache(blocker / "verdicts.sqlite3")


# -- journal ---------------------------------------------------------------------------------

PROV = {"judge": "offline", "model": None}


def _rec(ident: str, label: str = "not_harmful", reason: str | None = None) -> dict[str, Any]:
    verdict: dict[str, Any] = {"label": label}
    if reason:
        verdict["reason"] = reason
    return {"id": ident, "verdicts": {"blackmail": verdict}, "provenance": PROV}


def test_journal_resumes_and_finalizes_in_input_order(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with Journal(path) as journal:
        journal.open(PROV)
        journal.append("a", _rec("a"))
        journal.append("b", _rec("b", "unjudged", "truncated"))
        journal.append("c", _rec("c", "unjudged", "budget"))
        journal.append(
            "f:4", ItemError(reason="invalid_input", detail="x", source="f", line=4).to_json()
        )
    path.write_bytes(path.read_bytes() + b'{"id": "d", "verd')  # a crash mid-write
    journal = Journal(path)
    journal.open(PROV)
    assert journal.dropped_tail
    assert journal.is_done("a")
    assert journal.is_done("b")
    assert not journal.is_done("b", retry_unjudged=True)
    assert not journal.is_done("c")  # never sent: budget
    assert not journal.is_done("f:4")  # error records are always read again
    assert not journal.is_done("d")
    assert journal.read("a")["id"] == "a"
    journal.append("c", _rec("c"))
    journal.append("d", _rec("d"))
    journal.finalize(["d", "c", "b"])  # "a" is no longer in the input: kept at the end
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [
        "d",
        "c",
        "b",
        "a",
    ]
    assert json.loads(path.read_text().splitlines()[1])["verdicts"]["blackmail"]["label"] == (
        "not_harmful"
    )
    assert not list(tmp_path.glob(".*tmp"))


def test_journal_refuses_another_runs_output_and_a_second_writer(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(_rec("a")) + "\n")
    with pytest.raises(
        UsageError,
        match=r"out\.jsonl:1: this output was written by a different run \(model None, now 'gpt'\)",
    ):
        Journal(path).open({"judge": "offline", "model": "gpt"})
    first = Journal(path)
    first.open(PROV)
    try:
        with pytest.raises(UsageError, match="another harmjudge run is writing this file"):
            Journal(path).open(PROV)
    finally:
        first.close()
    fresh = Journal(path, overwrite=True)
    fresh.open({"judge": "other"})
    assert len(fresh) == 0
    fresh.close()
    assert path.read_text() == ""


def test_readonly_journal_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    torn = json.dumps(_rec("a")) + "\n" + '{"id": "b"'
    path.write_text(torn)
    journal = Journal(path)
    journal.open(PROV, readonly=True)
    assert journal.is_done("a")
    journal.close()
    assert path.read_text() == torn
    missing = Journal(tmp_path / "none.jsonl")
    missing.open(PROV, readonly=True)
    assert not (tmp_path / "none.jsonl").exists()
