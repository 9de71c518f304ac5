"""The content marketers maintain in journeys/ must pass the same validation as the fixtures."""

from __future__ import annotations

import pytest

from bot.content.loader import load_content
from bot.content.repository import PROJECT_ROOT

JOURNEYS = PROJECT_ROOT / "journeys"


@pytest.mark.skipif(not (JOURNEYS / "common.yml").is_file(), reason="journeys/ has no content yet")
def test_project_content_is_valid() -> None:
    book = load_content(JOURNEYS, PROJECT_ROOT / "domain.yml").book
    assert set(book.journey_ids) == {"consumer", "business"}
    assert book.journey_for(None) == "consumer"
