"""The handoff to a person: the callback form (validate, ask, submit) and the live handover (live).

Split in modules; the names the tests and other modules use are re-exported here.
"""

from __future__ import annotations

from actions.handoff import live
from actions.handoff.ask import (
    ActionAskHandoffConsent,
    ActionAskHandoffMoment,
    ActionAskHandoffName,
    ActionAskHandoffPhone,
    ActionAskHandoffReason,
)
from actions.handoff.common import FORM, SLOTS, handoff_store, known_phone, reset_events, sealer
from actions.handoff.common import reset as _reset_common
from actions.handoff.submit import ActionHandoffSubmit
from actions.handoff.validate import ValidateHandoffForm


def reset() -> None:
    """Drop the cached store, key and Chatwoot settings, so tests can point the next call elsewhere."""
    _reset_common()
    live.reset()


__all__ = [
    "FORM",
    "SLOTS",
    "ActionAskHandoffConsent",
    "ActionAskHandoffMoment",
    "ActionAskHandoffName",
    "ActionAskHandoffPhone",
    "ActionAskHandoffReason",
    "ActionHandoffSubmit",
    "ValidateHandoffForm",
    "handoff_store",
    "known_phone",
    "reset",
    "reset_events",
    "sealer",
]
