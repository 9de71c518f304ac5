"""Hot reload: marketers edit journeys/*.yml on a running bot, and a broken edit never takes it down."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from bot.content.book import JourneyBook
from bot.content.errors import ContentError, display_path
from bot.content.loader import content_files, load_content

logger = logging.getLogger("bot.content")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
Signature = tuple[tuple[str, int, int], ...]
# Only when common.yml itself cannot be read: there is nothing else to say then.
LAST_RESORT = "Sorry, er ging iets mis aan onze kant. Probeer het zo nog eens, of bel ons op 020-123 45 67."


class ContentRepository:
    """`background`: an edit is loaded in a thread while the last valid version keeps answering, so
    no visitor waits the seconds a reload takes (the action server); without it, the caller that
    notices the edit loads it (the CLI, tests)."""

    def __init__(self, directory: Path, domain_path: Path | None = None, *, background: bool = False) -> None:
        self.directory = Path(directory)
        self.domain_path = Path(domain_path) if domain_path is not None else None
        self._lock = threading.Lock()
        self._book: JourneyBook | None = None
        self._loaded: Signature | None = None
        self._rejected: Signature | None = None
        self._background = background
        self._reloading = threading.Event()

    @classmethod
    def from_env(cls, *, background: bool = False) -> ContentRepository:
        directory = os.environ.get("JOURNEYS_DIR")
        return cls(
            Path(directory) if directory else PROJECT_ROOT / "journeys",
            PROJECT_ROOT / "domain.yml",
            background=background,
        )

    def _signature(self) -> Signature:
        """Names, mtimes and sizes: a few stat calls, cheap enough for every message."""
        watched = content_files(self.directory) if self.directory.is_dir() else []
        if self.domain_path is not None and self.domain_path.is_file():
            watched.append(self.domain_path)
        entries = []
        for path in watched:
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            entries.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(entries)

    def current(self) -> JourneyBook:
        """The newest valid content; until one has loaded, ContentError says why not."""
        signature = self._signature()
        if self._book is not None and signature in (self._loaded, self._rejected):
            return self._book
        if self._book is not None and self._background:
            if not self._reloading.is_set():
                self._reloading.set()
                threading.Thread(target=self._reload, name="journey-reload", daemon=True).start()
            return self._book
        return self._load(signature)

    def _reload(self) -> None:
        try:
            self._load(self._signature())
        except Exception:  # a bug here must not end the assistant; the next message tries again
            logger.exception("journey content reload failed")
        finally:
            self._reloading.clear()

    def _load(self, signature: Signature) -> JourneyBook:
        with self._lock:
            if self._book is not None and signature in (self._loaded, self._rejected):
                return self._book
            try:
                loaded = load_content(self.directory, self.domain_path)
            except ContentError as exc:
                if self._book is None:
                    raise
                self._rejected = signature
                for issue in exc.errors:
                    logger.error("journey content: %s", issue)
                count = len(exc.errors)
                logger.error(
                    "journey content in %s is invalid (%d error%s); still serving the last valid version",
                    display_path(self.directory),
                    count,
                    "" if count == 1 else "s",
                )
                return self._book
            for warning in loaded.warnings:
                logger.warning("journey content: %s", warning)
            if self._book is not None:
                logger.info("journey content reloaded from %s", display_path(self.directory))
            self._book, self._loaded, self._rejected = loaded.book, signature, None
            return self._book

    def error_text(self) -> str:
        """What to say when no valid content has ever loaded: common.yml's `error` message, read as
        leniently as possible, so the marketer's words are used even when another file is broken."""
        import yaml

        try:
            common = yaml.safe_load((self.directory / "common.yml").read_text(encoding="utf-8"))
            text = common["general"]["error"]["replies"][0]["text"][0]
        except Exception:  # any shape of broken file: fall back to the built-in sentence
            return LAST_RESORT
        return text if isinstance(text, str) and text.strip() else LAST_RESORT
