"""The live handover in the channels: the visitor relayed to (fake) Chatwoot and not answered by the bot,
the colleague's replies through WhatsApp (fake Graph API) and socket.io, the resolution handing back
to the bot, Chatwoot failing mid-conversation, and webhooks without a valid token refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import socketio
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.chatwoot import ChatwootInput
from bot.channels.socketio import FixedSocketIOInput
from bot.conversation_ids import conversation_id
from bot.handoff.live import SLOT
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.whatsapp_webhook import CONVERSATION_KEY, PHONE, channel, envelope, post, text
from tests.handoff.driver import FormDriver
from tests.handoff.fake_chatwoot import FakeChatwoot, send_webhook
from tests.handoff.live_support import (
    DOMAIN,
    WEBHOOK_TOKEN,
    StandInAgent,
    content_dir,
    on_loop,
    serve_channels,
    use_chatwoot,
)

ASK = "ik wil een medewerker spreken"
WHATSAPP_SENDER = conversation_id("whatsapp", "+" + PHONE, CONVERSATION_KEY)


@dataclass
class Live:
    base: str
    loop: asyncio.AbstractEventLoop
    agent: StandInAgent
    chatwoot: FakeChatwoot
    graph: FakeGraphServer

    @property
    def webhook(self) -> str:
        return self.base + "/webhooks/chatwoot/webhook"

    def hand_over(self, sender: str, channel_name: str, phone: str | None = None) -> int:
        """Start the handover with the real action, and keep its events as Rasa would."""
        driver = FormDriver(channel=channel_name, sender=sender, phone=phone)
        driver.start(ASK)
        assert driver.slots[SLOT], "the action handed over"
        events = [
            ActionExecuted("action_listen"),
            UserUttered(ASK, {"name": "request_human", "confidence": 0.9}, input_channel=channel_name),
            SlotSet(SLOT, driver.slots[SLOT]),
        ]
        tracker = DialogueStateTracker.from_events(sender, events, slots=DOMAIN.slots)
        on_loop(self.loop, self.agent.tracker_store.save(tracker))
        return max(self.chatwoot.conversations)

    def slot(self, sender: str) -> Any:
        return on_loop(self.loop, self.agent.tracker_store.retrieve(sender)).get_slot(SLOT)

    def whatsapp_texts(self) -> list[str]:
        return [body["text"]["body"] for body in self.graph.messages_to(PHONE) if body.get("type") == "text"]

    def wait_for_whatsapp(self, count: int) -> list[str]:
        self.graph.wait_for(lambda _: len(self.whatsapp_texts()) >= count)
        return self.whatsapp_texts()


def live_channels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str = "") -> Iterator[Live]:
    monkeypatch.setenv("JOURNEYS_DIR", str(content_dir(tmp_path, open_today=True)))
    with FakeChatwoot() as chatwoot, FakeGraphServer() as graph:
        use_chatwoot(monkeypatch, chatwoot.url, secret=secret)
        web = FixedSocketIOInput(session_persistence=True, metadata_key="customData")
        agent = StandInAgent()
        with serve_channels([channel(graph), web, ChatwootInput()], agent) as (base, loop):
            yield Live(base, loop, agent, chatwoot, graph)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    yield from live_channels(tmp_path, monkeypatch)


def test_whatsapp_visitor_and_colleague_talk_through_chatwoot_until_it_is_resolved(live: Live) -> None:
    conversation = live.hand_over(WHATSAPP_SENDER, "whatsapp", "+" + PHONE)
    assert post(live.base, envelope(text("Hoe lang duurt de storing nog?"))).status_code == 200
    messages = live.chatwoot.wait_for_messages(conversation, 3)
    assert messages[-1] == {
        "id": 3,
        "content": "Hoe lang duurt de storing nog?",
        "message_type": "incoming",
        "private": False,
    }
    # A private note of the colleague stays in Chatwoot; the answer reaches the visitor on WhatsApp.
    note = send_webhook(
        live.webhook, live.chatwoot.agent_reply(conversation, "Interne notitie", private=True), WEBHOOK_TOKEN
    )
    answer = send_webhook(
        live.webhook,
        live.chatwoot.agent_reply(conversation, "Hoi, met Sanne. Ik kijk even mee."),
        WEBHOOK_TOKEN,
    )
    assert (note.status_code, answer.status_code) == (200, 200)
    assert live.wait_for_whatsapp(1) == ["Hoi, met Sanne. Ik kijk even mee."]
    assert live.agent.messages == [], "the bot did not see (or answer) the visitor's message"

    assert send_webhook(live.webhook, live.chatwoot.resolved(conversation), WEBHOOK_TOKEN).status_code == 200
    back = live.wait_for_whatsapp(2)[-1]
    assert "afgerond" in back and "kan ik nog iets voor je doen" in back
    assert live.slot(WHATSAPP_SENDER) is None
    tracker = on_loop(live.loop, live.agent.tracker_store.retrieve(WHATSAPP_SENDER))
    assert tracker.events[-1].text == back, "the conversation shows what the bot said"

    assert post(live.base, envelope(text("Nee, dank je"))).status_code == 200
    [handled] = live.agent.wait_for(1)
    assert handled.text == "Nee, dank je" and handled.sender_id == WHATSAPP_SENDER
    assert len(live.chatwoot.conversations[conversation].messages) == 3, "no longer relayed"


def test_chatwoot_failing_mid_conversation_hands_back_to_the_bot(live: Live) -> None:
    live.hand_over(WHATSAPP_SENDER, "whatsapp", "+" + PHONE)
    live.chatwoot.failing = True
    assert post(live.base, envelope(text("Zijn jullie er nog?"))).status_code == 200
    [handled] = live.agent.wait_for(1)
    assert handled.text == "Zijn jullie er nog?", "the bot answers this message itself"
    [notice] = live.wait_for_whatsapp(1)
    assert "kwam niet aan bij mijn collega" in notice and "020-123 45 67" in notice
    assert live.slot(WHATSAPP_SENDER) is None


def test_a_webhook_without_the_right_token_is_refused(live: Live) -> None:
    conversation = live.hand_over(WHATSAPP_SENDER, "whatsapp", "+" + PHONE)
    reply = live.chatwoot.agent_reply(conversation, "Klik hier: phishing")
    assert send_webhook(live.webhook, reply, None).status_code == 403
    assert send_webhook(live.webhook, reply, "wrong-token-" + "x" * 20).status_code == 403
    assert send_webhook(live.webhook, live.chatwoot.resolved(conversation), "").status_code == 403
    answer = send_webhook(
        live.webhook, live.chatwoot.agent_reply(conversation, "Echt antwoord"), WEBHOOK_TOKEN
    )
    assert answer.status_code == 200
    assert live.wait_for_whatsapp(1) == ["Echt antwoord"], "only the authenticated reply arrived"
    assert live.slot(WHATSAPP_SENDER) is not None, "the refused resolution changed nothing"


def test_an_event_for_a_conversation_not_handed_over_is_ignored(live: Live) -> None:
    conversation = live.hand_over(WHATSAPP_SENDER, "whatsapp", "+" + PHONE)
    forged = live.chatwoot.agent_reply(conversation, "Voor iemand anders")
    forged["conversation"]["id"] = conversation + 50
    assert send_webhook(live.webhook, forged, WEBHOOK_TOKEN).status_code == 200
    assert (
        send_webhook(
            live.webhook, live.chatwoot.agent_reply(conversation, "Wel voor jou"), WEBHOOK_TOKEN
        ).status_code
        == 200
    )
    assert live.wait_for_whatsapp(1) == ["Wel voor jou"]


def test_with_a_signing_secret_the_signature_is_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for live in live_channels(tmp_path, monkeypatch, secret="chatwoot-signing-secret"):
        conversation = live.hand_over(WHATSAPP_SENDER, "whatsapp", "+" + PHONE)
        unsigned = send_webhook(
            live.webhook, live.chatwoot.agent_reply(conversation, "Zonder handtekening"), WEBHOOK_TOKEN
        )
        wrong = send_webhook(
            live.webhook, live.chatwoot.agent_reply(conversation, "Verkeerd"), WEBHOOK_TOKEN, secret="other"
        )
        signed = send_webhook(
            live.webhook,
            live.chatwoot.agent_reply(conversation, "Met handtekening"),
            WEBHOOK_TOKEN,
            secret="chatwoot-signing-secret",
        )
        assert (unsigned.status_code, wrong.status_code, signed.status_code) == (403, 403, 200)
        assert live.wait_for_whatsapp(1) == ["Met handtekening"]


def test_a_web_visitor_hears_the_colleague_through_socketio(live: Live) -> None:
    conversation = live.hand_over("web:sessie1", "socketio")

    async def chat() -> list[Any]:
        client = socketio.AsyncClient(reconnection=False)
        replies: list[Any] = []
        confirmed: asyncio.Queue[str] = asyncio.Queue()
        client.on("session_confirm", confirmed.put)
        client.on("bot_uttered", replies.append)
        await client.connect(live.base, socketio_path="/socket.io", transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": "sessie1"})
            await asyncio.wait_for(confirmed.get(), 10)
            await client.emit(
                "user_uttered", {"message": "Wanneer komt de monteur?", "session_id": "sessie1"}
            )
            await asyncio.to_thread(live.chatwoot.wait_for_messages, conversation, 3)
            reply = live.chatwoot.agent_reply(conversation, "Morgen tussen 8 en 12 uur.")
            assert (
                await asyncio.to_thread(send_webhook, live.webhook, reply, WEBHOOK_TOKEN)
            ).status_code == 200
            for _ in range(200):
                if replies:
                    break
                await asyncio.sleep(0.05)
        finally:
            await client.disconnect()
        return replies

    replies = asyncio.run(chat())
    assert live.chatwoot.conversations[conversation].messages[-1]["content"] == "Wanneer komt de monteur?"
    assert [reply.get("text") for reply in replies] == ["Morgen tussen 8 en 12 uur."]
    assert live.agent.messages == []
