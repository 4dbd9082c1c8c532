"""Would sharding a batch over worker processes reach the throughput limit on this machine?

    python benchmarks/batch_sharding.py

Splits 1,000 classifications over 1, 2 and 3 processes (32 connections in all, 100 ms server
latency, the server in a process of its own) and prints the wall time of each, start-up
included, against the limit of 3.12 s. The engine has no sharding mode; this measures whether
one would pay.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from batch_throughput import KEY, MODEL, Server, transcripts

from harmjudge import LLMJudge, Taxonomy
from harmjudge.batch import BatchOptions, BatchRun

CONNECTIONS = 32
LATENCY = 0.1
ITEMS = 1000


def worker(url: str, items: list[dict[str, Any]], concurrency: int, done: Any) -> None:
    judge = LLMJudge(MODEL, base_url=url, api_key=KEY)
    run = BatchRun(
        judge, taxonomy=Taxonomy.builtin(), options=BatchOptions(concurrency=concurrency)
    )
    done.put(sum(1 for _ in run.iter_results(items)))


def main() -> None:
    server = Server(LATENCY)
    limit = ITEMS / CONNECTIONS * LATENCY
    try:
        items = transcripts(ITEMS)
        for shards in (1, 2, 3):
            done: Any = mp.Queue()
            started = time.perf_counter()
            procs = [
                mp.Process(
                    target=worker, args=(server.url, items[i::shards], CONNECTIONS // shards, done)
                )
                for i in range(shards)
            ]
            for proc in procs:
                proc.start()
            total = sum(done.get() for _ in procs)
            for proc in procs:
                proc.join()
            wall = time.perf_counter() - started
            print(
                f"{shards} process(es): {total} items in {wall:.2f} s = {wall / limit:.2f} x the {limit:.2f} s limit"
            )
    finally:
        server.close()


if __name__ == "__main__":
    main()
