"""The shape every subcommand module follows: a handler and how it is added to the parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO, TypeAlias

# Exit statuses, the same for every command (documented in ``harmjudge --help``).
EXIT_OK = 0
EXIT_FAILED = 1  # some items failed: a bad input line, an unjudged verdict, an unknown id
EXIT_USAGE = 2  # nothing was done: a bad option, a missing file, a refused output
EXIT_NOTHING = 3  # nothing to show: every item unjudged, or no verdict matched a gold item
EXIT_BUG = 4  # an unexpected error inside harmjudge
EXIT_INTERRUPTED = 130  # Ctrl-C

# A subcommand: parsed arguments, stdout, stderr -> exit status.
Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]
# A string: argparse's subparsers action is only subscriptable for the type checker.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# How ``build_parser`` adds a subcommand: its name, handler and parent; gives ``--taxonomy``.
Adder = Callable[[str, Handler, Subparsers], argparse.ArgumentParser]
