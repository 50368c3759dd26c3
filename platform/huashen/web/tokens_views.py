"""The API tokens page (`/profile/tokens/`): make a named token, see the secret once, revoke tokens.

After a token is made the page redirects (post/redirect/get) and shows the secret from the session
exactly once: a reload, the back button or a second tab never shows it again.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huashen.accounts.models import User
from huashen.accounts.tokens import api_token_create, api_token_revoke, api_tokens_for_user
from huashen.errors import DomainError

_NEW_SECRET = "huashen.new_token_secret"  # noqa: S105 - a session key name, not a secret


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("令牌名称"),
        max_length=64,
        help_text=gettext_lazy("写明用途，例如“我的笔记本”或“命令行”。"),
    )


class RevokeForm(forms.Form):
    revoke = forms.IntegerField(min_value=1)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = TokenForm()
    if request.method == "POST":
        if "revoke" in request.POST:
            return _revoke(request, request.user)
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                new = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except DomainError as error:
                form.add_error("name", error.message)
            else:
                request.session[_NEW_SECRET] = {"id": new.token.pk, "secret": new.secret}
                return redirect("web:tokens")
    new_secret = request.session.pop(_NEW_SECRET, None)
    return render(
        request,
        "web/tokens.html",
        {
            "form": form,
            "tokens": api_tokens_for_user(user=request.user),
            "new_secret": new_secret,
            "api_base": request.build_absolute_uri("/"),
        },
    )


def _revoke(request: HttpRequest, user: User) -> HttpResponse:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("没有找到这个令牌。"))
        return redirect("web:tokens")
    try:
        api_token_revoke(user=user, token_id=form.cleaned_data["revoke"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("令牌已撤销：用它的程序将无法再访问。"))
    return redirect("web:tokens")
