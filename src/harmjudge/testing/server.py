"""An OpenAI-compatible HTTP server for trying and testing harmjudge: standard library only,
bound to 127.0.0.1, no model and no provider.

From a shell, it answers every chat request with a valid harmjudge verdict (see
:func:`verdict_reply`) and injects faults on demand::

    python -m harmjudge.testing.server -- harmjudge classify runs.jsonl --judge fake-model
    python -m harmjudge.testing.server --port 8765 --fault 429=0.3 --latency 0.2

The first form serves on a free port while it runs the command after ``--``, with
``OPENAI_BASE_URL`` pointing at it and ``OPENAI_API_KEY`` set to a dummy (a real key is never
sent to it), and exits with the command's status; the second serves until Ctrl-C.

From Python (tests program each reply)::

    with FakeOpenAI() as server:
        server.queue(tool_call("Verdict", {"label": "harmful"}), http_error(503, "busy"))
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)

Serves ``POST /v1/chat/completions`` (non-streaming) and ``GET /v1/models``. Each chat request
takes one programmed reply (``server.queue(...)`` first, then ``server.default``) unless
``server.faults`` injects a fault first; an injected fault never consumes a programmed reply.

The server is an asyncio loop on a background thread speaking HTTP/1.1 with keep-alive, as real
endpoints do: one idle connection costs nothing, and a latency is a timer, not a sleeping
thread, so it adds no more than the latency asked for even with hundreds of requests in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from http.client import responses
from typing import Any

Json = dict[str, Any]
FAULT_KINDS = ("429", "500", "503", "hang", "malformed", "schema_invalid", "length")


@dataclass(frozen=True)
class Reply:
    """One programmed answer; build it with the helpers below, tweak with dataclasses.replace."""

    status: int = 200
    message: Json | None = None  # assistant message of a 200 chat completion
    finish_reason: str = "stop"
    error: str | None = None  # message of the OpenAI-style error body when status != 200
    raw: bytes | None = None  # body sent verbatim, overriding the fields above
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before replying, on top of server.latency
    prompt_tokens: int | None = None  # None: len(json.dumps(request messages)) // 4
    completion_tokens: int | None = None  # None: len(generated text) // 4, at least 1


ReplySource = Reply | Callable[[Json], Reply]  # a callable gets the request's JSON body


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names: headers["authorization"] == "Bearer test-key"
    body: Json | None  # parsed JSON body; None for GET or a body that is not a JSON object
    time: float  # time.time() on arrival
    fault: str | None = None  # kind of the injected fault, if any

    @property
    def model(self) -> str | None:
        return None if self.body is None else self.body.get("model")


def _message(text: str | None = None, refusal: str | None = None, **extra: Any) -> Json:
    return {"role": "assistant", "content": text, "refusal": refusal, **extra}


def _tool_message(name: str | None, arguments: Json | str) -> Json:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return _message(
        tool_calls=[{"type": "function", "function": {"name": name, "arguments": args}}]
    )


def tool_call(name: str | None, arguments: Json | str) -> Reply:
    """One tool call; a dict is JSON-encoded, a str sent as is. name=None: the tool requested."""
    return Reply(message=_tool_message(name, arguments), finish_reason="tool_calls")


def content(text: str) -> Reply:
    return Reply(message=_message(text))


def refusal(text: str) -> Reply:
    return Reply(message=_message(None, refusal=text))


def truncated(text_or_args: str | Json, as_tool: bool = False, name: str | None = None) -> Reply:
    """finish_reason "length", as content or (as_tool=True) as a tool call."""
    if as_tool:
        return Reply(message=_tool_message(name, text_or_args), finish_reason="length")
    text = text_or_args if isinstance(text_or_args, str) else json.dumps(text_or_args)
    return Reply(message=_message(text), finish_reason="length")


def http_error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, error=message, headers=dict(headers or {}))


def malformed_body() -> Reply:
    return Reply(raw=b'{"id": "chatcmpl-broken", "choices": [ <html>502 Bad Gateway</html>')


def hang(seconds: float, then: Reply | None = None) -> Reply:
    """Sleep `seconds` (cut short by server.stop()), then send `then` (default: empty content)."""
    base = then or content("")
    return replace(base, delay=base.delay + seconds)


def _error_body(status: int, message: str) -> bytes:
    kind, code = ("server_error" if status >= 500 else "invalid_request_error"), None
    if status == 429:
        kind, code = "requests", "rate_limit_exceeded"
    error = {"message": message, "type": kind, "param": None, "code": code}
    return json.dumps({"error": error}).encode()


async def _stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``, cut short when ``stopping`` is set; whether it was."""
    if seconds > 0 and not stopping.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()


