"""The extraction metric: predictions against gold spans, message by message. Pure.

Per message, predictions and gold items are paired one-to-one, greedily, highest pair score
first (ties: earlier gold, then earlier prediction, so results are deterministic). A pair's
score is its text score (`text_similarity.text_score`, partial credit for descriptive gold
types) when the levels are equal and the types similar (`type_groups.types_similar`), else 0;
pairs scoring 0 are never made. Then, summed over the whole run (micro):

- precision = sum of pair scores / #predictions, recall = sum / #gold, F1 harmonic; a ratio
  with an empty denominator is 0.0 (so "predicted nothing" is precision 0, not an error);
- per level and per type, the same ratios (see `Counts`);
- level accuracy: a second matching that ignores level (text and type only); among pairs whose
  text score is >= DETECTED_THRESHOLD, the share whose levels agree;
- detected at any level: a third matching on text alone (type and level ignored, as masking
  ignores them); a gold item is detected when its pair scores >= DETECTED_THRESHOLD;
- the per-message average of the paper (`PerMessage`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.text_similarity import text_score
from streamproc.eval.type_groups import is_descriptive, type_key, types_similar

DETECTED_THRESHOLD = 0.5

PairScore = Callable[[Detection, Detection], float]  # (prediction, gold) -> [0, 1]


@dataclass(frozen=True, slots=True)
class MessageCase:
    """One message to score: its text, the gold spans and what the extractor predicted."""

    content: str
    gold: Sequence[Detection]
    predictions: Sequence[Detection]


@dataclass(frozen=True, slots=True)
class Match:
    pred: int
    gold: int
    score: float


def text_only_score(pred: Detection, gold: Detection) -> float:
    return text_score(pred.original_text, gold.original_text, partial=is_descriptive(gold.privacy_type))


def type_and_text_score(pred: Detection, gold: Detection) -> float:
    if not types_similar(pred.privacy_type, gold.privacy_type):
        return 0.0
    return text_only_score(pred, gold)


def pair_score(pred: Detection, gold: Detection) -> float:
    """The main metric's pair score: level exact, type similar, then text."""
    if pred.privacy_level is not gold.privacy_level:
        return 0.0
    return type_and_text_score(pred, gold)


def greedy_match(
    predictions: Sequence[Detection], gold: Sequence[Detection], score: PairScore = pair_score
) -> list[Match]:
    """One-to-one pairs, highest score first; a prediction listed twice can match only once."""
    candidates = [
        Match(p, g, s)
        for g, gold_item in enumerate(gold)
        for p, pred in enumerate(predictions)
        if (s := score(pred, gold_item)) > 0.0
    ]
    candidates.sort(key=lambda m: (-m.score, m.gold, m.pred))
    used_pred: set[int] = set()
    used_gold: set[int] = set()
    chosen: list[Match] = []
    for match in candidates:
        if match.pred in used_pred or match.gold in used_gold:
            continue
        used_pred.add(match.pred)
        used_gold.add(match.gold)
        chosen.append(match)
    return chosen


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


@dataclass(slots=True)
class Counts:
    """Scores and counts for one slice (everything, a level or a type).

    A matched prediction is counted in the slice of the gold item it matched (so a prediction
    typed "IP Address" that matched a gold "Network Identifier" counts under the gold's type);
    an unmatched one in its own slice. Summed over slices this gives the overall counts.
    """

    n_gold: int = 0
    n_pred: int = 0
    score: float = 0.0
    n_missed: int = 0  # gold items that matched nothing

    @property
    def precision(self) -> float:
        return _ratio(self.score, self.n_pred)

    @property
    def recall(self) -> float:
        return _ratio(self.score, self.n_gold)

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)


@dataclass(slots=True)
class PerMessage:
    """The paper's number: P/R/F1 per message, averaged over messages.

    A message with neither gold nor predictions scores 1.0 on all three; otherwise an empty
    denominator gives 0.0. Because most dialogue turns hold nothing private, this average is
    inflated by empty messages; it is reported for comparison with the paper only.
    """

    n_messages: int = 0
    n_empty: int = 0
    precision_sum: float = 0.0
    recall_sum: float = 0.0
    f1_sum: float = 0.0

    @property
    def precision(self) -> float:
        return _ratio(self.precision_sum, self.n_messages)

    @property
    def recall(self) -> float:
        return _ratio(self.recall_sum, self.n_messages)

    @property
    def f1(self) -> float:
        return _ratio(self.f1_sum, self.n_messages)


