"""The LLM judge: instructor over the openai client, any OpenAI-compatible endpoint.

Planning (which harms go to which call, with which prompt) and parsing (reply or failure to
verdicts) are pure; :class:`LLMJudge` and its async twin differ only in the call itself.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx2
import instructor
import openai
from instructor.core import IncompleteOutputException, InstructorRetryException

from harmjudge._version import __version__
from harmjudge.errors import MissingAPIKeyError, UsageError, invalid_parameter, one_of
from harmjudge.judges.base import JudgeContext, JudgeOutcome
from harmjudge.judges.prompt import normalize_for_match, prompt_hash, system_prompt, user_prompt
from harmjudge.judges.schema import (
    JudgeReply,
    kind_table,
    reply_model,
    reply_to_verdicts,
    schema_hash,
    validating,
)
from harmjudge.judges.verdict import (
    GateStatus,
    HarmVerdict,
    Label,
    Provenance,
    UnjudgedReason,
    Usage,
    unjudged,
)
from harmjudge.judges.vote import TIE_RULES, TieRule, vote
from harmjudge.taxonomy.model import HarmDefinition

# instructor logs every failed attempt at ERROR, a multi-line dump, and configures no handler of
# its own, so without a logging configuration Python's last-resort handler prints each one on
# stderr, though the verdict already records the failure (reason, attempts, last reply). A
# NullHandler on its logger, what the logging HOWTO asks of every library, keeps it quiet unless
# the application configures logging: then its records reach the application's handlers as
# before. No level, handler or filter the application set is touched.
_INSTRUCTOR_LOG = logging.getLogger("instructor")
if not any(isinstance(h, logging.NullHandler) for h in _INSTRUCTOR_LOG.handlers):
    _INSTRUCTOR_LOG.addHandler(logging.NullHandler())

_REFUSAL_PREFIX = "Unable to generate a response due to "
_RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)


@dataclass(frozen=True, kw_only=True)
class CallPlan:
    """One model call: the harms it judges, its messages and its response model."""

    harms: tuple[str, ...]
    messages: list[dict[str, str]]
    response_model: type[JudgeReply]
    validation_context: dict[str, Any]


def plan_calls(
    context: JudgeContext, *, per_harm: bool, gating: bool
) -> tuple[list[CallPlan], dict[str, HarmVerdict]]:
    """The calls to make for ``context`` and the verdicts gating settles without a call."""
    settled: dict[str, HarmVerdict] = {}
    to_judge: list[HarmDefinition] = []
    for harm in context.harms:
        gate = context.gates[harm.id]
        if gating and gate.status is GateStatus.FAIL:
            settled[harm.id] = HarmVerdict(
                harm=harm.id,
                label=Label.NOT_HARMFUL,
                confidence=1.0,
                rationale="no qualifying action",
                gate=gate,
                gated=True,
            )
        else:
            to_judge.append(harm)
    groups = [[h] for h in to_judge] if per_harm else ([to_judge] if to_judge else [])
    searchable = normalize_for_match(context.transcript.searchable_text())
    scenario = normalize_for_match(context.transcript.searchable_text(instructions=False))
    user = user_prompt(context.transcript, context.actions, context.domains)
    plans = [
        CallPlan(
            harms=tuple(h.id for h in group),
            messages=[
                {"role": "system", "content": system_prompt(group)},
                {"role": "user", "content": user},
            ],
            response_model=reply_model(group),
            validation_context={
                "harms": [h.id for h in group],
                "transcript": searchable,
                "scenario": scenario,
                "kinds": kind_table(group),
            },
        )
        for group in groups
    ]
    return plans, settled


def _raw_reply(completion: Any) -> str | None:
    """The text of a completion's first choice: tool arguments, content or refusal."""
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return "\n".join(str(c.function.arguments) for c in calls)
    return getattr(message, "content", None) or getattr(message, "refusal", None)


def _usage_of(completion: Any, requests: int) -> Usage:
    usage = getattr(completion, "usage", None)
    return Usage(
        requests=requests,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )


def _root_cause(exc: BaseException) -> BaseException:
    """The exception behind an instructor retry failure: the API error that ended it (an HTTP
    failure during a re-ask), else its last attempt's, else its cause."""
    if isinstance(exc.__cause__, openai.APIError):
        return exc.__cause__
    if isinstance(exc, InstructorRetryException) and exc.failed_attempts:
        return exc.failed_attempts[-1].exception
    return exc.__cause__ or exc


