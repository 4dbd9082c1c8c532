"""Tests of the fake OpenAI server and the network guard, through the real openai + instructor."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import socket
import time
import urllib.parse
from collections import Counter
from typing import TYPE_CHECKING

import instructor
import openai
import pydantic
import pytest
from instructor.core import IncompleteOutputException, InstructorRetryException

import netguard
from harmjudge.testing.server import (
    FakeOpenAI,
    content,
    hang,
    http_error,
    malformed_body,
    refusal,
    tool_call,
    truncated,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

MESSAGES = [{"role": "user", "content": "Label this transcript."}]


class Verdict(pydantic.BaseModel):
    label: str
    score: int


@pytest.fixture(autouse=True)
def guard() -> Iterator[None]:
    """Same wiring as conftest.py should have; install() nests, so both may coexist."""
    netguard.install()
    try:
        yield
    finally:
        netguard.uninstall()
    leaked = netguard.take_violations()
    if leaked:
        pytest.fail("test tried to reach the network:\n" + "\n".join(leaked), pytrace=False)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(seed=1234) as fake:
        yield fake


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as c:
        yield c


def ask(client: openai.OpenAI, **kwargs: object) -> openai.types.chat.ChatCompletion:
    request = {"model": "gpt-4o-mini", "messages": MESSAGES, **kwargs}
    return client.chat.completions.create(**request)  # type: ignore[call-overload, no-any-return]


def extract(client: openai.OpenAI, mode: instructor.Mode, max_retries: int = 0) -> Verdict:
    judge = instructor.from_openai(client, mode=mode)
    return judge.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_model=Verdict,
        max_retries=max_retries,
    )


# -- replies -------------------------------------------------------------------------


def test_base_url_and_models(server: FakeOpenAI, client: openai.OpenAI) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.base_url.endswith("/v1")
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini", "gpt-4o"]


def test_tool_call_parses_in_tools_mode(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(tool_call("Verdict", {"label": "harmful", "score": 3}))
    assert extract(client, instructor.Mode.TOOLS).model_dump() == {"label": "harmful", "score": 3}
    sent = server.requests[0].body
    assert sent is not None
    assert sent["tools"][0]["function"]["name"] == "Verdict"


def test_tool_call_without_name_uses_the_offered_tool(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.queue(tool_call(None, {"label": "ok", "score": 0}))
    assert extract(client, instructor.Mode.TOOLS).label == "ok"


def test_content_parses_in_json_mode(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(content('{"label": "not_harmful", "score": 1}'))
    assert extract(client, instructor.Mode.JSON).model_dump() == {
        "label": "not_harmful",
        "score": 1,
    }


def test_completion_fields_and_usage(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(content("hello there, world"), dataclasses.replace(content("x"), prompt_tokens=50))
    first, second = ask(client), ask(client, model="gpt-4o")
    assert first.object == "chat.completion"
    assert first.id.startswith("chatcmpl-")
    assert first.model == "gpt-4o-mini"
    assert second.model == "gpt-4o"
    choice = first.choices[0]
    assert (choice.index, choice.finish_reason, choice.logprobs) == (0, "stop", None)
    assert choice.message.content == "hello there, world"
    expected_prompt = len(json.dumps(server.requests[0].body["messages"])) // 4  # type: ignore[index]
    assert first.usage is not None
    assert first.usage.prompt_tokens == expected_prompt
    assert first.usage.completion_tokens == len("hello there, world") // 4
    assert first.usage.total_tokens == expected_prompt + first.usage.completion_tokens
    assert second.usage is not None
    assert second.usage.prompt_tokens == 50


def test_invalid_json_arguments_are_sent_verbatim(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.queue(tool_call("Verdict", '{"label": '))
    calls = ask(client).choices[0].message.tool_calls
    assert calls is not None
    call = calls[0]
    assert isinstance(call, openai.types.chat.ChatCompletionMessageFunctionToolCall)
    assert call.function.arguments == '{"label": '
    server.queue(tool_call("Verdict", "{not json"))
    with pytest.raises(InstructorRetryException) as info:
        extract(client, instructor.Mode.TOOLS)
    assert isinstance(info.value.__cause__, pydantic.ValidationError)


def test_refusal(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(refusal("I can't help with that."), refusal("I can't help with that."))
    message = ask(client).choices[0].message
    assert message.content is None
    assert message.refusal == "I can't help with that."
    with pytest.raises(InstructorRetryException, match="I can't help with that"):
        extract(client, instructor.Mode.TOOLS)


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON])
def test_length_truncation_raises_incomplete_output(
    server: FakeOpenAI, client: openai.OpenAI, mode: instructor.Mode
) -> None:
    server.queue(truncated('{"label": "harm', as_tool=mode is instructor.Mode.TOOLS))
    with pytest.raises(IncompleteOutputException):
        extract(client, mode, max_retries=3)
    assert len(server.requests) == 1  # instructor does not retry a truncated answer


def test_callable_reply_sees_the_request(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = lambda request: content(request["messages"][-1]["content"].upper())
    assert ask(client).choices[0].message.content == "LABEL THIS TRANSCRIPT."


def test_queue_then_default_then_empty(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(content("one"), content("two"))
    assert server.pending == 2
    assert [ask(client).choices[0].message.content for _ in range(2)] == ["one", "two"]
    with pytest.raises(openai.InternalServerError, match="queue is empty"):
        ask(client)
    server.default = content("fallback")
    assert ask(client).choices[0].message.content == "fallback"


def test_broken_callable_is_reported_as_500(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = lambda request: request["nope"]
    with pytest.raises(openai.InternalServerError, match="reply callable raised KeyError"):
        ask(client)


# -- errors --------------------------------------------------------------------------


def test_500_raises_internal_server_error(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(http_error(500, "boom"), http_error(503, "overloaded"))
    with pytest.raises(openai.InternalServerError) as info:
        ask(client)
    assert info.value.status_code == 500
    assert info.value.type == "server_error"
    with pytest.raises(openai.InternalServerError, match="overloaded"):
        ask(client)


def test_429_raises_rate_limit_error_with_retry_after(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.queue(http_error(429, "Rate limit reached", {"Retry-After": "7"}))
    with pytest.raises(openai.RateLimitError) as info:
        ask(client)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.code == "rate_limit_exceeded"


def test_openai_client_retries_429_then_succeeds(server: FakeOpenAI) -> None:
    server.queue(http_error(429, "slow down", {"retry-after-ms": "10"}), content("done"))
    with openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=2) as retrying:
        assert ask(retrying).choices[0].message.content == "done"
    assert len(server.requests) == 2


def test_malformed_body_raises_json_decode_error(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(malformed_body())
    with pytest.raises(json.JSONDecodeError):  # openai 3.3 lets the decoder error through
        ask(client)


def test_stream_is_rejected_with_400(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = content("never sent")
    with pytest.raises(openai.BadRequestError, match="stream"):
        ask(client, stream=True)


def test_unknown_endpoint_is_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="x")


def test_hang_times_out_and_stop_is_quick() -> None:
    with FakeOpenAI() as server:
        server.queue(hang(30))
        impatient = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0, timeout=0.3)
        with impatient, pytest.raises(openai.APITimeoutError):
            ask(impatient)
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1.0


def test_latency_delays_every_reply(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default, server.latency = content("slow"), 0.2
    started = time.monotonic()
    ask(client)
    assert time.monotonic() - started >= 0.2


def test_connections_are_kept_alive(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = content("ok")
    for _ in range(3):
        ask(client)
    assert server.open_connections == 1  # one connection served all three requests


def test_connection_close_is_honoured(server: FakeOpenAI) -> None:
    server.default = content("ok")
    body = json.dumps({"model": "m", "messages": MESSAGES}).encode()
    port = urllib.parse.urlsplit(server.base_url).port
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        reply = b""
        while chunk := raw.recv(65536):  # ends when the server closes its side
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Connection: close" in head
    assert json.loads(payload)["choices"][0]["message"]["content"] == "ok"


def test_a_garbage_request_only_drops_its_connection(
    server: FakeOpenAI, client: openai.OpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    server.default = content("ok")
    port = urllib.parse.urlsplit(server.base_url).port
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(b"NOT-HTTP\r\n\r\n")
        assert raw.recv(65536) == b""  # closed without a reply
    assert ask(client).choices[0].message.content == "ok"
    gc.collect()  # an unhandled error in the connection's task is logged when it is collected
    assert not [r for r in caplog.records if r.name == "asyncio"]


# -- log, reset, faults --------------------------------------------------------------


def test_request_log(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = content("x")
    ask(client)
    ask(client, model="gpt-4o")
    first, second = server.requests
    assert (first.method, first.path) == ("POST", "/v1/chat/completions")
    assert first.headers["authorization"] == "Bearer test-key"
    assert first.body is not None
    assert first.body["messages"] == MESSAGES
    assert [first.model, second.model] == ["gpt-4o-mini", "gpt-4o"]
    assert first.time <= second.time
    assert first.fault is None


def test_reset(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.queue(content("a"), content("b"))
    server.default, server.faults, server.latency = content("c"), {"500": 0.5}, 0.01
    ask(client)
    server.reset()
    assert server.pending == 0
    assert server.requests == []
    assert server.faults == {}
    assert server.default is None
    assert server.latency == 0.0


def test_bad_fault_rates_answer_500(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.default = content("fine")
    for bad in ({"404": 0.1}, {"429": 0.7, "500": 0.7}):
        server.faults = bad
        with pytest.raises(openai.InternalServerError, match=r"bad server\.faults"):
            ask(client)
    server.faults["429"] = 0.0  # plain dict: mutate it in place or assign a new one
    del server.faults["500"]
    assert ask(client).choices[0].message.content == "fine"


def fault_run(seed: int) -> tuple[list[str | None], list[str]]:
    """40 plain requests with 50 % faults of every kind; returns (faults, outcomes)."""
    outcomes: list[str] = []
    with FakeOpenAI(seed=seed) as server:
        server.hang_seconds = 0.05
        server.faults = {
            "429": 0.1,
            "500": 0.1,
            "503": 0.05,
            "hang": 0.05,
            "malformed": 0.05,
            "schema_invalid": 0.1,
            "length": 0.05,
        }
        server.queue(*(content(f"reply {i}") for i in range(40)))
        with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0) as c:
            for _ in range(40):
                try:
                    choice = ask(c).choices[0]
                    outcomes.append(choice.finish_reason + ":" + str(choice.message.content))
                except (openai.APIError, ValueError) as exc:
                    outcomes.append(type(exc).__name__)
        faults = [r.fault for r in server.requests]
        assert server.pending == 40 - faults.count(None)  # faults never consume a programmed reply
    return faults, outcomes


def test_faults_are_seeded_and_do_not_consume_replies() -> None:
    faults, outcomes = fault_run(seed=7)
    assert (faults, outcomes) == fault_run(seed=7)
    counts = Counter(faults)
    assert 8 <= 40 - counts[None] <= 32
    assert len(counts) >= 4
    served = [o for o, f in zip(outcomes, faults, strict=True) if f is None]
    assert served == [f"stop:reply {i}" for i in range(len(served))]
    expected = {
        "429": "RateLimitError",
        "500": "InternalServerError",
        "503": "InternalServerError",
        "hang": "InternalServerError",
        "malformed": "JSONDecodeError",
        "schema_invalid": "stop:{}",
        "length": 'length:{"',
    }
    for fault, outcome in zip(faults, outcomes, strict=True):
        if fault is not None:
            assert outcome == expected[fault], fault


def test_batch_with_20_percent_faults_succeeds_with_client_retries(server: FakeOpenAI) -> None:
    server.faults = {"429": 0.1, "503": 0.1}
    server.default = lambda request: content(request["messages"][0]["content"])
    with openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=6) as c:
        answers = [
            c.chat.completions.create(model="m", messages=[{"role": "user", "content": str(i)}])
            for i in range(30)
        ]
    assert [a.choices[0].message.content for a in answers] == [str(i) for i in range(30)]
    assert 0 < sum(r.fault is not None for r in server.requests) == len(server.requests) - 30


def test_schema_invalid_and_length_faults_through_instructor(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    server.faults = {"schema_invalid": 1.0}
    with pytest.raises(InstructorRetryException) as info:
        extract(client, instructor.Mode.TOOLS, max_retries=1)
    assert isinstance(info.value.__cause__, pydantic.ValidationError)
    assert server.requests[-1].fault == "schema_invalid"
    server.faults = {"length": 1.0}
    with pytest.raises(IncompleteOutputException):
        extract(client, instructor.Mode.JSON)


# -- async ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_async_client_and_instructor(server: FakeOpenAI) -> None:
    server.default = lambda request: tool_call(
        None, {"label": request["messages"][0]["content"], "score": 1}
    )
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="test-key", max_retries=0
    ) as client:
        judge = instructor.from_openai(client, mode=instructor.Mode.TOOLS)
        verdicts = await asyncio.gather(
            *(
                judge.chat.completions.create(
                    model="gpt-4o-mini",
                    response_model=Verdict,
                    max_retries=0,
                    messages=[{"role": "user", "content": f"t{i}"}],
                )
                for i in range(5)
            )
        )
        models = await client.models.list()
    assert [v.label for v in verdicts] == [f"t{i}" for i in range(5)]
    assert [m.id for m in models.data] == ["gpt-4o-mini", "gpt-4o"]
    assert len(server.requests) == 6


# -- network guard -------------------------------------------------------------------


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """exc, its causes/contexts and exception-group members (anyio wraps connect errors)."""
    while exc is not None:
        yield exc
        for member in getattr(exc, "exceptions", ()):  # ExceptionGroup
            yield from causes(member)
        exc = exc.__cause__ or exc.__context__


def test_guard_blocks_non_loopback_hosts() -> None:
    with pytest.raises(netguard.NetworkAccessBlocked, match=r"10\.255\.255\.1"):
        socket.create_connection(("10.255.255.1", 80), timeout=0.5)
    with pytest.raises(netguard.NetworkAccessBlocked, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(netguard.NetworkAccessBlocked):
        socket.gethostbyname("example.com")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        with pytest.raises(netguard.NetworkAccessBlocked):
            raw.connect(("10.255.255.1", 80))
        with pytest.raises(netguard.NetworkAccessBlocked):
            raw.connect_ex(("8.8.8.8", 53))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with udp, pytest.raises(netguard.NetworkAccessBlocked):
        udp.sendto(b"x", ("8.8.8.8", 53))
    assert len(netguard.take_violations()) == 6


def test_guard_blocks_openai_clients_but_not_the_loopback_server(client: openai.OpenAI) -> None:
    outside = openai.OpenAI(base_url="https://example.com/v1", api_key="k", max_retries=0)
    with outside, pytest.raises(openai.APIConnectionError) as info:
        outside.models.list()
    assert any(isinstance(e, netguard.NetworkAccessBlocked) for e in causes(info.value))
    (violation,) = netguard.take_violations()
    assert violation.startswith("netguard: blocked create_connection to 'example.com'")
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini", "gpt-4o"]


@pytest.mark.asyncio
async def test_guard_blocks_async_clients() -> None:
    outside = openai.AsyncOpenAI(base_url="http://10.255.255.1/v1", api_key="k", max_retries=0)
    async with outside:
        with pytest.raises(openai.APIConnectionError) as info:
            await outside.models.list()
    assert any(isinstance(e, netguard.NetworkAccessBlocked) for e in causes(info.value))
    assert netguard.take_violations()


def test_guard_allows_loopback_and_nests() -> None:
    for host in (
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "::ffff:127.0.0.1",
        "localhost",
        None,
        "0.0.0.0",
    ):
        assert netguard.is_loopback(host), host
    for host in ("10.255.255.1", "8.8.8.8", "2001:db8::1", "example.com", "localhost.example.com"):
        assert not netguard.is_loopback(host), host
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,
        socket.create_connection(listener.getsockname(), timeout=1),
    ):
        pass
    netguard.install()
    netguard.uninstall()
    assert netguard.installed()
    with pytest.raises(netguard.NetworkAccessBlocked):
        socket.getaddrinfo("example.com", 80)
    netguard.take_violations()
