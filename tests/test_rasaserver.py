"""The Rasa server's argv: the token from the environment reaches Rasa's own parser intact."""

from __future__ import annotations

import pytest
from rasa.__main__ import create_argument_parser

from bot.rasaserver import rasa_argv
from bot.settings import SettingsError


@pytest.mark.parametrize("token", ["plain-token", "-starts-with-a-dash", "--even-two"])
def test_every_generated_token_is_parsed_as_the_token(token: str) -> None:
    parsed = create_argument_parser().parse_args(rasa_argv(["--enable-api", "-p", "5005"], token)[1:])
    assert parsed.auth_token == token and parsed.port == 5005


def test_a_token_on_the_command_line_is_refused() -> None:
    with pytest.raises(SettingsError):
        rasa_argv(["--auth-token", "x"], "y")
