"""Experiment arms: which phrasing of an experiment a visitor sees (no database, no randomness).

The arm is a hash of the experiment id and the sender, so a visitor keeps the same phrasing in
every session and process, and the split is even over many visitors.
"""

from __future__ import annotations

import hashlib

MAX_ARMS = 10


def arm_name(index: int) -> str:
    """Arms are letters: the first phrasing is A (the control), the next B, and so on."""
    return chr(ord("A") + index)


def assign(experiment: str, visitor: str, arms: int) -> int:
    """The arm index for this visitor."""
    digest = hashlib.sha256(f"{experiment}\x00{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % arms
