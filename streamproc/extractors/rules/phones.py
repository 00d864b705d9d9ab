"""Phone numbers: a cheap linear scan for digit groups, validated by `phonenumbers`.

`phonenumbers` (Apache-2.0, the Python port of Google's libphonenumber) knows every country's
numbering plan, but its `PhoneNumberMatcher` over whole texts costs milliseconds per message.
Here a bounded regex proposes candidates (digit groups with phone separators), and each one is
parsed and validated against a short list of regions, so a message without a 7+ digit run costs
nothing beyond one regex pass.

Tiers: `+CC …` valid anywhere 0.9; a national number valid in a configured region 0.85 with a
cue word nearby ("phone", "call me", "电话", "電話番号" …), 0.6 without; a cue plus a possible but
unassigned number (fictional ranges) 0.7. Dates, SSN shapes and card-length runs are not phones.
A leading group that is a ZIP code or a country code written without `+` is tried both with and
without the rest ("Seattle, WA 98101 206-555-0134", "91-415-555-0132").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from functools import cache

import phonenumbers

from streamproc.core.taxonomy import PrivacyLevel as PL

from .cues import CueIndex
from .text import Hit

# The regions tried for numbers written without `+`, in order (first valid wins). The default
# covers the largest chat populations and the national formats people most often type.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "CN", "IN", "GB", "DE", "FR", "JP", "AU", "CA", "BR", "ES", "IT", "KR", "SG", "NL",
    "MX", "IL", "HK", "TW",
)

# A candidate: optional `+`/`(`, then digit groups joined by 1-3 separators. Every repeat is
# bounded and each group is atomic, so the scan is linear in the text length. A phone needs seven
# characters of candidate: `_LONG_ENOUGH` drops shorter starts inside the scan, not in Python
# (a turn of "路1路1..." made 16,000 one-digit candidates). A start it drops could only have given
# a candidate too short to keep, and so could any start inside one (both end where it ends).
_LONG_ENOUGH = r"(?=[\d+(][\d ().\-/]{6})"
_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9.,/_+\-])" + _LONG_ENOUGH
    + r"(?:\+|00)?+\(?+\d{1,15}+\)?+(?>[ .\-/]{1,3}+\(?+\d{1,12}+\)?+){0,7}+"
    r"(?![A-Za-z0-9]|[.,/_\-]\d)"
)
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}")
_TIME_AFTER = re.compile(r"[:：]\d")
_GROUPS = re.compile(r"\d++")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
# Digit groups of an IBAN or account number just before the candidate: not a phone.
_ACCOUNT_BEFORE = re.compile(r"[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){0,8}[ \-]?$")
_ACCOUNT_START = re.compile(r"[A-Z]{2}\d{2}")
CUE = re.compile(
    r"(?i:phone|mobile|\bcall\b|\bdial\b|(?<!grid )(?<!table )\bcell\b|tel\b|telephone|whats ?app|call me|call us|text me|ring me|reach me|"
    r"contact number|number is|landline|(?:office|direct|home|work|main) line|fax|hotline|sms|"
    r"t[ée]l[ée]phone|portable|handy|telefon|n[úu]mero|celular|cellulare|movil|móvil)"
    r"|电话|手机|手機|座机|联系方式|号码|致电|拨打|電話|携帯|番号|전화|휴대폰"
)


# Validating one candidate with `phonenumbers` costs ~0.1 ms per region tried. An ordinary turn
# holds a handful; a hostile one thousands of distinct ones (a 32,000-character turn of numbers).
# Past VALIDATION_BUDGET distinct validations in one turn, the remaining candidates that already
# passed the shape checks are reported without validation at SHAPE_ONLY_CONFIDENCE: more masking,
# never less, and the turn's cost stays bounded. Identical candidates are judged once per turn.
VALIDATION_BUDGET = 200
SHAPE_ONLY_CONFIDENCE = 0.6


class _TurnMemo:
    """What one turn has already judged, and how many validations it has spent."""

    __slots__ = ("candidates", "seen", "validations")

    def __init__(self) -> None:
        self.candidates: dict[tuple[str, bool], tuple[int, int, float] | tuple[()]] = {}
        self.seen: dict[tuple[str, bool], float] = {}
        self.validations = 0


@cache
def _plan(region: str) -> tuple[int, str, frozenset[int]]:
    """(country code, national trunk prefix, possible national lengths) from the metadata."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert meta is not None, region
    lengths = frozenset(meta.general_desc.possible_length or ())
    return meta.country_code, meta.national_prefix or "", lengths


def _parse_in(raw: str, digits: str, regions: Sequence[str]) -> Iterator[phonenumbers.PhoneNumber | None]:
    """Each region's reading of a number written without `+`: the number if valid there, else
    None when it is merely possible there. Parsing costs ~0.1 ms, so regions whose plan cannot
    hold this many digits, or whose country code was already tried, are skipped first."""
    tried: set[int] = set()
    for region in regions:
        code, trunk, lengths = _plan(region)
        national = len(digits) - len(trunk) if trunk and digits.startswith(trunk) else len(digits)
        if code in tried or (lengths and national not in lengths and len(digits) not in lengths):
            continue
        tried.add(code)
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            yield number
        elif phonenumbers.is_possible_number(number):
            yield None


def _boundaries(groups: list[str]) -> set[int]:
    ends: set[int] = set()
    total = 0
    for g in groups[:-1]:
        total += len(g)
        ends.add(total)
    return ends


