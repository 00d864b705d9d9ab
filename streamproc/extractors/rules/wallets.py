"""Crypto wallet addresses, confirmed by their checksums.

- Bitcoin base58check (P2PKH `1…`, P2SH `3…`) and bech32 segwit v0 (`bc1q…`): `stdnum.bitcoin`
  (python-stdnum, LGPL-2.1+). Bech32m (BIP 350, taproot `bc1p…`) differs only in the checksum
  constant, so the library's own polymod is reused with that constant.
- Ethereum `0x` + 40 hex: mixed case carries the EIP-55 checksum (Keccak-256 of the lowercase
  hex, from `pycryptodome`, BSD); an all-lower or all-upper address has no checksum and is
  reported at a lower tier; a mixed-case address whose checksum fails is a typo or not an
  address, reported only next to a cue word.
A wallet address is the key to someone's funds history: Financial Account, PL3.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from Crypto.Hash import keccak
from stdnum import bitcoin

from streamproc.core.taxonomy import PrivacyLevel as PL

from .cues import CueIndex
from .text import Hit, L, R, hit

BTC_BASE58 = re.compile(L + r"[13][1-9A-HJ-NP-Za-km-z]{25,34}" + R)
BTC_BECH32 = re.compile(L + r"(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{8,87}" + R)
ETH = re.compile(L + r"0x[0-9a-fA-F]{40}" + R)
CUE = re.compile(r"(?i:wallet|address|\bETH\b|ethereum|\bBTC\b|bitcoin|crypto|send (?:it )?to|USDT)|钱包|地址")
_BECH32M_CONST = 0x2BC830A3
_BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32m_ok(address: str) -> bool:
    lower = address.lower()
    if address != lower and address != address.upper():
        return False  # bech32 forbids mixed case
    data = [_BECH32_ALPHABET.index(c) for c in lower[3:]]
    return bool(data) and data[0] >= 1 and bitcoin.bech32_checksum(
        [3, 3, 0, 2, 3] + data) == _BECH32M_CONST  # [3,3,0,2,3] is the expanded hrp "bc"


def eip55_ok(address: str) -> bool:
    """EIP-55: a hex letter is upper case iff the matching nibble of keccak(lowercase) is >= 8."""
    body = address[2:]
    digest = keccak.new(digest_bits=256, data=body.lower().encode("ascii")).hexdigest()
    return all(c.isdigit() or (c.isupper() == (int(h, 16) >= 8)) for c, h in zip(body, digest, strict=False))


def wallets(text: str) -> Iterator[Hit | None]:
    cues = CueIndex(CUE, text)
    for pattern in (BTC_BASE58, BTC_BECH32):
        for m in pattern.finditer(text):
            value = m.group()
            if bitcoin.is_valid(value) or pattern is BTC_BECH32 and _bech32m_ok(value):
                yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "btc_wallet", 0.97)
            elif cues.near(m.start(), m.start(), 48, 0) and any(c.isdigit() for c in value):
                yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "btc_wallet", 0.6)
    if "0x" not in text:
        return
    for m in ETH.finditer(text):
        body = m.group()[2:]
        if body.lower() == body or body.upper() == body:
            confidence = 0.9 if cues.near(m.start(), m.start(), 48, 0) else 0.75
        elif eip55_ok(m.group()):
            confidence = 0.97
        else:
            confidence = 0.6 if cues.near(m.start(), m.start(), 48, 0) else 0.0
        if confidence:
            yield hit(text, m.start(), m.end(), "Financial Account", PL.PL3, "eth_wallet", confidence)


DETECTORS = (wallets,)
