"""Over REST: the NPS question is asked only when due, and the form lets questions out (issue 9, item 2)."""

from __future__ import annotations

import uuid

import pytest

from bot.privacy import pseudonymise
from tests.conftest import RunningBot
from tests.e2e.test_touchpoints_and_nps import touchpoint_rows

pytestmark = pytest.mark.e2e

NPS_WORDS = ("aanbeveelt", "0-10", "0 tot 10")


def said(replies: list[dict[str, object]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def asks_nps(replies: list[dict[str, object]]) -> bool:
    return any(word in said(replies) for word in NPS_WORDS)


def active_loop(bot: RunningBot, sender: str) -> object:
    loop = bot.tracker(sender).get("active_loop")
    return loop.get("name") if isinstance(loop, dict) else loop


def nps_question_open(bot: RunningBot) -> str:
    """A malfunction conversation closed with thanks: the NPS question is open."""
    sender = f"nps-exit-{uuid.uuid4().hex[:10]}"
    bot.say(sender, "mijn omvormer geeft een foutcode en de panelen leveren niks meer")
    assert asks_nps(bot.say(sender, "bedankt, dat was het"))
    assert active_loop(bot, sender) == "nps_form"
    return sender


def test_a_postcode_and_house_number_are_not_thanked_as_a_score(running_bot: RunningBot) -> None:
    sender = f"nps-postcode-{uuid.uuid4().hex[:10]}"
    replies = running_bot.say(sender, "Mijn postcode is 3512 AB, huisnummer 14")
    assert replies
    assert "cijfer" not in said(replies) and "beoordeling" not in said(replies), said(replies)
    assert running_bot.slot(sender, "nps_score") is None


def test_a_question_in_a_malfunction_conversation_is_answered_not_met_with_the_nps_question(
    running_bot: RunningBot,
) -> None:
    sender = f"nps-question-{uuid.uuid4().hex[:10]}"
    running_bot.say(sender, "mijn omvormer geeft een storing, rood lampje")
    replies = running_bot.say(sender, "Hoe meld ik dat aan?")
    assert replies and not asks_nps(replies), said(replies)
    assert active_loop(running_bot, sender) is None


def test_a_question_leaves_the_form_and_the_form_comes_back_once(running_bot: RunningBot) -> None:
    sender = nps_question_open(running_bot)

    first = running_bot.say(sender, "Hoe meld ik dat aan?")
    assert len(first) >= 2, "the question is answered, then the NPS question comes back"
    assert not asks_nps(first[:1]), said(first)
    assert asks_nps(first[-1:]), said(first)
    assert running_bot.slot(sender, "nps_score") is None
    assert active_loop(running_bot, sender) == "nps_form"

    second = running_bot.say(sender, "En kan ik iemand spreken?")
    assert second and not asks_nps(second), said(second)
    assert active_loop(running_bot, sender) == "handoff_form"  # a person asked for: the callback form
    assert running_bot.slot(sender, "nps_due") is False
    running_bot.say(sender, "laat maar")
    assert active_loop(running_bot, sender) is None

    # The NPS form is gone: a later number is not read as a score.
    running_bot.say(sender, "8")
    assert running_bot.slot(sender, "nps_score") is None


def test_after_coming_back_the_form_takes_the_score(running_bot: RunningBot) -> None:
    sender = nps_question_open(running_bot)
    running_bot.say(sender, "Hoe meld ik dat aan?")
    reply = running_bot.say(sender, "10 minuten gewacht aan de telefoon, een 5")
    assert reply and not asks_nps(reply)
    # Score and reason in one answer complete the form: the score is stored with the touchpoint.
    key = pseudonymise(sender, running_bot.env["PSEUDONYM_KEY"])
    touchpoint, _ = touchpoint_rows(running_bot.database_url, key)
    assert touchpoint["nps_score"] == 5
