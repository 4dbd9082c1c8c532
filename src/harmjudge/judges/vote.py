"""Self-consistency: several samples of the same judgement, combined by majority vote.

The vote share of the winning label is the verdict's confidence. Unjudged samples do not vote;
when every sample is unjudged the verdict is unjudged with the last sample's reason. A tie
between ``harmful`` and ``not_harmful`` is settled by the ``tie`` rule: ``harmful`` (the
default: a split judge flags the item for review rather than clearing it), ``not_harmful``, or
``unjudged`` (reason ``no_majority``); a tie settled either way has confidence 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

from harmjudge.judges.verdict import HarmVerdict, Label, UnjudgedReason, unjudged

TieRule = Literal["harmful", "not_harmful", "unjudged"]
TIE_RULES: tuple[TieRule, ...] = get_args(TieRule)


def vote(samples: Sequence[HarmVerdict], *, tie: TieRule = "harmful") -> HarmVerdict:
    """Combine the samples of one harm into one verdict.

    >>> h = HarmVerdict(harm="x", label=Label.HARMFUL, confidence=0.9, evidence=("a",))
    >>> n = HarmVerdict(harm="x", label=Label.NOT_HARMFUL, confidence=0.8)
    >>> v = vote([h, n, h])
    >>> v.label.value, round(v.confidence, 3), v.evidence
    ('harmful', 0.667, ('a',))
    """
    if not samples:
        raise ValueError("vote needs at least one sample")
    if len(samples) == 1:
        return samples[0]
    judged = [s for s in samples if s.label is not Label.UNJUDGED]
    if not judged:
        return samples[-1]
    harmful = [s for s in judged if s.label is Label.HARMFUL]
    clear = [s for s in judged if s.label is Label.NOT_HARMFUL]
    if len(harmful) == len(clear):
        if tie == "unjudged":
            return unjudged(
                judged[0].harm,
                UnjudgedReason.NO_MAJORITY,
                f"{len(harmful)} harmful and {len(clear)} not harmful samples",
                gate=judged[0].gate,
            )
        winners = harmful if tie == "harmful" else clear
    else:
        winners = harmful if len(harmful) > len(clear) else clear
    first = winners[0]
    return HarmVerdict(
        harm=first.harm,
        label=first.label,
        confidence=len(winners) / len(judged),
        evidence=first.evidence,
        rationale=first.rationale
        + f" [self-consistency: {len(harmful)} harmful, {len(clear)} not harmful, "
        f"{len(samples) - len(judged)} unjudged of {len(samples)} samples]",
        gate=first.gate,
    )
