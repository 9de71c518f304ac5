"""The outbox: signed webhooks and e-mail to real local receivers; down, 500, hanging, restarts."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore, NewRequest
from bot.handoff.worker import DeliveryWorker, backoff, wake_workers
from bot.settings import HandoffDelivery, SettingsError, handoff_delivery
from tests.handoff.conftest import KEY
from tests.handoff.receivers import SmtpReceiver, WebhookReceiver, unused_port

SECRET = "webhook-secret-" + "s" * 24
SEALER = Sealer("sealer-key-" + "k" * 24)
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def settings(url: str | None = None, smtp_port: int | None = None, timeout: float = 2.0) -> HandoffDelivery:
    return HandoffDelivery(
        webhook_url=url,
        webhook_secret=SECRET if url else None,
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 25,
        smtp_user=None,
        smtp_password=None,
        smtp_from="assistent@zonwarmte.example",
        smtp_to=("klantenservice@zonwarmte.example",),
        smtp_starttls=False,
        timeout_seconds=timeout,
    )


@pytest.fixture
def store(database_url: str) -> Iterator[HandoffStore]:
    opened = HandoffStore(database_url, KEY, SEALER)
    yield opened
    opened.close()


def request(store: HandoffStore, targets: tuple[str, ...], sender: str = "visitor-1") -> int:
    return store.create(
        NewRequest(
            sender_id=sender, session_started_at=NOW, channel="whatsapp", phase="aftercare", persona=None,
            product="warmtepomp", reason="Storing", moment="ochtend", callback_from=NOW + timedelta(hours=22),
            callback_until=NOW + timedelta(hours=26), name="Jan de Vries", phone="+31612345678", at=NOW,
        ),
        targets,
    )  # fmt: skip


def worker(store: HandoffStore, delivery: HandoffDelivery) -> DeliveryWorker:
    return DeliveryWorker(store, delivery, poll_seconds=0.05, base_delay=0.0, max_delay=0.0)


def verify(received_headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(
        SECRET.encode(), received_headers["x-handoff-timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest("sha256=" + expected, received_headers["x-handoff-signature"])


def test_the_webhook_gets_a_signed_request_with_everything_a_colleague_needs(store: HandoffStore) -> None:
    with WebhookReceiver(unused_port()).running() as receiver:
        request(store, ("webhook",))
        assert worker(store, settings(receiver.url)).run_once() == 1
    [got] = receiver.received
    assert verify(got.headers, got.body)
    data = json.loads(got.body)
    assert data["contact"] == {"name": "Jan de Vries", "phone": "+31612345678"}
    assert (data["reason"], data["product"], data["channel"], data["callback"]["moment"]) == (
        "Storing", "warmtepomp", "whatsapp", "ochtend",
    )  # fmt: skip
    assert got.headers["x-handoff-id"] == data["id"]
    assert store.requests()[0].deliveries == {"webhook": "sent"}


def test_a_tampered_body_does_not_verify(store: HandoffStore) -> None:
    with WebhookReceiver(unused_port()).running() as receiver:
        request(store, ("webhook",))
        worker(store, settings(receiver.url)).run_once()
    got = receiver.received[0]
    assert not verify(got.headers, got.body.replace(b"Jan", b"Piet"))


def test_receiver_down_then_up_is_delivered_once_also_after_a_restart(database_url: str) -> None:
    port = unused_port()
    first = HandoffStore(database_url, KEY, SEALER)
    request(first, ("webhook",))
    assert worker(first, settings(f"http://127.0.0.1:{port}/crm")).run_once() == 0  # nothing listens
    assert first.requests()[0].deliveries == {"webhook": "pending (1 attempts)"}
    first.close()  # the action server restarts
    second = HandoffStore(database_url, KEY, SEALER)
    try:
        with WebhookReceiver(port).running() as receiver:
            again = worker(second, settings(receiver.url))
            assert again.run_once() == 1
            assert again.run_once() == 0
            assert again.run_once() == 0
        assert len(receiver.received) == 1
        assert second.requests()[0].deliveries == {"webhook": "sent"}
    finally:
        second.close()


def test_a_receiver_answering_500_is_retried_and_nothing_is_lost(store: HandoffStore) -> None:
    with WebhookReceiver(unused_port(), plan=[500, 503]).running() as receiver:
        request(store, ("webhook",))
        delivering = worker(store, settings(receiver.url))
        assert [delivering.run_once() for _ in range(4)] == [0, 0, 1, 0]
    assert len(receiver.received) == 3
    assert len({got.headers["x-handoff-id"] for got in receiver.received}) == 1


def test_a_hanging_receiver_times_out_and_the_request_is_sent_again(store: HandoffStore) -> None:
    with WebhookReceiver(unused_port(), plan=["hang"], hang_seconds=3.0).running() as receiver:
        request(store, ("webhook",))
        delivering = worker(store, settings(receiver.url, timeout=0.3))
        assert delivering.run_once() == 0
        view = store.requests()[0]
        assert view.deliveries == {"webhook": "pending (1 attempts)"}
        assert delivering.run_once() == 1
    # Same id both times: the receiver can tell the second is a repeat of the first.
    assert [got.headers["x-handoff-id"] for got in receiver.received] == [view.request_id] * 2


def test_a_failed_attempt_waits_for_its_backoff(store: HandoffStore) -> None:
    request(store, ("webhook",))
    slow = DeliveryWorker(
        store, settings(f"http://127.0.0.1:{unused_port()}/x"), base_delay=600, max_delay=3600
    )
    assert slow.run_once() == 0
    assert store.due(datetime.now(timezone.utc)) == []
    assert len(store.due(datetime.now(timezone.utc) + timedelta(seconds=601))) == 1
    assert [backoff(n, 10, 3600).total_seconds() for n in (1, 2, 3, 10)] == [10, 20, 40, 3600]


def test_two_workers_never_send_the_same_message_twice_at_once(store: HandoffStore) -> None:
    request(store, ("webhook",))
    [due] = store.due(datetime.now(timezone.utc))
    now = datetime.now(timezone.utc)
    assert store.claim(due, timedelta(seconds=30), now)
    assert not store.claim(due, timedelta(seconds=30), now)


def test_the_email_reaches_the_smtp_server(store: HandoffStore) -> None:
    with SmtpReceiver().running() as smtp:
        request(store, ("email",))
        assert worker(store, settings(smtp_port=smtp.port)).run_once() == 1
    [(sender, recipients, message)] = smtp.messages
    assert (sender, recipients) == ("assistent@zonwarmte.example", ["klantenservice@zonwarmte.example"])
    body = message.get_payload(decode=True).decode()
    assert "Jan de Vries" in body and "+31612345678" in body and "Storing" in body
    assert message["X-Handoff-Id"] == store.requests()[0].request_id


def test_email_with_the_smtp_server_down_waits_in_the_outbox(store: HandoffStore) -> None:
    port = unused_port()
    request(store, ("email", "webhook"))
    with WebhookReceiver(unused_port()).running() as receiver:
        delivering = worker(store, settings(receiver.url, smtp_port=port))
        assert delivering.run_once() == 1  # the webhook; the mail server is down
        assert store.requests()[0].deliveries == {"email": "pending (1 attempts)", "webhook": "sent"}
        with SmtpReceiver(port=port).running() as smtp:
            assert delivering.run_once() == 1
        assert len(smtp.messages) == 1 and len(receiver.received) == 1


def test_the_worker_thread_delivers_a_new_request_without_blocking_anyone(store: HandoffStore) -> None:
    with WebhookReceiver(unused_port()).running() as receiver:
        running = DeliveryWorker(store, settings(receiver.url), poll_seconds=30)
        running.start()
        try:
            request(store, ("webhook",))
            wake_workers()
            deadline = time.monotonic() + 20
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            running.stop()
    assert len(receiver.received) == 1


def test_forget_takes_undelivered_messages_with_it(
    store: HandoffStore, database_url: str, tmp_path: Path
) -> None:
    from bot.store import TouchpointStore

    request(store, ("webhook",), sender="visitor-gone")
    touchpoints = TouchpointStore(database_url, KEY, tmp_path / "spool", tracker_store_url=database_url)
    try:
        touchpoints.forget("visitor-gone")
    finally:
        touchpoints.close()
    assert store.due(datetime.now(timezone.utc) + timedelta(days=1)) == []
    assert store.requests(include_done=True) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HANDOFF_WEBHOOK_URL": "ftp://crm"}, "http"),
        ({"HANDOFF_WEBHOOK_URL": "https://crm.example/x", "HANDOFF_WEBHOOK_SECRET": "short"}, "too short"),
        ({"HANDOFF_WEBHOOK_URL": "https://crm.example/x"}, "HANDOFF_WEBHOOK_SECRET is not set"),
        ({"SMTP_HOST": "mail.example"}, "SMTP_FROM and SMTP_TO"),
        ({"SMTP_PORT": "99999"}, "SMTP_PORT"),
        ({"HANDOFF_TIMEOUT": "0"}, "HANDOFF_TIMEOUT"),
    ],
)
def test_bad_delivery_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        handoff_delivery(env)


def test_delivery_settings_from_the_environment() -> None:
    parsed = handoff_delivery(
        {"HANDOFF_WEBHOOK_URL": "https://crm.example/hook", "HANDOFF_WEBHOOK_SECRET": SECRET, "SMTP_HOST": "mail",
         "SMTP_FROM": "a@b.example", "SMTP_TO": "c@d.example, e@f.example", "SMTP_STARTTLS": "false"}
    )  # fmt: skip
    assert parsed.targets == ("webhook", "email")
    assert parsed.smtp_to == ("c@d.example", "e@f.example") and not parsed.smtp_starttls
    assert handoff_delivery({}).targets == ()
