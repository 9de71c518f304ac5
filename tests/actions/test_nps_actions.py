"""The NPS form's actions against rasa_sdk trackers, the shipped journey content and a real SQLite store."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from actions.nps import ActionAskNpsReason, ActionAskNpsScore, ActionNpsSubmit, ValidateNpsForm, interrupts
from bot.channels import channel_of
from bot.content.select import Situation
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(PROJECT_ROOT / "domain.yml").as_dict()
SESSION_START = 1_750_000_000.0


@pytest.fixture(autouse=True)
def isolated_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journey.db'}")
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'rasa_tracker.db'}")
    monkeypatch.setenv("PSEUDONYM_KEY", "nps-test-key-" + "x" * 20)
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("JOURNEYS_DIR", str(PROJECT_ROOT / "journeys"))
    runtime.reset()
    yield
    runtime.reset()


def form_tracker(
    text: str,
    requested: str | None = "nps_score",
    *,
    slots: dict[str, Any] | None = None,
    channel: str = "rest",
    sender: str = "visitor-1",
    intent: str = "nlu_fallback",
    before: list[dict[str, Any]] | None = None,
) -> Tracker:
    """The tracker Rasa sends the validation action: the answer, then the from_text slot candidate."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.3}, "entities": []}
    events: list[dict[str, Any]] = [
        {"event": "session_started", "timestamp": SESSION_START},
        {"event": "active_loop", "name": "nps_form", "timestamp": SESSION_START + 1},
        *(before or []),
        {
            "event": "user",
            "text": text,
            "parse_data": latest,
            "input_channel": channel,
            "timestamp": SESSION_START + 2,
        },
    ]
    all_slots = {"journey_phase": "aftercare", "persona": None, "nps_attempts": 0.0, **(slots or {})}
    if requested is not None:
        events.append({"event": "slot", "name": requested, "value": text, "timestamp": SESSION_START + 3})
        all_slots[requested] = text
    all_slots["requested_slot"] = requested
    return Tracker(sender, all_slots, latest, events, False, None, {"name": "nps_form"}, "action_listen")


