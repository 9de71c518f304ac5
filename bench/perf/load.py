"""Load clients over REST (httpx, async): closed loop, open loop, and one conversation growing.

A message counts as answered when the webhook returns 200 with at least one reply; anything else
(status, empty reply, timeout, connection error) is an error. Latency is measured by the client,
from sending the request to having the whole response.

Every client takes one webhook URL or a sequence of them (the Rasa servers of the scale-out
profile); `url_for` says which server gets a conversation, and why it is done that way.
"""

from __future__ import annotations

import asyncio
import random
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from bench.perf.stats import Summary, summarise

REQUEST_TIMEOUT_SECONDS = 60.0
MAX_IN_FLIGHT = 1000

Urls = str | Sequence[str]  # one webhook, or one per Rasa server


def url_for(urls: Urls, sender: str) -> str:
    """The webhook that serves conversation `sender`: the same one for all its messages.

    The client plays the load balancer of a real deployment, which keeps a conversation on one
    server (affinity): its messages then take turns in that server's queue per conversation
    (bot.channels.bursts) and its events stay in that server's read cache (bot.rasa_stores),
    instead of each server re-reading the session the other one wrote and a burst waiting on the
    Redis lock, which Rasa polls once a second. Without affinity the profile is still correct
    (tests/e2e/test_scale_out.py sends a conversation to both servers in turn), but that is not
    what is measured here. CRC-32 of the sender, not hash(): it is the same in every run and
    process (hash() of a str changes with PYTHONHASHSEED), so runs are comparable, and it spreads
    the benchmark's sender ids about evenly, so each server gets about half of the conversations.
    """
    if isinstance(urls, str):
        return urls
    if not urls:
        raise ValueError("no webhook URL to send to")
    return urls[zlib.crc32(sender.encode("utf-8")) % len(urls)]


def url_list(urls: Urls) -> list[str]:
    """`urls` as a list: one webhook URL, or every one of a sequence."""
    return [urls] if isinstance(urls, str) else list(urls)


@dataclass
class Recorder:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def client(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(REQUEST_TIMEOUT_SECONDS))


async def send(http: httpx.AsyncClient, url: str, sender: str, text: str, record: Recorder) -> list[dict]:
    """One message; its latency or its error goes into `record`. Returns the replies (or [])."""
    started = time.perf_counter()
    try:
        response = await http.post(url, json={"sender": sender, "message": text})
    except httpx.TimeoutException:
        record.error("timeout")
        return []
    except httpx.HTTPError as error:
        record.error(type(error).__name__)
        return []
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        record.error(f"HTTP {response.status_code}")
        return []
    replies = response.json()
    if not isinstance(replies, list) or not replies:
        record.error("empty reply")
        return []
    record.latencies.append(elapsed)
    return replies


async def closed_loop(
    url: Urls,
    messages: Sequence[str],
    *,
    clients: int,
    seconds: float,
    conversation_length: int,
    tag: str,
    error_kinds: dict[str, int] | None = None,
) -> Summary:
    """`clients` visitors, each sending its next message as soon as the last is answered, for `seconds`.

    Each visitor starts a new conversation every `conversation_length` messages, so this measures
    ordinary website chats, not one endless conversation (that is what `growth` measures). The
    errors by kind go into `error_kinds` when given (the Summary only counts them).
    """
    record = Recorder()
    stop_at = time.monotonic() + seconds

    async def visitor(number: int, http: httpx.AsyncClient) -> None:
        sent = 0
        while time.monotonic() < stop_at:
            sender = f"{tag}-c{clients}-v{number}-{sent // conversation_length}"
            text = messages[(number * 7 + sent) % len(messages)]
            await send(http, url_for(url, sender), sender, text, record)
            sent += 1

    async with client(clients) as http:
        started = time.monotonic()
        await asyncio.gather(*(visitor(number, http) for number in range(clients)))
        elapsed = time.monotonic() - started
    if error_kinds is not None:
        error_kinds.update(record.error_kinds)
    return summarise(record.latencies, record.errors, elapsed)


async def open_loop(
    url: Urls,
    messages: Sequence[str],
    *,
    rate: float,
    seconds: float,
    conversations: int,
    seed: int,
    tag: str,
) -> tuple[Summary, dict[str, int]]:
    """Messages arriving at random (Poisson, `rate` per second) on `conversations` conversations.

    Arrivals do not wait for answers (a busy website); a conversation's messages are sent in order.
    """
    rng = random.Random(seed)
    record = Recorder()
    progress = [0] * conversations
    in_flight: set[asyncio.Task[list[dict]]] = set()
    async with client(MAX_IN_FLIGHT) as http:
        started = time.monotonic()
        next_at = started
        while next_at < started + seconds:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            chosen = rng.randrange(conversations)
            text = messages[(chosen * 11 + progress[chosen]) % len(messages)]
            progress[chosen] += 1
            if len(in_flight) >= MAX_IN_FLIGHT:
                record.error("client saturated")
            else:
                sender = f"{tag}-open-{chosen}"
                task = asyncio.create_task(send(http, url_for(url, sender), sender, text, record))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            next_at += rng.expovariate(rate)
        if in_flight:
            await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT_SECONDS + 5)
        elapsed = time.monotonic() - started
    return summarise(record.latencies, record.errors, elapsed), record.error_kinds


async def growth(
    url: Urls,
    messages: Sequence[str],
    probe: str,
    *,
    conversations: int,
    length: int,
    marks: Sequence[int],
    tag: str,
) -> dict[int, Summary]:
    """Conversations of `length` messages, one message at a time; the probe is sent at each mark.

    The same probe text at every mark, so only the conversation's length differs between them.
    """
    at_mark: dict[int, Recorder] = {mark: Recorder() for mark in marks}
    async with client(2) as http:
        for number in range(conversations):
            sender = f"{tag}-growth-{number}"
            for position in range(1, length + 1):
                recorder = at_mark.get(position, Recorder())
                text = probe if position in at_mark else messages[(number * 13 + position) % len(messages)]
                await send(http, url_for(url, sender), sender, text, recorder)
    return {mark: summarise(r.latencies, r.errors) for mark, r in at_mark.items()}


async def warm_up(url: Urls, messages: Sequence[str], count: int, tag: str) -> None:
    """A few messages first, so lazy loading (TensorFlow graphs, content, connections) is not measured.

    `count` messages to every server, each its own conversations: hashing the few warm-up senders
    could leave one server cold.
    """
    record = Recorder()
    async with client(2) as http:
        for index, webhook in enumerate(url_list(url)):
            server = f"-s{index + 1}" if index else ""
            for number in range(count):
                text = messages[number % len(messages)]
                await send(http, webhook, f"{tag}-warmup{server}-{number // 4}", text, record)
