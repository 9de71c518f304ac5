"""PatientRemoteAction checks action server answers as Rasa does, with a validator built once."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.utils.endpoints import EndpointConfig

from bot.action_retry import PatientRemoteAction


@pytest.fixture
def action() -> PatientRemoteAction:
    return PatientRemoteAction("action_journey_reply", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_a_well_formed_answer_passes(action: PatientRemoteAction) -> None:
    answer = {
        "events": [{"event": "slot", "name": "journey_phase", "value": "need"}],
        "responses": [{"text": "Hallo", "buttons": [{"title": "Ja", "payload": "/affirm"}]}],
    }
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize(
    "answer",
    [
        {"events": "not a list", "responses": []},
        {"events": [{"name": "no event type"}], "responses": []},
        {"events": [], "responses": "not a list"},
    ],
)
def test_a_malformed_answer_is_refused_with_rasas_hint(action: PatientRemoteAction, answer: dict) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(answer)
