"""The ``harmjudge`` command line."""

from harmjudge.cli.main import main

__all__ = ["main"]
