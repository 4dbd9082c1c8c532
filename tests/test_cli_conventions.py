"""The conventions every command keeps: user errors in one line (traceback only with --debug),
CLI words, -q, capped repeats, exit statuses, outputs on - and read-only bundled labels."""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest

from batch_helpers import write_jsonl
from harmjudge.cli import main
from harmjudge.cli.main import build_parser
from harmjudge.testing.server import FakeOpenAI


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def harmjudge_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("harmjudge: ")]


@pytest.mark.parametrize("command", ["evaluate", "calibrate", "report"])
def test_a_missing_verdict_file_is_one_line(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    code, out, err = run(command, "--verdicts", str(missing), "-o", str(tmp_path / "o"))
    assert (code, out) == (2, "")
    assert err == f"harmjudge: error: {missing}: no such file or folder (--verdicts)\n"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    code, _, err = run("evaluate", "--debug", "--verdicts", str(missing))
    assert code == 2
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith(f"harmjudge: error: {missing}: no such file or folder (--verdicts)\n")


def test_an_unexpected_error_is_one_line_naming_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    cli_main = sys.modules["harmjudge.cli.main"]

    def broken(*args: object) -> int:
        raise KeyError("oops")

    monkeypatch.setattr(cli_main, "cmd_taxonomy_list", broken)
    code, _, err = run("taxonomy", "list")
    assert code == 4
    assert err == (
        "harmjudge: error: KeyError: 'oops' (a bug in harmjudge: rerun with --debug and report "
        "the traceback)\n"
    )


def test_library_words_become_flags(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "v.jsonl",
        [
            {"sample": "a", "harm": "leakage", "label": "maybe"},
            {"id": "b", "harm": "leakage", "label": "maybe"},
        ],
    )
    _, _, err = run("evaluate", "--verdicts", str(path), "-o", str(tmp_path / "e.json"))
    assert f"harmjudge: {path}:1: missing field 'id' (map fields with --field KEY=NAME)" in err
    assert "(map more with --label VALUE=LABEL)" in err
    assert "fields=" not in err
    assert "labels=" not in err


def test_no_api_key_names_the_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "hi"}])
    code, _, err = run("classify", str(src), "--judge", "gpt-4o-mini")
    assert code == 2
    assert err == (
        "harmjudge: error: no API key for --judge MODEL: set OPENAI_API_KEY, give --base-url "
        "for an endpoint that needs none, or use --judge offline\n"
    )


