from django.db.models import QuerySet

from submissions.models import Submission


def visible_submissions(user) -> QuerySet[Submission]:
    """What a user may read through the API: their own submissions; staff, all.

    Every API view starts from this queryset, so a list can never include,
    and a detail can never find, another learner's submission."""
    submissions = Submission.objects.select_related("owner")
    if user.is_staff:
        return submissions
    return submissions.filter(owner=user)
