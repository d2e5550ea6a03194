from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import PermissionDenied

from submissions.models import Submission
from submissions.selectors import can_read_all_submissions


def visible_submissions(user) -> QuerySet[Submission]:
    """What a user may read through the API: their own submissions; staff who
    may view submissions in the console, all.

    Every API view starts from this queryset, so a list can never include,
    and a detail can never find, another learner's submission.

    The owner's username comes as an annotation (``owner_username``): the
    output needs only that of the user row, and converting the whole row
    (a dozen columns) cost a tenth of a read's CPU."""
    submissions = Submission.objects.annotate(owner_username=F("owner__username"))
    if can_read_all_submissions(user):
        return submissions
    return submissions.filter(owner=user)


def visible_submission(user, pk) -> Submission:
    """One submission the user may read; 404 otherwise (never confirming it exists)."""
    return get_object_or_404(visible_submissions(user), pk=pk)


def own_submission(user, pk, *, to: str = "change it") -> Submission:
    """One submission for its owner to act on: someone else's is 404 (it is not
    visible), or 403 for staff, who can see it but not act as its owner."""
    submission = visible_submission(user, pk)
    if submission.owner_id != user.pk:
        raise PermissionDenied(f"Only the submission's owner can {to}.")
    return submission
