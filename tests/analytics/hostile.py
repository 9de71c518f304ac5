"""Stored text that tries to be HTML or script: the report must show it as text, never run it."""

from __future__ import annotations

from datetime import timedelta

from tests.analytics.dataset import T0

SCRIPT = "<script>alert('gap')</script><img src=x onerror=alert(2)>"
PERSONA = '"><svg onload=alert(3)>'
SESSIONS = {
    "H1": (T0, "web", PERSONA, [
        (0, "need", "nlu_fallback", "general/fallback/default#1", SCRIPT, "fallback", None, None, 0.1),
        (1, "need", "nlu_fallback", "general/fallback/default#1", SCRIPT, "fallback", None, None, 0.1),
    ], (2, "need")),
    "H2": (T0 + timedelta(hours=1), "web", None, [
        (0, "use", "settings", "consumer/use/settings/default#1", "=HYPERLINK(\"http://x\")", "answered",
         None, None, 0.2),
    ], None),
}  # fmt: skip
