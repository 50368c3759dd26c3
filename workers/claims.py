"""A grader's claim on a submission: a lease in Redis with a fencing token (keys in `workers.protocol`).

    claim = claim_submission(client, submission_id, request_id=request_id, lease_seconds=30)
    if claim is None: ...            # another grader holds it, or it is already recorded: do not run
    with claim.kept_alive():         # renewed every lease/3 while the run lasts
        ... RedisStreamSink(client, submission_id, claim=claim.token, claim_key=claim.key) ...

The lease runs out when the grader dies (nothing renews it), which is how the platform learns to send
the request again; a grader that merely stalled past its lease finds its claim replaced and its writes
refused by token.
"""

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from workers import env
from workers.protocol import CLAIM_DONE, CLAIM_DONE_TTL_SECONDS, CLAIM_LEASE_SECONDS, claim_key, fence_key

logger = logging.getLogger(__name__)


def lease_seconds() -> int:
    """The lease, from GRADING_CLAIM_LEASE_SECONDS (tests lower it); the platform reads the same."""
    return env.claim_lease_seconds(CLAIM_LEASE_SECONDS)


# A claim's value is "<token> <host>:<pid>" while its run lasts and "<token> sent" once the result went
# out; the platform replaces it with CLAIM_DONE when the result is recorded.

# Take the claim if nobody holds it: the next token, the lease. {0, value}: held (by value) or done.
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held then return {0, held} end
local token = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[3], 'PX', ARGV[1])
return {token, ''}
"""
# Take over a claim whose holder is known dead, only if it still holds exactly what was seen.
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) ~= ARGV[4] then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], token .. ' ' .. ARGV[3], 'PX', ARGV[1])
return token
"""
# Extend the lease (and optionally change the holder part) if the claim is still this token's. A claim
# that merely expired while Redis was away (a restart longer than the lease) is taken back as long as
# the fence still says this token is the newest: nobody else claimed it meanwhile.
_RENEW = """
local held = redis.call('GET', KEYS[1])
if not held then
  if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
  held = ARGV[1] .. ' ' .. ARGV[4]
  redis.call('SET', KEYS[1], held, 'PX', ARGV[2])
end
if string.match(held, '^%d+') ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
SENT = "sent"


def this_holder() -> str:
    """Who runs here: host and process, so a copy on the same host can tell a dead holder from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_dead_here(value: str) -> bool:
    """Whether `value` names a process of this host that no longer exists (a pool process killed mid-run:
    its copy of the request comes straight back and need not wait for the lease to run out)."""
    parts = value.split(" ", 1)
    if len(parts) != 2 or parts[1] == SENT or ":" not in parts[1]:
        return False
    host, _colon, pid = parts[1].rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class Claim:
    client: Any
    submission_id: int
    request_id: str
    token: int
    lease_ms: int
    lost: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> str:
        return claim_key(self.submission_id, self.request_id)

    def renew(self, lease_ms: int | None = None, holder: str = "") -> bool:
        """Extend the lease; False (and `lost` set) once the claim is no longer ours."""
        keys = [self.key, fence_key(self.submission_id, self.request_id)]
        if self.client.eval(
            _RENEW, 2, *keys, str(self.token), lease_ms or self.lease_ms, holder, this_holder()
        ):
            return True
        self.lost.set()
        return False

    def hold_for_result(self, seconds: int) -> None:
        """After the result went out, keep the claim (marked sent: never taken over) until the platform
        marks it done, so a copy of the request restored meanwhile is not run again. Best effort."""
        try:
            self.renew(seconds * 1000, holder=SENT)
        except Exception:
            logger.warning("submission %s: could not extend the claim after the run", self.submission_id)

    @contextlib.contextmanager
    def kept_alive(self) -> Iterator["Claim"]:
        """Renew the lease every third of it in a thread while the block runs (the run's heartbeat)."""
        stop = threading.Event()

        def keep() -> None:
            while not stop.wait(self.lease_ms / 3000):
                try:
                    if not self.renew():
                        logger.error("submission %s: the claim (token %s) was taken over; this run's "
                                     "writes will be refused", self.submission_id, self.token)  # fmt: skip
                        return
                except Exception:  # Redis away: keep trying; the lease covers a short outage
                    logger.warning("submission %s: could not renew the claim", self.submission_id)

        keeper = threading.Thread(target=keep, name=f"claim-{self.submission_id}", daemon=True)
        keeper.start()
        try:
            yield self
        finally:
            stop.set()
            keeper.join(timeout=5)


def claim_submission(client: Any, submission_id: int, *, request_id: str, lease_seconds: int) -> Claim | None:
    """Claim the submission for this run, or None when another live run holds it or it is done.

    A claim held by a process of this host that is gone (a pool process killed mid-run, whose request
    Celery hands straight back) is taken over at once with a new token; elsewhere a dead holder's claim
    is freed by its lease running out."""
    lease_ms = lease_seconds * 1000
    keys = [claim_key(submission_id, request_id), fence_key(submission_id, request_id)]
    token, held = client.eval(_CLAIM, 2, *keys, lease_ms, CLAIM_DONE_TTL_SECONDS, this_holder())
    if int(token):
        return Claim(client, submission_id, request_id, int(token), lease_ms)
    held = held.decode() if isinstance(held, bytes) else str(held)
    if _holder_is_dead_here(held):
        token = int(client.eval(_TAKE_OVER, 2, *keys, lease_ms, CLAIM_DONE_TTL_SECONDS, this_holder(), held))
        if token:
            logger.warning("submission %s: its claim's holder (%s) died on this host; taken over",
                           submission_id, held)  # fmt: skip
            return Claim(client, submission_id, request_id, token, lease_ms)
    return None


def claim_holder(client: Any, submission_id: int, request_id: str) -> str | None:
    """What the claim key holds: "<token> <holder>", CLAIM_DONE, or None (free)."""
    value = client.get(claim_key(submission_id, request_id))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


__all__ = ["CLAIM_DONE", "Claim", "claim_holder", "claim_submission", "lease_seconds"]
