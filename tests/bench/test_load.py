"""The load clients send each conversation to one server, spread conversations over the servers, and
behave as before with one URL (requests answered by an in-process fake, no server started)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict

import httpx
import pytest

from bench.perf import load
from bench.perf.load import closed_loop, growth, open_loop, url_for, url_list, warm_up

URLS = ("http://a.test/webhooks/rest/webhook", "http://b.test/webhooks/rest/webhook")


class FakeServers:
    """Answers every webhook with one reply and records which server got which sender."""

    def __init__(self) -> None:
        self.seen: dict[str, set[str]] = defaultdict(set)  # sender -> hosts
        self.per_host: Counter[str] = Counter()

    def handle(self, request: httpx.Request) -> httpx.Response:
        sender = json.loads(request.content)["sender"]
        self.seen[sender].add(request.url.host)
        self.per_host[request.url.host] += 1
        return httpx.Response(200, json=[{"recipient_id": sender, "text": "ok"}])


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> FakeServers:
    fake = FakeServers()

    def client(connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(fake.handle))

    monkeypatch.setattr(load, "client", client)
    return fake


def test_url_for_is_stable_per_sender_and_leaves_one_url_alone() -> None:
    assert url_for(URLS[0], "anyone") == URLS[0]
    assert url_for([URLS[1]], "anyone") == URLS[1]
    for sender in ("assistant-scaled-c10-v3-0", "x", "ümlaut-7"):
        chosen = {url_for(URLS, sender) for _ in range(5)}
        assert len(chosen) == 1 and chosen <= set(URLS)
        assert url_for(list(URLS), sender) == url_for(URLS, sender)  # tuple or list: the same choice
    assert url_list(URLS[0]) == [URLS[0]] and url_list(URLS) == list(URLS)
    with pytest.raises(ValueError):
        url_for([], "x")


def test_url_for_gives_each_server_about_half_of_the_conversations() -> None:
    for senders in (
        [f"assistant-scaled-open-{n}" for n in range(200)],
        [f"assistant-scaled-c50-v{v}-{k}" for v in range(50) for k in range(4)],
        [f"scale-{n:04x}" for n in range(1000)],
    ):
        shares = Counter(url_for(URLS, sender) for sender in senders)
        assert set(shares) == set(URLS)
        assert all(0.4 <= count / len(senders) <= 0.6 for count in shares.values()), shares


def test_closed_loop_keeps_each_conversation_on_one_server(servers: FakeServers) -> None:
    summary = asyncio.run(
        closed_loop(URLS, ["hallo"], clients=10, seconds=0.2, conversation_length=3, tag="t")
    )
    assert summary.count > 20 and summary.errors == 0
    assert all(len(hosts) == 1 for hosts in servers.seen.values())
    assert set(servers.per_host) == {"a.test", "b.test"}
    for sender, hosts in servers.seen.items():
        assert hosts == {httpx.URL(url_for(URLS, sender)).host}


def test_open_loop_and_growth_spread_conversations_the_same_way(servers: FakeServers) -> None:
    summary, kinds = asyncio.run(
        open_loop(URLS, ["hallo"], rate=200, seconds=0.3, conversations=20, seed=1, tag="t")
    )
    assert summary.errors == 0 and kinds == {}
    marks = asyncio.run(growth(URLS, ["hallo"], "probe", conversations=4, length=3, marks=(1, 3), tag="t"))
    assert all(s.count == 4 for s in marks.values())
    assert all(len(hosts) == 1 for hosts in servers.seen.values())
    assert set(servers.per_host) == {"a.test", "b.test"}


def test_warm_up_reaches_every_server_and_one_url_keeps_its_senders(servers: FakeServers) -> None:
    asyncio.run(warm_up(URLS, ["hallo"], 8, "t"))
    assert servers.per_host == {"a.test": 8, "b.test": 8}
    servers.seen.clear()
    asyncio.run(warm_up(URLS[0], ["hallo"], 8, "one"))
    assert sorted(servers.seen) == ["one-warmup-0", "one-warmup-1"]


def test_closed_loop_reports_errors_by_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    def client(connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(429)))

    monkeypatch.setattr(load, "client", client)
    kinds: dict[str, int] = {}
    summary = asyncio.run(
        closed_loop(
            URLS, ["hallo"], clients=2, seconds=0.1, conversation_length=8, tag="t", error_kinds=kinds
        )
    )
    assert summary.count == 0 and summary.errors > 0
    assert kinds == {"HTTP 429": summary.errors}
