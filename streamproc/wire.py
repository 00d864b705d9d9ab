"""Wire models: what travels on the topics, as UTF-8 JSON. JSON Schemas in schemas/ come from here.

Inputs are strict (unknown fields are rejected with a reason, so a producer's typo surfaces as a
dead letter instead of silently vanishing). `real_name` and `policy` are consumed locally and never
forwarded: the user's own name is itself a private value.

Ids across the trust boundary: `masked-dialogue` and `cloud-response` carry keyed pseudonyms of
`user_id` and `session_id` (streamproc/vault/pseudonyms.py); the real ids appear only on the
edge-side topics. `turn_id`, `response_id` and `in_reply_to` are producer ids forwarded as they
are: producers must make them opaque (a UUID, a counter), never derived from a user id, a phone
number or an e-mail address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from streamproc.core.policy import Action
from streamproc.core.taxonomy import PrivacyLevel

MAX_CONTENT_CHARS = 32_000
# Ids travel as Kafka keys and vault rows: no control characters (Postgres refuses NUL in text,
# which would turn one record into a vault error retried forever). One class, so linear.
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
Content = Annotated[str, StringConstraints(max_length=MAX_CONTENT_CHARS)]
Role = Literal["user", "assistant"]
MaskableLevel = Literal["PL2", "PL3", "PL4"]
# Streamed responses (wire extension 1): optional chunk fields; absent means a whole response.
ChunkSeq = Annotated[int, Field(ge=0, le=1_000_000)]
CHUNK_SEQ_DOC = "0-based position of this chunk in a streamed response (same response_id); absent: a whole response."
FINAL_DOC = "True on a streamed response's last chunk; present exactly when chunk_seq is."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class RawTurn(_Model):
    """A dialogue turn from an edge device, on `raw-dialogue`, keyed by user_id."""

    turn_id: Id = Field(description="Producer-assigned, unique; the idempotency key.")
    user_id: Id
    session_id: Id
    role: Role
    content: Content
    ts: datetime
    real_name: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        default=None, description="The user's own name, so the extractor can tell them from third parties."
    )
    policy: dict[MaskableLevel, Action] | None = Field(
        default=None, description="Per-level actions for this turn; may only tighten the stored policy."
    )


class EntityRef(_Model):
    placeholder: str
    privacy_type: str
    privacy_level: PrivacyLevel


class ExtractorInfo(_Model):
    name: str
    version: str


Pseudonym = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class MaskedTurn(_Model):
    """A turn safe to leave the device's trust zone, on `masked-dialogue`, keyed by the user
    pseudonym."""

    turn_id: Id = Field(description="The producer's turn_id, forwarded as is: producers must keep it opaque.")
    user_id: Pseudonym = Field(description="Keyed pseudonym of the user (`u-...`): stable per user, unlinkable without the vault.")
    session_id: Pseudonym = Field(description="Keyed pseudonym of the session (`s-...`).")
    role: Role
    content: str
    ts: datetime
    entities: list[EntityRef]
    extractor: ExtractorInfo
    degraded: bool = Field(description="True when the model was unavailable and only rules ran.")


class CloudResponse(_Model):
    """A cloud agent's reply, with placeholders, on `cloud-response`, keyed by the user pseudonym.
    It names the user and session by the pseudonyms it read on `masked-dialogue`."""

    response_id: Id
    user_id: Pseudonym = Field(description="The user pseudonym from masked-dialogue (`u-...`).")
    session_id: Pseudonym = Field(description="The session pseudonym from masked-dialogue (`s-...`).")
    in_reply_to: Id = Field(description="The turn_id this responds to.")
    content: Content
    ts: datetime
    chunk_seq: ChunkSeq | None = Field(default=None, description=CHUNK_SEQ_DOC)
    final: bool | None = Field(default=None, description=FINAL_DOC)

    @model_validator(mode="after")
    def _chunk_fields_together(self) -> CloudResponse:
        if (self.chunk_seq is None) != (self.final is None):
            raise ValueError("chunk_seq and final come together (a chunk) or not at all (a whole response)")
        return self

    @property
    def streamed(self) -> bool:
        return self.chunk_seq is not None


class RestoredTurn(_Model):
    """A cloud reply with the user's values and real ids put back, on `restored-dialogue`, keyed
    by the real user_id. Edge side only."""

    response_id: Id
    user_id: Id = Field(description="The real user_id (mapped back from the pseudonym).")
    session_id: Id = Field(description="The real session_id.")
    in_reply_to: Id
    content: str
    ts: datetime
    unresolved: list[str] = Field(description="Placeholders with no mapping for this user, left verbatim.")
    chunk_seq: ChunkSeq | None = Field(default=None, description="Of the response chunk this restores (absent: a whole response).")
    final: bool | None = Field(default=None, description="The last chunk; only it carries `unresolved` (the whole stream's).")


class DeadLetter(_Model):
    """A record that could not be processed, on `dead-letter`: where it came from and why in
    clear, the record itself sealed (AES-GCM under the vault's dead-letter key, bound to these
    coordinates). Only `streamproc dlq inspect` / `dlq replay`, run locally with the vault, open it.
    The Kafka record has no key: the original key is inside the seal."""

    source_topic: str
    partition: int
    offset: int
    error_class: str
    reason: str = Field(description="Human-readable; never quotes the record.")
    ts: datetime = Field(description="When the record was dead-lettered.")
    key_size: int | None = Field(description="Bytes in the original Kafka key; null: no key.")
    value_size: int | None = Field(description="Bytes in the original value; null: a tombstone.")
    digest: str = Field(
        description="HMAC-SHA256 (hex) of the original key and value under a vault-held key: tells "
        "copies apart without a dictionary side channel."
    )
    sealed: str | None = Field(
        description="Base64 of the sealed key and value; null when nothing could be sealed."
    )
    truncated: bool = Field(
        description="True when the value was cut to fit the dead-letter size bound; such a letter "
        "can be inspected but not replayed."
    )


WIRE_MODELS: dict[str, type[BaseModel]] = {
    "raw_turn": RawTurn,
    "masked_turn": MaskedTurn,
    "cloud_response": CloudResponse,
    "restored_turn": RestoredTurn,
    "dead_letter": DeadLetter,
}
