from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "huashen.web"
    label = "web"
