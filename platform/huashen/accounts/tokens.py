"""API tokens: the write path (create, revoke) and the reads (list, authenticate).

A token's secret is `hs_` followed by 40 URL-safe characters (240 random bits). Only its SHA-256 hash is
stored: the secret has far more entropy than a password, so a fast hash is enough and a lookup stays one
indexed query. The first characters after `hs_` are kept as a prefix to tell tokens apart in a list.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from huashen.accounts.models import ApiToken, User
from huashen.errors import DomainError

SECRET_PREFIX = "hs_"  # noqa: S105 (a marker, not a secret)
TOKENS_PER_USER = 20
# last_used_at is a hint for the owner ("used yesterday"), not an audit log: write it at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A token just made and its secret: the only moment the secret exists outside the client."""

    token: ApiToken
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).hexdigest()


def api_token_hash(*, secret: str) -> str:
    """The stored form of a secret: what a cache of recent lookups may key on instead of the secret."""
    return _hash(secret)


def api_tokens_live(*, key_hashes: list[str]) -> set[str]:
    """Which of these stored hashes still name a live token (not revoked, its user active); one query."""
    return set(
        ApiToken.objects.filter(key_hash__in=key_hashes, user__is_active=True).values_list(
            "key_hash", flat=True
        )
    )


@transaction.atomic
def api_token_create(*, user: User, name: str) -> NewToken:
    name = name.strip()
    if not name:
        raise DomainError("invalid", _("令牌名称不能为空。"), "name")
    if len(name) > 64:
        raise DomainError("invalid", _("令牌名称最多 64 个字符。"), "name")
    # Serialise one user's creations so two concurrent requests cannot both slip under the cap.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).count() >= TOKENS_PER_USER:
        raise DomainError(
            "too_many_tokens",
            _("最多只能有 %(limit)d 个令牌：请先撤销不用的。") % {"limit": TOKENS_PER_USER},
            "name",
            status=409,
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=_hash(secret), prefix=secret[len(SECRET_PREFIX) :][:8]
    )
    return NewToken(token=token, secret=secret)


def api_token_revoke(*, user: User, token_id: int) -> None:
    """Revoke one of `user`'s own tokens; another user's token is as unknown as a missing one (404)."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise DomainError("not_found", _("没有找到这个令牌。"), status=404)


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token with this secret (its user loaded), or None. Marks it used, coarsely."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
