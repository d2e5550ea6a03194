"""The staff groups of the jobs console, kept in place after every migrate.

"Job viewers" may look at jobs, their attempts, events and results and the
dashboard; "Job operators" may also retry, cancel and rescore jobs and redrive
or purge dead letters (jobs.operate_scoringjob). Staff users get the group
that fits them in the admin; superusers need neither.

Created on post_migrate, like Django's own permissions, rather than in a data
migration: a database flushed by the test runner (or restored without them)
gets them back at the next migrate.
"""

from django.contrib.auth.models import Group, Permission

VIEW = [
    ("jobs", "scoringjob"), ("jobs", "jobattempt"), ("jobs", "jobevent"),
    ("submissions", "submission"), ("submissions", "assignment"), ("scoring", "scoreresult"),
]
GROUPS = {
    "Job viewers": [("view", app, model) for app, model in VIEW],
    "Job operators": [("view", app, model) for app, model in VIEW] + [("operate", "jobs", "scoringjob")],
}


def ensure_staff_groups(**kwargs) -> None:
    """Create the groups and give them their permissions; idempotent."""
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.filter(content_type__app_label=app_label, codename=f"{action}_{model}").first()
            for action, app_label, model in wanted
        ]
        group.permissions.add(*[p for p in permissions if p is not None])


def can_read_all_jobs(user) -> bool:
    """Staff who may view jobs in the console may read every job (the API too)."""
    return bool(user.is_staff and user.has_perm("jobs.view_scoringjob"))


def can_operate_jobs(user) -> bool:
    """Staff who may retry, cancel and rescore jobs: the console's actions and the API's."""
    return bool(user.is_staff and user.has_perm("jobs.operate_scoringjob"))
