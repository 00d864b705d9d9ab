"""`RulesExtractor`: every detector family over one turn, overlaps resolved, offsets dropped.

Confidence tiers (what `min_confidence` trades):
- 0.95+  checksum-validated or vendor-prefixed values (Luhn cards, IBANs, resident IDs, AKIA/ghp_
         keys, PEM blocks, emails). Practically never wrong.
- 0.8-0.9  a strong cue word next to a value of the right shape ("验证码 603158", "PIN: 4821"),
         or a well-formed phone/SSN/IP.
- 0.6-0.75 shape without a cue (a bare CN mobile number, a strong-looking password), or a
         cue separated from its value by several words; descriptive facts from lexicons
         (conditions, amounts with a purpose, relationships).
- 0.5    weak context (a capitalised name after a relationship word, a job title).
- 0.4    recall-first guesses, kept only by the `strict` preset: a census first name followed by a
         capitalised word anywhere ("Ana Ruiz"), a relationship word without a name ("my friend").
The default 0.5 keeps everything this package emits except the 0.4 tier; raise it to 0.7 for
precision-first deployments, or to 0.9 to keep only near-certain secrets and identifiers.

Presets (`STREAMPROC_EXTRACTION__RULES_PRESET`): `default` uses `min_confidence`; `strict` (recall
first, for a safety net in front of a cloud model) lowers it to at most STRICT_MIN_CONFIDENCE and
adds the low-tier detectors (STRICT_DETECTORS). Measured figures are in the README.
"""

from __future__ import annotations

import asyncio
import re
from bisect import bisect_left
from operator import attrgetter

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from streamproc.core import placeholders
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.extractors.base import ExtractorBase, TurnText

from . import (
    accounts,
    address,
    bank_accounts,
    demographics,
    devices,
    financial,
    identity,
    itinerary,
    keys,
    medical,
    names,
    national_ids,
    patterned,
    people,
    phones,
    places,
    secrets,
    security_qa,
    urls,
    wallets,
    work,
)
from . import firstpass, triggers
from .normalise import view_of
from .text import Hit

if TYPE_CHECKING:
    from streamproc.extractors.rules.pool import RulesPool

Detector = Callable[[str], Iterator[Hit | None]]
NamedDetector = Callable[[str, str | None], Iterator[Hit | None]]

TEXT_DETECTORS: tuple[Detector, ...] = (
    *patterned.DETECTORS, *keys.DETECTORS, *secrets.DETECTORS, *identity.DETECTORS,
    *financial.DETECTORS,
    *medical.DETECTORS,
    *address.DETECTORS,
    *itinerary.DETECTORS,
    *phones.DETECTORS, *accounts.DETECTORS, *national_ids.DETECTORS, *wallets.DETECTORS, *urls.DETECTORS,
    *work.DETECTORS,
    *demographics.DETECTORS,
    *security_qa.DETECTORS,
    *devices.DETECTORS,
    *places.DETECTORS,
    *bank_accounts.DETECTORS,
)
# The first-pass trigger (issue #14): these detectors report only spans that hold a digit (every
# alternative of their patterns has `\d`), so a turn without one skips them at the cost of one
# search. Most chat turns carry no digit; each skipped detector saves its scan and its generator.
NEEDS_DIGIT: frozenset[Detector] = frozenset({
    patterned.ips, address.coordinates, financial.credit_scores, financial.card_tails, medical.vitals,
    itinerary.flights_and_trains, accounts.cards, accounts.ibans, national_ids.national_ids,
    bank_accounts.bank_numbers, secrets.postfix_codes,
})
_DIGIT = re.compile(r"\d")
NAME_DETECTORS: tuple[NamedDetector, ...] = (*people.NAME_DETECTORS, *names.NAME_DETECTORS)
STRICT_DETECTORS: tuple[NamedDetector, ...] = names.STRICT_DETECTORS
PRESETS = ("default", "strict")
STRICT_MIN_CONFIDENCE = 0.35


_CELL = 64  # characters per cell of the grid that finds kept spans near a new one
_SMALL = 8  # a cluster this small compares each span with the kept ones directly
_RANK = {level: level.rank for level in PrivacyLevel}
_BY_START = attrgetter("start")


