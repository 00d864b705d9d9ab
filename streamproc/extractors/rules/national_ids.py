"""National identifiers worldwide: shape, then the checksum `python-stdnum` (LGPL-2.1+) knows.

One table drives every id: its shape, its validator and its cue words. Tiers:
- a valid checksum on a distinctive shape (BR CPF with dots, KR RRN, IT codice fiscale, SG NRIC,
  FR NIR, ES NIF/NIE, CN resident id): 0.95;
- a valid checksum on a shape shared with ordinary numbers (a 9-12 digit run): only when the
  digits are grouped the way that id is written (0.6-0.8), or with a cue word (0.95);
- shape plus cue word without a valid checksum: 0.7 (a typo'd id is still private).
Ids without a checksum in the library are judged by structure (IN PAN, UK NINO, US SSN) or by a
few lines of published check-digit arithmetic where stdnum has no module (SG NRIC, AU Medicare).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum.au import abn, acn, tfn
from stdnum.br import cpf
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import nie, nif
from stdnum.fr import nir
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.jp import in_ as my_number
from stdnum.kr import rrn
from stdnum.us import ssn

from streamproc.core.taxonomy import PrivacyLevel as PL

from . import digit_gate
from .cues import CueIndex
from .digit_gate import Needs
from .text import LNUM, RNUM, Hit, L, R, hit

_GENERIC_CUE = r"(?i:\bid (?:number|no\.?|card)|identity (?:number|card)|national id)|身份证|证件号"


def _nric_ok(value: str) -> bool:
    """Singapore NRIC/FIN: weights 2765432 on the digits, offset by prefix, a letter table."""
    value = value.upper()
    total = sum(int(d) * w for d, w in zip(value[1:8], (2, 7, 6, 5, 4, 3, 2), strict=True))
    total += {"S": 0, "T": 4, "F": 0, "G": 4, "M": 3}[value[0]]
    table = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK",
             "M": "XWUTRQPNJLK"}[value[0]]
    return value[8] == table[total % 11]


def _medicare_ok(value: str) -> bool:
    """Australian Medicare card: weights 1,3,7,9,1,3,7,9 on the first eight digits, mod 10."""
    digits = re.sub(r"\D", "", value)
    if len(digits) not in (10, 11) or digits[0] not in "23456":
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], (1, 3, 7, 9, 1, 3, 7, 9), strict=True))
    return total % 10 == int(digits[8])


def _shape_only(value: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class IdKind:
    name: str
    shape: re.Pattern[str]
    valid: Callable[[str], bool]
    cue: re.Pattern[str]
    bare: float  # confidence for a valid value without a cue; 0 means a cue is required
    grouped: float = 0.0  # the same, when the digits are grouped (spaces/dashes/dots)
    needs: Needs = Needs(0)  # what every match holds: a turn without it skips the scan


def _kind(name: str, shape: str, valid: Callable[[str], bool], cue: str, bare: float, grouped: float = 0.0, *,
          needs: Needs) -> IdKind:
    return IdKind(name, re.compile(shape), valid, re.compile(cue + "|" + _GENERIC_CUE), bare, grouped or bare, needs)


_D3 = r"\d{3}"
KINDS: tuple[IdKind, ...] = (
    _kind("us_ssn", LNUM + r"(?!000|666|9\d\d)\d{3}([ .\-]?)(?!00)\d{2}\1(?!0000)\d{4}" + RNUM, ssn.is_valid,
          r"(?i:\bSSN\b|social security(?: number| no\.?)?|\bSSA\b)|社会安全号|社保号", 0.0, 0.85,
          needs=Needs(9, exact=(9, 9))),
    _kind("in_pan", L + r"[A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z]" + R, pan.is_valid,
          r"(?i:\bPAN\b|permanent account number|income tax)", 0.85,
          needs=Needs(4, letter=True)),
    _kind("in_aadhaar", LNUM + r"[2-9]\d{3}([ \-]?)\d{4}\1\d{4}" + RNUM, aadhaar.is_valid,
          r"(?i:aadhaa?r|\bUID(?:AI)?\b)|आधार", 0.0, 0.8,
          needs=Needs(12, exact=(12, 12))),
    _kind("sg_nric", L + r"[STFGMstfgm]\d{7}[A-Za-z]" + R, _nric_ok, r"(?i:NRIC|\bFIN\b|IC number|\bIC\b)", 0.95,
          needs=Needs(7, letter=True)),
    _kind("es_nif", L + r"(?:\d{8}-?[A-Z]|[XYZ]-?\d{7}-?[A-Z])" + R, lambda v: nif.is_valid(v) or nie.is_valid(v),
          r"(?i:\bNIF\b|\bNIE\b|\bDNI\b|documento nacional|n[úu]mero de identidad)", 0.9,
          needs=Needs(7, letter=True)),
    _kind("au_tfn", LNUM + _D3 + r"( ?)" + _D3 + r"\1\d{2,3}" + RNUM, tfn.is_valid,
          r"(?i:\bTFN\b|tax file(?: number)?)", 0.0, 0.6,
          needs=Needs(8, exact=(8, 9))),
    _kind("au_abn", LNUM + r"\d{2}( ?)" + _D3 + r"\1" + _D3 + r"\1" + _D3 + RNUM, abn.is_valid,
          r"(?i:\bABN\b|australian business number)", 0.0, 0.8,
          needs=Needs(11, exact=(11, 11))),
    _kind("au_acn", LNUM + _D3 + r"( ?)" + _D3 + r"\1" + _D3 + RNUM, acn.is_valid,
          r"(?i:\bACN\b|australian company number)", 0.0, 0.6,
          needs=Needs(9, exact=(9, 9))),
    _kind("au_medicare", LNUM + r"[2-6]\d{3}( ?)\d{5}\1\d(?:[ /\-]?\d)?" + RNUM, _medicare_ok,
          r"(?i:medicare)", 0.0, 0.8,
          needs=Needs(10, exact=(10, 11))),
    _kind("br_cpf", LNUM + r"\d{3}(\.?)\d{3}\1\d{3}-?\d{2}" + RNUM, cpf.is_valid, r"(?i:\bCPF\b)", 0.0, 0.95,
          needs=Needs(11, exact=(11, 11))),
    _kind("jp_my_number", LNUM + r"\d{4}( ?)\d{4}\1\d{4}" + RNUM, my_number.is_valid,
          r"(?i:my ?number|individual number)|マイナンバー|個人番号", 0.0,
          needs=Needs(12, exact=(12, 12))),
    _kind("kr_rrn", LNUM + r"\d{6}-?[1-8]\d{6}" + RNUM, rrn.is_valid,
          r"(?i:resident registration|\bRRN\b)|주민등록번호|주민번호", 0.0, 0.95,
          needs=Needs(13, exact=(13, 13))),
    _kind("fr_nir", LNUM + r"[12]( ?)\d{2}\1(?:0[1-9]|1[0-2]|[2-9]\d)\1(?:\d{2}|2[AB])\1\d{3}\1\d{3}\1?\d{2}" + RNUM,
          nir.is_valid, r"(?i:s[ée]curit[ée] sociale|\bNIR\b|\bINSEE\b|social security)", 0.95,
          needs=Needs(8)),
    _kind("de_idnr", LNUM + r"[1-9]\d( ?)" + _D3 + r"\1" + _D3 + r"\1" + _D3 + RNUM, idnr.is_valid,
          r"(?i:steuer-?id|steueridentifikationsnummer|identifikationsnummer|\bIdNr\b|tax id)", 0.0, 0.7,
          needs=Needs(11, exact=(11, 11))),
    _kind("it_codice_fiscale", L + r"[A-Za-z]{6}\d{2}[A-EHLMPR-Ta-ehlmpr-t]\d{2}[A-Za-z]\d{3}[A-Za-z]" + R,
          codicefiscale.is_valid, r"(?i:codice fiscale|\bCF\b|tax code)", 0.95,
          needs=Needs(3, letter=True)),
    _kind("uk_nino", L + r"(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]( ?)\d{2}\1\d{2}\1\d{2}\1?[A-D]" + R,
          _shape_only, r"(?i:\bNINO\b|national insurance|\bNI number)", 0.85,
          needs=Needs(6, letter=True)),
    _kind("cn_resident_id", LNUM + r"\d{17}[\dXx]" + R, ric.is_valid, r"身份证|(?i:resident id)", 0.97,
          needs=Needs(17)),
)


_GROUP_BEFORE = re.compile(r"\d[ \-.]$")
_GROUP_AFTER = re.compile(r"[ \-.]\d")
_SEPARATORS = frozenset(" -.")


def _inside_longer_number(text: str, start: int, end: int) -> bool:
    """Digit groups continue on either side: part of a card, an IBAN or a list, not an id.

    `_GROUP_BEFORE` ending at `start` and `_GROUP_AFTER` at `end`, as character tests (this runs
    once per candidate; `\\d` is a Unicode decimal digit, which is what `isdecimal` tests)."""
    return (start >= 2 and text[start - 1] in _SEPARATORS and text[start - 2].isdecimal()) or (
        end + 1 < len(text) and text[end] in _SEPARATORS and text[end + 1].isdecimal())


def warm_up() -> None:
    """Load the library's data files (CN birth places, ~40 ms) before the first message needs them."""
    ric.is_valid("11010519491231002X")


