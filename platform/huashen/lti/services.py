"""The write path of the LTI app: accepting a launch, placing trials, queuing scores, registering
platforms and rotating the tool's keys."""

import datetime as dt
import hashlib
import itertools
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from lti_tool.lti_core.constants import ContextRole
from lti_tool.lti_core.utils import normalize_role
from lti_tool.models import Key, LtiContext, LtiDeployment, LtiLaunch, LtiRegistration, LtiUser
from lti_tool.utils import sync_data_from_launch

from huashen.accounts.models import Cohort, CohortMembership, Role, User
from huashen.accounts.services import user_set_role
from huashen.accounts.signals import student_joined
from huashen.curriculum.models import Exercise, Realm
from huashen.errors import DomainError
from huashen.lti import platform_client
from huashen.lti.models import ContextCohort, Placement, ScorePublication

logger = logging.getLogger(__name__)

CUSTOM_TRIAL = "huashen_trial"
CUSTOM_REALM = "huashen_realm"
TEACHING_ROLES = {
    ContextRole.INSTRUCTOR.value,
    ContextRole.ADMINISTRATOR.value,
    ContextRole.CONTENT_DEVELOPER.value,
}
# Sub-roles ("…/membership/Instructor#TeachingAssistant") count as their principal role.
_MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"


def context_roles(lti_launch: LtiLaunch) -> set[str]:
    roles = set()
    for role in lti_launch.roles_claim or []:
        full = normalize_role(str(role))
        if full.startswith(_MEMBERSHIP + "/"):  # a sub-role: keep its principal role
            full = _MEMBERSHIP + "#" + full[len(_MEMBERSHIP) + 1 :].split("#", 1)[0]
        roles.add(full)
    return roles


def launch_teaches(lti_launch: LtiLaunch) -> bool:
    return bool(context_roles(lti_launch) & TEACHING_ROLES)


@dataclass(frozen=True)
class AcceptedLaunch:
    user: User
    cohort: Cohort | None
    destination: str  # where the user lands (a path)
    unknown_target: bool = False  # the link named a trial or realm that is not (or no longer) there


def _names_from_nrps(lti_launch: LtiLaunch, registration: LtiRegistration) -> dict[str, str]:
    """Name and e-mail from Names and Roles when the launch grants it; {} when it does not or fails."""
    claim = lti_launch.nrps_claim
    if not claim or not claim.get("context_memberships_url"):
        return {}
    try:
        member = platform_client.nrps_member(
            registration, claim["context_memberships_url"], lti_launch.get_claim("sub")
        )
    except platform_client.PlatformCallFailed:
        logger.warning(
            "names and roles of %s unavailable; using the id_token's claims", registration, exc_info=True
        )
        return {}
    if not member:
        return {}
    return {
        key: str(member[key]) for key in ("name", "given_name", "family_name", "email") if member.get(key)
    }


def _language(lti_launch: LtiLaunch) -> str:
    presentation = lti_launch.launch_presentation_claim or {}
    locale = str(presentation.get("locale") or "")
    return "en" if locale.lower().startswith("en") else "zh-hans"


def _user_for(lti_user: LtiUser, names: dict[str, str], language: str) -> User:
    """The Huashen account of an LMS user (by issuer + sub), made on the first launch.

    Never matched by e-mail: an LMS is trusted for who its users are in it, not for who owns an
    existing Huashen account, so an existing account is linked only by an admin (`LtiUser.auth_user`).
    """
    user = lti_user.auth_user
    if user is None:
        digest = hashlib.sha256(f"{lti_user.registration.issuer}\n{lti_user.sub}".encode()).hexdigest()[:16]
        user = User.objects.create_user(username=f"lti-{digest}", password=None, language=language)
        user_set_role(user=user, role=Role.STUDENT)
        lti_user.auth_user = user
        lti_user.save(update_fields=["auth_user"])
    first = names.get("given_name") or lti_user.given_name
    last = names.get("family_name") or lti_user.family_name
    if not (first or last):
        first = names.get("name") or lti_user.name
    email = names.get("email") or lti_user.email
    changed = {
        field: value[:150]
        for field, value in (("first_name", first), ("last_name", last), ("email", email))
        if value and getattr(user, field) != value[:150]
    }
    if changed:
        for field, value in changed.items():
            setattr(user, field, value)
        user.save(update_fields=list(changed))
    return user


