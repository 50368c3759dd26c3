"""Calls from Huashen to an LMS: the OAuth2 token, Assignment and Grade Services, Names and Roles.

Plain httpx with timeouts rather than pylti1p3's ServiceConnector (requests without timeouts, errors
without the HTTP status): the score sender logs each attempt's status and decides on retrying by it.
The client assertion is a JWT signed with the tool's newest active key (`lti_tool.models.Key`), whose
public half the platform reads from our JWKS.
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from django.core.cache import cache
from lti_tool.models import Key, LtiRegistration

TIMEOUT_SECONDS = 10.0
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class PlatformCallFailed(Exception):
    """A call to the LMS that did not succeed; `status` is its HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


def _signing_key() -> Key:
    key = Key.objects.active().order_by("-datetime_created", "-pk").first()
    if key is None:
        raise PlatformCallFailed("the tool has no active signing key", status=None, retryable=False)
    return key


def client_assertion(registration: LtiRegistration) -> str:
    """The signed JWT that authenticates Huashen to the platform's token endpoint (RFC 7523)."""
    key = _signing_key()
    now = int(time.time())
    claims = {
        "iss": registration.client_id,
        "sub": registration.client_id,
        "aud": registration.audience or registration.token_url,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.as_jwk()["kid"]})


def _failed(response: httpx.Response, what: str) -> PlatformCallFailed:
    retryable = response.status_code in (408, 425, 429) or response.status_code >= 500
    return PlatformCallFailed(
        f"{what}: HTTP {response.status_code} {response.text[:300]}",
        status=response.status_code,
        retryable=retryable,
    )


def _token_cache_key(registration: LtiRegistration, scopes: list[str]) -> str:
    # The token URL and client id are part of the key: a registration edited to point elsewhere must
    # not reuse a token the old endpoint issued.
    return f"lti-token:{registration.pk}:{registration.client_id}:{registration.token_url}:{' '.join(sorted(scopes))}"


def access_token(registration: LtiRegistration, scopes: list[str]) -> str:
    """A bearer token for `scopes`, reused (from the cache) until a minute before it expires."""
    cache_key = _token_cache_key(registration, scopes)
    token = cache.get(cache_key)
    if token:
        return str(token)
    try:
        response = httpx.post(
            registration.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(registration),
                "scope": " ".join(scopes),
            },
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise PlatformCallFailed(f"token endpoint: {error!r}", status=None, retryable=True) from error
    if response.status_code != 200:
        raise _failed(response, "token endpoint")
    body = response.json()
    token = body.get("access_token")
    if not token:
        raise PlatformCallFailed("token endpoint: no access_token", status=200, retryable=False)
    lifetime = int(body.get("expires_in", 3600))
    if lifetime > 120:
        cache.set(cache_key, token, lifetime - 60)
    return str(token)


@dataclass(frozen=True)
class Score:
    user_id: str  # the LMS's id of the student (the launch's `sub`)
    score_given: float
    score_maximum: float
    timestamp: str  # ISO 8601 with offset; the LMS keeps the newest
    comment: str = ""

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "userId": self.user_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": self.timestamp,
        }
        if self.comment:
            body["comment"] = self.comment
        return body


def _scores_url(lineitem_url: str) -> str:
    # The line item URL may carry a query string: /scores goes on its path (AGS 2.0, §3.4).
    base, _sep, query = lineitem_url.partition("?")
    return f"{base.rstrip('/')}/scores" + (f"?{query}" if query else "")


def score_post(registration: LtiRegistration, lineitem_url: str, score: Score) -> int:
    """POST one score to a line item; returns the HTTP status (2xx) or raises `PlatformCallFailed`."""
    token = access_token(registration, [SCOPE_SCORE])
    try:
        response = httpx.post(
            _scores_url(lineitem_url),
            json=score.as_json(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_MEDIA_TYPE},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise PlatformCallFailed(f"score: {error!r}", status=None, retryable=True) from error
    if response.status_code == 401:
        cache.delete(_token_cache_key(registration, [SCOPE_SCORE]))  # a revoked token: a fresh one next time
        raise PlatformCallFailed("score: HTTP 401", status=401, retryable=True)
    if not 200 <= response.status_code < 300:
        raise _failed(response, "score")
    return response.status_code


def lineitem_create(
    registration: LtiRegistration, lineitems_url: str, *, label: str, resource_id: str, resource_link_id: str
) -> str:
    """Create a gradebook column for a placement the LMS made without one; returns its URL."""
    token = access_token(registration, [SCOPE_LINEITEM])
    try:
        response = httpx.post(
            lineitems_url,
            json={
                "scoreMaximum": 100,
                "label": label,
                "resourceId": resource_id,
                "resourceLinkId": resource_link_id,
                "tag": "huashen",
            },
            headers={"Authorization": f"Bearer {token}", "Content-Type": LINEITEM_MEDIA_TYPE},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        raise PlatformCallFailed(f"line item: {error!r}", status=None, retryable=True) from error
    if not 200 <= response.status_code < 300:
        raise _failed(response, "line item")
    url = response.json().get("id")
    if not url:
        raise PlatformCallFailed("line item: no id", status=response.status_code, retryable=False)
    return str(url)


def nrps_member(registration: LtiRegistration, memberships_url: str, user_id: str) -> dict[str, Any] | None:
    """The Names and Roles entry of one user of a course (name, e-mail), following `next` pages."""
    token = access_token(registration, [SCOPE_NRPS])
    url: str | None = memberships_url
    for _page in range(50):
        if url is None:
            break
        try:
            response = httpx.get(
                url,
                headers={"Authorization": f"Bearer {token}", "Accept": NRPS_MEDIA_TYPE},
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            raise PlatformCallFailed(f"names and roles: {error!r}", status=None, retryable=True) from error
        if response.status_code == 401:
            cache.delete(_token_cache_key(registration, [SCOPE_NRPS]))
        if response.status_code != 200:
            raise _failed(response, "names and roles")
        for member in response.json().get("members", []):
            if member.get("user_id") == user_id:
                return dict(member)
        url = response.links.get("next", {}).get("url")
    return None
