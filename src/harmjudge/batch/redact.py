"""Keep API keys out of everything a batch writes: the output, the cache and the summary.

The engine learns the keys it must hide from the environment (``OPENAI_API_KEY``) and from the
``Authorization`` / ``api-key`` header of every request its HTTP client sends, and replaces any
copy of them (for instance a server's error message that echoes the key) before writing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
"""Shorter values are not treated as secrets: replacing them would mangle ordinary text."""


class Redactor:
    """Replaces every known secret, raw or JSON-escaped, with ``[REDACTED]``.

    >>> r = Redactor(["sk-test-0123456789"])
    >>> r.scrub('{"detail": "bad key sk-test-0123456789"}')
    '{"detail": "bad key [REDACTED]"}'
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        for secret in secrets:
            self.learn(secret)

    def learn(self, secret: str | None) -> None:
        """Hide ``secret`` from now on (values shorter than 8 characters are ignored)."""
        if secret is None or len(secret) < MIN_SECRET_LENGTH:
            return
        escaped = json.dumps(secret)[1:-1]
        with self._lock:
            self._forms.update({secret, escaped})

    def learn_headers(self, headers: Mapping[str, str]) -> None:
        """Learn the credential of a request's ``Authorization`` or ``api-key`` header."""
        for name, value in headers.items():
            lowered = name.lower()
            if lowered == "authorization":
                scheme, _, credential = value.partition(" ")
                self.learn(credential if credential else scheme)
            elif lowered in ("api-key", "x-api-key"):
                self.learn(value)

    def scrub(self, text: str) -> str:
        """``text`` with every known secret replaced."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text
