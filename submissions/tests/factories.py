import factory
from django.contrib.auth import get_user_model

from submissions.models import Assignment, Submission, SubmissionFile
from submissions.storage import new_object_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"learner{n}")
    password = factory.django.Password("pw-for-tests-123")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    title = factory.Sequence(lambda n: f"Assignment {n}")
    instructions = "Write a function and document it."


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    owner = factory.SubFactory(UserFactory)
    assignment = factory.SubFactory(AssignmentFactory)
    source_code = "def add(a, b):\n    return a + b\n"
    documentation = "Adds two numbers. Usage: add(1, 2) returns 3."


class SubmissionFileFactory(factory.django.DjangoModelFactory):
    """A file row as verification leaves it (no object in S3 behind it)."""

    class Meta:
        model = SubmissionFile

    submission = factory.SubFactory(SubmissionFactory)
    original_name = factory.Sequence(lambda n: f"data{n}.csv")
    storage_key = factory.LazyAttribute(lambda f: new_object_key(f.submission.pk))
    status = SubmissionFile.Status.READY
    content_type = "text/plain"
    size = 12
    sha256 = "0" * 64
