"""The vLLM extractor in-process: a vLLM v1 `AsyncLLM` engine in this worker, for one-box
deployments. `generate()` takes one request per call and the engine batches whatever is in
flight, so the whole micro-batch is submitted at once, bounded by a semaphore.

vLLM is imported only here, and only when this extractor is built. Errors (the contract of
extractors/base.py): a prompt the engine rejects (`ValueError`: longer than max_model_len) and
output that stays unusable after the per-turn retries are turn-specific (retriable=False); a
request that fails inside the engine (`EngineGenerateError`) is retriable; a dead engine
(`EngineDeadError`) raises `ExtractorDead`, which stops the worker so a supervisor restarts it
with a fresh engine.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from typing import Any

from streamproc.core.errors import ConfigurationError, ExtractionError, ExtractorDead
from streamproc.core.spans import Detection
from streamproc.extractors.base import ExtractorBase, TurnText
from streamproc.extractors.model_request import ModelRequest
from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_common import batch_requests, extract_turn, gather_all, load_template
from streamproc.ops.metrics import Metrics
from streamproc.settings import ExtractionSettings

# Structured output: guidance honours disable_any_whitespace on the engine (per-request it is
# ignored in vLLM 0.32), which keeps compact JSON within max_tokens.
STRUCTURED_OUTPUTS = {"backend": "guidance", "disable_any_whitespace": True}


class VllmInProcessExtractor(ExtractorBase):
    name = "vllm-inprocess"

    def __init__(
        self,
        model_dir: str,
        *,
        template: PromptTemplate,
        max_tokens: int,
        max_concurrency: int,
        engine_args: dict[str, Any] | None = None,
        structured: bool = True,
        output_attempts: int = 2,
        metrics: Metrics | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.version = model_dir.rstrip("/").rsplit("/", 1)[-1]
        self.template = template
        self.max_tokens = max_tokens
        self.structured = structured
        self.output_attempts = output_attempts
        self.metrics = metrics
        self.engine_args = {"max_model_len": 8192, "enable_prefix_caching": True, **(engine_args or {})}
        self._limit = asyncio.Semaphore(max_concurrency)
        self._engine: Any = None
        self._tokenizer: Any = None
        self._starting = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: ExtractionSettings, metrics: Metrics | None = None) -> VllmInProcessExtractor:
        if not settings.model:
            raise ConfigurationError("vllm-inprocess needs extraction.model (--model DIR)")
        return cls(
            settings.model,
            template=load_template(settings.prompt_file, cls.name),
            max_tokens=settings.max_tokens,
            max_concurrency=settings.max_concurrency,
            engine_args=settings.vllm_engine_args,
            structured=settings.structured_output,
            output_attempts=settings.output_attempts,
            metrics=metrics,
        )

    async def start(self) -> None:
        """Start the engine (slow: loads weights). Called on first use if not called before."""
        async with self._starting:
            if self._engine is not None:
                return
            try:
                from vllm.engine.arg_utils import AsyncEngineArgs
                from vllm.v1.engine.async_llm import AsyncLLM
            except ImportError as err:
                raise ConfigurationError(f"vLLM is not installed here ({err.name}); see infra/vllm_cpu.sh or the gpu extra") from None
            args = AsyncEngineArgs(model=self.model_dir, structured_outputs_config=STRUCTURED_OUTPUTS, **self.engine_args)
            engine = AsyncLLM.from_engine_args(args)
            try:
                # vLLM 0.32 returns the tokenizer; older releases returned an awaitable.
                tokenizer = engine.get_tokenizer()
                if inspect.isawaitable(tokenizer):
                    tokenizer = await tokenizer
            except BaseException:
                engine.shutdown()
                raise
            self._engine, self._tokenizer = engine, tokenizer

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        if not batch:
            return []
        await self.start()
        requests = batch_requests(self.template, batch, self.max_tokens, structured=self.structured)
        return await gather_all([
            extract_turn(self._generate, req, turn, attempts=self.output_attempts, extractor=self.name, metrics=self.metrics)
            for req, turn in zip(requests, batch, strict=True)
        ])

    async def _generate(self, request: ModelRequest) -> tuple[str, bool]:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams
        from vllm.v1.engine.exceptions import EngineDeadError, EngineGenerateError

        rejected = _client_errors()

        prompt = self._tokenizer.apply_chat_template(
            request.messages, tokenize=False, add_generation_prompt=True, **request.chat_template_kwargs
        )
        params = SamplingParams(
            temperature=request.sampling.temperature,
            top_p=request.sampling.top_p,
            repetition_penalty=request.sampling.repetition_penalty,
            max_tokens=request.sampling.max_tokens,
            structured_outputs=StructuredOutputsParams(json=request.schema) if request.schema is not None else None,
        )
        final = None
        async with self._limit:
            try:
                async for output in self._engine.generate(prompt, params, request.request_id):
                    final = output
            except EngineDeadError:
                raise ExtractorDead("vLLM engine died") from None
            except EngineGenerateError as err:
                raise ExtractionError(f"vLLM failed the request ({type(err).__name__})", retriable=True) from None
            except rejected as err:  # vLLM's input validation: e.g. the prompt is longer than max_model_len
                raise ExtractionError(f"vLLM rejected the request ({type(err).__name__})", retriable=False) from None
        if final is None or not final.outputs:
            raise ExtractionError("vLLM returned no output", retriable=True)
        completion = final.outputs[0]
        return completion.text, completion.finish_reason == "length"

    async def aclose(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None


def _client_errors() -> tuple[type[Exception], ...]:
    """What vLLM raises for a request that is wrong in itself: ValueError in older releases,
    `VLLMClientError` (VLLMValidationError, ...) since 0.2x, which is not a ValueError."""
    import vllm.exceptions

    client_error = getattr(vllm.exceptions, "VLLMClientError", None)
    return (ValueError, client_error) if isinstance(client_error, type) else (ValueError,)
