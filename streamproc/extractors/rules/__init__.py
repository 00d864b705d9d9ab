"""The rules extractor: fast, deterministic, bilingual (zh/en) detectors that need no GPU.

One module per family; `RulesExtractor` runs them all. See `extractor.py` for what the
confidence tiers mean and how `min_confidence` trades precision against recall.
"""

from .extractor import RulesExtractor

__all__ = ["RulesExtractor"]
