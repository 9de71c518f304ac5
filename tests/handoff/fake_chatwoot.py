"""A real HTTP server on 127.0.0.1 that answers like Chatwoot's application API and sends its webhooks.

It keeps contacts, conversations and messages in memory, checks the ``api_access_token`` header,
answers a taken contact identifier with 422 as Chatwoot does, and can be told to fail (503). The
webhook helpers post the payloads Chatwoot's WebhookListener sends (message_created with the
message's webhook data, conversation_status_changed with the conversation's).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

TOKEN = "chatwoot-agent-token"
ACCOUNT = 7
INBOX = 3


@dataclass
class Conversation:
    id: int
    contact_id: int
    custom_attributes: dict[str, Any]
    status: str = "open"
    messages: list[dict[str, Any]] = field(default_factory=list)


class FakeChatwoot:
    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.contacts: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, Conversation] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.failing = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeChatwoot:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def only_conversation(self) -> Conversation:
        with self._lock:
            assert len(self.conversations) == 1, self.conversations
            return next(iter(self.conversations.values()))

    def wait_for_messages(
        self, conversation_id: int, count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.conversations[conversation_id].messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return list(self.conversations[conversation_id].messages)

    # The API ---------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        base = f"/api/v1/accounts/{ACCOUNT}"
        if not path.startswith(base):
            return 404, {"error": "not found"}
        path = path[len(base) :]
        if method == "POST" and path == "/contacts":
            identifier = body.get("identifier")
            if any(c.get("identifier") == identifier for c in self.contacts.values()):
                return 422, {"message": "Identifier has already been taken"}
            contact_id = len(self.contacts) + 1
            contact = {
                "id": contact_id,
                "name": body.get("name"),
                "identifier": identifier,
                "phone_number": body.get("phone_number"),
            }
            self.contacts[contact_id] = contact
            inbox = {"source_id": str(uuid.uuid4()), "inbox": {"id": body.get("inbox_id")}}
            return 200, {"payload": {"contact": contact, "contact_inbox": inbox}}
        if method == "GET" and path == "/contacts/search":
            found = [
                c for c in self.contacts.values() if query.get("q") in (c.get("identifier"), c.get("name"))
            ]
            return 200, {"meta": {"count": len(found)}, "payload": found}
        if method == "POST" and path == "/conversations":
            if body.get("inbox_id") != INBOX or body.get("contact_id") not in self.contacts:
                return 404, {"error": "Resource could not be found"}
            conversation_id = 100 + len(self.conversations) + 1
            attributes = dict(body.get("custom_attributes") or {})
            self.conversations[conversation_id] = Conversation(
                conversation_id, body["contact_id"], attributes
            )
            return 200, {"id": conversation_id, "account_id": ACCOUNT, "inbox_id": INBOX, "status": "open"}
        match = re.fullmatch(r"/conversations/(\d+)/messages", path)
        if method == "POST" and match:
            conversation = self.conversations.get(int(match[1]))
            if conversation is None:
                return 404, {"error": "Resource could not be found"}
            kind = body.get("message_type", "outgoing")
            if kind == "incoming" and not isinstance(body.get("content"), str):
                return 422, {"error": "content missing"}
            message = {
                "id": len(conversation.messages) + 1,
                "content": body.get("content"),
                "message_type": kind,
                "private": bool(body.get("private")),
            }
            conversation.messages.append(message)
            return 200, message
        return 404, {"error": "not found"}

    def _answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        split = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        with self._lock:
            if self.failing:
                status, reply = 503, {"error": "maintenance"}
            elif headers.get("api_access_token") != TOKEN:
                status, reply = 401, {"errors": ["You need to sign in or sign up before continuing."]}
            else:
                status, reply = self._route(method, split.path, query, json.loads(raw) if raw else {})
            self.requests.append((method, split.path, status))
            self._lock.notify_all()
        return status, json.dumps(reply).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply = fake._answer(self.command, self.path, headers, raw)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    # The webhooks ----------------------------------------------------------------------------

    def _conversation_data(self, conversation: Conversation) -> dict[str, Any]:
        return {
            "id": conversation.id,
            "account_id": ACCOUNT,
            "inbox_id": INBOX,
            "status": conversation.status,
            "custom_attributes": conversation.custom_attributes,
            "additional_attributes": {},
            "meta": {"sender": self.contacts[conversation.contact_id]},
        }

    def agent_reply(self, conversation_id: int, text: str, *, private: bool = False) -> dict[str, Any]:
        """The message_created payload of a colleague's answer (Chatwoot's Message#webhook_data)."""
        conversation = self.conversations[conversation_id]
        return {
            "event": "message_created",
            "id": 900 + len(conversation.messages),
            "content": text,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
            "created_at": "2026-12-01T10:00:00.000Z",
            "account": {"id": ACCOUNT, "name": "ZonWarmte"},
            "inbox": {"id": INBOX, "name": "Assistent"},
            "sender": {"id": 1, "name": "Sanne", "email": "sanne@zonwarmte.example", "type": "user"},
            "conversation": self._conversation_data(conversation),
        }

    def resolved(self, conversation_id: int) -> dict[str, Any]:
        """The conversation_status_changed payload when a colleague resolves the conversation."""
        conversation = self.conversations[conversation_id]
        conversation.status = "resolved"
        return {
            **self._conversation_data(conversation),
            "event": "conversation_status_changed",
            "changed_attributes": [{"status": {"previous_value": "open", "current_value": "resolved"}}],
        }


def send_webhook(
    url: str, payload: dict[str, Any], token: str | None, secret: str | None = None
) -> httpx.Response:
    """POST a webhook as Chatwoot does, to ``url`` with ``?token=`` (and a signature with ``secret``)."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        stamp = str(int(time.time()))
        digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers |= {"X-Chatwoot-Timestamp": stamp, "X-Chatwoot-Signature": f"sha256={digest}"}
    params = {"token": token} if token is not None else {}
    return httpx.post(url, content=body, headers=headers, params=params, timeout=10)