def _grouped_as_formatted(raw: str, number: phonenumbers.PhoneNumber) -> bool:
    """Whether the writer's digit groups coarsen the region's own national grouping.

    "06 47 81 22 95", "0412 387 551", "09-7623318" (of 09-762-3318), "1-800-555-0199" (of
    +1 800-555-0199) are written the way their country writes phones; "100-2003-300" or "20 30 40 50 60" are not, whatever a permissive
    numbering plan accepts.
    """
    written = _GROUPS.findall(raw)
    for style in (phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL):
        formatted = _GROUPS.findall(phonenumbers.format_number(number, style))
        if "".join(written) == "".join(formatted) and _boundaries(written) <= _boundaries(formatted):
            return True
    return False


def _international(raw: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        return False


def _judge(text: str, start: int, end: int, regions: Sequence[str], cue: bool, turn: _TurnMemo) -> float:
    """Confidence that text[start:end] is a phone number; 0 to reject."""
    raw = text[start:end]
    if _TIME_AFTER.match(text, end):
        return 0.0
    # Everything below depends on (raw, cue) only: a value repeated through the turn is judged once.
    known = turn.seen.get((raw, cue))
    if known is None:
        known = turn.seen[(raw, cue)] = _judge_value(raw, regions, cue, turn)
    return known


def _judge_value(raw: str, regions: Sequence[str], cue: bool, turn: _TurnMemo) -> float:
    digits = sum(map(str.isdigit, raw))
    if not 7 <= digits <= 15 or _DATE.match(raw) or _SSN_SHAPE.fullmatch(raw):
        return 0.0
    international = raw.startswith(("+", "00"))
    groups = _GROUPS.findall(raw)
    if not international:
        separated = digits < len(raw.strip("()"))
        if not cue and (len(groups) > 5 or digits > 13 or any(len(g) < 2 for g in groups[1:])):
            return 0.0  # not how anyone writes a national number: a list, a version, a long id
        # Without a cue, only shapes people use for phones: grouped, or a trunk-0 national number,
        # or a bare mainland mobile; never a plain run of another length (counts, ids, amounts).
        if not cue and not (separated and (digits >= 10 or raw.lstrip("(").startswith("0"))
                            or _CN_MOBILE.fullmatch(raw)):
            return 0.0
    turn.validations += 1
    if turn.validations > VALIDATION_BUDGET:
        # Fail closed: past the budget a phone-shaped candidate is masked by its shape alone.
        return SHAPE_ONLY_CONFIDENCE
    if international:
        plus = "+" + raw[2:] if raw.startswith("00") else raw
        return 0.9 if _international(plus) else (0.7 if cue and digits >= 8 else 0.0)
    possible = False
    for number in _parse_in(raw, "".join(groups), regions):
        if number is None:
            possible = True
        elif cue:
            return 0.85
        elif _grouped_as_formatted(raw, number):
            return 0.7 if _CN_MOBILE.fullmatch(raw) else 0.6
    if cue and possible and digits >= 9:
        return 0.7  # a cue and a number of a possible length: unassigned ranges are still numbers to a reader
    # The mainland mobile shape alone: a firewall masks it even in a range not (yet) assigned.
    return 0.6 if _CN_MOBILE.fullmatch(raw) else 0.0


def _spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The candidate, then (if it fails) the candidate without a leading ZIP or country code."""
    yield start, end
    groups = list(_GROUPS.finditer(text, start, end))
    if len(groups) >= 3 and len(groups[0].group()) in (1, 2, 3, 5):
        yield groups[1].start() - (1 if text[groups[1].start() - 1] == "(" else 0), end


def _best_span(local: str, end: int, regions: Sequence[str], cue: bool, turn: _TurnMemo) -> tuple[int, int, float] | tuple[()]:
    """(start, end, confidence) of the phone in the candidate local[:end], () if there is none."""
    if sum(map(str.isdigit, local[:end])) < 7:
        return ()
    for start, stop in _spans(local, 0, end):
        if local[stop - 1] == ")" and "(" not in local[start:stop]:
            stop -= 1
        confidence = _judge(local, start, stop, regions, cue, turn)
        if confidence:
            return start, stop, confidence
    return ()


def make_detector(regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> Callable[[str], Iterator[Hit | None]]:
    """A phone detector over `regions` (ISO 3166 alpha-2 codes known to phonenumbers)."""
    chosen = tuple(r.upper() for r in regions)
    unknown = [r for r in chosen if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ValueError(f"unknown phone regions: {', '.join(unknown)}")
    for region in chosen:
        # phonenumbers loads a region's metadata and compiles its patterns on first use (~10 ms):
        # pay that once here, not inside the first message that mentions such a number.
        example = phonenumbers.example_number(region)
        if example is not None:
            phonenumbers.is_valid_number(example)
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)

    def phones(text: str) -> Iterator[Hit | None]:
        cues, accounts = CueIndex(CUE, text), CueIndex(_ACCOUNT_START, text)
        any_account = accounts.anywhere()
        turn = _TurnMemo()
        for m in _CANDIDATE.finditer(text):
            start, end = m.span()
            if end - start < 7:
                continue  # fewer than seven characters cannot hold seven digits
            if any_account and accounts.near(start, start, 48, 0) and _ACCOUNT_BEFORE.search(
                    text, max(0, start - 48), start):
                continue
            cue = cues.near(start, end)
            # All the judgement reads is the candidate and the two characters after it (a time's
            # ":30"); a hostile turn repeats one candidate thousands of times: judge it once.
            local = text[start:end + 2]
            found = turn.candidates.get((local, cue))  # () when judged not a phone
            if found is None:
                found = turn.candidates[(local, cue)] = _best_span(local, end - start, chosen, cue, turn)
            if found:
                first, last, confidence = found
                yield Hit(start + first, start + last, "Phone Number", PL.PL2, "phone", confidence)

    return phones


@cache
def detector(regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> Callable[[str], Iterator[Hit | None]]:
    return make_detector(regions)


DETECTORS = (detector(),)
