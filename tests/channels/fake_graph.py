"""A real HTTP server on 127.0.0.1 standing in for Meta's Graph API (and Twilio's Messages API).

It records every request it receives and can be told to fail the next N requests (429 with
Retry-After, 500, ...), so retry behaviour is tested over a real socket.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it; ``status`` is what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}


@dataclass
class _Failure:
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeGraphServer:
    """Context manager: ``with FakeGraphServer() as graph: graph.url`` is the API base to configure."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._records: list[Recorded] = []
        self._failures: list[_Failure] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-graph", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeGraphServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests with ``status`` (optionally with a Retry-After header)."""
        with self._lock:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            self._failures.append(_Failure(status, times, headers))

    def clear(self) -> None:
        """Forget recorded requests and pending failures."""
        with self._lock:
            self._records.clear()
            self._failures.clear()

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._records)

    def messages_to(self, phone: str) -> list[dict[str, Any]]:
        """The WhatsApp message bodies that were accepted (2xx) for ``phone``."""
        return [
            r.json
            for r in self.requests
            if r.status < 300 and r.path.endswith("/messages") and r.json.get("to") == phone
        ]

    def wait_for(self, condition: Callable[[list[Recorded]], bool], timeout: float = 10.0) -> list[Recorded]:
        """Block until ``condition(requests)`` holds; return the requests (assert on them afterwards)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition(list(self._records)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return list(self._records)

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if self._failures:
                failure = self._failures[0]
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.pop(0)
                status, extra = failure.status, failure.headers
                reply: dict[str, Any] = {"error": {"message": "fake failure", "code": status}}
            else:
                status, extra = 200, {}
                reply = {
                    "messaging_product": "whatsapp",
                    "messages": [{"id": f"wamid.fake{len(self._records)}"}],
                }
            self._records.append(Recorded(method, path, headers, body, status))
            self._lock.notify_all()
        return status, extra, json.dumps(reply).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, extra, reply = server._answer(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **extra}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet; the records are the log."""

        return Handler
