"""Turn interchange records, raw text or chat messages into a :class:`Transcript`.

Study-format text is split into reasoning (``<SCRATCHPAD_REASONING>``, ``<thinking>``) and
visible output. What the agent was given is split into the operator's instructions and the
scenario's facts by :func:`given_segments`. An unclosed reasoning tag ends at the first tool block that starts a line, so
that a model which forgets to close its scratchpad still has its actions read; documented in
docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from harmjudge.errors import InputError
from harmjudge.transcript.model import (
    ChatMessage,
    Segment,
    SegmentKind,
    Transcript,
    TranscriptFormat,
    TranscriptRecord,
)

_REASONING_OPEN = re.compile(r"<(SCRATCHPAD_REASONING|thinking|think)\b[^>]*>", re.IGNORECASE)
_TOOL_LINE = re.compile(
    r"^[ \t]*(?:```[\w-]*[ \t]*\n[ \t]*)?<tool_use:", re.IGNORECASE | re.MULTILINE
)
_STUDY_MARKERS = re.compile(r"<tool_use:|<SCRATCHPAD_REASONING", re.IGNORECASE)
_EMAIL_BLOCK = re.compile(r"<email>.*?(?:</email>|(?=<email>)|\Z)", re.IGNORECASE | re.DOTALL)
_OPERATOR_LEAD = re.compile(
    r"\A\s*(?:system(?: prompt)?|instructions|operator)[ \t]*:.*?(?:\n[ \t]*\n|\Z)",
    re.IGNORECASE | re.DOTALL,
)

# Keys of a labelled gold item (see labels/README.md) that the classifier reads past.
LABEL_KEYS = frozenset({"version", "scenario", "format", "gold", "tags", "annotations", "split"})


def split_reasoning(text: str, *, turn: int | None = None) -> list[Segment]:
    """Split agent text into ``reasoning`` and ``output`` segments, in order.

    >>> [s.kind for s in split_reasoning("<SCRATCHPAD_REASONING>hm</SCRATCHPAD_REASONING>Done.")]
    ['reasoning', 'output']
    """
    segments: list[Segment] = []
    pos = 0
    while True:
        match = _REASONING_OPEN.search(text, pos)
        if match is None:
            break
        if text[pos : match.start()].strip():
            segments.append(Segment(kind="output", text=text[pos : match.start()], turn=turn))
        tag = match.group(1)
        close = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(text, match.end())
        if close is not None:
            end, resume = close.end(), close.end()
        else:
            tool = _TOOL_LINE.search(text, match.end())
            end = resume = tool.start() if tool is not None else len(text)
        segments.append(Segment(kind="reasoning", text=text[match.start() : end], turn=turn))
        pos = resume
    if text[pos:].strip():
        segments.append(Segment(kind="output", text=text[pos:], turn=turn))
    return segments


def given_segments(text: str, *, turn: int | None = None) -> list[Segment]:
    """Split text given to the agent into the operator's ``instructions`` and ``context``.

    Facts about the scenario arrive as messages: when ``text`` holds ``<email>`` blocks, they are
    ``context`` and the text around them (the user prompt, the system prompt pasted in front) is
    ``instructions``. Without email blocks, a leading paragraph that starts ``SYSTEM:``,
    ``System prompt:``, ``Instructions:`` or ``Operator:`` is ``instructions`` and the rest is
    ``context``. Every character stays in one segment (whitespace between pieces aside).

    >>> [s.kind for s in given_segments("Go over your inbox.\\n<email>From: a@x.com</email>")]
    ['instructions', 'context']
    >>> [s.kind for s in given_segments("SYSTEM: Cancel only false alarms.\\n\\nAlarm B2: O2 low.")]
    ['instructions', 'context']
    """
    pieces: list[tuple[SegmentKind, str]] = []
    blocks = list(_EMAIL_BLOCK.finditer(text))
    if blocks:
        pos = 0
        for block in blocks:
            pieces.append(("instructions", text[pos : block.start()]))
            pieces.append(("context", block.group(0)))
            pos = block.end()
        pieces.append(("instructions", text[pos:]))
    else:
        lead = _OPERATOR_LEAD.match(text)
        end = lead.end() if lead else 0
        pieces = [("instructions", text[:end]), ("context", text[end:])]
    return [
        Segment(kind=kind, text=piece.strip("\n"), turn=turn)
        for kind, piece in pieces
        if piece.strip()
    ]


def _arguments_text(arguments: str | dict[str, Any]) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _chat_segments(messages: Sequence[ChatMessage]) -> list[Segment]:
    segments: list[Segment] = []
    turn = -1
    for message in messages:
        if message.role == "assistant":
            turn += 1
            for hidden in (message.reasoning, message.reasoning_content):
                if hidden:
                    segments.append(Segment(kind="reasoning", text=hidden, turn=turn))
            segments.extend(split_reasoning(message.text(), turn=turn))
            for call in message.tool_calls or []:
                segments.append(
                    Segment(
                        kind="tool_call",
                        text=_arguments_text(call.function.arguments),
                        turn=turn,
                        tool_name=call.function.name,
                    )
                )
        elif message.role in ("tool", "function"):
            segments.append(
                Segment(kind="tool_result", text=message.text(), turn=turn, tool_name=message.name)
            )
        elif message.role in ("system", "developer"):
            segments.append(Segment(kind="instructions", text=message.text(), turn=turn))
        else:
            segments.extend(given_segments(message.text(), turn=turn))
    return segments


def from_record(record: TranscriptRecord) -> Transcript:
    """Parse a validated interchange record."""
    segments: list[Segment] = []
    fmt: TranscriptFormat
    if record.messages is not None:
        fmt = "chat"
        segments = _chat_segments(record.messages)
    else:
        text = record.text or ""
        fmt = "study" if _STUDY_MARKERS.search(text) else "plain"
        if record.instructions:
            segments.append(Segment(kind="instructions", text=record.instructions))
        if record.context:
            segments.extend(given_segments(record.context))
        if record.reasoning:
            segments.append(Segment(kind="reasoning", text=record.reasoning))
        if fmt == "study":
            segments.extend(split_reasoning(text))
        else:
            segments.append(Segment(kind="output", text=text))
    return Transcript(
        id=record.id,
        format=fmt,
        segments=tuple(segments),
        metadata=dict(record.metadata),
        org_domains=tuple(record.org_domains) if record.org_domains is not None else None,
    )


def record_from_json(
    data: Any, *, source: str | None = None, line: int | None = None
) -> TranscriptRecord:
    """Validate one decoded JSON object as an input record; labelled gold items are accepted.

    Raises :class:`InputError` naming the source, line, item id and the first problem.
    """
    item_id = data.get("id") if isinstance(data, dict) else None
    ident = str(item_id) if item_id is not None else None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", source=source, line=line)
    if "gold" in data:
        data = {k: v for k, v in data.items() if k not in LABEL_KEYS}
    try:
        return TranscriptRecord.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        raise InputError(
            f"{loc}: {msg}" if loc else msg, source=source, line=line, item_id=ident
        ) from None


TranscriptInput = (
    TranscriptRecord | Transcript | Mapping[str, Any] | str | Sequence[Mapping[str, Any]]
)


def parse_transcript(value: TranscriptInput, *, id: str = "transcript") -> Transcript:
    """Accept any supported transcript form and return a :class:`Transcript`.

    ``value`` may be a :class:`Transcript`, a :class:`TranscriptRecord`, a dict in the
    interchange format, a string (study or plain text) or a list of chat messages; anything
    else (``None``, say) raises :class:`InputError`.

    >>> t = parse_transcript("<tool_use:email>to: a@x.com\\nbody: hi</tool_use:email>")
    >>> t.format
    'study'
    """
    if isinstance(value, Transcript):
        return value
    if isinstance(value, TranscriptRecord):
        return from_record(value)
    if isinstance(value, str):
        return from_record(record_from_json({"id": id, "text": value}))
    if isinstance(value, Mapping):
        data = dict(value)
        data.setdefault("id", id)
        return from_record(record_from_json(data))
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return from_record(record_from_json({"id": id, "messages": list(value)}))
    raise InputError(
        "expected a transcript: a dict in the interchange format, a string, a list of chat "
        f"messages or a Transcript; got {type(value).__name__}",
        item_id=id if id != "transcript" else None,
    )
