"""One frozen settings object, read once at the entry point and passed down.

Environment variables use the prefix `STREAMPROC_` and `__` between levels, e.g.
`STREAMPROC_KAFKA__BOOTSTRAP_SERVERS=broker:9092`, `STREAMPROC_VAULT__URL=postgresql+asyncpg://...`,
`STREAMPROC_EXTRACTION__EXTRACTOR=hybrid`. Secrets are `SecretStr` and never printed.

Any `SecretStr` setting can also come from a file: append `_FILE` to its variable, e.g.
`STREAMPROC_KAFKA__SASL_PASSWORD_FILE=/run/secrets/kafka` (Docker and Kubernetes secrets). One
trailing newline is dropped. Setting both the variable and its `_FILE` form is an error.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url

from streamproc.core.errors import StartupError

# The one list of extractor names: the CLI, eval and the composition root (app.EXTRACTORS) read it.
ExtractorName = Literal["rules", "vllm-http", "vllm-inprocess", "hybrid"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
HOUR_MS = 3_600_000
EXTRACTOR_NAMES: tuple[str, ...] = get_args(ExtractorName)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "streamproc"
    raw_topic: str = "raw-dialogue"
    masked_topic: str = "masked-dialogue"
    response_topic: str = "cloud-response"
    restored_topic: str = "restored-dialogue"
    dead_letter_topic: str = "dead-letter"
    identity_topic: str = Field(
        default="streamproc-vaults", description="Compacted topic binding each consumer group to one vault (fencing)."
    )
    partitions: int = Field(default=4, ge=1, description="Used when a topic is created on start.")
    replication_factor: int = Field(default=1, ge=1)
    transactional_id_prefix: str = "streamproc"
    max_record_bytes: int = Field(default=256_000, ge=1024, description="Larger records are dead-lettered.")
    dead_letters_per_minute: int = Field(
        default=1_000, ge=1, description="Above this rate the worker stops: a bad deploy, not bad records."
    )
    # Retention of topics the worker (or `produce`) creates; None: the broker's default (a week).
    # raw and restored hold plaintext: keep them short (a replay window, not an archive).
    raw_retention_ms: int | None = Field(default=6 * HOUR_MS, ge=60_000, description="raw-dialogue: the replay window.")
    masked_retention_ms: int | None = Field(default=None, ge=60_000)
    response_retention_ms: int | None = Field(default=None, ge=60_000)
    restored_retention_ms: int | None = Field(default=24 * HOUR_MS, ge=60_000, description="How long a device may be offline.")
    dead_letter_retention_ms: int | None = Field(default=None, ge=60_000)
    # Security: one place, applied to every client (streamproc.kafka.clients).
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = Field(default=None, description="Required with SASL_PLAINTEXT / SASL_SSL.")
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_oauth_token_provider: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_]*$",  # ':' splits the two runs: no backtracking
        description="OAUTHBEARER: 'module:callable' returning an aiokafka AbstractTokenProvider.",
    )
    ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) to trust; default: the system's.")
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: Path | None = Field(default=None, description="Its private key (PEM), if not inside ssl_certfile.")
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    connect_timeout_s: float = Field(default=15.0, gt=0, description="Start-up probe: unreachable or refused in this time is fatal.")

    @model_validator(mode="after")
    def _security_is_consistent(self) -> KafkaSettings:
        sasl = self.security_protocol.startswith("SASL_")
        tls = self.security_protocol.endswith("SSL")
        if sasl and self.sasl_mechanism is None:
            raise ValueError(f"security_protocol {self.security_protocol} needs sasl_mechanism")
        if not sasl and (self.sasl_mechanism or self.sasl_username or self.sasl_password or self.sasl_oauth_token_provider):
            raise ValueError(f"sasl_* settings are set but security_protocol is {self.security_protocol}: they would be ignored")
        if not tls and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile or self.ssl_key_password):
            raise ValueError(f"ssl_* settings are set but security_protocol is {self.security_protocol}: they would be ignored")
        if self.sasl_mechanism == "OAUTHBEARER":
            if not self.sasl_oauth_token_provider:
                raise ValueError("sasl_mechanism OAUTHBEARER needs sasl_oauth_token_provider ('module:callable')")
        elif sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs sasl_username and sasl_password")
        if (self.ssl_keyfile or self.ssl_key_password) and not self.ssl_certfile:
            raise ValueError("ssl_keyfile / ssl_key_password need ssl_certfile")
        return self
    stream_expiry_s: float = Field(
        default=300.0, gt=0, description="A streamed response with no chunk for this long (record time) is closed: its hold-back flushed as a final chunk."
    )
    stream_state_topic: str | None = Field(
        default=None, description="Compacted changelog of streamed-restore state; default: <group_id>.<response_topic>.stream-state."
    )

    @property
    def stream_changelog(self) -> str:
        return self.stream_state_topic or f"{self.group_id}.{self.response_topic}.stream-state"

    @property
    def producer_max_request_bytes(self) -> int:
        """The producers' max_request_size: room for a record of max_record_bytes and its growth
        by masking; outputs that would not fit are dead-lettered before producing."""
        return max(1_048_576, 4 * self.max_record_bytes)


SslMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]


class VaultSettings(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL without the password (see `password`); default: SQLite under state_dir.",
    )
    password: SecretStr | None = Field(
        default=None, description="Database password, merged into `url` (so the URL holds no secret)."
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 bytes; wraps every new data key. Default: a key file created under state_dir (0600).",
    )
    previous_master_keys: SecretStr | None = Field(
        default=None,
        description="Older master keys still accepted for unwrapping until `streamproc keys rotate` "
        "has rewrapped everything: base64 keys separated by commas or newlines.",
    )
    pool_size: int = Field(default=5, ge=1)
    purge_interval_s: float = Field(
        default=300.0, ge=0, description="How often the worker drops expired values (0: never)."
    )
    ssl_mode: SslMode = Field(
        default="prefer",
        description="Postgres TLS, as libpq's sslmode: verify-full checks the CA and the host name.",
    )
    ssl_root_cert: Path | None = Field(
        default=None, description="CA bundle for verify-ca / verify-full (default: the system's CAs)."
    )
    ssl_cert: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    ssl_key: Path | None = Field(default=None, description="Client private key (PEM) for mutual TLS.")

    @model_validator(mode="after")
    def _coherent(self) -> VaultSettings:
        if (self.ssl_cert is None) != (self.ssl_key is None):
            raise ValueError("vault.ssl_cert and vault.ssl_key go together")
        if self.ssl_mode == "disable" and (self.ssl_root_cert or self.ssl_cert):
            raise ValueError("vault.ssl_mode=disable with TLS files set: pick one")
        if self.password is not None and self.url and make_url(self.url).password is not None:
            raise ValueError("the vault password is set both in vault.url and vault.password: keep it out of the URL")
        return self


class ExtractionSettings(_Section):
    extractor: ExtractorName = "rules"
    on_failure: Literal["retry", "fallback"] = Field(
        default="retry",
        description="retry: back off without committing; fallback: rules only, output marked degraded.",
    )
    rules_min_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Rules detections below this are dropped: precision/recall knob."
    )
    rules_preset: Literal["default", "strict"] = Field(
        default="default",
        description="strict: recall first (min confidence 0.35 and low-tier name guesses); see the README figures.",
    )
    rules_processes: int = Field(
        default=1, ge=0, le=64,
        description="Run rules detection in this many killable child processes (0: a thread, with no enforceable deadline).",
    )
    rules_timeout_s: float = Field(
        default=10.0, gt=0, le=3600,
        description="Deadline of one rules call (a batch, or one turn when a batch is split); past it the child is killed.",
    )
    on_turn_failure: Literal["fallback", "dead-letter"] = Field(
        default="fallback",
        description="A turn the model cannot answer (while it answers others): rules only (degraded), or dead-letter it.",
    )
    rules_phone_regions: tuple[str, ...] = Field(
        default=("US", "CN", "IN", "GB", "DE", "FR", "JP", "AU", "CA", "BR", "ES", "IT", "KR", "SG", "NL",
                 "MX", "IL", "HK", "TW"),
        min_length=1,
        description="ISO 3166 regions whose national phone formats the rules try for numbers without '+'"
        ' (JSON list, e.g. ["US","GB"]); fewer regions are faster and more precise.',
    )
    model: str | None = Field(default=None, description="Model directory (in-process) or served model name (HTTP).")
    vllm_url: str | None = Field(
        default=None,
        description="Base URL(s) of vLLM OpenAI-compatible servers, with or without /v1: one, comma-separated, "
        "or a JSON list. Requests go to the least busy healthy server.",
    )
    vllm_api_key: SecretStr | None = Field(
        default=None, description="Sent as `Authorization: Bearer` (vllm serve --api-key); or VLLM_API_KEY_FILE."
    )
    vllm_ca_file: Path | None = Field(default=None, description="CA bundle for https vLLM URLs (verification is always on).")
    vllm_probe_interval_s: float = Field(
        default=2.0, gt=0, description="How often an ejected vLLM server is probed (GET /health) to re-admit it."
    )
    structured_output: bool = Field(
        default=True,
        description="Constrain output by the span JSON schema; false for servers without structured output "
        "(output is then parsed tolerantly, still validated and grounded).",
    )
    output_attempts: int = Field(
        default=2, ge=1, le=5, description="Tries per turn when the model's output is truncated or invalid."
    )
    vllm_engine_args: dict[str, Any] = Field(
        default_factory=dict,
        description='Extra vLLM engine arguments for vllm-inprocess, as JSON: {"max_model_len": 8192, ...}.',
    )
    prompt_file: Path | None = Field(
        default=None,
        description="Alternative prompt template: ours ({real_name}, {turn}) or str.format ({real_name}, "
        "{input_dialogue_content}, doubled braces); the style is detected at start.",
    )
    max_tokens: int = Field(default=1024, ge=16)
    timeout_s: float = Field(default=60.0, gt=0)
    max_concurrency: int = Field(default=64, ge=1)
    retry_max_s: float = Field(default=30.0, gt=0, description="Longest back-off between retries.")

    @model_validator(mode="after")
    def _model_location_given(self) -> ExtractionSettings:
        # Checked here, once, so every entry point fails the same clear way at start.
        if self.extractor == "vllm-http" and not self.vllm_url:
            raise ValueError("extractor vllm-http needs vllm_url (--vllm-url or STREAMPROC_EXTRACTION__VLLM_URL)")
        if self.extractor == "vllm-inprocess" and not self.model:
            raise ValueError("extractor vllm-inprocess needs model (--model or STREAMPROC_EXTRACTION__MODEL)")
        if self.extractor == "hybrid" and not (self.vllm_url or self.model):
            raise ValueError("extractor hybrid needs vllm_url or model")
        return self

    @field_validator("vllm_url", mode="before")
    @classmethod
    def _canonical_urls(cls, value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        return ",".join(parse_vllm_urls(value))

    @property
    def vllm_urls(self) -> tuple[str, ...]:
        return parse_vllm_urls(self.vllm_url) if self.vllm_url else ()


def parse_vllm_urls(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """One URL, comma-separated URLs or a JSON list -> base URLs without a trailing `/` or `/v1`
    (the client adds `/v1/...`; the usual OpenAI base URL ends in /v1). Duplicates are dropped."""
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else text.split(",")
    else:
        items = list(value)
    urls: list[str] = []
    for item in items:
        url = str(item).strip().rstrip("/")
        if url.endswith("/v1"):
            url = url[: -len("/v1")]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        if url not in urls:
            urls.append(url)
    if not urls:
        raise ValueError("no vLLM URL given")
    return tuple(urls)


class BatchSettings(_Section):
    max_turns: int = Field(default=64, ge=1)
    max_tokens: int = Field(default=16_000, ge=1, description="Estimated as characters / 4.")
    max_wait_ms: int = Field(default=50, ge=0)
    max_in_flight: int = Field(default=2, ge=1, description="Batches being extracted at once; more pauses partitions.")
    drain_s: float = Field(
        default=5.0, ge=0, le=300, description="On stop, time given to batches in flight to commit; the rest is replayed later."
    )


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=6066, ge=0, le=65535)


def default_state_dir() -> Path:
    return Path.home() / ".local" / "state" / "streamproc"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STREAMPROC_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    state_dir: Path = Field(default_factory=default_state_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="asyncio", description="The worker's event loop; uvloop (libuv) only if the bench shows a gain."
    )
    kafka: KafkaSettings = KafkaSettings()
    vault: VaultSettings = VaultSettings()
    extraction: ExtractionSettings = ExtractionSettings()
    batching: BatchSettings = BatchSettings()
    web: WebSettings = WebSettings()

    @property
    def vault_url(self) -> str:
        """The vault URL with `vault.password` merged in: pass it on, never log it."""
        if not self.vault.url:
            return f"sqlite+aiosqlite:///{self.state_dir / 'vault.db'}"
        if self.vault.password is None:
            return self.vault.url
        url = make_url(self.vault.url).set(password=self.vault.password.get_secret_value())
        return url.render_as_string(hide_password=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        del env_settings  # replaced: the same source, blind to the *_FILE variables handled below
        return init_settings, _EnvWithoutSecretFiles(settings_cls), SecretFileSource(settings_cls), dotenv_settings, file_secret_settings


class SecretFileSource(PydanticBaseSettingsSource):
    """`STREAMPROC_<PATH>_FILE=/path` for every SecretStr setting, nested or not: the secret is the
    file's content. Variables ending in _FILE that name no secret are left to the other sources
    (a plain setting may itself end in `_file`)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None = None) -> None:
        super().__init__(settings_cls)
        self.environ = os.environ if environ is None else environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ resolves the whole tree at once

    def __call__(self) -> dict[str, Any]:
        names = {name.upper() for name in self.environ}
        found: dict[str, Any] = {}
        for name, path in self.environ.items():
            upper = name.upper()
            keys = secret_file_keys(self.settings_cls, upper)
            if keys is None:
                continue
            if upper[: -len("_FILE")] in names:
                raise StartupError(f"both {upper[:-len('_FILE')]} and {upper} are set: keep one")
            node = found
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = _read_secret(upper, path)
        return found