def _cohort_for(context: LtiContext) -> Cohort:
    link = ContextCohort.objects.select_related("cohort").filter(context=context).first()
    if link is not None:
        if context.title and link.cohort.name != context.title[:120]:
            link.cohort.name = context.title[:120]
            link.cohort.save(update_fields=["name"])
        return link.cohort
    name = (context.title or context.label or context.id_on_platform or "LMS")[:120]
    # An LMS course's roster comes from its launches: the join code stays closed.
    cohort = Cohort.objects.create(name=name, is_open=False)
    ContextCohort.objects.create(context=context, cohort=cohort)
    return cohort


def _enrol(*, user: User, cohort: Cohort, teaches: bool) -> None:
    if teaches:
        cohort.instructors.add(user)
        if user.role == Role.STUDENT:
            user_set_role(user=user, role=Role.INSTRUCTOR)  # never more than instructor from an LMS
        return
    _membership, created = CohortMembership.objects.get_or_create(cohort=cohort, student=user)
    if created:  # the live matrix gains the row, as for a join code
        transaction.on_commit(
            lambda: student_joined.send_robust(
                sender=CohortMembership, cohort_id=cohort.pk, student_id=user.pk, username=user.username
            )
        )


def _target(lti_launch: LtiLaunch) -> tuple[Exercise | None, Realm | None, bool]:
    trial_slug = lti_launch.get_custom_claim(CUSTOM_TRIAL)
    realm_slug = lti_launch.get_custom_claim(CUSTOM_REALM)
    if trial_slug:
        exercise = Exercise.objects.filter(slug=str(trial_slug), is_published=True, retired=False).first()
        return exercise, None, exercise is None
    if realm_slug:
        realm = Realm.objects.filter(slug=str(realm_slug), retired=False).first()
        return None, realm, realm is None
    return None, None, False


def _place(lti_launch: LtiLaunch, exercise: Exercise | None, realm: Realm | None) -> None:
    ags = lti_launch.ags_claim or {}
    scopes = set(ags.get("scope") or [])
    Placement.objects.update_or_create(
        resource_link=lti_launch.resource_link,
        defaults={
            "exercise": exercise,
            "realm": realm,
            "lineitem_url": str(ags.get("lineitem") or "")[:1000],
            "lineitems_url": str(ags.get("lineitems") or "")[:1000],
            "can_publish_scores": platform_client.SCOPE_SCORE in scopes,
            "can_manage_lineitems": platform_client.SCOPE_LINEITEM in scopes,
        },
    )


def launch_accept(*, lti_launch: LtiLaunch) -> AcceptedLaunch:
    """Take in a validated launch: django-lti's rows, the user (made or linked by issuer + sub), the
    course's cohort with the user's role in it, the placement of a resource link, and the landing page."""
    registration = lti_launch.get_message_launch().get_tool_conf().registration
    names = _names_from_nrps(lti_launch, registration)  # an HTTP call: before the transaction
    with transaction.atomic():
        sync_data_from_launch(lti_launch)
        user = _user_for(lti_launch.user, names, _language(lti_launch))
        cohort = None
        if lti_launch.context_claim and lti_launch.context_claim.get("id"):
            cohort = _cohort_for(lti_launch.context)
            _enrol(user=user, cohort=cohort, teaches=launch_teaches(lti_launch))
        exercise, realm, unknown = None, None, False
        if lti_launch.is_resource_launch:
            exercise, realm, unknown = _target(lti_launch)
            _place(lti_launch, exercise, realm)
    # A realm's placement (and a launch that names nothing) opens the realm map, where the realm's trials are.
    destination = (
        reverse("web:trial", args=[exercise.slug]) if exercise is not None else reverse("web:realm-map")
    )
    logger.info(
        "LTI launch accepted: user %s (%s) from %s, cohort %s, to %s",
        user.pk, lti_launch.get_claim("sub"), registration.issuer, cohort.pk if cohort else None, destination,
    )  # fmt: skip
    return AcceptedLaunch(user=user, cohort=cohort, destination=destination, unknown_target=unknown)


