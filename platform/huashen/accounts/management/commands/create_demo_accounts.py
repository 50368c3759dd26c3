import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from huashen.accounts.models import Cohort, Role, User
from huashen.accounts.services import cohort_create, cohort_join, user_create

DEMO = [
    ("demo-student", Role.STUDENT),
    ("demo-instructor", Role.INSTRUCTOR),
    ("demo-admin", Role.ADMIN),
]


class Command(BaseCommand):
    help = "Create a demo student, instructor and admin (and a demo cohort) once; print their passwords once."

    def handle(self, *args: Any, **options: Any) -> None:
        record = Path(settings.VAR_DIR) / "demo-accounts.txt"
        if User.objects.filter(username__in=[name for name, _role in DEMO]).exists():
            self.stdout.write(
                f"demo accounts exist; their passwords were printed when created (and kept in {record})"
            )
            return
        lines = []
        with transaction.atomic():
            users = {}
            for username, role in DEMO:
                password = secrets.token_urlsafe(9)
                users[role] = user_create(username=username, password=password, role=role)
                lines.append(f"  {role.value:<11} {username:<16} {password}")
            cohort = cohort_create(name="Demo cohort / 演示班级", instructor=users[Role.INSTRUCTOR])
            cohort_join(student=users[Role.STUDENT], join_code=cohort.join_code)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text("\n".join(lines) + "\n", encoding="utf-8")
        record.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS("Demo accounts (shown once; also kept in var/demo-accounts.txt):")
        )
        self.stdout.write("\n".join(lines))
        self.stdout.write(f"  demo cohort join code: {Cohort.objects.get(pk=cohort.pk).join_code}")
