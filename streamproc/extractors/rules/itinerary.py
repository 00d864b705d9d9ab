"""Trips: flight and train numbers, hotel rooms and stays (Itinerary/Trajectory, PL3).

A flight number alone ("UA 857") is a shape shared with many codes, so it needs a travel word
nearby (flight, fly, boarding, 航班, 飞); Chinese train numbers need 次/列车/高铁/动车/train.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from .firstpass import may_match
from .gate import compile_gated
from .text import Hit, L, R, hit

_FLIGHT = compile_gated(L + r"(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\s?\d{2,4}[A-Z]?" + R)
_FLIGHT_CUE = compile_gated(r"(?i:flight|flying|fly|boarding|departs?|layover|connecting|airline|gate)|航班|飞机|机票|登机|起飞|转机")
_TRAIN = compile_gated(L + r"[GDCZTKY]\d{1,4}" + R + r"(?=\s?(?:次|列车|高铁|动车|号?车厢))|"
                    r"(?:(?i:train)|高铁|动车|列车|车次)\s?(?P<train>[GDCZTK]\d{1,4})" + R)
_ROOM = compile_gated(r"(?i:\broom\s?(?:number|no\.?|#)?\s?)\d{3,5}" + R + r"|\d{3,5}\s?(?:号房|房间)|房间号\s?(?:是|为)?\s?\d{3,5}")
_STAY = compile_gated(
    r"(?i:\b(?:check(?:ing)?[- ]in|check(?:ing)?[- ]out|staying at|booked (?:a room )?at|reservation at)\s++"
    r"(?:the\s++)?[A-Z][A-Za-z'’&\-]++(?:\s[A-Z][A-Za-z'’&\-]++){0,4}(?:\s(?:on|from)\s[A-Z][a-z]{2,8}\.?\s\d{1,2}(?:st|nd|rd|th)?)?)"
    r"|入住[\u4e00-\u9fffA-Za-z]{2,12}?(?:酒店|宾馆|饭店|民宿)"
)


def flights_and_trains(text: str) -> Iterator[Hit | None]:
    if may_match(_FLIGHT_CUE, text) and _FLIGHT_CUE.search(text):
        for m in _FLIGHT.finditer(text):
            value = m.group()
            if not any(c.isdigit() for c in value[:2]) and value[:2] in ("PL", "ID", "NO", "AM", "PM"):
                continue
            near = _FLIGHT_CUE.search(text, max(0, m.start() - 40), min(len(text), m.end() + 40))
            if near:
                yield hit(text, m.start(), m.end(), "Itinerary/Trajectory", PL.PL3, "flight", 0.75)
    for m in _TRAIN.finditer(text):
        start, end = (m.start("train"), m.end("train")) if m.group("train") else (m.start(), m.end())
        yield hit(text, start, end, "Itinerary/Trajectory", PL.PL3, "train", 0.75)


def stays(text: str) -> Iterator[Hit | None]:
    for m in _ROOM.finditer(text) if may_match(_ROOM, text) else ():
        yield hit(text, m.start(), m.end(), "Itinerary/Trajectory", PL.PL3, "hotel_room", 0.7)
    for m in _STAY.finditer(text) if may_match(_STAY, text) else ():
        yield hit(text, m.start(), m.end(), "Itinerary/Trajectory", PL.PL3, "stay", 0.6)


DETECTORS = (flights_and_trains, stays)
