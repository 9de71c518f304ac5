"""Each package imports on its own, in a fresh interpreter, as Rasa and the action server load them.

Rasa loads channel classes by name (``bot.channels.whatsapp.WhatsAppInput``): an import cycle
that only bites in one import order stops Rasa at start, while tests that import in another
order pass.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT

PACKAGES = [
    "bot.inbox",
    "bot.inbox.store",
    "bot.store",
    "bot.handoff",
    "bot.analytics",
    "bot.content",
    "bot.channels.whatsapp",
    "bot.channels.twilio",
    "bot.channels.socketio",
    "actions",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_on_its_own(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {package}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
