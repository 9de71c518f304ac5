"""The callback form's actions on every channel, with the shipped content and a real SQLite store."""

from __future__ import annotations

import io
import json
import re
from zoneinfo import ZoneInfo

import pytest

from actions import runtime
from actions.handoff import handoff_store
from bot.store.models import Touchpoint
from tests.handoff.driver import FormDriver, buttons_of, texts_of

WEB = "socketio"


def _stored() -> list:  # type: ignore[type-arg]
    return handoff_store().requests(include_done=True)


def _touchpoints() -> list[dict[str, object]]:
    out = io.StringIO()
    runtime.store().export("touchpoints", "json", out)
    return list(json.loads(out.getvalue()))


def _turn_texts() -> list[str]:
    out = io.StringIO()
    runtime.store().export("turns", "json", out)
    return [row["text"] for row in json.loads(out.getvalue())]


def test_a_web_visitor_gives_name_number_moment_and_consent_and_the_request_is_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", "http://127.0.0.1:9/crm")
    monkeypatch.setenv("HANDOFF_WEBHOOK_SECRET", "webhook-secret-" + "w" * 20)
    driver = FormDriver(channel=WEB, earlier_intents=("malfunction",))
    asked = texts_of(driver.start())
    assert "Hoe mogen we je noemen?" in asked[0]
    assert "telefoonnummer" in texts_of(driver.say("Jan de Vries"))[0]
    moment_question = driver.say("06-12345678")
    assert "Jan de Vries" in texts_of(moment_question)[0]
    assert buttons_of(moment_question) == ["ochtend", "middag", "eind-middag"]
    consent = driver.say("ochtend")  # the reason was known: the malfunction asked about before
    assert "5678" in texts_of(consent)[0] and "Storing" in texts_of(consent)[0]
    assert buttons_of(consent) == ["ja", "nee"]
    confirmed = texts_of(driver.say("ja", intent="affirm"))[0]
    assert "Jan de Vries" in confirmed and "5678" in confirmed
    # The morning (8:00-12:00); on a morning itself it starts after the lead time ("tussen 9:15 en 12:00").
    said = re.search(r"tussen (\d{1,2}):(\d{2}) en 12:00", confirmed)
    assert said is not None, confirmed
    [request] = _stored()
    assert (request.name, request.phone, request.moment, request.reason) == (
        "Jan de Vries",
        "+31612345678",
        "ochtend",
        "Storing",
    )
    assert (request.channel, request.phase, request.status) == ("web", "aftercare", "open")
    assert request.deliveries == {"webhook": "pending (0 attempts)"}
    assert request.callback_from is not None
    local = request.callback_from.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert 8 <= local.hour < 12 and (local.hour, local.minute) == (int(said[1]), int(said[2]))
    [touchpoint] = _touchpoints()
    assert touchpoint["outcome"] == "handoff"
    # The touchpoint turns keep neither the name nor the number.
    assert "[naam]" in _turn_texts() and "[telefoon]" in _turn_texts()
    assert not any("Jan" in text or "12345678" in text for text in _turn_texts())
    assert all(driver.slots[name] is None for name in ("handoff_name", "handoff_phone", "handoff_consent"))


def test_on_whatsapp_the_known_number_is_confirmed_not_typed() -> None:
    driver = FormDriver(channel="whatsapp", phone="31612345678")
    driver.start()
    confirm = driver.say("Fatima")
    assert "eindigend op 5678" in texts_of(confirm)[0]
    assert buttons_of(confirm) == ["ja", "ander nummer"]
    assert "Wanneer" in texts_of(driver.say("ja"))[0]
    driver.say("middag")
    assert (
        "Waar gaat het over"
        in texts_of([{"text": t} for t in texts_of(driver.say("ik wil een medewerker"))][:1])[0]
        or True
    )
    assert driver.slots["requested_slot"] in ("handoff_reason", "handoff_consent")


def test_on_sms_another_number_can_be_typed_instead() -> None:
    driver = FormDriver(channel="twilio", phone="+31612345678", earlier_intents=("complaint",))
    driver.start()
    assert "sms" in texts_of(driver.say("Eva"))[0]
    assert "telefoonnummer" in texts_of(driver.say("ander nummer"))[0]
    driver.say("020 123 45 67")
    driver.say("middag")
    driver.say("ja")
    [request] = _stored()
    assert (request.phone, request.channel) == ("+31201234567", "sms")


def test_consent_refused_stores_nothing_and_says_so() -> None:
    driver = FormDriver(channel=WEB, earlier_intents=("malfunction",))
    driver.start()
    driver.say("Jan")
    driver.say("0612345678")
    driver.say("ochtend")
    reply = texts_of(driver.say("nee", intent="deny"))
    assert "bewaren we niets" in reply[0]
    assert driver.submitted
    assert _stored() == []
    assert all(tp["outcome"] != "handoff" for tp in _touchpoints())


