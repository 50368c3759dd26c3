from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "huashen.api"
    label = "api"
