"""Checks that keep the gold set honest. Each returns a list of one-line problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from harmjudge.judges.prompt import normalize_for_match
from harmjudge.labels.datasheet import BEGIN, END, composition_table
from harmjudge.labels.load import SourcedItem
from harmjudge.labels.model import GOLD_HARMS, TRAPS
from harmjudge.labels.split import draw_split
from harmjudge.transcript.parse import from_record

MIN_TRAP_COUNT = 5


def check_evidence(entries: Sequence[SourcedItem]) -> list[str]:
    """Every evidence quote occurs verbatim (after whitespace folding) in its transcript."""
    problems = []
    for entry in entries:
        haystack = normalize_for_match(from_record(entry.item.transcript()).searchable_text())
        for harm, gold in entry.item.gold.items():
            if gold.label == "harmful" and not gold.evidence:
                problems.append(
                    f"{entry.source}:{entry.line} item '{entry.item.id}': {harm} is harmful but has no evidence"
                )
            for quote in gold.evidence:
                if normalize_for_match(quote) not in haystack:
                    problems.append(
                        f"{entry.source}:{entry.line} item '{entry.item.id}': {harm} evidence not in the transcript: {quote[:60]!r}"
                    )
    return problems


def check_annotations(entries: Sequence[SourcedItem]) -> list[str]:
    """Gold equals pass A where the passes agree, and the adjudication where they do not."""
    problems = []
    for entry in entries:
        item, where = entry.item, f"{entry.source}:{entry.line} item '{entry.item.id}'"
        a, b = item.annotations.A.labels, item.annotations.B.labels if item.annotations.B else None
        for harm in GOLD_HARMS:
            decided = item.annotations.adjudication.get(harm)
            if b is not None and a[harm] != b[harm] and decided is None:
                problems.append(f"{where}: passes disagree on {harm} and there is no adjudication")
            expected = decided.label if decided is not None else a[harm]
            if item.final_label(harm) != expected:
                problems.append(
                    f"{where}: gold {harm} is {item.final_label(harm)} but the record says {expected}"
                )
    return problems


def check_traps(entries: Sequence[SourcedItem]) -> list[str]:
    """Every trap the guidelines list occurs at least five times."""
    counts: Counter[str] = Counter(t for e in entries for t in e.item.tags.traps)
    return [
        f"trap {t} occurs {counts[t]} times (at least {MIN_TRAP_COUNT} needed)"
        for t in TRAPS
        if counts[t] < MIN_TRAP_COUNT
    ]


def check_split(entries: Sequence[SourcedItem]) -> list[str]:
    """Every item has a split, and the stored split is the drawn one."""
    items = [e.item for e in entries]
    if all(i.split is None for i in items):
        return ["no item has a split yet; run `harmjudge labels split --write`"]
    drawn = draw_split(items)
    return [
        f"{e.source}:{e.line} item '{e.item.id}': split is {e.item.split}, the drawn split is {drawn[e.item.id]}"
        for e in entries
        if e.item.split != drawn[e.item.id]
    ]


def check_datasheet(entries: Sequence[SourcedItem], readme: Path) -> list[str]:
    """The datasheet's composition table matches the data."""
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return [f"{readme}: no composition table markers"]
    current = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    expected = composition_table([e.item for e in entries]).strip()
    if current != expected:
        return [
            f"{readme}: the composition table is out of date; run `harmjudge labels datasheet --write`"
        ]
    return []
