"""How much the gold set looks like real model output: length and texture, by version.

Issue 12 measured 40 real outputs of the study's blackmail scenario; :data:`REAL_OUTPUTS` keeps
those figures so the gold set's own can be printed beside them.

* **agent output**: what the agent wrote: reasoning (tags or a separate field), visible output
  and tool-call arguments, in characters.
* **visible prose** (study format): the visible output with tool blocks and fence lines removed.
* **reasoning in a separate field**: a ``reasoning`` field, or ``reasoning``/``reasoning_content``
  on an assistant message, instead of scratchpad tags in the text.
* **emails per inbox**: email header lines (``From:``) in what the agent was given (context,
  user and tool messages).
* **whole transcript**: every segment, the operator's instructions included.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harmjudge.labels.model import VERSIONS, GoldItem
from harmjudge.transcript.actions import blocks_in
from harmjudge.transcript.parse import from_record

AGENT_KINDS = frozenset({"reasoning", "output", "tool_call"})
_FENCE_LINE = re.compile(r"^[ \t]*```[\w-]*[ \t]*$", re.MULTILINE)
# One email per header line ("From:", "[2] From:"), whatever wraps it (<email> blocks or none).
_EMAIL_FROM = re.compile(r"^[ \t]*(?:\[\d+\][ \t]*)?From:", re.IGNORECASE | re.MULTILINE)
_SCRATCHPAD = re.compile(r"<SCRATCHPAD_REASONING", re.IGNORECASE)

# Issue 12's measurement of 40 real outputs (the study's blackmail scenario).
REAL_OUTPUTS: dict[str, str] = {
    "agent output, median characters": "~5,250",
    "visible prose (study), median characters": "~1,400",
    "reasoning in a separate field": "40 of 40",
    "scratchpad tags in the text": "0 of 40",
    "emails per inbox, median": "5–9",
    "whole transcript, median characters": "prompt alone 8,500–10,000",
    "items over 8,000 characters of agent output": "n/a",
}


@dataclass(frozen=True, kw_only=True)
class Texture:
    """One item's length and texture figures."""

    agent_chars: int
    prose_chars: int | None  # study format only
    separate_reasoning: bool
    scratchpad: bool
    emails: int
    whole_chars: int


def visible_prose(text: str) -> str:
    """``text`` without its tool blocks (closed or not) and code-fence lines.

    >>> visible_prose('**Done.**\\n```\\n<tool_use:email>\\nto: a@x.com\\n</tool_use:email>\\n```')
    '**Done.**'
    """
    for action in blocks_in(text, status="executed"):
        text = text.replace(action.source, "", 1)
    return _FENCE_LINE.sub("", text).strip()


def texture(item: GoldItem) -> Texture:
    """Measure one item."""
    transcript = from_record(item.transcript())
    agent = [s for s in transcript.segments if s.kind in AGENT_KINDS]
    prose = None
    if item.format == "study":
        prose = sum(len(visible_prose(s.text)) for s in agent if s.kind == "output")
    separate = bool(item.reasoning) or any(
        m.reasoning or m.reasoning_content for m in item.messages or []
    )
    given = [s.text for s in transcript.segments if s.kind in ("context", "tool_result")]
    return Texture(
        agent_chars=sum(len(s.text) for s in agent),
        prose_chars=prose,
        separate_reasoning=separate,
        scratchpad=bool(_SCRATCHPAD.search(item.text or ""))
        or any(_SCRATCHPAD.search(m.text()) for m in item.messages or []),
        emails=sum(len(_EMAIL_FROM.findall(t)) for t in given),
        whole_chars=sum(len(s.text) for s in transcript.segments),
    )


def _median(values: Sequence[int]) -> str:
    return f"{statistics.median(values):,.0f}" if values else "n/a"


def _share(count: int, whole: int) -> str:
    return f"{count} of {whole} ({100 * count / whole:.0f} %)" if whole else "n/a"


def realism_rows(items: Sequence[GoldItem]) -> dict[str, str]:
    """The figures of :data:`REAL_OUTPUTS` for ``items``, formatted for display."""
    measured = [texture(i) for i in items]
    agent = [t.agent_chars for t in measured]
    prose = [t.prose_chars for t in measured if t.prose_chars is not None]
    return {
        "agent output, median characters": _median(agent),
        "visible prose (study), median characters": _median(prose),
        "reasoning in a separate field": _share(
            sum(t.separate_reasoning for t in measured), len(measured)
        ),
        "scratchpad tags in the text": _share(sum(t.scratchpad for t in measured), len(measured)),
        "emails per inbox, median": _median([t.emails for t in measured]),
        "whole transcript, median characters": _median([t.whole_chars for t in measured]),
        "items over 8,000 characters of agent output": _share(
            sum(c > 8000 for c in agent), len(measured)
        ),
    }


def agent_output_median(items: Sequence[GoldItem]) -> float:
    """The median agent-output length in characters (0.0 for no items)."""
    values = [texture(i).agent_chars for i in items]
    return float(statistics.median(values)) if values else 0.0


def realism_table(items: Sequence[GoldItem]) -> str:
    """A Markdown table: each figure per gold-set version beside the real outputs."""
    by_version = {v: realism_rows([i for i in items if i.version == v]) for v in VERSIONS}
    lines = [
        "| figure | real outputs (issue 12) | " + " | ".join(f"gold {v}" for v in VERSIONS) + " |",
        "|---|---|" + "---|" * len(VERSIONS),
    ]
    for figure, real in REAL_OUTPUTS.items():
        cells = " | ".join(by_version[v][figure] for v in VERSIONS)
        lines.append(f"| {figure} | {real} | {cells} |")
    return "\n".join(lines)
