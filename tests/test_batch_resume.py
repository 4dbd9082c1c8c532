"""Resuming: kill -9 a running batch, rerun it, and only the unfinished items are requested."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from batch_helpers import (
    classify,
    comparable,
    item_of,
    judge_reply,
    read_jsonl,
    requested_items,
    transcript,
    write_jsonl,
)
from harmjudge import Taxonomy
from harmjudge.testing.server import FakeOpenAI, Reply, http_error

HELPER = Path(__file__).resolve().parent / "batch_helpers.py"


def lines_in(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_kill_9_then_rerun_requests_only_the_unfinished_items(tmp_path: Path) -> None:
    items = [transcript(n) for n in range(60)]
    source = write_jsonl(tmp_path / "in.jsonl", items)
    out = tmp_path / "verdicts.jsonl"
    with FakeOpenAI() as server:
        server.default = judge_reply
        server.latency = 0.08
        argv = [str(source), "--judge", "test-model", "--base-url", server.base_url]
        argv += ["-o", str(out), "--cache", str(tmp_path / "cache.sqlite3"), "--concurrency", "4"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        proc = subprocess.Popen(
            [sys.executable, str(HELPER), *argv, "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while lines_in(out) < 12 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        complete = out.read_bytes().split(b"\n")[:-1]  # kill -9 may cut the last line short
        journaled = {json.loads(line)["id"] for line in complete}
        assert 12 <= len(journaled) < 60

        server.reset()
        server.default = judge_reply
        code, _, err = classify(*argv)
        assert code == 0, err
        rerun_requests = requested_items(server.requests)
        assert sorted(rerun_requests) == sorted(i["id"] for i in items if i["id"] not in journaled)
        assert f"{len(journaled)} already in the output" in err

        server.reset()
        server.default = judge_reply
        fresh = tmp_path / "uninterrupted.jsonl"
        other_cache = str(tmp_path / "other.sqlite3")
        argv_fresh = [a if a != str(out) else str(fresh) for a in argv]
        argv_fresh[argv_fresh.index("--cache") + 1] = other_cache
        assert classify(*argv_fresh)[0] == 0
        assert len(server.requests) == 60

    resumed = read_jsonl(out)
    uninterrupted = read_jsonl(fresh)
    assert [r["id"] for r in resumed] == [i["id"] for i in items]
    assert [comparable(r) for r in resumed] == [comparable(r) for r in uninterrupted]


def test_rerunning_a_finished_batch_sends_nothing(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(8)])
    out = tmp_path / "verdicts.jsonl"
    with FakeOpenAI() as server:
        server.default = judge_reply
        argv = [str(source), "--judge", "m", "--base-url", server.base_url, "-o", str(out)]
        assert classify(*argv)[0] == 0
        first = out.read_bytes()
        assert len(server.requests) == 8
        code, _, err = classify(*argv)  # same output: everything is in the journal
        assert code == 0
        assert len(server.requests) == 8
        assert "8 already in the output" in err
        assert out.read_bytes() == first
        code, _, err = classify(*argv[:-1], str(tmp_path / "again.jsonl"))  # from the cache
        assert code == 0
        assert len(server.requests) == 8
        assert "8 from the cache" in err
        assert "0 requests" not in err  # no request line when nothing was sent
        assert all(r["cached"] for r in read_jsonl(tmp_path / "again.jsonl"))
        code, _, _ = classify(*argv[:-1], str(tmp_path / "third.jsonl"), "--no-cache")
        assert code == 0
        assert len(server.requests) == 16


def test_retry_unjudged_resends_only_failures(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(4)])
    out = tmp_path / "verdicts.jsonl"
    with FakeOpenAI() as server:

        def fail_t2(request: dict[str, Any]) -> Reply:
            return (
                http_error(400, "not today") if item_of(request) == "t-2" else judge_reply(request)
            )

        server.default = fail_t2
        argv = [str(source), "--judge", "m", "--base-url", server.base_url, "-o", str(out)]
        code, _, err = classify(*argv)
        assert code == 1
        assert "1 transcripts with unjudged harms" in err
        server.reset()
        server.default = judge_reply
        assert classify(*argv)[0] == 1  # a plain rerun keeps the unjudged record
        assert server.requests == []
        code, _, _ = classify(*argv, "--retry-unjudged")
        assert code == 0
        assert requested_items(server.requests) == ["t-2"]
    final = read_jsonl(out)
    assert [r["id"] for r in final] == ["t-0", "t-1", "t-2", "t-3"]
    assert final[2]["verdicts"]["blackmail"]["label"] == "harmful"


def test_an_output_from_another_run_is_refused(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [transcript(0)])
    out = tmp_path / "verdicts.jsonl"
    assert classify(str(source), "--judge", "offline", "-o", str(out))[0] == 0
    code, _, err = classify(str(source), "--judge", "offline", "--harm", "leakage", "-o", str(out))
    assert code == 2
    assert err.startswith(f"harmjudge: error: {out}:1: this output was written by a different run")
    assert "--overwrite" in err
    code, _, _ = classify(
        str(source), "--judge", "offline", "--harm", "leakage", "-o", str(out), "--overwrite"
    )
    assert code == 0
    assert list(read_jsonl(out)[0]["verdicts"]) == ["leakage"]


def test_resuming_under_a_changed_prompt_is_refused(tmp_path: Path) -> None:
    # The same harm id and version, one criterion reworded: only the prompt hash tells.
    harm = Taxonomy.builtin()["blackmail"].model_dump(mode="json")
    harm["criteria"][0]["text"] += " Reworded."
    edited = tmp_path / "blackmail.json"
    edited.write_text(json.dumps(harm), encoding="utf-8")
    source = write_jsonl(tmp_path / "in.jsonl", [transcript(n) for n in range(3)])
    out = tmp_path / "verdicts.jsonl"
    with FakeOpenAI() as server:
        server.default = judge_reply
        argv = [str(source), "--judge", "m", "--base-url", server.base_url, "--harm", "blackmail"]
        argv += ["-o", str(out), "--no-cache"]
        assert classify(*argv)[0] == 0
        code, _, err = classify(*argv, "--taxonomy", str(edited))
    assert code == 2
    assert "this output was written by a different run" in err
    assert "prompt_hash" in err
    assert len(server.requests) == 3
