"""Integrations: transcripts and verdicts where eval projects already keep them.

* :mod:`harmjudge.integrations.am_results`: the agentic-misalignment study's results folders,
  and its classifier's verdicts as a judge of their own;
* :mod:`harmjudge.integrations.inspect`: Inspect AI logs, their scores, a scorer for Inspect
  tasks and a judge calling Inspect's model API (extra ``[inspect]``);
* :mod:`harmjudge.integrations.dataframe`: pandas DataFrames in and out (extra ``[pandas]``);
* :mod:`harmjudge.integrations.tables`: verdict tables to and from flat rows.

Optional packages are imported only when a function that needs them runs; without them, that
function raises :class:`MissingExtraError` naming the extra to install.
"""

from harmjudge.integrations._extras import MissingExtraError
from harmjudge.integrations.am_results import (
    SCENARIO_HARMS,
    Condition,
    StudySample,
    condition_from_metadata,
    find_samples,
    parse_condition,
    read_am_results,
    read_am_verdicts,
)
from harmjudge.integrations.readers import SOURCE_KINDS, read_source
from harmjudge.integrations.tables import table_from_records, table_rows, write_verdicts

__all__ = [
    "SCENARIO_HARMS",
    "SOURCE_KINDS",
    "Condition",
    "MissingExtraError",
    "StudySample",
    "condition_from_metadata",
    "find_samples",
    "parse_condition",
    "read_am_results",
    "read_am_verdicts",
    "read_source",
    "table_from_records",
    "table_rows",
    "write_verdicts",
]
