"""One frozen settings object, read once at the entry point and passed down.

Environment variables use the prefix `STREAMPROC_` and `__` between levels, e.g.
`STREAMPROC_KAFKA__BOOTSTRAP_SERVERS=broker:9092`, `STREAMPROC_VAULT__URL=postgresql+asyncpg://...`,
`STREAMPROC_EXTRACTION__EXTRACTOR=hybrid`. Secrets are `SecretStr` and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The one list of extractor names: the CLI, eval and the composition root (app.EXTRACTORS) read it.
ExtractorName = Literal["rules", "vllm-http", "vllm-inprocess", "hybrid"]
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
    stream_expiry_s: float = Field(
        default=300.0, gt=0, description="A streamed response with no chunk for this long (record time) is closed: its hold-back flushed as a final chunk."
    )
    stream_state_topic: str | None = Field(
        default=None, description="Compacted changelog of streamed-restore state; default: <group_id>.<response_topic>.stream-state."
    )

    @property
    def stream_changelog(self) -> str:
        return self.stream_state_topic or f"{self.group_id}.{self.response_topic}.stream-state"


class VaultSettings(_Section):
    url: str | None = Field(default=None, description="SQLAlchemy async URL; default: SQLite under state_dir.")
    master_key: SecretStr | None = Field(
        default=None, description="Base64 of 32 bytes. Default: a key file created under state_dir (0600)."
    )
    pool_size: int = Field(default=5, ge=1)


class ExtractionSettings(_Section):
    extractor: ExtractorName = "rules"
    on_failure: Literal["retry", "fallback"] = Field(
        default="retry",
        description="retry: back off without committing; fallback: rules only, output marked degraded.",
    )
    rules_min_confidence: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Rules detections below this are dropped: precision/recall knob."
    )
    rules_processes: int = Field(
        default=0, ge=0, le=64, description="Run rules detection in this many worker processes (0: a thread)."
    )
    rules_phone_regions: tuple[str, ...] = Field(
        default=("US", "CN", "IN", "GB", "DE", "FR", "JP", "AU", "CA", "BR", "ES", "IT", "KR", "SG", "NL",
                 "MX", "IL", "HK", "TW"),
        min_length=1,
        description="ISO 3166 regions whose national phone formats the rules try for numbers without '+'"
        ' (JSON list, e.g. ["US","GB"]); fewer regions are faster and more precise.',
    )
    model: str | None = Field(default=None, description="Model directory (in-process) or served model name (HTTP).")
    vllm_url: str | None = Field(default=None, description="Base URL of a vLLM OpenAI-compatible server.")
    vllm_engine_args: dict[str, Any] = Field(
        default_factory=dict,
        description='Extra vLLM engine arguments for vllm-inprocess, as JSON: {"max_model_len": 8192, ...}.',
    )
    prompt_file: Path | None = Field(default=None, description="Alternative prompt template ({real_name}, {turn}).")
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


class BatchSettings(_Section):
    max_turns: int = Field(default=64, ge=1)
    max_tokens: int = Field(default=16_000, ge=1, description="Estimated as characters / 4.")
    max_wait_ms: int = Field(default=50, ge=0)
    max_in_flight: int = Field(default=2, ge=1, description="Batches being extracted at once; more pauses partitions.")


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
    kafka: KafkaSettings = KafkaSettings()
    vault: VaultSettings = VaultSettings()
    extraction: ExtractionSettings = ExtractionSettings()
    batching: BatchSettings = BatchSettings()
    web: WebSettings = WebSettings()

    @property
    def vault_url(self) -> str:
        return self.vault.url or f"sqlite+aiosqlite:///{self.state_dir / 'vault.db'}"