def _classify_failure(exc: BaseException) -> tuple[UnjudgedReason, str, str | None, Usage]:
    """Map a failed call to (reason, detail, raw reply, usage). Pure."""
    if isinstance(exc, IncompleteOutputException):
        completion = exc.last_completion
        return (
            UnjudgedReason.TRUNCATED,
            "the reply hit the token limit (finish_reason 'length')",
            _raw_reply(completion),
            _usage_of(completion, 1),
        )
    cause = _root_cause(exc) if isinstance(exc, InstructorRetryException) else exc
    if isinstance(cause, _RETRYABLE):
        detail = f"{type(cause).__name__} after the client's retries: {cause}"
        return UnjudgedReason.RETRIES_EXHAUSTED, _one_line(detail), None, Usage(requests=1)
    if isinstance(cause, openai.APIError):
        return (
            UnjudgedReason.API_ERROR,
            _one_line(f"{type(cause).__name__}: {cause}"),
            None,
            Usage(requests=1),
        )
    if not isinstance(exc, InstructorRetryException):
        return (
            UnjudgedReason.PARSE_FAILURE,
            _one_line(f"{type(exc).__name__}: {exc}"),
            None,
            Usage(requests=1),
        )
    completion = exc.last_completion
    raw = _raw_reply(completion)
    attempts = int(exc.n_attempts or 1)
    usage = _usage_of(completion, attempts)
    total = getattr(exc, "total_usage", None)
    if total is not None and getattr(total, "prompt_tokens", None) is not None:
        usage = Usage(
            requests=attempts,
            prompt_tokens=int(total.prompt_tokens or 0),
            completion_tokens=int(total.completion_tokens or 0),
        )
    choices = getattr(completion, "choices", None) or [None]
    message = getattr(choices[0], "message", None)
    refused = getattr(message, "refusal", None)
    if refused is None and isinstance(cause, AssertionError):
        # instructor's OpenAI handler turns ``message.refusal`` into this assertion.
        text = str(cause)
        if text.startswith(_REFUSAL_PREFIX):
            refused = text[len(_REFUSAL_PREFIX) :]
            raw = raw or refused
    if refused:
        return UnjudgedReason.REFUSAL, _one_line(f"the model refused: {refused}"), raw, usage
    if getattr(choices[0], "finish_reason", None) == "length":
        return (
            UnjudgedReason.TRUNCATED,
            "the reply hit the token limit (finish_reason 'length')",
            raw,
            usage,
        )
    last = str(cause)
    if "not found verbatim" in last:
        return UnjudgedReason.EVIDENCE_NOT_FOUND, _one_line(last), raw, usage
    return UnjudgedReason.PARSE_FAILURE, _one_line(f"{type(cause).__name__}: {last}"), raw, usage


def _one_line(text: str, limit: int = 500) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def settle_call(
    plan: CallPlan,
    context: JudgeContext,
    result: tuple[JudgeReply, Any] | BaseException,
    spent: Usage | None = None,
) -> tuple[dict[str, HarmVerdict], Usage]:
    """Turn one call's result (reply and completion) or failure into verdicts. Pure.

    ``spent`` is what every completion of the call cost, re-asks included, when it was counted;
    without it the usage is read from the result alone.
    """
    if isinstance(result, BaseException):
        reason, detail, raw, usage = _classify_failure(result)
        verdicts = {
            h: unjudged(h, reason, detail, raw_reply=raw, gate=context.gates.get(h))
            for h in plan.harms
        }
        return verdicts, spent or usage
    reply, completion = result
    return reply_to_verdicts(reply, context.gates), spent or _usage_of(completion, 1)


# The completions of the call under way, counted by an instructor hook (a re-ask is a new
# completion, and instructor reports only the last one's usage with a successful reply).
_SPENT: ContextVar[list[Usage] | None] = ContextVar("harmjudge_spent", default=None)


def _count_completion(response: Any) -> None:
    spent = _SPENT.get()
    if spent is not None:
        spent.append(_usage_of(response, 1))


@contextlib.contextmanager
def _counting() -> Iterator[list[Usage]]:
    spent: list[Usage] = []
    token = _SPENT.set(spent)
    try:
        yield spent
    finally:
        _SPENT.reset(token)


def _total(spent: Sequence[Usage]) -> Usage | None:
    return sum(spent, Usage()) if spent else None


def _resolve_model(model: str) -> str:
    return model.split("/", 1)[1] if model.startswith("openai/") else model


_Outcome = tuple[tuple[JudgeReply, Any] | BaseException, Usage | None]