# --- Scores -----------------------------------------------------------------------------------------


def _publication_key(placement: Placement, user_id: int, submission_id: int | None, score: float) -> str:
    return f"{placement.pk}:{user_id}:{submission_id or 0}:{score:.4f}"


@transaction.atomic
def scores_queue(
    *, user_id: int, exercise_id: int, score: float, submission_id: int | None, reason: str
) -> list[ScorePublication]:
    """Queue `score` (0..100) of a student on a trial for every LMS column that places that trial in a
    course the student launched from. The same (column, student, submission, score) is queued once;
    the caller starts the sends (`huashen.lti.tasks`) once the transaction commits."""
    lti_users = {
        lti_user.registration_id: lti_user
        for lti_user in LtiUser.objects.filter(auth_user_id=user_id).select_related("registration")
    }
    if not lti_users:
        return []
    placements = (
        Placement.objects.filter(
            exercise_id=exercise_id,
            resource_link__context__memberships__user__auth_user_id=user_id,
            resource_link__context__deployment__registration__is_active=True,
        )
        .select_related("resource_link__context__deployment__registration")
        .distinct()
    )
    queued = []
    for placement in placements:
        registration = placement.resource_link.context.deployment.registration
        lti_user = lti_users.get(registration.pk)
        if lti_user is None or not (placement.lineitem_url or placement.can_manage_lineitems):
            continue
        key = _publication_key(placement, user_id, submission_id, score)
        try:
            with transaction.atomic():
                publication, created = ScorePublication.objects.get_or_create(
                    key=key,
                    defaults={
                        "placement": placement,
                        "registration": registration,
                        "user_id": user_id,
                        "lti_user_id": lti_user.sub,
                        "submission_id": submission_id,
                        "reason": reason,
                        "score_given": round(max(0.0, min(100.0, score)), 4),
                    },
                )
        except IntegrityError:  # a concurrent announcement of the same score got there first
            continue
        if created:
            queued.append(publication)
    return queued


@dataclass(frozen=True)
class SendOutcome:
    done: bool  # sent, or failed for good: no retry
    status: int | None


def score_send(*, publication_id: int, final_attempt: bool = False) -> SendOutcome:
    """One try at sending a queued score, logged as a ScoreAttempt. A score already sent is not sent
    again (a redelivered task); a retryable failure leaves it pending unless this is the last try."""
    with transaction.atomic():
        publication = (
            ScorePublication.objects.select_for_update()
            .select_related("placement__resource_link", "registration")
            .filter(pk=publication_id)
            .first()
        )
        if publication is None or publication.state != ScorePublication.State.PENDING:
            return SendOutcome(done=True, status=None)
        publication.attempts += 1
        placement = publication.placement
        try:
            if not placement.lineitem_url:
                exercise = placement.exercise
                placement.lineitem_url = platform_client.lineitem_create(
                    publication.registration,
                    placement.lineitems_url,
                    label=(
                        exercise.current_version.title if exercise and exercise.current_version else "Huashen"
                    ),
                    resource_id=exercise.slug if exercise else "",
                    resource_link_id=placement.resource_link.id_on_platform,
                )
                placement.save(update_fields=["lineitem_url", "updated_at"])
            status = platform_client.score_post(
                publication.registration,
                placement.lineitem_url,
                platform_client.Score(
                    user_id=publication.lti_user_id,
                    score_given=publication.score_given,
                    score_maximum=publication.score_maximum,
                    timestamp=publication.created_at.isoformat(),
                ),
            )
        except platform_client.PlatformCallFailed as error:
            retry = error.retryable and not final_attempt
            outcome = "retry" if retry else "failed"
            publication.tries.create(outcome=outcome, http_status=error.status, detail=str(error)[:2000])
            if not retry:
                publication.state = ScorePublication.State.FAILED
            publication.save(update_fields=["attempts", "state"])
            logger.warning("LTI score %s: %s (%s)", publication.pk, outcome, error)
            return SendOutcome(done=not retry, status=error.status)
        publication.tries.create(outcome="sent", http_status=status)
        publication.state = ScorePublication.State.SENT
        publication.sent_at = timezone.now()
        publication.save(update_fields=["attempts", "state", "sent_at"])
        logger.info("LTI score %s sent: HTTP %s", publication.pk, status)
        return SendOutcome(done=True, status=status)