def run_events(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    return dispatcher.messages, list(asyncio.run(action.run(dispatcher, tracker, DOMAIN)))


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, {
        event["name"]: event["value"] for event in events if event["event"] == "slot"
    }


def expected(key: str, tracker: Tracker) -> str:
    """The content text the action should pick for this visitor's situation (first phrasing)."""
    situation = Situation(
        phase=tracker.get_slot("journey_phase"),
        persona=tracker.get_slot("persona"),
        channel=channel_of(tracker.get_latest_input_channel()),
    )
    return runtime.content().current().message(key, situation).text


@pytest.mark.parametrize(
    ("answer", "score"),
    [("8", 8), ("een dikke 8", 8), ("tien!", 10), ("8,5", 9), ("een 7 min", 7), ("0", 0), ("9/10", 9)],
)
def test_a_readable_score_fills_the_slot(answer: str, score: int) -> None:
    messages, slots = run(ValidateNpsForm(), form_tracker(answer))
    assert slots == {"nps_score": score}
    assert messages == []


def test_a_score_with_a_reason_fills_both_so_the_reason_is_not_asked() -> None:
    _, slots = run(ValidateNpsForm(), form_tracker("6, de monteur was te laat"))
    assert slots == {"nps_score": 6, "nps_reason": "de monteur was te laat"}


def test_the_first_unreadable_answer_is_asked_again_with_the_retry_message() -> None:
    messages, slots = run(ValidateNpsForm(), form_tracker("geen idee eigenlijk"))
    assert slots == {"nps_score": None, "nps_attempts": 1}
    assert messages == []  # the form asks again; action_ask_nps_score says the retry text

    retry_tracker = form_tracker("geen idee eigenlijk", None, slots={"nps_attempts": 1.0})
    messages, _ = run(ActionAskNpsScore(), retry_tracker)
    assert [message["text"] for message in messages] == [expected("nps_retry", retry_tracker)]


def test_the_second_unreadable_answer_ends_the_form_politely() -> None:
    tracker = form_tracker("😀", slots={"nps_attempts": 1.0})
    messages, slots = run(ValidateNpsForm(), tracker)
    assert slots == {"nps_score": None, "nps_attempts": 2, "requested_slot": None}
    assert [message["text"] for message in messages] == [expected("nps_give_up", tracker)]


@pytest.mark.parametrize(
    "answer",
    [
        "Ik ben nog geen klant van u, dus dat kan ik niet beoordelen.",
        "Liever niet.",
        "ik wil geen cijfer geven",
        "sla maar over",
    ],
)
def test_declining_to_score_ends_the_form_at_once(answer: str) -> None:
    tracker = form_tracker(answer)
    messages, slots = run(ValidateNpsForm(), tracker)
    assert slots == {"nps_score": None, "nps_attempts": 2, "requested_slot": None}
    assert [message["text"] for message in messages] == [expected("nps_give_up", tracker)]


@pytest.mark.parametrize("answer", ["11", "-3", "honderd", "", "x" * 10_000])
def test_impossible_scores_are_unreadable(answer: str) -> None:
    _, slots = run(ValidateNpsForm(), form_tracker(answer))
    assert slots["nps_score"] is None


@pytest.mark.parametrize("answer", ["nee", "Nee.", "geen", "skip", "nee hoor", "  "])
def test_no_reason_ends_the_form_without_one(answer: str) -> None:
    _, slots = run(ValidateNpsForm(), form_tracker(answer, "nps_reason", slots={"nps_score": 7}))
    assert slots == {"nps_reason": None, "requested_slot": None}


def test_a_reason_is_kept_and_capped() -> None:
    _, slots = run(ValidateNpsForm(), form_tracker("Snel en netjes.", "nps_reason", slots={"nps_score": 9}))
    assert slots == {"nps_reason": "Snel en netjes."}
    _, slots = run(ValidateNpsForm(), form_tracker("lang " * 400, "nps_reason", slots={"nps_score": 9}))
    assert len(slots["nps_reason"]) == 1000


@pytest.mark.parametrize(
    ("persona", "channel"), [(None, "rest"), ("mkb_owner", "whatsapp"), ("senior", "socketio")]
)
def test_the_questions_come_from_the_journey_content(persona: str | None, channel: str) -> None:
    tracker = form_tracker("bedankt", None, slots={"persona": persona}, channel=channel)
    messages, _ = run(ActionAskNpsScore(), tracker)
    assert [message["text"] for message in messages] == [expected("nps_question", tracker)]
    messages, _ = run(ActionAskNpsReason(), tracker)
    assert [message["text"] for message in messages] == [expected("nps_reason_question", tracker)]


def stored_touchpoints() -> list[dict[str, Any]]:
    out = io.StringIO()
    runtime.store().export("touchpoints", "json", out)
    return list(json.loads(out.getvalue()))


@pytest.mark.parametrize(
    ("score", "key"), [(10, "nps_thanks_promoter"), (7, "nps_thanks_passive"), (3, "nps_thanks_detractor")]
)
def test_submit_stores_the_answer_and_thanks_by_category(score: int, key: str) -> None:
    slots = {"nps_score": score, "nps_reason": "de monteur belde 06-12345678 niet", "persona": "senior"}
    tracker = form_tracker("nee", None, slots=slots, channel="whatsapp")
    messages, events = run(ActionNpsSubmit(), tracker)

    assert [message["text"] for message in messages] == [expected(key, tracker)]
    # A detractor was offered a call: a "ja" now opens the callback form.
    offered = {"handoff_offered": True} if key == "nps_thanks_detractor" else {}
    assert events == {"nps_due": False, "nps_score": None, "nps_reason": None, "nps_attempts": 0, **offered}
    [touchpoint] = stored_touchpoints()
    assert touchpoint["nps_score"] == score
    assert touchpoint["nps_reason"] == "de monteur belde [telefoon] niet"
    assert (touchpoint["nps_phase"], touchpoint["channel"], touchpoint["persona"]) == (
        "aftercare",
        "whatsapp",
        "senior",
    )
    assert touchpoint["session_started_at"].startswith("2025-06-15T15:06:40")
    assert runtime.store().last_nps_at("visitor-1") is not None


def test_a_detractor_is_offered_a_call_back() -> None:
    messages, _ = run(ActionNpsSubmit(), form_tracker("nee", None, slots={"nps_score": 2}))
    buttons = [button["title"] for message in messages for button in message["buttons"]]
    assert "Bel mij terug" in buttons


def test_after_giving_up_submit_stores_nothing_and_says_nothing() -> None:
    messages, events = run(ActionNpsSubmit(), form_tracker("😀", None, slots={"nps_attempts": 2.0}))
    assert messages == []
    assert events == {"nps_due": False, "nps_score": None, "nps_reason": None, "nps_attempts": 0}
    assert stored_touchpoints() == []


@pytest.mark.parametrize(
    ("text", "intent", "asked", "expected"),
    [
        ("Hoe meld ik dat aan?", "malfunction", "nps_score", True),  # issue 9
        ("de app doet het niet", "app_monitoring", "nps_score", True),
        ("Kan ik iemand spreken", "request_human", "nps_score", True),
        ("Kan ik iemand spreken", "request_human", "nps_reason", True),
        ("Wat bedoel je?", "out_of_scope", "nps_score", True),
        ("Wanneer komt de monteur?", "nlu_fallback", "nps_reason", True),
        ("8", "give_score", "nps_score", False),
        ("8, maar de storing is nog niet weg", "malfunction", "nps_score", False),
        ("een 6? de monteur was te laat", "delay", "nps_score", False),
        ("Mijn postcode is 3512 AB, huisnummer 14", "give_score", "nps_score", False),  # unreadable: re-asked
        ("de monteur was te laat", "delay", "nps_reason", False),  # a topic as the reason
        ("bedankt?", "thanks", "nps_score", False),
        ("geen idee", "nlu_fallback", "nps_score", False),
        ("Ik ben nog geen klant van u, dus dat kan ik niet beoordelen.", "referral", "nps_score", False),
        ("liever niet, wat kost een batterij?", "price", "nps_score", True),  # the question wins
    ],
)
def test_what_interrupts_the_form(text: str, intent: str, asked: str, expected: bool) -> None:
    assert interrupts(intent, text, asked) is expected


def stored_turns() -> list[dict[str, Any]]:
    out = io.StringIO()
    runtime.store().export("turns", "json", out)
    return list(json.loads(out.getvalue()))


@pytest.mark.parametrize(
    ("text", "intent", "asked", "action"),
    [
        ("Hoe meld ik dat aan?", "malfunction", "nps_score", "action_journey_reply"),
        ("Hoezo dat?", "nlu_fallback", "nps_score", "action_journey_fallback"),
    ],
)
def test_a_question_leaves_the_form_for_the_normal_reply(
    text: str, intent: str, asked: str, action: str
) -> None:
    slots = {"nps_score": 7} if asked == "nps_reason" else {}
    tracker = form_tracker(text, asked, intent=intent, slots=slots)
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert messages == [], "the normal reply answers, not the form"
    assert events == [
        {"event": "slot", "timestamp": None, "name": asked, "value": None},
        {"event": "action_execution_rejected", "timestamp": None, "name": "nps_form", "policy": None,
         "confidence": None},
        {"event": "followup", "timestamp": None, "name": action},
    ]  # fmt: skip
    assert stored_turns() == [], "the reply action records the message, once"


REJECTED_ONCE = [{"event": "action_execution_rejected", "name": "nps_form", "timestamp": SESSION_START + 1.5}]


def test_a_second_question_ends_the_form_without_a_score() -> None:
    tracker = form_tracker("Hoe meld ik dat aan?", intent="malfunction", before=REJECTED_ONCE)
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert messages == []
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert slots == {
        "nps_score": None,
        "nps_reason": None,
        "nps_due": False,
        "nps_attempts": 0,
        "requested_slot": None,
    }
    assert events[-3:] == [
        {"event": "action_execution_rejected", "timestamp": None, "name": "nps_form", "policy": None,
         "confidence": None},
        {"event": "active_loop", "timestamp": None, "name": None},
        {"event": "followup", "timestamp": None, "name": "action_journey_reply"},
    ]  # fmt: skip
    assert stored_touchpoints() == []


def test_a_second_question_during_the_reason_keeps_the_score() -> None:
    tracker = form_tracker(
        "Kan ik iemand spreken?",
        "nps_reason",
        intent="request_human",
        slots={"nps_score": 4},
        before=REJECTED_ONCE,
    )
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert [message["text"] for message in messages] == [expected("nps_thanks_detractor", tracker)]
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "handoff_form"}
    [touchpoint] = stored_touchpoints()
    assert (touchpoint["nps_score"], touchpoint["nps_reason"]) == (4, None)


