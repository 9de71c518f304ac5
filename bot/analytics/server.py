"""The HTML report on the demo web server: GET /report with the REPORT_TOKEN from .env.

The token comes as `Authorization: Bearer <token>` or `?token=<token>` (a link a marketer can
open); without it the answer is 401 and nothing is computed. Query parameters since, until,
channel, persona, journey and product filter as on the command line. One report is computed at a
time (it is heavy on a small machine); the page forbids scripts and is never cached.
"""

from __future__ import annotations

import argparse
import hmac
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.cli import filters_from, open_engine
from bot.analytics.model import ReportError
from bot.analytics.render_html import CSP, render_html
from bot.analytics.service import journey_ids, make_report

REPORT_PATH = "/report"
FILTERS = ("since", "until", "channel", "persona", "journey", "product")
MAX_QUERY = 2048


class ReportSite:
    def __init__(self, token: str, database_url: str) -> None:
        self._token = token
        self._database_url = database_url
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def _authorised(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> bool:
        header = handler.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self._token.encode())

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if len(parts.query) > MAX_QUERY:
            _send(handler, 414, "De adresregel is te lang.")
            return
        query = parse_qs(parts.query)
        if not self._authorised(handler, query):
            _send(
                handler, 401, "Voor het rapport is het token uit .env nodig (REPORT_TOKEN): /report?token=..."
            )
            return
        args = argparse.Namespace(
            **{name: (query.get(name) or [None])[0] for name in FILTERS},
            format="html",
            session_gap=(query.get("session_gap") or ["30"])[0],
            min_answers=(query.get("min_answers") or ["30"])[0],
        )
        try:
            filters = filters_from(args)
            with self._lock:
                if self._engine is None:
                    self._engine = open_engine(self._database_url)
                report = make_report(self._engine, filters, journey_ids())
        except ReportError as error:
            _send(handler, 400, f"Het rapport kan zo niet: {error}")
            return
        except SQLAlchemyError as error:
            _send(handler, 503, f"De database is nu niet bereikbaar ({type(error).__name__}).")
            return
        _send(handler, 200, render_html(report), "text/html")

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _send(handler: BaseHTTPRequestHandler, status: int, body: str, kind: str = "text/plain") -> None:
    payload = body.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", f"{kind}; charset=utf-8")
    handler.send_header("Content-Length", str(len(payload)))
    handler.send_header("Cache-Control", "no-store")
    handler.send_header("Referrer-Policy", "no-referrer")
    handler.send_header("X-Content-Type-Options", "nosniff")
    handler.send_header("Content-Security-Policy", CSP)
    if status == 401:
        handler.send_header("WWW-Authenticate", 'Bearer realm="report"')
    handler.end_headers()
    handler.wfile.write(payload)
