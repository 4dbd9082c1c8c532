"""Verdict tables: any judge's verdicts keyed by (item id, harm), from harmjudge's own results or
from another judge's JSONL through a field mapping."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harmjudge.errors import InputError, UsageError
from harmjudge.judges.verdict import Classification, Label

VerdictLabel = Literal["harmful", "not_harmful", "unjudged"]

DEFAULT_LABELS: Mapping[str, VerdictLabel] = {
    "harmful": "harmful",
    "not_harmful": "not_harmful",
    "unjudged": "unjudged",
    "true": "harmful",
    "false": "not_harmful",
    "yes": "harmful",
    "no": "not_harmful",
    "1": "harmful",
    "0": "not_harmful",
}
FIELDS = ("id", "harm", "label", "confidence")
GIVE_UP_AFTER = 100
"""A file whose first this many lines are all errors is not read further: it is not verdicts
(or its fields need mapping), and one error per line would only repeat that."""


@dataclass(frozen=True, kw_only=True)
class VerdictRow:
    """One verdict: its label, the judge's confidence in that label, and the gate status when
    the verdict came from harmjudge (``pass``, ``fail``, ``undetermined``); ``kind`` is the
    verdict's kind, for harms that have kinds."""

    label: VerdictLabel
    confidence: float | None = None
    gate: str | None = None
    gated: bool = False
    kind: str | None = None

    @property
    def p_harmful(self) -> float | None:
        """The judge's probability that the item is harmful, when it gave a confidence."""
        if self.confidence is None or self.label == "unjudged":
            return None
        return self.confidence if self.label == "harmful" else 1.0 - self.confidence


@dataclass(frozen=True, kw_only=True)
class VerdictTable:
    """A judge's verdicts by (item id, harm), with the input errors met while reading them."""

    name: str
    rows: Mapping[tuple[str, str], VerdictRow]
    errors: tuple[InputError, ...] = ()
    sources: tuple[str, ...] = field(default_factory=tuple)

    def get(self, item_id: str, harm: str) -> VerdictRow | None:
        return self.rows.get((item_id, harm))

    @property
    def has_gates(self) -> bool:
        return any(r.gate is not None for r in self.rows.values())


def table_from_classifications(name: str, results: Iterable[Classification]) -> VerdictTable:
    """A table from harmjudge's own results."""
    rows: dict[tuple[str, str], VerdictRow] = {}
    for result in results:
        for harm, verdict in result.verdicts.items():
            rows[(result.id, harm)] = VerdictRow(
                label=verdict.label.value,
                confidence=verdict.confidence,
                gate=verdict.gate.status.value if verdict.gate is not None else None,
                gated=verdict.gated,
                kind=verdict.kind,
            )
    return VerdictTable(name=name, rows=rows)


def _label(value: Any, labels: Mapping[str, VerdictLabel]) -> VerdictLabel:
    if isinstance(value, Label):
        return value.value
    key = str(value).strip().lower()
    if key not in labels:
        known = ", ".join(sorted(labels))
        raise ValueError(
            f"label {value!r} is not mapped; known labels: {known} (map more with labels=)"
        )
    return labels[key]


def _confidence(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"confidence {value!r} is not in [0, 1]")
    return number


