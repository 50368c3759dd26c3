"""The in-memory event store (embedded mode) and the log cap: the store's contract without Redis."""

import asyncio
import contextlib
import threading
import time

import pytest

from huashen.grading import eventlog
from huashen.grading.eventlog import MemoryEventLog, capped, get_event_log, is_final
from workers.protocol import EventKind, GradeEvent


def event(seq: int, payload: object = "x", kind: EventKind = EventKind.STDOUT) -> GradeEvent:
    return GradeEvent(seq, kind, payload, 1000.0 + seq)


def test_the_store_is_chosen_by_settings(settings) -> None:
    settings.REDIS_URL = ""
    assert get_event_log() is eventlog.memory_event_log()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    store = get_event_log()
    assert isinstance(store, eventlog.RedisEventLog) and store.url == "redis://127.0.0.1:1/0"


def test_read_returns_the_events_after_a_seq_in_order() -> None:
    store = MemoryEventLog()
    for seq in (1, 2, 4, 3):  # out of order: kept in seq order
        store.put(7, event(seq))
    store.put(7, event(2, "again"))  # a repeat is dropped
    assert [e.seq for e in store.read(7)] == [1, 2, 3, 4]
    assert store.read(7)[1].payload == "x"
    assert [e.seq for e in store.read(7, after=2)] == [3, 4]
    assert store.read(7, after=4) == [] and store.read(8) == []


def test_append_continues_after_the_last_seq() -> None:
    store = MemoryEventLog()
    assert store.append(1, EventKind.STATUS, {"status": "x"}).seq == 1
    store.put(1, event(5))
    appended = store.append(1, EventKind.STATUS, {"status": "done"})
    assert (appended.seq, appended.kind) == (6, EventKind.STATUS)
    assert store.read(1)[-1] == appended


def test_expire_forgets_a_submission_after_the_ttl() -> None:
    now = [0.0]
    store = MemoryEventLog(done_ttl_seconds=3600, clock=lambda: now[0])
    store.put(1, event(1))
    store.put(2, event(1))
    store.expire(1)
    now[0] = 3599
    assert len(store.read(1)) == 1
    now[0] = 3600
    assert store.read(1) == [] and len(store.read(2)) == 1


def test_follow_replays_then_wakes_for_events_put_from_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A poll this long cannot pass for a wake-up, however loaded the machine: the follower must be woken.
    monkeypatch.setattr(eventlog, "MEMORY_FOLLOW_POLL_SECONDS", 60.0)
    store = MemoryEventLog()
    store.put(3, event(1))
    store.put(3, event(2))

    def grader() -> None:  # the embedded grader's thread
        for seq in (3, 4):
            time.sleep(0.05)
            store.put(3, event(seq))

    async def follow() -> tuple[list[int], float]:
        seen = []
        started = time.monotonic()
        thread = threading.Thread(target=grader)
        thread.start()
        async with contextlib.aclosing(store.follow(3, after=1)) as events:
            async for item in events:
                seen.append(item.seq)
                if item.seq == 4:
                    break
        thread.join()
        return seen, time.monotonic() - started

    seen, elapsed = asyncio.run(follow())
    assert seen == [2, 3, 4]
    assert elapsed < 30  # woken, not polled
    assert store._waiters == {}  # a closed follower leaves nothing behind


def test_is_final() -> None:
    assert is_final(event(9, {"status": "done", "verdict": "passed", "score": 100.0}, EventKind.STATUS))
    assert not is_final(event(1, {"status": "running"}, EventKind.STATUS))
    assert not is_final(event(1, {"status": "done"}, EventKind.STDOUT))  # printed text is never final
    assert not is_final(event(1, "done", EventKind.STATUS))


def test_a_log_within_both_budgets_is_kept_whole() -> None:
    events = [event(seq) for seq in range(1, 101)]
    assert capped(events, max_events=100, max_bytes=10_000) == events


def test_too_many_events_keep_head_and_tail_with_a_notice() -> None:
    events = [event(seq) for seq in range(1, 1001)]
    kept = capped(events, max_events=100, max_bytes=1_000_000)
    assert len(kept) == 100
    notice = next(e for e in kept if e.kind == EventKind.LOG)
    head, tail = kept[: kept.index(notice)], kept[kept.index(notice) + 1 :]
    assert head[0].seq == 1 and tail[-1].seq == 1000
    assert notice.seq == head[-1].seq + 1
    assert notice.payload["omitted"] == 1000 - len(head) - len(tail)
    assert (notice.payload["first_seq"], notice.payload["last_seq"]) == (head[-1].seq + 1, tail[0].seq - 1)
    assert set(notice.payload["message"]) == {"zh", "en"}
    assert [e.seq for e in kept] == sorted(e.seq for e in kept)


def test_too_many_bytes_keep_under_the_budget() -> None:
    line = "x" * 1000  # 1002 bytes as JSON
    events = [event(seq, line) for seq in range(1, 3001)]
    kept = capped(events, max_events=5000, max_bytes=1_000_000)
    kept_bytes = sum(eventlog.payload_bytes(e) for e in kept if e.kind != EventKind.LOG)
    assert kept_bytes <= 1_000_000
    assert kept[0].seq == 1 and kept[-1].seq == 3000
    assert sum(1 for e in kept if e.kind == EventKind.LOG) == 1


def test_one_huge_event_in_the_middle_is_left_out() -> None:
    events = [event(1), event(2, "y" * 2_000_000), event(3)]
    kept = capped(events, max_events=5000, max_bytes=1_000_000)
    assert [(e.seq, e.kind) for e in kept] == [
        (1, EventKind.STDOUT),
        (2, EventKind.LOG),
        (3, EventKind.STDOUT),
    ]


@pytest.mark.parametrize("count", [5000, 5001])
def test_the_default_budget_is_five_thousand_events(count: int) -> None:
    kept = capped([event(seq) for seq in range(1, count + 1)])
    assert len(kept) == 5000
