"""Validating an LTI 1.3 launch: django-lti's tool configuration and pylti1p3's message launch, tightened.

pylti1p3 2.0 (under django-lti 0.10) leaves three holes this module closes:
- a launch's nonce is only checked to exist, never used up, and a state it has seen once is accepted
  again without its cookie: the same id_token could be posted twice. Here the state must match the
  browser's cookie, and the nonce is deleted atomically (the cache's delete answers whether it was
  there), so a second post of one id_token is refused;
- the nonce was checked before the signature, so a forged token could use up a real nonce: the
  signature is checked first here;
- django-lti creates a deployment row for any deployment id a registered platform names; here an
  unknown or inactive deployment is refused and nothing is written.
Every refusal is a `LaunchRefused` with a reason code the page and the log name.
"""

import logging
from typing import Any

import httpx
import jwt
from django.core.cache import cache
from lti_tool.models import LtiDeployment
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException

logger = logging.getLogger(__name__)

KEY_SET_TIMEOUT_SECONDS = 5.0


class LaunchRefused(Exception):
    """A launch Huashen will not accept; `reason` is one of `REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


REASONS = (
    "state",  # no matching state cookie: expired login, cookies blocked, or a post from elsewhere
    "format",  # not a JWT
    "platform",  # issuer + audience (client id) not registered: unknown platform or wrong audience
    "expired",  # exp passed (or iat in the future)
    "signature",  # not signed by a key of the platform's JWKS
    "deployment",  # deployment id not registered, or inactive
    "message",  # message type or required claims wrong
    "replayed",  # nonce missing, unknown or already used
)


class ToolConfig(DjangoToolConfig):
    """django-lti's registry lookups, refusing (never creating) deployments it does not know."""

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self._active_deployment(
            registration__uuid=self.registration_uuid, registration__issuer=iss, deployment_id=deployment_id
        )

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        lookups: dict[str, Any] = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._active_deployment(**lookups)

    def _active_deployment(self, **lookups: Any) -> Deployment | None:
        deployment = LtiDeployment.objects.filter(
            registration__is_active=True, is_active=True, **lookups
        ).first()
        if deployment is None:
            return None
        self.deployment = deployment
        return Deployment().set_deployment_id(deployment.deployment_id)


class MessageLaunch(DjangoMessageLaunch):
    """A launch validated in Huashen's order, each step's failure named."""

    def validate(self) -> "MessageLaunch":
        if self._restored:
            raise LtiException("Can't validate restored launch")
        self._validated = True
        steps = (
            ("state", self.validate_state),
            ("format", self.validate_jwt_format),
            ("platform", self.validate_registration),
            ("signature", self.validate_jwt_signature),
            ("deployment", self.validate_deployment),
            ("message", self.validate_message),
            ("replayed", self.validate_nonce),
        )
        try:
            for reason, step in steps:
                try:
                    step()
                except LtiException as error:
                    if reason == "signature" and isinstance(
                        error.__cause__, jwt.ExpiredSignatureError | jwt.ImmatureSignatureError
                    ):
                        reason = "expired"
                    raise LaunchRefused(reason, str(error)) from error
                except (KeyError, TypeError, ValueError) as error:  # a claim of the wrong shape
                    raise LaunchRefused(reason, repr(error)) from error
            self.save_launch_data()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_state(self) -> "MessageLaunch":
        # Only the cookie set by this browser's login initiation: never a state remembered from an
        # earlier launch of the same id_token (pylti1p3's re-launch path), which a replay would use.
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        if self._cookie_service.get_cookie(state) != state:
            raise LtiException("State not found")
        return self

    def validate_nonce(self) -> "MessageLaunch":
        nonce = self._get_jwt_body().get("nonce")
        if not nonce or not isinstance(nonce, str):
            raise LtiException('"nonce" is empty')
        storage = self._session_service.data_storage
        key = storage._prepare_key(self._session_service._get_key("nonce", nonce))
        if not cache.delete(key):  # true once: the login's nonce is used up by its first launch
            raise LtiException("Invalid Nonce")
        return self

    def fetch_public_key(self, key_set_url: str) -> Any:
        # pylti1p3 fetches without a timeout; a platform that hangs must not hang the launch.
        try:
            response = httpx.get(key_set_url, timeout=KEY_SET_TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise LtiException(f"Error during fetch URL {key_set_url}: {error}") from error


def launch_from_request(request: Any) -> MessageLaunch:
    """Validate the id_token POSTed to the launch URL, or raise `LaunchRefused`."""
    launch = MessageLaunch(request, ToolConfig(), launch_data_storage=DjangoCacheDataStorage())
    launch.validate()
    return launch


def launch_from_cache(request: Any, launch_id: str) -> MessageLaunch:
    """A launch validated earlier in this flow (the deep-linking selection posts its id back)."""
    return MessageLaunch.from_cache(  # type: ignore[return-value]
        launch_id, request, ToolConfig(), launch_data_storage=DjangoCacheDataStorage()
    )
