"""The demo web server of `make run`: the widget page from `web/`, and `GET /chat-token`.

`/chat-token` shows how a website issues the socket.io JWT that the channel's `jwt_key` requires:
the visitor's chat session id lives in an HttpOnly, SameSite=Strict cookie; the token's `sub`
binds the socket to that session (so a browser cannot pick another visitor's conversation); and
an expiry of a working day limits what a leaked token is worth (it is checked when the socket connects). Cross-site requests are refused, and no
CORS headers are sent, so another site cannot fetch a token. Without a key it answers
`{"token": null}` and the widget connects unsigned. Loopback only: a real website does the same
on its own origin, over HTTPS, with the cookie also marked `Secure`.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import secrets
import threading
import time
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import jwt

from bot.analytics.server import REPORT_PATH, ReportSite

TOKEN_PATH = "/chat-token"
SESSION_COOKIE = "chat_session"
TOKEN_SECONDS = 8 * 3600
# The same shape the socket.io channel accepts as a session id.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Fetch metadata a browser sends: only the page's own origin (or a typed URL) may get a token.
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


def issue_token(jwt_key: str, session_id: str, now: float | None = None) -> str:
    """A signed token whose `sub` is the visitor's session id; it expires after TOKEN_SECONDS."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": session_id, "iat": issued, "exp": issued + TOKEN_SECONDS}
    return jwt.encode(claims, jwt_key, algorithm="HS256")


class WebHandler(http.server.SimpleHTTPRequestHandler):
    """Static files plus the token endpoint; no access log (paths could carry query strings)."""

    jwt_key: str | None = None
    # The analytics report at /report (bot.analytics.server), when REPORT_TOKEN is set.
    report: ReportSite | None = None

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if urlsplit(self.path).path == TOKEN_PATH:
            self._token()
            return
        if urlsplit(self.path).path == REPORT_PATH and self.report is not None:
            self.report.handle(self)
            return
        super().do_GET()

    def _session_from_cookie(self) -> str | None:
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(SESSION_COOKIE)
        value = morsel.value if morsel is not None else ""
        return value if _SESSION_ID.match(value) else None

    def _token(self) -> None:
        if self.headers.get("Sec-Fetch-Site", "same-origin") not in _ALLOWED_FETCH_SITES:
            self._json(403, {"error": "chat tokens are only issued to this site's own pages"})
            return
        if not self.jwt_key:
            self._json(200, {"token": None})
            return
        session_id = self._session_from_cookie()
        cookie = None
        if session_id is None:
            session_id = secrets.token_hex(16)
            cookie = f"{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
        self._json(200, {"token": issue_token(self.jwt_key, session_id)}, cookie)

    def _json(self, status: int, body: dict[str, object], cookie: str | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(payload)))
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(payload)


def serve_web(
    directory: Path, port: int, jwt_key: str | None = None, report: ReportSite | None = None
) -> http.server.ThreadingHTTPServer:
    """Serve `directory`, the token endpoint and (with `report`) /report on 127.0.0.1:`port` in a daemon thread."""
    handler_class = type("BoundWebHandler", (WebHandler,), {"jwt_key": jwt_key or None, "report": report})
    handler = functools.partial(handler_class, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    return server
