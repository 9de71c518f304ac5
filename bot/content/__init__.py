"""Journey content: marketers edit journeys/*.yml, the actions read validated replies from a JourneyBook."""

from __future__ import annotations

from bot.content.book import JourneyBook
from bot.content.errors import ContentError, Issue
from bot.content.repository import ContentRepository
from bot.content.select import Button, Reply

__all__ = ["Button", "ContentError", "ContentRepository", "Issue", "JourneyBook", "Reply"]