class _EnvWithoutSecretFiles(EnvSettingsSource):
    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k: v for k, v in super()._load_env_vars().items() if secret_file_keys(self.settings_cls, k) is None}


def secret_file_keys(settings_cls: type[BaseSettings], variable: str) -> list[str] | None:
    """The field path a `..._FILE` variable fills, if it names a SecretStr setting; else None."""
    prefix = str(settings_cls.model_config.get("env_prefix", "")).upper()
    delimiter = str(settings_cls.model_config.get("env_nested_delimiter") or "__").lower()
    upper = variable.upper()
    if not (upper.startswith(prefix) and upper.endswith("_FILE")):
        return None
    keys = upper[len(prefix) : -len("_FILE")].lower().split(delimiter)
    return keys if _names_secret(settings_cls, keys) else None


def _names_secret(model: type[BaseModel], keys: list[str]) -> bool:
    """Whether `keys` (field names, outermost first) lead through nested models to a SecretStr."""
    field = model.model_fields.get(keys[0])
    if field is None:
        return False
    options = typing.get_args(field.annotation) if _is_union(field.annotation) else (field.annotation,)
    if len(keys) == 1:
        return SecretStr in options
    return any(isinstance(o, type) and issubclass(o, BaseModel) and _names_secret(o, keys[1:]) for o in options)


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _read_secret(variable: str, path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        raise StartupError(f"{variable}: cannot read the secret file {path}: {reason}") from None
    return text[:-1] if text.endswith("\n") else text
