"""Reading a scorer's scores in Inspect logs as a judge's verdicts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harmjudge.errors import InputError
from harmjudge.integrations.inspect._logs import LogSample, log_samples
from harmjudge.integrations.inspect._scorer import SCORER_NAME
from harmjudge.metrics.verdicts import VerdictLabel, VerdictRow, VerdictTable, label_map, rows_of


def _value_label(value: Any, labels: Mapping[str, VerdictLabel]) -> VerdictLabel:
    """A score value as a label: 1 harmful, 0 not harmful, NaN or None unjudged, strings mapped.

    >>> from harmjudge.metrics.verdicts import DEFAULT_LABELS
    >>> [_value_label(v, DEFAULT_LABELS) for v in (1.0, 0, float("nan"), True, "yes")]
    ['harmful', 'not_harmful', 'unjudged', 'harmful', 'harmful']
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unjudged"
    if isinstance(value, bool):
        return "harmful" if value else "not_harmful"
    if isinstance(value, int | float) and value in (0, 1):
        return "harmful" if value == 1 else "not_harmful"
    key = str(value).strip().lower()
    if key not in labels:
        raise ValueError(
            f"score value {value!r} is not 0, 1 or a mapped label (map it with labels=)"
        )
    return labels[key]


def _rows_of_score(
    entry: LogSample,
    scorer: str,
    harm: str | None,
    key: str | None,
    labels: Mapping[str, VerdictLabel],
) -> list[tuple[tuple[str, str], VerdictRow]]:
    scores = entry.sample.scores or {}
    if scorer not in scores:
        have = ", ".join(sorted(scores)) or "none"
        raise ValueError(f"no score from scorer {scorer!r} (scores here: {have})")
    score = scores[scorer]
    value: Any = score.value
    if harm is None and key is None:
        own = (score.metadata or {}).get("harmjudge")
        if isinstance(own, dict) and isinstance(own.get("verdicts"), dict):
            return rows_of({"id": entry.id, "verdicts": own["verdicts"]}, {}, labels)
    tested = entry.harm
    if key is not None:
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"score {scorer!r} has no key {key!r}")
        value = value[key]
    elif harm is None and isinstance(value, dict):
        if tested is not None and tested not in value:
            have = ", ".join(sorted(map(str, value)))
            raise ValueError(
                f"score {scorer!r} has no entry for this sample's harm {tested!r} "
                f"(entries: {have}); pass key= to read one entry as the sample's harm"
            )
        return [
            ((entry.id, str(h)), VerdictRow(label=_value_label(v, labels)))
            for h, v in value.items()
        ]
    if harm is not None and tested is not None and tested != harm:
        raise ValueError(
            f"this sample tests {tested!r} (its metadata's harm), not {harm!r}; "
            "leave out harm= to read each sample as the harm it tests"
        )
    target = harm or tested
    if target is None:
        raise ValueError(
            f"score {scorer!r} is not keyed by harm and the sample's metadata names no harm; "
            "pass harm= to name its harm"
        )
    return [((entry.id, target), VerdictRow(label=_value_label(value, labels)))]


def read_inspect_verdicts(
    paths: Iterable[str | Path],
    *,
    scorer: str = SCORER_NAME,
    harm: str | None = None,
    key: str | None = None,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> VerdictTable:
    """One scorer's scores in Inspect logs as a judge's :class:`~harmjudge.metrics.VerdictTable`,
    keyed by the same ids as :func:`read_inspect_logs`.

    harmjudge's own scorer (the default, ``scorer="harmjudge"``) is read with its confidences
    and gates from the score metadata. Another scorer's value (or ``value[key]`` for one entry
    of a dictionary value) is read as the label of ``harm``, or, without ``harm``, of the harm
    the sample tests, from its metadata (``harm``, or the study's scenario: ``blackmail`` →
    blackmail, ``leaking`` → leakage, ``murder`` → lethal_override). So the study's Inspect
    port, whose ``harmfulness_scorer`` gives ``{"harmful": 1.0, "classifier_verdict": 0.0}``,
    is read with ``key="harmful"``, each sample as its own scenario's harm. A dictionary value
    read without ``key`` is keyed by harm ids, each entry its harm's label. Labels: 1 or true
    is harmful, 0 or false not harmful, NaN or none unjudged; other values go through
    ``labels`` as in :func:`~harmjudge.metrics.verdicts.read_verdicts` (e.g.
    ``{"C": "not_harmful"}``). A sample without that score, with no harm to read it as, or
    whose metadata names another harm than ``harm``, is an error in ``errors``.
    """
    label_lookup = label_map(labels, "read_inspect_verdicts")
    sources = tuple(str(p) for p in paths)
    rows: dict[tuple[str, str], VerdictRow] = {}
    errors: list[InputError] = []
    for entry in log_samples(sources):
        if isinstance(entry, InputError):
            errors.append(entry)
            continue
        try:
            found = _rows_of_score(entry, scorer, harm, key, label_lookup)
        except (ValueError, KeyError, TypeError) as exc:
            errors.append(
                InputError(
                    str(exc).strip("'\""),
                    source=entry.source,
                    line=entry.position,
                    item_id=entry.id,
                )
            )
            continue
        for pair, row in found:
            if pair in rows:
                errors.append(
                    InputError(
                        f"duplicate verdict for harm {pair[1]!r}",
                        source=entry.source,
                        line=entry.position,
                        item_id=pair[0],
                    )
                )
                continue
            rows[pair] = row
    return VerdictTable(name=name or scorer, rows=rows, errors=tuple(errors), sources=sources)
