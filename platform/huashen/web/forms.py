from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from huashen.accounts.models import User


class SignUpForm(UserCreationForm):
    email = forms.EmailField(label=_("邮箱（可选）"), required=False)
    join_code = forms.CharField(label=_("班级加入码（可选）"), required=False, max_length=16)

    class Meta:
        model = User
        fields = ("username", "email")


class JoinCohortForm(forms.Form):
    join_code = forms.CharField(label=_("班级加入码"), max_length=16)