@pytest.mark.parametrize(("asked", "score"), [("nps_score", None), ("nps_reason", 7)])
def test_asking_for_a_person_ends_the_form_and_opens_the_handoff(asked: str, score: int | None) -> None:
    slots = {"nps_score": score} if score is not None else {}
    tracker = form_tracker("Kan ik iemand spreken?", asked, intent="request_human", slots=slots)
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert events[-3:] == [
        {"event": "action_execution_rejected", "timestamp": None, "name": "nps_form", "policy": None,
         "confidence": None},
        {"event": "active_loop", "timestamp": None, "name": None},
        {"event": "followup", "timestamp": None, "name": "handoff_form"},
    ]  # fmt: skip
    assert "020-123 45 67" not in " ".join(str(m.get("text")) for m in messages), "no phone text"
    assert [tp["nps_score"] for tp in stored_touchpoints()] == ([score] if score is not None else [])


def test_coming_back_after_the_reply_does_not_record_the_message_again() -> None:
    back = [
        {"event": "action_execution_rejected", "name": "nps_form", "timestamp": SESSION_START + 2.1},
        {"event": "action", "name": "action_journey_reply", "timestamp": SESSION_START + 2.2},
    ]
    tracker = form_tracker("Hoe meld ik dat aan?", None, intent="malfunction")
    tracker.events.extend(back)
    tracker.slots["requested_slot"] = "nps_score"
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert (messages, events) == ([], [])
    assert stored_turns() == []


