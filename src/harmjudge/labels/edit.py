"""Rewrite gold files in place, line by line, keeping order and every other field as it is."""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from harmjudge.errors import InputError
from harmjudge.labels.model import GOLD_HARMS
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

    Every item must have a record; a missing one is an :class:`InputError`.
    """

    def update(data: dict[str, Any]) -> dict[str, Any]:
        record = records.get(data["id"])
        if record is None:
            raise InputError(f"pass {name} has no labels for this item", item_id=data["id"])
        labels = {h: record["labels"][h] for h in GOLD_HARMS}
        data.setdefault("annotations", {})[name] = {
            "annotator": annotator,
            "labels": labels,
            "notes": record.get("notes", ""),
        }
        return data

    return update
