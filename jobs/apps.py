from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jobs import infrastructure
        from jobs.permissions import ensure_staff_groups

        # The broker re-creates a missing queue through jobs/infrastructure.py
        # (fully configured, and recorded), and /health/ready lists the repairs.
        infrastructure.install()

        # After Django's own post_migrate handlers have created the permissions.
        post_migrate.connect(ensure_staff_groups, sender=self, dispatch_uid="jobs.ensure_staff_groups")
