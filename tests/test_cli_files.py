"""Inputs and outputs on the command line: never write over an input, ``-`` for the standard
streams, one bad line costs one record, and a killed rewrite leaves nothing behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from batch_helpers import classify, read_jsonl, write_jsonl

ITEMS = [{"id": "a", "text": "Sent the weekly report."}, {"id": "b", "text": "Booked the room."}]


def harmjudge(
    *argv: str, stdin: str | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harmjudge", *argv],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("flags", [[], ["--overwrite"], ["--retry-unjudged"]])
def test_output_that_is_the_input_is_refused_whatever_the_flags(
    tmp_path: Path, flags: list[str]
) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ITEMS)
    before = src.read_bytes()
    (tmp_path / "link.jsonl").symlink_to(src)
    for given, output in (
        (src, src),
        (tmp_path / "link.jsonl", tmp_path / "sub" / ".." / "in.jsonl"),
    ):
        code, out, err = classify(str(given), "-o", str(output), *flags)
        assert (code, out) == (2, "")
        assert err.splitlines()[-1] == (
            f"harmjudge: error: {output}: -o names an input of this run ({given}); write the "
            "output to another file"
        )
        assert src.read_bytes() == before


def test_output_that_is_the_redirected_standard_input_is_refused(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ITEMS)
    before = src.read_bytes()
    with src.open() as stdin:
        proc = subprocess.run(
            [sys.executable, "-m", "harmjudge", "classify", "-", "-o", str(src), "--overwrite"],
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
    assert proc.returncode == 2
    assert "-o names an input of this run (standard input)" in proc.stderr
    assert src.read_bytes() == before


def test_output_inside_the_input_folder_is_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    folder.mkdir()
    write_jsonl(folder / "in.jsonl", ITEMS)
    out = folder / "verdicts.jsonl"
    for _ in range(2):  # the second run resumes, with the output already there
        proc = harmjudge("classify", str(folder), "-o", str(out), timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert [r["id"] for r in read_jsonl(out)] == ["a", "b"]
    assert "2 items: 0 judged, 2 already in the output" in proc.stderr


def test_a_line_nested_too_deeply_is_one_error_record(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    deep = '{"id": "deep", "text": "x", "metadata": {"k": ' + "[" * 5000 + "]" * 5000 + "}}"
    src.write_text("\n".join([json.dumps(ITEMS[0]), deep, json.dumps(ITEMS[1])]) + "\n")
    out = tmp_path / "out.jsonl"
    for _ in range(2):  # and a rerun reads its journal back without crashing
        code, _, err = classify(str(src), "-o", str(out))
        assert code == 1
        assert f"harmjudge: {src}:2: invalid JSON: nested too deeply to read" in err
        records = read_jsonl(out)
        assert [r["id"] for r in records] == ["a", None, "b"]
        assert records[1]["error"]["line"] == 2


def test_any_failure_reading_a_line_is_that_lines_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harmjudge.transcript.io as io_module

    real = io_module.record_from_json

    def fragile(data: object, *, source: str | None = None, line: int | None = None) -> object:
        if line == 1:
            raise MemoryError("out of memory")  # stands for any unexpected failure
        return real(data, source=source, line=line)

    monkeypatch.setattr(io_module, "record_from_json", fragile)
    src = write_jsonl(tmp_path / "in.jsonl", ITEMS)
    code, out, err = classify(str(src), "--jsonl")
    assert code == 1
    assert f"harmjudge: {src}:1: cannot read this line (MemoryError: out of memory)" in err
    assert [json.loads(line)["id"] for line in out.splitlines()] == [None, "b"]


def test_a_temporary_file_left_by_a_killed_rewrite_is_removed(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", ITEMS)
    out = tmp_path / "out.jsonl"
    orphan = tmp_path / f".out.jsonl.{os.getpid() + 1}.tmp"
    orphan.write_text('{"id": "a", "verdicts": {}}\n')
    unrelated = tmp_path / ".out.jsonl.notes.tmp"
    unrelated.write_text("mine")
    code, _, _ = classify(str(src), "-o", str(out))
    assert code == 0
    assert not orphan.exists()
    assert unrelated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".out.jsonl.notes.tmp",
        "in.jsonl",
        "out.jsonl",
    ]


def test_dash_reads_standard_input_and_writes_standard_output(tmp_path: Path) -> None:
    lines = "".join(json.dumps(i) + "\n" for i in ITEMS)
    proc = harmjudge("classify", "-", "-o", "-", stdin=lines, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["a", "b"]
    assert list(tmp_path.iterdir()) == []


def test_dev_stdin_is_read(tmp_path: Path) -> None:
    lines = "".join(json.dumps(i) + "\n" for i in ITEMS) + "{bad\n"
    proc = harmjudge("classify", "/dev/stdin", "--jsonl", stdin=lines)
    assert proc.returncode == 1
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["a", "b", None]
    assert "harmjudge: /dev/stdin:3: invalid JSON" in proc.stderr


def test_standard_input_errors_name_it() -> None:
    proc = harmjudge("classify", "-", "--jsonl", stdin='{"id": "x"}\n')
    assert proc.returncode == 3  # nothing judged
    assert "harmjudge: <stdin>:1 item 'x': give exactly one of 'text' or 'messages'" in proc.stderr


def test_a_verdict_line_nested_too_deeply_is_one_error(tmp_path: Path) -> None:
    from harmjudge.metrics.verdicts import read_verdicts

    path = tmp_path / "v.jsonl"
    path.write_text(
        '{"id": "a", "harm": "blackmail", "label": "harmful"}\n'
        + '{"id": '
        + "[" * 5000
        + "]" * 5000
        + "}\n"
        + '{"id": "b", "harm": "blackmail", "label": "no"}\n'
    )
    table = read_verdicts([path])
    assert sorted(table.rows) == [("a", "blackmail"), ("b", "blackmail")]
    assert [str(e) for e in table.errors] == [f"{path}:2: nested too deeply to read"]
