"""Token estimates before sending, and the policy for transcripts too long to send.

No tokenizer is involved: a text of ``c`` characters is estimated at ``ceil(c / 4)`` tokens
(about right for English prose and JSON, low for code and non-Latin scripts). A call's prompt
is its system and user messages plus the JSON schema of its response model; its reply is
estimated at 150 tokens per harm it judges. Re-asks and retries are not foreseen, so the
estimate is a lower bound of what a run can cost.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from harmjudge.errors import invalid_parameter
from harmjudge.judges.base import JudgeContext
from harmjudge.judges.llm import LLMJudge, plan_calls

CHARS_PER_TOKEN = 4
COMPLETION_TOKENS_PER_HARM = 150
DEFAULT_MAX_INPUT_TOKENS = 100_000


def estimate_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``.

    >>> estimate_tokens("abcdefghi")
    3
    """
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True, kw_only=True)
class ItemEstimate:
    """The requests and tokens one item is expected to need (samples included).

    ``largest_prompt`` is the estimated prompt of its biggest single call, which the
    :class:`LengthPolicy` compares with its limit.
    """

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    largest_prompt: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Estimator:
    """Estimates items for one LLM judge; the schema of each harm group is measured once."""

    def __init__(self, judge: LLMJudge) -> None:
        self._judge = judge
        self._schema_tokens: dict[tuple[str, ...], int] = {}

    def estimate(self, context: JudgeContext) -> ItemEstimate:
        plans, _ = plan_calls(context, per_harm=self._judge.per_harm, gating=self._judge.gating)
        samples = int(getattr(self._judge, "samples", 1))
        prompt = completion = largest = 0
        for plan in plans:
            schema = self._schema_tokens.get(plan.harms)
            if schema is None:
                schema = estimate_tokens(json.dumps(plan.response_model.model_json_schema()))
                self._schema_tokens[plan.harms] = schema
            call = schema + sum(estimate_tokens(m["content"]) for m in plan.messages)
            largest = max(largest, call)
            prompt += call * samples
            completion += COMPLETION_TOKENS_PER_HARM * len(plan.harms) * samples
        return ItemEstimate(
            requests=len(plans) * samples,
            prompt_tokens=prompt,
            completion_tokens=completion,
            largest_prompt=largest,
        )


@dataclass(frozen=True, kw_only=True)
class LengthPolicy:
    """What happens to a transcript too long to send.

    An item whose biggest call is estimated above ``max_input_tokens`` prompt tokens is not
    sent: every requested harm is ``unjudged`` with reason ``too_long`` and the detail gives the
    estimate. Nothing is cut or summarised, so a verdict is always about the whole transcript.
    ``None`` sends everything (the endpoint may then refuse: ``api_error``). Applies to the LLM
    judge only; the offline judge reads any length.
    """

    max_input_tokens: int | None = DEFAULT_MAX_INPUT_TOKENS

    def __post_init__(self) -> None:
        if self.max_input_tokens is not None and self.max_input_tokens < 1:
            raise invalid_parameter(
                "LengthPolicy", "max_input_tokens", "an int >= 1 or None", self.max_input_tokens
            )

    def too_long(self, estimate: ItemEstimate) -> bool:
        return self.max_input_tokens is not None and estimate.largest_prompt > self.max_input_tokens

    def detail(self, estimate: ItemEstimate) -> str:
        return (
            f"the prompt is about {estimate.largest_prompt} tokens, over the limit of "
            f"{self.max_input_tokens} (raise --max-input-tokens to send it)"
        )
