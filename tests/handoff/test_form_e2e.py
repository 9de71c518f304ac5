"""Done when: "Bel mij terug" on the web (REST) and on WhatsApp ends in a stored request the company's
webhook receives once, through the running assistant (Rasa, action server, delivery worker).

Uses the newest model in models/ (`make test` trains it from data/); HANDOFF_E2E_MODELS points
elsewhere (a model trained into a temporary folder while developing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.devserver import Ports, latest_model, running_stack
from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore
from bot.settings import PROJECT_ROOT
from tests.channels.edge_clients import deliver, new_phone, reply_text, whatsapp_replies, whatsapp_text
from tests.channels.fake_graph import FakeGraphServer
from tests.conftest import RunningBot, free_port, stack_env
from tests.handoff.receivers import WebhookReceiver, unused_port

pytestmark = pytest.mark.e2e
SECRET = "e2e-webhook-secret-" + "x" * 20


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(unused_port()).running() as running:
        yield running


@pytest.fixture(scope="module")
def handoff_bot(tmp_path_factory: pytest.TempPathFactory, receiver: WebhookReceiver) -> Iterator[RunningBot]:
    model = latest_model(Path(os.environ.get("HANDOFF_E2E_MODELS") or PROJECT_ROOT / "models"))
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    work = tmp_path_factory.mktemp("handoff_bot")
    journeys_dir = work / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", journeys_dir)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    with FakeGraphServer() as fake_graph:
        env = stack_env(
            work,
            WHATSAPP_API_BASE=fake_graph.url,
            JOURNEYS_DIR=str(journeys_dir),
            HANDOFF_KEY="e2e-handoff-key-" + "k" * 20,
            HANDOFF_WEBHOOK_URL=receiver.url,
            HANDOFF_WEBHOOK_SECRET=SECRET,
            HANDOFF_TIMEOUT="5",
            SMTP_HOST="",
        )
        log_dir = PROJECT_ROOT / "tests" / "output" / "logs" / "handoff"
        # A bound for a loaded shared machine, not a timing assertion.
        with running_stack(ports, env, model=model, log_dir=log_dir, timeout=600) as stack:
            yield RunningBot(
                rest_url=stack.rasa_url, socket_url=stack.rasa_url, web_url=f"{stack.web_url}?socket={stack.rasa_url}",
                token=stack.token, project_dir=PROJECT_ROOT, journeys_dir=journeys_dir,
                database_url=env["DATABASE_URL"], tracker_store_url=env["TRACKER_STORE_URL"], env=env,
                fake_graph=fake_graph, log_dir=log_dir,
            )  # fmt: skip


def _texts(replies: list[dict[str, object]]) -> str:
    return " | ".join(str(reply.get("text")) for reply in replies)


def _deliveries_for(receiver: WebhookReceiver, phone: str, timeout: float = 30) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [json.loads(got.body) for got in receiver.received if phone in got.body.decode()]
        if found:
            time.sleep(1)  # a second delivery, if there were one, would arrive in this time
            return [json.loads(got.body) for got in receiver.received if phone in got.body.decode()]
        time.sleep(0.1)
    return []


def _signed(receiver: WebhookReceiver, phone: str) -> bool:
    for got in receiver.received:
        if phone in got.body.decode():
            digest = hmac.new(
                SECRET.encode(), got.headers["x-handoff-timestamp"].encode() + b"." + got.body, hashlib.sha256
            ).hexdigest()
            return hmac.compare_digest(got.headers["x-handoff-signature"], "sha256=" + digest)
    return False


def _stored(bot: RunningBot) -> HandoffStore:
    return HandoffStore(bot.database_url, bot.env["PSEUDONYM_KEY"], Sealer(bot.env["HANDOFF_KEY"]))


def test_bel_mij_terug_over_rest_is_stored_and_delivered_once(
    handoff_bot: RunningBot, receiver: WebhookReceiver
) -> None:
    sender = "handoff-rest-1"
    handoff_bot.say(sender, "de warmtepomp geeft foutcode E12 en het huis wordt niet warm")
    assert "noemen" in _texts(handoff_bot.say(sender, "/request_human"))
    assert "telefoonnummer" in _texts(handoff_bot.say(sender, "Jan de Vries"))
    moment = handoff_bot.say(sender, "06-11112222")
    assert [b["payload"] for b in moment[0]["buttons"]] == ["ochtend", "middag", "eind-middag"]  # type: ignore[index]
    consent = _texts(handoff_bot.say(sender, "middag"))
    assert "2222" in consent
    confirmed = _texts(handoff_bot.say(sender, "ja"))
    assert "Jan de Vries" in confirmed and "tussen" in confirmed
    delivered = _deliveries_for(receiver, "+31611112222")
    assert len(delivered) == 1
    assert delivered[0]["contact"] == {"name": "Jan de Vries", "phone": "+31611112222"}
    assert _signed(receiver, "+31611112222")
    store = _stored(handoff_bot)
    try:
        [request] = [r for r in store.requests() if r.phone == "+31611112222"]
        assert request.deliveries == {"webhook": "sent"}
    finally:
        store.close()
    # The number is in no database file and no log in clear (sealed in slots and contacts, masked in text).
    for path in [Path(handoff_bot.database_url.removeprefix("sqlite:///")),
                 Path(handoff_bot.tracker_store_url.removeprefix("sqlite:///")),
                 *handoff_bot.log_dir.glob("*.log")]:  # fmt: skip
        assert b"11112222" not in path.read_bytes(), path.name
    # The conversation goes on with the bot afterwards.
    assert handoff_bot.slot(sender, "requested_slot") is None
    assert handoff_bot.tracker(sender)["active_loop"] in ({}, None, {"name": None})


def test_laat_maar_midway_over_rest_stores_and_sends_nothing(
    handoff_bot: RunningBot, receiver: WebhookReceiver
) -> None:
    sender = "handoff-rest-2"
    handoff_bot.say(sender, "ik wil een medewerker spreken")
    handoff_bot.say(sender, "Piet Stop")
    assert "niets doorgegeven" in _texts(handoff_bot.say(sender, "laat maar"))
    assert "noemen" not in _texts(handoff_bot.say(sender, "hoe werkt een warmtepomp?"))


def test_bel_mij_terug_on_whatsapp_confirms_the_known_number(
    handoff_bot: RunningBot, receiver: WebhookReceiver
) -> None:
    phone = new_phone()
    sent = 0

    def say(text: str) -> str:
        nonlocal sent
        assert deliver(handoff_bot, whatsapp_text(handoff_bot, phone, text)).status_code == 200
        replies = whatsapp_replies(handoff_bot, phone, sent + 1)
        time.sleep(0.5)  # a reply may come in more than one message
        replies = handoff_bot.fake_graph.messages_to(phone)
        new, sent = replies[sent:], len(replies)
        return " | ".join(reply_text(message) for message in new)

    say("mijn thuisbatterij laadt niet meer op")
    assert "noemen" in say("/request_human")
    assert f"eindigend op {phone[-4:]}" in say("Fatima")
    assert "Wanneer" in say("ja")
    assert phone[-4:] in say("ochtend")
    assert "Fatima" in say("ja")
    delivered = _deliveries_for(receiver, "+" + phone)
    assert len(delivered) == 1
    assert delivered[0]["channel"] == "whatsapp"
    assert delivered[0]["contact"] == {"name": "Fatima", "phone": "+" + phone}


def test_a_detractor_who_says_ja_to_the_offered_call_gets_the_form(handoff_bot: RunningBot) -> None:
    sender = "handoff-detractor-1"
    handoff_bot.say(sender, "mijn omvormer geeft een foutcode en de panelen leveren niks meer")
    assert (
        "0-10" in _texts(handoff_bot.say(sender, "bedankt, dat was het"))
        or handoff_bot.slot(sender, "requested_slot") == "nps_score"
    )
    handoff_bot.say(sender, "een 3")
    thanks = handoff_bot.say(sender, "nee")
    assert "Bel mij terug" in [b["title"] for r in thanks for b in r.get("buttons") or []]  # type: ignore[union-attr]
    assert "noemen" in _texts(handoff_bot.say(sender, "ja"))
    assert handoff_bot.slot(sender, "requested_slot") == "handoff_name"
    assert "niets doorgegeven" in _texts(handoff_bot.say(sender, "laat maar"))
