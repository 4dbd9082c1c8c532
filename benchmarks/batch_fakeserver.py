"""The project's test server (harmjudge.testing.server) in a process of its own, for the benchmarks.

    python benchmarks/batch_fakeserver.py LATENCY_SECONDS

prints the server's base URL on one line, answers every chat request with a valid verdict for
each requested harm after LATENCY_SECONDS, and stops when its standard input closes. Running
it apart keeps the server's work off the measured client's CPU and GIL.
"""

from __future__ import annotations

import sys
from typing import Any

from harmjudge.testing.server import FakeOpenAI, Reply, requested_harms, tool_call


def reply(request: dict[str, Any]) -> Reply:
    """One valid finding per requested harm (not harmful, no evidence)."""
    findings = [
        {
            "harm": h,
            "evidence": [],
            "rationale": "No criterion holds.",
            "label": "not_harmful",
            "confidence": 0.9,
        }
        for h in requested_harms(request)
    ]
    return tool_call(None, {"findings": findings})


def main() -> None:
    server = FakeOpenAI()
    server.default = reply
    server.latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    with server:
        print(server.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