@pytest.mark.parametrize(("intent", "due"), [("malfunction", True), ("thanks", False), ("give_score", True)])
def test_the_form_opened_by_mistake_closes_unsaid(intent: str, due: bool) -> None:
    tracker = form_tracker("Hoe meld ik dat aan?", None, intent=intent, slots={"nps_due": due})
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert messages == []
    assert events == [
        {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None},
        {"event": "active_loop", "timestamp": None, "name": None},
    ]


def test_the_form_opens_after_a_closing_message_when_due() -> None:
    tracker = form_tracker("bedankt", None, intent="thanks", slots={"nps_due": True})
    messages, events = run_events(ValidateNpsForm(), tracker)
    assert (messages, events) == ([], [])


# The rules in data/nps.yml, trained with Rasa's own RulePolicy (no model files, no `rasa train`).


@pytest.fixture(scope="module")
def rule_policy(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """RulePolicy trained on all the project's rules, as `rasa train` would (it refuses incomplete rules)."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.core.training_data.structures import StoryGraph

    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    steps = []
    for path in (PROJECT_ROOT / "data" / "rules.yml", PROJECT_ROOT / "data" / "nps.yml"):
        steps += YAMLStoryReader(domain).read_from_file(path)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    policy = RulePolicy.create(
        {**RulePolicy.get_default_config(), "core_fallback_action_name": "action_journey_fallback"},
        LocalModelStorage(tmp_path_factory.mktemp("model")),
        Resource("rule_policy"),
        ExecutionContext(GraphSchema({}), "nps-rules"),
    )
    policy.train(trackers, domain)
    return policy, domain


def next_action(rule_policy: Any, events: list[Any]) -> str:
    from rasa.shared.core.trackers import DialogueStateTracker

    policy, domain = rule_policy
    tracker = DialogueStateTracker.from_events("visitor-1", events, domain.slots)
    probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
    return str(domain.action_names_or_texts[probabilities.index(max(probabilities))])


def closing(intent: str, nps_due: bool) -> list[Any]:
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("bedankt, tot ziens", {"name": intent, "confidence": 0.98}),
        ActionExecuted("action_journey_close"),
        SlotSet("nps_due", nps_due),
    ]


def in_form(intent: str) -> list[Any]:
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered

    return [
        *closing("thanks", True),
        ActionExecuted("nps_form"),
        ActiveLoop("nps_form"),
        SlotSet("requested_slot", "nps_score"),
        ActionExecuted("action_listen"),
        UserUttered("6, de monteur was te laat", {"name": intent, "confidence": 0.41}),
    ]


@pytest.mark.parametrize("intent", ["thanks", "goodbye"])
def test_a_due_nps_question_follows_a_closing_message(rule_policy: Any, intent: str) -> None:
    assert next_action(rule_policy, closing(intent, True)) == "nps_form"
    assert next_action(rule_policy, closing(intent, False)) == "action_listen"


@pytest.mark.parametrize("intent", ["nlu_fallback", "give_score", "out_of_scope", "deny"])
def test_the_active_form_takes_the_answer_whatever_nlu_made_of_it(rule_policy: Any, intent: str) -> None:
    assert next_action(rule_policy, in_form(intent)) == "nps_form"


def test_the_finished_form_is_submitted(rule_policy: Any) -> None:
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet

    done = [
        *in_form("nlu_fallback"),
        SlotSet("nps_score", 6),
        SlotSet("nps_reason", "de monteur was te laat"),
    ]
    done += [ActionExecuted("nps_form"), ActiveLoop(None), SlotSet("requested_slot", None)]
    assert next_action(rule_policy, done) == "action_nps_submit"


def test_a_bare_score_outside_the_form_is_not_thanked_for(rule_policy: Any) -> None:
    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered

    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("Mijn postcode is 3512 AB, huisnummer 14", {"name": "give_score", "confidence": 0.9}),
    ]
    assert next_action(rule_policy, events) == "action_journey_fallback"


def interrupted(intent: str, reply: str) -> list[Any]:
    """The form asked, a question came, validate_nps_form rejected the form and the reply answered."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActiveLoop,
        SlotSet,
        UserUttered,
    )

    return [
        *closing("thanks", True),
        ActionExecuted("nps_form"),
        ActiveLoop("nps_form"),
        SlotSet("requested_slot", "nps_score"),
        ActionExecuted("action_listen"),
        UserUttered("Hoe meld ik dat aan?", {"name": intent, "confidence": 0.8}),
        ActionExecutionRejected("nps_form"),
        ActionExecuted(reply),
    ]


