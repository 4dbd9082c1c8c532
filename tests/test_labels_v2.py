"""Gold set v2: versions, blackmail kinds, patterns, three passes, per-version splits."""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harmjudge.cli import main
from harmjudge.labels import check as checks
from harmjudge.labels import draw_split, load_gold
from harmjudge.labels.datasheet import agreement_table, composition_table, pass_alpha
from harmjudge.labels.edit import add_pass, rewrite_items
from harmjudge.labels.model import GOLD_HARMS, GoldItem
from harmjudge.labels.realism import agent_output_median, texture, visible_prose
from harmjudge.labels.split import stratum

LABELS = Path(__file__).resolve().parent.parent / "labels"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def gold() -> list:
    return load_gold([LABELS / "items"])


def _data(gold: list, ident: str) -> dict[str, Any]:
    item = next(e.item for e in gold if e.item.id == ident)
    return json.loads(item.model_dump_json(exclude_none=True))


def test_every_item_has_a_version_and_three_passes(gold: list) -> None:
    counts = Counter(e.item.version for e in gold)
    assert counts == {"v1": 330, "v2": 240}
    assert all(set(e.item.annotations.passes()) == {"A", "B", "C"} for e in gold)


def test_kind_must_agree_with_the_label(gold: list) -> None:
    data = _data(gold, "v2-w1-001")
    assert data["gold"]["blackmail"]["kind"] == "coercion"
    data["gold"]["blackmail"]["kind"] = "self_serving_disclosure"
    with pytest.raises(ValidationError, match="harmful exactly when the kind is coercion"):
        GoldItem.model_validate(data)


def test_only_blackmail_has_a_kind(gold: list) -> None:
    data = _data(gold, "v2-w1-001")
    data["gold"]["leakage"]["kind"] = "none"
    with pytest.raises(ValidationError, match="only blackmail has a kind"):
        GoldItem.model_validate(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("version",), "v3"),
        (("tags", "patterns"), ["made_up_pattern"]),
        (("annotations", "C", "kinds"), {"blackmail": "extortion"}),
    ],
)
def test_new_fields_are_checked(gold: list, path: tuple[str, ...], value: object) -> None:
    data = _data(gold, "v2-w1-001")
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        GoldItem.model_validate(data)


def test_version_is_required(gold: list) -> None:
    data = _data(gold, "bm-a-001")
    del data["version"]
    with pytest.raises(ValidationError, match="version"):
        GoldItem.model_validate(data)


def _flip(label: str) -> str:
    return "harmful" if label == "not_harmful" else "not_harmful"


def test_checks_catch_pass_c_and_kind_disagreements(tmp_path: Path) -> None:
    copy = tmp_path / "labels"
    shutil.copytree(LABELS, copy)

    def tamper(data: dict[str, Any]) -> dict[str, Any]:
        c = data["annotations"]["C"]
        if data["id"] == "v2-w2-003":
            c["labels"]["lethal_override"] = _flip(c["labels"]["lethal_override"])
        if data["id"] == "bm-a-001":
            c["kinds"] = {"blackmail": "none"}
        if data["id"] == "lk-a-021":  # has a kind adjudication: the gold must follow it
            data["gold"]["blackmail"]["kind"] = "principled_report"
        if data["id"] == "v2-w3-001":
            del data["annotations"]["C"]
        return data

    rewrite_items([copy / "items"], tamper)
    code, _, err = run("labels", "validate", str(copy))
    assert code == 1
    assert "v2-w2-003': passes disagree on lethal_override and there is no adjudication" in err
    assert "bm-a-001': pass C differs from the gold kind coercion" in err
    assert "lk-a-021': gold kind is principled_report but the adjudication says None" in err
    assert "v2-w3-001': no annotation pass C" in err


def test_an_adjudication_settles_a_disagreement(gold: list) -> None:
    data = _data(gold, "v2-w2-003")
    c = data["annotations"]["C"]["labels"]
    c["leakage"] = _flip(c["leakage"])
    item = GoldItem.model_validate(data)
    entry = checks.SourcedItem(item=item, source="x", line=1)
    assert checks.check_annotations([entry]) != []
    data["annotations"]["adjudication"] = {
        "leakage": {"label": data["gold"]["leakage"]["label"], "note": "read it; A and B right"}
    }
    entry = checks.SourcedItem(item=GoldItem.model_validate(data), source="x", line=1)
    assert checks.check_annotations([entry]) == []


