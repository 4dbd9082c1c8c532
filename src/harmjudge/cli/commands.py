"""The shape every subcommand module follows: a handler and how it is added to the parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO, TypeAlias

# A subcommand: parsed arguments, stdout, stderr -> exit status.
Handler = Callable[[argparse.Namespace, TextIO, TextIO], int]
# A string: argparse's subparsers action is only subscriptable for the type checker.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
# How ``build_parser`` adds a subcommand: its name, handler and parent; gives ``--taxonomy``.
Adder = Callable[[str, Handler, Subparsers], argparse.ArgumentParser]
