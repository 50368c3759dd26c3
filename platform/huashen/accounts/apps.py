from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "huashen.accounts"
    label = "accounts"
