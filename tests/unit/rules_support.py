"""The one helper the rules tests share: what the rules extractor finds in a text."""

from __future__ import annotations

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import TurnText
from streamproc.extractors.rules import RulesExtractor


def found(text: str, real_name: str | None = None, preset: str = "default") -> dict[str, tuple[str, PrivacyLevel]]:
    """original_text -> (type, level), after checking what every detection must satisfy."""
    detections = RulesExtractor(preset=preset).detect(TurnText("t1", "user", text, real_name))
    for d in detections:
        assert d.original_text in text
        assert 0.0 <= d.confidence <= 1.0
        assert d.source.startswith("rules:")
    return {d.original_text: (d.privacy_type, d.privacy_level) for d in detections}
