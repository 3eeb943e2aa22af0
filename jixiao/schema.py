"""The JSON Schema of the record format, generated from the model and shipped in schema/."""
from __future__ import annotations

import json
from pathlib import Path

from .model import schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for kind in ("unit", "project"):
        path = folder / f"{kind}.schema.json"
        path.write_text(json.dumps(schema(kind), ensure_ascii=False, indent=2) + "\n", "utf-8")
        paths.append(path)
    return paths
