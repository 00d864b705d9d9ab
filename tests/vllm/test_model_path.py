"""The model path against real vLLM OpenAI servers (CPU build, tiny models): both prompt_file
styles end to end, output without the JSON-schema constraint, an API key over TLS, and two servers
of which one is SIGKILLed mid-stream (issues #18, #11.7, #16.3, #13). The models are random: these
check the contract, not extraction quality."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import httpx
import pytest

from streamproc.core.errors import ExtractionError
from streamproc.core.spans import Detection
from streamproc.extractors.base import TurnText
from streamproc.extractors.model_output import BadModelOutput
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_http import VllmHttpExtractor
from streamproc.extractors.vllm_inprocess import VllmInProcessExtractor
from streamproc.settings import ExtractionSettings
from tests.vllm.support import SECURED_API_KEY, SERVED_NAME, VllmServer, turn_texts

pytestmark = pytest.mark.vllm

# Written for these tests in the str.format style the MemPrivacy project uses for its prompt
# (doubled literal braces, {real_name}, {input_dialogue_content}); not the upstream text.
FORMAT_STYLE = (
    "List the private values in the message below as a JSON array such as\n"
    '[{{"original_text": "...", "privacy_type": "Phone Number", "privacy_level": "PL2"}}]; [] if none.\n'
    "The writer is {real_name}.\n"
    "Message:\n{input_dialogue_content}\n"
)
OUR_STYLE = 'Private values as [{"original_text": "...", "privacy_type": "...", "privacy_level": "PL2"}].\nWriter: {real_name}\n{turn}\n'


def bodies_of(extractor: VllmHttpExtractor) -> list[dict[str, object]]:
    """Every chat request body the extractor sends, as sent."""
    sent: list[dict[str, object]] = []

    async def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith("/chat/completions"):
            sent.append(json.loads(request.content))

    extractor._client.event_hooks["request"].append(on_request)
    return sent


async def each_turn(extractor: VllmHttpExtractor | VllmInProcessExtractor, turns: list[TurnText]) -> list[list[Detection] | BaseException]:
    """One extract() per turn, concurrently, so every turn's own outcome is seen."""
    return await asyncio.gather(*(extractor.extract([t]) for t in turns), return_exceptions=True)  # type: ignore[misc]


def assert_grounded_or_turn_error(turns: list[TurnText], outcomes: list[object]) -> dict[str, int]:
    seen = {"spans": 0, "empty": 0, "bad_output": 0}
    for turn, outcome in zip(turns, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, BadModelOutput) and not outcome.retriable, repr(outcome)
            seen["bad_output"] += 1
            continue
        assert isinstance(outcome, list) and len(outcome) == 1, outcome
        assert all(d.original_text in turn.content for d in outcome[0]), "an ungrounded span"
        seen["spans" if outcome[0] else "empty"] += 1
    return seen


@pytest.mark.parametrize(("style", "text"), [("streamproc", OUR_STYLE), ("str.format", FORMAT_STYLE)])
async def test_both_prompt_styles_run_end_to_end_through_a_real_server(
    vllm_server: VllmServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, style: str, text: str
) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(text, "utf-8")
    settings = ExtractionSettings(extractor="vllm-http", vllm_url=f"{vllm_server.url}/v1", prompt_file=prompt, max_tokens=256)
    with caplog.at_level(logging.INFO, logger="streamproc.extractors.vllm_common"):
        extractor = VllmHttpExtractor.from_settings(settings)
    assert f"vllm-http prompt template: {style} style ({prompt})" in caplog.messages
    turns = turn_texts(6, seed=811)
    async with extractor:
        sent = bodies_of(extractor)
        results = await extractor.extract(turns)  # the base URL ended in /v1: no 404
    template = PromptTemplate.load(prompt)
    assert sorted(b["messages"][0]["content"] for b in sent) == sorted(  # type: ignore[index]
        template.render(t.real_name, t.role, t.content) for t in turns
    )
    first = sent[0]["messages"][0]["content"]  # type: ignore[index]
    assert "{{" not in first and '[{"original_text": "..."' in first and '"role": "user"' in first
    assert len(results) == len(turns)
    assert all(d.original_text in t.content for t, found in zip(turns, results, strict=True) for d in found)


async def test_without_the_schema_constraint_every_answer_is_grounded_spans_or_a_turn_error(vllm_server: VllmServer) -> None:
    turns = turn_texts(8, seed=812)
    async with VllmHttpExtractor(
        vllm_server.url, model=SERVED_NAME, template=PromptTemplate.load(), max_tokens=64, timeout_s=60,
        max_concurrency=16, structured=False,
    ) as extractor:
        sent = bodies_of(extractor)
        outcomes = await each_turn(extractor, turns)
    assert sent and all("response_format" not in b for b in sent)
    seen = assert_grounded_or_turn_error(turns, outcomes)
    print(f"unconstrained, server: {seen}, requests {len(sent)}")