def _ranking(h: Hit) -> tuple[int, int, float, int]:
    return -_RANK[h.level], -(h.end - h.start), -h.confidence, h.start


def resolve_overlaps(hits: Iterable[Hit]) -> list[Hit]:
    """Keep one span per region and level: higher level first, then longer, then more confident.

    Spans of different levels may nest (a PL4 code inside a PL3 payment phrase): masking resolves
    those by level, and both facts are reported. So may a span of another type wholly inside a
    longer one ("Priya Nair" inside "my sister, Priya Nair"). Otherwise the longer span wins,
    which is the minimal span that still carries the whole fact.

    Only spans that overlap can clash, so the turn is cut into clusters of overlapping spans and
    each is resolved alone: a span that overlaps nothing (most spans of a long turn: 3,555 PINs)
    is kept without ranking. Returned in order of start; spans starting together keep rank order.
    """
    kept: list[Hit] = []
    cluster: list[Hit] = []
    reach = -1
    for h in sorted(hits, key=_BY_START):
        if h.start >= reach and cluster:
            kept.extend(cluster if len(cluster) == 1 else _resolve_cluster(cluster))
            cluster = []
        cluster.append(h)
        reach = max(reach, h.end)
    if cluster:
        kept.extend(cluster if len(cluster) == 1 else _resolve_cluster(cluster))
    return kept