class LLMJudge:
    """Judge transcripts with a model behind any OpenAI-compatible endpoint.

    ``base_url`` and ``api_key`` default to ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY``; a
    ``client`` (``openai.OpenAI``) and ``async_client`` may be passed instead. All harms are
    judged in one call unless ``per_harm``. ``max_reasks`` bounds instructor's re-asks after an
    invalid reply (bad JSON, a quote not in the transcript); ``max_retries`` bounds the HTTP
    client's retries. With ``gating``, harms whose gate found no qualifying action are settled
    as ``not_harmful`` without a call. With ``samples`` above 1 each call is made that many
    times and the verdicts are combined by :func:`harmjudge.judges.vote.vote` (use a
    ``temperature`` above 0, else the samples agree by construction); ``tie`` settles a split.
    """

    name = "llm"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        mode: instructor.Mode = instructor.Mode.TOOLS,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int | None = None,
        max_reasks: int = 2,
        max_retries: int = 2,
        timeout: float = 60.0,
        per_harm: bool = False,
        gating: bool = False,
        samples: int = 1,
        tie: TieRule = "harmful",
    ) -> None:
        if not model:
            raise UsageError("LLMJudge needs a model name, e.g. 'gpt-4o-mini'")
        for name, value in (("max_reasks", max_reasks), ("max_retries", max_retries)):
            if value < 0:
                raise invalid_parameter("LLMJudge", name, "an int >= 0", value)
        if samples < 1:
            raise invalid_parameter("LLMJudge", "samples", "an int >= 1", samples)
        if tie not in TIE_RULES:
            raise invalid_parameter("LLMJudge", "tie", one_of(TIE_RULES), tie)
        self.model = _resolve_model(model)
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self._api_key = api_key
        self._client = client
        self._async_client = async_client
        self.mode = mode
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.max_reasks = max_reasks
        self.max_retries = max_retries
        self.timeout = timeout
        self.per_harm = per_harm
        self.gating = gating
        self.samples = samples
        self.tie: TieRule = tie
        self._sync: instructor.Instructor | None = None
        self._async: instructor.AsyncInstructor | None = None
        self._own_sync: openai.OpenAI | None = None  # clients this judge opened, and so closes
        self._own_async: openai.AsyncOpenAI | None = None

    def __repr__(self) -> str:
        return f"LLMJudge(model={self.model!r}, base_url={self.base_url!r})"

    def _client_kwargs(self) -> dict[str, Any]:
        key = self._api_key or os.environ.get("OPENAI_API_KEY")
        if key is None:
            if self.base_url is None:
                raise MissingAPIKeyError(
                    "no API key: set OPENAI_API_KEY, pass api_key=, or use judge='offline'"
                )
            key = "not-needed"
        return {
            "api_key": key,
            "base_url": self.base_url,
            "max_retries": self.max_retries,
            "timeout": self.timeout,
        }

    def _instructor(self) -> instructor.Instructor:
        if self._sync is None:
            client = self._client
            if client is None:
                client = self._own_sync = openai.OpenAI(**self._client_kwargs())
            self._sync = instructor.from_openai(client, mode=self.mode)
            self._sync.on("completion:response", _count_completion)
        return self._sync

    def _ainstructor(self) -> instructor.AsyncInstructor:
        if self._async is None:
            client = self._async_client
            if client is None:
                client = self._own_async = openai.AsyncOpenAI(**self._client_kwargs())
            self._async = instructor.from_openai(client, mode=self.mode)
            self._async.on("completion:response", _count_completion)
        return self._async

    def close(self) -> None:
        """Close the connections of the synchronous client this judge opened; after async
        calls use :meth:`aclose`. A ``client`` passed in is left to its owner. The judge stays
        usable: a later call opens a new client."""
        if self._own_sync is not None:
            self._own_sync.close()
            self._own_sync = self._sync = None

    async def aclose(self) -> None:
        """Close the connections of every client this judge opened (see :meth:`close`)."""
        self.close()
        if self._own_async is not None:
            await self._own_async.close()
            self._own_async = self._async = None

    def __enter__(self) -> LLMJudge:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> LLMJudge:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def with_http_client(self, http_client: httpx2.AsyncClient) -> LLMJudge:
        """A copy of this judge whose async calls go through ``http_client``, with no retries
        by the openai client: the caller retries in ``http_client`` (the batch engine does,
        honouring Retry-After). Every other setting is shared."""
        twin = copy.copy(self)
        twin.max_retries = 0
        twin._async = twin._sync = twin._own_sync = twin._own_async = None
        if self._async_client is not None:
            twin._async_client = self._async_client.with_options(
                http_client=http_client, max_retries=0
            )
        else:
            twin._async_client = openai.AsyncOpenAI(
                **{**self._client_kwargs(), "max_retries": 0}, http_client=http_client
            )
        return twin

    def sampling(self) -> dict[str, Any]:
        """The sampling settings sent with every call (part of provenance)."""
        out: dict[str, Any] = {"temperature": self.temperature, "mode": self.mode.value}
        if self.max_tokens is not None:
            out["max_tokens"] = self.max_tokens
        if self.seed is not None:
            out["seed"] = self.seed
        if self.samples > 1:
            out["samples"] = self.samples
            out["tie"] = self.tie
        return out

    def _request(self, plan: CallPlan) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": plan.messages,
            "response_model": _tool_model(plan.response_model),
            "max_retries": self.max_reasks,
            "temperature": self.temperature,
        }
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    def _finish(
        self,
        context: JudgeContext,
        settled: dict[str, HarmVerdict],
        results: Sequence[tuple[CallPlan, Sequence[_Outcome]]],
    ) -> JudgeOutcome:
        verdicts = dict(settled)
        usage = Usage()
        for plan, samples in results:
            per_sample: list[dict[str, HarmVerdict]] = []
            for result, cost in samples:
                got, spent = settle_call(plan, context, result, cost)
                per_sample.append(got)
                usage = usage + spent
            for harm in plan.harms:
                verdicts[harm] = vote([s[harm] for s in per_sample], tie=self.tie)
        ordered = {h.id: verdicts[h.id] for h in context.harms}
        full_calls = len(context.harms) if self.per_harm else 1
        return JudgeOutcome(verdicts=ordered, usage=usage, calls_saved=full_calls - len(results))

    def _call(self, plan: CallPlan) -> _Outcome:
        with _counting() as spent:
            try:
                with validating(plan.validation_context):
                    result: tuple[JudgeReply, Any] | BaseException = (
                        self._instructor().create_with_completion(**self._request(plan))
                    )
            except UsageError:
                raise
            except Exception as exc:  # every model failure becomes an unjudged verdict
                result = exc
        return result, _total(spent)

    async def _acall(self, plan: CallPlan) -> _Outcome:
        with _counting() as spent:
            try:
                with validating(plan.validation_context):
                    result: (
                        tuple[JudgeReply, Any] | BaseException
                    ) = await self._ainstructor().create_with_completion(**self._request(plan))
            except UsageError:
                raise
            except Exception as exc:  # every model failure becomes an unjudged verdict
                result = exc
        return result, _total(spent)

    def judge(self, context: JudgeContext) -> JudgeOutcome:
        plans, settled = plan_calls(context, per_harm=self.per_harm, gating=self.gating)
        results = [(plan, [self._call(plan) for _ in range(self.samples)]) for plan in plans]
        return self._finish(context, settled, results)

    async def ajudge(self, context: JudgeContext) -> JudgeOutcome:
        plans, settled = plan_calls(context, per_harm=self.per_harm, gating=self.gating)
        results = [(plan, [await self._acall(plan) for _ in range(self.samples)]) for plan in plans]
        return self._finish(context, settled, results)

    def provenance(self, harms: Sequence[HarmDefinition]) -> Provenance:
        return Provenance(
            judge=self.name,
            model=self.model,
            prompt_hash=prompt_hash(harms),
            schema_hash=schema_hash(reply_model(harms)),
            taxonomy={h.id: h.version for h in harms},
            harmjudge_version=__version__,
            sampling=self.sampling(),
        )


@functools.lru_cache(maxsize=256)
def _tool_model(model: type[JudgeReply]) -> type[JudgeReply]:
    """``model`` as instructor's own response-schema class, built once per model.

    instructor wraps any other class afresh on every call, so its cache of tool schemas never
    hits and each call pays for a new pydantic class and its JSON schema (about 1 ms). The
    wrapper keeps the model's name, docstring and fields: the tool schema sent is the same.
    """
    return instructor.openai_schema(model)


def elapsed_since(start: float) -> float:
    """Seconds since ``start`` (a ``time.perf_counter()`` reading)."""
    return time.perf_counter() - start


def judge_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The model named by ``HARMJUDGE_MODEL``, if set."""
    source = os.environ if env is None else env
    return source.get("HARMJUDGE_MODEL") or None
