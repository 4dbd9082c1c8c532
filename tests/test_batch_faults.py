"""1,000 items against a server that fails 20 % of requests: every item ends as one outcome."""

from __future__ import annotations

from collections import Counter

from batch_helpers import expected_label, judge_reply, transcript
from harmjudge import Label, LLMJudge
from harmjudge.batch import BatchOptions, BatchRun, Origin, RetryPolicy, render_summary
from harmjudge.testing.server import FakeOpenAI

FAULTS = {
    "429": 0.05,
    "500": 0.03,
    "503": 0.03,
    "hang": 0.02,
    "malformed": 0.03,
    "schema_invalid": 0.02,
    "length": 0.02,
}


def test_a_thousand_items_with_twenty_percent_faults_lose_nothing() -> None:
    assert abs(sum(FAULTS.values()) - 0.20) < 1e-9
    items = [transcript(n) for n in range(1000)]
    with FakeOpenAI(seed=20) as server:
        server.default = judge_reply
        server.faults = dict(FAULTS)
        server.hang_seconds = 1.0
        judge = LLMJudge("test-model", base_url=server.base_url, timeout=0.5)
        run = BatchRun(
            judge,
            options=BatchOptions(concurrency=16, retry=RetryPolicy(base_delay=0.0, max_retries=8)),
        )
        results = list(run.iter_results(items))
        requests = server.requests

    assert len(results) == 1000
    assert sorted(r.key for r in results) == sorted(i["id"] for i in items)
    assert {r.origin for r in results} == {Origin.JUDGED}
    unjudged_items = 0
    for r in results:
        assert r.classification is not None
        assert r.classification.id == r.key
        reasons = set()
        for harm, verdict in r.classification.verdicts.items():
            if verdict.label is Label.UNJUDGED:
                assert verdict.reason is not None
                assert verdict.confidence is None
                reasons.add(verdict.reason.value)
            else:  # a judged verdict is the server's answer, never a failure in disguise
                assert verdict.label.value == expected_label(r.key, harm)
        unjudged_items += bool(reasons)
        # only the model-level faults that are not retried can leave an item unjudged
        assert reasons <= {"truncated", "parse_failure"}

    summary = run.summary()
    assert summary.items == 1000
    assert summary.errors == 0
    assert summary.unjudged_items == unjudged_items
    assert 0 < unjudged_items < 60  # about the 2 % of "length" replies
    assert summary.harmful == sum(
        1 for r in results if r.classification and r.classification["blackmail"].is_harmful
    )
    faults = Counter(r.fault for r in requests)
    retryable = sum(faults[kind] for kind in ("429", "500", "503", "hang", "malformed"))
    # Each retryable fault costs one retry. A slow machine may add a few (a request that timed
    # out before its reply, counted by the client but not always logged by the server).
    assert summary.retried >= retryable > 150
    assert set(summary.retries) >= {"429", "5xx", "timeout", "malformed"}
    assert summary.requests >= len(requests)
    assert summary.requests - summary.retried >= 1000  # a final attempt per call, re-asks too
    text = "\n".join(render_summary(summary))
    assert f"{summary.requests} requests ({summary.retried} retries: 429 " in text
    assert "1000 items: 1000 judged" in text