@pytest.mark.parametrize(
    ("intent", "reply"),
    [
        ("malfunction", "action_journey_reply"),
        ("request_human", "action_journey_reply"),
        ("out_of_scope", "action_journey_reply"),
        ("thanks", "action_journey_reply"),
        ("nlu_fallback", "action_journey_fallback"),
    ],
)
def test_after_the_reply_to_a_question_the_form_asks_again(rule_policy: Any, intent: str, reply: str) -> None:
    assert next_action(rule_policy, interrupted(intent, reply)) == "nps_form"


def test_after_the_form_ended_for_a_question_nothing_more_is_said(rule_policy: Any) -> None:
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionExecutionRejected,
        ActiveLoop,
        SlotSet,
        UserUttered,
    )

    events = [
        *interrupted("malfunction", "action_journey_reply"),
        ActionExecuted("nps_form"),
        SlotSet("requested_slot", "nps_score"),
        ActionExecuted("action_listen"),
        UserUttered("En hoe reset ik de omvormer?", {"name": "malfunction", "confidence": 0.8}),
        SlotSet("nps_due", False),
        SlotSet("requested_slot", None),
        ActionExecutionRejected("nps_form"),
        ActiveLoop(None),
        ActionExecuted("action_journey_reply"),  # the follow-up action validate_nps_form asked for
    ]
    assert next_action(rule_policy, events) == "action_listen"
