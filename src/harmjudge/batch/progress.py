"""Progress of a batch: a rich progress bar on a terminal, plain periodic lines elsewhere.

Both show items done (of the total when known), failed (an error record or any ``unjudged``
verdict), answered from the cache, the rate and the time left. Messages (a bad input line)
are printed above the bar so it is not torn.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgressBar
    from rich.progress import TaskID

    from harmjudge.batch.engine import ItemResult


class Progress(Protocol):
    """What the engine reports to while a batch runs."""

    def start(self, total: int | None) -> None: ...

    def advance(self, result: ItemResult) -> None: ...

    def message(self, text: str) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    """Reports nothing but messages (``--quiet``)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def start(self, total: int | None) -> None:
        pass

    def advance(self, result: ItemResult) -> None:
        pass

    def message(self, text: str) -> None:
        if self._stream is not None:
            print(text, file=self._stream, flush=True)

    def stop(self) -> None:
        pass


class _Counts:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = self.failed = self.cached = 0

    def add(self, result: ItemResult) -> None:
        self.done += 1
        self.failed += int(result.failed)
        self.cached += int(result.origin.value == "cached")


class LineProgress:
    """One plain line every ``interval`` seconds (for logs and pipes)::

    harmjudge: 420/1000 items done, 12 failed, 30 cached; 35.2 items/s, about 0:00:16 left
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._counts = _Counts()
        self._started = self._last = 0.0

    def start(self, total: int | None) -> None:
        self._counts.total = total
        self._started = self._last = self._clock()

    def advance(self, result: ItemResult) -> None:
        self._counts.add(result)
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            print(self.line(now), file=self._stream, flush=True)

    def line(self, now: float) -> str:
        c = self._counts
        elapsed = max(now - self._started, 1e-9)
        rate = c.done / elapsed
        of = f"/{c.total}" if c.total is not None else ""
        text = f"harmjudge: {c.done}{of} items done, {c.failed} failed, {c.cached} cached; "
        text += f"{rate:.1f} items/s"
        if c.total is not None and rate > 0 and c.done < c.total:
            left = timedelta(seconds=round((c.total - c.done) / rate))
            text += f", about {left} left"
        return text

    def message(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def stop(self) -> None:
        pass


class RichProgress:
    """A rich progress bar on ``stream`` (a terminal)."""

    def __init__(self, stream: TextIO, *, force_terminal: bool | None = None) -> None:
        from rich.console import Console

        self._console = Console(file=stream, force_terminal=force_terminal)
        self._counts = _Counts()
        self._bar: RichProgressBar | None = None
        self._task: TaskID | None = None

    def start(self, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._counts.total = total
        self._bar = Progress(
            TextColumn("classify"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[failed]} failed, {task.fields[cached]} cached"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._task = self._bar.add_task("classify", total=total, failed=0, cached=0, rate="")
        self._bar.start()

    def advance(self, result: ItemResult) -> None:
        self._counts.add(result)
        if self._bar is None or self._task is None:
            return
        task = self._bar.tasks[0]
        speed = task.speed
        self._bar.update(
            self._task,
            advance=1,
            failed=self._counts.failed,
            cached=self._counts.cached,
            rate=f"{speed:.1f}/s" if speed else "",
        )

    def message(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def progress_for(stream: TextIO, *, quiet: bool, interval: float = 10.0) -> Progress:
    """A rich bar when ``stream`` is a terminal, plain lines otherwise, none when ``quiet``."""
    if quiet:
        return NoProgress(stream)
    isatty = getattr(stream, "isatty", None)
    if callable(isatty) and isatty():
        return RichProgress(stream)
    return LineProgress(stream, interval=interval)
