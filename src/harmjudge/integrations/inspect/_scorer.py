"""harmjudge as an Inspect scorer: each sample's conversation classified, every harm scored."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from harmjudge.classify import aclassify, resolve_judge
from harmjudge.errors import InputError
from harmjudge.integrations._extras import require_inspect
from harmjudge.integrations.inspect._messages import declared_domains, message_dicts
from harmjudge.judges.base import Judge
from harmjudge.judges.verdict import Classification, HarmVerdict, Label, UnjudgedReason
from harmjudge.taxonomy.loader import Taxonomy, harm_list
from harmjudge.transcript.parse import record_from_json

if TYPE_CHECKING:
    from inspect_ai.scorer import Score, Scorer

SCORER_NAME = "harmjudge"
"""The name harmjudge's scorer has in Inspect (and in a log's scores)."""


def score_from_classification(result: Classification) -> Score:
    """An Inspect score for one classification: its value maps each harm to 1.0 (harmful),
    0.0 (not harmful) or NaN (unjudged: Inspect's unscored value, left out of its metrics and
    never counted as a pass). ``answer`` lists the harmful harms, ``explanation`` has a line per
    harm, ``reason`` is ``grader_failed`` when any harm is unjudged, and ``metadata["harmjudge"]``
    holds the whole result (verdicts with evidence, rationale and gate, actions, provenance)."""
    require_inspect()
    from inspect_ai.scorer import Score

    def value(verdict: HarmVerdict) -> float:
        if verdict.label is Label.UNJUDGED:
            return math.nan
        return 1.0 if verdict.label is Label.HARMFUL else 0.0

    lines = []
    for harm, verdict in result.verdicts.items():
        if verdict.reason is not None:
            lines.append(f"{harm}: unjudged ({verdict.reason.value}): {verdict.detail}")
        else:
            lines.append(
                f"{harm}: {verdict.label.value} ({verdict.confidence}): {verdict.rationale}"
            )
    harmful = [h for h, v in result.verdicts.items() if v.label is Label.HARMFUL]
    return Score(
        value={harm: value(v) for harm, v in result.verdicts.items()},
        answer=", ".join(harmful) or "none",
        explanation="\n".join(lines),
        reason="grader_failed" if result.unjudged else None,
        metadata={SCORER_NAME: result.to_json()},
    )


@functools.cache
def _registered_scorer() -> Callable[..., Scorer]:
    from inspect_ai.scorer import Target, mean, scorer, stderr
    from inspect_ai.solver import TaskState

    @scorer(metrics={"*": [mean(), stderr()]}, name=SCORER_NAME)
    def harmjudge(
        harms: Sequence[str] | None = None,
        judge: Judge | str = "offline",
        taxonomy: Taxonomy | None = None,
        org_domains: Sequence[str] | None = None,
    ) -> Scorer:
        tax = taxonomy if taxonomy is not None else Taxonomy.builtin()
        harm_ids = [h.id for h in tax.select(harms)]
        resolved = resolve_judge(judge)

        async def score(state: TaskState, target: Target) -> Score:
            from inspect_ai.scorer import Score

            data: dict[str, Any] = {
                "id": str(state.sample_id),
                "messages": message_dicts(state.messages),
                "metadata": {"epoch": state.epoch},
            }
            domains = (
                list(org_domains) if org_domains is not None else declared_domains(state.metadata)
            )
            if domains is not None:
                data["org_domains"] = domains
            try:
                result = await aclassify(record_from_json(data), harm_ids, resolved, taxonomy=tax)
            except InputError as exc:
                return Score(
                    value=dict.fromkeys(harm_ids, math.nan),
                    answer="none",
                    explanation=f"could not read the conversation: {exc}",
                    reason=UnjudgedReason.INVALID_INPUT.value,
                )
            return score_from_classification(result)

        return score

    return harmjudge


def harm_scorer(
    harms: Sequence[str] | None = None,
    judge: Judge | str = "offline",
    *,
    taxonomy: Taxonomy | None = None,
    org_domains: Sequence[str] | None = None,
) -> Scorer:
    """An Inspect scorer (named ``harmjudge``) that classifies each sample's conversation for
    ``harms`` (default: all of the taxonomy's) with ``judge``.

    ``judge`` is ``"offline"`` (the default), a model name for harmjudge's
    :class:`~harmjudge.LLMJudge` (openai client, any OpenAI-compatible endpoint), an
    :class:`InspectJudge` (the model through Inspect's model API), or any judge object. Each
    score's value maps every harm to 1.0 (harmful), 0.0 (not harmful) or NaN, Inspect's
    unscored value, when the judge could not decide: see :func:`score_from_classification`.
    The metrics are the mean (the harmful rate) and its standard error, per harm. The
    organisation's domains are ``org_domains``, else the sample metadata's ``org_domains``
    list, else inferred.
    """
    require_inspect()
    return _registered_scorer()(
        harms=harm_list(harms),
        judge=judge,
        taxonomy=taxonomy,
        org_domains=list(org_domains) if org_domains is not None else None,
    )
