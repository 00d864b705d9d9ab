"""With a policy that masks every level reversibly, mask -> restore gives back every dev-set turn
exactly, through the real vault. The dev files are read from ../shared/eval (never copied here)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from streamproc.core.policy import Action, Policy
from streamproc.core.taxonomy import PrivacyLevel as L
from streamproc.eval.dataset import read_messages
from streamproc.extractors.rules import RulesExtractor
from streamproc.masker import mask_turns, restore_response
from streamproc.vault.crypto import load_or_create_master_key
from streamproc.vault.migrate import migrate
from streamproc.vault.store import Vault
from streamproc.wire import CloudResponse, ExtractorInfo, RawTurn

from ..conftest import service_missing

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
MASK_ALL = Policy(actions={L.PL2: Action.MASK, L.PL3: Action.MASK, L.PL4: Action.MASK})


@pytest.mark.parametrize("name", ["memprivacy_bench_dev.jsonl", "personamem_v2_dev.jsonl"])
async def test_every_dev_turn_round_trips_exactly_when_all_levels_are_masked(name: str, tmp_path: Path) -> None:
    path = EVAL / name
    if not path.exists():
        service_missing(f"the dev file {path}", "check out ../shared beside the repository")
    messages = read_messages(path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'vault.db'}"
    await migrate(url)
    rules = RulesExtractor()
    types_seen = set()
    async with Vault.open(url, load_or_create_master_key(None, tmp_path)) as vault:
        for user in {m.user_id for m in messages}:
            await vault.set_policy(user, MASK_ALL)
        for start in range(0, len(messages), 128):
            chunk = messages[start : start + 128]
            turns = [RawTurn(turn_id=m.turn_id[:128], user_id=m.user_id[:128], session_id="s", role=m.role, content=m.content, ts=datetime.now(timezone.utc)) for m in chunk]  # type: ignore[arg-type]
            found = await rules.extract([m.turn_text() for m in chunk])
            detections = [list(m.gold) + extra for m, extra in zip(chunk, found, strict=True)]
            types_seen |= {d.privacy_type for ds in detections for d in ds}
            masked = await mask_turns(vault, turns, detections, ExtractorInfo(name="gold+rules", version="0"), degraded=False)
            for turn, m in zip(turns, masked, strict=True):
                back = await restore_response(vault, CloudResponse(response_id="r", user_id=m.user_id, session_id=m.session_id, in_reply_to=m.turn_id, content=m.content, ts=m.ts))
                assert back.content == turn.content, f"round trip changed {turn.turn_id}"
                assert back.unresolved == [] or all(u in turn.content for u in back.unresolved)
    assert len(types_seen) > 10  # the dev set's free-form types all went through placeholders
