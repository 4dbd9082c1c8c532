"""Peak memory while streaming 100,000 small transcripts through the offline judge.

    python benchmarks/batch_memory.py [--items 100000]

Writes ITEMS transcripts (the bundled examples over and over, each with its own id) to a
temporary JSONL file, runs ``python -m harmjudge classify FILE --judge offline -o OUT --quiet``
in a child process, and prints the child's peak resident memory (``ru_maxrss``) and wall time,
next to the same for 1,000 items (what the interpreter and the imports take alone).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "src" / "harmjudge" / "examples" / "examples.jsonl"


def write_input(path: Path, items: int) -> None:
    base = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines()]
    with path.open("w", encoding="utf-8") as out:
        for i in range(items):
            out.write(json.dumps({**base[i % len(base)], "id": f"mem-{i}"}) + "\n")


def peak(items: int, folder: Path) -> tuple[float, float, int]:
    """(peak MB, seconds, output lines) of one run over ``items`` transcripts."""
    source = folder / f"in-{items}.jsonl"
    output = folder / f"out-{items}.jsonl"
    write_input(source, items)
    command = [sys.executable, "-m", "harmjudge", "classify", str(source)]
    command += ["--judge", "offline", "-o", str(output), "--quiet"]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"harmjudge classify failed with status {child.returncode}")
    with output.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return usage.ru_maxrss / 1024, elapsed, lines  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("offline judge, streaming from a JSONL file to a journaled output")
        for items in (1000, args.items):
            mb, seconds, lines = peak(items, folder)
            print(
                f"  {items:>7} transcripts: peak RSS {mb:6.1f} MB, {seconds:6.1f} s "
                f"({items / seconds:,.0f} items/s), {lines} output records"
            )


if __name__ == "__main__":
    main()
