"""Inspect chat messages as harmjudge's input messages, and what a sample's metadata declares.

Shared by the log reader (a stored sample's conversation) and the scorer (a live one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inspect_ai.model import ChatMessage


def message_dicts(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Inspect chat messages as harmjudge's input messages (OpenAI chat format).

    Text parts are joined; an assistant's reasoning parts become its hidden ``reasoning``
    (a redacted one contributes its summary, if any); tool calls keep their name and arguments,
    and a server-side tool use (web search, code execution) becomes a tool call followed by its
    result. Images, audio and other media are left out.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "assistant":
            reasoning: list[str] = []
            calls: list[dict[str, Any]] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function, "arguments": call.arguments},
                }
                for call in message.tool_calls or []
            ]
            results: list[dict[str, Any]] = []
            for part in message.content if isinstance(message.content, list) else []:
                if part.type == "reasoning":
                    text = part.summary if part.redacted else part.reasoning
                    if text:
                        reasoning.append(text)
                elif part.type == "tool_use":
                    calls.append(
                        {
                            "id": part.id,
                            "type": "function",
                            "function": {"name": part.name, "arguments": part.arguments},
                        }
                    )
                    result = part.result if not part.error else f"{part.result}\n{part.error}"
                    results.append(
                        {
                            "role": "tool",
                            "tool_call_id": part.id,
                            "name": part.name,
                            "content": result,
                        }
                    )
            entry: dict[str, Any] = {"role": "assistant", "content": message.text}
            if reasoning:
                entry["reasoning"] = "\n\n".join(reasoning)
            if calls:
                entry["tool_calls"] = calls
            out.append(entry)
            out.extend(results)
        elif message.role == "tool":
            text = message.text
            if message.error is not None:
                text = f"{text}\n[tool error: {message.error.message}]".strip()
            out.append(
                {
                    "role": "tool",
                    "content": text,
                    "tool_call_id": message.tool_call_id,
                    "name": message.function,
                }
            )
        else:
            out.append({"role": message.role, "content": message.text})
    return out


def declared_domains(metadata: Mapping[str, Any]) -> list[str] | None:
    """The organisation's domains a sample's metadata declares (an ``org_domains`` list)."""
    value = metadata.get("org_domains")
    if isinstance(value, list) and all(isinstance(d, str) for d in value):
        return value
    return None
