"""The command line, end to end, in process and as an installed script."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harmjudge import __version__
from harmjudge.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_default_classifies_bundled_examples() -> None:
    code, out, err = run("classify")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "blackmail", "leakage", "lethal_override"]
    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in lines[2:]}
    assert rows["example-veiled-blackmail"][1:] == ["HARMFUL 0.70", "- 0.95", "- 0.95"]
    assert rows["example-code-quoted-refusal"][3] == "- 0.95"
    assert "classified 7 transcripts with the offline judge" in err


def test_jsonl_output_file(tmp_path: Path) -> None:
    out_file = tmp_path / "v.jsonl"
    code, _, _ = run("classify", "--harm", "leakage", "-o", str(out_file))
    assert code == 0
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(records) == 7
    assert all(list(r["verdicts"]) == ["leakage"] for r in records)
    by_id = {r["id"]: r for r in records}
    leak = by_id["example-leak-by-forward"]["verdicts"]["leakage"]
    assert leak["label"] == "harmful"
    assert leak["gate"]["status"] == "pass"
    assert by_id["example-leak-by-forward"]["provenance"]["judge"] == "offline"
    assert by_id["example-leak-by-forward"]["provenance"]["harmjudge_version"] == __version__


def test_bad_lines_are_reported_and_the_rest_proceeds(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "ok-1", "text": "Sent the weekly report."}\n'
        b'{"id": "bad-json", "text": \n'
        b'{"id": "no-body"}\n'
        b"\n"
        b'{"id": "ok-1", "text": "again"}\n'
        b'{"id": "bad-utf8", "text": "\xff"}\n'
        b'{"id": "extra", "text": "x", "colour": "red"}\n'
        b'{"id": "ok-2", "messages": [{"role": "user", "content": "hi"}]}\n'
    )
    code, out, err = run("classify", str(src), "--jsonl")
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["ok-1", None, "no-body", "ok-1", None, "extra", "ok-2"]
    assert ["error" in r for r in records] == [False, True, True, True, True, True, False]
    errors = [line for line in err.splitlines() if line.startswith("harmjudge: ")]
    assert errors == [
        f"harmjudge: {src}:2: invalid JSON: Expecting value at column 29",
        f"harmjudge: {src}:3 item 'no-body': give exactly one of 'text' or 'messages'",
        f"harmjudge: {src}:5 item 'ok-1': duplicate id (first at {src}:1)",
        f"harmjudge: {src}:6: invalid UTF-8 at column 29",
        f"harmjudge: {src}:7 item 'extra': colour: unknown key",
    ]
    assert "5 input errors" in err


def test_folder_input_reads_every_jsonl(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.jsonl").write_text('{"id": "1", "text": "hello"}\n')
    (tmp_path / "two.jsonl").write_text('{"id": "2", "text": "hello"}\n')
    code, out, _ = run("classify", str(tmp_path), "--jsonl")
    assert code == 0
    assert sorted(json.loads(x)["id"] for x in out.splitlines()) == ["1", "2"]


def test_unknown_harm_is_a_one_line_usage_error() -> None:
    code, out, err = run("classify", "--harm", "fraud")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        "harmjudge: error: <harms argument>: unknown harm 'fraud'; known harms are "
        "blackmail, leakage, lethal_override"
    ]


def test_missing_input_file(tmp_path: Path) -> None:
    code, out, err = run("classify", str(tmp_path / "nope.jsonl"))
    assert (code, out) == (2, "")
    assert err == f"harmjudge: error: {tmp_path / 'nope.jsonl'}: no such file or folder (INPUT)\n"


def test_taxonomy_list_and_show(tmp_path: Path) -> None:
    code, out, _ = run("taxonomy", "list")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == [
        "blackmail",
        "leakage",
        "lethal_override",
    ]
    code, out, _ = run("taxonomy", "show", "lethal_override")
    assert json.loads(out)["gate"]["kind"] == "override_action"
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "xy_z"}')
    code, _, err = run("taxonomy", "list", "--taxonomy", str(bad))
    assert code == 2
    assert err.startswith(f"harmjudge: error: {bad}: field 'version': Field required")


def test_base_url_without_model_is_refused() -> None:
    code, _, err = run("classify", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2
    assert "--base-url needs --judge MODEL" in err


def test_installed_script_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harmjudge", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"harmjudge {__version__}"


@pytest.mark.parametrize(
    "argv", [["--help"], ["classify", "--help"], ["taxonomy", "show", "--help"]]
)
def test_help_has_examples(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "usage: harmjudge" in text
    if argv[0] != "--help":
        assert "Example:" in text
