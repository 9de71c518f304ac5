"""The outbox worker: delivers stored callback requests in a background thread, with retries and backoff.

Runs beside the action server (attach) so the event loop is never blocked by a slow receiver.
State lives in the outbox table, not in memory: after a restart every unsent message is still
there. Each attempt first claims its row (a lease past the timeout), so two workers never send
the same message at once; a receiver that answered but whose answer was lost gets it again
(at-least-once, with the same X-Handoff-Id to de-duplicate on).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.delivery import DeliveryError, send_email, send_webhook
from bot.handoff.store import DueMessage, HandoffStore, RequestView
from bot.settings import HandoffDelivery

logger = logging.getLogger(__name__)

Sender = Callable[[HandoffDelivery, RequestView], None]
SENDERS: dict[str, Sender] = {"webhook": send_webhook, "email": send_email}
_RUNNING: set[DeliveryWorker] = set()
_RUNNING_LOCK = threading.Lock()


def backoff(attempts: int, base: float, ceiling: float) -> timedelta:
    """base, 2·base, 4·base … after the 1st, 2nd, 3rd failure, capped at `ceiling` seconds."""
    return timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


def wake_workers() -> None:
    """A new request was stored in this process: deliver it now rather than at the next poll."""
    with _RUNNING_LOCK:
        for worker in _RUNNING:
            worker.wake()


class DeliveryWorker:
    def __init__(
        self,
        store: HandoffStore,
        settings: HandoffDelivery,
        *,
        poll_seconds: float = 5.0,
        base_delay: float = 10.0,
        max_delay: float = 3600.0,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._senders = senders or SENDERS
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> int:
        """Try every due message once; the number delivered."""
        now = now or datetime.now(timezone.utc)
        delivered = 0
        for message in self.store.due(now):
            if self._stop.is_set():
                break
            delivered += self._attempt(message, now)
        return delivered

    def _attempt(self, message: DueMessage, now: datetime) -> int:
        lease = timedelta(seconds=2 * self.settings.timeout_seconds + 5)
        if not self.store.claim(message, lease, now):
            return 0  # another worker has it
        view = self.store.request(message.request_id)
        sender = self._senders.get(message.target)
        try:
            if view is None or sender is None:
                raise DeliveryError(f"nothing to send for target {message.target!r}")
            sender(self.settings, view)
        except DeliveryError as error:
            attempts = message.attempts + 1
            delay = backoff(attempts, self.base_delay, self.max_delay)
            logger.warning(
                "callback request %s: %s delivery attempt %d failed (%s); next in %d s",
                message.request_id, message.target, attempts, error, delay.total_seconds(),
            )  # fmt: skip
            self.store.mark_failed(message.id, datetime.now(timezone.utc) + delay, str(error))
            return 0
        self.store.mark_sent(message.id, datetime.now(timezone.utc))
        logger.info("callback request %s delivered by %s", message.request_id, message.target)
        return 1

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except SQLAlchemyError as error:
                logger.warning("handoff outbox unreachable (%s); trying again later", type(error).__name__)
            except Exception:
                logger.exception("handoff delivery worker error; it keeps running")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="handoff-delivery", daemon=True)
        self._thread.start()
        with _RUNNING_LOCK:
            _RUNNING.add(self)

    def stop(self, timeout: float = 5.0) -> None:
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
