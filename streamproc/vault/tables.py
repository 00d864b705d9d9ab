"""The vault schema (SQLAlchemy 2.0 declarative). Migrations in `migrations/versions/` are the
source of truth for the database; this module must match them (a test compares the two).

No column ever holds an original value in clear: `value_hash` is a keyed HMAC, `ciphertext` is
AES-GCM under the user's data key, and both are useless once `users.wrapped_dek` is deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[dt.datetime]):
    """timestamptz on Postgres; on SQLite (no time zones) naive UTC in a fixed-width text format,
    so comparisons in SQL stay correct. Always hands back aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class VaultMeta(Base):
    """Vault-wide facts; today only the master-key check written on first open."""

    __tablename__ = "vault_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_key_id", "key_id"),)

    user_id: Mapped[str] = mapped_column(String, primary_key=True)
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    # Fingerprint of the master key that wraps `wrapped_dek` (keyring.key_id); NULL for rows
    # written before revision 0002, which any configured key may open.
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # NULL means "the default policy", so a changed default reaches users who never set one.
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Mapping(Base):
    __tablename__ = "mappings"
    __table_args__ = (
        UniqueConstraint("user_id", "placeholder_key", name="uq_mappings_user_placeholder"),
        Index("ix_mappings_expires_at", "expires_at"),
    )

    user_id: Mapped[str] = mapped_column(
        String, ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
    )
    # The primary key doubles as the unique (user_id, value_hash) that races resolve on.
    value_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    placeholder: Mapped[str] = mapped_column(String)
    placeholder_key: Mapped[str] = mapped_column(String)  # canonical_key(placeholder)
    type_key: Mapped[str] = mapped_column(String)  # type_name(privacy_type).casefold()
    privacy_type: Mapped[str] = mapped_column(Text)
    privacy_level: Mapped[str] = mapped_column(String(3))
    action: Mapped[str] = mapped_column(String(8))  # mask | redact
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # NULL: redacted/expired
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Counter(Base):
    """Next unused placeholder number per (user, type); bumped atomically by an upsert."""

    __tablename__ = "counters"

    user_id: Mapped[str] = mapped_column(
        String, ForeignKey("users.user_id", ondelete="CASCADE"), primary_key=True
    )
    type_key: Mapped[str] = mapped_column(String, primary_key=True)
    next_n: Mapped[int] = mapped_column(Integer)


class ServiceKey(Base):
    """A vault-wide data key that belongs to no user (the dead-letter sealing key), wrapped by the
    master key with AAD = its name."""

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # as users.key_id
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Pseudonym(Base):
    """What the cloud calls a user or a session -> the real one. `kind` is `user` (the user_id
    column is the answer) or `session` (`sealed_id` is the session id, AES-GCM under the user's
    data key, so a backup without the user's key reveals nothing)."""

    __tablename__ = "pseudonyms"
    __table_args__ = (Index("ix_pseudonyms_user_id", "user_id"),)

    pseudonym: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String, ForeignKey("users.user_id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    sealed_id: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
