"""The assistant end to end over REST: both servers running, phases in the tracker, bad input survived."""

from __future__ import annotations

import uuid

import pytest

from bot.content import ContentRepository
from bot.settings import PROJECT_ROOT
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def texts(replies: list[dict[str, object]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


@pytest.mark.parametrize(
    ("message", "phase"),
    [
        ("Hoeveel kan ik besparen met zonnepanelen op mijn dak?", "orientation"),
        ("Ik wil graag een offerte voor een warmtepomp", "decision"),
        ("Wanneer komt de monteur de panelen installeren?", "delivery"),
        ("mijn omvormer geeft een storing, rood lampje", "aftercare"),
    ],
)
def test_a_dutch_question_gets_phase_content_and_the_tracker_holds_the_phase(
    running_bot: RunningBot, message: str, phase: str
) -> None:
    sender = new_sender()
    replies = running_bot.say(sender, message)
    assert replies, "the assistant must answer"
    assert all(reply.get("recipient_id") == sender for reply in replies)
    assert texts(replies).strip()
    assert running_bot.slot(sender, "journey_phase") == phase


def test_a_message_without_phase_signal_keeps_the_phase(running_bot: RunningBot) -> None:
    sender = new_sender()
    running_bot.say(sender, "Is mijn dak wel geschikt voor zonnepanelen? Het ligt op het oosten")
    assert running_bot.slot(sender, "journey_phase") == "orientation"
    for message in ("ja", "ok", "hallo"):
        assert running_bot.say(sender, message), f"no answer to {message!r}"
        assert running_bot.slot(sender, "journey_phase") == "orientation", message


def test_suggested_buttons_lead_to_the_next_phase(running_bot: RunningBot) -> None:
    sender = new_sender()
    replies = running_bot.say(sender, "wat levert een thuisbatterij eigenlijk op per jaar?")
    buttons = [button for reply in replies for button in reply.get("buttons", [])]  # type: ignore[union-attr]
    assert buttons, "orientation content suggests a next step"
    payload = str(buttons[0]["payload"])
    book = ContentRepository(running_bot.journeys_dir, PROJECT_ROOT / "domain.yml").current()
    target = payload.removeprefix("/").split("{", 1)[0]
    target_phase = book.phase_of(target)
    assert target_phase is not None, f"the button {payload} names a topic with content"

    tapped = running_bot.say(sender, payload)

    assert texts(tapped).strip() and texts(tapped) != texts(replies), "the tap is answered with new content"
    tracker = running_bot.tracker(sender)
    latest = tracker["latest_message"]
    assert isinstance(latest, dict) and latest["intent"]["name"] == target, "the payload is read as its topic"
    assert running_bot.slot(sender, "journey_phase") == target_phase


@pytest.mark.parametrize(
    "message",
    [
        "a" * 10_000,
        "😀😀🙈🔥",
        "<script>alert('x')</script><b>hallo</b>",
        "'; DROP TABLE events; --",
        "SELECT * FROM touchpoints WHERE 1=1",
    ],
    ids=[
        "10k-chars",
        "emoji",
        "html",
        "sql-drop",
        "sql-select",
    ],  # an empty message is a 400: test_edge_bad_input
)
def test_bad_input_gets_an_answer_and_no_markup_echo(running_bot: RunningBot, message: str) -> None:
    sender = new_sender()
    replies = running_bot.say(sender, message)
    assert replies, "bad input still gets a (fallback) answer"
    assert "<script" not in texts(replies)
    assert "<b>" not in texts(replies)
    # The conversation goes on afterwards.
    assert running_bot.say(sender, "hallo")
