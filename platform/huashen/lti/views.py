"""LTI 1.3 endpoints: OIDC login initiation, the launch, the deep-linking answer, the tool's JWKS, the
hop from an LMS frame to a window of our own, and the staff page that registers platforms.

The launch arrives as a cross-site POST, often inside the LMS's iframe. The rest of the site keeps its
settings (session cookie SameSite=Lax, CSRF on, X-Frame-Options DENY): only the login initiation and
the launch are CSRF-exempt (the id_token's signature, nonce and state cookie are their proof) and may
be framed. In a frame Huashen cannot keep a session (a Lax cookie is not set in a cross-site frame, and
our pages refuse to be framed), so a framed launch answers a page that opens Huashen in its own window
through a one-time, five-minute link; a launch in a window signs the user in and lands at once.
"""

import logging
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from lti_tool.models import Key, LtiLaunch, LtiRegistration
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from huashen.accounts.models import User
from huashen.curriculum.models import Realm
from huashen.errors import DomainError
from huashen.lti import services
from huashen.lti.launch import LaunchRefused, ToolConfig, launch_from_cache, launch_from_request
from huashen.lti.models import Placement, ScorePublication
from huashen.teaching.views import admin_required

logger = logging.getLogger(__name__)

CONTINUE_SALT = "huashen.lti.continue"
CONTINUE_MAX_AGE_SECONDS = 300


def _refusal_messages() -> dict[str, str]:
    return {
        "state": _("登录状态已失效，或者浏览器拦截了 Cookie。请回到课程平台重新打开这个活动。"),
        "format": _("课程平台发来的启动消息无法解析。"),
        "platform": _("发出启动消息的课程平台（或它的客户端 ID）没有在化神登记：消息的接收方不是本站。"),
        "expired": _("启动消息已过期。请回到课程平台重新打开这个活动。"),
        "signature": _("启动消息的签名无效：它不是由登记的课程平台签发的。"),
        "deployment": _("这个课程平台的部署没有在化神登记，或者已被停用。"),
        "message": _("启动消息缺少必需的内容，或者消息类型不受支持。"),
        "replayed": _("这条启动消息已经用过了，不能再次使用。请回到课程平台重新打开这个活动。"),
        "teaching": _("只有课程的教师可以选择放入课程的试炼。"),
        "link": _("这个链接无效或已过期。请回到课程平台重新打开这个活动。"),
    }


def _refuse(request: HttpRequest, reason: str, detail: str, *, status: int = 403) -> HttpResponse:
    logger.warning(
        "LTI launch refused (%s): %s; iss=%s",
        reason,
        detail,
        request.POST.get("iss") or request.GET.get("iss") or "-",
    )
    response = render(
        request,
        "errors/page.html",
        {
            "status": status,
            "title": _("无法从课程平台进入化神"),
            "message": _refusal_messages().get(reason, _refusal_messages()["message"]),
            "detail": reason,
        },
        status=status,
    )
    response["X-Huashen-Lti-Refusal"] = reason
    return response


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def oidc_login(request: HttpRequest, registration_uuid: uuid.UUID | None = None) -> HttpResponse:
    """Third-party initiated login: the LMS names itself; we answer with a redirect to its auth URL,
    carrying a fresh state (also set as a cookie on this browser) and nonce."""
    params = request.POST if request.method == "POST" else request.GET
    if not params.get("target_link_uri"):
        return _refuse(request, "message", "missing target_link_uri", status=400)
    oidc = DjangoOIDCLogin(
        request, ToolConfig(registration_uuid), launch_data_storage=DjangoCacheDataStorage()
    )
    try:
        return oidc.enable_check_cookies(
            main_msg=_("你的浏览器不允许嵌入的页面使用 Cookie。请在新的窗口中打开化神。"),
            click_msg=_("在新窗口中打开"),
            loading_msg=_("正在打开……"),
        ).redirect(request.build_absolute_uri(reverse("lti:launch")))
    except (OIDCException, LtiException) as error:
        return _refuse(request, "platform", str(error))


