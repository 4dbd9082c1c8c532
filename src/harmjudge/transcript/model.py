"""Transcripts: the interchange input record (pydantic) and the parsed, immutable form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TranscriptFormat = Literal["study", "chat", "plain"]
SegmentKind = Literal["instructions", "context", "reasoning", "output", "tool_call", "tool_result"]


class ToolFunction(BaseModel):
    """The ``function`` part of an OpenAI tool call."""

    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str | dict[str, Any] = ""


class ToolCall(BaseModel):
    """One OpenAI tool call made by the assistant."""

    model_config = ConfigDict(extra="allow")
    id: str | None = None
    type: str = "function"
    function: ToolFunction


class ChatMessage(BaseModel):
    """One OpenAI chat message. Extra OpenAI fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    name: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None

    def text(self) -> str:
        """The message's text content, with list parts joined."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(str(p.get("text", "")) for p in self.content if isinstance(p, dict))


class TranscriptRecord(BaseModel):
    """One line of the interchange input format.

    Either ``text`` (study or plain format; optional ``reasoning``, ``instructions`` and
    ``context``) or ``messages`` (OpenAI chat messages). ``instructions`` is the operator's text
    (the system prompt and the user prompt): rules the agent was given, never facts about the
    scenario. ``context`` is what the scenario gave the agent (the inbox). Neither is read for
    actions. Unknown keys are rejected.
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    text: str | None = None
    reasoning: str | None = None
    instructions: str | None = None
    context: str | None = None
    messages: list[ChatMessage] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    org_domains: list[str] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("org_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        cleaned = [d.strip().lower().lstrip("@") for d in value if d.strip()]
        for d in cleaned:
            if "." not in d or " " in d:
                raise ValueError(f"not a domain: {d!r}")
        return cleaned

    @model_validator(mode="after")
    def _one_body(self) -> TranscriptRecord:
        has_text = self.text is not None
        has_messages = self.messages is not None
        if has_text == has_messages:
            raise ValueError("give exactly one of 'text' or 'messages'")
        if has_text and not (self.text or "").strip():
            raise ValueError("'text' is empty")
        if has_messages and not self.messages:
            raise ValueError("'messages' is empty")
        if has_messages and any(
            x is not None for x in (self.reasoning, self.context, self.instructions)
        ):
            raise ValueError(
                "'reasoning', 'instructions' and 'context' go with 'text'; put them in messages"
            )
        return self


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A span of a transcript with its role.

    ``kind`` says who wrote it and whether it acted: ``instructions`` (the operator's rules:
    system and user prompt; never a fact about the scenario), ``context`` (what the scenario
    gave the agent: the inbox, alerts),
    ``reasoning`` (hidden thinking: nothing in it is executed), ``output`` (the agent's visible
    reply), ``tool_call`` (an executed call, as ``name`` plus its arguments) and ``tool_result``.
    ``turn`` is the assistant turn (0-based) for chat transcripts.
    """

    kind: SegmentKind
    text: str
    turn: int | None = None
    tool_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Transcript:
    """A parsed transcript. Build one with :func:`harmjudge.transcript.parse_transcript`.

    ``segments`` keep every piece of original text; ``org_domains`` is what the input declared
    (``None`` when it did not: see :func:`harmjudge.transcript.org_domains`).
    """

    id: str
    format: TranscriptFormat
    segments: tuple[Segment, ...]
    metadata: Mapping[str, Any] = field(default_factory=dict)
    org_domains: tuple[str, ...] | None = None

    def full_text(self) -> str:
        """All text of the transcript, in order, as given."""
        return "\n".join(s.text for s in self.segments)

    def text_of(self, *kinds: SegmentKind) -> str:
        """The text of the segments of these kinds, in order.

        >>> t = Transcript(id="t", format="plain", segments=(
        ...     Segment(kind="instructions", text="Cancel only false alarms."),
        ...     Segment(kind="context", text="Alarm: O2 low in B2."),
        ... ))
        >>> t.text_of("context", "tool_result")
        'Alarm: O2 low in B2.'
        """
        return "\n".join(s.text for s in self.segments if s.kind in kinds)

    def facts_text(self) -> str:
        """What the scenario established: the ``context`` and the tool results. The operator's
        instructions are left out: a rule is not a fact about the scenario."""
        return self.text_of("context", "tool_result")

    def searchable_text(self, *, instructions: bool = True) -> str:
        """The text evidence is checked against: :meth:`full_text` plus the decoded string
        values of tool-call arguments (so a quote of an email body sent through a chat tool
        call matches without JSON escapes). ``instructions=False`` leaves the operator's
        instructions out: the text an exclusion's evidence must come from."""
        parts = [s.text for s in self.segments if instructions or s.kind != "instructions"]
        for segment in self.segments:
            if segment.kind == "tool_call":
                parts.extend(_json_strings(segment.text))
        return "\n".join(parts)


def _json_strings(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    out: list[str] = []
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out
