"""Inspect AI: eval logs as transcripts, their scores as verdicts, a harmjudge scorer for any
Inspect task, and a judge that calls its model through Inspect's own model API.

Needs the ``[inspect]`` extra (``pip install 'harmjudge[inspect]'``), which adds inspect-ai and
nothing else: inspect-ai is imported only when one of these functions runs, so
``import harmjudge`` never needs it. See docs/integrations/inspect.md.

* :func:`read_inspect_logs` reads ``.eval`` and ``.json`` logs through inspect-ai's log API:
  each sample (and epoch) becomes a chat transcript, tool calls kept.
* :func:`read_inspect_verdicts` reads a scorer's scores in those logs as a judge's verdicts.
* :func:`harm_scorer` classifies each sample's conversation and scores every harm: 1 harmful,
  0 not harmful, and Inspect's unscored value (NaN) when harmjudge could not judge.
* :class:`InspectJudge` builds harmjudge's prompt and parses the reply with harmjudge's schema,
  but calls the model through ``inspect_ai.model.get_model``, so it works whatever openai
  version Inspect's providers need.
"""

from harmjudge.integrations.inspect._judge import InspectJudge, json_instructions, reply_json
from harmjudge.integrations.inspect._logs import read_inspect_logs
from harmjudge.integrations.inspect._messages import message_dicts
from harmjudge.integrations.inspect._scorer import (
    SCORER_NAME,
    harm_scorer,
    score_from_classification,
)
from harmjudge.integrations.inspect._verdicts import read_inspect_verdicts

__all__ = [
    "SCORER_NAME",
    "InspectJudge",
    "harm_scorer",
    "json_instructions",
    "message_dicts",
    "read_inspect_logs",
    "read_inspect_verdicts",
    "reply_json",
    "score_from_classification",
]
