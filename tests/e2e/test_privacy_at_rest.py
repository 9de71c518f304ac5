"""After a conversation full of personal data, none of it is found in clear in any log or database."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

POSTCODE_LETTERS = "BCFGHKLMNPRTVXZ"  # no pair of these is one the masking deliberately leaves alone


def personal_data(rng: random.Random) -> dict[str, str]:
    """Values unique to this run, so other runs writing the same log files cannot confuse the check."""
    digits = "".join(rng.choice("0123456789") for _ in range(10))
    return {
        "email": f"privacy.{uuid.uuid4().hex[:10]}@voorbeeld.nl",
        "mobile": f"06-{rng.randrange(10_000_000, 99_999_999)}",
        "international": f"+31 6 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
        "iban": f"NL{rng.randrange(10, 99)}RABO{digits}",
        "postcode": f"{rng.randrange(1000, 9999)} {rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}",
    }


def needles(data: dict[str, str]) -> dict[str, bytes]:
    """Each value as written, and compacted (no spaces or dashes), as it could be stored."""
    found: dict[str, bytes] = {}
    for name, value in data.items():
        found[name] = value.encode()
        found[f"{name} compact"] = value.replace(" ", "").replace("-", "").encode()
    return found


def sqlite_files(url: str) -> list[Path]:
    database = make_url(url).database
    assert database, url
    path = Path(database)
    return [candidate for candidate in path.parent.glob(f"{path.name}*") if candidate.is_file()]


def test_personal_data_is_masked_in_every_log_and_both_databases(running_bot: RunningBot) -> None:
    data = personal_data(random.Random())
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    conversation = [
        f"Hallo, ik wil zonnepanelen. Mail me op {data['email']} of bel {data['mobile']}",
        f"Mijn postcode is {data['postcode']} en mijn rekening {data['iban']}",
        f"mijn omvormer geeft een foutcode, bel me op {data['international']}",
        "bedankt, dat was het",
        "een 8",
        f"snel geholpen, mail naar {data['email']} of bel {data['mobile']}",
    ]
    for message in conversation:
        assert running_bot.say(sender, message), f"no reply to {message!r}"

    user_texts = [
        event.get("text") for event in running_bot.tracker(sender)["events"] if event["event"] == "user"
    ]
    assert any("[e-mail]" in str(text) for text in user_texts), user_texts
    assert any("[iban]" in str(text) for text in user_texts), user_texts

    stored = {
        "tracker store": sqlite_files(running_bot.tracker_store_url),
        "touchpoint store": sqlite_files(running_bot.database_url),
        "logs": [path for path in running_bot.log_dir.rglob("*") if path.is_file()],
        "spool": [path for path in Path(running_bot.env["SPOOL_DIR"]).rglob("*") if path.is_file()],
    }
    assert stored["tracker store"] and stored["touchpoint store"] and stored["logs"], stored
    leaks = [
        f"{name} in {place}: {path}"
        for place, paths in stored.items()
        for path in paths
        for name, needle in needles(data).items()
        if needle in path.read_bytes()
    ]
    assert not leaks, leaks
