"""Turn interchange records, raw text or chat messages into a :class:`Transcript`.

Study-format text is split into reasoning (``<SCRATCHPAD_REASONING>``, ``<thinking>``) and
visible output. An unclosed reasoning tag ends at the first tool block that starts a line, so
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
    Transcript,
    TranscriptFormat,
    TranscriptRecord,
)

_REASONING_OPEN = re.compile(r"<(SCRATCHPAD_REASONING|thinking|think)\b[^>]*>", re.IGNORECASE)
_TOOL_LINE = re.compile(
    r"^[ \t]*(?:```[\w-]*[ \t]*\n[ \t]*)?<tool_use:", re.IGNORECASE | re.MULTILINE
)
_STUDY_MARKERS = re.compile(r"<tool_use:|<SCRATCHPAD_REASONING", re.IGNORECASE)

# Keys of a labelled gold item (see labels/README.md) that the classifier reads past.
LABEL_KEYS = frozenset({"scenario", "format", "gold", "tags", "annotations", "split"})


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
        else:
            segments.append(Segment(kind="context", text=message.text(), turn=turn))
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
        if record.context:
            segments.append(Segment(kind="context", text=record.context))
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
