"""The distributed shape on one machine: two web servers, two graders and a platform worker.

Two daphne processes on different ports, two grader worker processes (distinct Celery node names) and
one platform worker share one PostgreSQL (this test's database) and one Redis. A student signs in on
server A; the session works on both. Forty submissions of trial 1.1's reference solution, sent round-robin
to the two servers over HTTP, are each graded exactly once by one of the graders (both take some), and a
WebSocket on server A follows, live, the log of a submission made through server B.

Who graded what comes from the logs, the way an operator would find it: every line of a job carries its
request id and submission id (workers.logs), the grader logs "graded", the platform worker logs
"recorded ... from grader <node>".
"""

import json
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from websockets.sync.client import connect

from huashen.accounts.services import user_create
from huashen.curriculum.services import exercises_sync
from huashen.grading.models import Status, Submission
from tests.conftest import PASSWORD
from tests.integration.conftest import (
    WorkerProcess,
    start_grader,
    start_platform_worker,
    start_web_server,
    wait_for_200,
)

ROOT = Path(__file__).resolve().parents[2]
TRIAL = "tensor-basics"
REFERENCE = next((ROOT / "exercises").glob("01-*/01-tensor-basics/reference/solution.py"))
SUBMISSIONS = 40


@dataclass
class Shape:
    web: list[tuple[WorkerProcess, str]]
    graders: list[WorkerProcess]
    platform: WorkerProcess

    def processes(self) -> list[WorkerProcess]:
        return [*(web for web, _host in self.web), *self.graders, self.platform]

    def alive(self) -> None:
        for process in self.processes():
            assert process.process.poll() is None, f"{process.log.name} died:\n{process.output()[-4000:]}"

    def tails(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-2500:]}" for p in self.processes())


@pytest.fixture
def shape(services: dict, transactional_db: None, tmp_path: Path) -> Iterator[Shape]:
    result = exercises_sync()  # the real curriculum, as the graders see it
    assert result.ok, result.errors
    # Event streams are keyed by submission id, and this test database numbers submissions from 1 again:
    # streams an earlier run left in this Redis (they expire after an hour) must not be replayed here.
    client = redis.Redis.from_url(services["redis"])
    for key in client.scan_iter("huashen:submission:*"):
        client.delete(key)
    started: list[WorkerProcess] = []
    try:
        platform = start_platform_worker(services, tmp_path / "platform-worker.log")
        started.append(platform)
        graders = []
        for index in range(2):
            graders.append(start_grader(services, ROOT / "exercises", tmp_path / f"grader-{index}.log"))
            started.append(graders[-1])
        secret_key = secrets.token_urlsafe(40)
        web = []
        for name in ("a", "b"):
            # the same key on both: a session made on one is good on the other
            process, host = start_web_server(
                services,
                tmp_path / f"web-{name}.log",
                secret_key=secret_key,
                extra_env={"LOG_FORMAT": "json"},
            )
            started.append(process)
            web.append((process, host))
        for process, host in web:
            wait_for_200(f"http://{host}/readyz", process)
        yield Shape(web=web, graders=graders, platform=platform)
    finally:
        for process in reversed(started):
            process.stop()


def sign_in(host: str) -> httpx.Client:
    """A browser-like session: the login form with its CSRF token, as a student would."""
    client = httpx.Client(base_url=f"http://{host}", timeout=30)
    client.get("/login/")
    response = client.post(
        "/login/",
        data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )
    assert response.status_code == 302, response.text[:2000]
    assert "sessionid" in client.cookies
    return client


def submit(host: str, cookies: httpx.Cookies, code: str) -> int:
    response = httpx.post(
        f"http://{host}/api/v1/submissions/",
        json={"exercise": TRIAL, "code": code, "mode": "submit"},
        cookies=cookies,
        headers={"X-CSRFToken": cookies["csrftoken"]},
        timeout=30,
    )
    assert response.status_code == 201, response.text[:2000]
    return int(response.json()["id"])


