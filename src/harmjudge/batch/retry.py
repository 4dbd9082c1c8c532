"""Retries, Retry-After and adaptive concurrency for the LLM judge's HTTP requests.

The batch engine hands the judge a :class:`RetryingHTTPClient`: the openai client above it runs
with ``max_retries=0`` and every HTTP request is retried here, one request at a time (a re-ask
or a second harm's call is never repeated because another failed). The client also counts
requests, retries and tokens (:class:`TransportStats`, and a per-item :class:`Meter`), and
learns the API key from the ``Authorization`` header so the engine can keep it out of
everything it writes (:class:`~harmjudge.batch.redact.Redactor`).
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import json
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx2
import openai

from harmjudge.batch.redact import Redactor
from harmjudge.errors import invalid_parameter
from harmjudge.judges.verdict import Usage

RETRY_STATUSES = frozenset({408, 409, 429})
"""Statuses retried besides every 5xx: request timeout, lock conflict, rate limit."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a failed HTTP request is retried.

    A request is retried, at most ``max_retries`` times, after a 408, 409, 429 or 5xx reply, a
    timeout, a connection error, or (with ``retry_malformed``) a 200 reply whose body is not
    JSON. The wait before retry ``n`` (0-based) is

    - the server's Retry-After ``R`` (``retry-after-ms``, else ``retry-after`` in seconds or as
      an HTTP date) stretched by up to 10 %: ``R * (1 + 0.1 * u)``, ``u ~ U[0, 1)``;
    - otherwise full jitter: ``u * min(max_delay, base_delay * 2**n)``.

    A Retry-After longer than ``max_retry_after`` is not waited for: the request fails at once
    and its harms are ``unjudged`` (``retries_exhausted``). Set ``base_delay=0`` in tests.
    """

    max_retries: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    retry_malformed: bool = True

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise invalid_parameter("RetryPolicy", "max_retries", "an int >= 0", self.max_retries)
        for name in ("base_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if not value >= 0:
                raise invalid_parameter("RetryPolicy", name, "a float >= 0", value)

    def delay(self, retry: int, retry_after: float | None, draw: float) -> float | None:
        """Seconds to wait before retry number ``retry`` (0-based); ``None``: do not retry.

        ``draw`` is a uniform random number in [0, 1).

        >>> policy = RetryPolicy(base_delay=1.0, max_delay=8.0, max_retries=10)
        >>> policy.delay(2, None, 0.5), policy.delay(9, None, 0.5), policy.delay(0, 2.0, 0.5)
        (2.0, 4.0, 2.1)
        >>> policy.delay(10, None, 0.5) is None, policy.delay(0, 600.0, 0.5) is None
        (True, True)
        """
        if retry >= self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            return max(0.0, retry_after) * (1.0 + 0.1 * draw)
        return draw * min(self.max_delay, self.base_delay * 2.0**retry)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a reply asks for, in seconds: ``retry-after-ms``, else ``retry-after`` (seconds
    or an HTTP date); ``None`` when absent or unreadable.

    >>> parse_retry_after({"retry-after-ms": "250", "retry-after": "1"})
    0.25
    >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0)
    10.0
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            value = float(milliseconds) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return value
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        current = time.time() if now is None else now
        return float(email.utils.mktime_tz(parsed)) - current
    return seconds if math.isfinite(seconds) else None


class AdaptiveLimiter:
    """A bound on requests in flight: additive increase, multiplicative decrease.

    The limit starts at ``maximum``. A rate-limit reply (429, or 503 from an overloaded server)
    halves it (rounding down), at most once per ``cooldown`` seconds and never below 1; after
    ``limit`` successful replies in a row it grows by one, back up to ``maximum``. So the
    sender slows down in proportion to how often it is rate-limited. A Retry-After is waited
    for by the request that got it (outside its slot), never by the others: one rate-limited
    request in three must not stop the world. With ``adaptive=False`` the limit stays at
    ``maximum``.
    """

    def __init__(
        self,
        maximum: int,
        *,
        adaptive: bool = True,
        cooldown: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if maximum < 1:
            raise invalid_parameter("AdaptiveLimiter", "maximum", "an int >= 1", maximum)
        self.maximum = maximum
        self.adaptive = adaptive
        self.cooldown = cooldown
        self._clock = clock
        self._limit = maximum
        self._successes = 0
        self.lowest = maximum
        self._in_flight = 0
        self._last_decrease = -math.inf
        self._cond = asyncio.Condition()

    @property
    def limit(self) -> int:
        """The current number of requests allowed in flight."""
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def acquire(self) -> None:
        """Wait for a free slot."""
        async with self._cond:
            await self._cond.wait_for(lambda: self._in_flight < self.limit)
            self._in_flight += 1

    async def release(self) -> None:
        async with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def on_success(self) -> None:
        if not self.adaptive or self._limit >= self.maximum:
            return
        self._successes += 1
        if self._successes >= self._limit:
            self._limit += 1
            self._successes = 0

    def on_rate_limited(self) -> None:
        now = self._clock()
        if self.adaptive and now - self._last_decrease >= self.cooldown:
            self._last_decrease = now
            self._limit = max(1, self._limit // 2)
            self._successes = 0
            self.lowest = min(self.lowest, self._limit)


@dataclass(kw_only=True)
class Meter:
    """What one item's requests cost: filled by the HTTP client while the item is judged."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def usage(self) -> Usage:
        return Usage(
            requests=self.requests,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
        )


