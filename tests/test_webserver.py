"""The demo web server: the page, and the socket.io token bound to the visitor's session cookie."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import jwt
import pytest
import socketio

from bot.channels.socketio import FixedSocketIOInput
from bot.settings import PROJECT_ROOT
from bot.webserver import SESSION_COOKIE, TOKEN_PATH, serve_web
from tests.channels.sanic_server import Recorder, serve

KEY = "jwt-key-for-the-web-server-tests-32b"


@pytest.fixture
def site() -> Iterator[str]:
    server = serve_web(PROJECT_ROOT / "web", 0, KEY)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def session_cookie(answer: httpx.Response) -> SimpleCookie:
    cookie = SimpleCookie(answer.headers["set-cookie"])
    assert SESSION_COOKIE in cookie
    return cookie


def test_a_new_visitor_gets_a_session_cookie_and_a_token_bound_to_it(site: str) -> None:
    answer = httpx.get(site + TOKEN_PATH)
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in answer.headers
    morsel = session_cookie(answer)[SESSION_COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Strict"
    claims = jwt.decode(answer.json()["token"], KEY, algorithms=["HS256"], options={"require": ["exp"]})
    assert claims["sub"] == morsel.value and len(morsel.value) == 32
    assert claims["exp"] - claims["iat"] <= 8 * 3600


def test_a_returning_visitor_keeps_the_session_and_a_forged_cookie_gets_a_new_one(site: str) -> None:
    first = httpx.get(site + TOKEN_PATH)
    session = session_cookie(first)[SESSION_COOKIE].value
    again = httpx.get(site + TOKEN_PATH, headers={"Cookie": f"{SESSION_COOKIE}={session}"})
    assert "set-cookie" not in again.headers
    assert jwt.decode(again.json()["token"], KEY, algorithms=["HS256"])["sub"] == session
    forged = httpx.get(site + TOKEN_PATH, headers={"Cookie": f'{SESSION_COOKIE}="../x;y"'})
    assert session_cookie(forged)[SESSION_COOKIE].value not in (session, "../x;y")


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site"])
def test_another_site_cannot_fetch_a_token(site: str, fetch_site: str) -> None:
    answer = httpx.get(site + TOKEN_PATH, headers={"Sec-Fetch-Site": fetch_site})
    assert answer.status_code == 403 and "token" not in answer.json()
    assert "set-cookie" not in answer.headers


def test_without_a_key_the_page_connects_unsigned() -> None:
    server = serve_web(PROJECT_ROOT / "web", 0, None)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert httpx.get(base + TOKEN_PATH).json() == {"token": None}
        page = httpx.get(base + "/index.html")
        assert page.status_code == 200 and f'data-token-url="{TOKEN_PATH}"' in page.text
    finally:
        server.shutdown()
        server.server_close()


async def confirmed_session(socket_base: str, token: str, requested: str) -> str:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    client.on("session_confirm", confirmed.put)
    await client.connect(
        socket_base, socketio_path="/socket.io", transports=["polling"], auth={"token": token}
    )
    try:
        await client.emit("session_request", {"session_id": requested})
        return await asyncio.wait_for(confirmed.get(), 5)
    finally:
        await client.disconnect()


def test_the_issued_token_opens_the_socket_in_the_cookies_session_only(site: str) -> None:
    answer = httpx.get(site + TOKEN_PATH)
    session = session_cookie(answer)[SESSION_COOKIE].value
    channel = FixedSocketIOInput(session_persistence=True, jwt_key=KEY, jwt_method="HS256")
    with serve(channel, Recorder()) as socket_base:
        # The browser asks for another visitor's session; the token's sub decides.
        assert asyncio.run(confirmed_session(socket_base, answer.json()["token"], "someone-else")) == session
