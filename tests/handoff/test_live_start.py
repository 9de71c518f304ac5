"""The live handover's start in the action server: who gets a colleague, what Chatwoot receives, and
what happens outside office hours, on REST, or with Chatwoot down (the callback form instead)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import runtime
from actions.handoff import sealer
from bot.handoff.live import SLOT, unseal
from tests.handoff.driver import FormDriver, texts_of
from tests.handoff.fake_chatwoot import FakeChatwoot
from tests.handoff.live_support import content_dir, use_chatwoot
from tests.handoff.test_form_actions import _touchpoints

ASK = "ik wil een medewerker spreken"


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot() as fake:
        yield fake


@pytest.fixture
def open_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chatwoot: FakeChatwoot) -> FakeChatwoot:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=True)))
    use_chatwoot(monkeypatch, chatwoot.url)
    return chatwoot


def test_a_web_visitor_who_asks_for_a_person_gets_a_colleague_in_chatwoot(open_now: FakeChatwoot) -> None:
    driver = FormDriver(channel="socketio", sender="web:abc123", earlier_intents=("malfunction",))
    driver.events.append(
        {"event": "bot", "text": "Bel gerust 020-1234567 of mail jan@example.com", "timestamp": 1}
    )
    driver.events.append({"event": "user", "text": "mijn nummer is 0612345678", "timestamp": 2})
    said = texts_of(driver.start(ASK))
    assert any("collega" in text and "verder typen" in text for text in said), said
    assert not any("Hoe mogen we je noemen" in text for text in said), "no callback form"
    conversation = open_now.only_conversation()
    assert conversation.custom_attributes == {"rasa_conversation": "web:abc123", "channel": "web"}
    note, request = conversation.messages
    assert note["private"] is True and note["message_type"] == "outgoing"
    assert "Klant: vraag over malfunction" in note["content"]
    assert "0612345678" not in note["content"] and "jan@example.com" not in note["content"]
    assert "[telefoon]" in note["content"]
    assert (request["message_type"], request["private"], request["content"]) == ("incoming", False, ASK)
    handover = unseal(sealer(), driver.slots[SLOT])
    assert handover is not None and handover.chatwoot_conversation == conversation.id
    assert (handover.channel, handover.phone) == ("web", None)
    assert [tp["outcome"] for tp in _touchpoints()] == ["handoff"]


def test_on_whatsapp_the_number_is_kept_sealed_for_the_colleagues_replies(open_now: FakeChatwoot) -> None:
    driver = FormDriver(channel="whatsapp", sender="whatsapp:hashed", phone="+31612345678")
    driver.start(ASK)
    value = driver.slots[SLOT]
    assert "31612345678" not in json.dumps(value)
    handover = unseal(sealer(), value)
    assert handover is not None and (handover.channel, handover.phone) == ("whatsapp", "+31612345678")
    [contact] = open_now.contacts.values()
    assert contact["phone_number"] == "+31612345678" and contact["identifier"].startswith("bezoeker-")
    assert "whatsapp:hashed" not in contact["identifier"]


def test_the_same_visitor_is_the_same_contact_next_time(open_now: FakeChatwoot) -> None:
    for _ in range(2):
        FormDriver(channel="socketio", sender="web:again").start(ASK)
    assert len(open_now.contacts) == 1 and len(open_now.conversations) == 2
    assert ("GET", "/api/v1/accounts/7/contacts/search", 200) in open_now.requests


@pytest.mark.parametrize("channel", ["rest", "twilio"])
def test_rest_and_sms_visitors_get_the_callback_form(open_now: FakeChatwoot, channel: str) -> None:
    driver = FormDriver(channel=channel, phone="+31612345678")
    said = texts_of(driver.start(ASK))
    assert "Hoe mogen we je noemen" in said[-1]
    assert open_now.requests == [] and driver.slots.get(SLOT) is None


def test_a_detractors_yes_to_a_call_gets_the_callback_form(open_now: FakeChatwoot) -> None:
    driver = FormDriver(channel="socketio")
    driver.events.append({"event": "action", "name": "action_nps_submit", "timestamp": 1})
    driver.slots["handoff_offered"] = True
    said = texts_of(driver.start("ja", intent="affirm"))
    assert "Hoe mogen we je noemen" in said[-1] and open_now.requests == []


def test_outside_office_hours_the_callback_is_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chatwoot: FakeChatwoot
) -> None:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=False)))
    use_chatwoot(monkeypatch, chatwoot.url)
    driver = FormDriver(channel="socketio")
    said = texts_of(driver.start(ASK))
    assert "terugbelt" in said[-1] and "Hoe mogen we je noemen" in said[-1]
    assert chatwoot.requests == [] and driver.slots.get(SLOT) is None


def test_without_chatwoot_settings_the_callback_form_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=True)))
    monkeypatch.setenv("CHATWOOT_URL", "")
    runtime.reset()
    said = texts_of(FormDriver(channel="socketio").start(ASK))
    assert "Hoe mogen we je noemen" in said[-1]


@pytest.mark.parametrize("how", ["refused", "failing"])
def test_chatwoot_down_gives_a_clear_message_and_the_callback_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chatwoot: FakeChatwoot, how: str
) -> None:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=True)))
    if how == "refused":
        use_chatwoot(monkeypatch, "http://127.0.0.1:1")
    else:
        use_chatwoot(monkeypatch, chatwoot.url)
        chatwoot.failing = True
    driver = FormDriver(channel="socketio")
    said = texts_of(driver.start(ASK))
    assert "lukt me nu niet om je door te verbinden" in said[0]
    assert "Hoe mogen we je noemen" in said[-1] and driver.active
    assert driver.slots.get(SLOT) is None
    assert all(tp["outcome"] != "handoff" for tp in _touchpoints())


def test_a_bad_chatwoot_setting_leaves_the_handover_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=True)))
    use_chatwoot(monkeypatch, "http://127.0.0.1:1")
    monkeypatch.setenv("CHATWOOT_ACCOUNT_ID", "zeven")
    said = texts_of(FormDriver(channel="socketio").start(ASK))
    assert len(said) == 1 and "Hoe mogen we je noemen" in said[0], "no attempt, so no failure to report"


@pytest.mark.parametrize("request_text", ["/request_human", "kunnen jullie mij terugbellen?", "Bel me even"])
def test_a_tapped_bel_mij_terug_or_a_typed_call_request_gets_the_callback_form(
    open_now: FakeChatwoot, request_text: str
) -> None:
    driver = FormDriver(channel="socketio", sender="web:abc123")
    said = texts_of(driver.start(request_text))
    assert "Hoe mogen we je noemen" in said[-1] and "020-123 45 67" in said[-1]
    assert open_now.requests == [], "no live chat for someone who asked to be called"
