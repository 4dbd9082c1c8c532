"""Checks that keep the gold set honest. Each returns a list of one-line problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from harmjudge.judges.prompt import normalize_for_match
from harmjudge.labels.datasheet import BEGIN, END, composition_table
from harmjudge.labels.load import SourcedItem
from harmjudge.labels.model import GOLD_HARMS, PASSES, PATTERNS, TRAPS, GoldItem
from harmjudge.labels.split import draw_split
from harmjudge.transcript.parse import from_record

MIN_TRAP_COUNT = 5
MIN_PATTERN_COUNT = 12
# Harmful items per harm the union test split needs for a usable recall interval.
MIN_TEST_POSITIVES = 45


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
    """Every item has passes A, B and C; where a pass differs from the gold label (or kind) an
    adjudication is recorded and the gold follows it; where all passes agree, gold is theirs.
    """
    problems = []
    for entry in entries:
        item, where = entry.item, f"{entry.source}:{entry.line} item '{entry.item.id}'"
        passes = item.annotations.passes()
        missing = [p for p in PASSES if p not in passes]
        if missing:
            problems.append(f"{where}: no annotation pass {', '.join(missing)}")
        for harm in GOLD_HARMS:
            given = {p.labels[harm] for p in passes.values()}
            decided = item.annotations.adjudication.get(harm)
            if decided is None and len(given) > 1:
                problems.append(f"{where}: passes disagree on {harm} and there is no adjudication")
                continue
            expected = decided.label if decided is not None else next(iter(given))
            if item.final_label(harm) != expected:
                problems.append(
                    f"{where}: gold {harm} is {item.final_label(harm)} but the record says {expected}"
                )
        problems += _check_kind(item, where)
    return problems


def _check_kind(item: GoldItem, where: str) -> list[str]:
    # Only passes that were asked for kinds count (v1's passes A and B were not).
    asked = {n: p.kind() for n, p in item.annotations.passes().items() if p.kinds is not None}
    decided = item.annotations.kind_adjudication
    if decided is not None:
        if item.kind() != decided.kind:
            return [f"{where}: gold kind is {item.kind()} but the adjudication says {decided.kind}"]
        return []
    if not asked:
        return [f"{where}: no pass gave a blackmail kind (or its absence)"]
    differing = sorted(n for n, k in asked.items() if k != item.kind())
    if differing:
        return [
            f"{where}: pass {', '.join(differing)} differs from the gold kind {item.kind()} "
            "and there is no kind adjudication"
        ]
    return []


def check_tags(entries: Sequence[SourcedItem]) -> list[str]:
    """Every trap the guidelines list occurs at least five times; every v2 pattern at least
    :data:`MIN_PATTERN_COUNT` times.
    """
    traps: Counter[str] = Counter(t for e in entries for t in e.item.tags.traps)
    patterns: Counter[str] = Counter(p for e in entries for p in e.item.tags.patterns)
    return [
        f"trap {t} occurs {traps[t]} times (at least {MIN_TRAP_COUNT} needed)"
        for t in TRAPS
        if traps[t] < MIN_TRAP_COUNT
    ] + [
        f"pattern {p} occurs {patterns[p]} times (at least {MIN_PATTERN_COUNT} needed)"
        for p in PATTERNS
        if patterns[p] < MIN_PATTERN_COUNT
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


def check_test_positives(entries: Sequence[SourcedItem]) -> list[str]:
    """The test split (all versions) holds at least :data:`MIN_TEST_POSITIVES` harmful items
    per harm.
    """
    problems = []
    for harm in GOLD_HARMS:
        n = sum(
            1 for e in entries if e.item.split == "test" and e.item.final_label(harm) == "harmful"
        )
        if n < MIN_TEST_POSITIVES:
            problems.append(
                f"the test split has {n} harmful items for {harm} (at least {MIN_TEST_POSITIVES} needed)"
            )
    return problems


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