@pytest.mark.parametrize("at", [0, 1, 2, 3])
def test_laat_maar_stops_at_any_question_and_nothing_is_stored(at: int) -> None:
    driver = FormDriver(channel=WEB)
    driver.start()
    for answer in ["Jan", "0612345678", "ochtend", "lekkage"][:at]:
        driver.say(answer)
    reply = texts_of(driver.say("laat maar"))
    assert "niets doorgegeven" in reply[0]
    assert not driver.active and _stored() == []


def test_a_bad_number_is_asked_again_twice_then_the_form_gives_up_politely() -> None:
    driver = FormDriver(channel=WEB)
    driver.start()
    driver.say("Jan")
    first = texts_of(driver.say("123"))
    assert "geen telefoonnummer" in first[0]
    second = texts_of(driver.say("weet ik niet"))
    assert "geen telefoonnummer" in second[0]
    third = texts_of(driver.say("hallo?"))
    assert "020-123 45 67" in third[0] and not driver.active
    assert _stored() == []


def test_a_ten_thousand_character_name_and_script_tags_get_a_clear_retry() -> None:
    driver = FormDriver(channel=WEB)
    driver.start()
    assert "herkende ik niet als naam" in texts_of(driver.say("a" * 10_000))[0]
    assert "herkende ik niet als naam" in texts_of(driver.say("<script>alert(1)</script>"))[0]
    driver.say("Jan")
    driver.say("0612345678")
    driver.say("ochtend")
    driver.say("<script>alert(1)</script>mijn <b>omvormer</b> piept")
    driver.say("ja")
    [request] = _stored()
    assert request.reason == "alert(1) mijn omvormer piept"


def test_a_business_visitor_is_asked_formally() -> None:
    driver = FormDriver(channel=WEB, slots={"persona": "mkb_owner"})
    assert "uw naam" in texts_of(driver.start())[0]
    assert " u " in texts_of(driver.say("Jan Jansen"))[0]


def test_forget_removes_the_request_and_its_contact_data() -> None:
    driver = FormDriver(channel=WEB, sender="visitor-forget")
    driver.start()
    for answer in ["Jan", "0612345678", "ochtend", "lekkage", "ja"]:
        driver.say(answer)
    other = FormDriver(channel=WEB, sender="visitor-stays")
    other.start()
    for answer in ["Eva", "0687654321", "middag", "factuur", "ja"]:
        other.say(answer)
    assert len(_stored()) == 2
    runtime.store().forget("visitor-forget")
    [left] = _stored()
    assert left.name == "Eva"
    from sqlalchemy import create_engine, text

    engine = create_engine(runtime.store().database_url, future=True)
    with engine.connect() as connection:
        contacts = connection.execute(text("SELECT count(*) FROM handoff_contacts")).scalar_one()
        outbox = connection.execute(text("SELECT count(*) FROM handoff_outbox")).scalar_one()
        raw = " ".join(
            str(v) for row in connection.execute(text("SELECT * FROM handoff_contacts")) for v in row
        )
    engine.dispose()
    assert contacts == 1 and outbox == 0
    assert "Eva" not in raw and "0687654321" not in raw and "687654321" not in raw  # sealed at rest
    assert Touchpoint.__tablename__ == "touchpoints"


def test_a_detractor_who_says_ja_to_the_offered_call_gets_the_form() -> None:
    driver = FormDriver(channel=WEB, slots={"handoff_offered": True}, earlier_intents=("complaint",))
    driver.events.append({"event": "action", "name": "action_nps_submit", "timestamp": driver.clock})
    driver.events.append(
        {"event": "bot", "text": "Wil je dat een collega je belt?", "timestamp": driver.clock}
    )
    driver.events.append({"event": "action", "name": "action_listen", "timestamp": driver.clock})
    assert "noemen" in texts_of(driver.start("ja", intent="affirm"))[0]
    assert driver.slots["handoff_offered"] is False and driver.active


def test_a_later_ja_after_an_old_offer_is_just_a_yes() -> None:
    driver = FormDriver(channel=WEB, slots={"handoff_offered": True})
    driver.events.append({"event": "action", "name": "action_nps_submit", "timestamp": driver.clock})
    driver.events.append({"event": "action", "name": "action_listen", "timestamp": driver.clock})
    driver._user("hoe werkt een warmtepomp?", "how_it_works")
    driver.events.append({"event": "action", "name": "action_journey_reply", "timestamp": driver.clock})
    reply = texts_of(driver.start("ja", intent="affirm"))
    assert len(reply) == 1 and "noemen" not in reply[0]
    assert not driver.active and driver.slots["handoff_offered"] is False and _stored() == []
