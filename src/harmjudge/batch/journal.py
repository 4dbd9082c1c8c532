"""The output file as an append-only journal: results are safe as soon as they arrive.

Each record is written whole, as one ``write`` to a file opened for appending, the moment its
item finishes, so a crash (even ``kill -9``) loses at most the items in flight. Rerunning the
same command reads the journal back and sends only what it lacks:

- an item with a classification record is done, unless the run retries unjudged items
  (``--retry-unjudged``) and one of its verdicts is ``unjudged``;
- an item whose verdicts are unjudged only for want of budget was never sent, and is sent again;
- an error record is never final: its line is read (and reported) again.

A last line cut short by a crash is dropped. When a run completes, the journal is rewritten
once, atomically (through a temporary ``.OUT.PID.tmp`` beside it, which the next run deletes
if a kill left it there), with one record per item in input order (a later record for an item
replaces an earlier one; classifications of items no longer in the input are kept at the end,
error records of such items dropped), so a resumed run ends with the same file as an
uninterrupted one. While a run writes it, the file is locked against a second run.

A journal belongs to one run configuration: a classification record with a different
provenance (model, prompt, harms, sampling…) is refused with a :class:`UsageError`.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from harmjudge.batch.records import RecordStatus, record_status
from harmjudge.batch.redact import Redactor
from harmjudge.errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True, slots=True)
class _Entry:
    offset: int
    length: int
    status: RecordStatus


def encode_record(record: Mapping[str, Any], redactor: Redactor | None = None) -> bytes:
    """One JSONL line: UTF-8, secrets scrubbed; a lone surrogate becomes a JSON escape."""
    text = json.dumps(record, ensure_ascii=False)
    if redactor is not None:
        text = redactor.scrub(text)
    return (text + "\n").encode("utf-8", "backslashreplace")


class Journal:
    """The output JSONL of a batch, opened for resuming (or, with ``overwrite``, afresh)."""

    def __init__(
        self, path: str | Path, *, overwrite: bool = False, redactor: Redactor | None = None
    ) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self._redactor = redactor
        self._fd: int | None = None
        self._size = 0
        self._entries: dict[str, _Entry] = {}
        self.dropped_tail = False
        self.foreign_lines = 0

    # -- opening ----------------------------------------------------------------------
    def open(self, provenance: Mapping[str, Any] | None = None, *, readonly: bool = False) -> None:
        """Lock the file, read what it holds (checking its provenance) and get ready to append.

        ``readonly`` (for a dry run) only reads: no lock, no file created, nothing truncated.
        """
        if self.path.exists() and not self.path.is_file():
            raise UsageError(f"{self.path}: the output must be a regular file")
        if readonly:
            if self.overwrite or not self.path.exists():
                return
            try:
                self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            except OSError as exc:
                raise UsageError(f"{self.path}: cannot read the output ({exc.strerror})") from None
            try:
                self._scan(provenance, truncate=False)
            except BaseException:
                self.close()
                raise
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            raise UsageError(f"{self.path}: cannot open the output ({exc.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise UsageError(
                    f"{self.path}: another harmjudge run is writing this file; wait for it or "
                    "choose another -o"
                ) from None
        self._fd = fd
        try:
            self._remove_orphans()
            if self.overwrite:
                os.ftruncate(fd, 0)
            else:
                self._scan(provenance, truncate=True)
            self._size = os.lseek(fd, 0, os.SEEK_END)
        except BaseException:
            self.close()
            raise

    def _temporary(self, pid: int) -> Path:
        """The file :meth:`finalize` writes before it replaces the journal."""
        return self.path.with_name(f".{self.path.name}.{pid}.tmp")

    def _remove_orphans(self) -> None:
        """Delete the temporary files that runs killed in :meth:`finalize` left behind (with
        the lock held, no other run is writing one)."""
        prefix = f".{self.path.name}."
        for tmp in self.path.parent.glob(glob.escape(prefix) + "*.tmp"):
            if tmp.name[len(prefix) : -len(".tmp")].isdigit():
                tmp.unlink(missing_ok=True)

    def _scan(self, provenance: Mapping[str, Any] | None, *, truncate: bool) -> None:
        assert self._fd is not None
        offset = 0
        with open(self._fd, "rb", closefd=False) as handle:
            handle.seek(0)
            for number, line in enumerate(handle, 1):
                if not line.endswith(b"\n"):
                    if truncate:
                        os.ftruncate(self._fd, offset)  # a record cut short by a crash
                    self.dropped_tail = True
                    break
                self._index(line, offset, number, provenance)
                offset += len(line)

    def _index(
        self, line: bytes, offset: int, number: int, provenance: Mapping[str, Any] | None
    ) -> None:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if not isinstance(record, dict) or "id" not in record:
            self.foreign_lines += 1  # not ours: kept in place, never read as a result
            return
        status = record_status(record)
        if status == "error":
            key = _error_key(record)
        else:
            key = str(record["id"])
            found = record.get("provenance")
            if provenance is not None and found != provenance:
                raise UsageError(
                    f"{self.path}:{number}: this output was written by a different run "
                    f"({_difference(found, provenance)}); pass --overwrite to start it afresh or "
                    "choose another -o"
                )
        self._entries[key] = _Entry(offset=offset, length=len(line), status=status)

    # -- reading ----------------------------------------------------------------------
    def is_done(self, key: str, *, retry_unjudged: bool = False) -> bool:
        """Whether the item ``key`` needs nothing more (see the module docstring)."""
        entry = self._entries.get(key)
        if entry is None or entry.status in ("error", "budget"):
            return False
        return not (retry_unjudged and entry.status == "unjudged")

    def read(self, key: str) -> dict[str, Any]:
        """The latest record of ``key``."""
        entry = self._entries[key]
        record: dict[str, Any] = json.loads(self._pread(entry))
        return record

    def _pread(self, entry: _Entry) -> bytes:
        assert self._fd is not None
        if hasattr(os, "pread"):
            return os.pread(self._fd, entry.length, entry.offset)
        os.lseek(self._fd, entry.offset, os.SEEK_SET)  # pragma: no cover - Windows
        return os.read(self._fd, entry.length)  # appends still go to the end (O_APPEND)

    def __len__(self) -> int:
        return len(self._entries)

    # -- writing ----------------------------------------------------------------------
    def append(self, key: str, record: Mapping[str, Any]) -> None:
        """Write ``record`` as one line, whole, and remember it as ``key``'s latest."""
        if self._fd is None:
            raise UsageError("the journal is not open")
        data = encode_record(record, self._redactor)
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            raise UsageError(
                f"{self.path}: cannot write ({exc.strerror}); fix that and rerun the same "
                "command to resume"
            ) from None
        self._entries[key] = _Entry(
            offset=self._size, length=len(data), status=record_status(record)
        )
        self._size += len(data)

    def finalize(self, order: Sequence[str]) -> None:
        """Rewrite the file atomically: one record per key, in ``order`` (see the module
        docstring), then release it."""
        if self._fd is None:
            raise UsageError("the journal is not open")
        wanted = set(order)
        extra = [k for k, e in self._entries.items() if k not in wanted and e.status != "error"]
        tmp = self._temporary(os.getpid())
        try:
            with open(tmp, "wb") as out:
                for key in (*order, *extra):
                    entry = self._entries.get(key)
                    if entry is not None:
                        out.write(self._pread(entry))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(
                f"{self.path}: cannot rewrite it in input order ({exc.strerror}); its records "
                "are complete, rerun the same command to try again"
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing also releases the lock
            self._fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def error_key(*, source: str | None, line: int | None, index: int) -> str:
    """The journal key of an error record: where its line is (``FILE:LINE``), else its
    position in the input. Never its id, which a valid item may hold too."""
    if source is not None:
        return f"{source}:{line}" if line is not None else source
    return f"<input {index + 1}>"


def _error_key(record: Mapping[str, Any]) -> str:
    error = record.get("error") or {}
    return error_key(source=error.get("source"), line=error.get("line"), index=-1)


def _difference(found: Any, expected: Mapping[str, Any]) -> str:
    if not isinstance(found, dict):
        return "no provenance"
    for name in ("judge", "model", "taxonomy", "prompt_hash", "schema_hash", "sampling"):
        if found.get(name) != expected.get(name):
            return f"{name} {found.get(name)!r}, now {expected.get(name)!r}"
    return "another harmjudge version"
