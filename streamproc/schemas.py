"""JSON Schemas of the wire models, generated into schemas/ by `streamproc schemas`."""

from __future__ import annotations

import json
from pathlib import Path

from streamproc.wire import WIRE_MODELS


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, deterministic so the drift test can compare bytes."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, model in WIRE_MODELS.items()
    }


def write_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in render_schemas().items():
        path = out_dir / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
