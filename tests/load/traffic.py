"""Concurrent conversations over REST, and what the touchpoint store holds afterwards.

Each conversation sends its messages one after the other (a visitor waits for the answer);
conversations run side by side. Every message below leads to exactly one journey action and so
to exactly one turn: no closing message (no NPS form) and no request for a person (no callback
form), so the expected numbers are exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
from sqlalchemy import create_engine, text

MESSAGES = (
    "Hoeveel kan ik besparen met zonnepanelen?",
    "Wat kost een thuisbatterij ongeveer?",
    "Hoe werkt een warmtepomp eigenlijk?",
    "Is mijn dak wel geschikt voor zonnepanelen?",
    "Welke subsidie krijg ik voor een warmtepomp?",
    "Hoe lang duurt het installeren van de panelen?",
    "Kan ik de thuisbatterij in termijnen betalen?",
    "ben jij een robot?",
)


@dataclass
class Outcome:
    """What one conversation got back: per message its replies' texts, or the error."""

    sender: str
    replies: list[list[str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)


def say(client: httpx.Client, url: str, sender: str, message: str) -> list[str]:
    response = client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message})
    response.raise_for_status()
    return [str(reply.get("text", "")) for reply in response.json()]


def run_conversations(
    urls: Sequence[str],
    senders: Sequence[str],
    messages: Sequence[str] = MESSAGES,
    *,
    concurrency: int,
    after_reply: Callable[[int], None] | None = None,
    timeout: float = 60.0,
) -> list[Outcome]:
    """Every sender sends every message in order; message i goes to urls[i % len(urls)].

    `after_reply(n)` is called with the running count of answered messages (to inject a fault).
    """
    count = 0
    lock = threading.Lock()

    def converse(sender: str) -> Outcome:
        nonlocal count
        outcome = Outcome(sender)
        with httpx.Client(timeout=timeout) as client:
            for number, message in enumerate(messages):
                try:
                    outcome.replies.append(say(client, urls[number % len(urls)], sender, message))
                    outcome.answered_at.append(time.monotonic())
                except httpx.HTTPError as error:
                    outcome.errors.append(f"{sender} message {number}: {type(error).__name__} {error}")
                    outcome.replies.append([])
                with lock:
                    count += 1
                    done = count
                if after_reply is not None:
                    after_reply(done)
        return outcome

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(converse, senders))


def store_counts(database_url: str) -> tuple[int, int]:
    """(touchpoints, turns) in the touchpoint store."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            touchpoints = connection.execute(text("SELECT count(*) FROM touchpoints")).scalar_one()
            turns = connection.execute(text("SELECT count(*) FROM turns")).scalar_one()
        return int(touchpoints), int(turns)
    finally:
        engine.dispose()


def turn_texts_per_touchpoint(database_url: str) -> list[list[str]]:
    """Each touchpoint's turn texts in the order they were recorded (by time, then id)."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT touchpoint_id, text FROM turns ORDER BY touchpoint_id, at, id")
            ).all()
    finally:
        engine.dispose()
    grouped: dict[int, list[str]] = {}
    for touchpoint_id, said in rows:
        grouped.setdefault(int(touchpoint_id), []).append(str(said))
    return list(grouped.values())


def wait_for_counts(database_url: str, expected: tuple[int, int], timeout: float = 60.0) -> tuple[int, int]:
    """Poll until the store holds `expected` (spooled records are written in the background)."""
    deadline = time.monotonic() + timeout
    counts = store_counts(database_url)
    while counts != expected and time.monotonic() < deadline:
        time.sleep(1.0)
        counts = store_counts(database_url)
    return counts
