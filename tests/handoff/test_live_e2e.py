"""Done when: a live handover to a (fake) Chatwoot inbox works and returns to the bot, through the
running assistant (Rasa with a model trained on this domain, action server, channels).

Uses the newest model in models/ or in HANDOFF_E2E_MODELS; a model from before the `handover` slot
cannot keep the handover, so the test is skipped with one.
"""

from __future__ import annotations

import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.devserver import Ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from tests.channels.edge_clients import deliver, new_phone, reply_text, whatsapp_conversation, whatsapp_text
from tests.channels.fake_graph import FakeGraphServer
from tests.conftest import RunningBot, free_port, stack_env
from tests.handoff.fake_chatwoot import ACCOUNT, INBOX, TOKEN, FakeChatwoot, send_webhook
from tests.handoff.live_support import WEBHOOK_TOKEN, content_dir

pytestmark = pytest.mark.e2e


def _knows_the_handover_slot(model: Path) -> bool:
    with tarfile.open(model) as archive:
        for member in archive.getmembers():
            if member.name.endswith("domain.yml"):
                domain = archive.extractfile(member)
                return domain is not None and b"handover:" in domain.read()
    return False


@pytest.fixture(scope="module")
def chatwoot() -> Iterator[FakeChatwoot]:
    with FakeChatwoot() as fake:
        yield fake


@pytest.fixture(scope="module")
def live_bot(tmp_path_factory: pytest.TempPathFactory, chatwoot: FakeChatwoot) -> Iterator[RunningBot]:
    model = latest_model(Path(os.environ.get("HANDOFF_E2E_MODELS") or PROJECT_ROOT / "models"))
    if model is None or not _knows_the_handover_slot(model):
        pytest.skip("no model trained with the `handover` slot: `make train` (or HANDOFF_E2E_MODELS)")
    work = tmp_path_factory.mktemp("live_bot")
    journeys_dir = content_dir(work, open_today=True)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    with FakeGraphServer() as fake_graph:
        env = stack_env(
            work,
            WHATSAPP_API_BASE=fake_graph.url,
            JOURNEYS_DIR=str(journeys_dir),
            HANDOFF_KEY="e2e-handoff-key-" + "k" * 20,
            CHATWOOT_URL=chatwoot.url,
            CHATWOOT_API_TOKEN=TOKEN,
            CHATWOOT_ACCOUNT_ID=str(ACCOUNT),
            CHATWOOT_INBOX_ID=str(INBOX),
            CHATWOOT_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        )
        log_dir = PROJECT_ROOT / "tests" / "output" / "logs" / "handoff_live"
        # A bound for a loaded shared machine, not a timing assertion.
        with running_stack(ports, env, model=model, log_dir=log_dir, timeout=600) as stack:
            yield RunningBot(
                rest_url=stack.rasa_url, socket_url=stack.rasa_url, web_url=f"{stack.web_url}?socket={stack.rasa_url}",
                token=stack.token, project_dir=PROJECT_ROOT, journeys_dir=journeys_dir,
                database_url=env["DATABASE_URL"], tracker_store_url=env["TRACKER_STORE_URL"], env=env,
                fake_graph=fake_graph, log_dir=log_dir,
            )  # fmt: skip


def wait_for_slot(bot: RunningBot, sender: str, *, present: bool) -> bool:
    """The reply reaches WhatsApp before Rasa stores the turn: wait (bounded) for the stored slot."""
    deadline = time.monotonic() + 30
    while bool(bot.slot(sender, "handover")) != present and time.monotonic() < deadline:
        time.sleep(0.2)
    return bool(bot.slot(sender, "handover")) == present


def test_whatsapp_handover_to_chatwoot_and_back_to_the_bot(
    live_bot: RunningBot, chatwoot: FakeChatwoot
) -> None:
    phone = new_phone()
    graph = live_bot.fake_graph
    webhook = f"{live_bot.rest_url}/webhooks/chatwoot/webhook"

    def texts() -> list[str]:
        return [reply_text(message) for message in graph.messages_to(phone)]

    def wait_for_texts(count: int) -> list[str]:
        graph.wait_for(lambda _: len(texts()) >= count, 60)
        return texts()

    assert (
        deliver(live_bot, whatsapp_text(live_bot, phone, "ik wil een medewerker spreken")).status_code == 200
    )
    started = wait_for_texts(1)
    assert "collega" in started[-1] and "noemen" not in " ".join(started)
    conversation = max(chatwoot.conversations)
    sender = whatsapp_conversation(live_bot, phone)
    assert chatwoot.conversations[conversation].custom_attributes["rasa_conversation"] == sender
    assert wait_for_slot(live_bot, sender, present=True), "the turn ends with the handover kept"

    before = len(texts())
    assert deliver(live_bot, whatsapp_text(live_bot, phone, "Mijn warmtepomp piept")).status_code == 200
    messages = chatwoot.wait_for_messages(conversation, 3, timeout=60)
    assert messages[-1]["content"] == "Mijn warmtepomp piept" and messages[-1]["message_type"] == "incoming"

    reply = chatwoot.agent_reply(conversation, "Hoi, met Sanne. Welke foutcode ziet u?")
    assert send_webhook(webhook, reply, WEBHOOK_TOKEN).status_code == 200
    assert send_webhook(webhook, reply, "not-the-token-" + "x" * 10).status_code == 403
    after = wait_for_texts(before + 1)
    assert after[before:] == ["Hoi, met Sanne. Welke foutcode ziet u?"], "the bot itself said nothing"

    assert send_webhook(webhook, chatwoot.resolved(conversation), WEBHOOK_TOKEN).status_code == 200
    assert "afgerond" in wait_for_texts(before + 2)[-1]
    assert wait_for_slot(live_bot, sender, present=False), "the resolution cleared the handover"

    assert deliver(live_bot, whatsapp_text(live_bot, phone, "hoe werkt een warmtepomp?")).status_code == 200
    answer = wait_for_texts(before + 3)[-1]
    assert "afgerond" not in answer and len(chatwoot.conversations[conversation].messages) == 3


def test_a_rest_caller_gets_the_callback_form_not_a_colleague(
    live_bot: RunningBot, chatwoot: FakeChatwoot
) -> None:
    known = len(chatwoot.conversations)
    replies = live_bot.say("live-rest-1", "ik wil een medewerker spreken")
    assert "noemen" in " ".join(str(reply.get("text")) for reply in replies)
    assert len(chatwoot.conversations) == known
    health = httpx.get(f"{live_bot.rest_url}/webhooks/chatwoot/", timeout=10).json()
    assert health == {"status": "ok"}


def test_asking_for_a_person_during_the_nps_question_opens_the_handoff(live_bot: RunningBot) -> None:
    sender = "live-nps-1"
    live_bot.say(sender, "mijn omvormer geeft een foutcode en de panelen leveren niks meer")
    live_bot.say(sender, "bedankt, dat was het")
    if live_bot.slot(sender, "requested_slot") != "nps_score":
        pytest.skip("the NPS question was not due in this conversation")
    replies = " ".join(str(reply.get("text")) for reply in live_bot.say(sender, "Kan ik iemand spreken?"))
    assert "Hoe mogen we je noemen" in replies, replies  # the form, not only the phone text
    assert live_bot.slot(sender, "requested_slot") == "handoff_name"
    assert live_bot.tracker(sender)["active_loop"]["name"] == "handoff_form"  # type: ignore[index]
