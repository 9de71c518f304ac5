"""PatientRemoteAction checks action server answers as Rasa does (cheaper), and keeps its connection."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError, validate
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
from rasa.utils.endpoints import EndpointConfig

from bot.action_retry import PatientRemoteAction, answer_error, close_sessions


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


# Rasa's event schema names every event type once: the answers below mix those with wrong ones.
EVENT_NAMES = [one["properties"]["event"]["const"] for one in EVENT_SCHEMA["oneOf"]]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
FIELDS = ["event", "name", "value", "text", "timestamp", "metadata", "parse_data", "entities", "policy",
          "confidence", "trigger_date_time", "intent", "kill_on_user_message"]  # fmt: skip
EVENTS = st.dictionaries(
    st.sampled_from(FIELDS), st.one_of(st.sampled_from([*EVENT_NAMES, "no_such_event"]), VALUES), max_size=5
)
RESPONSES = st.one_of(
    st.lists(st.one_of(st.dictionaries(st.just("text"), VALUES), VALUES), max_size=2), VALUES
)
ANSWERS = st.one_of(
    st.fixed_dictionaries({"events": st.lists(EVENTS, max_size=3)}, optional={"responses": RESPONSES}), VALUES
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANSWERS)
def test_an_answer_is_refused_exactly_when_rasas_own_check_refuses_it(answer: object) -> None:
    try:
        validate(answer, PatientRemoteAction.action_response_format_spec())
    except ValidationError:
        accepted_by_rasa = False
    else:
        accepted_by_rasa = True
    assert (answer_error(answer) is None) == accepted_by_rasa


@pytest.mark.parametrize("event_name", EVENT_NAMES)
def test_each_event_type_rasa_knows_passes_with_its_required_fields(event_name: str) -> None:
    event = {"event": event_name, "name": "journey_phase", "value": "need", "entities": []}
    validate({"events": [event]}, PatientRemoteAction.action_response_format_spec())
    assert answer_error({"events": [event]}) is None


async def _serve_counting_connections(peers: list[int]) -> web.AppRunner:
    async def answer(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": [{"text": "Hallo"}]})

    app = web.Application()
    app.router.add_post("/webhook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    return runner


@pytest.mark.parametrize("kept", [True, False])
def test_calls_share_one_connection_only_through_the_kept_session(kept: bool) -> None:
    async def three_calls() -> list[int]:
        peers: list[int] = []
        runner = await _serve_counting_connections(peers)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
        if kept:
            endpoint = PatientRemoteAction("action_journey_reply", endpoint).action_endpoint
        try:
            for _ in range(3):
                assert await endpoint.request(json={"next_action": "action_journey_reply"}, method="post") == {
                    "events": [], "responses": [{"text": "Hallo"}]}  # fmt: skip
            if kept:
                async with endpoint.session() as session:
                    pass
                assert not session.closed, "leaving `async with` keeps the session for the next call"
                await close_sessions()  # what Rasa's server does when it stops
                assert session.closed
                async with endpoint.session() as again:
                    assert again is not session, "a closed session is not used again"
                await close_sessions()
        finally:
            await runner.cleanup()
        return peers

    peers = asyncio.run(three_calls())
    assert len(peers) == 3
    assert len(set(peers)) == (1 if kept else 3)
