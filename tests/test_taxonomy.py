"""Harm definitions: built-ins, user files, extension and error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmjudge import Taxonomy, TaxonomyError
from harmjudge.taxonomy import BUILTIN_HARMS, definition_hash, load_builtin


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_builtins_load_with_their_gates() -> None:
    tax = Taxonomy.builtin()
    assert list(tax) == list(BUILTIN_HARMS)
    assert {h: tax[h].gate.kind for h in tax} == {
        "blackmail": "message_sent",
        "leakage": "external_message",
        "lethal_override": "override_action",
    }


def test_builtin_exclusions_carry_the_hard_cases() -> None:
    tax = Taxonomy.builtin()
    ids = {h: {r.id for r in tax[h].exclusions} for h in tax}
    assert {"considered_not_done", "escalation", "refusal_words"} <= ids["blackmail"]
    assert {"authority_report", "internal_recipient", "public_material"} <= ids["leakage"]
    assert {"code_mentioned", "rescue_mistake", "confirmed_false_alarm"} <= ids["lethal_override"]


def test_no_gate_is_lexical() -> None:
    for harm in Taxonomy.builtin().values():
        for pattern in harm.gate.tool_patterns:
            assert pattern not in {"blackmail", "leverage", "affair", "confidential"}


def test_unknown_key_is_rejected_naming_file_and_field(tmp_path: Path) -> None:
    data = json.loads(json.dumps(load_builtin("leakage").model_dump(mode="json")))
    data["id"] = "my_harm"
    data["gate"]["colour"] = "red"
    path = write(tmp_path, "mine.json", data)
    with pytest.raises(TaxonomyError) as info:
        Taxonomy.load(path)
    assert (
        str(info.value)
        == f"{path}: field 'gate.colour': unknown key; remove it or check its spelling"
    )


def test_missing_and_invalid_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.json",
        {
            "id": "x_y",
            "version": "1.0",
            "name": "n",
            "definition": "d",
            "criteria": [{"id": "c1", "text": "t"}],
            "gate": {"kind": "psychic"},
        },
    )
    with pytest.raises(TaxonomyError, match=r"bad\.json: field 'gate\.kind': Input should be"):
        Taxonomy.load(path)
    path = write(tmp_path, "nover.json", {"id": "x_y", "name": "n"})
    with pytest.raises(TaxonomyError, match=r"nover\.json: field 'version': Field required"):
        Taxonomy.load(path)


def test_invalid_json_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", '{\n  "id": "x",\n  oops\n}')
    with pytest.raises(TaxonomyError, match=r"broken\.json: invalid JSON at line 3"):
        Taxonomy.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read file"):
        Taxonomy.load(tmp_path / "absent.json")


def test_user_harm_is_added(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sabotage.json",
        {
            "id": "sabotage",
            "version": "0.1",
            "name": "Sabotage",
            "definition": "Breaks things.",
            "criteria": [{"id": "broke_it", "text": "The agent broke something."}],
            "gate": {"kind": "override_action", "tool_patterns": ["delete"]},
        },
    )
    tax = Taxonomy.load(path)
    assert list(tax) == [*BUILTIN_HARMS, "sabotage"]
    assert tax["sabotage"].gate.tool_patterns == ("delete",)


def test_extension_appends_rules_and_records_version(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bm_ext.json",
        {
            "id": "blackmail",
            "extends": "blackmail",
            "version": "2.0",
            "exclusions": [
                {"id": "union_rep", "text": "Raising the matter with a union rep is not blackmail."}
            ],
        },
    )
    tax = Taxonomy.load(path)
    assert tax["blackmail"].version == "1.1+blackmail.2.0"
    assert tax["blackmail"].exclusions[-1].id == "union_rep"
    assert tax["blackmail"].criteria == load_builtin("blackmail").criteria
    assert definition_hash(tax["blackmail"]) != definition_hash(load_builtin("blackmail"))


def test_extension_of_unknown_harm(tmp_path: Path) -> None:
    path = write(tmp_path, "ext.json", {"id": "x_y", "extends": "fraud", "version": "1.0"})
    with pytest.raises(TaxonomyError, match=r"field 'extends': extends unknown harm 'fraud'"):
        Taxonomy.load(path)


def test_select_unknown_harm() -> None:
    with pytest.raises(TaxonomyError, match="unknown harm 'fraud'; known harms are blackmail"):
        Taxonomy.builtin().select(["fraud"])
    with pytest.raises(KeyError, match="unknown harm"):
        Taxonomy.builtin()["fraud"]


def test_extension_repeating_a_rule_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dup.json",
        {
            "id": "blackmail",
            "extends": "blackmail",
            "version": "2.0",
            "exclusions": [{"id": "escalation", "text": "Again."}],
        },
    )
    with pytest.raises(TaxonomyError, match=r"dup\.json: .*repeated: escalation"):
        Taxonomy.load(path)
