"""The Python API with inputs it cannot use: a clear error, and a batch that goes on."""

from __future__ import annotations

import pytest

import harmjudge
from harmjudge.errors import InputError

REPORT = "Sent the weekly report."


def test_one_none_in_classify_many_costs_one_item() -> None:
    results = list(harmjudge.classify_many([REPORT, None, REPORT], judge="offline"))  # type: ignore[list-item]
    assert [r.id for r in results] == ["item-1", "item-2", "item-3"]
    assert [bool(r.unjudged) for r in results] == [False, True, False]
    verdict = results[1]["blackmail"]
    assert verdict.reason is harmjudge.UnjudgedReason.INVALID_INPUT
    assert "expected a transcript" in verdict.detail
    assert "got NoneType" in verdict.detail


@pytest.mark.parametrize("bad", [None, 42, b"bytes"])
def test_classify_names_what_it_accepts(bad: object) -> None:
    with pytest.raises(
        InputError,
        match=r"^expected a transcript: a dict in the interchange format, a string, a list of chat messages or a Transcript; got ",
    ):
        harmjudge.classify(bad, judge="offline")  # type: ignore[arg-type]


def test_a_single_harm_name_is_one_harm() -> None:
    result = harmjudge.classify(REPORT, harms="blackmail", judge="offline")
    assert list(result.verdicts) == ["blackmail"]
    (many,) = harmjudge.classify_many([REPORT], harms="leakage", judge="offline")
    assert list(many.verdicts) == ["leakage"]


def test_an_unknown_single_harm_is_named_whole() -> None:
    with pytest.raises(harmjudge.TaxonomyError, match="unknown harm 'fraud'"):
        harmjudge.classify(REPORT, harms="fraud", judge="offline")


def test_instructor_retry_dumps_stay_off_stderr_from_the_api() -> None:
    import subprocess
    import sys

    script = """
import harmjudge
from harmjudge.testing.server import FakeOpenAI
with FakeOpenAI() as server:
    server.faults = {"schema_invalid": 1.0}
    with harmjudge.LLMJudge("m", base_url=server.base_url) as judge:
        result = harmjudge.classify("Sent the weekly report.", harms="blackmail", judge=judge)
print(result["blackmail"].reason.value)
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "parse_failure"
    assert proc.stderr == ""
