"""An on-disk cache of classifications, so a finished batch is never paid for twice.

The cache is one SQLite file (WAL mode, with a busy timeout, so several runs may read and write
it at once). Its key is a SHA-256 over what decides a verdict:

- the run's provenance: judge, model, prompt hash, response-schema hash, harm versions,
  harmjudge version and sampling settings;
- every harm's whole definition as used (criteria, exclusions, examples, gate, authority
  patterns), so an edited harm misses even without a version bump;
- the judge's other settings that change its answer: endpoint, one call per harm or not,
  gating, re-asks;
- the transcript as parsed: id, format, every segment and the declared organisation domains
  (``metadata`` is not judged and is left out).

Only classifications with no ``unjudged`` verdict are stored: a failure is retried next time.
A cache that fails during a run (disk full, locked for more than 30 s) is reported once in the
``harmjudge`` log and left alone for the rest of the run: the batch goes on without it.
The default file is ``verdicts.sqlite3`` in the user cache directory (``$HARMJUDGE_CACHE_DIR``
if set, else ``$XDG_CACHE_HOME/harmjudge`` or ``~/.cache/harmjudge``; ``~/Library/Caches/
harmjudge`` on macOS; ``%LOCALAPPDATA%\\harmjudge\\Cache`` on Windows). Delete the file to empty
it. API keys never reach it: records are scrubbed before they are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from harmjudge.errors import UsageError
from harmjudge.judges.base import Judge
from harmjudge.judges.llm import LLMJudge
from harmjudge.judges.verdict import Provenance
from harmjudge.taxonomy.loader import definition_hash
from harmjudge.taxonomy.model import HarmDefinition
from harmjudge.transcript.model import Transcript

logger = logging.getLogger("harmjudge")

CACHE_ENV = "HARMJUDGE_CACHE_DIR"
CACHE_FILE = "verdicts.sqlite3"
CACHE_FORMAT = 1
LOCK_TIMEOUT = 30.0  # seconds an open or a write waits for another run's lock


def default_cache_path(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The cache file in the user cache directory (see the module docstring).

    >>> default_cache_path({"HARMJUDGE_CACHE_DIR": "/tmp/hj"}).as_posix()
    '/tmp/hj/verdicts.sqlite3'
    >>> default_cache_path({"XDG_CACHE_HOME": "/c", "HOME": "/h"}, "linux").as_posix()
    '/c/harmjudge/verdicts.sqlite3'
    """
    source = os.environ if env is None else env
    system = sys.platform if platform is None else platform
    if source.get(CACHE_ENV):
        return Path(source[CACHE_ENV]) / CACHE_FILE
    home = Path(source["HOME"]) if source.get("HOME") else Path.home()
    if system.startswith("win"):
        base = Path(source.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "harmjudge" / "Cache" / CACHE_FILE
    if system == "darwin":
        return home / "Library" / "Caches" / "harmjudge" / CACHE_FILE
    base = Path(source["XDG_CACHE_HOME"]) if source.get("XDG_CACHE_HOME") else home / ".cache"
    return base / "harmjudge" / CACHE_FILE


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def transcript_hash(transcript: Transcript) -> str:
    """A SHA-256 of everything the judge reads of ``transcript``."""
    return _digest(
        {
            "id": transcript.id,
            "format": transcript.format,
            "org_domains": transcript.org_domains,
            "segments": [[s.kind, s.text, s.turn, s.tool_name] for s in transcript.segments],
        }
    )


def run_fingerprint(judge: Judge, provenance: Provenance, harms: Sequence[HarmDefinition]) -> str:
    """A SHA-256 of the run's provenance, the harms' definitions and the judge settings that
    change its verdicts."""
    settings: dict[str, Any] = {
        "judge_type": type(judge).__qualname__,
        "harms": {h.id: definition_hash(h) for h in harms},
    }
    if isinstance(judge, LLMJudge):
        settings.update(
            base_url=judge.base_url,
            per_harm=judge.per_harm,
            gating=judge.gating,
            max_reasks=judge.max_reasks,
        )
    return _digest({"format": CACHE_FORMAT, "provenance": provenance.to_json(), **settings})


def cache_key(fingerprint: str, transcript: Transcript) -> str:
    """The key of ``transcript``'s classification in a run with ``fingerprint``."""
    return _digest([fingerprint, transcript_hash(transcript)])


def _is_busy(exc: sqlite3.Error) -> bool:
    """True for SQLITE_BUSY: another connection holds the lock (named by code from Python
    3.11 on; 3.10 gives only SQLite's fixed message)."""
    name = getattr(exc, "sqlite_errorname", None)
    return name == "SQLITE_BUSY" if name is not None else "database is locked" in str(exc)


def _set_up(db: sqlite3.Connection) -> None:
    """Switch the file to WAL and create the table, waiting up to :data:`LOCK_TIMEOUT`.

    SQLite answers busy at once, without its busy handler, when the journal mode is switched
    while another connection holds a lock (several runs opening a fresh file together), so
    the set-up is retried here, with short growing sleeps.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT
    delay = 0.001
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS verdicts "
                "(key TEXT PRIMARY KEY, record TEXT NOT NULL, created REAL NOT NULL)"
            )
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class VerdictCache:
    """Classification records by key, in one SQLite file; safe for concurrent writers."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.broken = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            try:
                _set_up(self._db)
            except sqlite3.Error:
                self._db.close()
                raise
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(
                f"{self.path}: cannot open the verdict cache ({exc}); pass --cache FILE "
                "elsewhere or --no-cache"
            ) from None

    def _failed(self, exc: sqlite3.Error) -> None:
        if not self.broken:
            logger.warning("the verdict cache %s failed (%s); going on without it", self.path, exc)
        self.broken = True

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under ``key``, if any."""
        if self.broken:
            return None
        try:
            row = self._db.execute("SELECT record FROM verdicts WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if row is None:
            return None
        record: dict[str, Any] = json.loads(row[0])
        return record

    def put(self, key: str, record_json: str) -> None:
        """Store a record, already serialised (and scrubbed of secrets)."""
        if self.broken:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO verdicts (key, record, created) VALUES (?, ?, ?)",
                (key, record_json, time.time()),
            )
        except sqlite3.Error as exc:
            self._failed(exc)

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> VerdictCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