def scores_pending_older_than(*, seconds: int) -> list[int]:
    """Queued scores whose send never started (a broker outage at commit): for the periodic sweep."""
    cutoff = timezone.now() - dt.timedelta(seconds=seconds)
    return list(
        ScorePublication.objects.filter(
            state=ScorePublication.State.PENDING, attempts=0, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


# --- Registrations and keys ---------------------------------------------------------------------------


def keys_ensure() -> Key:
    """The newest active signing key, made if the tool has none yet."""
    key = Key.objects.active().order_by("-datetime_created", "-pk").first()
    return key if key is not None else Key.objects.generate()


def keys_grace() -> dt.timedelta:
    return dt.timedelta(days=settings.LTI_KEY_GRACE_DAYS)


@dataclass(frozen=True)
class Rotation:
    new_key: Key
    retired: int


@transaction.atomic
def keys_rotate(*, grace: dt.timedelta, now: dt.datetime | None = None, add: bool = True) -> Rotation | None:
    """Publish a new signing key (signing starts with it at once) and retire every older key whose
    successor has been published for at least `grace`, so a platform that cached our JWKS keeps
    verifying what was signed before. `add=False` only retires."""
    now = now or timezone.now()
    new_key = Key.objects.generate() if add else keys_ensure()
    active = list(Key.objects.active().order_by("datetime_created", "pk"))
    retired = 0
    for older, successor in itertools.pairwise(active):
        if successor.datetime_created <= now - grace:
            older.is_active = False
            older.save(update_fields=["is_active", "datetime_modified"])
            retired += 1
    logger.info("LTI keys rotated: new %s, %d retired", new_key, retired)
    return Rotation(new_key=new_key, retired=retired)


@transaction.atomic
def registration_create(
    *,
    name: str,
    issuer: str,
    client_id: str,
    auth_url: str,
    token_url: str,
    keyset_url: str,
    deployment_ids: list[str],
    audience: str = "",
) -> LtiRegistration:
    """Register an LMS (a platform) and the deployment ids it will launch with."""
    fields: dict[str, Any] = {
        "name": name.strip(), "issuer": issuer.strip(), "client_id": client_id.strip(),
        "auth_url": auth_url.strip(), "token_url": token_url.strip(), "keyset_url": keyset_url.strip(),
    }  # fmt: skip
    missing = [field for field, value in fields.items() if not value]
    if missing:
        raise DomainError("invalid", _("请填写所有必填项。"), missing[0])
    if LtiRegistration.objects.filter(issuer=fields["issuer"], client_id=fields["client_id"]).exists():
        raise DomainError("conflict", _("这个平台和客户端 ID 已经登记过了。"), "client_id", status=409)
    registration = LtiRegistration(audience=audience.strip(), **fields)
    registration.full_clean()
    registration.save()
    deployment_set(registration=registration, deployment_ids=deployment_ids)
    keys_ensure()
    return registration


@transaction.atomic
def deployment_set(*, registration: LtiRegistration, deployment_ids: list[str]) -> None:
    """Exactly these deployment ids are active for the registration (others are kept, inactive)."""
    wanted = {value.strip() for value in deployment_ids if value.strip()}
    for deployment_id in wanted:
        LtiDeployment.objects.update_or_create(
            registration=registration, deployment_id=deployment_id, defaults={"is_active": True}
        )
    registration.deployments.exclude(deployment_id__in=wanted).update(is_active=False)


def tool_urls(request: Any) -> dict[str, str]:
    """The URLs an LMS admin copies into the LMS."""
    return {
        "login": request.build_absolute_uri(reverse("lti:login")),
        "launch": request.build_absolute_uri(reverse("lti:launch")),
        "jwks": request.build_absolute_uri(reverse("lti:jwks")),
        "deep_link": request.build_absolute_uri(reverse("lti:launch")),
    }
