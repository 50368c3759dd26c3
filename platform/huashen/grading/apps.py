from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "huashen.grading"
    label = "grading"
