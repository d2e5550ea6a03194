"""Two staff groups for the jobs console.

"Job viewers" may look at jobs, their attempts, events and results and the
dashboard; "Job operators" may also retry, cancel and rescore jobs and redrive
or purge dead letters (jobs.operate_scoringjob). Staff users get the group
that fits them in the admin; superusers need neither.
"""

from django.db import migrations

VIEW = [
    ("jobs", "scoringjob"), ("jobs", "jobattempt"), ("jobs", "jobevent"),
    ("submissions", "submission"), ("submissions", "assignment"), ("scoring", "scoreresult"),
]
GROUPS = {
    "Job viewers": [("view", app, model) for app, model in VIEW],
    "Job operators": [("view", app, model) for app, model in VIEW] + [("operate", "jobs", "scoringjob")],
}


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations (post_migrate);
    # this migration needs them now, on a fresh database too.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_groups(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for action, app_label, model in wanted:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=f"{action}_{model}"
            ).first()
            if permission is not None:  # a model another app has not created yet is skipped
                group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("jobs", "0002_staff_console_indexes_and_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
