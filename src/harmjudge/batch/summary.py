"""What a batch did, counted as it ran, and its rendering for the terminal.

Counts stay exact in :class:`BatchSummary`; only :func:`render_summary` rounds, for display.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harmjudge.batch.engine import ItemResult


@dataclass(frozen=True, kw_only=True)
class BatchSummary:
    """The outcome of a batch run.

    ``items`` counts every input item once: ``judged`` (sent to the judge in this run),
    ``cached``, ``resumed`` (already in the output), ``not_sent`` (too long, or over budget)
    and ``errors`` (error records). ``failed`` is ``errors`` plus the classifications with at
    least one ``unjudged`` verdict, whose reasons ``unjudged`` counts per verdict. ``requests``,
    ``retries`` (by cause: ``429``, ``5xx``, ``timeout``, ``connection``, ``malformed``…) and
    the tokens count every HTTP request of this run, re-asks and retries included; ``cost`` is
    ``None`` without a price for the model.
    """

    judge: str
    items: int = 0
    judged: int = 0
    cached: int = 0
    resumed: int = 0
    not_sent: int = 0
    errors: int = 0
    unjudged_items: int = 0
    harmful: int = 0
    unjudged: Mapping[str, int] = field(default_factory=dict)
    calls_saved: int = 0
    requests: int = 0
    retries: Mapping[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    wall_s: float = 0.0

    @property
    def classified(self) -> int:
        """Items with a classification (every item but the error records)."""
        return self.items - self.errors

    @property
    def failed(self) -> int:
        return self.errors + self.unjudged_items

    @property
    def retried(self) -> int:
        return sum(self.retries.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "items": self.items,
            "judged": self.judged,
            "cached": self.cached,
            "resumed": self.resumed,
            "not_sent": self.not_sent,
            "errors": self.errors,
            "failed": self.failed,
            "unjudged_items": self.unjudged_items,
            "harmful": self.harmful,
            "unjudged": dict(self.unjudged),
            "calls_saved": self.calls_saved,
            "requests": self.requests,
            "retries": dict(self.retries),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": self.cost,
            "wall_s": self.wall_s,
        }


class Tally:
    """Counts results as they come (the engine's running :class:`BatchSummary`)."""

    def __init__(self) -> None:
        self.origins: Counter[str] = Counter()
        self.unjudged: Counter[str] = Counter()
        self.unjudged_items = 0
        self.harmful = 0
        self.calls_saved = 0
        self.usage_requests = 0
        self.usage_prompt = 0
        self.usage_completion = 0

    def add(self, result: ItemResult) -> None:
        self.origins[result.origin.value] += 1
        record = result.record
        labels: list[tuple[Any, Any]]
        if result.classification is not None:
            c = result.classification
            labels = [
                (v.label.value, v.reason.value if v.reason else None) for v in c.verdicts.values()
            ]
            self.calls_saved += c.calls_saved
            if result.origin.value == "judged":
                self.usage_requests += c.usage.requests
                self.usage_prompt += c.usage.prompt_tokens
                self.usage_completion += c.usage.completion_tokens
        elif record is not None and "verdicts" in record:
            labels = [(v.get("label"), v.get("reason")) for v in record["verdicts"].values()]
            self.calls_saved += int(record.get("calls_saved", 0))
        else:
            return
        self.harmful += sum(1 for label, _ in labels if label == "harmful")
        reasons = [str(reason) for label, reason in labels if label == "unjudged"]
        self.unjudged.update(reasons)
        self.unjudged_items += int(bool(reasons))


def _thousands(n: int) -> str:
    return f"{n:,}"


def render_summary(summary: BatchSummary) -> list[str]:
    """The run summary as lines for standard error; the first is the classic one-liner."""
    lines = [
        f"classified {summary.classified} transcripts with the {summary.judge} judge: "
        f"{summary.harmful} harmful verdicts, {summary.unjudged_items} transcripts with "
        f"unjudged harms, {summary.errors} input errors; gating saved {summary.calls_saved} calls"
    ]
    sources = [f"{summary.judged} judged"]
    for count, what in (
        (summary.cached, "from the cache"),
        (summary.resumed, "already in the output"),
        (summary.not_sent, "not sent"),
        (summary.errors, "error records"),
    ):
        if count:
            sources.append(f"{count} {what}")
    lines.append(f"{summary.items} items: " + ", ".join(sources))
    if summary.unjudged:
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(summary.unjudged.items()))
        lines.append(f"unjudged verdicts: {reasons}")
    if summary.requests or summary.prompt_tokens:
        retries = ""
        if summary.retries:
            causes = ", ".join(f"{c} {n}" for c, n in sorted(summary.retries.items()))
            retries = f" ({summary.retried} retries: {causes})"
        tokens = (
            f"{_thousands(summary.prompt_tokens)} prompt + "
            f"{_thousands(summary.completion_tokens)} completion tokens"
        )
        cost = f", ${summary.cost:.4f}" if summary.cost is not None else ""
        lines.append(f"{summary.requests} requests{retries}; {tokens}{cost}")
    rate = summary.items / summary.wall_s if summary.wall_s > 0 else 0.0
    lines.append(f"{summary.wall_s:.1f} s, {rate:.1f} items/s")
    return lines
