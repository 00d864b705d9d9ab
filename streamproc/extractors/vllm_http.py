"""The vLLM extractor over HTTP: a client for one or several `vllm serve` (OpenAI-compatible)
servers, the docker-compose GPU service. The whole micro-batch is sent concurrently, so vLLM's
continuous batching and prefix caching (every request shares the prompt prefix) do the work; a
semaphore caps concurrency. With several servers each request goes to the least busy healthy one
(vllm_pool.py). https URLs are verified (a custom CA via `vllm_ca_file`); an API key is sent as
`Authorization: Bearer`.

Errors (the contract of extractors/base.py):
- 400, 413, 422: the request itself is wrong (e.g. longer than the server's max-model-len):
  turn-specific, not retriable, not tried on another server.
- transport errors, timeouts, 5xx: the server is ejected and the request tried on another;
  429: tried on another, no ejection; other 4xx (401, 403, 404): a key or configuration problem,
  ejected like a failure. After the attempts: retriable.
- unusable model output: retried per turn (vllm_common.extract_turn), then turn-specific.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from streamproc.core.errors import ConfigurationError, ExtractionError
from streamproc.core.spans import Detection
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.model_request import ModelRequest
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_common import batch_requests, extract_turn, gather_all, load_template
from streamproc.extractors.vllm_pool import Server, ServerPool
from streamproc.ops.metrics import Metrics
from streamproc.settings import ExtractionSettings, parse_vllm_urls

TURN_SPECIFIC = frozenset({400, 413, 422})


class _ServerFailed(Exception):
    """One server could not answer; try another (internal to _call)."""



class VllmHttpExtractor(ExtractorBase):
    name = "vllm-http"

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        model: str | None,
        template: PromptTemplate,
        max_tokens: int,
        timeout_s: float,
        max_concurrency: int,
        attempts: int = 3,
        structured: bool = True,
        output_attempts: int = 2,
        api_key: str | None = None,
        ca_file: Path | None = None,
        probe_interval_s: float = 2.0,
        metrics: Metrics | None = None,
    ) -> None:
        urls = parse_vllm_urls(base_url if isinstance(base_url, str) else list(base_url))
        self.base_url = urls[0]
        self.model = model
        self.template = template
        self.max_tokens = max_tokens
        self.structured = structured
        self.output_attempts = output_attempts
        self.attempts = max(attempts, len(urls) + 1)  # every server gets a chance, and one more
        self.metrics = metrics
        self.version = model or "unknown"
        self._limit = asyncio.Semaphore(max_concurrency)
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else None,
            verify=verify,
        )
        self.pool = ServerPool(urls, probe=self._probe, probe_interval_s=probe_interval_s)

    @classmethod
    def from_settings(cls, settings: ExtractionSettings, metrics: Metrics | None = None) -> VllmHttpExtractor:
        if not settings.vllm_urls:
            raise ConfigurationError("vllm-http needs extraction.vllm_url (--vllm-url)")
        if settings.vllm_ca_file is not None and not settings.vllm_ca_file.is_file():
            raise ConfigurationError(f"extraction.vllm_ca_file {settings.vllm_ca_file} is not a file")
        key = settings.vllm_api_key.get_secret_value() if settings.vllm_api_key else None
        return cls(
            settings.vllm_urls,
            model=settings.model,
            template=load_template(settings.prompt_file, cls.name),
            max_tokens=settings.max_tokens,
            timeout_s=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            structured=settings.structured_output,
            output_attempts=settings.output_attempts,
            api_key=key,
            ca_file=settings.vllm_ca_file,
            probe_interval_s=settings.vllm_probe_interval_s,
            metrics=metrics,
        )

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        if not batch:
            return []
        model = await self._model_name()
        requests = batch_requests(self.template, batch, self.max_tokens, structured=self.structured)

        async def generate(request: ModelRequest) -> tuple[str, bool]:
            return await self._generate(model, request)

        return await gather_all([
            extract_turn(generate, req, turn, attempts=self.output_attempts, extractor=self.name, metrics=self.metrics)
            for req, turn in zip(requests, batch, strict=True)
        ])

    async def _generate(self, model: str, request: ModelRequest) -> tuple[str, bool]:
        async with self._limit:
            answer = await self._call("POST", "/v1/chat/completions", request.chat_completions_body(model))
        try:
            choice = answer["choices"][0]
            text, finish = choice["message"]["content"] or "", choice.get("finish_reason")
        except (KeyError, IndexError, TypeError):
            raise ExtractionError("vLLM answer has no choices[0].message.content", retriable=True) from None
        return str(text), finish == "length"

    async def _model_name(self) -> str:
        if self.model is None:  # ask a server once: `vllm serve` serves one model
            models = await self._call("GET", "/v1/models", None)
            try:
                self.model = str(models["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise ExtractionError("vLLM server lists no model", retriable=True) from None
            self.version = self.model
        return self.model

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        tried: list[Server] = []
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=0.2, max=2.0),
                retry=retry_if_exception(lambda e: isinstance(e, _ServerFailed)),
                reraise=True,
            ):
                with attempt:
                    server = self.pool.pick(avoid=tried)
                    tried.append(server)
                    return await self._on(server, method, path, body)
        except _ServerFailed as err:
            raise ExtractionError(f"no vLLM server answered {path}: {err}", retriable=True) from None
        raise AssertionError("unreachable")

    async def _on(self, server: Server, method: str, path: str, body: dict[str, Any] | None) -> Any:
        async with self.pool.lease(server):
            try:
                response = await self._client.request(method, server.url + path, json=body)
            except httpx.TransportError as err:  # connection refused or reset, timeouts
                self.pool.eject(server, type(err).__name__)
                raise _ServerFailed(type(err).__name__) from None
        status = response.status_code
        if status in TURN_SPECIFIC:
            raise ExtractionError(f"vLLM server answered HTTP {status} on {path}", retriable=False)
        if status == 429:
            raise _ServerFailed("HTTP 429")
        if status >= 400:
            self.pool.eject(server, f"HTTP {status}")
            raise _ServerFailed(f"HTTP {status}")
        try:
            answer = response.json()
        except ValueError:
            raise _ServerFailed("answer is not JSON") from None
        self.pool.succeeded(server)
        return answer

    async def readiness(self) -> dict[str, bool]:
        """Each server: does it answer GET /v1/models with our key and TLS settings and serve the
        configured model? (For health checks and `doctor`; does not change the pool.)"""
        answers = await asyncio.gather(*(self._probe(s.url) for s in self.pool.servers))
        return {s.url: ok for s, ok in zip(self.pool.servers, answers, strict=True)}

    async def _probe(self, url: str) -> bool:
        """Readiness of an ejected server: it lists models (with our key) and, when one is
        configured, serves ours."""
        try:
            response = await self._client.get(url + "/v1/models", timeout=5.0)
            if response.status_code != 200:
                return False
            served = {str(m.get("id")) for m in response.json().get("data", [])}
        except (httpx.HTTPError, ValueError, AttributeError):
            return False
        return self.model is None or self.model in served

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self._client.aclose()
