"""Device identifiers, intranet entry points and project/task codes.

- Device ids (PL2, scored as a Network Identifier): IMEI/MEID (15 digits), serial numbers and
  device ids after their cue word (serial, S/N, device ID, 序列号, 设备号).
- Intranet entry points (PL4): URLs whose host is a private address or an internal name
  (.local, .internal, .lan, .corp, .intra, intranet., localhost), and private IPs with a port.
- Project/task codes (PL4, Business Secret family): a ticket-shaped code (PREFIX-123, letters and
  digits in dash-joined groups) or a code after a project cue (project, ticket, 项目编号, 工单).
Bounded repeats only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from streamproc.core.taxonomy import PrivacyLevel as PL

from functools import cache

from . import lexicons
from .text import Hit, L, R, hit, word_alternation

_DEVICE = re.compile(
    r"(?i:\b(?:IMEI|MEID|serial(?:\snumber|\sno\.?)?|S/N|SN|device\s(?:ID|identifier|serial)|UDID|Android\sID|"
    r"hardware\sID)(?:\s(?:is|was)|[:：#=])?\s?)(?P<v>(?:SN-)?[A-Za-z0-9]{2,8}(?:-[A-Za-z0-9]{2,10}){0,3}[A-Za-z0-9]{0,12})" + R
    + r"|(?:IMEI|设备序列号|序列号|设备号|设备ID|设备编号|串号)(?:是|为|：|:)?\s?(?P<v2>[A-Za-z0-9][A-Za-z0-9\-]{5,30}+)"
    + r"|(?P<mac>" + L + r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}" + R + ")"
)
_INTERNAL_HOST = r"(?:[A-Za-z0-9\-]{1,30}\.){0,4}(?:[A-Za-z0-9\-]{1,30}\.(?:local|internal|lan|corp|intra|intranet|home\.arpa)|intranet\.[A-Za-z0-9.\-]{1,40})"
_PRIVATE_IP = (r"(?:10\.\d{1,3}|172\.(?:1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}")
_INTRANET = re.compile(
    r"(?P<url>(?i:https?|ssh|ftp|smb|rdp)://(?:[^\s/@]{1,64}@)?(?:" + _INTERNAL_HOST + r"|" + _PRIVATE_IP + r")(?::\d{2,5})?(?:/[^\s\"'<>，。）)]{0,120})?)"
    + r"|(?P<ipport>(?<![\d.])" + _PRIVATE_IP + r":\d{2,5})(?![\d])"
    + r"|(?P<host>" + L + _INTERNAL_HOST + r"(?::\d{2,5})?)" + R
)
_PRODUCT_CUE = re.compile(r"(?i:\b(?:model|part|sku|version|firmware|product|serial|s/n)\b)")
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}:")
_TICKET_GATE = re.compile(r"[A-Z]{2}-")
_TICKET = re.compile(L + r"(?P<v>[A-Z]{3,8}(?:-[A-Z0-9]{1,10}){1,3})" + R + r"|#(?P<v2>[A-Z]{2}(?:-[A-Z0-9]{1,10}){1,3})" + R)
_PROJECT_CUE = re.compile(
    r"(?i:\b(?:project|ticket|task|JIRA|epic|RFC|work\sorder|requisition)\s(?:(?:number|no\.?|ID|code|#)\s?)?[:#]?\s?)"
    r"(?P<v>[A-Z][A-Za-z]{2,15}|[A-Z0-9]{1,6}-?\d{2,8})" + R
    + r"|(?:项目编号|项目代号|工单号?|需求单号|任务编号|合同编号|立项号)(?:是|为|：|:)?\s?(?P<v2>[A-Za-z0-9\-]{3,20}+)"
)
_NOT_TICKET = re.compile(r"^(?:COVID|ISO|UTF|SHA|MD|GPT|HTTP|TLS|SSL|USB|HDMI|AES|RSA|CVE|PM|AM|UTC|GMT|ID|SN|IMEI|PIN|OTP|SMS|"
                         r"Wi|COVID|PCR|MRI|CT|ECG|IVF|A\d|B\d|N\d)-", re.IGNORECASE)
_CAP_WORD_NOT_PROJECT = frozenset({"Manager", "Management", "The", "Plan", "Report", "Team", "Update", "Lead", "Status"})


_DEVICE_GATE = ("imei", "meid", "serial", "s/n", "sn", "device", "udid", "android id", "hardware id", "序列号", "设备",
                "串号")
# localhost is everyone's own machine: not an entry point into anyone's network.
_INTRANET_GATE = ("://", "10.", "172.", "192.168", ".local", ".internal", ".lan", ".corp", ".intra", "intranet.",
                  ".home.arpa")
_PROJECT_GATE = ("project", "ticket", "task", "jira", "epic", "rfc", "work order", "requisition", "项目", "工单",
                 "需求单", "任务编号", "合同编号", "立项")


@cache
def _vehicle_cue() -> re.Pattern[str]:
    makes = word_alternation(lexicons.load("vehicle_makes"))
    return re.compile(r"(?i:\b(?:plate|registration|rego|car|truck|van|vehicle|licen[cs]e)\b)|车牌|" + makes)


def devices(text: str) -> Iterator[Hit | None]:
    low = text.casefold()
    if not (any(w in low for w in _DEVICE_GATE) or _HEX_PAIR.search(text)):
        return
    for m in _DEVICE.finditer(text):
        group = next(g for g in ("v", "v2", "mac") if m.group(g))
        value = m.group(group)
        if group == "v" and (sum(map(str.isdigit, value)) < 4 or len(value) < 6):
            continue
        yield hit(text, m.start(group), m.end(group), "Device ID", PL.PL2, "device_id", 0.7)


def intranet(text: str) -> Iterator[Hit | None]:
    if "." not in text:
        return
    low = text.casefold()
    if not any(w in low for w in _INTRANET_GATE):
        return
    for m in _INTRANET.finditer(text):
        group = next(g for g in ("url", "ipport", "host") if m.group(g))
        yield hit(text, m.start(group), m.end(group), "Internal IP", PL.PL4, "intranet", 0.75)


_KIND_CUES = (
    (re.compile(r"(?i:\b(?:order|tracking|shipment|parcel|refund|invoice|receipt|transaction|payment|booking|reservation|"
                r"confirmation|claim)\b)|订单|快递|运单|退款|发票|交易|预订"), "Transaction Record", PL.PL3),
    (re.compile(r"(?i:\btoken\b)|令牌"), "Token", PL.PL4),
    (re.compile(r"(?i:\b(?:code|otp|2fa|mfa|verif\w*)\b)|验证码|校验码"), "Verification Code", PL.PL4),
)


def _ticket_kind(text: str, start: int) -> tuple[str, PL]:
    """A ticket-shaped code is typed by the nearest cue before it; without one it is a work item."""
    window = max(0, start - 30)
    best: tuple[int, str, PL] | None = None
    for pattern, typ, level in _KIND_CUES:
        for m in pattern.finditer(text, window, start):
            if best is None or m.end() > best[0]:
                best = (m.end(), typ, level)
    return (best[1], best[2]) if best else ("Project/Task ID", PL.PL4)


def project_codes(text: str) -> Iterator[Hit | None]:
    for m in _TICKET.finditer(text) if _TICKET_GATE.search(text) else ():
        group = "v" if m.group("v") else "v2"
        value = m.group(group)
        if not any(c.isdigit() for c in value) or _NOT_TICKET.match(value):
            continue
        if _PRODUCT_CUE.search(text, max(0, m.start() - 20), m.start()):
            continue  # "model number XPS-…", "part no.": a product, not anyone's work item
        if _vehicle_cue().search(text, max(0, m.start() - 30), m.start()):
            continue  # "the Mazda (KTW-4471)": a licence plate, which the plate detector files
        typ, level = _ticket_kind(text, m.start())
        yield hit(text, m.start(group), m.end(group), typ, level, "ticket", 0.55)
    low = text.casefold()
    for m in _PROJECT_CUE.finditer(text) if any(w in low for w in _PROJECT_GATE) else ():
        group = "v" if m.group("v") else "v2"
        value = m.group(group)
        if value in _CAP_WORD_NOT_PROJECT:
            continue
        start = m.start(group)
        # "Project Falcon" keeps its cue word: the code name alone is an ordinary word.
        if value.isalpha() and text[m.start():m.start() + 7].casefold() == "project":
            start = m.start()
        yield hit(text, start, m.end(group), "Project/Task ID", PL.PL4, "project_code", 0.65)


DETECTORS = (devices, intranet, project_codes)
