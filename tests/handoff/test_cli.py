"""`journey handoffs`: the open requests for the colleague who calls back, and closing one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.cli import main
from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore, NewRequest
from bot.settings import database_url, handoff_key
from tests.handoff.conftest import KEY

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def _request(name: str, phone: str) -> int:
    store = HandoffStore(database_url(), KEY, Sealer(handoff_key()))
    try:
        return store.create(
            NewRequest(
                sender_id=f"visitor-{name}", session_started_at=NOW, channel="web", phase="aftercare", persona=None,
                product=None, reason="Storing", moment="ochtend", callback_from=NOW + timedelta(hours=21),
                callback_until=NOW + timedelta(hours=25), name=name, phone=phone, at=NOW,
            ),
            ("webhook",),
        )  # fmt: skip
    finally:
        store.close()


def test_open_requests_are_listed_with_the_contact_data_and_can_be_marked_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = _request("Jan", "+31612345678")
    _request("Eva", "+31201234567")
    assert main(["handoffs"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2
    assert listed[0].startswith(f"#{first} [open] 02-12-2026 08:00-12:00 Jan +31612345678 - Storing")
    assert "webhook pending (0 attempts)" in listed[0]
    assert main(["handoffs", "--done", str(first)]) == 0
    assert f"#{first} marked done" in capsys.readouterr().out
    assert main(["handoffs", "--json"]) == 0
    assert [row["name"] for row in json.loads(capsys.readouterr().out)] == ["Eva"]
    assert main(["handoffs", "--all"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.parametrize("value", ["abc", "-1", "999"])
def test_a_bad_or_unknown_number_is_a_clear_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["handoffs", "--done", value]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_no_requests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["handoffs"]) == 0
    assert capsys.readouterr().out.strip() == "No open callback requests."
