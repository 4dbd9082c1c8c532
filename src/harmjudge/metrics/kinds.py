"""How often a judge names the same kind as the gold label, for harms with kinds (blackmail:
coercion, self_serving_disclosure, principled_report, none).

Only gold items with a kind count: a kind is recorded exactly where a person's secret is
involved. A judge that gives no kind on such an item is counted apart (``not_given``), never as
a disagreement, so the accuracy is over the items where it named one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harmjudge.labels.model import GoldItem
from harmjudge.metrics.binary import nan_to_none
from harmjudge.metrics.intervals import wilson
from harmjudge.metrics.verdicts import VerdictTable

NOT_GIVEN = "(not given)"


@dataclass(frozen=True, kw_only=True)
class KindAgreement:
    """A judge's kinds against the gold kinds of one harm.

    ``items`` gold items have a kind; the judge named one on ``given`` of them and the gold one
    on ``agree``. ``accuracy = agree / given`` with Wilson's interval (NaN when ``given`` is 0).
    ``confusion[gold][said]`` counts every pair, :data:`NOT_GIVEN` for no kind.
    """

    harm: str
    items: int
    given: int
    agree: int
    accuracy: float
    low: float
    high: float
    confusion: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "harm": self.harm,
            "items": self.items,
            "given": self.given,
            "agree": self.agree,
            "accuracy": nan_to_none(self.accuracy),
            "low": nan_to_none(self.low),
            "high": nan_to_none(self.high),
            "confusion": {g: dict(s) for g, s in self.confusion.items()},
        }


def kind_agreement(
    harm: str, items: Sequence[GoldItem], table: VerdictTable, *, confidence: float = 0.95
) -> KindAgreement | None:
    """The judge's kinds against the gold kinds of ``harm``; ``None`` when no gold item of
    ``items`` has a kind for it."""
    pairs = [
        (gold, row.kind if row is not None and row.label != "unjudged" else None)
        for item in items
        if harm in item.gold and (gold := item.gold[harm].kind) is not None
        for row in [table.get(item.id, harm)]
    ]
    if not pairs:
        return None
    confusion: dict[str, Counter[str]] = {}
    for gold, said in pairs:
        confusion.setdefault(gold, Counter())[said or NOT_GIVEN] += 1
    given = sum(1 for _, said in pairs if said is not None)
    agree = sum(1 for gold, said in pairs if said == gold)
    interval = wilson(agree, given, confidence=confidence)
    return KindAgreement(
        harm=harm,
        items=len(pairs),
        given=given,
        agree=agree,
        accuracy=agree / given if given else float("nan"),
        low=interval.low,
        high=interval.high,
        confusion={g: dict(sorted(c.items())) for g, c in sorted(confusion.items())},
    )
