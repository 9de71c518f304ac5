"""Delivering one callback request: a signed JSON webhook, or an e-mail over SMTP. Each call either
succeeds or raises DeliveryError; retrying is the worker's job (bot.handoff.worker).

Webhook contract (docs/HANDOFF.md): POST JSON, with
`X-Handoff-Id` (the request's id, the same on every retry: receivers de-duplicate on it),
`X-Handoff-Timestamp` (Unix seconds) and `X-Handoff-Signature: sha256=<hex>`, the HMAC-SHA256
with HANDOFF_WEBHOOK_SECRET of `<timestamp>.<body>`. Any 2xx answer counts as delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from bot.handoff.store import RequestView
from bot.settings import HandoffDelivery


class DeliveryError(RuntimeError):
    """One attempt failed; the message says why without personal data (it is stored and logged)."""


def payload(view: RequestView) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": view.request_id,
        "type": view.kind,
        "created_at": stamp(view.created_at),
        "channel": view.channel,
        "phase": view.phase,
        "persona": view.persona,
        "product": view.product,
        "nps_score": view.nps_score,
        "reason": view.reason,
        "callback": {
            "moment": view.moment,
            "from": stamp(view.callback_from),
            "until": stamp(view.callback_until),
        },
        "contact": {"name": view.name, "phone": view.phone},
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def send_webhook(settings: HandoffDelivery, view: RequestView) -> None:
    if not settings.webhook_url or not settings.webhook_secret:
        raise DeliveryError("no webhook configured")
    body = json.dumps(payload(view), ensure_ascii=False).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Handoff-Id": view.request_id,
        "X-Handoff-Timestamp": timestamp,
        "X-Handoff-Signature": signature(settings.webhook_secret, timestamp, body),
    }
    try:
        response = httpx.post(
            settings.webhook_url, content=body, headers=headers, timeout=settings.timeout_seconds
        )
    except httpx.TimeoutException as error:
        raise DeliveryError(f"webhook timed out after {settings.timeout_seconds} s") from error
    except httpx.HTTPError as error:
        raise DeliveryError(f"webhook unreachable: {type(error).__name__}") from error
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook answered {response.status_code}")


def email_text(view: RequestView) -> str:
    lines = [
        "Nieuw terugbelverzoek via de digitale assistent.",
        "",
        f"Naam: {view.name}",
        f"Telefoon: {view.phone}",
        f"Moment: {view.moment or '-'} ({view.callback_from:%d-%m-%Y %H:%M} - {view.callback_until:%H:%M} UTC)"
        if view.callback_from and view.callback_until
        else f"Moment: {view.moment or 'zo snel mogelijk'}",
        f"Onderwerp: {view.reason or '-'}",
        f"Kanaal: {view.channel}; fase: {view.phase or '-'}; persona: {view.persona or '-'}; "
        f"product: {view.product or '-'}; NPS: {view.nps_score if view.nps_score is not None else '-'}",
        "",
        f"Verzoek {view.request_id}; afmelden als gedaan: journey handoffs --done {view.id}",
    ]
    return "\n".join(lines) + "\n"


def send_email(settings: HandoffDelivery, view: RequestView) -> None:
    if not settings.smtp_host or not settings.smtp_from or not settings.smtp_to:
        raise DeliveryError("no SMTP server configured")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(settings.smtp_to)
    message["Subject"] = f"Terugbelverzoek {view.name}"
    # The same Message-ID on every retry, so a mailbox can recognise a repeat.
    message["Message-ID"] = make_msgid(idstring=view.request_id, domain="handoff.journey")
    message["X-Handoff-Id"] = view.request_id
    message.set_content(email_text(view))
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"e-mail not accepted: {type(error).__name__}") from error
