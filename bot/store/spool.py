"""The spool: JSON lines that wait on disk while the database is unreachable, so no record is lost.

Lines hold prepared records only (pseudonymised sender, masked text). Two file locks: a short one
around every read, append and rewrite (writers across threads and worker processes never lose a
line), and a flush lock held while records go to the database, which nobody waits for: a writer
that finds a flush under way spools its record and the flusher takes it along. A line that the
database refuses for good (or that is damaged) moves to the rejected file for a person to look
at, instead of blocking the rest; `replay` tries those again (`journey spool replay`).
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.store.records import StoredRecord, from_line, to_line

logger = logging.getLogger(__name__)

# One flush takes along what arrives meanwhile, but not forever.
MAX_FLUSH_ROUNDS = 20


def _read(line: str) -> StoredRecord | None:
    """The record on a line, or None when the line is damaged (a crash mid-write, a hand edit)."""
    try:
        return from_line(line)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class Replayed:
    """What a replay of the rejected file did."""

    stored: int
    refused: int
    damaged: int


class Spool:
    """touchpoints.jsonl (waiting), touchpoints.rejected.jsonl (refused) and two lock files in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "touchpoints.jsonl"
        self.rejected_path = directory / "touchpoints.rejected.jsonl"
        self._lock_path = directory / "touchpoints.lock"
        self._flush_lock_path = directory / "touchpoints.flush.lock"

    @contextmanager
    def _file_lock(self, path: Path, *, wait: bool = True) -> Iterator[bool]:
        """Hold an exclusive lock on `path`; without `wait`, yield False at once when someone holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _locked(self) -> AbstractContextManager[bool]:
        return self._file_lock(self._lock_path)

    @staticmethod
    def _append_line(path: Path, line: str) -> None:
        """One O_APPEND write per line, synced: concurrent writers never interleave inside a line."""
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, (line.rstrip("\n") + "\n").encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    @staticmethod
    def _lines(path: Path) -> list[str]:
        if not path.exists():
            return []
        # A byte that is not UTF-8 only damages its own line, which the flush then sets aside.
        text = path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if line.strip()]

    @staticmethod
    def _rewrite(path: Path, lines: list[str]) -> None:
        temporary = path.with_name(path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)

    def _drop_first(self, path: Path, count: int) -> None:
        """Remove the first `count` lines; lines appended meanwhile stay (appends only add at the end)."""
        if count:
            with self._locked():
                self._rewrite(path, self._lines(path)[count:])

    def pending(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, record: StoredRecord) -> None:
        with self._locked():
            self._append_line(self.path, to_line(record))

    def reject(self, record: StoredRecord) -> None:
        """Keep a record the database refused."""
        with self._locked():
            self._append_line(self.rejected_path, to_line(record))

    def records(self) -> list[StoredRecord]:
        """The readable waiting records, oldest first."""
        if not self.pending():
            return []
        with self._locked():
            lines = self._lines(self.path)
        return [record for record in map(_read, lines) if record is not None]

    def flush(self, apply: Callable[[StoredRecord], None]) -> int | None:
        """Apply waiting records in order and drop each once applied; None when another flush runs.

        If `apply` raises, the record and everything after it stay spooled and the error propagates
        (the database went away again); `apply` itself decides which records to reject.
        """
        if not self.pending():
            return 0
        with self._file_lock(self._flush_lock_path, wait=False) as mine:
            if not mine:
                return None
            flushed = 0
            for _ in range(MAX_FLUSH_ROUNDS):
                with self._locked():
                    lines = self._lines(self.path)
                if not lines:
                    break
                done = 0
                try:
                    for line in lines:
                        record = _read(line)
                        if record is None:
                            logger.error("damaged spool line moved to %s", self.rejected_path)
                            with self._locked():
                                self._append_line(self.rejected_path, line)
                        else:
                            apply(record)
                        done += 1
                finally:
                    self._drop_first(self.path, done)
                    flushed += done
            return flushed

    def replay(self, apply: Callable[[StoredRecord], bool]) -> Replayed:
        """Try every rejected record again; `apply` says whether it was stored (it raises if unreachable).

        Stored records leave the file; refused ones stay; a damaged line is skipped with a log line
        (and stays, for a person to look at). If `apply` raises, nothing not yet stored is lost.
        """
        stored = refused = damaged = 0
        with self._file_lock(self._flush_lock_path):
            with self._locked():
                lines = self._lines(self.rejected_path)
            kept: list[str] = []
            try:
                for number, line in enumerate(lines, start=1):
                    record = _read(line)
                    if record is None:
                        logger.error("%s line %d is damaged: skipped", self.rejected_path.name, number)
                        damaged += 1
                        kept.append(line)
                    elif apply(record):
                        stored += 1
                    else:
                        refused += 1
                        kept.append(line)
            finally:
                untouched = lines[stored + refused + damaged :]
                with self._locked():
                    added = self._lines(self.rejected_path)[len(lines) :]
                    self._rewrite(self.rejected_path, [*kept, *untouched, *added])
        return Replayed(stored=stored, refused=refused, damaged=damaged)

    def _discard_in(self, path: Path, drop: Callable[[StoredRecord | None], bool]) -> int:
        with self._locked():
            lines = self._lines(path)
            kept = [line for line in lines if not drop(_read(line))]
            if len(kept) != len(lines):
                self._rewrite(path, kept)
        return len(lines) - len(kept)

    def discard(self, matches: Callable[[StoredRecord], bool]) -> int:
        """Drop the waiting and rejected records that `matches` (forget a sender); return how many."""
        with self._file_lock(self._flush_lock_path):
            return sum(
                self._discard_in(path, lambda record: record is not None and matches(record))
                for path in (self.path, self.rejected_path)
            )

    def purge(self, cutoff: datetime) -> int:
        """Drop records from before `cutoff` in both files, and rejected lines too damaged to date."""
        with self._file_lock(self._flush_lock_path):
            waiting = self._discard_in(self.path, lambda record: record is not None and record.at < cutoff)
            rejected = self._discard_in(
                self.rejected_path, lambda record: record is None or record.at < cutoff
            )
        return waiting + rejected
