"""Hot reload on real files: edits show up, broken edits are logged and the last good content stays."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from bot.content import ContentError, ContentRepository, JourneyBook
from bot.content.repository import PROJECT_ROOT
from bot.content.select import Situation
from tests.content.conftest import DOMAIN, MakeContent

OLD = "Vervelend, die hoge energierekening."
NEW = "Balen van die hoge rekening? Daar doen we iets aan."


def touch(path: Path) -> None:
    """A clearly newer mtime, so the test does not depend on the file system's timestamp resolution."""
    stamp = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(stamp, stamp))


def energy_text(book: JourneyBook) -> str:
    reply = book.reply("energy_costs", Situation(channel="web"), journey_id="consumer")
    assert reply is not None
    return reply.text


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    touch(path)


def test_unchanged_files_serve_the_same_book(make_content: MakeContent) -> None:
    repo = ContentRepository(make_content(None), DOMAIN)
    assert repo.current() is repo.current()


def test_an_edit_is_served_on_the_next_call(make_content: MakeContent) -> None:
    folder = make_content(None)
    repo = ContentRepository(folder, DOMAIN)
    assert energy_text(repo.current()) == OLD
    edit(folder / "consumer.yml", OLD, NEW)
    assert energy_text(repo.current()) == NEW


def test_in_the_background_the_old_book_answers_until_the_edit_has_loaded(make_content: MakeContent) -> None:
    folder = make_content(None)
    repo = ContentRepository(folder, DOMAIN, background=True)
    assert energy_text(repo.current()) == OLD  # the first load is waited for: there is nothing else
    edit(folder / "consumer.yml", OLD, NEW)
    assert energy_text(repo.current()) == OLD, "the caller is not made to wait for the reload"
    deadline = time.monotonic() + 60
    while energy_text(repo.current()) != NEW:
        assert time.monotonic() < deadline, "the edit never loaded"
        time.sleep(0.05)


def test_a_broken_edit_keeps_the_last_good_book(
    make_content: MakeContent, caplog: pytest.LogCaptureFixture
) -> None:
    folder = make_content(None)
    repo = ContentRepository(folder, DOMAIN)
    good = repo.current()
    consumer = folder / "consumer.yml"
    edit(
        consumer,
        "        energy_costs:\n          replies:",
        "        energy_costs:\n          repy:",
    )
    with caplog.at_level(logging.ERROR, logger="bot.content"):
        assert repo.current() is good
        assert repo.current() is good
    logged = [
        r.getMessage() for r in caplog.records if r.name == "bot.content" and r.levelno >= logging.ERROR
    ]
    assert logged[0].endswith(
        "consumer.yml:10: phases[0].intents.energy_costs: unknown field 'repy' (did you mean 'replies'?)"
    )
    assert logged[1].endswith("is invalid (1 error); still serving the last valid version")
    assert len(logged) == 2, "the same broken state is logged once, not on every message"
    assert all(record.exc_info is None for record in caplog.records)

    edit(consumer, "          repy:", "          replies:")
    edit(consumer, OLD, NEW)
    assert energy_text(repo.current()) == NEW


def test_a_deleted_file_keeps_the_last_good_book(make_content: MakeContent) -> None:
    folder = make_content(None)
    repo = ContentRepository(folder, DOMAIN)
    good = repo.current()
    (folder / "personas.yml").unlink()
    assert repo.current() is good


def test_a_new_file_triggers_a_reload(make_content: MakeContent) -> None:
    folder = make_content(None)
    repo = ContentRepository(folder, DOMAIN)
    first = repo.current()
    text = (folder / "business.yml").read_text(encoding="utf-8")
    (folder / "partners.yml").write_text(text.replace("id: business", "id: partners", 1), encoding="utf-8")
    assert repo.current() is not first
    assert set(repo.current().journey_ids) == {"business", "consumer", "partners"}


def test_the_first_load_raises(make_content: MakeContent) -> None:
    repo = ContentRepository(make_content("missing_message"), DOMAIN)
    with pytest.raises(ContentError) as caught:
        repo.current()
    assert "message 'nps_retry' is missing" in str(caught.value)
    with pytest.raises(ContentError):
        repo.current()


def test_from_env(make_content: MakeContent, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_content(None)
    monkeypatch.setenv("JOURNEYS_DIR", str(folder))
    repo = ContentRepository.from_env()
    assert (repo.directory, repo.domain_path) == (folder, PROJECT_ROOT / "domain.yml")
    monkeypatch.delenv("JOURNEYS_DIR")
    assert ContentRepository.from_env().directory == PROJECT_ROOT / "journeys"


def test_the_error_message_comes_from_common_yml_even_when_content_is_broken(
    make_content: MakeContent,
) -> None:
    folder = make_content("unknown_field")
    repo = ContentRepository(folder, DOMAIN)
    with pytest.raises(ContentError):
        repo.current()
    assert repo.error_text() == "Er ging iets mis. Probeer het later nog eens."
    (folder / "common.yml").write_text("general: [", encoding="utf-8")
    assert repo.error_text().startswith("Sorry, er ging iets mis")
