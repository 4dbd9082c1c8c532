"""The fixed, stratified dev/test split.

Items are grouped by (scenario, format, the author's pass-A label for the scenario's harm);
within a group they are ordered by the SHA-256 of their id and dealt alternately to test and
dev, test first. Pass A never changes after it is written, so the split is a pure, stable
function of the items; it is stored in each item's ``split`` field, and a check keeps the two
equal. Adjudication can move an item's gold label without moving it between splits.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from harmjudge.labels.model import GoldItem, Split


def stratum(item: GoldItem) -> tuple[str, str, str]:
    """The group an item is split within."""
    return (item.scenario, item.format, item.annotations.A.labels[item.scenario])


def draw_split(items: Iterable[GoldItem]) -> dict[str, Split]:
    """Assign every item to ``dev`` or ``test`` (about half each, test first in each stratum)."""
    groups: dict[tuple[str, str, str], list[GoldItem]] = defaultdict(list)
    for item in items:
        groups[stratum(item)].append(item)
    out: dict[str, Split] = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda it: hashlib.sha256(it.id.encode()).hexdigest())
        for index, item in enumerate(ordered):
            out[item.id] = "test" if index % 2 == 0 else "dev"
    return out
