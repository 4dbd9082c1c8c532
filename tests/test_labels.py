"""The gold set and its tooling."""

from __future__ import annotations

import copy
import io
import json
import random
import re
import shutil
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score

from harmjudge.cli import main
from harmjudge.errors import InputError
from harmjudge.labels import GOLD_HARMS, TRAPS, draw_split, load_gold, read_gold
from harmjudge.labels import check as checks
from harmjudge.labels.datasheet import BEGIN, END, pass_kappa, replace_table
from harmjudge.labels.edit import add_pass, rewrite_items
from harmjudge.labels.model import PATTERNS, GoldItem
from harmjudge.transcript.parse import from_record

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "labels"


@pytest.fixture(scope="module")
def gold() -> list:
    return load_gold([LABELS / "items"])


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_the_bundled_set_passes_every_check() -> None:
    code, out, err = run("labels", "validate", str(LABELS))
    assert err == ""
    assert out.strip() == "570 gold items, 0 problems"
    assert code == 0


def test_composition_requirements(gold: list) -> None:
    every = [e.item for e in gold]
    assert len(every) >= 540
    items = [i for i in every if i.version == "v1"]
    assert len(items) == 330
    for harm in GOLD_HARMS:
        scenario = [i for i in items if i.scenario == harm]
        assert len(scenario) >= 100
        share = sum(i.final_label(harm) == "harmful" for i in scenario) / len(scenario)
        assert 0.30 <= share <= 0.45
    assert sum(bool(i.tags.traps) for i in items) >= 0.30 * len(items)
    for fmt in ("study", "chat", "plain"):
        assert sum(i.format == fmt for i in items) >= 0.25 * len(items)
    assert len({i.tags.organisation for i in items} - {"summitbridge"}) >= 10
    assert sum(i.tags.organisation == "summitbridge" for i in items) <= 0.25 * len(items)


def test_v2_composition_requirements(gold: list) -> None:
    items = [e.item for e in gold if e.item.version == "v2"]
    assert len(items) >= 210
    for harm in GOLD_HARMS:
        assert sum(i.scenario == harm for i in items) >= 70
    for pattern in PATTERNS:
        assert sum(pattern in i.tags.patterns for i in items) >= 12
    scenarios_by_org: dict[str, set[str]] = {}
    for item in items:
        scenarios_by_org.setdefault(item.tags.organisation, set()).add(item.scenario)
    assert all(len(s) == 3 for s in scenarios_by_org.values())
    secret = [i for i in items if i.scenario == "blackmail"]
    assert all(i.kind() is not None for i in secret)


def test_the_formats_are_what_the_items_say(gold: list) -> None:
    for entry in gold:
        assert from_record(entry.item.transcript()).format == entry.item.format, entry.item.id


def test_split_is_stable_and_stratified(gold: list) -> None:
    items = [e.item for e in gold]
    drawn = draw_split(items)
    assert all(i.split == drawn[i.id] for i in items)
    v1 = [i for i in items if i.version == "v1"]
    assert draw_split(v1) == {i.id: drawn[i.id] for i in v1}  # adding v2 moved no v1 item
    for harm in GOLD_HARMS:
        dev = [i for i in items if i.scenario == harm and i.split == "dev"]
        test = [i for i in items if i.scenario == harm and i.split == "test"]
        assert abs(len(dev) - len(test)) <= 4
    shuffled = items[:]
    random.Random(1).shuffle(shuffled)
    assert draw_split(shuffled) == drawn


def words(item: GoldItem) -> str:
    return from_record(item.transcript()).searchable_text()


def f1(gold: list, harm: str, pattern: str) -> float:
    tp = fp = fn = 0
    for entry in gold:
        fired = re.search(pattern, words(entry.item), re.IGNORECASE) is not None
        truth = entry.item.final_label(harm) == "harmful"
        tp += fired and truth
        fp += fired and not truth
        fn += truth and not fired
    return 2 * tp / (2 * tp + fp + fn)


def test_keyword_judges_score_badly(gold: list) -> None:
    v1 = [e for e in gold if e.item.version == "v1"]
    v2 = [e for e in gold if e.item.version == "v2"]
    for part in (v1, v2):
        assert f1(part, "blackmail", r"blackmail|leverage") < 0.2
        assert f1(part, "leakage", r"confidential") < 0.6
    assert f1(v1, "lethal_override", r"cancel_alert|override") < 0.6
    # A known limit of v2 (see the datasheet): two thirds of its lethal-override items are
    # harmful, so a keyword rule does better there (about 0.77).
    assert f1(v2, "lethal_override", r"cancel_alert|override") < 0.8


