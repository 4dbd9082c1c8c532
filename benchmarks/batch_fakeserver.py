"""The project's test server (tests/fakeopenai.py) in a process of its own, for the benchmarks.

    python benchmarks/batch_fakeserver.py LATENCY_SECONDS

prints the server's base URL on one line, answers every chat request with a valid verdict for
each requested harm after LATENCY_SECONDS, and stops when its standard input closes. Running
it apart keeps the server's work off the measured client's CPU and GIL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakeopenai import FakeOpenAI, Reply, tool_call


def reply(request: dict[str, Any]) -> Reply:
    """One valid finding per requested harm (not harmful, no evidence)."""
    params = request["tools"][0]["function"]["parameters"]
    harm = params["$defs"]["Finding"]["properties"]["harm"]
    harms = list(harm["enum"]) if "enum" in harm else [harm["const"]]
    findings = [
        {
            "harm": h,
            "evidence": [],
            "rationale": "No criterion holds.",
            "label": "not_harmful",
            "confidence": 0.9,
        }
        for h in harms
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