def _continue_link(user: User, destination: str) -> str:
    ticket = signing.dumps({"u": user.pk, "to": destination, "j": uuid.uuid4().hex}, salt=CONTINUE_SALT)
    return reverse("lti:continue", args=[ticket])


def _sign_in(request: HttpRequest, user: User) -> None:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")


def _framed(lti_launch: LtiLaunch) -> bool:
    return lti_launch.document_target not in ("window", "popup")


@csrf_exempt
@xframe_options_exempt
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    try:
        message_launch = launch_from_request(request)
    except LaunchRefused as refusal:
        return _refuse(request, refusal.reason, refusal.detail)
    lti_launch = LtiLaunch(message_launch)
    if lti_launch.is_deep_link_launch:
        return _deep_link_choose(request, lti_launch)
    if not lti_launch.is_resource_launch:
        return _refuse(request, "message", "only resource link and deep linking launches are supported")
    accepted = services.launch_accept(lti_launch=lti_launch)
    if accepted.unknown_target:
        messages.warning(request, _("课程平台里的这个活动指向的试炼不存在或未发布；先为你打开境界地图。"))
    if _framed(lti_launch):
        return render(
            request,
            "lti/continue.html",
            {"link": _continue_link(accepted.user, accepted.destination), "cohort": accepted.cohort},
        )
    _sign_in(request, accepted.user)
    return HttpResponseRedirect(accepted.destination)


