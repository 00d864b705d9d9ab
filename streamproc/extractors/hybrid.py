"""Hybrid extraction: the model's spans plus the rules' spans, rules as the safety net.

Both run on the whole batch concurrently. The union goes to masking, which merges overlaps. If the
model fails, the batch fails (the flow's fail-closed policy decides); the rules alone are the
`fallback` setting's job, and that output is marked degraded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from streamproc.core.spans import Detection
from streamproc.extractors.base import Extractor, ExtractorBase, TurnText
from streamproc.ops.metrics import Metrics


class HybridExtractor(ExtractorBase):
    def __init__(self, model: Extractor, rules: Extractor, *, metrics: Metrics | None = None) -> None:
        self.model = model
        self.rules = rules
        self.metrics = metrics
        self.name = f"hybrid({model.name}+{rules.name})"
        self.version = f"{model.version}+{rules.version}"

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        model_out, rules_out = await asyncio.gather(self.model.extract(batch), self.rules.extract(batch))
        merged = []
        for from_model, from_rules in zip(model_out, rules_out, strict=True):
            seen = {(d.original_text, d.privacy_level) for d in from_model}
            only_rules = [d for d in from_rules if (d.original_text, d.privacy_level) not in seen]
            merged.append([*from_model, *only_rules])
        return merged

    async def aclose(self) -> None:
        await asyncio.gather(self.model.aclose(), self.rules.aclose())
