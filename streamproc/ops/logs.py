"""Structured logs: one JSON object per line on stderr. Messages carry counts, offsets, placeholders
and error classes only; never a private value (tests scan the output of real runs for them)."""

from __future__ import annotations

import json
import logging
import sys


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the class only: messages may quote input
        return json.dumps(entry, ensure_ascii=False)


def configure(verbose: bool, level: str = "INFO") -> None:
    """`level` is settings.log_level for the long-running commands, WARNING for one-shot ones
    (a CLI user wants results, not progress chatter); -v is DEBUG either way."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # Verbose is for our own loggers only: third-party debug output (drivers) may echo SQL
    # parameters, and it is not ours to vouch for.
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("streamproc").setLevel(logging.DEBUG if verbose else level.upper())
    for noisy in ("aiokafka", "alembic", "matplotlib", "jieba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
