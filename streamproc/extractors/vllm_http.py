"""The vLLM extractor over HTTP: a client for `vllm serve` (OpenAI-compatible), the docker-compose
GPU service. The whole micro-batch is sent concurrently, so vLLM's continuous batching and prefix
caching (every request shares the prompt prefix) do the work; a semaphore caps concurrency.

Errors: connection failures, timeouts, 429 and 5xx are retried a few times, then surface as
retriable ExtractionError (the flow backs off without committing). Other 4xx answers mean the
request itself is wrong (e.g. longer than the server's max-model-len): not retriable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from streamproc.core.errors import ExtractionError
from streamproc.core.spans import Detection
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.model_request import ModelRequest
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_common import batch_requests, detections_from, gather_all
from streamproc.ops.metrics import Metrics
from streamproc.settings import ExtractionSettings


def _worth_retrying(err: BaseException) -> bool:
    if isinstance(err, httpx.HTTPStatusError):
        return err.response.status_code == 429 or err.response.status_code >= 500
    return isinstance(err, httpx.TransportError)


class VllmHttpExtractor(ExtractorBase):
    name = "vllm-http"

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None,
        template: PromptTemplate,
        max_tokens: int,
        timeout_s: float,
        max_concurrency: int,
        attempts: int = 3,
        metrics: Metrics | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.template = template
        self.max_tokens = max_tokens
        self.attempts = attempts
        self.metrics = metrics
        self.version = model or "unknown"
        self._limit = asyncio.Semaphore(max_concurrency)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )

    @classmethod
    def from_settings(cls, settings: ExtractionSettings, metrics: Metrics | None = None) -> VllmHttpExtractor:
        if not settings.vllm_url:
            raise ExtractionError("vllm-http needs extraction.vllm_url (--vllm-url)", retriable=False)
        return cls(
            settings.vllm_url,
            model=settings.model,
            template=PromptTemplate.load(settings.prompt_file),
            max_tokens=settings.max_tokens,
            timeout_s=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            metrics=metrics,
        )

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        if not batch:
            return []
        model = await self._model_name()
        requests = batch_requests(self.template, batch, self.max_tokens)
        return await gather_all([self._one(model, req, turn) for req, turn in zip(requests, batch, strict=True)])

    async def _one(self, model: str, request: ModelRequest, turn: TurnText) -> list[Detection]:
        async with self._limit:
            answer = await self._post("/v1/chat/completions", request.chat_completions_body(model))
        try:
            choice = answer["choices"][0]
            text, finish = choice["message"]["content"] or "", choice.get("finish_reason")
        except (KeyError, IndexError, TypeError):
            raise ExtractionError("vLLM answer has no choices[0].message.content", retriable=True) from None
        return detections_from(text, truncated=finish == "length", turn=turn, extractor=self.name, metrics=self.metrics)

    async def _model_name(self) -> str:
        if self.model is None:  # ask the server once: `vllm serve` serves one model
            models = await self._get("/v1/models")
            try:
                self.model = str(models["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise ExtractionError("vLLM server lists no model", retriable=False) from None
            self.version = self.model
        return self.model

    async def _get(self, path: str) -> Any:
        return await self._call("GET", path, None)

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return await self._call("POST", path, body)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_exponential(multiplier=0.2, max=2.0),
                retry=retry_if_exception(_worth_retrying),
                reraise=True,
            ):
                with attempt:
                    response = await self._client.request(method, path, json=body)
                    response.raise_for_status()
                    return response.json()
        except httpx.HTTPStatusError as err:
            status = err.response.status_code
            raise ExtractionError(f"vLLM server answered HTTP {status} on {path}", retriable=status == 429 or status >= 500) from None
        except httpx.TransportError as err:
            raise ExtractionError(f"vLLM server unreachable ({type(err).__name__})", retriable=True) from None
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._client.aclose()
