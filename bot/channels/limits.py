"""Bounded work per message in every channel: a ceiling on request bodies and on message text.

NLU cost grows with the square of the message length (100,000 characters took 8.7 GB), so text over
MAX_MESSAGE_CHARS is cut before Rasa sees it and the visitor is told, in the content's words
(``general/message_too_long``), that only the start was read.
"""

from __future__ import annotations

import functools
import logging
import os

from sanic import Blueprint, Sanic

from bot.content import ContentRepository
from bot.content.select import Situation
from bot.settings import max_message_chars

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
FALLBACK_TOO_LONG_TEXT = "Je bericht was erg lang, daarom heb ik alleen het begin gelezen."


def apply_limits(blueprint: Blueprint, message_limit: MessageLimit, body_limit: int = MAX_BODY_BYTES) -> None:
    """When the server starts: lower its body limit to ``body_limit`` and load the notice's content.

    Sanic's default body limit is 100 MB; SANIC_REQUEST_MAX_SIZE in the environment lowers it before
    start, this makes a plain ``rasa run`` safe too (a smaller configured limit is kept). Streamed
    routes read with ``read_limited`` instead, since Sanic lifts the limit for them. Loading the
    content takes seconds, which would otherwise stall every visitor at the first long message.
    """

    @blueprint.listener("before_server_start")
    async def _apply(app: Sanic, _: object) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, body_limit)
        message_limit.notice("web")


@functools.lru_cache(maxsize=4)
def _shared_content(journeys_dir: str) -> ContentRepository:
    """One repository per content directory in this process: loading it takes seconds."""
    return ContentRepository.from_env()


class ContentNotices:
    """Fixed messages from the content (common.yml ``general``), with a fixed text if the content fails."""

    def __init__(self, content: ContentRepository | None = None) -> None:
        self._content = content

    def text(self, key: str, channel: str, fallback: str) -> str:
        """The default phrasing of message ``key`` for ``channel``, or ``fallback`` when it cannot load."""
        try:
            self._content = self._content or _shared_content(os.environ.get("JOURNEYS_DIR", ""))
            return str(self._content.current().message(key, Situation(channel=channel)).text)
        except Exception:
            logger.exception("Content lookup of %s failed; sending the fixed text.", key)
            return fallback


class MessageLimit:
    """Cuts message text to ``max_chars`` and knows the notice that tells the visitor so."""

    def __init__(self, max_chars: int | None = None, notices: ContentNotices | None = None) -> None:
        """``max_chars`` None: MAX_MESSAGE_CHARS from the environment (default 2000)."""
        self.max_chars = max_chars if max_chars is not None else max_message_chars()
        self._notices = notices or ContentNotices()

    def cut(self, text: str) -> tuple[str, bool]:
        """The text Rasa may see, and whether it was cut."""
        if len(text) <= self.max_chars:
            return text, False
        logger.info("Message of %d characters cut to %d.", len(text), self.max_chars)
        return text[: self.max_chars], True

    def notice(self, channel: str) -> str:
        """The polite Dutch notice that only the start of the message was read."""
        return self._notices.text("message_too_long", channel, FALLBACK_TOO_LONG_TEXT)
