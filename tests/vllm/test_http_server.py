"""The HTTP extractor against a real `vllm.entrypoints.openai.api_server` (CPU build, json_bias tiny
model served as "tiny"). The request body is the one the extractor builds; the concurrency is counted
with httpx event hooks on the extractor's own client."""

from __future__ import annotations

import httpx
import pytest

from streamproc.core.errors import ExtractionError
from streamproc.extractors.base import TurnText
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_common import batch_requests
from streamproc.extractors.vllm_http import VllmHttpExtractor
from streamproc.ops.metrics import Metrics
from tests.vllm.support import SERVED_NAME, InFlight, VllmServer, schema_valid, turn_texts

pytestmark = pytest.mark.vllm


def http_extractor(server: VllmServer, *, max_concurrency: int = 64, max_tokens: int = 256) -> VllmHttpExtractor:
    return VllmHttpExtractor(
        server.url, model=None, template=PromptTemplate.load(), max_tokens=max_tokens,
        timeout_s=60.0, max_concurrency=max_concurrency, metrics=Metrics(),
    )


async def test_the_request_body_we_build_is_accepted_and_honoured_by_a_real_vllm_server(vllm_server: VllmServer) -> None:
    (turn,) = turn_texts(1, seed=601)
    (request,) = batch_requests(PromptTemplate.load(), [turn], max_tokens=256)
    body = request.chat_completions_body(SERVED_NAME)
    assert {"response_format", "chat_template_kwargs", "temperature", "top_p", "repetition_penalty", "max_tokens"} <= set(body)
    async with httpx.AsyncClient(base_url=vllm_server.url, timeout=60) as client:
        answer = await client.post("/v1/chat/completions", json=body)
        assert answer.status_code == 200, answer.text
        choice = answer.json()["choices"][0]
        assert choice["finish_reason"] == "stop"
        assert schema_valid(choice["message"]["content"]), choice["message"]["content"]

        # response_format is honoured, not silently ignored: without it the same model writes no span array
        loose = {k: v for k, v in body.items() if k != "response_format"} | {"max_tokens": 64}
        unconstrained = await client.post("/v1/chat/completions", json=loose)
        assert unconstrained.status_code == 200, unconstrained.text
        assert not schema_valid(unconstrained.json()["choices"][0]["message"]["content"] or "")

        # chat_template_kwargs reach the chat template: thinking disabled = an empty think block at the end
        async def rendered(kwargs: dict[str, object] | None) -> list[str]:
            tok = {"model": SERVED_NAME, "messages": body["messages"], "add_generation_prompt": True, "return_token_strs": True}
            response = await client.post("/tokenize", json=tok | ({"chat_template_kwargs": kwargs} if kwargs else {}))
            assert response.status_code == 200, response.text
            return list(response.json()["token_strs"])

        with_kwargs = await rendered(body["chat_template_kwargs"])
        assert "</think>" in with_kwargs[-4:], with_kwargs[-8:]
        assert "</think>" not in await rendered(None)


async def test_http_extractor_sends_the_batch_concurrently_bounded_by_max_concurrency(vllm_server: VllmServer) -> None:
    turns = turn_texts(8, seed=602)
    async with http_extractor(vllm_server, max_concurrency=64) as extractor:
        counter = InFlight()
        counter.hook(extractor._client)
        results = await extractor.extract(turns)
    assert (counter.max, counter.total) == (8, 8), "the whole batch in flight at once"
    assert len(results) == len(turns)
    assert all(d.original_text in t.content for t, found in zip(turns, results, strict=True) for d in found)
    assert extractor.version == SERVED_NAME, "the model name is asked of the server when not configured"

    async with http_extractor(vllm_server, max_concurrency=3) as extractor:
        counter = InFlight()
        counter.hook(extractor._client)
        results = await extractor.extract(turns)
    assert (counter.max, counter.total) == (3, 8), "max_concurrency bounds the requests in flight"
    assert len(results) == len(turns)


async def test_a_turn_longer_than_the_servers_context_is_a_non_retriable_error(vllm_server: VllmServer) -> None:
    long_turn = TurnText("t-long", "user", "My card number is 4111111111111111. " * 400, None)
    async with http_extractor(vllm_server) as extractor:
        counter = InFlight()
        counter.hook(extractor._client)
        with pytest.raises(ExtractionError) as caught:
            await extractor.extract([long_turn])
    assert not caught.value.retriable, "a 4xx answer means the request is wrong: retrying cannot help"
    assert "HTTP 400" in str(caught.value)
    assert counter.total == 1, "not retried"
