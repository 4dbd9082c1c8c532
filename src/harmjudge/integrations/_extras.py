"""Optional dependencies: imported only when an integration is used, never by ``import harmjudge``."""

from __future__ import annotations

import importlib
from types import ModuleType

from harmjudge.errors import UsageError


class MissingExtraError(UsageError):
    """An integration needs a package that is not installed. The message names the extra."""

    def __init__(self, *, feature: str, package: str, extra: str) -> None:
        self.feature = feature
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs {package}, which is not installed: pip install 'harmjudge[{extra}]'"
        )


def require(module: str, *, package: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install.

    >>> require("json", package="json", extra="none", feature="this doctest").__name__
    'json'
    >>> require("no_such_module_here", package="nothing", extra="x", feature="f")
    Traceback (most recent call last):
    ...
    harmjudge.integrations._extras.MissingExtraError: f needs nothing, which is not installed: pip install 'harmjudge[x]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name != module and not module.startswith(exc.name + "."):
            raise  # the module exists but something it imports is missing: not ours to hide
        raise MissingExtraError(feature=feature, package=package, extra=extra) from None


def require_inspect() -> None:
    """Import inspect-ai or raise :class:`MissingExtraError` naming the ``[inspect]`` extra."""
    require(
        "inspect_ai",
        package="inspect-ai",
        extra="inspect",
        feature="harmjudge.integrations.inspect",
    )
