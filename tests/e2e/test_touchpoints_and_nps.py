"""Over REST: a service chat ends with the NPS question, and the touchpoint and turns land in SQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.devserver import Ports, latest_model, running_stack
from bot.privacy import pseudonymise
from bot.settings import PROJECT_ROOT
from tests.conftest import RunningBot, free_port, stack_env

pytestmark = pytest.mark.e2e


def said(replies: list[dict[str, object]]) -> str:
    return " ".join(str(reply.get("text", "")) for reply in replies)


def touchpoint_rows(database_url: str, sender_key: str) -> tuple[dict[str, object], list[dict[str, object]]]:
    engine = create_engine(database_url, future=True)
    with engine.connect() as connection:
        touchpoint = (
            connection.execute(text("SELECT * FROM touchpoints WHERE sender_key = :key"), {"key": sender_key})
            .mappings()
            .one()
        )
        turns = (
            connection.execute(
                text("SELECT * FROM turns WHERE touchpoint_id = :id ORDER BY at"), {"id": touchpoint["id"]}
            )
            .mappings()
            .all()
        )
    engine.dispose()
    return dict(touchpoint), [dict(turn) for turn in turns]


def test_service_chat_asks_nps_and_stores_touchpoint_turns_and_score(running_bot: RunningBot) -> None:
    sender = f"nps-{uuid.uuid4().hex[:10]}"
    first = running_bot.say(sender, "mijn omvormer geeft een foutcode en de panelen leveren niks meer")
    assert first
    assert running_bot.slot(sender, "journey_phase") == "aftercare"

    question = said(running_bot.say(sender, "bedankt, dat was het"))
    assert "0-10" in question or "aanbeveelt" in question, question

    reason_question = said(running_bot.say(sender, "een dikke 8"))
    assert reason_question, "after the score the assistant asks for an optional reason"
    assert running_bot.slot(sender, "nps_score") in (8, 8.0, "8")

    closing = said(running_bot.say(sender, "snel geholpen, mail me op jan@example.com"))
    assert closing, "the last impression: a thank-you"

    touchpoint, turns = touchpoint_rows(
        running_bot.database_url, pseudonymise(sender, running_bot.env["PSEUDONYM_KEY"])
    )
    assert touchpoint["channel"] == "rest"
    assert touchpoint["nps_score"] == 8
    assert touchpoint["nps_phase"] == "aftercare"
    assert touchpoint["nps_reason"] == "snel geholpen, mail me op [e-mail]", "the reason is kept, masked"
    assert touchpoint["first_phase"] == "aftercare"
    assert len(turns) == 4, "every message is one turn, the NPS answers included"
    assert turns[0]["intent"] == "malfunction"
    assert [turn["content_id"] for turn in turns[2:]] == [
        "general/nps_question",
        "general/nps_reason_question",
    ]
    assert turns[0]["content_id"]
    assert sender not in str(touchpoint), "the raw sender id is never stored"


def test_nps_is_not_asked_after_a_sales_chat(running_bot: RunningBot) -> None:
    sender = f"sales-{uuid.uuid4().hex[:10]}"
    running_bot.say(sender, "wat kost een thuisbatterij ongeveer?")
    closing = said(running_bot.say(sender, "bedankt!"))
    assert "aanbeveelt" not in closing
    assert running_bot.tracker(sender)["active_loop"] in ({}, None, {"name": None})


def test_the_journey_command_forgets_a_visitor_everywhere(running_bot: RunningBot) -> None:
    sender = f"forget-{uuid.uuid4().hex[:10]}"
    running_bot.say(sender, "wanneer komt de monteur?")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "journey"), "forget", sender],
        env={**running_bot.env, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    key = pseudonymise(sender, running_bot.env["PSEUDONYM_KEY"])
    with create_engine(running_bot.database_url).connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM touchpoints WHERE sender_key = :k"), {"k": key}
            ).scalar()
            == 0
        )
    with create_engine(running_bot.tracker_store_url).connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
            ).scalar()
            == 0
        )


def test_a_conversation_is_stored_in_postgresql_with_database_url(tmp_path: Path, postgres_url: str) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    database = f"journey_e2e_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    url = postgres_url.rsplit("/", 1)[0] + f"/{database}"
    try:
        env = stack_env(tmp_path, DATABASE_URL=url, TRACKER_STORE_URL=url)
        sender = f"pg-{uuid.uuid4().hex[:8]}"
        ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
        with running_stack(ports, env, model=model, log_dir=tmp_path / "logs") as stack:
            httpx.post(
                f"{stack.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": "Is mijn dak geschikt voor zonnepanelen?"},
                timeout=30,
            ).raise_for_status()
        touchpoint, turns = touchpoint_rows(url, pseudonymise(sender, env["PSEUDONYM_KEY"]))
        assert touchpoint["last_phase"] == "orientation"
        assert [turn["intent"] for turn in turns] == ["suitability"]
        with create_engine(url).connect() as connection:
            assert (
                connection.execute(
                    text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
                ).scalar()
                > 0
            )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
