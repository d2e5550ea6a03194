import factory
from django.contrib.auth import get_user_model

from submissions.models import Assignment, Submission


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