@dataclass(slots=True)
class Metrics:
    overall: Counts = field(default_factory=Counts)
    by_level: dict[PrivacyLevel, Counts] = field(default_factory=dict)
    by_type: dict[str, Counts] = field(default_factory=dict)
    per_message: PerMessage = field(default_factory=PerMessage)
    level_pairs: int = 0  # text+type matched pairs (level ignored)
    level_correct: int = 0
    level_confusion: dict[tuple[PrivacyLevel, PrivacyLevel], int] = field(default_factory=dict)
    detected_by_level: dict[PrivacyLevel, tuple[int, int]] = field(default_factory=dict)
    n_messages: int = 0
    predictions_not_in_text: int = 0  # hallucinated values: not a substring of their message
    gold_not_in_text: int = 0

    @property
    def level_accuracy(self) -> float:
        return _ratio(self.level_correct, self.level_pairs)

    def detected_share(self, levels: Iterable[PrivacyLevel]) -> tuple[int, int, float]:
        """(detected, total, share) of gold items at these levels found at any level/type."""
        chosen = set(levels)
        detected = sum(d for lvl, (d, _) in self.detected_by_level.items() if lvl in chosen)
        total = sum(t for lvl, (_, t) in self.detected_by_level.items() if lvl in chosen)
        return detected, total, _ratio(detected, total)

    def add(self, case: MessageCase) -> None:
        """Fold one message into the totals (the only mutation; used while a run streams)."""
        gold, preds = case.gold, case.predictions
        matches = greedy_match(preds, gold)
        score = sum(m.score for m in matches)
        self.n_messages += 1
        self.predictions_not_in_text += sum(p.original_text not in case.content for p in preds)
        self.gold_not_in_text += sum(g.original_text not in case.content for g in gold)
        self._add_slices(gold, preds, matches)
        self._add_per_message(len(preds), len(gold), score)
        self._add_level_accuracy(gold, preds)
        self._add_detected(gold, preds)

    def _slice(self, table: dict[str, Counts], key: str) -> Counts:
        return table.setdefault(key, Counts())

    def _add_slices(
        self, gold: Sequence[Detection], preds: Sequence[Detection], matches: list[Match]
    ) -> None:
        matched_gold = {m.gold: m for m in matches}
        matched_pred = {m.pred: m for m in matches}
        for g, item in enumerate(gold):
            match = matched_gold.get(g)
            for counts in self._slices_of(item):
                counts.n_gold += 1
                if match is None:
                    counts.n_missed += 1
                else:
                    counts.score += match.score
                    counts.n_pred += 1
        for p, pred in enumerate(preds):
            if p not in matched_pred:
                for counts in self._slices_of(pred):
                    counts.n_pred += 1

    def _slices_of(self, item: Detection) -> tuple[Counts, Counts, Counts]:
        level = self.by_level.setdefault(item.privacy_level, Counts())
        return self.overall, level, self._slice(self.by_type, type_key(item.privacy_type))

    def _add_per_message(self, n_pred: int, n_gold: int, score: float) -> None:
        pm = self.per_message
        pm.n_messages += 1
        if n_pred == 0 and n_gold == 0:
            pm.n_empty += 1
            pm.precision_sum += 1.0
            pm.recall_sum += 1.0
            pm.f1_sum += 1.0
            return
        precision, recall = _ratio(score, n_pred), _ratio(score, n_gold)
        pm.precision_sum += precision
        pm.recall_sum += recall
        pm.f1_sum += f1(precision, recall)

    def _add_level_accuracy(self, gold: Sequence[Detection], preds: Sequence[Detection]) -> None:
        for m in greedy_match(preds, gold, type_and_text_score):
            if m.score < DETECTED_THRESHOLD:
                continue
            pair = (gold[m.gold].privacy_level, preds[m.pred].privacy_level)
            self.level_pairs += 1
            self.level_correct += pair[0] is pair[1]
            self.level_confusion[pair] = self.level_confusion.get(pair, 0) + 1

    def _add_detected(self, gold: Sequence[Detection], preds: Sequence[Detection]) -> None:
        found = {m.gold for m in greedy_match(preds, gold, text_only_score) if m.score >= DETECTED_THRESHOLD}
        for g, item in enumerate(gold):
            detected, total = self.detected_by_level.get(item.privacy_level, (0, 0))
            self.detected_by_level[item.privacy_level] = (detected + (g in found), total + 1)


def evaluate(cases: Iterable[MessageCase]) -> Metrics:
    """Score a whole run."""
    metrics = Metrics()
    for case in cases:
        metrics.add(case)
    return metrics
