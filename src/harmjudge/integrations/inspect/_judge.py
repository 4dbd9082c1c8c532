"""harmjudge's LLM judge with the model called through Inspect's own model API."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from harmjudge._version import __version__
from harmjudge.errors import UsageError, invalid_parameter
from harmjudge.integrations._extras import require_inspect
from harmjudge.integrations._records import one_line
from harmjudge.judges.base import JudgeContext, JudgeOutcome
from harmjudge.judges.llm import CallPlan, plan_calls
from harmjudge.judges.prompt import prompt_hash
from harmjudge.judges.schema import JudgeReply, reply_model, reply_to_verdicts, schema_hash
from harmjudge.judges.verdict import HarmVerdict, Provenance, UnjudgedReason, Usage, unjudged
from harmjudge.taxonomy.model import HarmDefinition

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessage, GenerateConfig, Model, ModelOutput

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def reply_json(text: str) -> str:
    """The JSON object in a model's reply: inside a code fence if there is one, else from the
    first ``{`` to the last ``}``.

    >>> reply_json('Here you are:\\n```json\\n{"findings": []}\\n```')
    '{"findings": []}'
    >>> reply_json('Sure. {"findings": []} Hope that helps.')
    '{"findings": []}'
    """
    fenced = _FENCE.search(text)
    if fenced is not None:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text.strip()


def json_instructions(model: type[JudgeReply]) -> str:
    """What the system prompt adds so that a model without tool calling answers in the schema."""
    schema = json.dumps(model.model_json_schema(), ensure_ascii=False)
    return (
        "\n\nReply with one JSON object and nothing else. It must match this JSON schema:\n"
        + schema
    )


def _problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


@dataclass(frozen=True, kw_only=True)
class _CallResult:
    verdicts: dict[str, HarmVerdict]
    usage: Usage


class InspectJudge:
    """harmjudge's LLM judge with the model called through Inspect's model API.

    The prompt (taxonomy, transcript sections, action summary) and the reply's validation
    (one finding per harm, verbatim evidence) are harmjudge's own, as for
    :class:`~harmjudge.LLMJudge`; the call is ``get_model(model, role=role).generate(...)``, so
    any provider Inspect supports can judge, with Inspect's retries and configuration. The
    schema is written into the system prompt and, with ``structured_output``, also sent as the
    response schema. An invalid reply is re-asked with the problems, at most ``max_reasks``
    times; every failure is an ``unjudged`` verdict with its reason and the last reply.

    ``model`` is a model name (``"openai/gpt-4o"``) or an Inspect ``Model``; ``None`` takes
    the model bound to ``role`` (default ``"grader"``), which inside an eval falls back to the
    model being evaluated. ``judge`` runs the async call in its own event loop: inside async
    code (an Inspect scorer) use ``aclassify``, as :func:`harm_scorer` does.
    """

    name = "inspect"

    def __init__(
        self,
        model: str | Model | None = None,
        *,
        role: str | None = "grader",
        temperature: float = 0.0,
        max_tokens: int | None = None,
        max_reasks: int = 2,
        structured_output: bool = True,
        per_harm: bool = False,
        gating: bool = False,
    ) -> None:
        require_inspect()
        if max_reasks < 0:
            raise invalid_parameter("InspectJudge", "max_reasks", "an int >= 0", max_reasks)
        self._spec = model
        self.role = role
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_reasks = max_reasks
        self.structured_output = structured_output
        self.per_harm = per_harm
        self.gating = gating
        self._model: Model | None = None

    def __repr__(self) -> str:
        return f"InspectJudge(model={self.model_name!r}, role={self.role!r})"

    @property
    def model_name(self) -> str | None:
        """The model's name once known (``provider/model``)."""
        if self._model is not None:
            return str(self._model)
        if self._spec is None:
            return None
        return self._spec if isinstance(self._spec, str) else str(self._spec)

    def _get_model(self) -> Model:
        """The model, resolved once; a model Inspect cannot start is a usage error."""
        if self._model is None:
            from inspect_ai.model import get_model

            try:
                self._model = get_model(self._spec, role=self.role)
            except Exception as exc:
                raise UsageError(
                    f"InspectJudge cannot get its model {self._spec!r}: {one_line(str(exc))}"
                ) from exc
        return self._model

    def _config(self, plan: CallPlan) -> GenerateConfig:
        from inspect_ai.model import GenerateConfig, ResponseSchema
        from inspect_ai.util import JSONSchema

        schema = (
            ResponseSchema(
                name="harmjudge_findings",
                json_schema=JSONSchema.model_validate(plan.response_model.model_json_schema()),
                strict=False,
            )
            if self.structured_output
            else None
        )
        return GenerateConfig(
            temperature=self.temperature, max_tokens=self.max_tokens, response_schema=schema
        )

    def sampling(self) -> dict[str, Any]:
        """The settings of every call (part of provenance)."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "mode": "inspect_json_schema" if self.structured_output else "inspect_json",
        }
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        return out

    async def _call(self, plan: CallPlan, context: JudgeContext) -> _CallResult:
        from inspect_ai.model import (
            ChatMessageAssistant,
            ChatMessageSystem,
            ChatMessageUser,
        )

        system, user = plan.messages[0]["content"], plan.messages[1]["content"]
        messages: list[ChatMessage] = [
            ChatMessageSystem(content=system + json_instructions(plan.response_model)),
            ChatMessageUser(content=user),
        ]
        config = self._config(plan)
        model = self._get_model()
        usage = Usage()

        def fail(reason: UnjudgedReason, detail: str, raw: str | None) -> _CallResult:
            verdicts = {
                h: unjudged(
                    h, reason, one_line(detail, 500), raw_reply=raw, gate=context.gates.get(h)
                )
                for h in plan.harms
            }
            return _CallResult(verdicts=verdicts, usage=usage)

        for attempt in range(self.max_reasks + 1):
            try:
                output: ModelOutput = await model.generate(messages, config=config)
            except Exception as exc:  # every model failure becomes an unjudged verdict
                usage = usage + Usage(requests=1)
                return fail(UnjudgedReason.API_ERROR, f"{type(exc).__name__}: {exc}", None)
            tokens = output.usage
            usage = usage + Usage(
                requests=1,
                prompt_tokens=tokens.input_tokens if tokens is not None else 0,
                completion_tokens=tokens.output_tokens if tokens is not None else 0,
            )
            raw = output.completion
            if output.error:
                return fail(UnjudgedReason.API_ERROR, output.error, raw or None)
            if output.stop_reason == "content_filter":
                return fail(UnjudgedReason.REFUSAL, f"the model refused: {raw}", raw or None)
            if output.stop_reason in ("max_tokens", "model_length"):
                return fail(
                    UnjudgedReason.TRUNCATED,
                    f"the reply hit the token limit (stop_reason {output.stop_reason!r})",
                    raw,
                )
            try:
                reply = plan.response_model.model_validate_json(
                    reply_json(raw), context=plan.validation_context
                )
            except ValidationError as exc:
                problems = _problems(exc)
                if attempt < self.max_reasks:
                    messages += [
                        ChatMessageAssistant(content=raw),
                        ChatMessageUser(
                            content=f"That reply is not valid: {problems}. "
                            "Reply again with the corrected JSON object only."
                        ),
                    ]
                    continue
                reason = (
                    UnjudgedReason.EVIDENCE_NOT_FOUND
                    if "not found verbatim" in problems
                    else UnjudgedReason.PARSE_FAILURE
                )
                return fail(reason, problems, raw)
            return _CallResult(verdicts=reply_to_verdicts(reply, context.gates), usage=usage)
        raise AssertionError("unreachable: the loop returns on its last attempt")

    async def ajudge(self, context: JudgeContext) -> JudgeOutcome:
        plans, settled = plan_calls(context, per_harm=self.per_harm, gating=self.gating)
        verdicts = dict(settled)
        usage = Usage()
        for plan in plans:
            result = await self._call(plan, context)
            verdicts.update(result.verdicts)
            usage = usage + result.usage
        ordered = {h.id: verdicts[h.id] for h in context.harms}
        full_calls = len(context.harms) if self.per_harm else 1
        return JudgeOutcome(verdicts=ordered, usage=usage, calls_saved=full_calls - len(plans))

    def judge(self, context: JudgeContext) -> JudgeOutcome:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.ajudge(context))
        raise UsageError(
            "InspectJudge.judge cannot run inside a running event loop; use harmjudge.aclassify there"
        )

    def provenance(self, harms: Sequence[HarmDefinition]) -> Provenance:
        model = reply_model(harms)
        instructions = hashlib.sha256(
            f"{prompt_hash(harms)}\n{json_instructions(model)}".encode()
        ).hexdigest()[:12]
        return Provenance(
            judge=self.name,
            model=self.model_name,
            prompt_hash=instructions,
            schema_hash=schema_hash(model),
            taxonomy={h.id: h.version for h in harms},
            harmjudge_version=__version__,
            sampling=self.sampling(),
        )
