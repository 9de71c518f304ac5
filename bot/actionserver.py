"""The custom action server, bound to loopback and open only to callers that carry the shared secret.

`rasa run actions` listens on 0.0.0.0 and runs any action for anyone who can reach it: a forged
`POST /webhook` could store an NPS score or a touchpoint. This entry point serves the same
rasa_sdk app, but

- listens on ACTION_HOST (127.0.0.1 unless the action server runs on another host than Rasa);
- refuses every request except `GET /health` without `Authorization: Bearer <ACTION_SERVER_TOKEN>`
  (401 without a token, 403 with a wrong one), compared in constant time. Rasa sends the header
  from endpoints.yml. A header, not Rasa's `token:` query parameter, so the secret never
  appears in a URL, an access log or a proxy log;
- answers errors with a short JSON body (rasa_sdk's own handler echoes the whole request, the
  customer's conversation, back) and logs only the action name and sizes, through bot.logs.

Run: `python -m bot.actionserver --port 5055`.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import sys

from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.gc_tuning import freeze_loaded
from bot.handoff.service import attach as attach_handoff_worker
from bot.settings import SettingsError, action_host, action_server_token

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
# Rasa posts the conversation of the current session with every call; a long one is some 100 KB.
MAX_REQUEST_BYTES = 16 * 1024 * 1024
_BEARER = "bearer "


def is_authorised(header: str | None, token: str) -> bool | None:
    """True for the right bearer token, False for a wrong one, None when there is none."""
    if not header or not header.lower().startswith(_BEARER):
        return None
    offered = header[len(_BEARER) :].strip().encode("utf-8")
    return hmac.compare_digest(offered, token.encode("utf-8"))


def _action_name(request: Request) -> str:
    try:
        call = json.loads(request.body or b"{}")
    except ValueError:
        return "(unparsable body)"
    name = call.get("next_action") if isinstance(call, dict) else None
    return str(name)[:80] if name else "(none)"


def build_app(token: str) -> Sanic:
    """rasa_sdk's app for the `actions` package, with the token check and a quiet error handler."""
    app = create_app("actions", cors_origins="")
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        verdict = is_authorised(request.headers.get("authorization"), token)
        if verdict:
            return None
        logger.warning(
            "action server refused %s %s from %s: %s token",
            request.method,
            request.path,
            request.ip,
            "no" if verdict is None else "wrong",
        )
        if verdict is None:
            return response.json(
                {"error": "authentication required"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return response.json({"error": "forbidden"}, status=403)

    @app.exception(Exception)
    async def quiet_errors(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException):
            status = int(getattr(exception, "status_code", 500) or 500)
            if status < 500:
                return response.json({"error": str(exception)[:200]}, status=status)
        logger.error(
            "action %s failed on %s %s (%d bytes): %s",
            _action_name(request),
            request.method,
            request.path,
            len(request.body or b""),
            type(exception).__name__,
            exc_info=exception,
        )
        return response.json({"error": "the action failed"}, status=500)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    attach_handoff_worker(app)  # delivers callback requests in a background thread
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the custom action server (token required).")
    parser.add_argument("-p", "--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logs.install()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s", stream=sys.stderr
    )
    try:
        token = action_server_token()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    host = action_host()
    app = build_app(token)
    freeze_loaded()  # the actions, journeys and libraries are loaded: later collections skip them
    logger.info("action server on http://%s:%d (token required)", host, args.port)
    app.run(host=host, port=args.port, access_log=False, workers=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
