"""Runs input channels in a real Sanic server on 127.0.0.1, mounted the way Rasa mounts them.

The ``on_new_message`` callback is a :class:`Recorder` (our stand-in for Rasa's agent): it records the
UserMessages and can answer through the message's real output channel, as the agent would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urljoin

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.server import configure_cors
from sanic import Sanic

Reply = Callable[[UserMessage], Awaitable[None]]


class Recorder:
    """Records every UserMessage a channel hands to Rasa; optionally replies like the agent."""

    def __init__(self, reply: Reply | None = None) -> None:
        self.messages: list[UserMessage] = []
        self._reply = reply
        self._changed = threading.Condition()

    async def __call__(self, message: UserMessage) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        if self._reply is not None:
            await self._reply(message)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[UserMessage]:
        """Wait until ``count`` messages arrived (channels may hand them over in the background)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            return list(self.messages)


@contextmanager
def serve(
    channel: InputChannel, recorder: Recorder, route: str = "/webhooks/", cors: str | None = None
) -> Iterator[str]:
    """Serve ``channel`` under ``/webhooks/<name>`` like ``rasa.core.channels.channel.register``.

    ``cors`` is what ``rasa run --cors`` would get. Yields the server's base URL (http://127.0.0.1:PORT);
    the server stops on exit.
    """
    Sanic.test_mode = True  # lets several apps start in one process (Sanic's TouchUp keeps the originals)
    app = Sanic(f"test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    if cors is not None:
        configure_cors(app, cors)
    app.blueprint(channel.blueprint(recorder), url_prefix=urljoin(route, channel.url_prefix()))
    with run_app(app) as (base, _loop):
        yield base


@contextmanager
def run_app(app: Sanic) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """Run ``app`` on a free loopback port in a thread of its own; yields its base URL and event loop.

    Shut down as Sanic's own runner does, so websockets and pending tasks end cleanly.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stopping: list[asyncio.Event] = []

    async def run() -> None:
        server = await app.create_server(sock=sock, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        stopping.append(asyncio.Event())
        started.set()
        await stopping[0].wait()
        await server.before_stop()
        server.close()
        await server.wait_closed()
        for connection in list(server.connections):  # as Sanic's own runner does at shutdown
            if getattr(connection, "websocket", None):
                connection.websocket.fail_connection(code=1001)
            else:
                connection.abort()
        await asyncio.sleep(0.05)  # let the protocols' close callbacks run on this loop
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await server.after_stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True)
    thread.start()
    if not started.wait(20):
        raise RuntimeError("the Sanic test server did not start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", loop
    finally:
        loop.call_soon_threadsafe(stopping[0].set)
        thread.join(10)
        loop.close()
        sock.close()
