"""The spool: JSON lines that wait on disk while the database is unreachable, so no record is lost.

Lines hold prepared records only (pseudonymised sender, masked text). A file lock serialises
writers across threads and worker processes. A line that the database refuses for good (or that
is damaged) moves to the rejected file for a person to look at, instead of blocking the rest.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.store.records import StoredRecord, from_line, to_line

logger = logging.getLogger(__name__)


def _read(line: str) -> StoredRecord | None:
    """The record on a line, or None when the line is damaged (a crash mid-write, a hand edit)."""
    try:
        return from_line(line)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class Spool:
    """touchpoints.jsonl (waiting), touchpoints.rejected.jsonl (refused) and a lock file in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "touchpoints.jsonl"
        self.rejected_path = directory / "touchpoints.rejected.jsonl"
        self._lock_path = directory / "touchpoints.lock"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _append_line(path: Path, line: str) -> None:
        """One O_APPEND write per line, synced: concurrent writers never interleave inside a line."""
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line.rstrip("\n") + "\n").encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _lines(self) -> list[str]:
        if not self.path.exists():
            return []
        # A byte that is not UTF-8 only damages its own line, which the flush then sets aside.
        text = self.path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()]

    def _rewrite(self, lines: list[str]) -> None:
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    def pending(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, record: StoredRecord) -> None:
        with self._locked():
            self._append_line(self.path, to_line(record))

    def reject(self, record: StoredRecord) -> None:
        """Keep a record the database refused (called during a flush, so without taking the lock)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._append_line(self.rejected_path, to_line(record))

    def records(self) -> list[StoredRecord]:
        """The readable waiting records, oldest first."""
        if not self.pending():
            return []
        with self._locked():
            lines = self._lines()
        return [record for record in map(_read, lines) if record is not None]

    def flush(self, apply: Callable[[StoredRecord], None]) -> int:
        """Apply waiting records in order and drop each once applied.

        If `apply` raises, the record and everything after it stay spooled and the error propagates
        (the database went away again); `apply` itself decides which records to reject.
        """
        if not self.pending():
            return 0
        with self._locked():
            lines = self._lines()
            done = 0
            try:
                for line in lines:
                    record = _read(line)
                    if record is None:
                        logger.error("damaged spool line moved to %s", self.rejected_path)
                        self._append_line(self.rejected_path, line)
                    else:
                        apply(record)
                    done += 1
            finally:
                self._rewrite(lines[done:])
        return done

    def discard(self, matches: Callable[[StoredRecord], bool]) -> int:
        """Drop the waiting records that `matches` (forget a sender); return how many."""
        if not self.pending():
            return 0
        with self._locked():
            lines = self._lines()
            kept = [line for line in lines if (record := _read(line)) is None or not matches(record)]
            self._rewrite(kept)
        return len(lines) - len(kept)
