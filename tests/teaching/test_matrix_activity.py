"""The live matrix gains a student who joins, and a student who only used Run shows activity (not "not
started") with a last-activity time, on the page, in the API, on the roster and live."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from huashen.accounts.services import cohort_join, user_create
from huashen.asgi import websocket_routes
from tests.conftest import PASSWORD, Personas
from tests.records.builders import graded
from workers.protocol import Verdict as WireVerdict

application = URLRouter(websocket_routes)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings) -> None:
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def connect(user, cohort_id: int) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/cohorts/{cohort_id}/matrix/")
    communicator.scope["user"] = user
    return communicator


@pytest.mark.django_db(transaction=True)
def test_a_student_who_joins_reaches_the_matrix_live_once(personas: Personas, trials: dict) -> None:
    def join_twice() -> int:
        newcomer = user_create(username="newcomer", password=PASSWORD)
        cohort_join(student=newcomer, join_code=personas.cohort_a.join_code)
        cohort_join(student=newcomer, join_code=personas.cohort_a.join_code)  # already in: no second row
        return newcomer.pk

    async def scenario() -> tuple[int, dict, bool]:
        communicator = connect(personas.carol, personas.cohort_a.pk)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        newcomer = await database_sync_to_async(join_twice)()
        message = await communicator.receive_json_from(timeout=5)
        quiet = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return newcomer, message, quiet

    newcomer, message, quiet = async_to_sync(scenario)()
    assert message == {"type": "student", "student": newcomer, "username": "newcomer"}
    assert quiet


@pytest.mark.django_db(transaction=True)
def test_a_run_reaches_the_matrix_live_as_activity(personas: Personas, trials: dict) -> None:
    async def scenario() -> dict:
        communicator = connect(personas.carol, personas.cohort_a.pk)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        await database_sync_to_async(graded)(
            personas.alice, trials["a1"], mode="run", verdict=WireVerdict.FAILED, score=20.0
        )
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    cell = async_to_sync(scenario)()
    assert (cell["type"], cell["student"], cell["exercise"]) == ("cell", personas.alice.pk, trials["a1"].pk)
    assert (cell["state"], cell["attempts"], cell["best_score"]) == ("ran", 0, 0.0)
    assert cell["last_submitted_at"] is not None


@pytest.mark.django_db
def test_a_student_who_only_ran_shows_activity_not_not_started(personas: Personas, trials: dict) -> None:
    ran = graded(personas.alice, trials["a1"], mode="run", verdict=WireVerdict.FAILED, score=20.0)
    client = Client()
    client.force_login(personas.carol)
    cohort = personas.cohort_a.pk
    page = client.get(f"/teach/cohorts/{cohort}/matrix/").content.decode()
    assert f'data-exercise="{trials["a1"].pk}" data-state="ran"' in page
    assert 'class="cell-ran"' in page  # and the legend says what the state means
    assert "只运行过" in page
    api = client.get(f"/api/v1/cohorts/{cohort}/matrix/").json()
    alice = next(row for row in api["rows"] if row["username"] == "alice")
    cell = next(c for c in alice["cells"] if c["exercise"] == trials["a1"].pk)
    assert (cell["state"], cell["attempts"]) == ("ran", 0)
    assert alice["last_activity"] is not None and alice["passed"] == 0
    roster = client.get(f"/teach/cohorts/{cohort}/").content.decode()
    assert ran.finished_at is not None
    assert timezone.localtime(ran.finished_at).strftime("%Y-%m-%d %H:%M") in roster


@pytest.mark.django_db
def test_a_submit_after_runs_counts_one_attempt(personas: Personas, trials: dict) -> None:
    graded(personas.alice, trials["a1"], mode="run", verdict=WireVerdict.FAILED, score=20.0)
    graded(personas.alice, trials["a1"], mode="submit", verdict=WireVerdict.FAILED, score=40.0)
    client = Client()
    client.force_login(personas.carol)
    api = client.get(f"/api/v1/cohorts/{personas.cohort_a.pk}/matrix/").json()
    alice = next(row for row in api["rows"] if row["username"] == "alice")
    cell = next(c for c in alice["cells"] if c["exercise"] == trials["a1"].pk)
    assert (cell["state"], cell["attempts"], cell["best_score"]) == ("attempted", 1, 40.0)