async def test_without_the_schema_constraint_in_process_junk_never_becomes_a_span(
    inprocess: VllmInProcessExtractor, short_template: PromptTemplate
) -> None:
    inprocess.template = short_template  # the random model writes long invented strings
    inprocess.max_tokens = 48
    inprocess.structured = False
    try:
        turns = turn_texts(8, seed=813)
        seen = assert_grounded_or_turn_error(turns, await each_turn(inprocess, turns))
    finally:
        inprocess.structured = True
    print(f"unconstrained, in-process: {seen}")


async def test_an_api_key_over_tls_is_required_and_accepted(vllm_secured_server: VllmServer, tmp_path: Path) -> None:
    server, ca = vllm_secured_server, vllm_secured_server.tls.ca  # type: ignore[union-attr]
    assert server.url.startswith("https://")
    (turn,) = turn_texts(1, seed=814)

    def settings(**kw: object) -> ExtractionSettings:
        return ExtractionSettings(extractor="vllm-http", vllm_url=server.url, model=SERVED_NAME, max_tokens=128, **kw)  # type: ignore[arg-type]

    async with VllmHttpExtractor.from_settings(settings(vllm_ca_file=ca)) as no_key:
        with pytest.raises(ExtractionError, match="HTTP 401") as info:
            await no_key.extract([turn])
    assert info.value.retriable, "a missing key is the server's configuration, not the turn's fault"

    async with VllmHttpExtractor.from_settings(settings(vllm_api_key="wrong", vllm_ca_file=ca)) as wrong:
        with pytest.raises(ExtractionError, match="HTTP 401"):
            await wrong.extract([turn])

    async with VllmHttpExtractor.from_settings(settings(vllm_api_key=SECURED_API_KEY)) as untrusted:
        with pytest.raises(ExtractionError, match="ConnectError"):  # verification is on: the test CA is not trusted
            await untrusted.extract([turn])

    async with VllmHttpExtractor.from_settings(settings(vllm_api_key=SECURED_API_KEY, vllm_ca_file=ca)) as good:
        (found,) = await good.extract([turn])
    assert all(d.original_text in turn.content for d in found)


async def test_two_servers_one_killed_mid_stream_lose_no_turn(vllm_server: VllmServer, vllm_secured_server: VllmServer) -> None:
    doomed, survivor = vllm_secured_server, vllm_server
    batches = [turn_texts(8, seed=900 + i) for i in range(6)]
    extractor = VllmHttpExtractor(
        [doomed.url, survivor.url], model=SERVED_NAME, template=PromptTemplate.load(), max_tokens=256, timeout_s=60,
        max_concurrency=16, api_key=SECURED_API_KEY, ca_file=doomed.tls.ca, probe_interval_s=0.5,  # type: ignore[union-attr]
    )
    sent: dict[int, int] = {}
    answered: dict[int, int] = {}

    async def on_request(request: httpx.Request) -> None:
        sent[request.url.port or 0] = sent.get(request.url.port or 0, 0) + 1

    async def on_response(response: httpx.Response) -> None:
        port = response.request.url.port or 0
        answered[port] = answered.get(port, 0) + 1

    extractor._client.event_hooks = {"request": [on_request], "response": [on_response]}
    done: list[int] = []
    killed_at_batch: list[int] = []
    pool_doomed = extractor.pool.servers[0]

    async def lane(indexes: range) -> list[list[list[Detection]]]:
        out = []
        for i in indexes:
            out.append(await extractor.extract(batches[i]))
            done.append(i)
        return out

    async def killer() -> None:
        while not (done and pool_doomed.outstanding > 0):  # mid-stream: a batch done, requests in flight on it
            await asyncio.sleep(0.01)
        killed_at_batch.append(len(done))
        await asyncio.to_thread(doomed.kill9)

    async with extractor:
        results, _ = await asyncio.gather(
            asyncio.gather(lane(range(0, 6, 2)), lane(range(1, 6, 2))), asyncio.wait_for(killer(), 300)
        )
        after_kill = dict(answered)
        assert not pool_doomed.healthy, "the killed server is ejected"
        (probe_turn,) = turn_texts(1, seed=999)
        await extractor.extract([probe_turn])  # still served, by the survivor, while the probe keeps failing
        assert not pool_doomed.healthy
    flat = [r for lane_results in results for r in lane_results]
    assert sum(len(r) for r in flat) == sum(len(b) for b in batches), "every turn answered"
    retried = sent.get(doomed.port, 0) - answered.get(doomed.port, 0)
    print(f"killed after {killed_at_batch[0]} batches; requests sent {sent}, answered {after_kill}; retried on the survivor: {retried}")
    assert retried >= 1, "requests in flight on the killed server were retried elsewhere"
    assert answered.get(survivor.port, 0) >= sum(len(b) for b in batches) - answered.get(doomed.port, 0)
