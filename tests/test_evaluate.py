"""The evaluation engine and its commands, end to end on the bundled gold set."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from harmjudge.cli import main
from harmjudge.labels import load_gold
from harmjudge.metrics.binary import UndefinedMetricWarning
from harmjudge.metrics.evaluate import evaluate, slice_values
from harmjudge.metrics.verdicts import read_verdicts


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def gold() -> list:
    return [e.item for e in load_gold()]


def test_evaluate_is_the_main_job(tmp_path: Path) -> None:
    output = tmp_path / "evaluation.json"
    code, out, err = run("evaluate", "-o", str(output), "--resamples", "200")
    assert code == 0
    assert (
        "offline · blackmail · test split · gold v1 + v2: 287 gold items, 287 scored, 0 unjudged"
        in out
    )
    assert "always harmful" in out
    assert "  by version:" in out
    result = json.loads(output.read_text())
    assert result["split"] == "test"
    assert result["version"] == "all"
    recall = result["judges"]["offline"]["overall"]["leakage"]["metrics"]["recall"]
    assert recall["low"] <= recall["value"] <= recall["high"]
    assert set(result["judges"]["offline"]["slices"]["blackmail"]) == {
        "scenario",
        "format",
        "difficulty",
        "organisation",
        "trap",
        "positive",
        "pattern",
        "kind",
        "version",
    }
    assert set(result["judges"]["offline"]["slices"]["blackmail"]["version"]) == {"v1", "v2"}
    kinds = set(result["judges"]["offline"]["slices"]["blackmail"]["kind"])
    assert {"coercion", "self_serving_disclosure", "principled_report", "none"} <= kinds
    assert (
        "hybrid_disclosure_message" in result["judges"]["offline"]["slices"]["blackmail"]["pattern"]
    )
    assert set(result["judges"]["offline"]["layers"]["blackmail"]) == {
        "gate",
        "verdict",
        "gate+verdict",
    }
    humans = result["annotators"]["blackmail"]
    assert humans["pairwise_kappa"] == {"A-B": 1.0, "A-C": 1.0, "B-C": 1.0}
    alt = humans["alt_test"]["offline"]
    assert [a["annotator"] for a in alt["annotators"]] == ["A", "B", "C"]
    assert "alt-test (offline): passes" in out or "alt-test (offline): fails" in out
    assert f"wrote the full result to {output}" in err


def test_evaluate_scores_one_version(tmp_path: Path) -> None:
    output = tmp_path / "evaluation.json"
    code, out, _ = run(
        "evaluate", "--version", "v1", "--harm", "leakage", "-o", str(output), "--resamples", "50"
    )
    assert code == 0
    assert "offline · leakage · test split · gold v1: 167 gold items" in out
    assert "by version" not in out
    result = json.loads(output.read_text())
    assert result["version"] == "v1"
    assert "version" not in result["judges"]["offline"]["slices"]["leakage"]


def test_evaluate_rejects_an_unknown_version(gold: list) -> None:
    with pytest.raises(ValueError, match="The 'version' parameter of evaluate must be one of"):
        evaluate(gold, [], version="v3")


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_imported_verdicts_with_field_mapping_and_unjudged(tmp_path: Path, gold: list) -> None:
    test_items = [i for i in gold if i.split == "test"]
    rows = []
    for n, item in enumerate(test_items):
        verdict = (
            "ERROR" if n < 5 else ("yes" if item.final_label("leakage") == "harmful" else "no")
        )
        rows.append(
            {"sample": item.id, "category": "leakage", "out": {"verdict": verdict, "p": 0.9}}
        )
    rows.append({"sample": "not-in-gold", "category": "leakage", "out": {"verdict": "yes"}})
    path = write_rows(tmp_path / "other.jsonl", rows)
    table = read_verdicts(
        [path],
        name="other",
        fields={"id": "sample", "harm": "category", "label": "out.verdict", "confidence": "out.p"},
        labels={"error": "unjudged"},
    )
    assert not table.errors
    result = evaluate(gold, [table], harms=["leakage"], n_resamples=100)
    overall = result.judges["other"].overall["leakage"]
    assert overall.coverage.unjudged == 5
    assert overall.coverage.no_gold == 1
    assert overall.coverage.scored == len(test_items) - 5
    assert overall.metrics["precision"].value == 1.0
    assert overall.confusion.fp == overall.confusion.fn == 0


def test_bad_verdict_lines_are_reported_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(
        '{"id": "a", "harm": "leakage", "label": "harmful"}\nnot json\n{"id": "b", "harm": "leakage", "label": "maybe"}\n{"id": "a", "harm": "leakage", "label": "harmful"}\n{"id": "c", "harm": "leakage"}\n'
    )
    table = read_verdicts([path])
    assert list(table.rows) == [("a", "leakage")]
    assert [str(e) for e in table.errors] == [
        f"{path}:2: Expecting value: line 1 column 1 (char 0)",
        f"{path}:3 item 'b': label 'maybe' is not mapped; known labels: 0, 1, false, harmful, no, not_harmful, true, unjudged, yes (map more with labels=)",
        f"{path}:4 item 'a': duplicate verdict for harm 'leakage'",
        f"{path}:5 item 'c': missing field 'label' (map fields with fields=)",
    ]


def test_two_judges_side_by_side_with_mcnemar(tmp_path: Path, gold: list) -> None:
    test_items = [i for i in gold if i.split == "test"]
    always = write_rows(
        tmp_path / "always.jsonl",
        [{"id": i.id, "harm": "lethal_override", "label": "harmful"} for i in test_items],
    )
    output = tmp_path / "e.json"
    code, out, err = run(
        "evaluate",
        "--judge",
        "offline",
        "--verdicts",
        f"always={always}",
        "--harm",
        "lethal_override",
        "--resamples",
        "100",
        "-o",
        str(output),
    )
    assert code == 0
    assert "McNemar · lethal_override · always vs offline" in out
    assert "harmjudge: note: mcc is undefined for harm 'lethal_override'" in err
    result = json.loads(output.read_text())
    test = result["comparisons"]["lethal_override"]["always vs offline"]
    assert test["p_value"] < 0.001
    assert (
        result["judges"]["always"]["overall"]["lethal_override"]["metrics"]["recall"]["value"]
        == 1.0
    )
    assert "layers" not in result["judges"]["always"] or not result["judges"]["always"]["layers"]


def test_undefined_metrics_warn_and_can_be_silenced(tmp_path: Path, gold: list) -> None:
    test_items = [i for i in gold if i.split == "test"]
    never = write_rows(
        tmp_path / "never.jsonl",
        [{"id": i.id, "harm": "blackmail", "label": "not_harmful"} for i in test_items],
    )
    table = read_verdicts([never], name="never")
    with pytest.warns(UndefinedMetricWarning) as caught:
        evaluate(gold, [table], harms=["blackmail"], n_resamples=50, slices=())
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("precision is undefined for harm 'blackmail'") for m in messages)
    assert any(m.startswith("mcc is undefined for harm 'blackmail'") for m in messages)
    quiet = evaluate(
        gold, [table], harms=["blackmail"], n_resamples=50, slices=(), zero_division=0.0
    )
    assert quiet.judges["never"].overall["blackmail"].metrics["precision"].value == 0.0
    assert "precision" in quiet.judges["never"].overall["blackmail"].undefined


def test_slices_cover_every_item(gold: list) -> None:
    item = next(i for i in gold if i.tags.traps)
    assert slice_values(item, "trap") == tuple(item.tags.traps)
    plain = next(i for i in gold if not i.tags.positives)
    assert slice_values(plain, "positive") == ("(none)",)


def test_calibrate_command(tmp_path: Path) -> None:
    code, out, _ = run("calibrate", "--harm", "leakage", "--target-precision", "0.8")
    assert code == 0
    assert "offline · leakage · test split: ECE" in out
    assert "threshold for precision >= 0.8" in out


def test_correct_command(tmp_path: Path, gold: list) -> None:
    run_file = write_rows(
        tmp_path / "run.jsonl",
        [
            {
                "id": f"r{n}",
                "harm": "leakage",
                "label": "harmful" if n < 30 else ("unjudged" if n < 35 else "not_harmful"),
            }
            for n in range(100)
        ],
    )
    code, out, _ = run(
        "correct", str(run_file), "--judge", "offline", "--harm", "leakage", "--resamples", "200"
    )
    assert code == 0
    assert out.startswith(
        f"judge: offline (judge offline); run: {run_file}\n"
        "leakage: observed 0.316 (30/95 judged, 5 unjudged); sensitivity 0.81, specificity 0.99 on test; corrected "
    )


def test_evaluate_runs_a_model_judge_through_the_batch_engine(
    tmp_path: Path, fake_openai: Any
) -> None:
    from harmjudge.testing.server import tool_call

    clear = {
        "findings": [
            {
                "harm": "leakage",
                "evidence": [],
                "rationale": "r",
                "label": "not_harmful",
                "confidence": 0.9,
            }
        ]
    }
    fake_openai.default = tool_call(None, clear)
    output = tmp_path / "e.json"
    code, out, _ = run(
        "evaluate",
        "--judge",
        "m",
        "--base-url",
        fake_openai.base_url,
        "--harm",
        "leakage",
        "--resamples",
        "50",
        "--slice",
        "format",
        "--version",
        "v1",
        "-o",
        str(output),
    )
    assert code == 0
    assert len(fake_openai.requests) == 167
    result = json.loads(output.read_text())["judges"]["m"]["overall"]["leakage"]
    assert result["coverage"]["scored"] == 167
    assert result["metrics"]["recall"]["value"] == 0.0
    assert "m · leakage · test split" in out


def test_kinds_are_measured_against_the_gold_kinds(gold: list) -> None:
    from harmjudge.metrics import kind_agreement
    from harmjudge.metrics.verdicts import VerdictRow, VerdictTable

    with_kind = [i for i in gold if i.gold["blackmail"].kind is not None][:4]
    assert len(with_kind) == 4
    truth = [i.gold["blackmail"].kind for i in with_kind]
    other = "none" if truth[1] != "none" else "principled_report"
    rows = {
        (with_kind[0].id, "blackmail"): VerdictRow(label="harmful", kind=truth[0]),
        (with_kind[1].id, "blackmail"): VerdictRow(label="not_harmful", kind=other),
        (with_kind[2].id, "blackmail"): VerdictRow(label="not_harmful"),  # no kind given
        (with_kind[3].id, "blackmail"): VerdictRow(label="unjudged", kind=truth[3]),
    }
    result = kind_agreement("blackmail", with_kind, VerdictTable(name="j", rows=rows))
    assert result is not None
    assert (result.items, result.given, result.agree) == (4, 2, 1)
    assert result.accuracy == 0.5  # over the items where a kind was named
    assert result.confusion[truth[1]][other] >= 1
    assert sum(result.confusion[t].get("(not given)", 0) for t in set(truth)) == 2
    assert kind_agreement("leakage", with_kind, VerdictTable(name="j", rows=rows)) is None


def test_evaluate_reports_the_offline_judges_kinds(tmp_path: Path) -> None:
    code, out, _ = run(
        "evaluate", "--split", "dev", "--harm", "blackmail", "-o", str(tmp_path / "e.json")
    )
    assert code == 0
    assert "  kinds: " in out
    data = json.loads((tmp_path / "e.json").read_text())
    kinds = data["judges"]["offline"]["kinds"]["blackmail"]
    assert kinds["items"] > 0
    assert 0 < kinds["given"] <= kinds["items"]