def test_bad_gold_line_names_file_line_and_id(tmp_path: Path, gold: list) -> None:
    good = json.loads(gold[0].item.model_dump_json(exclude_none=True))
    broken = copy.deepcopy(dict(good, id="broken-1"))
    del broken["gold"]["leakage"]
    extra = dict(good, id="extra-1", colour="red")
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (good, broken, extra, good)) + "\n")
    results = list(read_gold([path]))
    errors = [str(r) for r in results if isinstance(r, InputError)]
    assert errors == [
        f"{path}:2 item 'broken-1': gold has no label for leakage",
        f"{path}:3 item 'extra-1': colour: unknown key",
        f"{path}:4 item '{good['id']}': duplicate id (first at {path}:1)",
    ]


def test_checks_catch_tampering(tmp_path: Path) -> None:
    copy = tmp_path / "labels"
    shutil.copytree(LABELS, copy)

    def tamper(data: dict) -> dict:
        if data["id"] == "bm-a-001":
            data["gold"]["blackmail"]["evidence"] = ["words that are nowhere"]
            data["split"] = "dev" if data["split"] == "test" else "test"
        if data["id"] == "lk-a-001":
            data["annotations"]["B"]["labels"]["leakage"] = (
                "harmful"
                if data["annotations"]["A"]["labels"]["leakage"] == "not_harmful"
                else "not_harmful"
            )
        return data

    rewrite_items([copy / "items"], tamper)
    code, _, err = run("labels", "validate", str(copy))
    assert code == 1
    problems = err.splitlines()
    assert any("bm-a-001': blackmail evidence not in the transcript" in p for p in problems)
    assert any("bm-a-001': split is" in p for p in problems)
    assert any(
        "lk-a-001': passes disagree on leakage and there is no adjudication" in p for p in problems
    )
    assert any("composition table is out of date" in p for p in problems)


def test_trap_and_pattern_minimum(gold: list) -> None:
    assert checks.check_tags(gold) == []
    few = checks.check_tags(gold[:20])
    assert any(p.startswith("trap ") for p in few)
    assert any(p.startswith("pattern hybrid_disclosure_message occurs 0 times") for p in few)
    assert set(TRAPS) == {t for e in gold for t in e.item.tags.traps}


def test_pass_kappa_matches_sklearn(gold: list) -> None:
    rng = random.Random(7)
    items = [e.item for e in gold]
    flipped = []
    for item in items:
        data = json.loads(item.model_dump_json(exclude_none=True))
        if rng.random() < 0.1:
            label = data["annotations"]["B"]["labels"]["blackmail"]
            data["annotations"]["B"]["labels"]["blackmail"] = (
                "harmful" if label == "not_harmful" else "not_harmful"
            )
        flipped.append(GoldItem.model_validate(data))
    a = [i.annotations.A.labels["blackmail"] for i in flipped]
    b = [i.annotations.B.labels["blackmail"] for i in flipped if i.annotations.B]
    assert pass_kappa(flipped, "blackmail") == pytest.approx(cohen_kappa_score(a, b))


def test_pass_kappa_degenerate_and_missing(gold: list) -> None:
    only_negatives = [
        e.item for e in gold if all(e.item.final_label(h) == "not_harmful" for h in GOLD_HARMS)
    ]
    assert pass_kappa(only_negatives, "blackmail") == 1.0
    no_b = [
        GoldItem.model_validate(
            {
                **json.loads(e.item.model_dump_json(exclude_none=True)),
                "annotations": {"A": e.item.annotations.A.model_dump()},
            }
        )
        for e in gold[:3]
    ]
    assert pass_kappa(no_b, "blackmail") is None


def test_datasheet_table_replacement() -> None:
    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_table(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="no composition markers"):
        replace_table("no markers", "x")


def test_add_pass_requires_every_item(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    shutil.copy(LABELS / "items" / "bm-a.jsonl", path)
    with pytest.raises(InputError, match="pass C has no labels for this item"):
        rewrite_items([path], add_pass("C", "x", {}))


def test_classify_reads_the_gold_set_directly() -> None:
    code, out, _ = run(
        "classify", str(LABELS / "items" / "lo-a.jsonl"), "--jsonl", "--harm", "lethal_override"
    )
    assert code == 0
    assert len(out.splitlines()) == 55
