"""Files on the command line: ``-`` for standard input and output, and outputs that must never
be inputs.

Every command takes ``-`` as "standard output" for ``-o``, and ``classify`` takes ``-`` (or
``/dev/stdin``) as INPUT. An output that is (or resolves to, through a link or a redirected
standard input) one of the run's inputs is refused before anything is opened for writing,
whatever the other flags say.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from harmjudge.errors import UsageError
from harmjudge.transcript.io import STDIN, input_files

STDOUT = "-"


def _inode(path: str | Path) -> tuple[int, int] | None:
    """Device and inode of ``path`` (``-``: whatever file descriptor 0 is), if it exists."""
    try:
        st = os.fstat(0) if str(path) == STDIN else os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether ``a`` and ``b`` name one file (through links, ``..`` or a redirection); a name
    that does not exist yet is compared by its real path."""
    first, second = _inode(a), _inode(b)
    if first is not None and second is not None:
        return first == second
    return os.path.realpath(a) == os.path.realpath(b)


def refuse_inputs_as_outputs(
    outputs: Iterable[tuple[str, str | None]], inputs: Iterable[str | Path]
) -> None:
    """Raise :class:`UsageError` when an output (``(flag, path)``; ``None`` and ``-`` are
    skipped) is one of ``inputs``, so that no run ever truncates what it reads."""
    named = [(flag, path) for flag, path in outputs if path not in (None, STDOUT)]
    if not named:
        return
    for raw in inputs:
        for flag, path in named:
            assert path is not None
            if not Path(raw).is_dir() and same_file(raw, path):
                shown = "standard input" if str(raw) == STDIN else raw
                raise UsageError(
                    f"{path}: {flag} names an input of this run ({shown}); write the output to "
                    "another file"
                )


def fixed_inputs(inputs: Sequence[str | Path], output: str | None) -> list[Path]:
    """The JSONL files of ``inputs`` (folders expanded now, once), without ``output``: a run
    never reads the file it writes, even when that file lies in an input folder. A missing
    input is a usage error."""
    for raw in inputs:
        if str(raw) != STDIN and not Path(raw).exists():
            raise UsageError(f"{raw}: no such file or folder (INPUT)")
    refuse_inputs_as_outputs([("-o", output)], inputs)
    files = input_files(inputs)
    if output in (None, STDOUT):
        return files
    assert output is not None
    return [f for f in files if not same_file(f, output)]


@contextlib.contextmanager
def output_stream(path: str, stdout: TextIO) -> Iterator[TextIO]:
    """A text stream writing ``path``, or ``stdout`` when ``path`` is ``-``."""
    if path == STDOUT:
        yield stdout
        return
    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(Path(path).open("w", encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"{path}: cannot write ({exc.strerror})") from None
        yield handle


def write_output(path: str, text: str, stdout: TextIO) -> None:
    """Write ``text`` to ``path`` (``-``: standard output)."""
    with output_stream(path, stdout) as out:
        out.write(text)
