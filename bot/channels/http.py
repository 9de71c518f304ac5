"""HTTP plumbing of the connectors: bounded webhook bodies and POST with retries."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from sanic.request import Request

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; Retry-After is honoured up to ``max_delay``."""

    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 10.0
    timeout: float = 10.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): Retry-After if given, else exponential."""
        retry_after = response.headers.get("Retry-After", "") if response is not None else ""
        seconds = (
            float(retry_after) if retry_after.strip().isdigit() else self.base_delay * 2 ** (attempt - 1)
        )
        return min(seconds, self.max_delay)


def masked(recipient: str) -> str:
    """Show only the last three characters of a phone number in logs."""
    return "…" + recipient[-3:]


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


async def post_with_retry(
    url: str, what: str, policy: RetryPolicy, *, client: httpx.AsyncClient, **request: Any
) -> bool:
    """POST ``request`` to ``url``; retry 429, 5xx and network errors; log and return False on failure.

    ``what`` names the send in log lines; it must not contain tokens or full phone numbers.
    """
    problem = "no attempt"
    for attempt in range(1, policy.attempts + 1):
        response: httpx.Response | None = None
        try:
            response = await client.post(url, **request)
        except httpx.TransportError as error:
            problem = f"network error ({type(error).__name__})"
        else:
            if response.status_code < 400:
                return True
            problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if not _retryable(response.status_code):
                logger.error("%s failed, not retried: %s", what, problem)
                return False
        if attempt < policy.attempts:
            await asyncio.sleep(policy.delay(attempt, response))
    logger.error("%s failed after %d attempts: %s", what, policy.attempts, problem)
    return False


async def read_limited(request: Request, limit: int) -> bytes | None:
    """Read a streamed request body, or return None as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    while (chunk := await request.stream.read()) is not None:
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
