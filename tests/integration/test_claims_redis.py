"""Claims and fenced event writes on the real Redis: one holder at a time, tokens that only grow, a
replaced holder's events refused, and a sink that outlives a Redis that does not answer."""

import base64
import json
import os
import random
import socket
import subprocess
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers.claims import Claim, claim_holder, claim_submission
from workers.events import _APPEND, RedisStreamSink
from workers.protocol import CLAIM_DONE, EventKind, claim_key, event_stream_key, fence_key

RID = "5f0c7d8e-claims-test"


def _unanswered() -> redis.Redis:
    """A client of a port nothing listens on, failing fast like the grader's own (no redis-py backoff)."""
    return redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))


@pytest.fixture
def client(services: dict) -> redis.Redis:
    return redis.Redis.from_url(services["redis"])


def claimed_sink(client: redis.Redis, submission_id: int) -> tuple[Claim, RedisStreamSink]:
    """A run's claim on the submission and the fenced sink it writes its events through."""
    claim = claim_submission(client, submission_id, request_id=RID, lease_seconds=30)
    assert claim is not None
    return claim, RedisStreamSink(client, submission_id, claim=claim.token, claim_key=claim.key)


@pytest.fixture
def submission_id(client: redis.Redis) -> int:
    chosen = random.randint(10**8, 10**9)
    client.delete(claim_key(chosen, RID), fence_key(chosen, RID), event_stream_key(chosen))
    yield chosen
    client.delete(claim_key(chosen, RID), fence_key(chosen, RID), event_stream_key(chosen))


def test_one_holder_at_a_time_with_growing_tokens(client: redis.Redis, submission_id: int) -> None:
    first = claim_submission(client, submission_id, request_id=RID, lease_seconds=1)
    assert first is not None and first.token == 1
    # a copy of the request (a redelivery) finds it taken
    assert claim_submission(client, submission_id, request_id=RID, lease_seconds=1) is None
    # renewing keeps it
    assert first.renew()
    # once the lease runs out (the holder died), the next claim gets a higher token
    client.pexpire(claim_key(submission_id, RID), 1)
    time.sleep(0.05)
    second = claim_submission(client, submission_id, request_id=RID, lease_seconds=1)
    assert second is not None and second.token == 2
    # the first holder learns it lost the claim
    assert not first.renew() and first.lost.is_set()
    # once the platform marks it done no copy runs any more
    client.set(claim_key(submission_id, RID), CLAIM_DONE)
    assert claim_submission(client, submission_id, request_id=RID, lease_seconds=1) is None
    assert claim_holder(client, submission_id, RID) == CLAIM_DONE


def test_a_kept_alive_claim_outlives_its_lease(client: redis.Redis, submission_id: int) -> None:
    claim = claim_submission(client, submission_id, request_id=RID, lease_seconds=1)
    assert claim is not None
    with claim.kept_alive():
        time.sleep(2.5)  # over two leases: only the renewals keep it
        assert (claim_holder(client, submission_id, RID) or "").startswith(f"{claim.token} ")
    assert not claim.lost.is_set()


def test_a_replaced_holders_events_are_refused(client: redis.Redis, submission_id: int) -> None:
    # given a holder writing its run's events
    old = claim_submission(client, submission_id, request_id=RID, lease_seconds=30)
    assert old is not None
    old_sink = RedisStreamSink(client, submission_id, claim=old.token, claim_key=old.key)
    old_sink.emit(EventKind.STDOUT, "from the first run\n")
    # when its claim is replaced (it stalled past its lease and the submission went to another grader)
    client.delete(claim_key(submission_id, RID))
    new = claim_submission(client, submission_id, request_id=RID, lease_seconds=30)
    assert new is not None and new.token > old.token
    new_sink = RedisStreamSink(client, submission_id, claim=new.token, claim_key=new.key)
    new_sink.emit(EventKind.STDOUT, "from the second run\n")
    # then the old holder's writes are refused, without raising, and the new holder's are kept
    old_sink.emit(EventKind.STDOUT, "late line of the first run\n")
    assert old_sink.fenced and not new_sink.fenced
    payloads = [entry[1][b"payload"] for entry in client.xrange(event_stream_key(submission_id))]
    assert payloads == [b'"from the first run\\n"', b'"from the second run\\n"']


def test_a_claim_that_expired_while_redis_was_away_still_takes_its_holders_events(
    client: redis.Redis, submission_id: int
) -> None:
    # given a holder whose claim expired while Redis was away (a restart longer than the lease)
    claim, sink = claimed_sink(client, submission_id)
    client.delete(claim_key(submission_id, RID))
    # when it writes before its renewal takes the claim back, nobody having claimed it since
    sink.emit(EventKind.STDOUT, "after the restart\n")
    # then the events are its own still, and its renewal takes the claim back
    assert not sink.fenced and client.xlen(event_stream_key(submission_id)) == 1
    assert claim.renew() and not claim.lost.is_set()
    # but once another run claimed it meanwhile (the fence moved on), the expired holder is refused
    client.delete(claim_key(submission_id, RID))
    other = claim_submission(client, submission_id, request_id=RID, lease_seconds=30)
    assert other is not None and other.token > claim.token
    client.delete(claim_key(submission_id, RID))  # and its lease too ran out
    sink.emit(EventKind.STDOUT, "late\n")
    assert sink.fenced and client.xlen(event_stream_key(submission_id)) == 1


