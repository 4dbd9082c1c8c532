"""Read the gold set: every line a :class:`GoldItem`, or the error it caused."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harmjudge.errors import InputError
from harmjudge.labels.model import GoldItem
from harmjudge.transcript.io import read_jsonl


@dataclass(frozen=True, kw_only=True)
class SourcedItem:
    """A gold item with the file and line it came from."""

    item: GoldItem
    source: str
    line: int


def default_labels_path() -> Path:
    """The bundled gold set (``labels/`` of the source tree, shipped as ``harmjudge/gold``)."""
    return Path(str(resources.files("harmjudge").joinpath("gold")))


def _error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    msg = msg.removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def _parse_gold(data: Any, source: str, line: int) -> GoldItem:
    ident = str(data["id"]) if isinstance(data, dict) and "id" in data else None
    try:
        return GoldItem.model_validate(data)
    except ValidationError as exc:
        raise InputError(_error(exc), source=source, line=line, item_id=ident) from None


def read_gold(paths: Iterable[str | Path]) -> Iterator[SourcedItem | InputError]:
    """Yield each line of the gold files as a :class:`SourcedItem` or an :class:`InputError`."""
    for entry in read_jsonl(paths, _parse_gold):
        if isinstance(entry, InputError):
            yield entry
        else:
            yield SourcedItem(item=entry.value, source=entry.source, line=entry.line)


def load_gold(paths: Iterable[str | Path] | None = None) -> list[SourcedItem]:
    """Every gold item; raises the first :class:`InputError` (use :func:`read_gold` to go on)."""
    chosen = list(paths) if paths is not None else [default_labels_path()]
    items: list[SourcedItem] = []
    for entry in read_gold(chosen):
        if isinstance(entry, InputError):
            raise entry
        items.append(entry)
    return items
