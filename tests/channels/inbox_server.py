"""A WhatsApp channel in its own process, so a test can kill it (SIGKILL) between the 200 and the reply.

``python -m tests.channels.inbox_server DATABASE_URL PORT LOG_FILE GRAPH_URL`` serves the channel on
127.0.0.1:PORT with its inbox in DATABASE_URL; every message handed to "Rasa" is appended to LOG_FILE
as a line of JSON. With INBOX_HANG=1 in the environment a message whose text starts with "hang"
never finishes, like a Rasa that stalls.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.inbox import InboxStore, InboxWorker
from tests.channels.whatsapp_webhook import CONVERSATION_KEY, channel

LEASE_SECONDS = 1.0


def main(database_url: str, port: int, log_file: Path, graph_url: str) -> None:
    async def on_new_message(message: UserMessage) -> None:
        with log_file.open("a", encoding="utf-8") as log:
            log.write(json.dumps({"text": message.text, "message_id": message.message_id}) + "\n")
        if os.environ.get("INBOX_HANG") == "1" and (message.text or "").startswith("hang"):
            await asyncio.sleep(3600)

    store = InboxStore(database_url, CONVERSATION_KEY, lease_seconds=LEASE_SECONDS)
    inbox = InboxWorker(store, "WhatsApp message", sweep_seconds=0.5)

    class Graph:
        url = graph_url

    whatsapp = channel(Graph(), inbox=inbox)  # type: ignore[arg-type]
    app = Sanic("inbox_server")
    app.config.ACCESS_LOG = False
    app.blueprint(whatsapp.blueprint(on_new_message), url_prefix="/webhooks/whatsapp")
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
