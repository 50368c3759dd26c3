from django.apps import AppConfig


class CurriculumConfig(AppConfig):
    name = "huashen.curriculum"
    label = "curriculum"
