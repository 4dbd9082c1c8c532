"""Reading Inspect eval logs: every sample (and epoch) of ``.eval`` and ``.json`` logs as a
chat transcript, through inspect-ai's own log API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from harmjudge.errors import InputError
from harmjudge.integrations._extras import require_inspect
from harmjudge.integrations._records import one_line, sourced, unique_ids
from harmjudge.integrations.am_results import condition_from_metadata
from harmjudge.integrations.inspect._messages import declared_domains, message_dicts
from harmjudge.transcript.io import SourcedRecord

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog, EvalSample
    from inspect_ai.model import ChatMessage
    from inspect_ai.scorer import Score


@dataclass(frozen=True, kw_only=True)
class LogSample:
    """One sample of one log, with the log's header and where it was found."""

    source: str
    position: int
    header: EvalLog
    sample: EvalSample

    @property
    def id(self) -> str:
        """``<task>/<model>/<sample id>``, with ``#<epoch>`` when the eval ran more than one
        epoch: unique across logs of other tasks or models on the same samples."""
        epochs = self.header.eval.config.epochs or 1
        base = f"{self.header.eval.task}/{self.header.eval.model}/{self.sample.id}"
        return base if epochs <= 1 else f"{base}#{self.sample.epoch}"

    def metadata(self) -> dict[str, Any]:
        """The transcript metadata: the sample's own, the study's condition keys it implies (as
        the am-results reader writes them), what the log knows (``source``, ``task``,
        ``model``, ``sample``, ``epoch``) and the ``inspect`` entry."""
        sample = self.sample
        own = dict(sample.metadata)
        condition = condition_from_metadata(own)
        derived = condition.to_metadata() if condition is not None else {}
        metadata = {k: v for k, v in derived.items() if v is not None and k not in own} | own
        known = {
            "source": "inspect",
            "task": self.header.eval.task,
            "model": self.header.eval.model,
            "sample": str(sample.id),
            "epoch": sample.epoch,
        }
        replaced = {k: own[k] for k, v in known.items() if k in own and own[k] != v}
        metadata.update(known)
        metadata["inspect"] = {
            "log": self.source,
            "task": self.header.eval.task,
            "model": self.header.eval.model,
            "sample_id": sample.id,
            "epoch": sample.epoch,
            "target": sample.target,
            "scores": {name: _score_summary(s) for name, s in (sample.scores or {}).items()},
            "error": sample.error.message if sample.error is not None else None,
        }
        if replaced:
            metadata["inspect"]["replaced"] = replaced
        return metadata

    @property
    def harm(self) -> str | None:
        """The harm the sample tests, when its metadata says (``harm``, or the study's
        scenario)."""
        harm = self.metadata().get("harm")
        return harm if isinstance(harm, str) else None


def _local_path(name: str) -> str:
    """A local path for a listed log (inspect-ai lists local logs as ``file://`` URIs).

    >>> _local_path("file:///tmp/my%20logs/a.eval")
    '/tmp/my logs/a.eval'
    """
    if not name.startswith("file://"):
        return name
    return url2pathname(urlparse(name).path)


def _log_files(paths: Iterable[str | Path]) -> Iterator[str | InputError]:
    from inspect_ai.log import list_eval_logs

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(_local_path(info.name) for info in list_eval_logs(str(path)))
            if not found:
                yield InputError(
                    "no Inspect logs (.eval or .json) below this folder", source=str(path)
                )
            yield from found
        elif path.exists():
            yield str(path)
        else:
            yield InputError("cannot open (No such file or directory)", source=str(path))


def _samples_of(source: str) -> Iterator[EvalSample]:
    from inspect_ai.log import read_eval_log, read_eval_log_samples

    header = read_eval_log(source, header_only=True)
    if header.eval.dataset.sample_ids is None:  # older logs: read whole
        yield from read_eval_log(source, resolve_attachments=True).samples or []
        return
    yield from read_eval_log_samples(
        source,
        all_samples_required=False,
        resolve_attachments=True,
        exclude_fields={"events", "store"},
    )


def log_samples(paths: Iterable[str | Path]) -> Iterator[LogSample | InputError]:
    require_inspect()
    from inspect_ai.log import read_eval_log

    for source in _log_files(paths):
        if isinstance(source, InputError):
            yield source
            continue
        position = 0
        try:
            header = read_eval_log(source, header_only=True)
            for position, sample in enumerate(_samples_of(source), 1):
                yield LogSample(source=source, position=position, header=header, sample=sample)
        except Exception as exc:  # any unreadable log is one error; the others are read
            yield InputError(
                f"cannot read as an Inspect log: {type(exc).__name__}: {one_line(str(exc))}",
                source=source,
                line=position + 1 if position else None,
            )


def _score_summary(score: Score) -> dict[str, Any]:
    return score.model_dump(mode="python", include={"value", "answer", "explanation", "reason"})


def _conversation(sample: EvalSample) -> list[ChatMessage]:
    from inspect_ai.model import ChatMessageUser

    if sample.messages:
        return list(sample.messages)
    given: list[ChatMessage] = (
        [ChatMessageUser(content=sample.input)]
        if isinstance(sample.input, str)
        else list(sample.input)
    )
    return given + ([sample.output.message] if sample.output.choices else [])


def _record(entry: LogSample) -> SourcedRecord | InputError:
    sample = entry.sample
    data: dict[str, Any] = {
        "id": entry.id,
        "messages": message_dicts(_conversation(sample)),
        "metadata": entry.metadata(),
    }
    domains = declared_domains(sample.metadata)
    if domains is not None:
        data["org_domains"] = domains
    return sourced(data, source=entry.source, line=entry.position)


def read_inspect_logs(paths: Iterable[str | Path]) -> Iterator[SourcedRecord | InputError]:
    """Read Inspect eval logs (``.eval`` archives or ``.json``; a folder is searched for them)
    as transcripts, through inspect-ai's log API.

    Each sample becomes a chat transcript of its whole conversation (input, replies, tool calls
    and tool results). Its id is ``<task>/<model>/<sample id>``, followed by ``#<epoch>`` when
    the eval ran several epochs, so logs of other tasks or models on the same samples never
    clash. Its metadata is the sample's own, plus the study's condition keys when the sample
    names one (``condition``, ``scenario``, ``goal_type``, ``goal_value``, ``urgency``,
    ``variant``, ``harm``, as :func:`~harmjudge.integrations.read_am_results` writes them), plus
    ``source`` (``inspect``), ``task``, ``model`` (the model under test), ``sample`` and
    ``epoch``, and an ``inspect`` entry (log, task, model, sample id, epoch, target, existing
    scores, error, and the sample's own values that those keys ``replaced``). A sample whose
    metadata has an
    ``org_domains`` list declares the organisation's domains. A log that cannot be read is one
    :class:`InputError`; like :func:`harmjudge.transcript.io.read_records`, the reader never
    stops, and a repeated id is an error for the later sample.
    """
    require_inspect()  # now, not at the first item: a missing extra is a usage error

    def records() -> Iterator[SourcedRecord | InputError]:
        for entry in log_samples(paths):
            yield entry if isinstance(entry, InputError) else _record(entry)

    return unique_ids(records())