def json_lines(process: WorkerProcess) -> list[dict]:
    lines = []
    for line in process.output().splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_two_web_servers_two_graders_one_platform_worker(shape: Shape, personas_in_db: None) -> None:
    host_a, host_b = (host for _web, host in shape.web)
    session = sign_in(host_a)
    cookies = session.cookies
    reference = REFERENCE.read_text(encoding="utf-8")

    # --- a WebSocket on server A follows a submission made through server B, live ---------------------
    marker = f"live-from-b-{secrets.token_hex(4)}"
    followed = submit(host_b, cookies, f'print("{marker}", flush=True)\n' + reference)
    events = []
    with connect(
        f"ws://{host_a}/ws/submissions/{followed}/",
        additional_headers={"Cookie": f"sessionid={cookies['sessionid']}", "Origin": f"http://{host_a}"},
        open_timeout=30,
    ) as socket_a:
        connected_while = Submission.objects.get(pk=followed).status
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            message = json.loads(socket_a.recv(timeout=max(1.0, deadline - time.monotonic())))
            events.append(message)
            if message["kind"] == "status" and message["payload"].get("status") == "done":
                break
    assert connected_while != Status.DONE, "the socket must follow a run in progress, not a replay"
    assert [event["seq"] for event in events] == sorted({event["seq"] for event in events})
    assert any(event["kind"] == "stdout" and marker in str(event["payload"]) for event in events), (
        marker,
        events,
    )
    assert events[-1]["payload"]["verdict"] == "passed", events[-1]

    # --- forty submissions round-robin over both servers --------------------------------------------
    started = time.monotonic()
    ids = [submit((host_a, host_b)[index % 2], cookies, reference) for index in range(SUBMISSIONS)]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if Submission.objects.filter(pk__in=ids, status=Status.DONE).count() == SUBMISSIONS:
            break
        shape.alive()
        time.sleep(0.5)
    drained = time.monotonic() - started
    print(f"\n{SUBMISSIONS} submissions graded by 2 graders in {drained:.1f} s")
    done = {s.pk: s for s in Submission.objects.filter(pk__in=ids)}
    stuck = [pk for pk, s in done.items() if s.status != Status.DONE]
    assert not stuck, f"not graded: {stuck}\n{shape.tails()}"
    assert Counter(s.verdict for s in done.values()) == {"passed": SUBMISSIONS}
    request_ids = {pk: str(s.request_id) for pk, s in done.items()}

    # each graded exactly once, by one of the two graders, and both took some
    graded_by: dict[int, list[str]] = {}
    for index, grader in enumerate(shape.graders):
        for line in json_lines(grader):
            if line.get("message", "").startswith(f"submission {line.get('submission_id')} graded:"):
                graded_by.setdefault(int(line["submission_id"]), []).append(f"grader-{index}")
                assert line["request_id"] == request_ids.get(line["submission_id"], line["request_id"])
    assert {pk: len(graders) for pk, graders in graded_by.items() if pk in done} == dict.fromkeys(done, 1)
    share = Counter(graded_by[pk][0] for pk in done)
    print(f"shares: {dict(share)}")
    assert set(share) == {"grader-0", "grader-1"}, share

    # the platform recorded each once, under the request id the web server gave it, naming the grader
    recorded = [line for line in json_lines(shape.platform) if " recorded: " in line.get("message", "")]
    recorded_ids = Counter(int(line["submission_id"]) for line in recorded if line["submission_id"] in done)
    assert recorded_ids == dict.fromkeys(done, 1)
    for line in recorded:
        if line["submission_id"] in done:
            assert line["request_id"] == request_ids[line["submission_id"]]
    assert not [line for line in json_lines(shape.platform) if "repeated delivery" in line.get("message", "")]
    # and the web servers logged the request that created each submission under the same id
    web_ids = {line.get("request_id") for web, _host in shape.web for line in json_lines(web)}
    assert set(request_ids.values()) <= web_ids
    shape.alive()


@pytest.fixture
def personas_in_db(transactional_db: None) -> None:
    user_create(username="alice", password=PASSWORD)
