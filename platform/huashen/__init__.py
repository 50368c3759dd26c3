"""化神 Huashen: the Django project (web side). Never imports torch."""

from huashen.celery import app as celery_app

__all__ = ["celery_app"]