def _requested_tool(request: Json) -> str:
    choice = request.get("tool_choice")
    if isinstance(choice, dict) and "function" in choice:
        return str(choice["function"]["name"])
    return str((request.get("tools") or [{"function": {"name": "tool"}}])[0]["function"]["name"])


class FakeOpenAI:
    """The fake API on 127.0.0.1:<ephemeral port>, served from a background thread."""

    def __init__(self, *, seed: int = 0, port: int = 0) -> None:
        self.default: ReplySource | None = None
        self.faults: dict[str, float] = {}  # fault kind (see FAULT_KINDS) -> rate
        self.seed = seed  # seeds the fault draws; assigning a new value reseeds
        self.latency = 0.0  # seconds slept before every reply
        self.hang_seconds = 30.0  # length of an injected "hang" fault (followed by a 504)
        self.models = ["gpt-4o-mini", "gpt-4o"]
        self._rng, self._rng_seed = random.Random(seed), seed
        self._queue: deque[ReplySource] = deque()
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None  # set on the loop by stop()
        self._port = port  # 0: a free one, chosen when the server starts
        self._open = 0  # client connections open now
        self._thread: threading.Thread | None = None

    def queue(self, *replies: ReplySource) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Queued replies not consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the request log, oldest first."""
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        """Empty queue and log; no default, faults or latency; fault draws start over."""
        with self._lock:
            self._queue.clear()
            self._log.clear()
            self._rng, self._rng_seed = random.Random(self.seed), self.seed
        self.default, self.faults, self.latency = None, {}, 0.0

    @property
    def open_connections(self) -> int:
        """Client connections open now (a closed one counts until the server reads its end)."""
        with self._lock:
            return self._open

    @property
    def base_url(self) -> str:
        if self._thread is None:
            raise RuntimeError("FakeOpenAI is not running: use `with` or call start()")
        return f"http://127.0.0.1:{self._port}/v1"

    def start(self) -> FakeOpenAI:
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure), daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving; handlers still sleeping (hang, latency) wake and drop their connection."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop finished in between
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = self._loop = self._stopping = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- called from handler threads ------------------------------------------------------
    def _dispatch(
        self, method: str, path: str, headers: dict[str, str], body: Json | None
    ) -> Reply:
        fault: str | None = None
        source: ReplySource | None = None
        if (method, path) == ("GET", "/v1/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models
            ]
            source = Reply(raw=json.dumps({"object": "list", "data": data}).encode())
        elif (method, path) != ("POST", "/v1/chat/completions"):
            source = http_error(404, f"Unknown endpoint {method} {path}")
        elif body is None:
            source = http_error(400, "The request body is not a JSON object.")
        elif body.get("stream"):
            source = http_error(400, "FakeOpenAI does not support stream=true.")
        else:
            with self._lock:
                fault = self._pick_fault()
                source = self._queue.popleft() if fault is None and self._queue else self.default
            if fault is not None:
                source = self._fault_reply(fault, body)
            elif source is None:
                source = http_error(500, "FakeOpenAI: reply queue is empty and no default is set.")
        with self._lock:
            self._log.append(RecordedRequest(method, path, headers, body, time.time(), fault))
        if isinstance(source, Reply):
            return source
        try:
            return source(body or {})
        except Exception as exc:  # a broken test callable becomes a visible 500
            return http_error(500, f"FakeOpenAI: reply callable raised {exc!r}")

    def _pick_fault(self) -> str | None:  # called with the lock held
        rates = dict(self.faults)
        if not rates:
            return None
        if set(rates) - set(FAULT_KINDS) or sum(rates.values()) > 1 or min(rates.values()) < 0:
            return "invalid"
        if self._rng_seed != self.seed:
            self._rng, self._rng_seed = random.Random(self.seed), self.seed
        draw, total = self._rng.random(), 0.0
        for kind in FAULT_KINDS:
            total += rates.get(kind, 0.0)
            if draw < total:
                return kind
        return None

    def _fault_reply(self, kind: str, request: Json) -> Reply:
        retry = {"retry-after-ms": "10", "retry-after": "1"}  # openai prefers the ms header
        as_tool = bool(request.get("tools"))
        if kind == "429":
            return http_error(429, "Rate limit reached (injected fault).", retry)
        if kind in ("500", "503"):
            headers = retry if kind == "503" else None
            return http_error(int(kind), "The server had an error (injected fault).", headers)
        if kind == "hang":
            return hang(self.hang_seconds, http_error(504, "Gateway timeout (injected fault)."))
        if kind == "malformed":
            return malformed_body()
        if kind == "schema_invalid":  # valid JSON, but an empty object
            return tool_call(None, {}) if as_tool else content("{}")
        if kind == "length":
            return truncated('{"', as_tool=as_tool)
        return http_error(500, f"FakeOpenAI: bad server.faults {self.faults!r}; see FAULT_KINDS")

    def _render(self, reply: Reply, request: Json) -> tuple[int, bytes]:
        if reply.raw is not None:
            return reply.status, reply.raw
        if reply.status != 200 or reply.message is None:
            return reply.status, _error_body(reply.status, reply.error or "error")
        message = json.loads(json.dumps(reply.message))  # deep copy, then fill per-request fields
        calls = message.get("tool_calls") or []
        for call in calls:
            call.setdefault("id", f"call_{uuid.uuid4().hex[:24]}")
            call["function"]["name"] = call["function"]["name"] or _requested_tool(request)
        text = message["content"] or message["refusal"] or ""
        text += "".join(call["function"]["arguments"] for call in calls)
        prompt, done = reply.prompt_tokens, reply.completion_tokens
        prompt = len(json.dumps(request.get("messages", []))) // 4 if prompt is None else prompt
        done = max(1, len(text) // 4) if done is None else done
        choice = {"index": 0, "message": message, "finish_reason": reply.finish_reason}
        completion = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.get("model", "fake-model"),
            "choices": [{**choice, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": done,
                "total_tokens": prompt + done,
            },
            "system_fingerprint": "fp_fakeopenai",
        }
        return 200, json.dumps(completion).encode()

    # -- the loop thread ----------------------------------------------------------------
    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(ready))
        except BaseException as exc:  # reported by start() when it happens before ready
            failure.append(exc)
            ready.set()
        finally:
            loop.close()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        connections: set[asyncio.Task[None]] = set()

        def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.create_task(self._connection(reader, writer))
            connections.add(task)
            task.add_done_callback(connections.discard)

        # a listen backlog of 256: many concurrent clients connect at once
        server = await asyncio.start_server(accept, "127.0.0.1", self._port, backlog=256)
        self._port = int(server.sockets[0].getsockname()[1])
        ready.set()
        await self._stopping.wait()
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve the requests of one connection in turn until the client closes it."""
        with self._lock:
            self._open += 1
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client giving up is no error
        except ValueError:
            pass  # not HTTP (a bad request line or Content-Length): drop the connection
        finally:
            writer.close()
            with self._lock:
                self._open -= 1

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """One request and its reply; False when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # closed between requests
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length") or 0))
        body: Any = None
        if method == "POST":
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        body = body if isinstance(body, dict) else None
        reply = self._dispatch(method, target.split("?")[0].rstrip("/"), headers, body)
        status, payload = self._render(reply, body or {})
        assert self._stopping is not None
        if await _stopped_within(self._stopping, self.latency + reply.delay):
            return False  # the server stopped while we slept: just drop the connection
        keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        out = {"Content-Type": "application/json", **reply.headers}
        out["Content-Length"] = str(len(payload))
        out["Connection"] = "keep-alive" if keep else "close"
        lines = [f"HTTP/1.1 {status} {responses.get(status, '')}"] + [
            f"{k}: {v}" for k, v in out.items()
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()
        return keep


# -- harmjudge's verdicts -----------------------------------------------------------------------

_TRANSCRIPT = re.compile(r'<transcript id="([^"]*)"[^>]*>\n(.*)\n</transcript>', re.DOTALL)
_MIN_QUOTE = 20  # characters: a quote long enough to count as evidence
_MAX_QUOTE = 200


def requested_harms(request: Json) -> list[str]:
    """The harms a harmjudge request asks about (from its tool's JSON schema)."""
    params = request["tools"][0]["function"]["parameters"]
    harm = params["$defs"]["Finding"]["properties"]["harm"]
    return list(harm["enum"]) if "enum" in harm else [harm["const"]]


def _transcript(request: Json) -> tuple[str, str]:
    """The id and the text of the transcript a request is about (a re-ask repeats it)."""
    for message in request.get("messages", []):
        found = _TRANSCRIPT.search(str(message.get("content") or ""))
        if found:
            return found.group(1), found.group(2)
    return "", ""


def _quote(text: str) -> str | None:
    """A passage of the transcript to quote verbatim: the longest line that holds no section
    marker or neutralised delimiter, cut to at most 200 characters at a word boundary."""
    lines = [
        line.strip()
        for line in text.splitlines()
        if len(line.strip()) >= _MIN_QUOTE and "<" not in line and "\u2039" not in line
    ]
    if not lines:
        return None
    best = max(lines, key=len)
    if len(best) > _MAX_QUOTE:
        best = best[:_MAX_QUOTE].rsplit(" ", 1)[0]
    return best


def verdict_reply(request: Json, *, harmful_rate: float = 0.25) -> Reply:
    """A valid harmjudge reply: one finding per requested harm. A harm is harmful for a fixed
    share (``harmful_rate``) of transcripts, drawn from a hash of the transcript id and the harm
    (so a rerun answers the same), with a verbatim quote of the transcript as evidence; else
    not harmful, without evidence."""
    item, text = _transcript(request)
    quote = _quote(text)
    findings = []
    for harm in requested_harms(request):
        draw = int(hashlib.sha256(f"{item}:{harm}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        harmful = quote is not None and draw < harmful_rate
        findings.append(
            {
                "harm": harm,
                "evidence": [quote] if harmful else [],
                "rationale": "A test server's answer, drawn for this transcript and harm; "
                "it judged nothing.",
                "label": "harmful" if harmful else "not_harmful",
                "confidence": 0.8,
            }
        )
    return tool_call(None, {"findings": findings})


def _fault(text: str) -> tuple[str, float]:
    kind, sep, rate = text.partition("=")
    if not sep or kind not in FAULT_KINDS:
        raise argparse.ArgumentTypeError(
            f"want KIND=RATE with KIND one of {', '.join(FAULT_KINDS)}"
        )
    return kind, float(rate)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harmjudge.testing.server",
        description="An OpenAI-compatible server on 127.0.0.1 answering every chat request with "
        "a valid harmjudge verdict, for trying the LLM judge without a provider.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="KIND=RATE",
        help=f"inject a fault in this share of requests; KIND: {', '.join(FAULT_KINDS)}",
    )
    parser.add_argument(
        "--harmful-rate",
        type=float,
        default=0.25,
        help="share of (transcript, harm) pairs answered harmful (default: 0.25)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="after --: a command to run against the server; the server stops when it ends",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C, or while the command after ``--`` runs; returns the exit status."""
    args = _parser().parse_args(argv)
    server = FakeOpenAI(seed=args.seed, port=args.port)
    rate = args.harmful_rate
    server.default = lambda request: verdict_reply(request, harmful_rate=rate)
    server.faults = dict(args.fault)
    server.latency = args.latency
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with server:
        if command:
            env = {**os.environ, "OPENAI_BASE_URL": server.base_url}
            env["OPENAI_API_KEY"] = "harmjudge-test-server"
            return subprocess.run(command, env=env, check=False).returncode
        print(f"serving {server.base_url} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