# A hostile turn can hold thousands of id-shaped numbers. A value repeated through the turn is
# validated once per kind; past VALIDATION_BUDGET distinct validations in one turn, the remaining
# candidates count as valid without asking the library: fail closed (more masking, never less).
VALIDATION_BUDGET = 500


def _validate(kind: IdKind, value: str) -> bool:
    try:
        return kind.valid(value)
    except (KeyError, ValueError, IndexError):  # a library raising on an odd shape
        return False


def national_ids(text: str) -> Iterator[Hit | None]:
    digits = digit_gate.profile(text)
    spent = 0
    for kind in KINDS:
        if not digits.allows(kind.needs):
            continue  # a turn of 4-digit PINs holds no 9-digit SSN: 17 scans become 2 (digit_gate.py)
        cues = CueIndex(kind.cue, text)
        if not kind.bare and not digits.allows(kind.needs, grouped=True) and not cues.anywhere():
            continue  # without a cue only a grouped value counts ("123-45-6789"): the turn has none
        judged: dict[str, bool] = {}
        for m in kind.shape.finditer(text):
            value = m.group()
            valid = judged.get(value)
            if valid is False and not cues.anywhere():
                continue  # a repeat of an invalid value, and no cue in the turn to make it count
            start, end = m.span()
            if _inside_longer_number(text, start, end):
                continue
            if valid is None:
                spent += 1
                valid = judged[value] = spent > VALIDATION_BUDGET or _validate(kind, value)
            if not valid and not cues.anywhere():
                continue  # an invalid value counts only next to a cue, and this turn has none
            cue = cues.near(start, end, 48, 8)
            if valid:
                confidence = 0.95 if cue else (kind.bare if value.isalnum() else kind.grouped)
            else:
                confidence = 0.7 if cue else 0.0
            if confidence:
                yield hit(text, start, end, "ID Number", PL.PL3, kind.name, confidence)


DETECTORS = (national_ids,)
