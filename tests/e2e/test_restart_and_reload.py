"""Conversations survive a restart; journey edits go live without one, and broken edits never do."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from bot.devserver import Ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from tests.conftest import RunningBot, free_port, stack_env

pytestmark = pytest.mark.e2e


def test_a_conversation_survives_a_restart(tmp_path: Path) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    env = stack_env(tmp_path)
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path / "logs"
    for run in range(2):
        ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
        with running_stack(ports, env, model=model, log_dir=log_dir) as stack:
            if run == 0:
                httpx.post(
                    f"{stack.rasa_url}/webhooks/rest/webhook",
                    json={"sender": sender, "message": "Wanneer komt de monteur de warmtepomp installeren?"},
                    timeout=30,
                ).raise_for_status()
                continue
            tracker = httpx.get(
                f"{stack.rasa_url}/conversations/{sender}/tracker",
                params={"token": env["RASA_AUTH_TOKEN"]},
                timeout=30,
            ).json()
    user_texts = [event.get("text") for event in tracker["events"] if event["event"] == "user"]
    assert "Wanneer komt de monteur de warmtepomp installeren?" in user_texts
    assert tracker["slots"]["journey_phase"] == "delivery"


def replace_in_journey(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not found in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def replies_over_turns(bot: RunningBot, message: str, turns: int = 4) -> set[str]:
    """One visitor asks again and again, so every phrasing in the rotation comes by."""
    sender = f"reload-{uuid.uuid4().hex[:8]}"
    return {" ".join(str(reply.get("text", "")) for reply in bot.say(sender, message)) for _ in range(turns)}


def test_a_journey_edit_is_live_within_seconds_and_a_broken_one_never(running_bot: RunningBot) -> None:
    journey = running_bot.journeys_dir / "common.yml"
    original = journey.read_text(encoding="utf-8")
    assert all(replies_over_turns(running_bot, "ben jij een robot?"))
    marker = f"Hot reload werkt {uuid.uuid4().hex[:6]}."
    try:
        lines = original.splitlines()
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("bot_challenge:"))
        phrasing = next(
            i for i in range(start, len(lines)) if lines[i].lstrip().startswith("- ") and '"' in lines[i]
        )
        indent = lines[phrasing][: len(lines[phrasing]) - len(lines[phrasing].lstrip())]
        edited = [*lines[:phrasing], f'{indent}- "{marker}"', *lines[phrasing + 1 :]]
        journey.write_text("\n".join(edited) + "\n", encoding="utf-8")
        time.sleep(1.1)  # mtime granularity on some filesystems
        # Loaded in the background: live within seconds, while the old version answers meanwhile.
        deadline = time.monotonic() + 60
        seen = replies_over_turns(running_bot, "ben jij een robot?")
        while not any(marker in text for text in seen) and time.monotonic() < deadline:
            time.sleep(1)
            seen = replies_over_turns(running_bot, "ben jij een robot?")
        assert any(marker in text for text in seen), seen

        journey.write_text(journey.read_text(encoding="utf-8") + "\n  bad: [unclosed\n", encoding="utf-8")
        time.sleep(1.1)
        after_broken = replies_over_turns(running_bot, "ben jij een robot?")
        assert any(marker in text for text in after_broken), "the last good version keeps answering"
    finally:
        journey.write_text(original, encoding="utf-8")
