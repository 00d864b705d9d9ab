"""A seeded, bilingual synthetic workload: many users, realistic turn lengths, a known density of
PL2-PL4 values of shapes the rules extractor must catch. Every generated value is random (valid
checksums where the shape has one), so nothing here comes from any dataset.

`Turn.secrets` lists the values planted in a turn, so tests can check none of them leaks.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from streamproc.wire import RawTurn

FILLER_EN = (
    "Could you help me plan the week ahead?", "I keep forgetting the details, so I'm writing them here.",
    "Thanks, that was really useful.", "Let's continue from where we stopped yesterday.",
    "Please keep the answer short, I'm on my phone.", "I also want to compare a few options before deciding.",
    "It has been a long day and I still have a lot to do.", "Remind me what we said about the schedule.",
)
FILLER_ZH = (
    "你能帮我安排一下这周的计划吗？", "我总是记不住细节，所以先写在这里。", "谢谢，这个很有用。",
    "我们接着昨天的话题继续吧。", "回答简短一点，我在用手机。", "我还想先比较几个方案再决定。",
)
FIRST = ("Ada", "Milo", "Priya", "Jonas", "Keiko", "Omar", "Lena", "Tomas", "Sofia", "Ravi")
LAST = ("Whitfield", "Brandt", "Okafor", "Lindqvist", "Moreau", "Castillo", "Novak", "Hale")
ZH_SURNAME = "王李张刘陈杨赵黄周吴"
ZH_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def _cn_id(rng: random.Random) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    birth = datetime(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    body = f"{rng.choice(['110105', '310104', '440305', '510107'])}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


@dataclass(frozen=True)
class Turn:
    raw: RawTurn
    secrets: tuple[str, ...]


class Workload:
    def __init__(self, *, users: int, seed: int, pii_density: float = 0.6) -> None:
        self.rng = random.Random(seed)
        self.users = [self._user(i) for i in range(users)]
        self.pii_density = pii_density
        self._counter = 0

    def _user(self, i: int) -> tuple[str, str, bool]:
        zh = i % 3 == 0
        if zh:
            name = self.rng.choice(ZH_SURNAME) + "".join(self.rng.choices(ZH_GIVEN, k=2))
        else:
            name = f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"
        return f"user-{i:05d}", name, zh

    def _value(self, zh: bool) -> tuple[str, str]:
        """A sentence fragment carrying one private value, and the value."""
        r = self.rng
        kind = r.randrange(7)
        if kind == 0:
            v = "".join(r.choices(string.ascii_lowercase, k=7)) + f"{r.randrange(100)}@example.{r.choice(['org', 'com', 'cn'])}"
            return (f"我的邮箱是 {v}。" if zh else f"My email is {v}."), v
        if kind == 1:
            v = f"1{r.choice('3589')}{r.randrange(10**9):09d}" if zh else f"+44 20 7{r.randrange(1000):03d} {r.randrange(10000):04d}"
            return (f"手机号 {v}。" if zh else f"Call me on {v}."), v
        if kind == 2:
            v = _luhn_complete("4" + "".join(r.choices(string.digits, k=14)))
            return (f"银行卡号 {v}。" if zh else f"My card number is {v}."), v
        if kind == 3:
            v = f"{r.randrange(10**6):06d}"
            return (f"验证码是 {v}，请帮我填一下。" if zh else f"The verification code is {v}, please enter it."), v
        if kind == 4:
            v = _cn_id(r)
            return (f"身份证号 {v}。" if zh else f"My ID number is {v}."), v
        if kind == 5:
            v = f"{r.choice([23, 45, 61, 81, 93, 101, 145, 177, 203])}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
            return (f"我现在的IP是 {v}。" if zh else f"My current IP is {v}."), v
        v = "".join(r.choices(string.ascii_letters + string.digits, k=10)) + r.choice("!#%")
        return (f"登录密码是 {v} 。" if zh else f"My password is {v} ."), v

    def turn(self) -> Turn:
        r = self.rng
        user_id, name, zh = r.choice(self.users)
        self._counter += 1
        parts, secrets = [], []
        filler = FILLER_ZH if zh else FILLER_EN
        for _ in range(r.randint(1, 3)):
            parts.append(r.choice(filler))
            if r.random() < self.pii_density:
                text, value = self._value(zh)
                parts.append(text)
                secrets.append(value)
        raw = RawTurn(
            turn_id=f"t-{self._counter:08d}",
            user_id=user_id,
            session_id=f"s-{user_id}",
            role="user",
            content=("" if zh else " ").join(parts),
            ts=datetime(2026, 11, 23, tzinfo=timezone.utc) + timedelta(seconds=self._counter),
            real_name=name,
        )
        return Turn(raw, tuple(secrets))

    def turns(self, n: int) -> Iterator[Turn]:
        for _ in range(n):
            yield self.turn()