def test_a_sink_never_fails_the_run_when_redis_does_not_answer(submission_id: int) -> None:
    # a client pointed at a port nothing listens on: every write fails at once
    dead = _unanswered()
    sink = RedisStreamSink(dead, submission_id, claim=1, claim_key=claim_key(submission_id, RID))
    sink.MAX_PENDING = 3
    for number in range(5):
        sink.emit(EventKind.STDOUT, f"line {number}\n")  # never raises
    assert sink.dropped == 2
    assert sink.flush() is False


def test_events_kept_while_redis_was_away_are_written_when_it_answers(
    client: redis.Redis, submission_id: int
) -> None:
    _claim, sink = claimed_sink(client, submission_id)
    real = sink.client
    sink.client = _unanswered()
    sink.emit(EventKind.STDOUT, "while away\n")
    sink.client = real
    assert sink.flush() is True
    assert [entry[0] for entry in client.xrange(event_stream_key(submission_id))] == [b"0-1"]


def test_an_append_redis_refuses_stops_the_write_and_nothing_after_it_is_stored(
    client: redis.Redis, submission_id: int
) -> None:
    key = event_stream_key(submission_id)

    def append(*ids: str) -> list[int]:
        arguments: list[str] = []
        for entry_id in ids:
            arguments += [entry_id, "stdout", json.dumps(entry_id), "1.0"]
        return [int(value) for value in client.eval(_APPEND, 3, key, key, key, 0, 60, 1000, *arguments)]

    # a refusal (here an id Redis cannot parse) stops the script at the event refused: 1-based place 2
    assert append("0-1", "0-x", "0-3") == [1, 2]
    assert [entry[0] for entry in client.xrange(key)] == [b"0-1"]  # 0-3 is not stored past the hole
    # a repeat of an id already there (a retried write) is skipped, not a refusal
    assert append("0-1", "0-2", "0-3") == [2, 0]
    assert [entry[0] for entry in client.xrange(key)] == [b"0-1", b"0-2", b"0-3"]


def test_refused_events_wait_and_are_written_in_order_once_redis_takes_them(
    client: redis.Redis, submission_id: int
) -> None:
    key = event_stream_key(submission_id)
    client.set(key, "not a stream")  # every append to it is refused (WRONGTYPE)
    sink = RedisStreamSink(client, submission_id)
    sink.emit(EventKind.STDOUT, "first\n")  # refused: kept, never raised
    sink.emit(EventKind.STDOUT, "second\n")  # within the retry pause: kept behind it
    assert client.type(key) == b"string" and sink.dropped == 0
    client.delete(key)
    assert sink.flush() is True
    stored = client.xrange(key)
    assert [entry[0] for entry in stored] == [b"0-1", b"0-2"]
    assert [json.loads(entry[1][b"payload"]) for entry in stored] == ["first\n", "second\n"]


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_dead_holder_on_this_host_is_taken_over_at_once(client: redis.Redis, submission_id: int) -> None:
    # given a claim held by a pool process of this host that was killed mid-run
    client.set(fence_key(submission_id, RID), 5)
    client.set(claim_key(submission_id, RID), f"5 {socket.gethostname()}:{_dead_pid()}", px=30_000)
    # when its request comes straight back (Celery's reject on a lost worker)
    claim = claim_submission(client, submission_id, request_id=RID, lease_seconds=30)
    # then the copy takes it over with a newer token, without waiting for the lease
    assert claim is not None and claim.token == 6


@pytest.mark.parametrize("holder", ["{host}:{live}", "sent", "other-host:{dead}"])
def test_a_live_holder_a_sent_result_or_another_hosts_holder_is_not_taken_over(
    client: redis.Redis, submission_id: int, holder: str
) -> None:
    value = "5 " + holder.format(host=socket.gethostname(), live=os.getppid(), dead=_dead_pid())
    client.set(claim_key(submission_id, RID), value, px=30_000)
    assert claim_submission(client, submission_id, request_id=RID, lease_seconds=30) is None
    assert claim_holder(client, submission_id, RID) == value


def test_a_recovered_submission_goes_to_the_front_of_its_queue(client: redis.Redis, settings) -> None:
    from huashen.grading import dispatch
    from workers.protocol import GradeRequest, Mode

    settings.HUASHEN_EXECUTOR = "celery"

    def request(submission_id: int) -> GradeRequest:
        return GradeRequest(
            submission_id=submission_id, trial="t", content_hash="h", mode=Mode.SUBMIT, code="x"
        )

    client.delete("cpu")
    try:
        # given two submissions waiting in the queue
        dispatch.send_grade_request(request(101))
        dispatch.send_grade_request(request(102))
        # when a dead grader's submission is sent again
        dispatch.send_grade_request(request(103), to_front=True)
        # then a grader takes it first, then the others in their order
        taken = [json.loads(client.brpop(["cpu"], timeout=5)[1]) for _ in range(3)]
        # a kombu message: the task's (args, kwargs, embed) as base64-encoded JSON in "body"
        order = [json.loads(base64.b64decode(message["body"]))[0][0]["submission_id"] for message in taken]
        assert order == [103, 101, 102]
    finally:
        client.delete("cpu")