def _lookup(record: Mapping[str, Any], path: str) -> Any:
    """A field by name, or a dotted path into nested objects (``scores.blackmail.label``)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _rows_of(
    record: Mapping[str, Any], fields: Mapping[str, str], labels: Mapping[str, VerdictLabel]
) -> Iterator[tuple[tuple[str, str], VerdictRow]]:
    if isinstance(record.get("verdicts"), Mapping) and "id" in record and not fields:
        for harm, verdict in record["verdicts"].items():
            gate = verdict.get("gate") or {}
            yield (
                (str(record["id"]), str(harm)),
                VerdictRow(
                    label=_label(verdict["label"], labels),
                    confidence=_confidence(verdict.get("confidence")),
                    gate=gate.get("status"),
                    gated=bool(verdict.get("gated", False)),
                    kind=verdict.get("kind"),
                ),
            )
        return
    names = {key: fields.get(key, key) for key in FIELDS}
    item_id, harm, label = (_lookup(record, names[k]) for k in ("id", "harm", "label"))
    missing = [
        names[k] for k, v in (("id", item_id), ("harm", harm), ("label", label)) if v is None
    ]
    if missing:
        raise ValueError(
            f"missing field {', '.join(repr(m) for m in missing)} (map fields with fields=)"
        )
    yield (
        (str(item_id), str(harm)),
        VerdictRow(
            label=_label(label, labels),
            confidence=_confidence(_lookup(record, names["confidence"])),
        ),
    )


def label_map(labels: Mapping[str, str] | None, caller: str) -> dict[str, VerdictLabel]:
    """The default label values plus ``labels`` (lower-cased), checked in one message shape."""
    out: dict[str, VerdictLabel] = dict(DEFAULT_LABELS)
    for raw, target in (labels or {}).items():
        if target not in ("harmful", "not_harmful", "unjudged"):
            raise UsageError(
                f"The 'labels' parameter of {caller} must map to 'harmful', 'not_harmful' or "
                f"'unjudged'. Got {target!r}."
            )
        out[str(raw).strip().lower()] = target  # type: ignore[assignment]
    return out


def rows_of(
    record: Mapping[str, Any], fields: Mapping[str, str], labels: Mapping[str, VerdictLabel]
) -> list[tuple[tuple[str, str], VerdictRow]]:
    """The verdicts one record holds, by (id, harm); raises ``ValueError`` naming the problem."""
    return list(_rows_of(record, fields, labels))


class _Collector:
    """Rows and errors of one table, with the mapping checked once."""

    def __init__(
        self, fields: Mapping[str, str] | None, labels: Mapping[str, str] | None, caller: str
    ) -> None:
        self.fields = dict(fields or {})
        for key in self.fields:
            if key not in FIELDS:
                raise UsageError(
                    f"The 'fields' parameter of {caller} maps only {', '.join(FIELDS)}. Got {key!r}."
                )
        self.labels = label_map(labels, caller)
        self.rows: dict[tuple[str, str], VerdictRow] = {}
        self.errors: list[InputError] = []

    def add(self, record: Any, *, source: str, line: int) -> None:
        item_id = (
            _lookup(record, self.fields.get("id", "id")) if isinstance(record, Mapping) else None
        )
        ident = None if item_id is None else str(item_id)
        try:
            if not isinstance(record, Mapping):
                raise ValueError("expected a JSON object")
            found = rows_of(record, self.fields, self.labels)
        except (ValueError, KeyError, TypeError) as exc:
            self.errors.append(
                InputError(str(exc).strip("'\""), source=source, line=line, item_id=ident)
            )
            return
        for pair, row in found:
            if pair in self.rows:
                self.errors.append(
                    InputError(
                        f"duplicate verdict for harm {pair[1]!r}",
                        source=source,
                        line=line,
                        item_id=pair[0],
                    )
                )
                continue
            self.rows[pair] = row


def table_from_records(
    records: Iterable[Mapping[str, Any]],
    *,
    name: str,
    fields: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    source: str = "<records>",
    caller: str = "table_from_records",
) -> VerdictTable:
    """A table from in-memory records, read exactly as :func:`read_verdicts` reads JSONL lines
    (both layouts, the same mappings); record N is reported as line N of ``source``. ``caller``
    names the public function in parameter errors.

    >>> t = table_from_records([{"sample": "a", "harm": "leakage", "verdict": "yes"}],
    ...                        name="theirs", fields={"id": "sample", "label": "verdict"})
    >>> t.get("a", "leakage").label
    'harmful'
    """
    collector = _Collector(fields, labels, caller)
    for number, record in enumerate(records, 1):
        collector.add(record, source=source, line=number)
    return VerdictTable(
        name=name, rows=collector.rows, errors=tuple(collector.errors), sources=(source,)
    )


def read_verdicts(
    paths: Iterable[str | Path],
    *,
    name: str | None = None,
    fields: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> VerdictTable:
    """Read verdicts from JSONL files.

    Two layouts are read: harmjudge's own output (``{"id", "verdicts": {harm: {...}}}``) and flat
    rows ``{"id", "harm", "label", "confidence"}``. ``fields`` maps those four keys to other
    names or dotted paths; ``labels`` maps other label values to ``harmful``, ``not_harmful`` or
    ``unjudged`` (added to the defaults: true/false, yes/no, 1/0). A bad line becomes an
    :class:`InputError` in ``errors`` and the rest is read; a repeated (id, harm) keeps the first.
    A file whose first :data:`GIVE_UP_AFTER` lines are all errors is given up, with one more
    error saying how many lines were left unread.
    """
    collector = _Collector(fields, labels, "read_verdicts")
    sources = [str(p) for p in paths]
    for source in sources:
        try:
            lines = Path(source).read_bytes().splitlines()
        except OSError as exc:
            collector.errors.append(InputError(f"cannot open ({exc.strerror})", source=source))
            continue
        rows_before, errors_before = len(collector.rows), len(collector.errors)
        for number, raw_line in enumerate(lines, 1):
            if (
                len(collector.rows) == rows_before
                and len(collector.errors) - errors_before >= GIVE_UP_AFTER
            ):
                collector.errors.append(
                    InputError(
                        f"none of the first {GIVE_UP_AFTER} lines is a verdict; the other "
                        f"{len(lines) - number + 1} lines were not read",
                        source=source,
                    )
                )
                break
            if not raw_line.strip():
                continue
            try:
                record = json.loads(raw_line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                collector.errors.append(
                    InputError(
                        f"invalid UTF-8 at column {exc.start + 1}", source=source, line=number
                    )
                )
                continue
            except ValueError as exc:
                collector.errors.append(InputError(str(exc), source=source, line=number))
                continue
            except RecursionError:
                collector.errors.append(
                    InputError("nested too deeply to read", source=source, line=number)
                )
                continue
            collector.add(record, source=source, line=number)
    label = name or (Path(sources[0]).stem if sources else "verdicts")
    return VerdictTable(
        name=label, rows=collector.rows, errors=tuple(collector.errors), sources=tuple(sources)
    )
