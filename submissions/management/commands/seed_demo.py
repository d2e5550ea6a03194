from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from submissions.models import Assignment

DEMO_ACCOUNTS = [
    # username, password, is_staff
    ("staff", "staff-demo-pass", True),
    ("learner", "learner-demo-pass", False),
]

DEMO_ASSIGNMENT = {
    "title": "Word frequency counter",
    "instructions": (
        "Write a Python function that returns the ten most frequent words of a text, "
        "with a README that explains how to use it and shows an example."
    ),
    "accepted_file_types": ["text/x-python", "text/plain", "text/csv", "application/json"],
}


class Command(BaseCommand):
    help = "Create the demo staff and learner accounts and a demo assignment (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        for username, password, is_staff in DEMO_ACCOUNTS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = user.is_superuser = is_staff
            user.set_password(password)
            user.save()
            role = "staff (admin)" if is_staff else "learner"
            self.stdout.write(f"demo {role}: {username} / {password}")
        Assignment.objects.get_or_create(title=DEMO_ASSIGNMENT["title"], defaults=DEMO_ASSIGNMENT)
