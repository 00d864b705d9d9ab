"""The extraction metric on hand-made cases (no dev data: its licence keeps it out of the repo)."""

from __future__ import annotations

import pytest

from streamproc.core.spans import Detection
from streamproc.core.taxonomy import STANDARD_TYPES, PrivacyLevel
from streamproc.eval.metric import MessageCase, Metrics, evaluate, greedy_match
from streamproc.eval.text_similarity import text_score, token_overlap, tokenize
from streamproc.eval.type_groups import TYPE_SYNONYMS, is_descriptive, types_similar

PL2, PL3, PL4 = PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4


def d(text: str, privacy_type: str, level: PrivacyLevel) -> Detection:
    return Detection(text, privacy_type, level)


def run(*cases: tuple[str, list[Detection], list[Detection]]) -> Metrics:
    return evaluate(MessageCase(content, gold, preds) for content, gold, preds in cases)


CONTENT = "Call me on 415-555-0134 or mail ana@example.org; my knee surgery is on Friday at St Mary."
GOLD = [
    d("415-555-0134", "Phone Number", PL2),
    d("ana@example.org", "Email", PL2),
    d("knee surgery is on Friday", "Medical Health", PL3),
]


def test_perfect_prediction_scores_one() -> None:
    m = run((CONTENT, GOLD, list(GOLD)))
    assert (m.overall.precision, m.overall.recall, m.overall.f1) == (1.0, 1.0, 1.0)
    assert m.by_level[PL2].recall == 1.0 and m.by_level[PL3].recall == 1.0
    assert m.level_accuracy == 1.0
    assert m.detected_share([PL3, PL4]) == (1, 1, 1.0)


def test_empty_prediction_gives_zero_recall_and_zero_precision() -> None:
    m = run((CONTENT, GOLD, []))
    assert m.overall.recall == 0.0
    assert m.overall.precision == 0.0  # defined as 0, not a ZeroDivisionError
    assert m.overall.f1 == 0.0
    assert m.overall.n_missed == 3
    assert m.level_pairs == 0 and m.level_accuracy == 0.0


def test_nothing_at_all_is_all_zero_without_division_errors() -> None:
    m = run()
    assert (m.overall.precision, m.overall.recall, m.overall.f1) == (0.0, 0.0, 0.0)
    assert m.per_message.f1 == 0.0


def test_whitespace_differences_still_match_exactly() -> None:
    assert text_score("  415-555-0134 ", "415-555-0134", partial=False) == 1.0
    assert text_score("St  Mary\nHospital", "St Mary Hospital", partial=False) == 1.0


def test_descriptive_type_gets_partial_credit_for_a_shorter_span() -> None:
    gold = [d("knee surgery is on Friday", "Medical Health", PL3)]
    m = run((CONTENT, gold, [d("knee surgery", "Medical Health", PL3)]))
    # tokens: 2 common of 2 and 5 -> 2*2/(2+5)
    assert m.overall.recall == pytest.approx(4 / 7)
    assert m.overall.precision == pytest.approx(4 / 7)


def test_identifier_type_gets_no_partial_credit() -> None:
    gold = [d("415-555-0134", "Phone Number", PL2)]
    m = run((CONTENT, gold, [d("555-0134", "Phone Number", PL2)]))
    assert m.overall.recall == 0.0 and m.overall.precision == 0.0


def test_partial_credit_uses_longest_contiguous_run_not_scattered_tokens() -> None:
    # "a b c d" vs "a x c y": two tokens in common but the longest contiguous run is 1.
    assert token_overlap("a b c d", "a x c y") == pytest.approx(2 * 1 / 8)


def test_duplicate_prediction_matches_once_and_costs_precision() -> None:
    gold = [d("ana@example.org", "Email", PL2)]
    pred = d("ana@example.org", "Email", PL2)
    m = run((CONTENT, gold, [pred, pred]))
    assert m.overall.recall == 1.0
    assert m.overall.precision == 0.5
    assert len(greedy_match([pred, pred], gold)) == 1


def test_greedy_pairs_the_best_scoring_pair_first() -> None:
    gold = [d("knee surgery on Friday", "Medical Health", PL3), d("knee pain", "Medical Health", PL3)]
    preds = [d("knee pain", "Medical Health", PL3), d("knee surgery on Friday", "Medical Health", PL3)]
    matches = greedy_match(preds, gold)
    assert {(mt.pred, mt.gold, mt.score) for mt in matches} == {(1, 0, 1.0), (0, 1, 1.0)}


def test_chinese_text_is_tokenised_per_character() -> None:
    assert tokenize("我在协和医院做了胃镜检查") == list("我在协和医院做了胃镜检查")
    assert tokenize("血压150/95") == ["血", "压", "150", "95"]
    content = "上周我在协和医院做了胃镜检查，结果是慢性胃炎。"
    gold = [d("协和医院做了胃镜检查", "Medical Health", PL3)]
    m = run((content, gold, [d("胃镜检查", "Medical Health", PL3)]))
    # 4 common characters of 4 and 10 -> 2*4/14
    assert m.overall.recall == pytest.approx(8 / 14)


