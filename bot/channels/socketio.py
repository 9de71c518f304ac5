"""Rasa's socket.io channel with working rooms, per-socket sessions, bounded messages and a signed JWT.

Rasa 3.6 calls ``sio.enter_room(...)`` without ``await``; newer python-socketio made it a coroutine, so
no reply reached the widget with ``session_persistence``. Rasa also lets any socket post into any
session id it names. Here a socket may only speak in the session it requested (stored in its
socket.io session), the conversation id is ``web:<session id>``, text is cut at MAX_MESSAGE_CHARS,
and with ``jwt_key`` a socket must present a valid token (``exp`` required) when it connects: as
``auth.token`` (socket.io clients) or as ``?token=`` in the URL (rasa-webchat 1.0.1 cannot send
``auth``). A token with ``sub`` fixes the session id to it, so the website decides the session.
A conversation's messages enter Rasa one at a time in arrival order (bot.channels.bursts); one that
waits longer than BURST_WAIT_SECONDS gets "Een moment, ik kom erop terug." and keeps its place.
"""

from __future__ import annotations

import inspect
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import jwt
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.bursts import ONE_MOMENT_TEXT, TOO_MANY_TEXT, Busy, ConversationTurns
from bot.channels.handover import HandoverRelay
from bot.channels.limits import MAX_BODY_BYTES, MessageLimit, apply_limits
from bot.conversation_ids import conversation_id

logger = logging.getLogger(__name__)

WEB_PREFIX = "web:"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class WebOutput(SocketIOOutput):
    """Sends to the socket.io room of a conversation: ``web:<session>`` is sent to room ``<session>``."""

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=_room(socket_id))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        json_message.setdefault("room", _room(recipient_id))
        await self.sio.emit(self.bot_message_evt, **json_message)


def _room(recipient_id: str) -> str:
    return recipient_id.removeprefix(WEB_PREFIX)


def _token_of(environ: dict[str, Any], auth: Any) -> str:
    """The JWT from ``auth.token`` or the handshake's ``?token=``; empty when there is none."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return str(auth["token"])
    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    return (query.get("token") or [""])[0]


class FixedSocketIOInput(SocketIOInput):
    """The website channel; the name stays "socketio", so the route (/socket.io) is unchanged."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Rasa's settings; ``jwt_key`` named but empty stops Rasa (the production profile needs a key)."""
        if credentials and "jwt_key" in credentials and not credentials["jwt_key"]:
            raise RasaException("The socket.io channel's jwt_key (SOCKETIO_JWT_KEY) is empty")
        return super().from_credentials(credentials)

    def __init__(
        self,
        *args: Any,
        limit: MessageLimit | None = None,
        turns: ConversationTurns | None = None,
        handover: HandoverRelay | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit or MessageLimit()
        self.turns = turns or ConversationTurns()
        self.handover = handover or HandoverRelay.from_env()

    def get_output_channel(self) -> WebOutput | None:
        """For events Rasa sends later (e.g. reminders); ``None`` when this worker has no socket server."""
        return WebOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def _claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims when it is signed with ``jwt_key`` and not expired; None otherwise."""
        try:
            claims = jwt.decode(
                token, self.jwt_key, algorithms=[str(self.jwt_algorithm)], options={"require": ["exp"]}
            )
        except jwt.InvalidTokenError as problem:
            logger.warning("Socket.io connection refused: %s.", type(problem).__name__)
            return None
        return dict(claims)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server at ``socketio_path`` and GET /webhooks/socketio/ (health)."""
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=MAX_BODY_BYTES)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        apply_limits(webhook, self.limit)
        self.handover.attach(webhook)
        self.sio = sio
        namespace = self.namespace

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if not self.jwt_key:
                return True
            claims = self._claims(_token_of(environ, auth))
            if claims is None:
                return False
            subject = claims.get("sub")
            bound = subject if isinstance(subject, str) and _SESSION_ID.match(subject) else None
            await sio.save_session(sid, {"bound_session": bound}, namespace=namespace)
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            state = await sio.get_session(sid, namespace=namespace)
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = state.get("bound_session") or (
                requested if isinstance(requested, str) and _SESSION_ID.match(requested) else uuid.uuid4().hex
            )
            state["session_id"] = session_id
            await sio.save_session(sid, state, namespace=namespace)
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            data = data if isinstance(data, dict) else {}
            text = data.get("message")
            room = await self._room_of(sid, data)
            if room is None or not isinstance(text, str) or not text.strip():
                logger.info("Socket.io message without a joined session or text ignored.")
                return
            output = WebOutput(sio, self.bot_message_evt)
            sender = conversation_id("web", room, "")
            text, cut = self.limit.cut(text)
            if cut:
                await output.send_text_message(sender, self.limit.notice("web"))
            metadata = data.get(self.metadata_key)
            message = UserMessage(
                text,
                output,
                sender,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else {},
            )

            async def one_moment() -> None:
                await output.send_text_message(sender, ONE_MOMENT_TEXT)

            try:
                async with self.turns.turn(sender, on_slow=one_moment):
                    # With a colleague (live handover) the message goes to Chatwoot, not to Rasa.
                    if not await self.handover.intercept(sender, text, output):
                        await on_new_message(message)
            except Busy as busy:
                logger.warning("Socket.io message not taken (conversation %s): %s.", sender, busy)
                await output.send_text_message(sender, TOO_MANY_TEXT)

        return webhook

    async def _room_of(self, sid: str, data: dict[str, Any]) -> str | None:
        """The room a message belongs to: the socket's own session (it must name that one), or the socket."""
        if not self.session_persistence:
            return sid
        assert self.sio is not None
        joined = (await self.sio.get_session(sid, namespace=self.namespace)).get("session_id")
        if joined is None or data.get("session_id") != joined:
            return None
        return str(joined)
