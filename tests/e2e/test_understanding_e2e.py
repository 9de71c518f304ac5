"""Understanding end to end over REST: the trained model, the phase classifier and the journey rules.

Hand-written messages in the styles of the blind set (never copied from it): each checks what a
visitor sees (the reply) and what the assistant remembers (the tracker's slots).
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"understand-{uuid.uuid4().hex[:10]}"


def text_of(replies: list[dict[str, object]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies).lower()


def test_a_battery_savings_question_is_answered_about_the_battery(running_bot: RunningBot) -> None:
    who = sender()
    replies = running_bot.say(who, "Hoeveel kan ik besparen met een thuisbatterij?")
    assert "batterij" in text_of(replies)
    assert running_bot.slot(who, "product") == "thuisbatterij"


def test_a_follow_up_keeps_the_product_and_the_journey_moves_on(running_bot: RunningBot) -> None:
    who = sender()
    running_bot.say(who, "hoe werkt zo'n warmtepomp eigenlijk, ik snap er niks van")
    assert running_bot.slot(who, "journey_phase") == "orientation"
    replies = running_bot.say(who, "en wat kost dat?")
    assert running_bot.slot(who, "product") == "warmtepomp"
    assert running_bot.slot(who, "journey_phase") == "consideration"
    assert "warmtepomp" in text_of(replies)


def test_a_persona_statement_with_a_wish_is_answered_and_the_persona_kept(running_bot: RunningBot) -> None:
    who = sender()
    replies = running_bot.say(
        who, "Ik ben voorzitter van een VvE met 36 appartementen. We willen zonnepanelen op het platte dak."
    )
    assert running_bot.slot(who, "persona") == "vve_board"
    assert running_bot.slot(who, "journey_phase") is not None
    assert "dak" in text_of(replies)


def test_a_wrong_invoice_after_installation_is_aftercare(running_bot: RunningBot) -> None:
    who = sender()
    running_bot.say(who, "er staat een verkeerd bedrag op de eindfactuur van de installatie van vorige maand")
    assert running_bot.slot(who, "journey_phase") == "aftercare"


def test_a_formal_message_is_answered_formally(running_bot: RunningBot) -> None:
    who = sender()
    replies = running_bot.say(
        who, "Geachte heer/mevrouw, kunt u mij uitleggen hoe een hybride warmtepomp werkt?"
    )
    words = set(text_of(replies).replace(",", " ").replace(".", " ").replace("?", " ").split())
    assert running_bot.slot(who, "address") == "formal"
    assert {"u", "uw"} & words and not {"je", "jij", "jouw"} & words


@pytest.mark.parametrize("message", ["asdfgh qwerty", "🙂", "warmtepomp"])
def test_no_phase_from_a_message_without_a_situation(running_bot: RunningBot, message: str) -> None:
    who = sender()
    replies = running_bot.say(who, message)
    assert replies and text_of(replies).strip()
    assert running_bot.slot(who, "journey_phase") is None


def test_a_visitor_can_move_back_in_the_journey(running_bot: RunningBot) -> None:
    who = sender()
    running_bot.say(who, "Ik wil graag een offerte voor zonnepanelen op mijn rijtjeshuis")
    assert running_bot.slot(who, "journey_phase") == "decision"
    replies = running_bot.say(who, "wacht even, ik snap eigenlijk nog niet goed hoe zonnepanelen werken")
    assert running_bot.slot(who, "journey_phase") == "orientation"
    assert running_bot.slot(who, "product") == "zonnepanelen"
    assert "zonnepanel" in text_of(replies) or "panel" in text_of(replies)