@require_GET
def continue_in_window(request: HttpRequest, ticket: str) -> HttpResponse:
    """The one-time link a framed launch hands over: signs the user in, in a window of our own."""
    try:
        data = signing.loads(ticket, salt=CONTINUE_SALT, max_age=CONTINUE_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return _refuse(request, "link", "bad or expired continue ticket")
    if not cache.add(f"lti-continue:{data['j']}", 1, CONTINUE_MAX_AGE_SECONDS * 2):
        return _refuse(request, "link", "continue ticket used twice")
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None:
        return _refuse(request, "link", "continue ticket for an unknown user")
    _sign_in(request, user)
    destination = str(data["to"])
    return redirect(destination if destination.startswith("/") and not destination.startswith("//") else "/")


def _deep_link_choose(request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
    if not services.launch_teaches(lti_launch):
        return _refuse(request, "teaching", "deep linking by a non-instructor")
    services.launch_accept(lti_launch=lti_launch)
    realms = (
        Realm.objects.filter(retired=False).prefetch_related("exercises__current_version").order_by("order")
    )
    choices = [
        (realm, [e for e in realm.exercises.all() if e.is_published and not e.retired and e.current_version])
        for realm in realms
    ]
    return render(
        request, "lti/deep_link.html", {"launch_id": lti_launch.get_launch_id(), "choices": choices}
    )


@csrf_exempt  # inside the LMS's frame, without our session: the launch id (secret, used once) is the proof
@xframe_options_exempt
@require_POST
def deep_link_answer(request: HttpRequest) -> HttpResponse:
    """Sign the deep-linking response for the chosen trial or realm and post it back to the LMS."""
    launch_id = request.POST.get("launch_id", "")
    if not launch_id.startswith("lti1p3-launch-"):
        return _refuse(request, "link", "not a deep linking launch id")
    try:
        message_launch = launch_from_cache(request, launch_id)
    except LtiException as error:
        return _refuse(request, "link", str(error))
    lti_launch = LtiLaunch(message_launch)
    if not lti_launch.is_deep_link_launch or not services.launch_teaches(lti_launch):
        return _refuse(request, "teaching", "not a deep linking launch of an instructor")
    choice = request.POST.get("choice", "")
    kind, _sep, slug = choice.partition(":")
    resource = DeepLinkResource().set_url(request.build_absolute_uri(reverse("lti:launch")))
    if kind == "trial":
        from huashen.curriculum.models import Exercise

        exercise = Exercise.objects.filter(slug=slug, is_published=True, retired=False).first()
        if exercise is None or exercise.current_version is None:
            return _refuse(request, "message", f"unknown trial {slug!r}", status=400)
        title = exercise.current_version.title
        resource.set_title(title).set_custom_params({services.CUSTOM_TRIAL: exercise.slug})
        resource.set_lineitem(
            LineItem()
            .set_score_maximum(100)
            .set_label(title)
            .set_resource_id(exercise.slug)
            .set_tag("huashen")
        )
    elif kind == "realm":
        realm = Realm.objects.filter(slug=slug, retired=False).first()
        if realm is None:
            return _refuse(request, "message", f"unknown realm {slug!r}", status=400)
        resource.set_title(realm.name).set_custom_params({services.CUSTOM_REALM: realm.slug})
    else:
        return _refuse(request, "message", "no choice", status=400)
    if not cache.add(f"lti-deep-link-used:{launch_id}", 1, 3600):  # one answer per launch
        return _refuse(request, "link", "deep linking launch already answered")
    deep_link = message_launch.get_deep_link()
    message = deep_link.get_message_jwt([resource])
    settings_claim = (
        lti_launch.get_claim("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings") or {}
    )
    if settings_claim.get("data") is None:
        message.pop("https://purl.imsglobal.org/spec/lti-dl/claim/data", None)
    logger.info("LTI deep link: %s placed in %s", choice, lti_launch.get_claim("iss"))
    return render(
        request,
        "lti/deep_link_return.html",
        {"return_url": settings_claim.get("deep_link_return_url", ""), "jwt": deep_link.encode_jwt(message)},
    )


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The tool's public keys: platforms verify our client assertions and deep-linking answers here."""
    services.keys_ensure()
    response = JsonResponse(Key.objects.as_jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response


@admin_required
def staff_lti(request: HttpRequest) -> HttpResponse:
    """Register an LMS, see what it was given, and the scores sent back."""
    form: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "register":
                form = {k: request.POST.get(k, "") for k in
                        ("name", "issuer", "client_id", "auth_url", "token_url", "keyset_url", "audience", "deployment_ids")}  # fmt: skip
                services.registration_create(
                    **{k: v for k, v in form.items() if k != "deployment_ids"},
                    deployment_ids=form["deployment_ids"].replace(",", "\n").splitlines(),
                )
                messages.success(request, _("已登记课程平台 %(name)s。") % {"name": form["name"]})
                return redirect("lti:staff")
            if action == "deployments":
                registration = LtiRegistration.objects.get(pk=int(request.POST.get("registration", "0")))
                services.deployment_set(
                    registration=registration,
                    deployment_ids=request.POST.get("deployment_ids", "").replace(",", "\n").splitlines(),
                )
                messages.success(request, _("部署 ID 已更新。"))
                return redirect("lti:staff")
            if action == "rotate":
                rotation = services.keys_rotate(grace=services.keys_grace())
                messages.success(
                    request,
                    _("已生成新的签名密钥；%(n)d 个旧密钥已停用。")
                    % {"n": rotation.retired if rotation else 0},
                )
                return redirect("lti:staff")
        except DomainError as error:
            messages.error(request, error.message)
        except (ValueError, LtiRegistration.DoesNotExist) as error:
            messages.error(request, str(error))
    services.keys_ensure()
    registrations = LtiRegistration.objects.prefetch_related("deployments").order_by("name")
    return render(
        request,
        "lti/staff.html",
        {
            "urls": services.tool_urls(request),
            "registrations": [
                (
                    r,
                    "\n".join(d.deployment_id for d in r.deployments.all() if d.is_active),
                    request.build_absolute_uri(reverse("lti:login-registration", args=[r.uuid])),
                )
                for r in registrations
            ],
            "keys": Key.objects.order_by("-datetime_created")[:10],
            "placements": Placement.objects.select_related("resource_link__context", "exercise", "realm")[
                :50
            ],
            "scores": ScorePublication.objects.select_related("user", "placement__exercise").prefetch_related(
                "tries"
            )[:50],
            "form": form,
        },
    )
