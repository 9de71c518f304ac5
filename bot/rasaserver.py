"""`rasa run` with the API token kept off the command line and every log line redacted.

Rasa 3.6 takes its HTTP API token only as `--auth-token` (or a JWT secret as `--jwt-secret`):
there is no environment variable or file for it, so a plain `rasa run --auth-token ...` shows
the token to anyone who can run `ps`. This entry point reads RASA_AUTH_TOKEN from the
environment and appends it to Rasa's arguments inside the process, where `ps` and
/proc/<pid>/cmdline never see it (they show this module's own arguments).

It also installs bot.logs before Rasa starts, and forces Rasa's structured logs to JSON so the
redaction can find the customer-text fields even when stderr is a terminal, and makes Rasa wait
(bounded) for a restarting action server (bot.action_retry), and exempts the loaded model from
garbage collection once it is loaded (bot.gc_tuning).

Run: `python -m bot.rasaserver --enable-api -p 5005 ...` (any `rasa run` option but --auth-token).
"""

from __future__ import annotations

import os
import sys

from bot import logs
from bot.settings import SettingsError, rasa_auth_token


def rasa_argv(args: list[str], token: str) -> list[str]:
    """The argv Rasa's own main() parses: `rasa run <args> --auth-token=<token>`.

    One argument with `=`: a generated token may start with "-", which argparse would otherwise
    take for an option (Rasa then exits with "expected one argument").
    """
    if any(arg == "--auth-token" or arg.startswith(("--auth-token=", "-t")) for arg in args):
        raise SettingsError("pass the token as RASA_AUTH_TOKEN in the environment, not as --auth-token")
    return ["rasa", "run", *args, f"--auth-token={token}"]


def main(args: list[str] | None = None) -> int:
    try:
        argv = rasa_argv(sys.argv[1:] if args is None else args, rasa_auth_token())
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.environ["FORCE_JSON_LOGGING"] = "1"
    logs.install()
    from rasa.__main__ import main as rasa_main  # imported late: it reads FORCE_JSON_LOGGING on import
    from rasa.core import run as rasa_run

    from bot import action_retry  # imports Rasa's actions, so after FORCE_JSON_LOGGING too
    from bot.gc_tuning import frozen_after

    action_retry.install()
    rasa_run.load_agent_on_start = frozen_after(rasa_run.load_agent_on_start)

    sys.argv = argv
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
