"""Network guard for tests: any connection or name lookup leaving loopback raises.

``install()`` patches ``socket.socket.connect``/``connect_ex``/``sendto``,
``socket.create_connection``, ``socket.getaddrinfo`` and ``socket.gethostbyname(_ex)``.
Allowed: 127.0.0.0/8, ::1 (and IPv4-mapped loopback), 0.0.0.0/::, "localhost", AF_UNIX.
Calls nest: ``install()`` twice needs ``uninstall()`` twice before the originals return.

The error is a RuntimeError on purpose (not an OSError), so code that handles connection
failures does not quietly swallow it; every blocked attempt is also appended to
``violations`` so a fixture can fail the test even when a library wraps the error
(openai turns it into APIConnectionError).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

__all__ = [
    "NetworkAccessBlocked",
    "install",
    "installed",
    "is_loopback",
    "take_violations",
    "uninstall",
    "violations",
]


class NetworkAccessBlocked(RuntimeError):
    """Raised when a test tries to reach a non-loopback host."""


_LOCAL_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_SOCKET_METHODS = ("connect", "connect_ex", "sendto")
_MODULE_FUNCTIONS = ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex")

violations: list[str] = []
_lock = threading.RLock()
_depth = 0
_originals: dict[str, Any] = {}


def is_loopback(host: object) -> bool:
    """True for None, loopback/unspecified IP literals and the localhost names."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False  # any other host name would need a DNS lookup
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _check(host: object, action: str) -> None:
    if not is_loopback(host):
        message = (
            f"netguard: blocked {action} to {host!r}; tests may only talk to "
            "127.0.0.0/8 or ::1 (use harmjudge.testing.server.FakeOpenAI for the OpenAI API)"
        )
        with _lock:
            violations.append(message)
        raise NetworkAccessBlocked(message)


def _check_address(sock: socket.socket, address: Any, action: str) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        _check(address[0], action)


def _connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address, "connect")
    _originals["connect"](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address, "connect_ex")
    return int(_originals["connect_ex"](self, address))


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    _check_address(self, args[-1] if args else None, "sendto")
    return int(_originals["sendto"](self, data, *args))


def _create_connection(address: tuple[Any, ...], *args: Any, **kwargs: Any) -> socket.socket:
    _check(address[0], "create_connection")
    sock: socket.socket = _originals["create_connection"](address, *args, **kwargs)
    return sock


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    _check(host, "getaddrinfo")
    return _originals["getaddrinfo"](host, *args, **kwargs)


def _gethostbyname(host: str) -> str:
    _check(host, "gethostbyname")
    return str(_originals["gethostbyname"](host))


def _gethostbyname_ex(host: str) -> Any:
    _check(host, "gethostbyname_ex")
    return _originals["gethostbyname_ex"](host)


_REPLACEMENTS: dict[str, Any] = {
    "connect": _connect,
    "connect_ex": _connect_ex,
    "sendto": _sendto,
    "create_connection": _create_connection,
    "getaddrinfo": _getaddrinfo,
    "gethostbyname": _gethostbyname,
    "gethostbyname_ex": _gethostbyname_ex,
}


def install() -> None:
    """Activate the guard (nestable)."""
    global _depth
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        for name in _SOCKET_METHODS:
            _originals[name] = getattr(socket.socket, name)
            setattr(socket.socket, name, _REPLACEMENTS[name])
        for name in _MODULE_FUNCTIONS:
            _originals[name] = getattr(socket, name)
            setattr(socket, name, _REPLACEMENTS[name])


def uninstall() -> None:
    """Undo one install(); the last one restores the original socket functions."""
    global _depth
    with _lock:
        if _depth == 0:
            return
        _depth -= 1
        if _depth > 0:
            return
        for name in _SOCKET_METHODS:
            setattr(socket.socket, name, _originals.pop(name))
        for name in _MODULE_FUNCTIONS:
            setattr(socket, name, _originals.pop(name))


def installed() -> bool:
    return _depth > 0


def take_violations() -> list[str]:
    """Return the blocked attempts recorded so far and clear the record."""
    with _lock:
        taken = list(violations)
        violations.clear()
        return taken
