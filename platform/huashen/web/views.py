"""Server-rendered pages. Thin: each calls selectors to read and services to write."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huashen.accounts.models import User
from huashen.accounts.services import cohort_join, user_create, user_set_language
from huashen.errors import DomainError
from huashen.web.forms import JoinCohortForm, SignUpForm


def landing_url(user: User) -> str:
    """Where a signed-in user starts: instructors and admins on their cohorts, students on the realm map."""
    return resolve_url("teaching:home" if user.is_instructor else "web:realm-map")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        return redirect(landing_url(request.user))
    return render(request, "web/home.html")


class SignInView(auth_views.LoginView):
    """Django's sign-in; without a `next`, each role lands on its own start page."""

    def get_default_redirect_url(self) -> str:
        user = self.request.user
        if isinstance(user, User):
            return landing_url(user)
        return super().get_default_redirect_url()


def sign_up(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data["email"],
            language=translation.get_language() or "zh-hans",
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        code = form.cleaned_data.get("join_code")
        if code:
            try:
                cohort = cohort_join(student=user, join_code=code)
                messages.success(request, _("已加入班级：%(name)s") % {"name": cohort.name})
            except DomainError as error:
                messages.warning(request, error.message)
        return redirect("web:realm-map")
    return render(request, "registration/sign_up.html", {"form": form})


@login_required
@require_POST
def join_cohort(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = JoinCohortForm(request.POST)
    if form.is_valid():
        try:
            cohort = cohort_join(student=request.user, join_code=form.cleaned_data["join_code"])
            messages.success(request, _("已加入班级：%(name)s") % {"name": cohort.name})
        except DomainError as error:
            messages.error(request, error.message)
    return redirect("web:realm-map")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language: saved on the account when signed in, in a cookie always."""
    language = request.POST.get("language", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("web:home")
    response = HttpResponseRedirect(target)
    if language not in {"zh-hans", "en"}:
        messages.error(request, _("不支持的语言。"))
        return response
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        user_set_language(user=request.user, language=language)
    from django.conf import settings

    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax")
    return response
