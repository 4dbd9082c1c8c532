"""Rewrite gold files in place, line by line, keeping order and every other field as it is."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harmjudge.errors import InputError
from harmjudge.labels.model import GOLD_HARMS, KIND_HARM
from harmjudge.transcript.io import input_files

Updater = Callable[[dict[str, Any]], dict[str, Any]]


def rewrite_items(paths: Iterable[str | Path], update: Updater) -> int:
    """Apply ``update`` to every item's JSON object and write the files back atomically.

    Returns the number of items whose JSON changed.
    """
    changed = 0
    for path in input_files(paths):
        lines = path.read_text(encoding="utf-8").splitlines()
        out = []
        for line in lines:
            if not line.strip():
                out.append(line)
                continue
            data = json.loads(line)
            new = update(copy.deepcopy(data))
            changed += new != data
            out.append(json.dumps(new, ensure_ascii=False))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(out) + "\n")
        os.replace(tmp, path)
    return changed


def set_splits(splits: Mapping[str, str]) -> Updater:
    """An updater that stores each item's split."""

    def update(data: dict[str, Any]) -> dict[str, Any]:
        data["split"] = splits[data["id"]]
        return data

    return update


def add_pass(name: str, annotator: str, records: Mapping[str, Mapping[str, Any]]) -> Updater:
    """An updater that stores an annotation pass (``{"labels": {...}, "notes": "..."}`` by id).

    A record with a ``kind`` key (the blind passes' blackmail kind, ``null`` when no person's
    secret is involved) is stored as the pass's ``kinds``. Every item must have a record; a
    missing one is an :class:`InputError`.
    """

    def update(data: dict[str, Any]) -> dict[str, Any]:
        record = records.get(data["id"])
        if record is None:
            raise InputError(f"pass {name} has no labels for this item", item_id=data["id"])
        labels = {h: record["labels"][h] for h in GOLD_HARMS}
        entry: dict[str, Any] = {"annotator": annotator, "labels": labels}
        if "kind" in record:
            entry["kinds"] = {KIND_HARM: record["kind"]} if record["kind"] else {}
        entry["notes"] = record.get("notes", "")
        data.setdefault("annotations", {})[name] = entry
        return data

    return update


@dataclass(frozen=True, kw_only=True)
class ReviewDecision:
    """One line of a report's exported review decisions."""

    item_id: str
    harm: str
    decision: str
    note: str
    gold_label: str
    judge: str
    judge_label: str | None
    judge_rationale: str
    judge_evidence: tuple[str, ...]


def read_review(path: str | Path) -> tuple[list[ReviewDecision], list[InputError]]:
    """Read exported review decisions; a bad line is an error and the rest is read."""
    decisions: list[ReviewDecision] = []
    errors: list[InputError] = []
    source = str(path)
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            decision = ReviewDecision(
                item_id=str(data["id"]),
                harm=str(data["harm"]),
                decision=str(data["decision"]),
                note=str(data.get("note", "")),
                gold_label=str(data["gold_label"]),
                judge=str(data.get("judge", "judge")),
                judge_label=data.get("judge_label"),
                judge_rationale=str(data.get("judge_rationale", "")),
                judge_evidence=tuple(str(q) for q in data.get("judge_evidence", [])),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            errors.append(InputError(f"not a review decision ({exc})", source=source, line=number))
            continue
        if decision.decision not in ("gold", "judge", "unclear"):
            errors.append(
                InputError(
                    f"decision must be gold, judge or unclear; got {decision.decision!r}",
                    source=source,
                    line=number,
                    item_id=decision.item_id,
                )
            )
            continue
        if decision.decision == "judge" and decision.judge_label not in ("harmful", "not_harmful"):
            errors.append(
                InputError(
                    f"the judge gave no label to agree with ({decision.judge_label!r})",
                    source=source,
                    line=number,
                    item_id=decision.item_id,
                )
            )
            continue
        if (
            decision.decision == "judge"
            and decision.judge_label == "harmful"
            and not decision.judge_evidence
        ):
            errors.append(
                InputError(
                    "a harmful adjudication needs evidence, and the judge quoted none",
                    source=source,
                    line=number,
                    item_id=decision.item_id,
                )
            )
            continue
        decisions.append(decision)
    return decisions, errors


def apply_review(decisions: Sequence[ReviewDecision], reviewer: str) -> Updater:
    """An updater that records review decisions as adjudications.

    ``gold`` confirms the gold label; ``judge`` adopts the judge's label, rationale and evidence
    as the new gold label; ``unclear`` changes nothing. The note says who decided and why.
    """
    by_item: dict[str, list[ReviewDecision]] = {}
    for d in decisions:
        if d.decision != "unclear":
            by_item.setdefault(d.item_id, []).append(d)

    def update(data: dict[str, Any]) -> dict[str, Any]:
        for d in by_item.get(data["id"], []):
            label = d.gold_label if d.decision == "gold" else str(d.judge_label)
            why = d.note or (
                "confirmed the gold label" if d.decision == "gold" else "agreed with the judge"
            )
            data.setdefault("annotations", {}).setdefault("adjudication", {})[d.harm] = {
                "label": label,
                "note": f"review by {reviewer} against judge {d.judge}: {why}",
            }
            if d.decision == "judge" and label != data["gold"][d.harm]["label"]:
                data["gold"][d.harm] = {
                    "label": label,
                    "rationale": d.note or d.judge_rationale or "Adopted from the judge on review.",
                    "evidence": list(d.judge_evidence),
                }
        return data

    return update