current_meter: contextvars.ContextVar[Meter | None] = contextvars.ContextVar(
    "harmjudge_batch_meter", default=None
)
"""The meter of the item the running task is judging (set by the engine around each call)."""


@dataclass(kw_only=True)
class TransportStats:
    """Every HTTP request of a run: attempts, retries by cause, tokens, rate-limit replies."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def retried(self) -> int:
        return sum(self.retries.values())


def failure_cause(status: int) -> str | None:
    """The retry cause of an HTTP status, ``None`` when the status is not retried.

    >>> failure_cause(429), failure_cause(503), failure_cause(400), failure_cause(200)
    ('429', '5xx', None, None)
    """
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status in RETRY_STATUSES:
        return str(status)
    return None


Sleep = Callable[[float], Awaitable[None]]


def transport_cause(error: httpx2.TransportError) -> str:
    """The retry cause of a failed request: ``timeout`` or ``connection``.

    The aiohttp transport reports a refused or dropped connection as ``httpx2.ConnectTimeout``;
    the aiohttp error it stands for tells the two apart.
    """
    origin = error.__cause__
    if isinstance(origin, aiohttp.ClientConnectionError) and not isinstance(
        origin, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)
    ):
        return "connection"
    return "timeout" if isinstance(error, httpx2.TimeoutException) else "connection"


class RetryingHTTPClient(openai.DefaultAioHttpClient):
    """An ``httpx2.AsyncClient`` on openai's aiohttp transport whose :meth:`send` retries under
    a :class:`RetryPolicy`. The aiohttp transport costs about a third less client CPU per
    request than httpx's own, which matters when hundreds of requests are in flight.

    Each attempt holds one slot of the :class:`AdaptiveLimiter` (released while waiting to
    retry). A 200 reply's JSON body is read once to check it and to count its ``usage``.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy,
        limiter: AdaptiveLimiter,
        stats: TransportStats,
        redactor: Redactor,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self.limiter = limiter
        self.stats = stats
        self._redactor = redactor
        self._sleep = sleep
        self._rng = rng or random.Random()

    async def send(
        self,
        request: httpx2.Request,
        *,
        stream: bool = False,
        auth: Any = httpx2.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx2.USE_CLIENT_DEFAULT,
    ) -> httpx2.Response:
        self._redactor.learn_headers(request.headers)
        meter = current_meter.get()
        retry = 0
        while True:
            await self.limiter.acquire()
            response: httpx2.Response | None = None
            error: httpx2.TransportError | None = None
            cause: str | None = None
            try:
                response = await super().send(
                    request, stream=stream, auth=auth, follow_redirects=follow_redirects
                )
            except httpx2.TransportError as exc:
                error, cause = exc, transport_cause(exc)
            finally:
                await self.limiter.release()
            self.stats.requests += 1
            if meter is not None:
                meter.requests += 1
            if response is not None:
                cause = self._check(response, stream, meter)
            if cause is None:
                self.limiter.on_success()
                assert response is not None
                return response
            retry_after = parse_retry_after(response.headers) if response is not None else None
            if response is not None and response.status_code in (429, 503):
                self.limiter.on_rate_limited()
            wait = self.policy.delay(retry, retry_after, self._rng.random())
            if wait is None:
                self.stats.failures[cause] += 1
                if response is not None:
                    return response  # the openai client turns it into its error
                assert error is not None
                raise error
            self.stats.retries[cause] += 1
            if response is not None:
                await response.aclose()
            await self._sleep(wait)
            retry += 1

    def _check(self, response: httpx2.Response, stream: bool, meter: Meter | None) -> str | None:
        """The retry cause of ``response`` (``None`` when it is fine); counts its tokens."""
        cause = failure_cause(response.status_code)
        if cause is not None or stream or response.status_code != 200:
            return cause
        try:
            body = json.loads(response.content)
        except ValueError:
            return "malformed" if self.policy.retry_malformed else None
        usage = body.get("usage") if isinstance(body, dict) else None
        if isinstance(usage, dict):
            prompt = _count(usage.get("prompt_tokens"))
            completion = _count(usage.get("completion_tokens"))
            self.stats.prompt_tokens += prompt
            self.stats.completion_tokens += completion
            if meter is not None:
                meter.prompt_tokens += prompt
                meter.completion_tokens += completion
        return None


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
