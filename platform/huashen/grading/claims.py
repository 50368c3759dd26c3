"""The platform's side of the graders' claims (`workers.claims`; keys in `workers.protocol`).

The platform never takes a claim: it reads who holds one (to refuse a replaced holder's result), marks a
recorded submission's claim done (so no later copy of its request runs), and finds running submissions
whose grader died (the claim expired) to send them again. Nothing here is needed in the embedded
shape, which has no Redis: every function is a no-op there.
"""

import logging

from huashen.grading.redis_client import redis_client, redis_url
from workers.protocol import CLAIM_DONE, CLAIM_DONE_TTL_SECONDS, claim_key

logger = logging.getLogger(__name__)


def claim_holder(submission_id: int, request_id: str) -> str | None:
    """The claim's value ("<token> <holder>", or CLAIM_DONE), None when free or when there is no Redis."""
    if not redis_url():
        return None
    value = redis_client().get(claim_key(submission_id, request_id))
    return None if value is None else value.decode()


def claim_refuses(*, submission_id: int, request_id: str, token: int) -> bool:
    """Whether Redis says a newer run holds the submission than the one with `token`."""
    if not token:
        return False
    try:
        holder = claim_holder(submission_id, request_id)
    except Exception:  # Redis away: the database's record of the newest token still decides
        logger.warning("could not read the claim of submission %s", submission_id)
        return False
    if holder is None or holder == CLAIM_DONE:
        return False
    held_token = holder.split(" ", 1)[0]  # "<token> <holder>"
    return held_token.isdigit() and int(held_token) > token


def claim_mark_done(submission_id: int, request_id: str) -> None:
    """The submission is recorded: no copy of its request may run from now on (best effort)."""
    if not redis_url():
        return
    try:
        redis_client().set(claim_key(submission_id, request_id), CLAIM_DONE, ex=CLAIM_DONE_TTL_SECONDS)
    except Exception:  # a later copy would find its result ignored; the cost is a wasted run
        logger.warning("could not mark the claim of submission %s done", submission_id)


def claims_expired(submissions: list[tuple[int, str]]) -> list[int]:
    """Of these running submissions, the ones whose claim is gone: their grader stopped renewing it, so it
    died (or lost Redis for longer than the lease)."""
    """(Each as (submission id, request id).)"""
    if not redis_url() or not submissions:
        return []
    pipeline = redis_client().pipeline(transaction=False)
    for submission_id, request_id in submissions:
        pipeline.exists(claim_key(submission_id, request_id))
    answers = pipeline.execute()
    return [submission_id for (submission_id, _), held in zip(submissions, answers, strict=True) if not held]