def test_gold_not_in_its_message_is_counted_and_still_scored() -> None:
    gold = [d("Flat 4, 12 Baker Street", "Detailed Address", PL2)]
    m = run(("I live at 12 Baker St.", gold, [d("12 Baker St", "Detailed Address", PL2)]))
    assert m.gold_not_in_text == 1
    assert m.overall.n_gold == 1 and m.overall.recall == 0.0


def test_prediction_not_in_its_message_is_counted_as_hallucinated() -> None:
    m = run((CONTENT, [], [d("bob@example.org", "Email", PL2)]))
    assert m.predictions_not_in_text == 1
    assert m.overall.precision == 0.0


def test_level_mismatch_is_no_match_but_counts_in_level_accuracy() -> None:
    gold = [d("ana@example.org", "Email", PL2), d("415-555-0134", "Phone Number", PL2)]
    preds = [d("ana@example.org", "Email", PL3), d("415-555-0134", "Phone Number", PL2)]
    m = run((CONTENT, gold, preds))
    assert m.overall.recall == 0.5 and m.overall.precision == 0.5
    assert m.level_pairs == 2  # both pairs match on text and type
    assert m.level_correct == 1
    assert m.level_accuracy == 0.5
    assert m.level_confusion == {(PL2, PL3): 1, (PL2, PL2): 1}
    # the mis-levelled prediction is unmatched, so it is counted at its own level
    assert m.by_level[PL3].n_pred == 1 and m.by_level[PL3].n_gold == 0


def test_detected_at_any_level_ignores_type_and_level() -> None:
    gold = [d("knee surgery is on Friday", "Medical Health", PL3), d("sk-live-abcdef123456", "Token", PL4)]
    content = "knee surgery is on Friday; key sk-live-abcdef123456"
    preds = [
        d("knee surgery is on Friday", "Itinerary/Trajectory", PL2),
        d("sk-live-abcdef123456", "Key", PL4),
    ]
    m = run((content, gold, preds))
    assert m.overall.recall == 0.0
    assert m.detected_share([PL3, PL4]) == (2, 2, 1.0)


def test_similar_types_match_through_the_synonym_map() -> None:
    gold = [d("10.0.0.12", "IP Address", PL2), d("Maria", "Third-Party Identifiable Info", PL2)]
    preds = [d("10.0.0.12", "Network Identifier", PL2), d("Maria", "Real Name", PL2)]
    m = run(("ping 10.0.0.12 and tell Maria", gold, preds))
    assert m.overall.f1 == 1.0
    assert types_similar("Debt/Loan Info", "Assets/Income")
    assert types_similar("email", "Email")  # canonical spelling
    assert not types_similar("Email", "Phone Number")
    assert types_similar("License Plate", "license plate")  # unknown types match themselves


def test_dissimilar_type_is_no_match() -> None:
    gold = [d("ana@example.org", "Email", PL2)]
    m = run((CONTENT, gold, [d("ana@example.org", "Account ID/Username", PL2)]))
    assert m.overall.f1 == 0.0


def test_per_type_counts_attribute_matched_predictions_to_the_gold_type() -> None:
    gold = [d("10.0.0.12", "IP Address", PL2)]
    preds = [d("10.0.0.12", "Network Identifier", PL2), d("Maria", "Real Name", PL2)]
    m = run(("ping 10.0.0.12, Maria", gold, preds))
    assert m.by_type["IP Address"].n_pred == 1 and m.by_type["IP Address"].recall == 1.0
    assert m.by_type["Real Name"].n_pred == 1 and m.by_type["Real Name"].n_gold == 0
    assert sum(c.n_pred for c in m.by_type.values()) == m.overall.n_pred


def test_per_message_average_gives_empty_messages_full_marks() -> None:
    m = run(("hello there", [], []), (CONTENT, GOLD, []))
    assert m.per_message.n_empty == 1
    assert m.per_message.f1 == 0.5  # (1.0 + 0.0) / 2, while the micro F1 is 0
    assert m.overall.f1 == 0.0


def test_descriptive_set_reaches_synonyms_but_not_identifiers() -> None:
    assert is_descriptive("Medical Health") and is_descriptive("Debt/Loan Info")
    assert not is_descriptive("Phone Number") and not is_descriptive("Passport Number")
    # an identifier filed under a descriptive tag still needs an exact match
    assert types_similar("Project/Task ID", "Business Secret") and not is_descriptive("Project/Task ID")


def test_synonyms_map_onto_standard_types_only() -> None:
    targets = {t for tags in TYPE_SYNONYMS.values() for t in tags}
    assert targets <= set(STANDARD_TYPES)
