"""The masking service: detections + vault -> MaskedTurn; vault -> RestoredTurn.

Shared by the embedded CLI and the Kafka mask/restore stages, so the stream and the command line
can never disagree on what a masked turn looks like. A whole micro-batch goes to the vault in one
call: policies are read, placeholders allocated or recalled, and the writes committed before any
output exists (DESIGN: vault writes commit before the Kafka transaction).

Ids: a masked turn names its user and session by keyed pseudonyms (deterministic, so a replay
re-derives the same output); the restore path maps a response's pseudonyms back to the real ids,
and a pseudonym the vault does not know makes the response an UnknownUser dead letter.
"""

from __future__ import annotations

from collections.abc import Sequence

from streamproc.core import masking, placeholders
from streamproc.core.errors import UnknownUser
from streamproc.core.policy import Action, Policy
from streamproc.core.restore import restore, wanted_keys
from streamproc.core.spans import Detection
from streamproc.core.taxonomy import PrivacyLevel
from streamproc.vault.port import PlaceholderStore
from streamproc.wire import CloudResponse, EntityRef, ExtractorInfo, MaskedTurn, RawTurn, RestoredTurn


def turn_policy(stored: Policy, turn: RawTurn) -> Policy:
    """The user's stored policy, tightened (never loosened) by the turn's own."""
    if not turn.policy:
        return stored
    override = Policy(actions={PrivacyLevel(level): Action(action) for level, action in turn.policy.items()})
    # A level the turn does not mention must not loosen: fill it from the stored policy.
    filled = Policy(
        actions={lvl: override.actions.get(lvl, stored.action_for(lvl)) for lvl in stored.actions},
        ttl_seconds=stored.ttl_seconds,
    )
    return stored.tightened_by(filled)


async def mask_turns(
    store: PlaceholderStore,
    turns: Sequence[RawTurn],
    detections: Sequence[Sequence[Detection]],
    extractor: ExtractorInfo | Sequence[ExtractorInfo],
    *,
    degraded: bool | Sequence[bool],
) -> list[MaskedTurn]:
    """`extractor` and `degraded` are per batch, or per turn (a batch can mix model answers with
    turns the rules answered alone)."""
    if len(turns) != len(detections):
        raise ValueError("one list of detections per turn")
    infos = [extractor] * len(turns) if isinstance(extractor, ExtractorInfo) else list(extractor)
    flags = [degraded] * len(turns) if isinstance(degraded, bool) else list(degraded)
    stored = await store.get_policies(sorted({t.user_id for t in turns}))
    policies = [turn_policy(stored[t.user_id], t) for t in turns]
    plans = [masking.plan(t.content, list(d), p) for t, d, p in zip(turns, detections, policies, strict=True)]
    assigned, pseudonyms = await store.assign_with_pseudonyms(
        [(t.user_id, plan.requests(), p) for t, plan, p in zip(turns, plans, policies, strict=True)],
        [(t.user_id, t.session_id) for t in turns],
    )
    out = []
    for turn, plan, placeholders, (user, session), info, flag in zip(turns, plans, assigned, pseudonyms, infos, flags, strict=True):
        result = masking.render(plan, placeholders)
        out.append(
            MaskedTurn(
                turn_id=turn.turn_id,
                user_id=user,
                session_id=session,
                role=turn.role,
                content=result.content,
                ts=turn.ts,
                entities=[EntityRef(placeholder=e.placeholder, privacy_type=e.privacy_type, privacy_level=e.privacy_level) for e in result.entities],
                extractor=info,
                degraded=flag,
            )
        )
    return out


async def restore_responses(store: PlaceholderStore, responses: Sequence[CloudResponse]) -> list[RestoredTurn | UnknownUser]:
    """Restore a batch with one vault read (pseudonyms and values); a response whose user or
    session pseudonym the vault does not know yields UnknownUser in its place."""
    scans = [list(placeholders.scan(r.content)) for r in responses]  # once per response, for both steps
    lookups = await store.reveal_and_resolve([(r.user_id, r.session_id, wanted_keys(r.content, f)) for r, f in zip(responses, scans, strict=True)])
    out: list[RestoredTurn | UnknownUser] = []
    for response, lookup, found_in in zip(responses, lookups, scans, strict=True):
        if lookup is None:
            out.append(UnknownUser("no vault entry for this user or session pseudonym"))
            continue
        ids, found = lookup
        result = restore(response.content, found, found_in)
        out.append(
            RestoredTurn(
                response_id=response.response_id,
                user_id=ids[0],
                session_id=ids[1],
                in_reply_to=response.in_reply_to,
                content=result.content,
                ts=response.ts,
                unresolved=list(result.unresolved),
            )
        )
    return out


async def restore_response(store: PlaceholderStore, response: CloudResponse) -> RestoredTurn:
    """One response; raises UnknownUser (an InvalidRecord) when the vault does not know its pseudonyms."""
    [restored] = await restore_responses(store, [response])
    if isinstance(restored, UnknownUser):
        raise restored
    return restored