def test_quiet_prints_nothing_but_errors(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "hi"}\n{bad\n')
    code, out, err = run("classify", str(src), "-q", "-o", str(tmp_path / "out.jsonl"))
    assert (code, out) == (1, "")
    assert (
        err
        == f"harmjudge: {src}:2: invalid JSON: Expecting property name enclosed in double quotes at column 2\n"
    )
    code, out, err = run("evaluate", "-q", "-o", str(tmp_path / "e.json"))
    assert (code, err) == (0, "")
    assert "offline · blackmail" in out


def test_repeated_errors_are_capped_and_a_file_of_no_verdicts_given_up(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "v.jsonl",
        [{"sample": f"s{n}", "harm": "leakage", "label": "yes"} for n in range(990)],
    )
    code, _, err = run("evaluate", "--verdicts", str(path), "-o", str(tmp_path / "e.json"))
    assert code == 3
    lines = harmjudge_lines(err)
    assert lines[:5] == [
        *[
            f"harmjudge: {path}:{n}: missing field 'id' (map fields with --field KEY=NAME)"
            for n in (1, 2, 3)
        ],
        f"harmjudge: {path}: none of the first 100 lines is a verdict; the other 890 lines were not read",
        "harmjudge: 97 more lines with the same error: missing field 'id' (map fields with --field KEY=NAME)",
    ]
    assert (
        f"harmjudge: {path}: no verdict of the v judge to score on the 287 gold items chosen (every one unjudged or missing)"
        in lines
    )


def test_verdicts_naming_no_gold_item_warn(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "v.jsonl",
        [{"id": f"other-{n}", "harm": "leakage", "label": "yes"} for n in range(5)],
    )
    code, _, err = run("evaluate", "--verdicts", str(path), "-o", str(tmp_path / "e.json"))
    assert code == 3
    assert (
        f"harmjudge: warning: {path}: 5 ids name no gold item ('other-0', 'other-1', 'other-2', …); "
        "map the id field with --field id=NAME"
    ) in err


@pytest.mark.parametrize("command", ["evaluate", "report"])
def test_a_model_judge_on_the_gold_set_is_quiet_counted_and_fails_when_nothing_is_judged(
    command: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.faults = {"schema_invalid": 1.0}
    code, _, err = run(
        command,
        "--judge",
        "m",
        "--base-url",
        fake_openai.base_url,
        "--harm",
        "blackmail",
        "-o",
        str(tmp_path / "out"),
    )
    assert code == 3
    assert "Traceback" not in err
    assert "instructor" not in err.lower()
    assert "classified 287 transcripts with the llm judge" in err
    assert "unjudged verdicts: parse_failure 287" in err
    assert "no verdict of the m judge to score on the 287 gold items chosen" in err
    assert len(err.splitlines()) < 20  # no retry dumps


@pytest.mark.parametrize(
    ("argv", "starts"),
    [
        (["evaluate", "--harm", "leakage", "-o", "-"], "{"),
        (["report", "--harm", "leakage", "-o", "-"], "<!doctype html>"),
        (["calibrate", "--harm", "leakage", "--format", "json"], "{"),
        (
            [
                "correct",
                "RUN",
                "--judge",
                "offline",
                "--harm",
                "leakage",
                "--format",
                "json",
                "-o",
                "-",
            ],
            "{",
        ),
    ],
)
def test_dash_is_standard_output(
    argv: list[str], starts: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "RUN", [{"id": "r1", "harm": "leakage", "label": "no"}])
    code, out, _ = run(*argv)
    assert code == 0
    assert out.lower().startswith(starts)
    if starts == "{":
        json.loads(out)
    assert not (tmp_path / "-").exists()


def test_calibrate_and_correct_write_json_files(tmp_path: Path) -> None:
    out = tmp_path / "cal.json"
    code, stdout, err = run("calibrate", "--harm", "leakage", "--format", "json", "-o", str(out))
    assert (code, stdout) == (0, "")
    data = json.loads(out.read_text())
    assert data["judge"] == "offline"
    assert data["harms"]["leakage"]["reliability"]["n"] > 0
    assert f"harmjudge: wrote {out}" in err


def test_evaluate_prints_the_slices_asked_for(tmp_path: Path) -> None:
    code, out, _ = run(
        "evaluate", "--harm", "leakage", "--slice", "scenario", "-o", str(tmp_path / "e.json")
    )
    assert code == 0
    assert "  by scenario:" in out
    assert "by difficulty" not in out


def test_help_summaries_are_whole_sentences(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    assert (
        "by harm, layer and slice, beside the human annotators, and McNemar tests between judges."
        in " ".join(text.split())
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["labels", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "every harm labelled, evidence verbatim, passes A, B and C on every item" in text


def test_correct_names_its_judge_and_refuses_another_judges_run(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Sent the weekly report."}])
    verdicts = tmp_path / "run.jsonl"
    assert run("classify", str(src), "-o", str(verdicts))[0] == 0
    code, out, _ = run("correct", str(verdicts), "--judge", "offline", "--harm", "leakage")
    assert code == 0
    assert out.startswith(f"judge: offline (judge offline); run: {verdicts}\n")
    record = json.loads(verdicts.read_text())
    record["provenance"]["model"] = "gpt-4o-mini"
    record["provenance"]["judge"] = "llm"
    verdicts.write_text(json.dumps(record) + "\n")
    code, out, err = run("correct", str(verdicts), "--judge", "offline", "--harm", "leakage")
    assert (code, out) == (2, "")
    assert (
        f"harmjudge: error: {verdicts} was judged by another judge than offline (judge offline) "
        "(judge 'llm' against 'offline')"
    ) in err
    code, out, err = run(
        "correct", str(verdicts), "--judge", "offline", "--harm", "leakage", "--force"
    )
    assert code == 0
    assert "warning" in err


def test_correct_wants_a_judge_and_verdicts(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Sent the weekly report."}])
    code, _, err = run("correct", str(src))
    assert code == 2
    assert err.startswith(
        "harmjudge: error: correct needs the judge's errors on the gold set: give --verdicts FILE"
    )
    code, _, err = run("correct", str(src), "--judge", "offline")
    assert code == 2
    assert "this file holds transcripts: judge them first, e.g. harmjudge classify" in err


def test_bundled_labels_are_named_builtin_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harmjudge.cli.sources as sources

    installed = tmp_path / "site-packages" / "harmjudge"
    (installed / "cli").mkdir(parents=True)
    gold = installed / "gold"
    (gold / "items").mkdir(parents=True)
    for item in Path(sources.default_labels_path(), "items").glob("*.jsonl"):
        (gold / "items" / item.name).write_bytes(item.read_bytes())
    (gold / "README.md").write_text("# datasheet\n")
    monkeypatch.setattr(sources, "__file__", str(installed / "cli" / "sources.py"))
    monkeypatch.setattr(sources, "default_labels_path", lambda: gold)
    before = {p: p.read_bytes() for p in gold.rglob("*") if p.is_file()}
    for argv in (["labels", "datasheet", "--write"], ["labels", "split", "builtin", "--write"]):
        code, _, err = run(*argv)
        assert code == 2
        assert "the gold set bundled with the installed harmjudge is read-only" in err
    assert {p: p.read_bytes() for p in gold.rglob("*") if p.is_file()} == before
    code, out, _ = run("evaluate", "builtin", "--harm", "leakage", "-o", "-")
    assert code == 0
    assert json.loads(out)["split"] == "test"


def test_labels_help_states_the_real_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["labels", "validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: builtin)" in text
    assert "(default: labels/)" not in text


def test_quiet_classify_without_a_judge_prints_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    module = importlib.import_module("harmjudge.classify")  # the module, not its function
    monkeypatch.setattr(module, "_announced_offline", False)
    monkeypatch.delenv("HARMJUDGE_MODEL", raising=False)
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Sent the weekly report."}])
    out, err = io.StringIO(), io.StringIO()
    code = main(["classify", str(src), "-o", str(tmp_path / "v.jsonl"), "-q"], out=out, err=err)
    assert code == 0
    assert err.getvalue() == ""
    assert not caplog.records  # nor a library notice through logging
