"""API tokens on the submission WebSocket: `Authorization: Token …` on the upgrade, through the real ASGI app."""

import asyncio
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from huashen.accounts.models import ApiToken
from huashen.accounts.tokens import api_token_create, api_token_revoke
from huashen.api import ws_auth
from huashen.api.ws_auth import UNAUTHORIZED, token_from_headers, token_watch
from huashen.asgi import application
from huashen.grading import consumers, dispatch
from huashen.grading.consumers import NOT_FOUND
from huashen.grading.eventlog import memory_event_log
from huashen.grading.services import submission_create
from tests.conftest import Personas, SentRequests
from tests.sockets import refusal

# Transactional: Channels closes the thread's connections when a socket ends (see tests/grading/test_consumer.py).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _memory_event_store(settings) -> Iterator[None]:
    """The in-process event store, even where REDIS_URL is set: ids repeat across test databases, and a
    stream left in a shared Redis under this id would be replayed to these sockets."""
    settings.REDIS_URL = ""
    memory_event_log().clear()
    yield
    memory_event_log().clear()


@pytest.fixture
def alice_submission(personas: Personas, curriculum: dict, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(dispatch, "send_grade_request", SentRequests())
    return submission_create(user=personas.alice, exercise=curriculum["r1t1"], code="x = 1", mode="submit").pk


def _socket(submission_id: int, secret: str | None) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if secret is not None:
        headers.append((b"authorization", f"Token {secret}".encode()))
    return WebsocketCommunicator(application, f"/ws/submissions/{submission_id}/", headers=headers)


def test_a_token_opens_the_authors_submission(personas: Personas, alice_submission: int) -> None:
    async def scenario() -> None:
        new = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        communicator = _socket(alice_submission, new.secret)
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_an_unknown_or_revoked_token_is_closed_with_4401(personas: Personas, alice_submission: int) -> None:
    async def scenario() -> None:
        new = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        await database_sync_to_async(ApiToken.objects.filter(pk=new.token.pk).delete)()
        for secret in (new.secret, "hs_never-issued", "not-even-ours"):
            communicator = _socket(alice_submission, secret)
            connected, _ = await communicator.connect(timeout=10)
            assert connected  # accepted only to say why it closes
            closing = await communicator.receive_output(timeout=5)
            assert closing == {"type": "websocket.close", "code": UNAUTHORIZED}
            await communicator.wait(timeout=10)

    async_to_sync(scenario)()


def test_another_students_token_sees_no_such_submission(personas: Personas, alice_submission: int) -> None:
    async def scenario() -> None:
        new = await database_sync_to_async(api_token_create)(user=personas.bob, name="cli")
        assert await refusal(_socket(alice_submission, new.secret), timeout=10) == ("closed", NOT_FOUND)

    async_to_sync(scenario)()


def test_without_a_token_or_session_nothing_is_shown(alice_submission: int) -> None:
    async def scenario() -> None:
        assert await refusal(_socket(alice_submission, None), timeout=10) == ("closed", NOT_FOUND)

    async_to_sync(scenario)()


@pytest.mark.parametrize(
    "headers, expected",
    [
        ([(b"authorization", b"Token hs_abc")], "hs_abc"),
        ([(b"Authorization", b"token   hs_abc ")], "hs_abc"),
        ([(b"authorization", b"Bearer hs_abc")], None),
        ([(b"cookie", b"sessionid=x")], None),
    ],
)
def test_the_token_is_read_from_the_authorization_header_only(headers: list, expected: str | None) -> None:
    assert token_from_headers(headers) == expected


def _socket_without_origin(submission_id: int, secret: str | None) -> WebsocketCommunicator:
    """What the command-line client and scripts send: no Origin header (browsers always send one)."""
    headers = [(b"host", b"testserver")]
    if secret is not None:
        headers.append((b"authorization", f"Token {secret}".encode()))
    return WebsocketCommunicator(application, f"/ws/submissions/{submission_id}/", headers=headers)


def test_without_origin_the_same_token_rules_apply(personas: Personas, alice_submission: int) -> None:
    async def scenario() -> None:
        # the owner's token opens it
        mine = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        communicator = _socket_without_origin(alice_submission, mine.secret)
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        await communicator.disconnect()
        # an unknown token reads 4401, another student's 4404, no token 4404: never a bare 403
        assert await refusal(_socket_without_origin(alice_submission, "hs_never-issued"), timeout=10) == (
            "closed",
            UNAUTHORIZED,
        )
        bobs = await database_sync_to_async(api_token_create)(user=personas.bob, name="cli")
        assert await refusal(_socket_without_origin(alice_submission, bobs.secret), timeout=10) == (
            "closed",
            NOT_FOUND,
        )
        assert await refusal(_socket_without_origin(alice_submission, None), timeout=10) == (
            "closed",
            NOT_FOUND,
        )

    async_to_sync(scenario)()


@pytest.mark.parametrize("origin", [b"https://evil.example", b"null"])
def test_an_origin_of_another_site_is_refused_even_with_a_valid_token(
    personas: Personas, alice_submission: int, origin: bytes
) -> None:
    async def scenario() -> None:
        mine = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        headers = [
            (b"host", b"testserver"),
            (b"origin", origin),
            (b"authorization", f"Token {mine.secret}".encode()),
        ]
        communicator = WebsocketCommunicator(
            application, f"/ws/submissions/{alice_submission}/", headers=headers
        )
        assert (await refusal(communicator, timeout=10))[0] == "refused"

    async_to_sync(scenario)()


def test_revoking_a_token_closes_its_open_sockets_and_refuses_new_ones(
    personas: Personas, alice_submission: int, settings
) -> None:
    settings.WS_AUTH_CACHE_SECONDS = 1  # the bound: handshakes reuse a lookup, open sockets are re-checked

    async def scenario() -> tuple[dict, dict, dict]:
        new = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        kept = await database_sync_to_async(api_token_create)(user=personas.alice, name="other")
        socket, other = _socket(alice_submission, new.secret), _socket(alice_submission, kept.secret)
        assert (await socket.connect(timeout=10))[0] and (await other.connect(timeout=10))[0]
        assert await socket.receive_nothing(timeout=0.2)  # following a queued run
        await database_sync_to_async(api_token_revoke)(user=personas.alice, token_id=new.token.pk)
        closing = await socket.receive_output(timeout=10)
        again = _socket(alice_submission, new.secret)
        assert (await again.connect(timeout=10))[0]
        refused = await again.receive_output(timeout=10)
        assert await other.receive_nothing(timeout=0.2)  # the other token's socket stays open
        await other.disconnect()
        return closing, refused, {"open": token_watch().sockets}

    closing, refused, watch = async_to_sync(scenario)()
    assert closing == {"type": "websocket.close", "code": UNAUTHORIZED}
    assert refused == {"type": "websocket.close", "code": UNAUTHORIZED}
    assert watch == {"open": 0}


@pytest.mark.parametrize("cache_seconds, lookups", [(5, 1), (0, 3)])
def test_handshakes_reuse_a_recent_token_lookup_and_access_check(
    personas: Personas, alice_submission: int, settings, monkeypatch: pytest.MonkeyPatch,
    cache_seconds: int, lookups: int,
) -> None:  # fmt: skip
    settings.WS_AUTH_CACHE_SECONDS = cache_seconds
    calls = {"token": 0, "access": 0}
    real_token, real_access = ws_auth.api_token_authenticate, consumers.submission_get_for_viewer

    def token(**kwargs):
        calls["token"] += 1
        return real_token(**kwargs)

    def access(**kwargs):
        calls["access"] += 1
        return real_access(**kwargs)

    monkeypatch.setattr(ws_auth, "api_token_authenticate", token)
    monkeypatch.setattr(consumers, "submission_get_for_viewer", access)

    async def scenario() -> None:
        new = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        for _ in range(3):
            socket = _socket(alice_submission, new.secret)
            assert (await socket.connect(timeout=10))[0]
            assert await socket.receive_nothing(timeout=0.1)
            await socket.disconnect()

    async_to_sync(scenario)()
    assert calls == {"token": lookups, "access": lookups}


def test_handshakes_arriving_together_share_one_lookup(
    personas: Personas, alice_submission: int, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WS_AUTH_CACHE_SECONDS = 5
    calls = {"token": 0, "access": 0}
    real_token, real_access = ws_auth.api_token_authenticate, consumers.submission_get_for_viewer

    def token(**kwargs):
        calls["token"] += 1
        return real_token(**kwargs)

    def access(**kwargs):
        calls["access"] += 1
        return real_access(**kwargs)

    monkeypatch.setattr(ws_auth, "api_token_authenticate", token)
    monkeypatch.setattr(consumers, "submission_get_for_viewer", access)

    async def scenario() -> list[bool]:
        new = await database_sync_to_async(api_token_create)(user=personas.alice, name="cli")
        sockets = [_socket(alice_submission, new.secret) for _ in range(10)]
        connected = await asyncio.gather(*(socket.connect(timeout=10) for socket in sockets))
        for socket in sockets:
            await socket.disconnect()
        return [ok for ok, _code in connected]

    assert async_to_sync(scenario)() == [True] * 10
    assert calls == {"token": 1, "access": 1}  # a class connecting at once asks the database once
