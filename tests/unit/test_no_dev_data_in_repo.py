"""The dev files are for evaluation only (CC BY-NC-ND) and we are judged on unseen data: no
identifying value from them may sit in code, lexicons or tests. Category words ("anemia",
"mother") are fine; values with digits and the users' names are not."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[2]
EVAL = ROOT.parent / "shared" / "eval"
SOURCES = ("streamproc", "tests", "examples", "infra")
SUFFIXES = {".py", ".txt", ".jsonl", ".json", ".md", ".sh", ".yml"}


def identifying_dev_values() -> set[str]:
    values: set[str] = set()
    for path in sorted(EVAL.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            user = json.loads(line)
            name = (user.get("metadata") or {}).get("user_name")
            if name and len(name) >= 4:
                values.add(name)
            for turn in user.get("dialogues", []):
                for span in turn.get("privacy_info", []):
                    text = span["original_text"].strip()
                    if len(text) >= 5 and re.search(r"\d", text):
                        values.add(text)
    return values


def test_no_identifying_dev_value_appears_in_the_repository() -> None:
    if not EVAL.is_dir():
        service_missing(f"the dev data at {EVAL}", "check out ../shared beside the repository")
    values = identifying_dev_values()
    assert len(values) > 100
    found = {}
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in SUFFIXES and path.is_file():
                text = path.read_text("utf-8", errors="ignore")
                hits = [v for v in values if v in text]
                if hits:
                    found[str(path.relative_to(ROOT))] = len(hits)
    assert not found, f"dev-set values copied into the repository: {found}"
