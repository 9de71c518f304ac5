"""The durable inbox of the webhook channels: a message is stored before it is acknowledged.

WhatsApp and Twilio do not resend a message they got a 200 for. The channels therefore write each
message (keyed by its provider id, so a redelivery is recognised) to the ``inbox_messages`` table
in the touchpoint database first, answer the provider, and process it from there in the order the
customer sent it. Rows a crash left behind are replayed when the server starts again.
"""

from bot.inbox.rasa import attach, channel_inbox
from bot.inbox.store import InboxStore, Received, Stored
from bot.inbox.worker import InboxFull, InboxWorker

__all__ = ["InboxFull", "InboxStore", "InboxWorker", "Received", "Stored", "attach", "channel_inbox"]
