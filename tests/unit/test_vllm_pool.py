"""Several vLLM servers: URL forms, least-outstanding choice, ejection and re-probing (pure pool,
fake probe), and the HTTP extractor's error classes over an in-memory httpx transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from streamproc.core.errors import ExtractionError
from streamproc.extractors.base import TurnText
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_http import VllmHttpExtractor
from streamproc.extractors.vllm_pool import ServerPool
from streamproc.settings import ExtractionSettings, Settings


@pytest.mark.parametrize(
    ("given", "urls"),
    [
        ("http://gpu:8000/v1", ("http://gpu:8000",)),
        ("http://gpu:8000/v1/", ("http://gpu:8000",)),
        ("http://gpu:8000", ("http://gpu:8000",)),
        ("https://a/v1, http://b:8000", ("https://a", "http://b:8000")),
        ('["http://a:1/v1", "http://b:2"]', ("http://a:1", "http://b:2")),
        (["http://a:1", "http://a:1/v1"], ("http://a:1",)),
    ],
)
def test_vllm_url_accepts_one_many_and_the_v1_base(given: object, urls: tuple[str, ...]) -> None:
    assert ExtractionSettings(vllm_url=given).vllm_urls == urls


def test_vllm_url_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMPROC_EXTRACTION__VLLM_URL", "http://a:8000/v1,http://b:8000")
    assert Settings().extraction.vllm_urls == ("http://a:8000", "http://b:8000")
    monkeypatch.setenv("STREAMPROC_EXTRACTION__VLLM_URL", '["http://c:8000"]')
    assert Settings().extraction.vllm_urls == ("http://c:8000",)


@pytest.mark.parametrize("bad", ["gpu:8000", "ftp://gpu", "[not json", "http://"])
def test_a_bad_vllm_url_is_a_settings_error(bad: str) -> None:
    with pytest.raises(ValueError):
        ExtractionSettings(vllm_url=bad)


async def never(url: str) -> bool:
    return False


async def test_requests_go_to_the_server_with_fewest_outstanding() -> None:
    pool = ServerPool(["http://a", "http://b", "http://c"], probe=never, probe_interval_s=60)
    a, b, c = pool.servers
    a.outstanding, b.outstanding, c.outstanding = 3, 1, 2
    assert pool.pick() is b
    async with pool.lease(b):
        async with pool.lease(b):
            assert pool.pick() is c
    assert b.outstanding == 1
    assert pool.pick(avoid=[b]) is c


async def test_ties_rotate() -> None:
    pool = ServerPool(["http://a", "http://b"], probe=never, probe_interval_s=60)
    assert {pool.pick().url for _ in range(4)} == {"http://a", "http://b"}


async def test_an_ejected_server_is_skipped_and_readmitted_by_its_probe() -> None:
    answer = asyncio.Event()

    async def probe(url: str) -> bool:
        return answer.is_set()

    pool = ServerPool(["http://a", "http://b"], probe=probe, probe_interval_s=0.01)
    a, b = pool.servers
    pool.eject(a, "ConnectError")
    assert [pool.pick() for _ in range(3)] == [b, b, b]
    answer.set()
    while not a.healthy:  # the probe task re-admits it
        await asyncio.sleep(0.01)
    assert a.ejections == 1
    await pool.aclose()


async def test_with_every_server_ejected_requests_still_go_somewhere() -> None:
    pool = ServerPool(["http://a"], probe=never, probe_interval_s=60)
    (a,) = pool.servers
    pool.eject(a, "timeout")
    assert pool.pick() is a
    pool.succeeded(a)
    assert a.healthy
    await pool.aclose()


SPANS = json.dumps([{"original_text": "13712345670", "privacy_type": "Phone Number", "privacy_level": "PL2"}])
TURN = TurnText("t", "user", "call 13712345670", None)


def extractor(handler: Callable[[httpx.Request], httpx.Response], urls: list[str], **kw: object) -> VllmHttpExtractor:
    ex = VllmHttpExtractor(
        urls, model="m", template=PromptTemplate.load(), max_tokens=64, timeout_s=5, max_concurrency=4,
        api_key="k3y", probe_interval_s=60, **kw,  # type: ignore[arg-type]
    )
    ex._client._transport = httpx.MockTransport(handler)
    return ex


def chat(text: str, finish: str = "stop") -> httpx.Response:
    return httpx.Response(200, json={"choices": [{"message": {"content": text}, "finish_reason": finish}]})


async def test_a_dead_server_is_ejected_and_the_turn_answered_by_another() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host} {request.headers['authorization']}")
        if request.url.host == "a":
            raise httpx.ConnectError("refused")
        return chat(SPANS)

    async with extractor(handler, ["http://a/v1", "http://b"]) as ex:
        assert [[d.original_text for d in ds] for ds in await ex.extract([TURN, TURN])] == [["13712345670"]] * 2
        assert not ex.pool.servers[0].healthy
    assert all(s.endswith("Bearer k3y") for s in seen) and {s.split()[0] for s in seen} == {"a", "b"}


@pytest.mark.parametrize(("status", "retriable"), [(400, False), (413, False), (422, False), (500, True), (503, True), (429, True), (401, True), (404, True)])
async def test_status_codes_are_classified_turn_or_server(status: int, retriable: bool) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json={"error": "x"})

    async with extractor(handler, ["http://a"], attempts=2) as ex:
        with pytest.raises(ExtractionError) as info:
            await ex.extract([TURN])
    assert info.value.retriable is retriable
    assert calls == (1 if not retriable else 2), "turn-specific answers are not retried"


async def test_unusable_output_is_retried_per_turn_then_turn_specific() -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return chat('[{"original_text": "13', finish="length")

    async with extractor(handler, ["http://a"], output_attempts=2) as ex:
        with pytest.raises(ExtractionError, match="max_tokens") as info:
            await ex.extract([TURN])
    assert not info.value.retriable
    assert [b["max_tokens"] for b in bodies] == [64, 128], "a cut output is retried with more room"


async def test_structured_output_off_sends_no_schema_and_parses_tolerantly() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "response_format" not in json.loads(request.content)
        return chat(f"<think>\n</think>\n```json\n{SPANS}\n```")

    async with extractor(handler, ["http://a"], structured=False) as ex:
        assert [[d.original_text for d in ds] for ds in await ex.extract([TURN])] == [["13712345670"]]


async def test_readiness_reports_each_server_with_the_key_and_the_model() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer k3y"
        served = {"a": "m", "b": "other"}.get(request.url.host)
        if served is None:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={"data": [{"id": served}]})

    async with extractor(handler, ["http://a", "http://b", "http://c"]) as ex:
        assert await ex.readiness() == {"http://a": True, "http://b": False, "http://c": False}
