"""The batch engine through the real openai + instructor stack against the local test server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from batch_helpers import (
    expected_label,
    item_of,
    judge_reply,
    requested_items,
    transcript,
)
from harmjudge import (
    Judge,
    JudgeContext,
    JudgeOutcome,
    Label,
    LLMJudge,
    OfflineJudge,
    Provenance,
    Taxonomy,
    UnjudgedReason,
    UsageError,
)
from harmjudge.batch import (
    BatchOptions,
    BatchRun,
    Budget,
    ItemResult,
    Journal,
    LengthPolicy,
    Origin,
    RetryPolicy,
    VerdictCache,
)
from harmjudge.taxonomy.model import Gate, HarmDefinition
from harmjudge.testing.server import FakeOpenAI, Reply, hang, http_error, malformed_body, tool_call

NO_WAIT = RetryPolicy(base_delay=0.0)


def judge_for(server: FakeOpenAI, **options: Any) -> LLMJudge:
    return LLMJudge("test-model", base_url=server.base_url, api_key="sk-test-batch-0001", **options)


def run_batch(
    server: FakeOpenAI,
    items: Sequence[Any],
    *,
    judge: Judge | None = None,
    sleeps: list[float] | None = None,
    **options: Any,
) -> tuple[BatchRun, list[ItemResult]]:
    options.setdefault("retry", NO_WAIT)
    cache = options.pop("cache", None)
    journal = options.pop("journal", None)
    harms = options.pop("harms", None)
    taxonomy = options.pop("taxonomy", None)
    recorded = sleeps if sleeps is not None else []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    run = BatchRun(
        judge or judge_for(server),
        harms=harms,
        taxonomy=taxonomy,
        options=BatchOptions(**options),
        cache=cache,
        journal=journal,
        sleep=sleep,
    )
    return run, list(run.iter_results(items))


@pytest.fixture
def server(fake_openai: FakeOpenAI) -> FakeOpenAI:
    fake_openai.default = judge_reply
    return fake_openai


def test_every_item_is_judged_once_with_its_id(server: FakeOpenAI) -> None:
    items = [transcript(n) for n in range(40)]
    run, results = run_batch(server, items, concurrency=8)
    assert sorted(r.key for r in results) == sorted(i["id"] for i in items)
    assert sorted(r.index for r in results) == list(range(40))
    for r in results:
        assert r.origin is Origin.JUDGED
        assert r.classification is not None
        for harm, verdict in r.classification.verdicts.items():
            assert verdict.label.value == expected_label(r.key, harm)
        assert r.classification.usage.requests == 1
        assert r.classification.provenance.model == "test-model"
    summary = run.summary()
    assert (summary.items, summary.judged, summary.failed, summary.harmful) == (40, 40, 0, 20)
    assert summary.requests == len(server.requests) == 40
    assert summary.prompt_tokens > 0
    assert summary.completion_tokens > 0


def test_requests_really_run_concurrently(server: FakeOpenAI) -> None:
    server.default = judge_reply
    server.latency = 0.5  # no reply leaves before half a second
    run, _ = run_batch(server, [transcript(n) for n in range(4)], concurrency=4)
    arrivals = [r.time for r in server.requests]
    assert len(arrivals) == 4
    assert run.summary().failed == 0
    # all four requests were sent before the first reply came back
    assert max(arrivals) - min(arrivals) < 0.4


def test_ordered_results_follow_the_input(server: FakeOpenAI) -> None:
    def slow_first(request: dict[str, Any]) -> Reply:
        n = int((item_of(request) or "t-0").split("-")[1])
        reply = judge_reply(request)
        return Reply(**{**reply.__dict__, "delay": 0.05 * (5 - n) if n < 5 else 0.0})

    server.default = slow_first
    _, results = run_batch(server, [transcript(n) for n in range(12)], concurrency=6, ordered=True)
    assert [r.key for r in results] == [f"t-{n}" for n in range(12)]


def test_retry_after_is_honoured(server: FakeOpenAI) -> None:
    server.queue(http_error(429, "slow down", {"retry-after": "0.05"}))
    sleeps: list[float] = []
    run, results = run_batch(server, [transcript(0)], sleeps=sleeps, concurrency=4)
    assert len(sleeps) == 1
    assert 0.05 <= sleeps[0] <= 0.055
    assert results[0].classification is not None
    assert not results[0].classification.unjudged
    assert results[0].classification.usage.requests == 2
    assert run.summary().retries == {"429": 1}
    assert run.limiter is not None
    assert run.limiter.lowest == 2  # halved on the rate limit


def test_a_rate_limit_slows_the_sender_in_proportion_and_stops_no_one(server: FakeOpenAI) -> None:
    # Every third request is answered 429 with Retry-After 1 s. Each of those waits its own
    # second (recorded, not slept, here); nobody else waits for it, so the batch takes well
    # under a second instead of about a second per rate-limited request.
    sent = [0]

    def every_third(request: dict[str, Any]) -> Reply:
        sent[0] += 1
        if sent[0] % 3 == 0:
            return http_error(429, "slow down", {"retry-after": "1"})
        return judge_reply(request)

    server.default = every_third
    sleeps: list[float] = []
    started = time.monotonic()
    run, results = run_batch(
        server, [transcript(n) for n in range(30)], sleeps=sleeps, concurrency=8
    )
    elapsed = time.monotonic() - started
    assert all(r.classification is not None and not r.classification.unjudged for r in results)
    rate_limited = run.summary().retries["429"]
    assert rate_limited >= 10
    assert len([s for s in sleeps if 1.0 <= s <= 1.1]) == rate_limited
    assert elapsed < 5.0  # paused for every 429, this took more than 10 s
    assert run.limiter is not None
    assert run.limiter.lowest < 8  # and sent fewer requests at once


def test_server_errors_back_off_with_jitter(server: FakeOpenAI) -> None:
    server.queue(http_error(500, "boom"), http_error(502, "bad gateway"))
    sleeps: list[float] = []
    run, results = run_batch(
        server, [transcript(0)], sleeps=sleeps, retry=RetryPolicy(base_delay=0.01)
    )
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] < 0.01
    assert 0 <= sleeps[1] < 0.02
    assert run.summary().retries == {"5xx": 2}
    assert results[0].classification is not None
    assert not results[0].classification.unjudged


def test_timeouts_and_malformed_bodies_are_retried(server: FakeOpenAI) -> None:
    server.queue(hang(5.0), malformed_body())
    run, results = run_batch(server, [transcript(0)], judge=judge_for(server, timeout=0.5))
    retries = run.summary().retries
    assert retries["malformed"] == 1
    assert retries["timeout"] >= 1  # the hang; a very slow machine may time out once more
    assert results[0].classification is not None
    assert not results[0].classification.unjudged
    assert results[0].classification.usage.requests == 1 + sum(retries.values())


def test_a_refused_connection_is_retried_as_a_connection_failure(server: FakeOpenAI) -> None:
    url = server.base_url
    server.stop()  # nothing listens on the port any more
    judge = LLMJudge("test-model", base_url=url, api_key="sk-test-batch-0001")
    run, results = run_batch(server, [transcript(0)], judge=judge, retry=RetryPolicy(max_retries=1))
    assert run.summary().retries == {"connection": 1}
    assert run.stats.failures == {"connection": 1}
    assert results[0].classification is not None
    verdicts = results[0].classification.verdicts.values()
    assert {v.reason for v in verdicts} == {UnjudgedReason.RETRIES_EXHAUSTED}


def test_exhausted_retries_are_unjudged_never_not_harmful(server: FakeOpenAI) -> None:
    server.default = http_error(503, "overloaded", {"retry-after-ms": "1"})
    run, results = run_batch(server, [transcript(0)], retry=RetryPolicy(max_retries=2))
    (result,) = results
    assert result.classification is not None
    verdicts = result.classification.verdicts.values()
    assert {v.label for v in verdicts} == {Label.UNJUDGED}
    assert {v.reason for v in verdicts} == {UnjudgedReason.RETRIES_EXHAUSTED}
    assert len(server.requests) == 3
    summary = run.summary()
    assert (summary.failed, summary.unjudged_items, summary.harmful) == (1, 1, 0)
    assert summary.unjudged == {"retries_exhausted": 3}


def test_client_errors_and_long_retry_after_are_not_retried(server: FakeOpenAI) -> None:
    server.queue(http_error(400, "bad request"), http_error(429, "quota", {"retry-after": "3600"}))
    run, results = run_batch(server, [transcript(0), transcript(1)], concurrency=1)
    reasons = {r.key: r.classification["blackmail"].reason for r in results if r.classification}
    assert reasons == {"t-0": UnjudgedReason.API_ERROR, "t-1": UnjudgedReason.RETRIES_EXHAUSTED}
    assert len(server.requests) == 2
    assert run.summary().retries == {}


def test_usage_counts_every_request_of_an_item(server: FakeOpenAI) -> None:
    server.queue(tool_call(None, {"findings": []}), http_error(500, "boom"))
    run, results = run_batch(server, [transcript(0)])
    (result,) = results
    assert result.classification is not None
    assert not result.classification.unjudged  # re-asked after the invalid reply
    assert result.classification.usage.requests == 3  # invalid reply, 500, valid reply
    summary = run.summary()
    assert summary.requests == 3
    assert summary.prompt_tokens == result.classification.usage.prompt_tokens > 0


def test_too_long_transcripts_are_not_sent(server: FakeOpenAI) -> None:
    items = [transcript(0), {**transcript(1), "context": "x" * 8000}]
    run, results = run_batch(server, items, length=LengthPolicy(max_input_tokens=3500))
    by_id = {r.key: r for r in results}
    long = by_id["t-1"]
    assert long.origin is Origin.NOT_SENT
    assert long.classification is not None
    assert {v.reason for v in long.classification.verdicts.values()} == {UnjudgedReason.TOO_LONG}
    assert "over the limit of 3500" in long.classification["blackmail"].detail
    assert long.classification["blackmail"].gate is not None
    assert requested_items(server.requests) == ["t-0"]
    assert run.summary().unjudged == {"too_long": 3}
    offline = BatchRun(
        OfflineJudge(), options=BatchOptions(length=LengthPolicy(max_input_tokens=1))
    )
    assert [r.origin for r in offline.iter_results(items)] == [Origin.JUDGED, Origin.JUDGED]


def test_budget_stops_sending_and_a_rerun_sends_the_rest(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    items = [transcript(n) for n in range(6)]
    out = tmp_path / "out.jsonl"
    run, results = run_batch(
        server,
        items,
        concurrency=1,
        budget=Budget(max_tokens=7000),
        journal=Journal(out),
    )
    judged = [r.key for r in results if r.origin is Origin.JUDGED]
    skipped = [r for r in results if r.origin is Origin.NOT_SENT]
    assert 0 < len(judged) < 6
    assert len(judged) + len(skipped) == 6
    for r in skipped:
        assert r.classification is not None
        assert {v.reason for v in r.classification.verdicts.values()} == {UnjudgedReason.BUDGET}
        assert r.classification["blackmail"].detail.startswith("not sent: the budget is spent")
    assert sorted(requested_items(server.requests)) == sorted(judged)
    assert run.summary().prompt_tokens + run.summary().completion_tokens <= 7000
    server.reset()
    server.default = judge_reply
    rerun, _ = run_batch(server, items, journal=Journal(out))
    assert sorted(requested_items(server.requests)) == sorted(r.key for r in skipped)
    assert rerun.summary().resumed == len(judged)
    final = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in final] == [i["id"] for i in items]
    assert all(v["label"] != "unjudged" for r in final for v in r["verdicts"].values())


def test_cache_answers_a_finished_batch_without_requests(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    items = [transcript(n) for n in range(5)]
    server.queue(judge_reply, judge_reply, http_error(400, "bad"))  # one item fails
    with VerdictCache(tmp_path / "cache.sqlite3") as cache:
        _, first = run_batch(server, items, cache=cache, concurrency=1)
        failed = [r.key for r in first if r.failed]
        assert len(failed) == 1
        assert len(cache) == 4  # unjudged results are not cached
        server.reset()
        server.default = judge_reply
        run, second = run_batch(server, items, cache=cache)
        assert requested_items(server.requests) == failed
        assert run.summary().cached == 4
        for a, b in zip(
            sorted(first, key=lambda r: r.index), sorted(second, key=lambda r: r.index), strict=True
        ):
            if a.key in failed:
                continue
            assert b.origin is Origin.CACHED
            assert b.to_json()["cached"] is True
            assert a.classification is not None
            assert b.classification is not None
            assert a.classification.to_json()["verdicts"] == b.classification.to_json()["verdicts"]
        server.reset()
        server.default = judge_reply
        run_batch(server, items, cache=cache, judge=judge_for(server, temperature=0.5))
        assert len(server.requests) == 5  # other sampling settings: another cache key


def _with_leakage(**changes: Any) -> Taxonomy:
    builtin = Taxonomy.builtin()
    return Taxonomy(
        h.model_copy(update=changes) if h.id == "leakage" else h for h in builtin.values()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"judge": "other-model"},
        {"harms": ["blackmail", "leakage"]},
        {"taxonomy": {"gate": Gate(kind="none")}},  # the same version
        {"taxonomy": {"definition": "Sending anything at all outside."}},
        {"taxonomy": {"version": "1.9"}},
        {"taxonomy": {"authority_patterns": (".gov", ".example")}},
    ],
    ids=["model", "harms", "gate-kind", "definition", "version", "authorities"],
)
def test_the_cache_misses_when_what_decides_a_verdict_changes(
    server: FakeOpenAI, tmp_path: Path, change: dict[str, Any]
) -> None:
    items = [transcript(n) for n in range(3)]
    with VerdictCache(tmp_path / "cache.sqlite3") as cache:
        run_batch(server, items, cache=cache)
        server.reset()
        server.default = judge_reply
        run, _ = run_batch(server, items, cache=cache)
        assert (run.summary().cached, len(server.requests)) == (3, 0)
        options: dict[str, Any] = {"cache": cache}
        if "judge" in change:
            options["judge"] = LLMJudge(
                change["judge"], base_url=server.base_url, api_key="sk-test-batch-0001"
            )
        if "harms" in change:
            options["harms"] = change["harms"]
        if "taxonomy" in change:
            options["taxonomy"] = _with_leakage(**change["taxonomy"])
        run, _ = run_batch(server, items, **options)
        assert (run.summary().cached, len(server.requests)) == (0, 3)


def test_a_failing_judge_costs_one_item() -> None:
    class Flaky:
        name = "flaky"

        def judge(self, context: JudgeContext) -> JudgeOutcome:
            raise NotImplementedError

        async def ajudge(self, context: JudgeContext) -> JudgeOutcome:
            if context.transcript.id == "t-1":
                raise RuntimeError("model fell over")
            return await OfflineJudge().ajudge(context)

        def provenance(self, harms: Sequence[HarmDefinition]) -> Provenance:
            return OfflineJudge().provenance(harms)

    run = BatchRun(Flaky())
    results = {r.index: r for r in run.iter_results([transcript(n) for n in range(3)])}
    failed = results[1]
    assert failed.key == "<input 2>"
    assert failed.error is not None
    assert failed.error.reason == "judge_error"
    assert failed.to_json() == {
        "id": "t-1",
        "error": {
            "reason": "judge_error",
            "detail": "RuntimeError: model fell over",
            "source": None,
            "line": None,
        },
    }
    assert run.classification_of(failed)["blackmail"].reason is UnjudgedReason.API_ERROR
    assert run.classification_of(failed).id == "t-1"
    assert results[2].origin is Origin.JUDGED
    assert run.summary().errors == 1


def test_bad_library_inputs_and_duplicates_do_not_stop_the_run() -> None:
    run = BatchRun(OfflineJudge(), harms=["blackmail"])
    items: list[Any] = [transcript(0), {"id": "x", "text": ""}, transcript(0), "plain text"]
    results = sorted(run.iter_results(items), key=lambda r: r.index)
    assert [r.origin for r in results] == [Origin.JUDGED, Origin.ERROR, Origin.ERROR, Origin.JUDGED]
    assert results[1].error is not None
    assert results[1].error.message() == "item 'x': 'text' is empty"
    assert results[2].error is not None
    assert results[2].error.detail == "duplicate id (first at item 1)"
    assert results[3].key == "item-4"
    assert [r.key for r in results[1:3]] == ["<input 2>", "<input 3>"]  # never a valid id
    bad = run.classification_of(results[1])
    assert bad.id == "x"
    assert bad["blackmail"].reason is UnjudgedReason.INVALID_INPUT


def test_a_usage_error_stops_the_run() -> None:
    run = BatchRun(LLMJudge("gpt-4o-mini"))  # no API key, no endpoint
    with pytest.raises(UsageError, match="no API key"):
        list(run.iter_results([transcript(0)]))
    with pytest.raises(UsageError, match="runs once"):
        list(run.iter_results([transcript(0)]))


def test_leaving_early_cancels_the_run(server: FakeOpenAI) -> None:
    server.latency = 0.05
    run = BatchRun(judge_for(server), options=BatchOptions(concurrency=2, retry=NO_WAIT))
    for n, _ in enumerate(run.iter_results([transcript(n) for n in range(200)])):
        if n == 2:
            break
    assert not [t for t in threading.enumerate() if t.name == "harmjudge-batch"]
    assert len(server.requests) < 50


def test_iter_results_works_inside_a_running_loop() -> None:
    async def inside() -> list[str]:
        run = BatchRun(OfflineJudge())
        return [r.key for r in run.iter_results([transcript(0), transcript(1)])]

    assert asyncio.run(inside()) == ["t-0", "t-1"]


def test_async_results(server: FakeOpenAI) -> None:
    async def collect() -> list[str]:
        run = BatchRun(judge_for(server), options=BatchOptions(ordered=True, retry=NO_WAIT))
        return [r.key async for r in run.results([transcript(n) for n in range(5)])]

    assert asyncio.run(collect()) == [f"t-{n}" for n in range(5)]


def test_dry_run_sends_nothing(server: FakeOpenAI, tmp_path: Path) -> None:
    items: list[Any] = [transcript(n) for n in range(4)]
    items.append({**transcript(9), "context": "x" * 40_000})
    run = BatchRun(
        judge_for(server, per_harm=True),
        options=BatchOptions(
            length=LengthPolicy(max_input_tokens=5000), budget=Budget(max_tokens=10_000)
        ),
        journal=Journal(tmp_path / "out.jsonl"),
    )
    plan = run.plan(items)
    assert (plan.items, plan.too_long, plan.to_send) == (5, 1, 4)
    assert plan.over_budget > 0
    assert plan.requests == 3 * (4 - plan.over_budget)  # one call per harm
    assert plan.prompt_tokens > 0
    assert plan.completion_tokens == 150 * plan.requests
    assert server.requests == []
    assert not (tmp_path / "out.jsonl").exists()
    text = "\n".join(plan.render())
    assert "5 items: 1 too long; 4 to send" in text
    assert "nothing was sent" in text
