"""The fixed, stratified dev/test splits, one procedure per gold-set version.

**v1 (frozen).** Items are grouped by (scenario, format, the author's pass-A label for the
scenario's harm); within a group they are ordered by the SHA-256 of their id and dealt
alternately to test and dev, test first.

**v2.** Items are grouped by (scenario, the pass-A label for the scenario's harm, the author's
blackmail kind, the pattern tag); the groups are taken in sorted order, the items of each in
SHA-256 order of their id, and the whole sequence is dealt alternately to test and dev, test
first. Dealing across groups (instead of restarting in each) keeps the two halves within one
item of each other overall and within one item of half in every group.

Each version is drawn from its own items only, so adding v2 leaves every v1 split as it was.
Pass A never changes after it is written, so a split is a pure, stable function of the items;
it is stored in each item's ``split`` field, and a check keeps the two equal. Adjudication can
move an item's gold label without moving it between splits.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable

from harmjudge.labels.model import GoldItem, Split

NO_PATTERN = "(none)"


def _hash(item: GoldItem) -> str:
    return hashlib.sha256(item.id.encode()).hexdigest()


def stratum(item: GoldItem) -> tuple[str, ...]:
    """The group an item is split within (it depends on the item's version)."""
    label = item.annotations.A.labels[item.scenario]
    if item.version == "v1":
        return (item.scenario, item.format, label)
    kind = item.annotations.A.kind() or "(no kind)"
    pattern = item.tags.patterns[0] if item.tags.patterns else NO_PATTERN
    return (item.scenario, label, kind, pattern)


def _deal_v1(groups: dict[Hashable, list[GoldItem]]) -> dict[str, Split]:
    out: dict[str, Split] = {}
    for members in groups.values():
        for index, item in enumerate(sorted(members, key=_hash)):
            out[item.id] = "test" if index % 2 == 0 else "dev"
    return out


def _deal_v2(groups: dict[Hashable, list[GoldItem]]) -> dict[str, Split]:
    sequence = [item for key in sorted(groups, key=repr) for item in sorted(groups[key], key=_hash)]
    return {item.id: "test" if n % 2 == 0 else "dev" for n, item in enumerate(sequence)}


def draw_split(items: Iterable[GoldItem]) -> dict[str, Split]:
    """Assign every item to ``dev`` or ``test``, each version by its own procedure."""
    by_version: dict[str, dict[Hashable, list[GoldItem]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_version[item.version][stratum(item)].append(item)
    out: dict[str, Split] = {}
    out.update(_deal_v1(by_version.get("v1", {})))
    out.update(_deal_v2(by_version.get("v2", {})))
    return out
