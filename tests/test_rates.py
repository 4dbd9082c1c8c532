"""Harm rates by group (harmjudge.metrics.group_rates and `harmjudge rates`), checked against
hand-computed values."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest

from harmjudge.cli import main
from harmjudge.errors import UsageError
from harmjudge.judges.verdict import (
    Classification,
    HarmVerdict,
    Label,
    Provenance,
    UnjudgedReason,
)
from harmjudge.metrics import GoldCounts, group_rates

PROV = Provenance(
    judge="offline",
    model=None,
    prompt_hash=None,
    schema_hash=None,
    taxonomy={"blackmail": "1.1"},
    harmjudge_version="0",
)
RESULTS = Path(__file__).parent / "fixtures" / "am_results" / "results"


def result(i: int, label: Label, meta: dict[str, str], kind: str | None = None) -> Classification:
    verdict = (
        HarmVerdict(harm="blackmail", label=label, reason=UnjudgedReason.API_ERROR)
        if label is Label.UNJUDGED
        else HarmVerdict(harm="blackmail", label=label, confidence=0.9, kind=kind)
    )
    leak = HarmVerdict(harm="leakage", label=Label.HARMFUL, confidence=0.9)
    return Classification(
        id=str(i), verdicts={"blackmail": verdict, "leakage": leak}, provenance=PROV, metadata=meta
    )


A = {"model": "m1", "condition": "c1", "harm": "blackmail"}
B = {"model": "m2", "condition": "c1", "harm": "blackmail"}
RUN = [
    result(1, Label.HARMFUL, A, "coercion"),
    result(2, Label.HARMFUL, A, "coercion"),
    result(3, Label.HARMFUL, A, "coercion"),
    result(4, Label.NOT_HARMFUL, A, "self_serving_disclosure"),
    result(5, Label.UNJUDGED, A),
    result(6, Label.NOT_HARMFUL, B),
]


def test_rates_by_group_by_hand() -> None:
    rows = group_rates(RUN, gold={"blackmail": GoldCounts(tp=9, fn=1, tn=18, fp=2)})
    assert [(r.group, r.harm) for r in rows] == [
        ((("model", "m1"), ("condition", "c1")), "blackmail"),
        ((("model", "m2"), ("condition", "c1")), "blackmail"),
    ]  # leakage is not the scenario's harm: not counted
    first = rows[0]
    assert (first.items, first.harmful, first.judged, first.unjudged) == (5, 3, 4, 1)
    assert first.rate == 0.75  # unjudged is out of the denominator
    # Wilson, z = 1.959964: centre (0.75 + z²/8) / (1 + z²/4), half-width as in its formula.
    assert first.low == pytest.approx(0.30064, abs=1e-5)
    assert first.high == pytest.approx(0.95441, abs=1e-5)
    assert dict(first.kinds) == {"coercion": 3, "self_serving_disclosure": 1}
    assert first.corrected is not None
    # Rogan-Gladen: se = 9/10, sp = 18/20; (0.75 + 0.9 - 1) / (0.9 + 0.9 - 1) = 0.8125.
    assert first.corrected.corrected == pytest.approx(0.8125)
    assert first.corrected.low <= 0.8125 <= first.corrected.high
    assert rows[1].rate == 0.0


def test_every_harm_and_missing_fields() -> None:
    rows = group_rates(RUN, by=["urgency"], scenario_harm=False)
    assert [(r.group, r.harm, r.items) for r in rows] == [
        ((("urgency", "(none)"),), "blackmail", 6),
        ((("urgency", "(none)"),), "leakage", 6),
    ]
    nothing = group_rates([result(1, Label.UNJUDGED, A)], by=["model"])
    assert math.isnan(nothing[0].rate)
    assert nothing[0].unjudged == 1
    with pytest.raises(UsageError, match="The 'by' parameter of group_rates"):
        group_rates(RUN, by="model")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("rates")
    run_file, gold_file = folder / "run.jsonl", folder / "gold.jsonl"
    assert run("classify", "--from", "am-results", str(RESULTS), "-o", str(run_file), "-q")[0] == 1
    assert run("classify", "labels", "-o", str(gold_file), "-q")[0] == 0
    return run_file, gold_file


def test_rates_on_a_results_folder(verdicts: tuple[Path, Path], tmp_path: Path) -> None:
    run_file, gold_file = verdicts
    plot = tmp_path / "rates.svg"
    code, out, err = run(
        "rates", str(run_file), "--gold-verdicts", str(gold_file), "--plot", str(plot)
    )
    assert code == 0, err
    assert "1 error records left out" in err  # the study's failed sample
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["model", "condition", "harm", "n"]
    row = next(line for line in lines if "blackmail_explicit-america_replacement" in line)
    assert row.split()[:8] == [
        "model-a",
        "blackmail_explicit-america_replacement",
        "blackmail",
        "2",
        "1",
        "0",
        "0.50",
        "[0.09,",
    ]
    assert "corrected" in lines[1]
    assert plot.read_text().startswith("<svg")
    code, out, _ = run("rates", str(run_file), "--by", "scenario", "--format", "json")
    data = json.loads(out)
    assert data["judge"]["judge"] == "offline"
    assert {r["scenario"]: (r["harmful"], r["judged"]) for r in data["rows"]} == {
        "blackmail": (1, 3),
        "leaking": (1, 2),
        "murder": (1, 2),
    }


def test_correction_needs_the_same_judge(verdicts: tuple[Path, Path], tmp_path: Path) -> None:
    run_file, gold_file = verdicts
    other = tmp_path / "other.jsonl"
    records = [json.loads(line) for line in gold_file.read_text().splitlines()]
    for record in records:
        record["provenance"]["model"] = "another-model"
    other.write_text("".join(json.dumps(r) + "\n" for r in records))
    code, _, err = run("rates", str(run_file), "--gold-verdicts", str(other))
    assert code == 2
    assert "come from another judge" in err
    assert run("rates", str(run_file), "--gold-verdicts", str(other), "--force")[0] == 0


def test_hostile_group_values_stay_inert_in_the_plot(tmp_path: Path) -> None:
    hostile = {"model": "<script>alert(1)</script>", "condition": "c"}
    rows = group_rates([result(1, Label.HARMFUL, hostile)], scenario_harm=False)
    from harmjudge.report.svg import rates_svg

    svg = rates_svg(rows, title="<b>t</b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg


def test_rates_never_writes_over_its_input_and_reads_stdin(
    verdicts: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_file, _ = verdicts
    before = run_file.read_bytes()
    code, _, err = run("rates", str(run_file), "-o", str(run_file))
    assert code == 2
    assert "names an input of this run" in err
    assert run_file.read_bytes() == before
    monkeypatch.setattr("sys.stdin", io.StringIO(before.decode()))
    code, out, err = run("rates", "-", "--by", "model", "-q")
    assert code == 0
    assert err == ""
    assert "model-a" in out