def _resolve_cluster(cluster: list[Hit]) -> list[Hit]:
    """`resolve_overlaps` for spans that overlap one another.

    A large cluster (a long span over thousands of short ones) files kept spans in a grid of
    fixed-size cells, so a new span is compared only with the kept spans near it: ten thousand
    spans cost ten thousand look-ups, not 10^8.
    """
    a, b = cluster[0], cluster[1]
    if len(cluster) == 2 and a[:4] == b[:4]:
        # One value found by two detectors ("code 603158": a cue and a postfix code): same span,
        # type and level, so the more confident wins (the first on a tie), as ranking would say.
        return [b if b.confidence > a.confidence else a]
    ordered = sorted(cluster, key=_ranking)
    kept: list[Hit] = []
    if len(ordered) <= _SMALL:
        for h in ordered:
            for k in kept:
                if _clashes(h, k):
                    break
            else:
                kept.append(h)
        return sorted(kept, key=_BY_START) if len(kept) > 1 else kept
    grid: dict[int, list[Hit]] = {}
    for h in ordered:
        cells = range(h.start // _CELL, (h.end - 1) // _CELL + 1)
        if not any(_clashes(h, k) for cell in cells if cell in grid for k in grid[cell]):
            kept.append(h)
            for cell in cells:
                grid.setdefault(cell, []).append(h)
    return sorted(kept, key=_BY_START)


def _overlaps_any(regions: list[tuple[int, int]], h: Hit) -> bool:
    """Whether `h` overlaps one of `regions` (sorted, disjoint): one binary search, not a scan."""
    i = bisect_left(regions, (h.end, -1)) - 1  # the last region starting before h ends
    return i >= 0 and regions[i][1] > h.start


def _clashes(h: Hit, k: Hit) -> bool:
    if not (h.start < k.end and k.start < h.end):
        return False
    nested = k.start <= h.start and h.end <= k.end
    return (k.level == h.level and not (nested and k.privacy_type != h.privacy_type)) or (
        nested and k.level != h.level and k.privacy_type == h.privacy_type)


class RulesExtractor(ExtractorBase):
    """The embedded default extractor: pure, deterministic, bilingual (zh/en), no model."""

    name = "rules"
    version = "1.0.0"

    def __init__(
        self,
        min_confidence: float = 0.5,
        processes: int = 0,
        phone_regions: Sequence[str] = phones.DEFAULT_PHONE_REGIONS,
        preset: str = "default",
        deadline_s: float = 10.0,
    ) -> None:
        """`processes` > 0 runs `extract` in that many child processes (see pool.py), each call
        under `deadline_s`; 0 runs it in a thread, where no deadline can be enforced.

        `phone_regions`: ISO 3166 codes whose national formats are tried for numbers written
        without `+` (phones.py); unknown codes raise ValueError. `preset`: see PRESETS above.
        """
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be within [0, 1]")
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {PRESETS}")
        self.preset = preset
        self.min_confidence = min(min_confidence, STRICT_MIN_CONFIDENCE) if preset == "strict" else min_confidence
        self._named = NAME_DETECTORS + (STRICT_DETECTORS if preset == "strict" else ())
        regions = tuple(r.upper() for r in phone_regions)
        chosen = phones.detector(regions)
        national_ids.warm_up()
        accounts.warm_up()
        self._text_detectors = tuple(chosen if d in phones.DETECTORS else d for d in TEXT_DETECTORS)
        # A phone holds at least seven digits, whatever its regions.
        self._digit_free = tuple(d for d in self._text_detectors if d not in NEEDS_DIGIT and d is not chosen)
        # The first pass (issue #14): one Aho-Corasick scan decides which patterns can match; a
        # detector none of whose patterns can is skipped (firstpass.py, triggers.py).
        depends = triggers.depends()
        self._first_pass = firstpass.FirstPass([*(p for ps in depends.values() for p in ps), *triggers.checked()])
        self._depends = {d: frozenset(self._first_pass.key(p) for p in ps) for d, ps in depends.items()}
        self._pool: RulesPool | None = None
        if processes > 0:
            from streamproc.extractors.rules.pool import RulesPool

            self._pool = RulesPool(processes, min_confidence, regions, preset=preset, deadline_s=deadline_s)

    @classmethod
    def from_preset(cls, preset: str) -> RulesExtractor:
        return cls(preset=preset)

    def detect(self, turn: TurnText) -> list[Detection]:
        """Detections for one turn, each `original_text` an exact substring of its content.

        Detectors read a normalised view (no zero-width or bidi characters, full-width ASCII
        folded, see normalise.py); each span is mapped back and reported as the original
        substring, invisible characters inside it included, so masking hides all of it.
        """
        if not turn.content or not turn.content.strip():
            return []
        view = view_of(turn.content)
        text = view.text
        real_name = view_of(turn.real_name).text if turn.real_name else turn.real_name
        hits: list[Hit] = []
        # Placeholder look-alikes the user typed (`<Email_1>`, `&lt;Email_1&gt;`) are escaped by
        # masking and restored verbatim; detecting one as a secret would redact it for good.
        typed = [(f.start, f.end) for f in placeholders.scan(text)] if ("<" in text or "&lt;" in text) else []
        possible = firstpass.begin(self._first_pass, text)
        try:
            for detector in self._text_detectors if _DIGIT.search(text) else self._digit_free:
                needs = self._depends.get(detector)
                if needs is not None and needs.isdisjoint(possible):
                    continue  # none of its patterns can match anywhere in this turn
                hits.extend(h for h in detector(text) if h is not None and h.confidence >= self.min_confidence)
            for named in self._named:
                hits.extend(h for h in named(text, real_name)
                            if h is not None and h.confidence >= self.min_confidence)
        finally:
            firstpass.end()
        if typed:
            hits = [h for h in hits if not _overlaps_any(typed, h)]
        out: list[Detection] = []
        seen: set[str] = set()
        content, moved = turn.content, view.text is not turn.content  # else offsets are the turn's own
        for h in resolve_overlaps(hits):
            value = content[slice(*view.to_original(h.start, h.end))] if moved else content[h.start:h.end]
            if value not in seen:
                seen.add(value)
                out.append(Detection(value, h.privacy_type, h.level, f"rules:{h.detector}", h.confidence))
        return out

    async def extract(self, batch: Sequence[TurnText]) -> list[list[Detection]]:
        if self._pool is not None:
            return await self._pool.detect(batch)
        # In a worker thread: the detectors are CPU-bound, and while they run the event loop can
        # still commit the previous batch and keep the consumer polling (waits release the GIL).
        return await asyncio.to_thread(self._detect_all, list(batch))

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _detect_all(self, batch: list[TurnText]) -> list[list[Detection]]:
        return [self.detect(turn) for turn in batch]
