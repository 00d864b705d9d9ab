"""Which patterns each detector needs, for the first pass (firstpass.py) to decide what runs.

`DEPENDS[d]` lists patterns such that detector `d` reports nothing unless one of them matches
somewhere in the turn (read off each detector: every hit it yields comes from a match of one of
them). The first pass derives the literal strings each pattern needs; a detector none of whose
patterns can match is skipped, and the detectors that loop over several patterns skip the ones
that cannot match (`may_match`). Detectors not listed (shape-only ones: phones, cards, ids,
strong passwords, and those with a cheap gate of their own) always run. `checked()` lists the
patterns detectors ask about themselves (`CueIndex` cues: one that cannot match answers "no
cue" without its scan).

Adding a pattern to a detector listed here means adding it to its entry: test_rules_firstpass.py
checks, on every unit-test and hostile text, that no listed detector finds a hit the gate ruled
out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from . import (
    accounts,
    address,
    bank_accounts,
    financial,
    identity,
    itinerary,
    keys,
    medical,
    national_ids,
    patterned,
    people,
    phones,
    secrets,
    urls,
    wallets,
)
from .text import Hit

Detector = Callable[[str], Iterator[Hit | None]]


def depends() -> dict[Detector, tuple[re.Pattern[str], ...]]:
    """Built on call: some patterns are compiled lazily from the lexicons."""
    amount_after, amount_before = financial._amount_patterns()
    return {
        patterned.emails: (patterned.EMAIL,),
        patterned.ips: (patterned.IPV4, patterned.IPV6),
        keys.shaped_keys: (*(p for *_rest, p in keys.SHAPES), keys.BEARER),
        keys.connection_strings: (keys.DB_URL, keys.JDBC, keys.ODBC),
        secrets.cue_secrets: tuple(secrets._PATTERNS.values()),
        secrets.postfix_codes: (secrets._POSTFIX,),
        identity.labelled_identifiers: tuple(p for *_rest, p in identity._PATTERNS),
        identity.licence_plates: (identity._CN_PLATE, identity._plate_after_make()),
        identity.at_handles: (identity._AT_HANDLE,),
        financial.amounts_with_purpose: (amount_after, amount_before),
        financial.card_tails: (financial._card_tail(),),
        financial.credit_scores: (financial._CREDIT_SCORE,),
        medical.health_terms: (medical._lexicon_pattern(),),
        medical.vitals: (medical._VITALS,),
        medical.clinical_phrases: (medical._ZH_CLINICAL, medical._EN_CLINICAL, medical._CLINIC),
        address.western_addresses: (address._western(),),
        address.chinese_addresses: (address._ZH_ANCHOR,),
        address.coordinates: (address._COORDS,),
        itinerary.stays: (itinerary._ROOM, itinerary._STAY),
        urls.secret_urls: (urls.URL,),
        bank_accounts.bank_numbers: (bank_accounts._pattern(),),
        bank_accounts.named_accounts: (bank_accounts._named_account(),),
    }


def checked() -> tuple[re.Pattern[str], ...]:
    """Patterns detectors ask `may_match` about themselves: `CueIndex` cues, whole-turn checks,
    the patterns of detectors that also take the user's name."""
    return (
        phones.CUE, accounts.CARD_CUE, accounts.IBAN_CUE, wallets.CUE,
        *(kind.cue for kind in national_ids.KINDS),
        secrets._ANY_NOT_A_CODE, secrets._ANY_TAIL, itinerary._FLIGHT_CUE,
        *people._patterns().values(),
    )
