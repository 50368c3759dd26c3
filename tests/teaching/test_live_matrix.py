"""The live matrix socket: the cohort access check on connect, and a cell pushed when a result commits."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from huashen.asgi import websocket_routes
from huashen.teaching.live import matrix_group, matrix_hub
from huashen.teaching.services import review_submit
from tests.conftest import Personas
from tests.sockets import refusal
from tests.teaching.conftest import graded
from workers.protocol import Verdict as WireVerdict

# Transactional: Channels closes the thread's connections when a socket disconnects.
pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_routes)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def connect(user, cohort_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/cohorts/{cohort_id}/matrix/")
    communicator.scope["user"] = user
    return communicator


def test_a_result_and_a_review_reach_the_cohorts_matrix_live(personas: Personas, trials: dict) -> None:
    async def scenario() -> list[dict]:
        communicator = connect(personas.carol, personas.cohort_a.pk)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await communicator.send_to(text_data="not json")  # ignored
        await database_sync_to_async(graded)(personas.alice, trials["a1"], WireVerdict.FAILED, 40.0)
        first = await communicator.receive_json_from(timeout=5)
        hybrid = await database_sync_to_async(graded)(personas.bob, trials["hybrid"])
        attempted = await communicator.receive_json_from(timeout=5)
        await database_sync_to_async(review_submit)(
            reviewer=personas.carol, submission_id=hybrid.pk, scores={"clarity": 60, "evidence": 40}
        )
        reviewed = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return [first, attempted, reviewed]

    first, attempted, reviewed = async_to_sync(scenario)()
    assert first["type"] == "cell"
    assert (first["student"], first["exercise"], first["state"], first["best_score"], first["attempts"]) == (
        personas.alice.pk, trials["a1"].pk, "attempted", 40.0, 1,
    )  # fmt: skip
    assert (attempted["student"], attempted["state"]) == (personas.bob.pk, "attempted")
    assert (reviewed["state"], reviewed["best_score"]) == ("passed", 100.0)


def test_an_admin_may_follow_any_cohort(personas: Personas, trials: dict) -> None:
    async def scenario() -> bool:
        communicator = connect(personas.erin, personas.cohort_a.pk)
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected

    assert async_to_sync(scenario)()


@pytest.mark.parametrize("persona", ["dave", "alice", "bob", "nobody"])
def test_everyone_else_is_closed_with_4404(personas: Personas, trials: dict, persona: str) -> None:
    user = AnonymousUser() if persona == "nobody" else getattr(personas, persona)

    async def scenario() -> tuple[str, int | None]:
        return await refusal(connect(user, personas.cohort_a.pk))

    assert async_to_sync(scenario)() == ("closed", 4404)


def test_a_missing_cohort_is_4404_too(personas: Personas) -> None:
    async def scenario() -> tuple[str, int | None]:
        return await refusal(connect(personas.erin, 999_999))

    assert async_to_sync(scenario)() == ("closed", 4404)


def test_one_subscription_per_cohort_per_process(personas: Personas, trials: dict) -> None:
    async def scenario() -> tuple[dict, int, list[dict], dict, int]:
        layer = get_channel_layer()
        sockets = [
            connect(user, personas.cohort_a.pk) for user in (personas.carol, personas.erin, personas.carol)
        ]
        for socket in sockets:
            assert (await socket.connect(timeout=5))[0]
        hub = matrix_hub()
        subscribed, members = hub.cohorts, len(layer.groups.get(matrix_group(personas.cohort_a.pk), {}))
        await database_sync_to_async(graded)(personas.alice, trials["a1"], WireVerdict.FAILED, 40.0)
        cells = [await socket.receive_json_from(timeout=5) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        await asyncio.sleep(0.05)
        return (
            subscribed,
            members,
            cells,
            hub.cohorts,
            len(layer.groups.get(matrix_group(personas.cohort_a.pk), {})),
        )

    subscribed, members, cells, after, members_after = async_to_sync(scenario)()
    assert subscribed == {personas.cohort_a.pk: 3}
    assert members == 1  # the process's one channel in the cohort's group, not one per socket
    assert [(cell["student"], cell["state"]) for cell in cells] == [(personas.alice.pk, "attempted")] * 3
    assert after == {} and members_after == 0
