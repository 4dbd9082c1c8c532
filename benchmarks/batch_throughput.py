"""The batch engine against the physical limit and against raw openai, on the test server.

    python benchmarks/batch_throughput.py [--items 1000] [--connections 32] [--latency 0.1]

The server (harmjudge.testing.server) runs in a process of its own and answers every request after
a fixed latency. In one run this prints:

1. wall time of ITEMS classifications with CONNECTIONS connections at LATENCY: the engine
   (``BatchRun`` with its journal and cache, as ``harmjudge classify -o`` runs), raw
   ``AsyncOpenAI`` with a semaphore on its default transport and on aiohttp (the same
   requests, replies not parsed), raw openai + instructor with a semaphore (the same requests,
   replies parsed and validated) and the floor (bare aiohttp posting prebuilt bodies), each
   against the limit ``ITEMS / CONNECTIONS * LATENCY``; then the same at 5 x LATENCY, where
   the client's CPU is no longer the bottleneck;
2. client CPU time per classification at 0 ms latency, engine against raw openai + instructor;
3. the rerun of the finished batch from the cache: requests sent and speed-up.

Every variant builds its prompts with harmjudge's own pure functions, inside its semaphore as
the engine does, so the comparison is of what runs around the call. Figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import instructor
import openai

from harmjudge import LLMJudge, Taxonomy
from harmjudge.batch import BatchOptions, BatchRun, Journal, VerdictCache
from harmjudge.judges.base import build_context
from harmjudge.judges.llm import CallPlan, plan_calls
from harmjudge.transcript.parse import parse_transcript

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "harmjudge" / "examples" / "examples.jsonl"
MODEL = "bench-model"
KEY = "sk-bench-not-a-real-key"


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


class Server:
    """benchmarks/batch_fakeserver.py in a subprocess."""

    def __init__(self, latency: float) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "batch_fakeserver.py"), str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        self.url = self._proc.stdout.readline().strip()

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=30)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def transcripts(n: int) -> list[dict[str, Any]]:
    """``n`` transcripts: the bundled examples over and over, each with its own id."""
    base = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    return [{**base[i % len(base)], "id": f"bench-{i}"} for i in range(n)]


def plan(item: dict[str, Any], taxonomy: Taxonomy) -> CallPlan:
    context = build_context(parse_transcript(item), taxonomy.select(None))
    plans, _ = plan_calls(context, per_harm=False, gating=False)
    return plans[0]


def measure(work: Callable[[], Awaitable[None]]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(work())
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def tool(call: CallPlan) -> dict[str, Any]:
    """The tool definition for ``call``, as the raw variants send it."""
    schema = call.response_model.model_json_schema()
    return {"type": "function", "function": {"name": schema["title"], "parameters": schema}}


def raw_openai(url: str, items: list[dict[str, Any]], connections: int, on_aiohttp: bool) -> Timing:
    """The same requests with ``AsyncOpenAI`` and a semaphore; replies are not parsed."""
    taxonomy = Taxonomy.builtin()

    async def work() -> None:
        http = {"http_client": openai.DefaultAioHttpClient()} if on_aiohttp else {}
        async with openai.AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0, **http) as client:
            gate = asyncio.Semaphore(connections)

            async def one(item: dict[str, Any]) -> None:
                async with gate:
                    call = plan(item, taxonomy)
                    await client.chat.completions.create(
                        model=MODEL,
                        messages=call.messages,  # type: ignore[arg-type]
                        tools=[tool(call)],  # type: ignore[list-item]
                        temperature=0.0,
                    )

            await asyncio.gather(*(one(i) for i in items))

    return measure(work)


def raw_instructor(url: str, items: list[dict[str, Any]], connections: int) -> Timing:
    """The same requests through instructor (replies parsed and validated against the
    response model; the evidence check, which needs a validation context, is left out)."""
    taxonomy = Taxonomy.builtin()

    async def work() -> None:
        async with openai.AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0) as client:
            judge = instructor.from_openai(client, mode=instructor.Mode.TOOLS)
            gate = asyncio.Semaphore(connections)

            async def one(item: dict[str, Any]) -> None:
                async with gate:
                    call = plan(item, taxonomy)
                    await judge.create_with_completion(
                        model=MODEL,
                        messages=call.messages,  # type: ignore[arg-type]
                        response_model=call.response_model,
                        max_retries=2,
                        temperature=0.0,
                    )

            await asyncio.gather(*(one(i) for i in items))

    return measure(work)


def floor(url: str, items: list[dict[str, Any]], connections: int) -> Timing:
    """The least any client can take: bare aiohttp posting request bodies built beforehand,
    replies read and dropped. What it loses against the limit is the server's and the
    network's, not a client's."""
    taxonomy = Taxonomy.builtin()
    bodies = []
    for item in items:
        call = plan(item, taxonomy)
        body = {"model": MODEL, "messages": call.messages, "tools": [tool(call)]}
        bodies.append(json.dumps(body).encode())
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}

    async def work() -> None:
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(body: bytes) -> None:
                async with session.post(f"{url}/chat/completions", data=body, headers=headers) as r:
                    await r.read()

            await asyncio.gather(*(one(b) for b in bodies))

    return measure(work)


def engine(
    url: str, items: list[dict[str, Any]], connections: int, folder: Path, name: str
) -> tuple[Timing, BatchRun]:
    with VerdictCache(folder / "cache.sqlite3") as cache:
        run = BatchRun(
            LLMJudge(MODEL, base_url=url, api_key=KEY),
            options=BatchOptions(concurrency=connections),
            cache=cache,
            journal=Journal(folder / f"{name}.jsonl"),
        )

        async def work() -> None:
            async for _ in run.results(items):
                pass

        return measure(work), run


def fresh(folder: Path) -> Path:
    """A new empty folder (its own cache and output) under ``folder``."""
    return Path(tempfile.mkdtemp(dir=folder))


def throughput(items: int, connections: int, latency: float, folder: Path, raw: bool) -> None:
    limit = items / connections * latency
    server = Server(latency)
    try:
        work = transcripts(items)
        warm = transcripts(connections)
        raw_instructor(server.url, warm, connections)  # first connections, imports, caches
        print(
            f"\n{items} classifications, {connections} connections, {latency * 1000:.0f} ms "
            f"latency: limit {limit:.2f} s"
        )
        rows = []
        timing, _ = engine(server.url, work, connections, fresh(folder), "throughput")
        rows.append(("harmjudge batch engine", timing))
        if raw:
            for name, on_aiohttp in (("", False), (" on aiohttp", True)):
                timing = raw_openai(server.url, work, connections, on_aiohttp)
                rows.append((f"raw AsyncOpenAI{name} + semaphore", timing))
        rows.append(
            ("raw openai + instructor + semaphore", raw_instructor(server.url, work, connections))
        )
        if raw:
            rows.append(
                ("floor: bare aiohttp, bodies prebuilt", floor(server.url, work, connections))
            )
        for name, t in rows:
            print(
                f"  {name:<38} {t.wall:6.2f} s  {t.wall / limit:5.2f} x limit  "
                f"{items / t.wall:7.1f} items/s  cpu {t.cpu / items * 1000:5.2f} ms/item"
            )
        instructor_row = next(t for name, t in rows if "instructor" in name)
        print(
            f"  engine / raw openai + instructor: {rows[0][1].wall / instructor_row.wall:.2f} x wall"
        )
    finally:
        server.close()


def cpu(items: int, connections: int, folder: Path) -> None:
    server = Server(0.0)
    try:
        work = transcripts(items)
        raw_instructor(server.url, transcripts(50), connections)  # warm up
        base = raw_instructor(server.url, work, connections)
        ours, _ = engine(server.url, work, connections, fresh(folder), "cpu")
        print(
            f"\nclient CPU per classification at 0 ms latency ({items} items, {connections} connections)"
        )
        print(f"  raw openai + instructor  {base.cpu / items * 1000:5.2f} ms")
        print(f"  harmjudge batch engine   {ours.cpu / items * 1000:5.2f} ms")
        print(f"  ratio                    {ours.cpu / base.cpu:5.2f} x (target <= 1.5)")
    finally:
        server.close()


def rerun(items: int, connections: int, latency: float, folder: Path) -> None:
    server = Server(latency)
    try:
        work = transcripts(items)
        shared = fresh(folder)
        first, _ = engine(server.url, work, connections, shared, "first")
        second, run = engine(server.url, work, connections, shared, "second")
        summary = run.summary()
        print(
            f"\nrerun of the finished batch from the cache ({items} items, {latency * 1000:.0f} ms latency)"
        )
        print(f"  first run   {first.wall:6.2f} s")
        print(
            f"  rerun       {second.wall:6.2f} s, {summary.requests} requests, "
            f"{summary.cached} from the cache: {first.wall / second.wall:.0f} x faster"
        )
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        throughput(args.items, args.connections, args.latency, folder, raw=True)
        throughput(args.items, args.connections, args.latency * 5, folder, raw=False)
        cpu(args.items // 2, 16, folder)
        rerun(args.items, args.connections, args.latency, folder)


if __name__ == "__main__":
    main()
