"""Rasa's socket.io channel with the room join that works on every python-socketio 5.x.

Rasa 3.6 calls ``sio.enter_room(...)`` without ``await``. Newer python-socketio made it a coroutine
on ``AsyncServer``, so with ``session_persistence`` the socket never joins its session room and no
bot reply reaches the web widget. This channel replaces that one handler and awaits when needed.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class FixedSocketIOInput(SocketIOInput):
    """``SocketIOInput`` whose ``session_request`` handler awaits ``enter_room`` when it is a coroutine.

    The name stays "socketio", so the route (/socket.io) and the recorded input channel are unchanged.
    """

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's blueprint, with our ``session_request`` registered over Rasa's (last one wins)."""
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None, "SocketIOInput.blueprint sets self.sio"
        namespace = self.namespace

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, data["session_id"], namespace=namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=namespace)
            logger.debug("Socket %s joined session %s.", sid, data["session_id"])

        return socketio_webhook
