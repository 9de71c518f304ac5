"""The JSON schema editors use to check journeys/*.yml while typing; generated, never hand-edited."""

from __future__ import annotations

import json
from typing import Any

from bot.content.model import ContentFile

SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"


def content_schema() -> dict[str, Any]:
    schema = ContentFile.schema()
    schema["title"] = "Journey content"
    return {"$schema": SCHEMA_DIALECT, **schema}


def schema_text() -> str:
    """Stable text so the committed journeys/schema.json can be compared byte for byte."""
    return json.dumps(content_schema(), indent=2, ensure_ascii=False) + "\n"