def test_v1_split_is_frozen_and_v2_is_half_and_half(gold: list) -> None:
    items = [e.item for e in gold]
    drawn = draw_split(items)
    v2 = [i for i in items if i.version == "v2"]
    assert Counter(drawn[i.id] for i in v2) == {"dev": 120, "test": 120}
    strata: dict[tuple[str, ...], Counter[str]] = {}
    for item in v2:
        strata.setdefault(stratum(item), Counter())[drawn[item.id]] += 1
    assert all(abs(c["dev"] - c["test"]) <= 1 for c in strata.values())
    assert len(strata) > 12  # label, kind and pattern all take part
    v1_alone = draw_split([i for i in items if i.version == "v1"])
    assert all(drawn[k] == v for k, v in v1_alone.items())


def test_union_test_split_has_45_positives_per_harm(gold: list) -> None:
    assert checks.check_test_positives(gold) == []
    v1_only = [e for e in gold if e.item.version == "v1"]
    problems = checks.check_test_positives(v1_only)
    assert len(problems) == 3
    assert "(at least 45 needed)" in problems[0]


def test_datasheet_reports_three_passes(gold: list) -> None:
    items = [e.item for e in gold]
    header = agreement_table(items)[0]
    assert "κ A–B" in header
    assert "κ A–C" in header
    assert "κ B–C" in header
    assert "Krippendorff's α" in header
    for harm in GOLD_HARMS:
        assert pass_alpha(items, harm) == pytest.approx(1.0)
    table = composition_table(items)
    for expected in ("v2 · test", "`self_serving_disclosure`", "`true_false_alarm`", "zenith"):
        assert expected in table
    assert "| lk-a-021 | blackmail kind | no kind |" in table


def test_pass_alpha_sees_a_disagreement(gold: list) -> None:
    items = []
    for entry in gold[:60]:
        data = json.loads(entry.item.model_dump_json(exclude_none=True))
        if data["gold"]["blackmail"]["label"] == "harmful":
            data["annotations"]["C"]["labels"]["blackmail"] = "not_harmful"
            data["annotations"]["adjudication"] = {"blackmail": {"label": "harmful", "note": "x"}}
        items.append(GoldItem.model_validate(data))
    assert pass_alpha(items, "blackmail") < 0.9


def test_add_pass_records_kinds(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    shutil.copy(LABELS / "items" / "bm-a.jsonl", path)
    first = json.loads(path.read_text().splitlines()[0])
    labels = dict.fromkeys(GOLD_HARMS, "not_harmful")
    records = {first["id"]: {"labels": labels, "kind": "none", "notes": "n"}}
    other = {"labels": labels, "kind": None}
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    records.update(dict.fromkeys(ids[1:], other))
    rewrite_items([path], add_pass("D", "x", records))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["annotations"]["D"]["kinds"] == {"blackmail": "none"}
    assert lines[1]["annotations"]["D"]["kinds"] == {}


def test_realism_check_prints_v2_beside_real_outputs(gold: list) -> None:
    code, out, _ = run("labels", "realism", str(LABELS))
    assert code == 0
    header, _, *rows = out.splitlines()
    assert header == "| figure | real outputs (issue 12) | gold v1 | gold v2 |"
    agent = next(r for r in rows if r.startswith("| agent output, median characters |"))
    assert agent.split(" | ")[1] == "~5,250"
    v2 = [e.item for e in gold if e.item.version == "v2"]
    assert agent_output_median(v2) >= 4000
    assert agent_output_median([e.item for e in gold if e.item.version == "v1"]) < 2000


def test_realism_texture_of_one_item(gold: list) -> None:
    item = next(e.item for e in gold if e.item.id == "v2-w1-001")
    measured = texture(item)
    assert measured.emails >= 5
    assert measured.prose_chars is not None
    assert 0 < measured.prose_chars < measured.agent_chars
    assert "<tool_use:" not in visible_prose(item.text or "")
