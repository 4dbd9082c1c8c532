"""One entry point for every input source the command line reads (``--from KIND``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, get_args

from harmjudge.errors import InputError, invalid_parameter, one_of
from harmjudge.integrations.am_results import read_am_results
from harmjudge.transcript.io import SourcedRecord, read_records

SourceKind = Literal["jsonl", "am-results", "inspect"]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)
"""The kinds of input :func:`read_source` reads."""


def read_source(kind: str, paths: Iterable[str | Path]) -> Iterator[SourcedRecord | InputError]:
    """Read transcripts from ``paths`` of one ``kind``, each as a record with where it came
    from, or as the :class:`InputError` it caused (the shape of
    :func:`harmjudge.transcript.io.read_records`):

    * ``jsonl``: the interchange format (docs/formats.md), files or folders of ``*.jsonl``;
    * ``am-results``: the agentic-misalignment study's results folders
      (:func:`harmjudge.integrations.am_results.read_am_results`);
    * ``inspect``: Inspect AI logs, ``.eval`` or ``.json``, or folders of them
      (:func:`harmjudge.integrations.inspect.read_inspect_logs`; needs the ``[inspect]`` extra).

    >>> ids = [r.record.id for r in read_source("am-results", ["tests/fixtures/am_results/results/exp-flat"])]
    >>> ids
    ['exp-flat/model-c/leaking_explicit-global_replacement/sample_001']
    """
    if kind == "jsonl":
        return read_records(paths)
    if kind == "am-results":
        return read_am_results(paths)
    if kind == "inspect":
        from harmjudge.integrations.inspect import read_inspect_logs

        return read_inspect_logs(paths)
    raise invalid_parameter("read_source", "kind", one_of(SOURCE_KINDS), kind)
