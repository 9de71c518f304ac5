"""Single measurements on a running assistant: a journey edit going live, and the action call alone."""

from __future__ import annotations

import os
import re
import statistics
import time
from importlib.metadata import version
from pathlib import Path

import httpx

from bench.perf.stats import Summary, summarise

GREETING = "hallo"
RELOAD_TIMEOUT_SECONDS = 60.0
_GREET_TEXT = re.compile(r'^(\s*(?:-\s+|text:\s+))"', re.M)


def mark_greeting(common_yml: Path, marker: str) -> None:
    """Put `marker` in front of every phrasing of the greeting, saved as an editor saves (atomic)."""
    text = common_yml.read_text(encoding="utf-8")
    start = text.index("\n  greet:\n") + 1
    end = re.compile(r"^  \S", re.M).search(text, start + len("  greet:\n"))
    stop = end.start() if end else len(text)
    block = _GREET_TEXT.sub(lambda m: f'{m.group(1)}"{marker} ', text[start:stop])
    temporary = common_yml.with_suffix(".yml.saving")
    temporary.write_text(text[:start] + block + text[stop:], encoding="utf-8")
    os.replace(temporary, common_yml)


def _shows(replies: list[dict], marker: str) -> bool:
    return any(marker in str(reply.get("text", "")) for reply in replies)


def edit_to_reply(webhook: str, journeys: Path, repeats: int) -> dict[str, object]:
    """Seconds from saving a greeting edit to the first reply that shows it (a new visitor each try)."""
    seconds: list[float] = []
    tries: list[int] = []
    with httpx.Client(timeout=30) as http:
        for repeat in range(repeats):
            marker = f"[bench-{repeat}-{time.time_ns() % 10**9}]"
            mark_greeting(journeys / "common.yml", marker)
            saved = time.perf_counter()
            attempt = 0
            while time.perf_counter() - saved < RELOAD_TIMEOUT_SECONDS:
                attempt += 1
                body = {"sender": f"bench-reload-{repeat}-{attempt}", "message": GREETING}
                response = http.post(webhook, json=body)
                if response.status_code == 200 and _shows(response.json(), marker):
                    seconds.append(time.perf_counter() - saved)
                    tries.append(attempt)
                    break
            else:
                raise RuntimeError(f"a journey edit did not show within {RELOAD_TIMEOUT_SECONDS:.0f}s")
    return {
        "repeats": repeats,
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "messages_until_shown": tries,
    }


def action_call(rasa_url: str, token: str, action_url: str, action_token: str, calls: int) -> Summary:
    """The action server alone: POST /webhook with a real tracker, as Rasa sends it, `calls` times.

    The tracker is one conversation's after a question; every call runs action_journey_reply on it
    (so it writes a touchpoint turn, as in the benchmark proper).
    """
    sender = "bench-action-call"
    latencies: list[float] = []
    errors = 0
    with httpx.Client(timeout=30) as http:
        webhook = f"{rasa_url}/webhooks/rest/webhook"
        http.post(webhook, json={"sender": sender, "message": "wat kost een warmtepomp"}).raise_for_status()
        params = {"token": token}
        tracker = http.get(f"{rasa_url}/conversations/{sender}/tracker", params=params).json()
        domain = http.get(f"{rasa_url}/domain", params=params, headers={"Accept": "application/json"}).json()
        body = {
            "next_action": "action_journey_reply",
            "sender_id": sender,
            "tracker": tracker,
            "domain": domain,
            "version": version("rasa"),
        }
        headers = {"Authorization": f"Bearer {action_token}"}
        for _ in range(calls):
            started = time.perf_counter()
            response = http.post(f"{action_url}/webhook", json=body, headers=headers)
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
    return summarise(latencies, errors)
